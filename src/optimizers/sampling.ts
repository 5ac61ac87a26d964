import { RobustAggError } from '../core/errors.js';
import { requireInteger } from '../core/options.js';
import type { Rng } from '../core/random.js';
import type { WorkerOracle } from './types.js';

/** Checks a worker handed to an estimator and returns its sample count J. */
export function requireWorker(rule: string, worker: WorkerOracle): number {
  if (worker === null || typeof worker !== 'object' || typeof worker.gradient !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: worker must have a gradient(params, indices) function`);
  }
  return requireInteger(rule, 'worker.sampleCount', worker.sampleCount, 1);
}

/** The list 0..J−1 (the indices of a full local pass). */
export function allIndices(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Draws b distinct indices of [0, J) uniformly (a partial Fisher–Yates shuffle of a scratch
 * permutation the caller keeps, so no allocation per draw). Any prior order of `scratch` is fine.
 */
export function drawWithoutReplacement(scratch: number[], b: number, rng: Rng): number[] {
  const count = scratch.length;
  for (let i = 0; i < b; i++) {
    const j = i + rng.nextInt(count - i);
    const t = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = t;
  }
  return scratch.slice(0, b);
}

/** Checks that an oracle returned a vector of the parameters' length. */
export function checkGradient(rule: string, g: Float32Array, d: number): Float32Array {
  if (!(g instanceof Float32Array) || g.length !== d) {
    const got = g instanceof Float32Array ? `length ${g.length}` : String(g);
    throw new RobustAggError('INVALID_OPTION', `${rule}: the gradient oracle must return a Float32Array of length ${d}, got ${got}`);
  }
  return g;
}

/** Smallest normal float32; below it values are subnormal, and every later pass over them slows ~100×. */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Rounds a float64 value to float32, flushing would-be subnormals to 0. One comparison of |v|: the
 * two-sided test −m < v < m mispredicts a branch on every sign change and made this ~3× slower.
 */
export function flushToFloat32(v: number): number {
  return Math.abs(v) < FLOAT32_MIN_NORMAL ? 0 : v;
}

/** out[k] = x[k] rounded to float32 for k in [from, to), would-be subnormals flushed to 0. */
export function flushInto(x: Float64Array, out: Float32Array, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const v = x[k];
    out[k] = Math.abs(v) < FLOAT32_MIN_NORMAL ? 0 : v;
  }
}
