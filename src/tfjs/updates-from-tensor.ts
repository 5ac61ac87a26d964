import type { Tensor } from '@tensorflow/tfjs-core';
import { requireTensor2D } from './tensor-kernels.js';

/**
 * Splits an n×d tensor of client updates (one row per client) into the `Float32Array[]` every
 * robust-agg rule takes. Reads the tensor once (`dataSync`); does not dispose it.
 *
 * The tensor must be a live (not disposed) rank-2 float32 tensor with n ≥ 1 and d ≥ 1; otherwise a
 * `RobustAggError` says what is wrong (`INVALID_OPTION`, `NOT_FLOAT32` — cast with `tf.cast` —,
 * `EMPTY_UPDATES`, `EMPTY_VECTOR`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { updatesFromTensor } from 'robust-agg/tfjs';
 * import { krum } from 'robust-agg';
 * const stacked = tf.stack(clientGradients); // n × d
 * const out = krum(updatesFromTensor(stacked), { f: 1 });
 * ```
 */
export function updatesFromTensor(x: Tensor): Float32Array[] {
  const [n, d] = requireTensor2D(x, 'updatesFromTensor');
  const flat = x.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
