// Column-wise selection over a block of rows: median, trimmed mean and mean around the median per
// column. Two engines give the same bits: branch-free selection on a contiguous copy of one column
// (any m; the workspace uses it above 512 rows: selectColumns) and, for m ≤ 512, sorting networks
// over four columns per f32x4 (networkColumns).
// Both follow the conventions pinned in src/kernels/column-select.ts (the plain kernel, the oracle):
//
// - median: the middle value for odd m; (lower + upper) / 2 in float64 for even m;
// - a mean sums its kept values with `binned sum` semantics: each value goes to one of 32 float64
//   bins by its float32 exponent bits (bits 26..30), where sums of up to 2^21 values are exact; the
//   bins are then added in float64 from bin 0 up. The result depends on the multiset only, never
//   on the order (when every partial sum fits 53 bits, this is just the exact sum, which is what the
//   SIMD fast path computes);
// - mean around the median: the kept values are the window x[a .. a+keep) of the sorted column with
//   a the smallest start in [max(0, k − keep), min(k, m − keep)] (k = ⌊m/2⌋) such that
//   med − x[a] ≤ x[a+keep] − med in float64: the keep values nearest the median, an equidistant
//   pair resolved towards the smaller value;
// - every result is rounded once to float32, and a zero result is +0.

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: i32): T {
  return load<T>(p + (<usize>i << alignof<T>()));
}

// @ts-ignore: decorator
@inline function set<T>(p: usize, i: i32, v: T): void {
  store<T>(p + (<usize>i << alignof<T>()), v);
}

// @ts-ignore: decorator
@inline function swap<T>(p: usize, i: i32, j: i32): void {
  const t = at<T>(p, i);
  set<T>(p, i, at<T>(p, j));
  set<T>(p, j, t);
}

// ---------------------------------------------------------------------------------------------
// Binned sums: 32 float64 bins (256 bytes of scratch) indexed by a float32's exponent bits >> 3.
// A bin holds values of 8 consecutive exponents, multiples of one power of two spanning at most
// 32 bits, so float64 sums 2^21 of them exactly; adding the bins from the smallest up is one fixed
// order, so the total depends on the values only.

/** Bytes of scratch a binned sum needs. */
export const BIN_BYTES: i32 = 256;

// @ts-ignore: decorator
@inline function binOf(v: f32): usize {
  return <usize>((reinterpret<u32>(v) >>> 26) & 31) << 3;
}

// @ts-ignore: decorator
@inline function clearBins(bins: usize): void {
  for (let b: usize = 0; b < 256; b += 16) v128.store(bins + b, i64x2.splat(0));
}

// @ts-ignore: decorator
@inline function addToBin(bins: usize, v: f32): void {
  const p = bins + binOf(v);
  store<f64>(p, load<f64>(p) + <f64>v);
}

/** Adds `copies` copies of v (copies · v is exact in float64: 24 bits times at most 2^21). */
// @ts-ignore: decorator
@inline function addCopiesToBin(bins: usize, v: f32, copies: i32): void {
  const p = bins + binOf(v);
  store<f64>(p, load<f64>(p) + <f64>v * <f64>copies);
}

/** Adds v when `take` is 1, +0 when it is 0 (a mask, not a branch; ±∞ included). */
// @ts-ignore: decorator
@inline function addIfToBin(bins: usize, v: f32, take: i32): void {
  const p = bins + binOf(v);
  store<f64>(p, load<f64>(p) + reinterpret<f64>(reinterpret<u64>(<f64>v) & (<u64>0 - <u64>take)));
}

function binTotal(bins: usize): f64 {
  let s: f64 = 0;
  for (let b: usize = 0; b < 256; b += 8) s += load<f64>(bins + b);
  return s;
}

/** A float32 result with −0 written as +0. */
// @ts-ignore: decorator
@inline function positiveZero(v: f32): f32 {
  return v == 0 ? <f32>0 : v;
}

// ---------------------------------------------------------------------------------------------
// Column path (any m; the workspace runs it above the networks' 512 rows): one column at a time,
// copied out of the row-major block into a contiguous buffer that stays intact. Selections run
// out of place on two scratch buffers without a data-dependent branch (selectRank), and a mean
// adds its kept values to the bins in one more branch-free pass (sumBetween), so a column costs
// a few streaming passes instead of quickselect's mispredicted branches (about 4x faster).

/** A selection finishes with a heapsort below this many values. */
const SMALL: i32 = 16;
/** Partition rounds after which a selection stops sampling pivots and heapsorts the rest. */
const MAX_ROUNDS: i32 = 48;

/** The value of rank k − 1 found by the last float32 {@link selectRank} (defined when k ≥ 1). */
let rankBelow: f64 = 0;

// @ts-ignore: decorator
@inline function median3<T>(x: T, y: T, z: T): T {
  return max<T>(min<T>(x, y), min<T>(max<T>(x, y), z));
}

/**
 * Writes the partition's two shuffle tables at `pack`: for each 4-bit lane mask, the i8x16.swizzle
 * indices that move the lanes set in the mask, in order, to the bottom of a vector (bytes 0..255)
 * and to its top (bytes 256..511); the other lanes get lane 0 (their contents are never read).
 */
function fillPackTables(pack: usize): void {
  for (let mask = 0; mask < 16; mask++) {
    const count = popcnt<i32>(mask);
    for (let j = 0; j < 4; j++) {
      store<u32>(pack + (<usize>mask << 4) + (<usize>j << 2), 0x03020100);
      store<u32>(pack + 256 + (<usize>mask << 4) + (<usize>j << 2), 0x03020100);
    }
    let f = 0;
    for (let l = 0; l < 4; l++) {
      if ((mask & (1 << l)) == 0) continue;
      const bytes = <u32>0x03020100 + <u32>l * 0x04040404;
      store<u32>(pack + (<usize>mask << 4) + (<usize>f << 2), bytes);
      store<u32>(pack + 256 + (<usize>mask << 4) + (<usize>(4 - count + f) << 2), bytes);
      f++;
    }
  }
}

/** The largest of a[0..n−1], n ≥ 1. */
function maxOf<T>(a: usize, n: i32): T {
  let v = at<T>(a, 0);
  for (let i = 1; i < n; i++) v = max<T>(v, at<T>(a, i));
  return v;
}

/** The pivot sampler's state: xorshift32 (Marsaglia, 2003), reseeded by every selection. */
let sampler: u32 = 0;

/** A pseudo-random index in [0, n). */
function sampleIndex(n: i32): i32 {
  let s = sampler;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  sampler = s;
  return <i32>((<u64>s * <u64>n) >>> 32);
}

/** The median of three values at pseudo-random indices of a[0..n−1]. */
function sampleMedian3<T>(a: usize, n: i32): T {
  return median3<T>(at<T>(a, sampleIndex(n)), at<T>(a, sampleIndex(n)), at<T>(a, sampleIndex(n)));
}

/** Sorts a[0..n−1] in place: heapsort (Williams, 1964), O(n log n) whatever the values. */
function heapSort<T>(a: usize, n: i32): void {
  for (let i = (n >>> 1) - 1; i >= 0; i--) siftDown<T>(a, i, n);
  for (let end = n - 1; end > 0; end--) {
    swap<T>(a, 0, end);
    siftDown<T>(a, 0, end);
  }
}

function siftDown<T>(a: usize, i: i32, n: i32): void {
  const v = at<T>(a, i);
  for (let c = 2 * i + 1; c < n; c = 2 * i + 1) {
    if (c + 1 < n && at<T>(a, c + 1) > at<T>(a, c)) c++;
    if (!(at<T>(a, c) > v)) break;
    set<T>(a, i, at<T>(a, c));
    i = c;
  }
  set<T>(a, i, v);
}

/** Ends of the last {@link partition}: w[0, partLt) < p, w[partLt, partGt] = p, w(partGt, n) > p. */
let partLt: i32 = 0;
let partGt: i32 = 0;

/**
 * One round of the out-of-place three-way partition of a[0..n−1] around p into w: each value is
 * stored at both ends of w and the ends advance by the results of x < p and x > p, without a
 * branch (four values at a time through the shuffle tables when `pack` ≠ 0, float32 only).
 */
function partition<T>(a: usize, n: i32, p: T, w: usize, pack: usize): void {
  let lt = 0;
  let gt = n - 1;
  let i = 0;
  if (sizeof<T>() == 4 && pack != 0) {
    // Four values at a time: the lanes < p packed to the bottom of a vector stored at lt, the
    // lanes > p packed to its top stored ending at gt. While at least 8 values are left to
    // place (gt − lt + 1 ≥ 8) the two stores cannot overlap each other's kept lanes.
    const pv = f32x4.splat(<f32>p);
    for (; i + 8 <= n; i += 4) {
      const x = v128.load(a + (<usize>i << 2));
      const lm = i32x4.bitmask(f32x4.lt(x, pv));
      const gm = i32x4.bitmask(f32x4.gt(x, pv));
      v128.store(w + (<usize>lt << 2), i8x16.swizzle(x, v128.load(pack + (<usize>lm << 4))));
      v128.store(w + (<usize>(gt - 3) << 2), i8x16.swizzle(x, v128.load(pack + 256 + (<usize>gm << 4))));
      lt += popcnt<i32>(lm);
      gt -= popcnt<i32>(gm);
    }
  }
  for (; i < n; i++) {
    const x = at<T>(a, i);
    set<T>(w, lt, x);
    set<T>(w, gt, x);
    lt += <i32>(x < p);
    gt -= <i32>(x > p);
  }
  partLt = lt;
  partGt = gt;
}

/**
 * The value of rank k (0-based, 0 ≤ k < n) of the n values at `src`, which are left untouched;
 * also sets {@link rankBelow} to the value of rank k − 1 when k ≥ 1. Scratch: t1 and t2, n values
 * each; `pack`: the shuffle tables of {@link fillPackTables}, or 0 (float32 only: 0 makes the
 * partition scalar). Values must not be NaN.
 *
 * Hoare's FIND (1961) with a three-way partition written out of place and without a branch:
 * each value is stored at both ends of the destination and the two ends advance by the results
 * of x < p and x > p, leaving [values < p | values = p | values > p] ({@link partition}); the
 * round keeps the part that holds rank k, or returns p. The pivot is the median of three values
 * at pseudo-random indices (xorshift32 from a fixed seed: the same for every call, so results and
 * costs are reproducible): one of the values, so every round drops at least one, and structured
 * columns (sorted, periodic, symmetric: an organ pipe's distances to its median took 48 rounds
 * with pivots at n/4, n/2, 3n/4) split as well as random ones. After MAX_ROUNDS rounds
 * (about 2·log₂ n are expected; more only on purpose) the rest is heapsorted, so no column costs
 * more than O(n log n). Rank k − 1: the largest value dropped on the left, i.e. the last pivot
 * that sent the search right, unless rank k − 1 is still in the final part.
 */
function selectRank<T>(src: usize, n: i32, k: i32, t1: usize, t2: usize, pack: usize): T {
  let a = src;
  let w = t1;
  let below: T = <T>0;
  let rounds = 0;
  sampler = 0x9e3779b9;
  while (n > SMALL && rounds < MAX_ROUNDS) {
    rounds++;
    const p = sampleMedian3<T>(a, n);
    partition<T>(a, n, p, w, pack);
    const lt = partLt;
    const gt = partGt;
    // w[0, lt) < p, w[lt, gt] = p (at least one: p itself), w(gt, n) > p.
    if (k < lt) {
      n = lt;
      a = w;
    } else if (k > gt) {
      below = p;
      k -= gt + 1;
      n -= gt + 1;
      a = w + (<usize>(gt + 1) << alignof<T>());
    } else {
      if (sizeof<T>() == 4) rankBelow = <f64>(k > lt ? p : lt > 0 ? maxOf<T>(w, lt) : below);
      return p;
    }
    w = w == t1 ? t2 : t1;
  }
  if (a == src) {
    memory.copy(w, a, <usize>n << alignof<T>());
    a = w;
  }
  heapSort<T>(a, n);
  if (k > 0) below = at<T>(a, k - 1);
  if (sizeof<T>() == 4) rankBelow = <f64>below;
  return at<T>(a, k);
}

/** Median of the m values at col (mean of the two middle values for even m), in float64. */
function median(col: usize, m: i32, t1: usize, t2: usize, pack: usize): f64 {
  const k = m >>> 1;
  const upper = <f64>selectRank<f32>(col, m, k, t1, t2, pack);
  if ((m & 1) == 1) return upper;
  return (rankBelow + upper) / 2;
}

/**
 * The binned sum ({@link binTotal}) of the values of col[0..m−1] strictly between lo and hi,
 * plus #(values ≤ lo) − loOffset copies of lo and hiOffset − #(values < hi) copies of hi (none
 * when that is ≤ 0; lo = −∞, hi = +∞ sum everything). One pass without a branch: every value
 * goes to its bin with a copy count of 0 or 1.
 */
function sumBetween(col: usize, m: i32, lo: f32, hi: f32, loOffset: i32, hiOffset: i32, bins: usize): f64 {
  clearBins(bins);
  let cLo = 0;
  let cHi = 0;
  for (let i = 0; i < m; i++) {
    const v = at<f32>(col, i);
    cLo += <i32>(v <= lo);
    cHi += <i32>(v < hi);
    addIfToBin(bins, v, <i32>(v > lo) & <i32>(v < hi));
  }
  if (cLo > loOffset) addCopiesToBin(bins, lo, cLo - loOffset); // never 0 · ±∞
  if (hiOffset > cHi) addCopiesToBin(bins, hi, hiOffset - cHi);
  return binTotal(bins);
}

/**
 * Mean of the values at sorted ranks [trim, m − trim): lo and hi, the values of ranks trim and
 * m − 1 − trim, are selected; the kept values are those strictly between, plus as many copies of
 * lo and of hi as their ranks put inside the window.
 */
function trimmedMean(col: usize, m: i32, trim: i32, t1: usize, t2: usize, pack: usize, bins: usize): f64 {
  const count = m - 2 * trim;
  if (trim == 0) return sumBetween(col, m, -Infinity, Infinity, 0, m, bins) / <f64>count;
  const lo = selectRank<f32>(col, m, trim, t1, t2, pack);
  const hi = selectRank<f32>(col, m, m - 1 - trim, t1, t2, pack);
  if (lo == hi) return <f64>lo; // count copies of lo: the binned sum is lo · count exactly
  // Ranks of lo: [#(< lo), #(≤ lo)), so #(≤ lo) − trim of them are kept; ranks of hi:
  // [#(< hi), #(≤ hi)), so m − trim − #(< hi) of them are kept.
  return sumBetween(col, m, lo, hi, trim, m - trim, bins) / <f64>count;
}

/**
 * Adds to the bins the `take` values at distance exactly r from med on one side (below or at it:
 * the largest ones; above it: the smallest ones), the values nearest the median in sorted order.
 * Only reached when such tied values differ (distances that rounded to the same float64).
 */
function addNearestTies(col: usize, m: i32, med: f64, r: f64, below: bool, take: i32, scratch: usize, bins: usize): void {
  let t = 0;
  for (let i = 0; i < m; i++) {
    const x = <f64>at<f32>(col, i);
    if (abs(x - med) == r && (x <= med) == below) set<f64>(scratch, t++, x);
  }
  heapSort<f64>(scratch, t);
  const from = below ? t - take : 0;
  for (let j = from; j < from + take; j++) addToBin(bins, <f32>at<f64>(scratch, j));
}

/**
 * Mean of the `keep` values nearest the median. Those are the values at distance < r (the keep-th
 * smallest distance), then values at distance r: first those ≤ med, nearest first, then those
 * above — the same window as the sorted-order definition (see the header). Scratch: t1 and t2,
 * 4m bytes each (the median); dist, d1 and d2, 8m bytes each (the distances and their selection).
 */
function meanAroundMedian(
  col: usize,
  m: i32,
  keep: i32,
  t1: usize,
  t2: usize,
  pack: usize,
  dist: usize,
  d1: usize,
  d2: usize,
  bins: usize,
): f64 {
  const med = median(col, m, t1, t2, pack);
  if (keep == m) return sumBetween(col, m, -Infinity, Infinity, 0, m, bins) / <f64>m;
  for (let i = 0; i < m; i++) set<f64>(dist, i, abs(<f64>at<f32>(col, i) - med));
  const r = selectRank<f64>(dist, m, keep - 1, d1, d2, 0);
  // Values at distance < r go to the bins without a branch (a copy count of 0 or 1); ties
  // (distance = r) are rare and take a branch.
  clearBins(bins);
  let count = 0;
  let lowTies = 0;
  let highTies = 0;
  let lowMin = f32.MAX_VALUE;
  let lowMax = -f32.MAX_VALUE;
  let highMin = f32.MAX_VALUE;
  let highMax = -f32.MAX_VALUE;
  for (let i = 0; i < m; i++) {
    const v = at<f32>(col, i);
    const d = at<f64>(dist, i);
    const inside = <i32>(d < r);
    count += inside;
    addIfToBin(bins, v, inside);
    if (d == r) {
      if (<f64>v <= med) {
        lowTies++;
        lowMin = min(lowMin, v);
        lowMax = max(lowMax, v);
      } else {
        highTies++;
        highMin = min(highMin, v);
        highMax = max(highMax, v);
      }
    }
  }
  const need = keep - count;
  const fromLow = min(need, lowTies);
  const fromHigh = need - fromLow;
  if (fromLow > 0) {
    if (lowMin == lowMax) addCopiesToBin(bins, lowMax, fromLow);
    else addNearestTies(col, m, med, r, true, fromLow, d1, bins);
  }
  if (fromHigh > 0) {
    if (highMin == highMax) addCopiesToBin(bins, highMin, fromHigh);
    else addNearestTies(col, m, med, r, false, fromHigh, d1, bins);
  }
  return binTotal(bins) / <f64>keep;
}

/** Operation codes of {@link selectColumns}. */
export const OP_MEDIAN: i32 = 0;
export const OP_TRIMMED_MEAN: i32 = 1;
export const OP_MEAN_AROUND_MEDIAN: i32 = 2;

/**
 * Reduces every column of an m × width block (rows `stride` float32 values apart at `rows`) and
 * writes one float32 per column at `out`. op: 0 median, 1 trimmed mean (param = values trimmed
 * per tail), 2 mean of the `param` values closest to the median. Scratch: 4m bytes for the
 * column at `col`; 8m bytes at `dist` followed by BIN_BYTES for the bins (8-aligned), then, from
 * the next multiple of 16, 24m bytes (the workspace reserves 32m there for the networks' lanes).
 */
export function selectColumns(
  rows: usize,
  m: i32,
  stride: i32,
  width: i32,
  op: i32,
  param: i32,
  out: usize,
  col: usize,
  dist: usize,
): void {
  const rowBytes = <usize>stride << 2;
  const bins = dist + (<usize>m << 3);
  // Selections of float32 values run in the 8m bytes at dist (t1, t2); the mean around the
  // median keeps float64 distances and their two selection buffers after the bins (far, d1, d2).
  const t1 = dist;
  const t2 = dist + (<usize>m << 2);
  const far = (bins + BIN_BYTES + 15) & ~15;
  const d1 = far + (<usize>m << 3);
  const d2 = d1 + (<usize>m << 3);
  // The partition's shuffle tables (512 bytes) after d2, in the 8m bytes left when m ≥ 64.
  const pack = m >= 64 ? d2 + (<usize>m << 3) : 0;
  if (pack != 0) fillPackTables(pack);
  for (let c = 0; c < width; c++) {
    let p = rows + (<usize>c << 2);
    for (let i = 0; i < m; i++) {
      set<f32>(col, i, load<f32>(p));
      p += rowBytes;
    }
    let v: f64;
    if (op == OP_MEDIAN) v = median(col, m, t1, t2, pack);
    else if (op == OP_TRIMMED_MEAN) v = trimmedMean(col, m, param, t1, t2, pack, bins);
    else v = meanAroundMedian(col, m, param, t1, t2, pack, far, d1, d2, bins);
    set<f32>(out, c, positiveZero(<f32>v));
  }
}

// ---------------------------------------------------------------------------------------------
// Sorting-network path for small m: eight columns at a time, one f32x4 lane per column. Row i's
// values of columns c..c+3 are one contiguous v128 in the row-major block, so loading the lanes is
// m plain vector loads (no transposition); a comparator is a pseudo-min and a pseudo-max (exact
// for the finite values the rules pass in). The network (pairs of byte offsets, min to the first)
// is Batcher's odd–even merge sort pruned to the ranks the operation reads; it is built by the
// caller, so every column costs the same whatever its values. Only the ranks the caller asked
// for are sorted: everything below reads those ranks and no others.

// @ts-ignore: decorator
@inline function lane(work: usize, r: i32, l: i32): f32 {
  return load<f32>(work + (<usize>r << 4) + (<usize>l << 2));
}

/** out[l] = the binned-sum mean of lane l's sorted ranks [start, start + count). */
function laneBinnedMean(work: usize, l: i32, start: i32, count: i32, bins: usize, out: usize): void {
  clearBins(bins);
  for (let r = start; r < start + count; r++) addToBin(bins, lane(work, r, l));
  store<f32>(out + (<usize>l << 2), <f32>(binTotal(bins) / <f64>count));
}

/**
 * out[0..3] = the means of the sorted ranks [start_l, start_l + count) of the four lanes at `work`
 * (every window inside rows [rFrom, rTo)), with binned-sum semantics, −0 written as +0. The SIMD
 * sum in rank order is exact, hence equal to the binned sum, when a lane's nonzero values span at
 * most 29 − bitlength(count) binary exponents; a lane that spans more is summed again in bins.
 */
function windowMeans(work: usize, starts: v128, count: i32, rFrom: i32, rTo: i32, bins: usize, out: usize): void {
  const ends = i32x4.add(starts, i32x4.splat(count));
  const expMask = i32x4.splat(255);
  const absMask = i32x4.splat(0x7fffffff);
  const one = i32x4.splat(1);
  const zero = i32x4.splat(0);
  let slo = f64x2.splat(0);
  let shi = f64x2.splat(0);
  let emin = expMask;
  let emax = zero;
  for (let r = rFrom; r < rTo; r++) {
    const rv = i32x4.splat(r);
    const inside = v128.and(i32x4.ge_s(rv, starts), i32x4.lt_s(rv, ends));
    const v = v128.and(v128.load(work + (<usize>r << 4)), inside);
    slo = f64x2.add(slo, f64x2.promote_low_f32x4(v));
    shi = f64x2.add(shi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    const e = v128.and(i32x4.shr_u(v, 23), expMask);
    emax = i32x4.max_u(emax, e);
    const nonzero = i32x4.ne(v128.and(v, absMask), zero);
    emin = i32x4.min_u(emin, v128.bitselect(i32x4.max_u(e, one), expMask, nonzero));
  }
  const n = f64x2.splat(<f64>count);
  slo = f64x2.div(slo, n);
  shi = f64x2.div(shi, n);
  v128.store(out, v128.shuffle<f32>(f32x4.demote_f64x2_zero(slo), f32x4.demote_f64x2_zero(shi), 0, 1, 4, 5));
  const spread = i32x4.add(i32x4.sub(emax, emin), i32x4.splat(32 - clz<i32>(count)));
  const wide = i32x4.gt_s(spread, i32x4.splat(29));
  if (v128.any_true(wide)) {
    if (i32x4.extract_lane(wide, 0) != 0) laneBinnedMean(work, 0, i32x4.extract_lane(starts, 0), count, bins, out);
    if (i32x4.extract_lane(wide, 1) != 0) laneBinnedMean(work, 1, i32x4.extract_lane(starts, 1), count, bins, out);
    if (i32x4.extract_lane(wide, 2) != 0) laneBinnedMean(work, 2, i32x4.extract_lane(starts, 2), count, bins, out);
    if (i32x4.extract_lane(wide, 3) != 0) laneBinnedMean(work, 3, i32x4.extract_lane(starts, 3), count, bins, out);
  }
  v128.store(out, f32x4.add(v128.load(out), f32x4.splat(0)));
}

/** Writes the 4 results of the sorted lanes at `work` (m ranks, 16 bytes each) to out[0..3]. */
function finishLanes(work: usize, m: i32, op: i32, param: i32, out: usize, bins: usize): void {
  const k = m >>> 1;
  if (op == OP_MEDIAN) {
    const upper = v128.load(work + (<usize>k << 4));
    if ((m & 1) == 1) {
      v128.store(out, f32x4.add(upper, f32x4.splat(0)));
      return;
    }
    const lower = v128.load(work + (<usize>(k - 1) << 4));
    const half = f64x2.splat(0.5);
    const lo = f64x2.mul(f64x2.add(f64x2.promote_low_f32x4(lower), f64x2.promote_low_f32x4(upper)), half);
    const hi = f64x2.mul(
      f64x2.add(
        f64x2.promote_low_f32x4(v128.shuffle<f32>(lower, lower, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(upper, upper, 2, 3, 0, 1)),
      ),
      half,
    );
    const mid = v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    v128.store(out, f32x4.add(mid, f32x4.splat(0)));
    return;
  }
  if (op == OP_TRIMMED_MEAN) {
    windowMeans(work, i32x4.splat(param), m - 2 * param, param, m - param, bins, out);
    return;
  }
  // Mean of the `param` (= keep) values nearest the median: the window [a, a + keep) with a the
  // smallest start in [max(0, k − keep), min(k, m − keep)] whose first value is at most as far
  // below the median as the value just past its end is above it. The predicate is monotone in a,
  // so each lane binary-searches its start, reading only ranks in [k − keep, k + keep) (a start
  // below k − keep can only satisfy it inside a run of values equal to the median, whose window
  // holds the same values). Then all four windows are summed together under a lane mask.
  const keep = param;
  if (keep == m) {
    windowMeans(work, i32x4.splat(0), m, 0, m, bins, out);
    return;
  }
  const first = max(0, k - keep);
  const last = min(k, m - keep);
  for (let l = 0; l < 4; l++) {
    const med: f64 = (m & 1) == 1 ? <f64>lane(work, k, l) : (<f64>lane(work, k - 1, l) + <f64>lane(work, k, l)) / 2;
    let lo = first;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (med - <f64>lane(work, mid, l) <= <f64>lane(work, mid + keep, l) - med) hi = mid;
      else lo = mid + 1;
    }
    store<i32>(out + (<usize>l << 2), lo);
  }
  const starts = v128.load(out);
  const aMin = min(min(i32x4.extract_lane(starts, 0), i32x4.extract_lane(starts, 1)), min(i32x4.extract_lane(starts, 2), i32x4.extract_lane(starts, 3)));
  const aMax = max(max(i32x4.extract_lane(starts, 0), i32x4.extract_lane(starts, 1)), max(i32x4.extract_lane(starts, 2), i32x4.extract_lane(starts, 3)));
  windowMeans(work, starts, keep, aMin, aMax + keep, bins, out);
}

/**
 * Like {@link selectColumns} through a sorting network of `comparators` pairs at `net`: rows must
 * be `stride` apart with stride a multiple of 8 and `out` must have room for width rounded up to
 * 8. Scratch: 32m bytes at `work` followed by BIN_BYTES for the bins.
 */
export function networkColumns(
  rows: usize,
  m: i32,
  stride: i32,
  width: i32,
  net: usize,
  comparators: i32,
  op: i32,
  param: i32,
  out: usize,
  work: usize,
): void {
  const rowBytes = <usize>stride << 2;
  const workB = work + (<usize>m << 4);
  const bins = work + (<usize>m << 5);
  const netEnd = net + (<usize>comparators << 3);
  for (let c = 0; c < width; c += 8) {
    let p = rows + (<usize>c << 2);
    for (let i = 0; i < m; i++) {
      v128.store(work + (<usize>i << 4), v128.load(p));
      v128.store(workB + (<usize>i << 4), v128.load(p, 16));
      p += rowBytes;
    }
    for (let q = net; q < netEnd; q += 8) {
      const a = <usize>load<u32>(q);
      const b = <usize>load<u32>(q, 4);
      const x = v128.load(work + a);
      const y = v128.load(work + b);
      v128.store(work + a, f32x4.pmin(x, y));
      v128.store(work + b, f32x4.pmax(x, y));
      const x2 = v128.load(workB + a);
      const y2 = v128.load(workB + b);
      v128.store(workB + a, f32x4.pmin(x2, y2));
      v128.store(workB + b, f32x4.pmax(x2, y2));
    }
    finishLanes(work, m, op, param, out + (<usize>c << 2), bins);
    finishLanes(workB, m, op, param, out + (<usize>(c + 4) << 2), bins);
  }
}
