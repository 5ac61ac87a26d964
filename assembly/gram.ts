// Gram matrix of a block of centred rows: register-blocked f32x4 products, partial sums flushed to
// float64 every FLUSH vectors. Each row carries its own power-of-two scale (only when its largest
// magnitude in the block leaves [2⁻⁴⁰, 2⁴⁰]), undone exactly per pair in float64, so no float32
// product or partial sum can overflow and no row's values change how another pair is computed.
//
// Why nothing overflows: every value stored in the panels has |z| ≤ 2⁴⁰ (an unscaled row) or
// |z| ≤ 1 (a scaled row), so a product is at most 2⁸⁰ and a lane's partial sum of 64 products at
// most 2⁸⁶ (float32 reaches 2¹²⁸). Why nothing of consequence underflows: every row's largest
// magnitude is at least 2⁻⁴⁰ after scaling (or the row is 0), so a product that underflows is
// off by at most 2⁻¹⁵⁰ ≤ 2⁻⁷⁰·mᵢmⱼ (m: the two rows' block maxima), in the pair's own scale.

/** f32x4 steps (4 columns each) accumulated in float32 before the partial sums go to float64. */
const FLUSH: i32 = 64;

/** Horizontal sum of an f32x4 in float64. */

/**
 * acc + x·z in four float32 lanes: a multiply then an add, each rounded (every engine, the same
 * bits); in the relaxed-SIMD build (assembly/entry/gram-relaxed.ts) `f32x4.relaxed_madd`, which an
 * engine may fuse into one FMA (one rounding instead of two: within the same accuracy bound, not
 * the same bits).
 */
// @ts-ignore: decorator
@inline function madd(acc: v128, x: v128, z: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<f32>(x, z, acc);
  return f32x4.add(acc, f32x4.mul(x, z));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  const lo = f64x2.promote_low_f32x4(v);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const s = f64x2.add(lo, hi);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** g[i][j] += v for j ≤ i < n (the lower triangle), otherwise nothing. */
// @ts-ignore: decorator
@inline function put(g: usize, n: i32, i: i32, j: i32, v: f64): void {
  if (i < n && j <= i) {
    const p = g + ((<usize>i * <usize>n + <usize>j) << 3);
    store<f64>(p, load<f64>(p) + v);
  }
}

/**
 * Centres row i of a block into its place in the panel layout at `y`: `width` raw float32 values
 * at `raw` (r read at `ref`, or no centring when ref is 0) become xᵢ − r, zero-padded to
 * `stride` (a multiple of 4). Panels hold 4 rows each: 4 consecutive columns of row 4p, the same
 * 4 of row 4p+1, …, then the next 4 columns. Returns the largest magnitude written (NaN when a
 * value is NaN, +∞ when one overflowed).
 */
export function gramRow(raw: usize, ref: usize, i: i32, width: i32, stride: i32, y: usize): f32 {
  const dst = y + <usize>(i >> 2) * (<usize>stride << 4) + (<usize>(i & 3) << 4);
  const w4 = width & ~3;
  let mx = i32x4.splat(0);
  let k = 0;
  if (ref != 0) {
    for (; k < w4; k += 4) {
      const v = f32x4.sub(v128.load(raw + (<usize>k << 2)), v128.load(ref + (<usize>k << 2)));
      v128.store(dst + (<usize>k << 4), v);
      mx = absMax(mx, v);
    }
  } else {
    for (; k < w4; k += 4) {
      const v = v128.load(raw + (<usize>k << 2));
      v128.store(dst + (<usize>k << 4), v);
      mx = absMax(mx, v);
    }
  }
  if (k < stride) {
    // The last, partial group of 4 columns, zero-padded.
    let tail = f32x4.splat(0);
    for (let t = 0; k + t < width; t++) {
      const x = load<f32>(raw + (<usize>(k + t) << 2));
      const v = ref != 0 ? x - load<f32>(ref + (<usize>(k + t) << 2)) : x;
      tail = f32x4.replace_lane(tail, 0, v);
      tail = v128.shuffle<f32>(tail, tail, 1, 2, 3, 0);
    }
    // After w − k rotations the values sit in lanes 4 − (w − k) …; rotate them back to lane 0.
    const used = width - k;
    if (used == 1) tail = v128.shuffle<f32>(tail, tail, 3, 0, 1, 2);
    else if (used == 2) tail = v128.shuffle<f32>(tail, tail, 2, 3, 0, 1);
    else if (used == 3) tail = v128.shuffle<f32>(tail, tail, 1, 2, 3, 0);
    v128.store(dst + (<usize>k << 4), tail);
    mx = absMax(mx, tail);
    k += 4;
  }
  for (; k < stride; k += 4) v128.store(dst + (<usize>k << 4), f32x4.splat(0));
  return lanesMax(mx);
}

/** Smallest and largest block maximum a row keeps unscaled: 2⁻⁴⁰ and 2⁴⁰ (exact). */
const SAFE_LO: f32 = reinterpret<f32>(0x2b800000);
const SAFE_HI: f32 = reinterpret<f32>(0x53800000);

/**
 * The robust centre of a block: the index of the row whose largest magnitude mx[i] (float32, ≥ 0,
 * not NaN) is the lower median, ties to the lowest index — the element of rank ⌊(n − 1)/2⌋ in
 * the order of the keys (bits(mx[i]) · 2³² + i), found by quickselect (median-of-three pivots)
 * in the scratch `keys` (n u64).
 */
export function gramMedianRow(mx: usize, n: i32, keys: usize): i32 {
  for (let i = 0; i < n; i++) {
    store<u64>(keys + (<usize>i << 3), (<u64>load<u32>(mx + (<usize>i << 2)) << 32) | <u64>i);
  }
  const k = (n - 1) >> 1;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    const a = key(keys, lo), b = key(keys, mid), c = key(keys, hi);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    // Hoare partition: [lo, j] ≤ pivot ≤ [i, hi], keys distinct.
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (key(keys, i) < pivot) i++;
      while (key(keys, j) > pivot) j--;
      if (i <= j) {
        const t = key(keys, i);
        store<u64>(keys + (<usize>i << 3), key(keys, j));
        store<u64>(keys + (<usize>j << 3), t);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return <i32>(key(keys, k) & 0xffffffff);
}

// @ts-ignore: decorator
@inline function key(keys: usize, i: i32): u64 {
  return load<u64>(keys + (<usize>i << 3));
}

/** Largest magnitude below which x − r cannot overflow float32 for |x|, |r| ≤ it: 2¹²⁶. */
const NO_OVERFLOW: f32 = reinterpret<f32>(0x7e800000);

/**
 * Prepares panel p (rows 4p … 4p+3) of a block loaded by {@link gramRow} without centring, for
 * the robust centre r: each row becomes xᵢ − r in place, then gets its own power of two (see
 * {@link finishRow}); rows past n become 0. mx[i] holds the largest magnitude of row i before
 * centring and mc that of r: when both are at most 2¹²⁶ the float32 difference cannot overflow
 * and the four rows are centred together in memory order; otherwise the rows at risk are
 * centred and scaled in float64 ({@link wideRowInPlace}). Returns false when a value is ±∞.
 */
function centrePanel(y: usize, n: i32, stride: i32, p: i32, r: usize, mx: usize, mc: f32, fac: usize): bool {
  const panelBytes = <usize>stride << 4;
  const base = y + <usize>p * panelBytes;
  const i = p << 2;
  let wide = mc > NO_OVERFLOW;
  for (let t = 0; t < 4 && i + t < n; t++) if (load<f32>(mx + (<usize>(i + t) << 2)) > NO_OVERFLOW) wide = true;
  if (!wide) {
    let q = base;
    const end = q + panelBytes;
    let ref = r;
    let m0 = i32x4.splat(0), m1 = i32x4.splat(0), m2 = i32x4.splat(0), m3 = i32x4.splat(0);
    while (q < end) {
      const rv = v128.load(ref);
      const v0 = f32x4.sub(v128.load(q), rv);
      const v1 = f32x4.sub(v128.load(q, 16), rv);
      const v2 = f32x4.sub(v128.load(q, 32), rv);
      const v3 = f32x4.sub(v128.load(q, 48), rv);
      v128.store(q, v0);
      v128.store(q, v1, 16);
      v128.store(q, v2, 32);
      v128.store(q, v3, 48);
      m0 = absMax(m0, v0);
      m1 = absMax(m1, v1);
      m2 = absMax(m2, v2);
      m3 = absMax(m3, v3);
      q += 64;
      ref += 16;
    }
    finishRow(base, i, n, stride, lanesMax(m0), fac);
    finishRow(base + 16, i + 1, n, stride, lanesMax(m1), fac);
    finishRow(base + 32, i + 2, n, stride, lanesMax(m2), fac);
    finishRow(base + 48, i + 3, n, stride, lanesMax(m3), fac);
    return true;
  }
  for (let t = 0; t < 4; t++) {
    const dst = base + (<usize>t << 4);
    if (i + t < n && (mc > NO_OVERFLOW || load<f32>(mx + (<usize>(i + t) << 2)) > NO_OVERFLOW)) {
      if (!wideRowInPlace(dst, r, stride, fac + (<usize>(i + t) << 3))) return false;
      continue;
    }
    let m = i32x4.splat(0);
    if (i + t < n) {
      for (let k = 0; k < stride; k += 4) {
        const q = dst + (<usize>k << 4);
        const v = f32x4.sub(v128.load(q), v128.load(r + (<usize>k << 2)));
        v128.store(q, v);
        m = absMax(m, v);
      }
    }
    finishRow(dst, i + t, n, stride, lanesMax(m), fac);
  }
  return true;
}

/**
 * Gives row i of a panel (at dst, finite, largest magnitude m) its power of two: fac[i] = 1 when m
 * is 0 or inside [2⁻⁴⁰, 2⁴⁰]; otherwise the row is multiplied by the exact power of two sᵢ that
 * brings m into [½, 1) (float64 products rounded once to float32: only values that become
 * subnormal are rounded) and fac[i] = 1/sᵢ. A row past n is zeroed, with fac[i] = 0.
 */
// @ts-ignore: decorator
@inline function finishRow(dst: usize, i: i32, n: i32, stride: i32, m: f32, fac: usize): void {
  let f: f64 = 1;
  if (i >= n) {
    for (let k = 0; k < stride; k += 4) v128.store(dst + (<usize>k << 4), f32x4.splat(0));
    f = 0;
  } else if (m != 0 && (m < SAFE_LO || m > SAFE_HI)) {
    const s = scaleFor(<f64>m);
    scaleRow(dst, stride, s);
    f = 1 / s;
  }
  store<f64>(fac + (<usize>i << 3), f);
}

/**
 * Row at dst (a panel row, `stride` values) centred on r in float64: m = max |x − r|, then the row
 * becomes fl32(s·(x − r)) with the power of two s that brings m into [½, 1) and *f = 1/s. For rows
 * whose float32 difference could overflow. Returns false when m is not finite (an input ±∞).
 */
function wideRowInPlace(dst: usize, r: usize, stride: i32, f: usize): bool {
  let m: f64 = 0;
  for (let k = 0; k < stride; k++) {
    const v = <f64>load<f32>(dst + (<usize>(k >> 2) << 6) + (<usize>(k & 3) << 2)) - <f64>load<f32>(r + (<usize>k << 2));
    m = max(m, abs(v));
  }
  if (!isFinite<f64>(m)) return false;
  const s = m == 0 ? 1 : scaleFor(m);
  for (let k = 0; k < stride; k++) {
    const q = dst + (<usize>(k >> 2) << 6) + (<usize>(k & 3) << 2);
    store<f32>(q, <f32>((<f64>load<f32>(q) - <f64>load<f32>(r + (<usize>k << 2))) * s));
  }
  store<f64>(f, 1 / s);
  return true;
}

/**
 * Running largest magnitude of float32 lanes, kept as integer bits: for |v| (the sign bit
 * cleared) the bit patterns order like the values, with +∞ above every finite value and NaN above
 * +∞, so one integer max per vector tracks the largest magnitude and lets a NaN win (wasm's
 * f32x4.max, with its NaN and ±0 rules, costs several instructions on x64).
 */
// @ts-ignore: decorator
@inline function absMax(m: v128, v: v128): v128 {
  return i32x4.max_s(m, v128.and(v, i32x4.splat(0x7fffffff)));
}

/** The largest magnitude tracked by {@link absMax} (NaN when a lane saw a NaN). */
// @ts-ignore: decorator
@inline function lanesMax(m: v128): f32 {
  const a = max(i32x4.extract_lane(m, 0), i32x4.extract_lane(m, 1));
  const b = max(i32x4.extract_lane(m, 2), i32x4.extract_lane(m, 3));
  return reinterpret<f32>(max(a, b));
}

/**
 * The exact power of two s with m·s ∈ [½, 1) for a finite m > 0 (float64, so that subnormal
 * float32 maxima and maxima past the float32 range are covered): s = 2^(1022 − E), E the biased
 * float64 exponent of m. Returns s; 1/s = 2^(E − 1022).
 */
// @ts-ignore: decorator
@inline function scaleFor(m: f64): f64 {
  const e = (reinterpret<u64>(m) >> 52) & 0x7ff;
  return reinterpret<f64>((2045 - e) << 52);
}

/**
 * Completes a block whose n rows are in the panels (centred, or not centred at all), one power of
 * two per row: zeroes the rows past n in the last panel; then for each row i, with m = mx[i] its
 * largest magnitude, leaves it as it is (fac[i] = 1) when m is 0 or inside [2⁻⁴⁰, 2⁴⁰], otherwise
 * multiplies it by the exact power of two sᵢ that brings m into [½, 1) (float64 products rounded
 * once to float32: the only rounding is of values that become subnormal) and sets
 * fac[i] = 1/sᵢ (float64). A row is never scaled by another row's values.
 *
 * Returns −1 when some mx[i] is NaN (the caller falls back to the float64 kernel), otherwise the
 * number of rows whose centred values overflowed float32 (mx[i] = +∞): their fac[i] is set to 0
 * and the caller redoes them with {@link gramRowWide}.
 */
export function gramScale(y: usize, n: i32, stride: i32, mx: usize, fac: usize): i32 {
  const panelBytes = <usize>stride << 4;
  const panels = (n + 3) >> 2;
  for (let i = n; i < panels * 4; i++) {
    const dst = y + <usize>(i >> 2) * panelBytes + (<usize>(i & 3) << 4);
    for (let k = 0; k < stride; k += 4) v128.store(dst + (<usize>k << 4), f32x4.splat(0));
    store<f64>(fac + (<usize>i << 3), 0);
  }
  let wide = 0;
  for (let i = 0; i < n; i++) {
    const m = load<f32>(mx + (<usize>i << 2));
    let f: f64 = 1;
    if (isNaN<f32>(m)) return -1;
    if (m == Infinity) {
      f = 0;
      wide++;
    } else if (m != 0 && (m < SAFE_LO || m > SAFE_HI)) {
      const s = scaleFor(<f64>m);
      scaleRow(y + <usize>(i >> 2) * panelBytes + (<usize>(i & 3) << 4), stride, s);
      f = 1 / s;
    }
    store<f64>(fac + (<usize>i << 3), f);
  }
  return wide;
}

/** Multiplies one row of a panel (at dst, `stride` values) by s in float64, rounded to float32. */
function scaleRow(dst: usize, stride: i32, s: f64): void {
  const sv = f64x2.splat(s);
  for (let k = 0; k < stride; k += 4) {
    const p = dst + (<usize>k << 4);
    const v = v128.load(p);
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v), sv));
    const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), sv));
    v128.store(p, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
}

/**
 * Row i of a block the slow, exact way, for a row whose centred values overflow float32 (|xᵢ − r|
 * past 3.4e38): xᵢ − r in float64 (`ref` 0: no centring), m its largest magnitude, and the row
 * written as fl32(sᵢ·(xᵢ − r)) with the power of two sᵢ that brings m into [½, 1); fac[i] = 1/sᵢ.
 * Returns false when a value is not finite (the caller falls back to the float64 kernel).
 */
export function gramRowWide(raw: usize, ref: usize, i: i32, width: i32, stride: i32, y: usize, fac: usize): bool {
  const dst = y + <usize>(i >> 2) * (<usize>stride << 4) + (<usize>(i & 3) << 4);
  let m: f64 = 0;
  for (let k = 0; k < width; k++) {
    const x = <f64>load<f32>(raw + (<usize>k << 2));
    const v = ref != 0 ? x - <f64>load<f32>(ref + (<usize>k << 2)) : x;
    m = max(m, abs(v));
  }
  if (!isFinite<f64>(m)) return false;
  const s = m == 0 ? 1 : scaleFor(m);
  for (let k = 0; k < stride; k++) {
    let v: f64 = 0;
    if (k < width) {
      const x = <f64>load<f32>(raw + (<usize>k << 2));
      v = ref != 0 ? x - <f64>load<f32>(ref + (<usize>k << 2)) : x;
    }
    store<f32>(dst + (<usize>(k >> 2) << 6) + (<usize>(k & 3) << 2), <f32>(v * s));
  }
  store<f64>(fac + (<usize>i << 3), 1 / s);
  return true;
}

/**
 * Adds fac[i]·fac[j]·(Y·Yᵀ)ᵢⱼ (lower triangle, j ≤ i) to the row-major n×n float64 matrix at g,
 * where Y is the n × stride block at y in panels of 4 rows (see {@link gramRow}) and fac holds one
 * float64 factor per row, padded to a multiple of 4 (1/sᵢ, powers of two, so the rescaling is
 * exact).
 *
 * Register tile: 4 × 2 rows, eight f32x4 accumulators; each f32x4 loaded from a row feeds two
 * products and each one from a column row four (six loads per eight products), and the
 * interleaved panels let one pointer per panel and immediate offsets address all six loads of a
 * step. (Wider tiles need more than the 15 vector registers V8 allocates on x64 and spill; see
 * docs/performance.md, "The Gram kernel".)
 *
 * Cache blocking: the column rows j are taken in groups of `jg` rows (a multiple of 4, chosen so
 * that a group's rows stay in L2); for each group, every row panel i from the group's first row
 * on meets every panel of the group over all the block's columns, the accumulators summed into
 * float64 every 64 steps (256 columns) and each pair's sum added into g once per block. So each
 * value comes from memory once per block, the group from L2, and g is read and written once per
 * block whatever the grouping. (Slicing the columns instead, a GEMM's usual k-blocking, would add
 * into g once per slice: for n = 1000 that is 8 MB of g per slice and halved the speed.)
 *
 * With r = 0 the rows are ready (centred by {@link gramRow}, fac from {@link gramScale}). With
 * r ≠ 0 the block holds the raw rows and is centred here on row c (the robust centre), copied to
 * r (stride float32): every panel is centred and scaled ({@link centrePanel}, which also writes
 * fac) just before its first use (in the first group), while it is in cache; mx holds the
 * rows' largest magnitudes. Returns 0, or −1 when a value is ±∞ (the caller falls back to the
 * float64 kernel).
 */
export function gramBlock(
  y: usize,
  n: i32,
  stride: i32,
  g: usize,
  fac: usize,
  r: usize,
  mx: usize,
  c: i32,
  jg: i32,
): i32 {
  const panelBytes = <usize>stride << 4;
  let mc: f32 = 0;
  if (r != 0) {
    // The robust centre: row c, copied out of the panels before any row is centred.
    const src = y + <usize>(c >> 2) * panelBytes + (<usize>(c & 3) << 4);
    for (let k = 0; k < stride; k += 4) v128.store(r + (<usize>k << 2), v128.load(src + (<usize>k << 4)));
    mc = load<f32>(mx + (<usize>c << 2));
  }
  for (let g0 = 0; g0 < n; g0 += jg) {
    const g1 = min(g0 + jg, n);
    for (let i0 = g0 & ~3; i0 < n; i0 += 4) {
      // Panel i0 is first used here (j runs over panels ≤ i0), so it is centred while cached.
      if (g0 == 0 && r != 0 && !centrePanel(y, n, stride, i0 >> 2, r, mx, mc, fac)) return -1;
      const pi = y + <usize>(i0 >> 2) * panelBytes;
      const fi = fac + (<usize>i0 << 3);
      const f0 = load<f64>(fi), f1 = load<f64>(fi, 8), f2 = load<f64>(fi, 16), f3 = load<f64>(fi, 24);
      const jEnd = min(g1, i0 + 4);
      for (let j0 = g0; j0 < jEnd; j0 += 2) {
        const pj = y + <usize>(j0 >> 2) * panelBytes + (<usize>(j0 & 3) << 4);
        let t00: f64 = 0, t01: f64 = 0, t10: f64 = 0, t11: f64 = 0;
        let t20: f64 = 0, t21: f64 = 0, t30: f64 = 0, t31: f64 = 0;
        for (let kb = 0; kb < stride; kb += FLUSH * 4) {
          const kend = min(kb + FLUSH * 4, stride);
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
          let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
          let p = pi + (<usize>kb << 4);
          let q = pj + (<usize>kb << 4);
          const end = pi + (<usize>kend << 4);
          while (p < end) {
            const z0 = v128.load(q);
            const z1 = v128.load(q, 16);
            let x = v128.load(p);
            a00 = madd(a00, x, z0);
            a01 = madd(a01, x, z1);
            x = v128.load(p, 16);
            a10 = madd(a10, x, z0);
            a11 = madd(a11, x, z1);
            x = v128.load(p, 32);
            a20 = madd(a20, x, z0);
            a21 = madd(a21, x, z1);
            x = v128.load(p, 48);
            a30 = madd(a30, x, z0);
            a31 = madd(a31, x, z1);
            p += 64;
            q += 64;
          }
          t00 += hsum(a00);
          t01 += hsum(a01);
          t10 += hsum(a10);
          t11 += hsum(a11);
          t20 += hsum(a20);
          t21 += hsum(a21);
          t30 += hsum(a30);
          t31 += hsum(a31);
        }
        const fj0 = load<f64>(fac + (<usize>j0 << 3));
        const fj1 = load<f64>(fac + (<usize>j0 << 3), 8);
        put(g, n, i0, j0, f0 * fj0 * t00);
        put(g, n, i0, j0 + 1, f0 * fj1 * t01);
        put(g, n, i0 + 1, j0, f1 * fj0 * t10);
        put(g, n, i0 + 1, j0 + 1, f1 * fj1 * t11);
        put(g, n, i0 + 2, j0, f2 * fj0 * t20);
        put(g, n, i0 + 2, j0 + 1, f2 * fj1 * t21);
        put(g, n, i0 + 3, j0, f3 * fj0 * t30);
        put(g, n, i0 + 3, j0 + 1, f3 * fj1 * t31);
      }
    }
  }
  return 0;
}

/** dst[k] += src[k] for k < count (float64): adds a chunk's partial Gram matrix to the total. */
export function addF64(dst: usize, src: usize, count: i32): void {
  let k = 0;
  for (; k + 2 <= count; k += 2) {
    const p = dst + (<usize>k << 3);
    v128.store(p, f64x2.add(v128.load(p), v128.load(src + (<usize>k << 3))));
  }
  for (; k < count; k++) {
    const p = dst + (<usize>k << 3);
    store<f64>(p, load<f64>(p) + load<f64>(src + (<usize>k << 3)));
  }
}
