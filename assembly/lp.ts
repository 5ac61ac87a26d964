// Pairwise ℓp statistics of a block of rows, in float64 (f64x2): the fast kernel of
// src/kernels/lp-distances.ts, which merges the per-block statistics exactly as its plain kernel
// does. Every operation here is the plain kernel's own, in the same order (the difference of two
// float64 values, |·|, one multiplication by 1/m, repeated squaring, sums in two lanes: the even
// columns in lane 0, the odd ones in lane 1, then lane 0 + lane 1, then an odd last column), so
// both kernels give the same bits. Float32 inputs promoted to float64 cannot overflow (|Δ| ≤
// 6.8e38) nor lose a subnormal.
//
// Rows: n rows of `width` float64 values at base + i·stride bytes. Pair (i, j), j < i, is number
// i(i−1)/2 + j in `sums` and `maxima` (float64 each).

/** x^p for x in [0, 1] by repeated squaring (the plain kernel's order of multiplications). */
// @ts-ignore: decorator
@inline function powv(x: v128, p: i32): v128 {
  let result = f64x2.splat(1);
  let base = x;
  let e = p;
  while (e > 0) {
    if (e & 1) result = f64x2.mul(result, base);
    base = f64x2.mul(base, base);
    e = e >>> 1;
  }
  return result;
}

/** powv with p = 2, 3, 4 written out (the same multiplications as repeated squaring). */
// @ts-ignore: decorator
@inline function powc(x: v128, p: i32): v128 {
  if (p == 2) return f64x2.mul(x, x);
  if (p == 3) return f64x2.mul(x, f64x2.mul(x, x));
  if (p == 4) {
    const y = f64x2.mul(x, x);
    return f64x2.mul(y, y);
  }
  return powv(x, p);
}

/**
 * Two-lane sums of (|xᵢ − xⱼ|·invⱼ)^p for four rows j against row i, written to out[0..3] as
 * lane 0 + lane 1 (inlined with p a constant where it is 2, 3 or 4).
 */
// @ts-ignore: decorator
@inline function sums4(
  ri: usize, r0: usize, r1: usize, r2: usize, r3: usize, body: i32,
  v0: v128, v1: v128, v2: v128, v3: v128, p: i32, out: usize,
): void {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  for (let k = 0; k < body; k += 2) {
    const off = <usize>k << 3;
    const a = v128.load(ri + off);
    s0 = f64x2.add(s0, powc(f64x2.mul(absDiff(a, v128.load(r0 + off)), v0), p));
    s1 = f64x2.add(s1, powc(f64x2.mul(absDiff(a, v128.load(r1 + off)), v1), p));
    s2 = f64x2.add(s2, powc(f64x2.mul(absDiff(a, v128.load(r2 + off)), v2), p));
    s3 = f64x2.add(s3, powc(f64x2.mul(absDiff(a, v128.load(r3 + off)), v3), p));
  }
  store<f64>(out, lanes(s0));
  store<f64>(out + 8, lanes(s1));
  store<f64>(out + 16, lanes(s2));
  store<f64>(out + 24, lanes(s3));
}

// @ts-ignore: decorator
@inline function pows(x: f64, p: i32): f64 {
  let result: f64 = 1;
  let base = x;
  let e = p;
  while (e > 0) {
    if (e & 1) result = result * base;
    base = base * base;
    e = e >>> 1;
  }
  return result;
}

// @ts-ignore: decorator
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

// @ts-ignore: decorator
@inline function lanesMax(v: v128): f64 {
  return max(f64x2.extract_lane(v, 0), f64x2.extract_lane(v, 1));
}

// @ts-ignore: decorator
@inline function absDiff(a: v128, b: v128): v128 {
  return f64x2.abs(f64x2.sub(a, b));
}

/** sums[pair] = Σ |xᵢ − xⱼ| over the block (p = 1). */
export function lpOne(base: usize, n: i32, width: i32, stride: usize, sums: usize): void {
  const body = width & ~1;
  const last = <usize>(width - 1) << 3;
  for (let i = 1; i < n; i++) {
    const ri = base + <usize>i * stride;
    const out = sums + ((<usize>i * <usize>(i - 1)) << 2);
    let j = 0;
    for (; j + 4 <= i; j += 4) {
      const r0 = base + <usize>j * stride;
      const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      for (let k = 0; k < body; k += 2) {
        const off = <usize>k << 3;
        const a = v128.load(ri + off);
        s0 = f64x2.add(s0, absDiff(a, v128.load(r0 + off)));
        s1 = f64x2.add(s1, absDiff(a, v128.load(r1 + off)));
        s2 = f64x2.add(s2, absDiff(a, v128.load(r2 + off)));
        s3 = f64x2.add(s3, absDiff(a, v128.load(r3 + off)));
      }
      let t0 = lanes(s0), t1 = lanes(s1), t2 = lanes(s2), t3 = lanes(s3);
      if (body < width) {
        const a = load<f64>(ri + last);
        t0 += abs(a - load<f64>(r0 + last));
        t1 += abs(a - load<f64>(r1 + last));
        t2 += abs(a - load<f64>(r2 + last));
        t3 += abs(a - load<f64>(r3 + last));
      }
      const o = out + (<usize>j << 3);
      store<f64>(o, t0);
      store<f64>(o + 8, t1);
      store<f64>(o + 16, t2);
      store<f64>(o + 24, t3);
    }
    for (; j < i; j++) {
      const r0 = base + <usize>j * stride;
      let s0 = f64x2.splat(0);
      for (let k = 0; k < body; k += 2) {
        const off = <usize>k << 3;
        s0 = f64x2.add(s0, absDiff(v128.load(ri + off), v128.load(r0 + off)));
      }
      let t0 = lanes(s0);
      if (body < width) t0 += abs(load<f64>(ri + last) - load<f64>(r0 + last));
      store<f64>(out + (<usize>j << 3), t0);
    }
  }
}

/**
 * maxima[pair] = max |xᵢ − xⱼ| over the block (p = ∞; and the scale of the other p); with
 * p ≥ 2 also sums[pair] = Σ (|xᵢ − xⱼ|·(1/m))^p for m = that maximum (0 when m = 0).
 */
export function lpScaled(base: usize, n: i32, width: i32, stride: usize, p: i32, maxima: usize, sums: usize): void {
  const body = width & ~1;
  const last = <usize>(width - 1) << 3;
  const zero = f64x2.splat(0);
  for (let i = 1; i < n; i++) {
    const ri = base + <usize>i * stride;
    const pairOff = (<usize>i * <usize>(i - 1)) << 2;
    let j = 0;
    for (; j + 4 <= i; j += 4) {
      const r0 = base + <usize>j * stride;
      const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
      let m0 = zero, m1 = zero, m2 = zero, m3 = zero;
      for (let k = 0; k < body; k += 2) {
        const off = <usize>k << 3;
        const a = v128.load(ri + off);
        m0 = f64x2.pmax(m0, absDiff(a, v128.load(r0 + off)));
        m1 = f64x2.pmax(m1, absDiff(a, v128.load(r1 + off)));
        m2 = f64x2.pmax(m2, absDiff(a, v128.load(r2 + off)));
        m3 = f64x2.pmax(m3, absDiff(a, v128.load(r3 + off)));
      }
      let x0 = lanesMax(m0), x1 = lanesMax(m1), x2 = lanesMax(m2), x3 = lanesMax(m3);
      if (body < width) {
        const a = load<f64>(ri + last);
        x0 = max(x0, abs(a - load<f64>(r0 + last)));
        x1 = max(x1, abs(a - load<f64>(r1 + last)));
        x2 = max(x2, abs(a - load<f64>(r2 + last)));
        x3 = max(x3, abs(a - load<f64>(r3 + last)));
      }
      const mo = maxima + pairOff + (<usize>j << 3);
      store<f64>(mo, x0);
      store<f64>(mo + 8, x1);
      store<f64>(mo + 16, x2);
      store<f64>(mo + 24, x3);
      if (p < 2) continue;
      const i0: f64 = x0 > 0 ? 1 / x0 : 0, i1: f64 = x1 > 0 ? 1 / x1 : 0;
      const i2: f64 = x2 > 0 ? 1 / x2 : 0, i3: f64 = x3 > 0 ? 1 / x3 : 0;
      const v0 = f64x2.splat(i0), v1 = f64x2.splat(i1), v2 = f64x2.splat(i2), v3 = f64x2.splat(i3);
      const so = sums + pairOff + (<usize>j << 3);
      if (p == 2) sums4(ri, r0, r1, r2, r3, body, v0, v1, v2, v3, 2, so);
      else if (p == 3) sums4(ri, r0, r1, r2, r3, body, v0, v1, v2, v3, 3, so);
      else if (p == 4) sums4(ri, r0, r1, r2, r3, body, v0, v1, v2, v3, 4, so);
      else sums4(ri, r0, r1, r2, r3, body, v0, v1, v2, v3, p, so);
      let t0 = load<f64>(so), t1 = load<f64>(so + 8), t2 = load<f64>(so + 16), t3 = load<f64>(so + 24);
      if (body < width) {
        const a = load<f64>(ri + last);
        t0 += pows(abs(a - load<f64>(r0 + last)) * i0, p);
        t1 += pows(abs(a - load<f64>(r1 + last)) * i1, p);
        t2 += pows(abs(a - load<f64>(r2 + last)) * i2, p);
        t3 += pows(abs(a - load<f64>(r3 + last)) * i3, p);
      }
      store<f64>(so, t0);
      store<f64>(so + 8, t1);
      store<f64>(so + 16, t2);
      store<f64>(so + 24, t3);
    }
    for (; j < i; j++) {
      const r0 = base + <usize>j * stride;
      let m0 = zero;
      for (let k = 0; k < body; k += 2) {
        const off = <usize>k << 3;
        m0 = f64x2.pmax(m0, absDiff(v128.load(ri + off), v128.load(r0 + off)));
      }
      let x0 = lanesMax(m0);
      if (body < width) x0 = max(x0, abs(load<f64>(ri + last) - load<f64>(r0 + last)));
      store<f64>(maxima + pairOff + (<usize>j << 3), x0);
      if (p < 2) continue;
      const i0: f64 = x0 > 0 ? 1 / x0 : 0;
      const v0 = f64x2.splat(i0);
      let s0 = zero;
      for (let k = 0; k < body; k += 2) {
        const off = <usize>k << 3;
        s0 = f64x2.add(s0, powv(f64x2.mul(absDiff(v128.load(ri + off), v128.load(r0 + off)), v0), p));
      }
      let t0 = lanes(s0);
      if (body < width) t0 += pows(abs(load<f64>(ri + last) - load<f64>(r0 + last)) * i0, p);
      store<f64>(sums + pairOff + (<usize>j << 3), t0);
    }
  }
}

/**
 * FLTrust's statistics of one row x against the server update g over a block of `width`
 * columns, in float64: state[0..1] += the two lanes of Σ xₖgₖ (even columns in lane 0, odd ones
 * in lane 1), state[2..3] += those of Σ xₖ². An odd last column (only the last block of a row has
 * one) goes to lane 0. Products of two float32 values are exact in float64, so these are the plain
 * kernel's operations in its order.
 */
export function dotNorm(x: usize, g: usize, width: i32, state: usize): void {
  const body = width & ~1;
  let dot = v128.load(state);
  let norm = v128.load(state + 16);
  let k = 0;
  for (; k + 4 <= body; k += 4) {
    const a = v128.load(x + (<usize>k << 2));
    const b = v128.load(g + (<usize>k << 2));
    const al = f64x2.promote_low_f32x4(a);
    const bl = f64x2.promote_low_f32x4(b);
    const ah = f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1));
    const bh = f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1));
    dot = f64x2.add(f64x2.add(dot, f64x2.mul(al, bl)), f64x2.mul(ah, bh));
    norm = f64x2.add(f64x2.add(norm, f64x2.mul(al, al)), f64x2.mul(ah, ah));
  }
  for (; k < body; k += 2) {
    const al = f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>k << 2)));
    const bl = f64x2.promote_low_f32x4(v128.load64_zero(g + (<usize>k << 2)));
    dot = f64x2.add(dot, f64x2.mul(al, bl));
    norm = f64x2.add(norm, f64x2.mul(al, al));
  }
  if (body < width) {
    const a = <f64>load<f32>(x + (<usize>body << 2));
    const b = <f64>load<f32>(g + (<usize>body << 2));
    dot = f64x2.replace_lane(dot, 0, f64x2.extract_lane(dot, 0) + a * b);
    norm = f64x2.replace_lane(norm, 0, f64x2.extract_lane(norm, 0) + a * a);
  }
  v128.store(state, dot);
  v128.store(state + 16, norm);
}

/**
 * signMajority's vote: votes[k] += sign(x[k]) for k < width (int32 counts; sign(±0) = 0). Exact
 * integer arithmetic, so any order gives the same counts. Returns 1 when x holds a NaN or ±∞
 * (x − x is then not 0; the caller then drops that row and counts again), else 0.
 */
export function signAdd(x: usize, votes: usize, width: i32): i32 {
  const zero = f32x4.splat(0);
  const body = width & ~3;
  let bad = zero;
  for (let k = 0; k < body; k += 4) {
    const off = <usize>k << 2;
    const v = v128.load(x + off);
    // The comparison masks are −1 where true: lt − gt is +1 for a positive value, −1 for a negative one.
    const step = i32x4.sub(f32x4.lt(v, zero), f32x4.gt(v, zero));
    v128.store(votes + off, i32x4.add(v128.load(votes + off), step));
    bad = v128.or(bad, f32x4.ne(f32x4.sub(v, v), zero));
  }
  let nonFinite = v128.any_true(bad) ? 1 : 0;
  for (let k = body; k < width; k++) {
    const off = <usize>k << 2;
    const v = load<f32>(x + off);
    store<i32>(votes + off, load<i32>(votes + off) + (v > 0 ? 1 : v < 0 ? -1 : 0));
    if (v - v != 0) nonFinite = 1;
  }
  return nonFinite;
}
