// Pairwise statistics of one new row against rows already held, in float64: for the aggregation
// rounds (src/server/pair-table.ts), which compute them as updates arrive so that close() only
// decides. Float32 values are promoted to float64 before any arithmetic: a product of two float32
// values is exact in float64, and no finite float32 input can overflow (|x|² ≤ 1.2e77) or
// underflow (|x|² ≥ 2e-90) there, so no scaling is needed whatever a client sends.

import { addRows } from './combine';

// @ts-ignore: decorator
@inline function lo64(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

// @ts-ignore: decorator
@inline function hi64(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
}

/**
 * For j < count: out[2j] += Σₖ x[k]·rⱼ[k] and out[2j + 1] += Σₖ (x[k] − rⱼ[k])², k < width, with
 * rⱼ = rows + j·stride bytes (float32), sums in float64 (two lanes, then low + high lane, then
 * the tail in order). Called per block of columns, so `x` stays in L1 while the rows stream past.
 */
export function pairsBlock(x: usize, rows: usize, stride: usize, count: i32, width: i32, out: usize): void {
  const body = width & ~3;
  for (let j = 0; j < count; j++) {
    const r = rows + <usize>j * stride;
    let dot0 = f64x2.splat(0), dot1 = f64x2.splat(0);
    let dist0 = f64x2.splat(0), dist1 = f64x2.splat(0);
    for (let k = 0; k < body; k += 4) {
      const off = <usize>k << 2;
      const a = v128.load(x + off);
      const b = v128.load(r + off);
      const al = lo64(a), ah = hi64(a), bl = lo64(b), bh = hi64(b);
      dot0 = f64x2.add(dot0, f64x2.mul(al, bl));
      dot1 = f64x2.add(dot1, f64x2.mul(ah, bh));
      const el = f64x2.sub(al, bl), eh = f64x2.sub(ah, bh);
      dist0 = f64x2.add(dist0, f64x2.mul(el, el));
      dist1 = f64x2.add(dist1, f64x2.mul(eh, eh));
    }
    const dv = f64x2.add(dot0, dot1);
    const ev = f64x2.add(dist0, dist1);
    let dot = f64x2.extract_lane(dv, 0) + f64x2.extract_lane(dv, 1);
    let dist = f64x2.extract_lane(ev, 0) + f64x2.extract_lane(ev, 1);
    for (let k = body; k < width; k++) {
      const a = <f64>load<f32>(x + (<usize>k << 2));
      const b = <f64>load<f32>(r + (<usize>k << 2));
      dot += a * b;
      const e = a - b;
      dist += e * e;
    }
    const o = out + (<usize>j << 4);
    store<f64>(o, load<f64>(o) + dot);
    store<f64>(o + 8, load<f64>(o + 8) + dist);
  }
}

// Float32 kernels for ordinary rows (largest magnitude in [2⁻⁴⁰, 2⁴⁰], or zero): products and
// differences in f32x4 lanes, 64 steps (256 columns) per lane in float32, then added into float64.
// Every value is at most 2⁴⁰, so a product or squared difference is at most 2⁸² and a lane's sum
// at most 2⁸⁸ (no overflow), and a squared distance is a sum of non-negative terms each rounded
// twice, so its relative error is about 66·2⁻²⁴ of the distance itself. The caller uses the
// float64 kernels above for any pair with a row outside that range.

/** Columns per float32 stretch: 64 steps of four lanes. */
const CHUNK: i32 = 256;

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  const l = f64x2.promote_low_f32x4(v);
  const h = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const s = f64x2.add(l, h);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** Float32 counterpart of pairsBlock (same output layout). */
export function pairsBlockF(x: usize, rows: usize, stride: usize, count: i32, width: i32, out: usize): void {
  const body = width & ~3;
  for (let j = 0; j < count; j++) {
    const r = rows + <usize>j * stride;
    let dot: f64 = 0, dist: f64 = 0;
    for (let c0 = 0; c0 < body; c0 += CHUNK) {
      const c1 = min(body, c0 + CHUNK);
      let p = f32x4.splat(0), s = f32x4.splat(0);
      for (let k = c0; k < c1; k += 4) {
        const off = <usize>k << 2;
        const a = v128.load(x + off);
        const b = v128.load(r + off);
        p = f32x4.add(p, f32x4.mul(a, b));
        const e = f32x4.sub(a, b);
        s = f32x4.add(s, f32x4.mul(e, e));
      }
      dot += hsum(p);
      dist += hsum(s);
    }
    for (let k = body; k < width; k++) {
      const a = <f64>load<f32>(x + (<usize>k << 2));
      const b = <f64>load<f32>(r + (<usize>k << 2));
      dot += a * b;
      const e = a - b;
      dist += e * e;
    }
    const o = out + (<usize>j << 4);
    store<f64>(o, load<f64>(o) + dot);
    store<f64>(o + 8, load<f64>(o + 8) + dist);
  }
}

/**
 * pairsBlockF for four new rows at once (x + a·xstride bytes, a < 4): each held row's block is read
 * once for the four, which is what makes pairing four arrivals per pass cheaper than one at a time
 * (the held rows stream from memory). For j < count and a < 4: out[8j + 2a] += ⟨xₐ, rⱼ⟩,
 * out[8j + 2a + 1] += ‖xₐ − rⱼ‖², each pair summed in the same order as pairsBlockF, so a pair gets
 * the same bits from either kernel.
 */
export function pairsBlock4F(x: usize, xstride: usize, rows: usize, stride: usize, count: i32, width: i32, out: usize): void {
  const body = width & ~3;
  const x0 = x, x1 = x + xstride, x2 = x + 2 * xstride, x3 = x + 3 * xstride;
  for (let j = 0; j < count; j++) {
    const r = rows + <usize>j * stride;
    let d0: f64 = 0, d1: f64 = 0, d2: f64 = 0, d3: f64 = 0;
    let e0: f64 = 0, e1: f64 = 0, e2: f64 = 0, e3: f64 = 0;
    for (let c0 = 0; c0 < body; c0 += CHUNK) {
      const c1 = min(body, c0 + CHUNK);
      let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = c0; k < c1; k += 4) {
        const off = <usize>k << 2;
        const b = v128.load(r + off);
        let a = v128.load(x0 + off);
        p0 = f32x4.add(p0, f32x4.mul(a, b));
        let e = f32x4.sub(a, b);
        s0 = f32x4.add(s0, f32x4.mul(e, e));
        a = v128.load(x1 + off);
        p1 = f32x4.add(p1, f32x4.mul(a, b));
        e = f32x4.sub(a, b);
        s1 = f32x4.add(s1, f32x4.mul(e, e));
        a = v128.load(x2 + off);
        p2 = f32x4.add(p2, f32x4.mul(a, b));
        e = f32x4.sub(a, b);
        s2 = f32x4.add(s2, f32x4.mul(e, e));
        a = v128.load(x3 + off);
        p3 = f32x4.add(p3, f32x4.mul(a, b));
        e = f32x4.sub(a, b);
        s3 = f32x4.add(s3, f32x4.mul(e, e));
      }
      d0 += hsum(p0); d1 += hsum(p1); d2 += hsum(p2); d3 += hsum(p3);
      e0 += hsum(s0); e1 += hsum(s1); e2 += hsum(s2); e3 += hsum(s3);
    }
    const o = out + (<usize>j << 6);
    tail(o, x0, r, body, width, d0, e0);
    tail(o + 16, x1, r, body, width, d1, e1);
    tail(o + 32, x2, r, body, width, d2, e2);
    tail(o + 48, x3, r, body, width, d3, e3);
  }
}

/** Adds the tail columns to one pair's sums and those into out[0] (dot) and out[1] (squared distance). */
// @ts-ignore: decorator
@inline function tail(o: usize, x: usize, r: usize, body: i32, width: i32, dot: f64, dist: f64): void {
  for (let k = body; k < width; k++) {
    const a = <f64>load<f32>(x + (<usize>k << 2));
    const b = <f64>load<f32>(r + (<usize>k << 2));
    dot += a * b;
    const e = a - b;
    dist += e * e;
  }
  store<f64>(o, load<f64>(o) + dot);
  store<f64>(o + 8, load<f64>(o + 8) + dist);
}

/**
 * The weighted sum of held rows for a round's close (src/server/pair-table.ts, `combine`), read in
 * place: for i < count, acc[k] += w[i] · row_i[k] (k < width), row_i = load<u32>(ptrs + 4i) + col
 * bytes (float32), w[i] = load<f64>(weights + 8i), one row after the other, with the combine
 * module's own addRows, so the float64 operations and their order are exactly those of its accRows
 * (and of the plain kernel). The caller passes only rows with a non-zero weight.
 */
export function accRowsAt(acc: usize, ptrs: usize, weights: usize, count: i32, col: usize, width: i32): void {
  for (let i = 0; i < count; i += 4) {
    const taken = min(4, count - i);
    const r0 = <usize>load<u32>(ptrs + (<usize>i << 2)) + col;
    const r1 = taken > 1 ? <usize>load<u32>(ptrs + (<usize>(i + 1) << 2)) + col : r0;
    const r2 = taken > 2 ? <usize>load<u32>(ptrs + (<usize>(i + 2) << 2)) + col : r0;
    const r3 = taken > 3 ? <usize>load<u32>(ptrs + (<usize>(i + 3) << 2)) + col : r0;
    const w0 = load<f64>(weights + (<usize>i << 3));
    const w1 = taken > 1 ? load<f64>(weights + (<usize>(i + 1) << 3)) : 0;
    const w2 = taken > 2 ? load<f64>(weights + (<usize>(i + 2) << 3)) : 0;
    const w3 = taken > 3 ? load<f64>(weights + (<usize>(i + 3) << 3)) : 0;
    addRows(acc, r0, r1, r2, r3, w0, w1, w2, w3, taken, width);
  }
}

/** The largest |x[k]|, k < width (a finite row: no NaN). For a new row's float32 or float64 pairing. */
export function maxAbs(x: usize, width: i32): f32 {
  let m = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= width; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + (<usize>k << 2))));
  let s = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; k < width; k++) s = max(s, abs(load<f32>(x + (<usize>k << 2))));
  return s;
}
