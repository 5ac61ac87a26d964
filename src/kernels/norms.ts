import { kernelConfig, pickWorkspace } from './wasm/config.js';
import { combineKernels } from './wasm/instance.js';
import { sumSquaresWasm } from './wasm/workspace.js';

/**
 * ‖x‖² in float64. From 2¹⁶ values on (backend 'auto') the WebAssembly kernel runs, with the plain
 * kernel's operations in its order (same bits).
 */
export function squaredNorm(x: Float32Array): number {
  const ws = pickWorkspace(combineKernels, x.length, kernelConfig.minNormLength);
  return ws !== null && x.length > 0 ? sumSquaresWasm(ws, x, null) : squaredNormPlain(x);
}

/** ‖x‖² in float64: the plain TypeScript kernel (two interleaved accumulators). */
export function squaredNormPlain(x: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  const n = x.length;
  for (; i + 2 <= n; i += 2) {
    s0 += x[i] * x[i];
    s1 += x[i + 1] * x[i + 1];
  }
  if (i < n) s0 += x[i] * x[i];
  return s0 + s1;
}

/**
 * ‖a − b‖² in float64. From 2¹⁶ values on (backend 'auto') the WebAssembly kernel runs, with the
 * plain kernel's operations in its order (same bits).
 */
export function squaredDistance(a: Float32Array, b: Float32Array): number {
  const ws = pickWorkspace(combineKernels, a.length, kernelConfig.minNormLength);
  return ws !== null && a.length > 0 ? sumSquaresWasm(ws, a, b) : squaredDistancePlain(a, b);
}

/** ‖a − b‖² in float64: the plain TypeScript kernel. */
export function squaredDistancePlain(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  const n = a.length;
  for (; i + 2 <= n; i += 2) {
    const u = a[i] - b[i];
    const v = a[i + 1] - b[i + 1];
    s0 += u * u;
    s1 += v * v;
  }
  if (i < n) {
    const u = a[i] - b[i];
    s0 += u * u;
  }
  return s0 + s1;
}

/** Euclidean norm of every row, in float64 (each by {@link squaredNorm}). */
export function rowNorms(rows: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = Math.sqrt(squaredNorm(rows[i]));
  return out;
}

/** Euclidean norm of every row, in float64: the plain TypeScript kernel. */
export function rowNormsPlain(rows: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = Math.sqrt(squaredNormPlain(rows[i]));
  return out;
}

/** A copy of x scaled by s (float64 product, rounded once). */
export function scaled(x: Float32Array, s: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * s;
  return out;
}
