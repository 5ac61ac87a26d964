// Weighted combination and norms, accumulated in float64 with exactly the operations (and the
// order) of the plain TypeScript kernels, so both give the same bits.

/** acc[k] = ow · offset[k] (float64), or 0 when offset is 0, for k < width. */
export function accInit(acc: usize, offset: usize, ow: f64, width: i32): void {
  if (offset == 0) {
    memory.fill(acc, 0, <usize>width << 3);
    return;
  }
  const w = f64x2.splat(ow);
  let k = 0;
  for (; k + 2 <= width; k += 2) {
    const x = f64x2.promote_low_f32x4(v128.load64_zero(offset + (<usize>k << 2)));
    v128.store(acc + (<usize>k << 3), f64x2.mul(w, x));
  }
  for (; k < width; k++) store<f64>(acc + (<usize>k << 3), ow * <f64>load<f32>(offset + (<usize>k << 2)));
}

// @ts-ignore: decorator
@inline function lo64(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

// @ts-ignore: decorator
@inline function hi64(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
}

/**
 * acc[k] += w0·r0[k], then w1·r1[k], … for the first `taken` (1–4) of the four rows, k < width: the
 * float64 operations of the plain kernel, in its order, four rows per pass over acc in registers.
 * Shared by {@link accRows} and the pairs module's accRowsAt (rows read in place).
 */
// @ts-ignore: decorator
@inline export function addRows(acc: usize, r0: usize, r1: usize, r2: usize, r3: usize, w0: f64, w1: f64, w2: f64, w3: f64, taken: i32, width: i32): void {
  const v0 = f64x2.splat(w0), v1 = f64x2.splat(w1), v2 = f64x2.splat(w2), v3 = f64x2.splat(w3);
  let k = 0;
  if (taken == 4) {
    for (; k + 4 <= width; k += 4) {
      const off = <usize>k << 2;
      const p = acc + (<usize>k << 3);
      const x0 = v128.load(r0 + off), x1 = v128.load(r1 + off), x2 = v128.load(r2 + off), x3 = v128.load(r3 + off);
      let a = v128.load(p);
      let b = v128.load(p, 16);
      a = f64x2.add(a, f64x2.mul(v0, lo64(x0)));
      b = f64x2.add(b, f64x2.mul(v0, hi64(x0)));
      a = f64x2.add(a, f64x2.mul(v1, lo64(x1)));
      b = f64x2.add(b, f64x2.mul(v1, hi64(x1)));
      a = f64x2.add(a, f64x2.mul(v2, lo64(x2)));
      b = f64x2.add(b, f64x2.mul(v2, hi64(x2)));
      a = f64x2.add(a, f64x2.mul(v3, lo64(x3)));
      b = f64x2.add(b, f64x2.mul(v3, hi64(x3)));
      v128.store(p, a);
      v128.store(p, b, 16);
    }
  } else {
    for (; k + 4 <= width; k += 4) {
      const off = <usize>k << 2;
      const p = acc + (<usize>k << 3);
      let a = v128.load(p);
      let b = v128.load(p, 16);
      let x = v128.load(r0 + off);
      a = f64x2.add(a, f64x2.mul(v0, lo64(x)));
      b = f64x2.add(b, f64x2.mul(v0, hi64(x)));
      if (taken > 1) {
        x = v128.load(r1 + off);
        a = f64x2.add(a, f64x2.mul(v1, lo64(x)));
        b = f64x2.add(b, f64x2.mul(v1, hi64(x)));
      }
      if (taken > 2) {
        x = v128.load(r2 + off);
        a = f64x2.add(a, f64x2.mul(v2, lo64(x)));
        b = f64x2.add(b, f64x2.mul(v2, hi64(x)));
      }
      v128.store(p, a);
      v128.store(p, b, 16);
    }
  }
  for (; k < width; k++) {
    const p = acc + (<usize>k << 3);
    const off = <usize>k << 2;
    let s = load<f64>(p);
    s += w0 * <f64>load<f32>(r0 + off);
    if (taken > 1) s += w1 * <f64>load<f32>(r1 + off);
    if (taken > 2) s += w2 * <f64>load<f32>(r2 + off);
    if (taken > 3) s += w3 * <f64>load<f32>(r3 + off);
    store<f64>(p, s);
  }
}

/**
 * For each of `count` rows (float32, `stride` apart at `rows`) with a non-zero weight (float64 at
 * `weights`): acc[k] += w · row[k], k < width, one row after the other (the plain kernel's order).
 * Up to four rows are added per pass over acc, in registers but still one after the other, so
 * the float64 operations and their order are exactly the plain kernel's.
 */
export function accRows(acc: usize, rows: usize, count: i32, stride: i32, weights: usize, width: i32): void {
  const rowBytes = (<usize>stride) << 2;
  let i = 0;
  while (i < count) {
    // Gather up to four rows with non-zero weights.
    let taken = 0;
    let r0: usize = 0, r1: usize = 0, r2: usize = 0, r3: usize = 0;
    let w0: f64 = 0, w1: f64 = 0, w2: f64 = 0, w3: f64 = 0;
    while (i < count && taken < 4) {
      const wi = load<f64>(weights + (<usize>i << 3));
      const row = rows + <usize>i * rowBytes;
      i++;
      if (wi == 0) continue;
      if (taken == 0) { r0 = row; w0 = wi; }
      else if (taken == 1) { r1 = row; w1 = wi; }
      else if (taken == 2) { r2 = row; w2 = wi; }
      else { r3 = row; w3 = wi; }
      taken++;
    }
    if (taken == 0) break;
    addRows(acc, r0, r1, r2, r3, w0, w1, w2, w3, taken, width);
  }
}

/** True when x[0..width) holds only finite values: Σ (v − v) is 0 exactly then, NaN otherwise. */
export function allFinite(x: usize, width: i32): bool {
  let acc = f32x4.splat(0);
  let k = 0;
  for (; k + 16 <= width; k += 16) {
    const p = x + (<usize>k << 2);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const c = v128.load(p, 32);
    const d = v128.load(p, 48);
    acc = f32x4.add(acc, f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(d, d))));
  }
  for (; k + 4 <= width; k += 4) {
    const a = v128.load(x + (<usize>k << 2));
    acc = f32x4.add(acc, f32x4.sub(a, a));
  }
  let s: f32 = 0;
  for (; k < width; k++) {
    const v = load<f32>(x + (<usize>k << 2));
    s += v - v;
  }
  return s == 0 && v128.all_true<i32>(f32x4.eq(acc, f32x4.splat(0)));
}

/**
 * {@link accRows} that also checks every row (weight 0 included) for NaN/±Infinity in the same
 * pass; returns the number of rows found non-finite in this block (their sums are then garbage).
 */
export function accRowsChecked(acc: usize, rows: usize, count: i32, stride: i32, weights: usize, width: i32): i32 {
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const row = rows + ((<usize>i * <usize>stride) << 2);
    if (!allFinite(row, width)) bad++;
  }
  accRows(acc, rows, count, stride, weights, width);
  return bad;
}

/** out[k] = f32(acc[k]) for k < width: the single rounding to float32. */
export function accStore(acc: usize, out: usize, width: i32): void {
  let k = 0;
  for (; k + 4 <= width; k += 4) {
    const lo = f32x4.demote_f64x2_zero(v128.load(acc + (<usize>k << 3)));
    const hi = f32x4.demote_f64x2_zero(v128.load(acc + (<usize>k << 3), 16));
    v128.store(out + (<usize>k << 2), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; k < width; k++) store<f32>(out + (<usize>k << 2), <f32>load<f64>(acc + (<usize>k << 3)));
}

/**
 * Running sums of squares (or squared differences when b ≠ 0) in the plain kernel's order: two
 * float64 accumulators kept at `state` (16 bytes), one for even and one for odd positions. `width`
 * must be even except for the last block of a vector, whose odd last value joins the even sum.
 */
export function sumSquares(a: usize, b: usize, width: i32, state: usize): void {
  let s = v128.load(state);
  let k = 0;
  if (b == 0) {
    for (; k + 4 <= width; k += 4) {
      const x = v128.load(a + (<usize>k << 2));
      const lo = f64x2.promote_low_f32x4(x);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
      s = f64x2.add(s, f64x2.mul(lo, lo));
      s = f64x2.add(s, f64x2.mul(hi, hi));
    }
    for (; k + 2 <= width; k += 2) {
      const lo = f64x2.promote_low_f32x4(v128.load64_zero(a + (<usize>k << 2)));
      s = f64x2.add(s, f64x2.mul(lo, lo));
    }
    if (k < width) {
      const v = <f64>load<f32>(a + (<usize>k << 2));
      s = f64x2.replace_lane(s, 0, f64x2.extract_lane(s, 0) + v * v);
    }
  } else {
    for (; k + 4 <= width; k += 4) {
      const x = v128.load(a + (<usize>k << 2));
      const y = v128.load(b + (<usize>k << 2));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y));
      const hi = f64x2.sub(
        f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(v128.shuffle<f32>(y, y, 2, 3, 0, 1)),
      );
      s = f64x2.add(s, f64x2.mul(lo, lo));
      s = f64x2.add(s, f64x2.mul(hi, hi));
    }
    for (; k + 2 <= width; k += 2) {
      const lo = f64x2.sub(
        f64x2.promote_low_f32x4(v128.load64_zero(a + (<usize>k << 2))),
        f64x2.promote_low_f32x4(v128.load64_zero(b + (<usize>k << 2))),
      );
      s = f64x2.add(s, f64x2.mul(lo, lo));
    }
    if (k < width) {
      const v = <f64>load<f32>(a + (<usize>k << 2)) - <f64>load<f32>(b + (<usize>k << 2));
      s = f64x2.replace_lane(s, 0, f64x2.extract_lane(s, 0) + v * v);
    }
  }
  v128.store(state, s);
}
