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
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   with n ≥ 1 and d ≥ 1 (read, not disposed).
 * @returns n new `Float32Array`s of length d, row i of `x` in each.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { krum } from 'robust-agg';
 * import { updatesFromTensor } from 'robust-agg/tfjs';
 *
 * // Five clients' gradients as tensors, stacked into an n × d tensor.
 * const clientGradients = [[1, -1], [1.1, -0.9], [0.9, -1.1], [1, -0.9], [30, 30]].map((g) => tf.tensor1d(g));
 * const stacked = tf.stack(clientGradients); // n × d
 * const out = krum(updatesFromTensor(stacked), { f: 1 });
 * console.log(out); // one honest client's gradient
 * tf.dispose([...clientGradients, stacked]);
 * ```
 */
export function updatesFromTensor(x: Tensor): Float32Array[] {
  const [n, d] = requireTensor2D(x, 'updatesFromTensor');
  const flat = x.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
