// Column-wise selection over a block of rows: median, trimmed mean and mean around the median per
// column. Two engines give the same bits: quickselect on a contiguous copy of one column (any m,
// selectColumns) and, for small m, sorting networks over four columns per f32x4 (networkColumns).
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

/**
 * Rearranges a[lo..hi] (inclusive) so that a[k] holds the value it would hold were the range
 * sorted, with smaller-or-equal values left of it and greater-or-equal ones right of it. Hoare
 * partitioning around a median of three; insertion sort below 16 values.
 */
function quickselect<T>(a: usize, lo: i32, hi: i32, k: i32): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    if (at<T>(a, mid) < at<T>(a, lo)) swap<T>(a, mid, lo);
    if (at<T>(a, hi) < at<T>(a, lo)) swap<T>(a, hi, lo);
    if (at<T>(a, hi) < at<T>(a, mid)) swap<T>(a, hi, mid);
    const pivot = at<T>(a, mid);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (at<T>(a, i) < pivot) i++;
      while (at<T>(a, j) > pivot) j--;
      if (i <= j) {
        swap<T>(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = at<T>(a, i);
    let j = i - 1;
    while (j >= lo && at<T>(a, j) > v) {
      set<T>(a, j + 1, at<T>(a, j));
      j--;
    }
    set<T>(a, j + 1, v);
  }
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
// Quickselect path: one column at a time.

/** Median of col[0..m−1] (mean of the two middle values for even m), in float64; reorders col. */
function median(col: usize, m: i32): f64 {
  const k = m >>> 1;
  quickselect<f32>(col, 0, m - 1, k);
  const upper = <f64>at<f32>(col, k);
  if ((m & 1) == 1) return upper;
  let lower = at<f32>(col, 0);
  for (let i = 1; i < k; i++) lower = max(lower, at<f32>(col, i));
  return (<f64>lower + upper) / 2;
}

function trimmedMean(col: usize, m: i32, trim: i32, bins: usize): f64 {
  const hi = m - 1;
  if (trim > 0) {
    quickselect<f32>(col, 0, hi, trim);
    quickselect<f32>(col, trim, hi, hi - trim);
  }
  clearBins(bins);
  for (let i = trim; i <= hi - trim; i++) addToBin(bins, at<f32>(col, i));
  return binTotal(bins) / <f64>(m - 2 * trim);
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
  const from = below ? t - take : 0;
  quickselect<f64>(scratch, 0, t - 1, below ? from : take - 1);
  for (let j = from; j < from + take; j++) addToBin(bins, <f32>at<f64>(scratch, j));
}

/**
 * Mean of the `keep` values nearest the median. Those are the values at distance < r (the keep-th
 * smallest distance), then values at distance r: first those ≤ med, nearest first, then those
 * above — the same window as the sorted-order definition (see the header).
 */
function meanAroundMedian(col: usize, m: i32, keep: i32, dist: usize, bins: usize): f64 {
  const med = median(col, m);
  clearBins(bins);
  if (keep == m) {
    for (let i = 0; i < m; i++) addToBin(bins, at<f32>(col, i));
    return binTotal(bins) / <f64>m;
  }
  for (let i = 0; i < m; i++) set<f64>(dist, i, abs(<f64>at<f32>(col, i) - med));
  quickselect<f64>(dist, 0, m - 1, keep - 1);
  const r = at<f64>(dist, keep - 1);
  let count = 0;
  let lowTies = 0;
  let highTies = 0;
  let lowMin = f32.MAX_VALUE;
  let lowMax = -f32.MAX_VALUE;
  let highMin = f32.MAX_VALUE;
  let highMax = -f32.MAX_VALUE;
  for (let i = 0; i < m; i++) {
    const v = at<f32>(col, i);
    const x = <f64>v;
    const d = abs(x - med);
    if (d < r) {
      addToBin(bins, v);
      count++;
    } else if (d == r) {
      if (x <= med) {
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
    else addNearestTies(col, m, med, r, true, fromLow, dist, bins);
  }
  if (fromHigh > 0) {
    if (highMin == highMax) addCopiesToBin(bins, highMin, fromHigh);
    else addNearestTies(col, m, med, r, false, fromHigh, dist, bins);
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
 * column at `col`; 8m bytes for distances at `dist` followed by BIN_BYTES for the bins (8-aligned).
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
  for (let c = 0; c < width; c++) {
    let p = rows + (<usize>c << 2);
    for (let i = 0; i < m; i++) {
      set<f32>(col, i, load<f32>(p));
      p += rowBytes;
    }
    let v: f64;
    if (op == OP_MEDIAN) v = median(col, m);
    else if (op == OP_TRIMMED_MEAN) v = trimmedMean(col, m, param, bins);
    else v = meanAroundMedian(col, m, param, dist, bins);
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
