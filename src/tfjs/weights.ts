import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RobustAggError } from '../core/errors.js';
import type { Layout, LayoutSegment, SegmentKind } from '../core/layout.js';
import { describeValue } from '../core/options.js';
import { isFloat32Array } from '../core/updates.js';

/** What the adapters use of a TF.js `LayerVariable`. */
type ModelWeight = LayersModel['weights'][number];

/**
 * The weights of `model` (`model.weights`) after checking that it is a live TF.js LayersModel:
 * an object whose `weights` is an array of layer variables (a name, a shape, a dtype, `read()`),
 * none of them disposed. Throws `INVALID_OPTION` naming `rule` otherwise.
 *
 * @internal
 */
export function modelWeights(rule: string, model: unknown): ModelWeight[] {
  if (model === null || typeof model !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: model must be a tf.LayersModel, got ${describeValue(model)}`);
  }
  let weights: unknown;
  try {
    weights = (model as { weights?: unknown }).weights;
  } catch {
    throw new RobustAggError('INVALID_OPTION', `${rule}: model.weights could not be read (not a tf.LayersModel?)`);
  }
  if (!Array.isArray(weights)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: model must be a tf.LayersModel (an object with a weights array), got weights = ${describeValue(weights)}`,
    );
  }
  weights.forEach((w: unknown, i) => {
    const v = w as Partial<ModelWeight> | null;
    if (
      v === null ||
      typeof v !== 'object' ||
      typeof v.read !== 'function' ||
      typeof v.name !== 'string' ||
      !Array.isArray(v.shape) ||
      !v.shape.every((s) => Number.isInteger(s) && (s as number) >= 0)
    ) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: model.weights[${i}] is not a layer variable (name, shape, read())`);
    }
    let value: unknown;
    try {
      value = v.read();
    } catch {
      value = null;
    }
    if (!(value instanceof tf.Tensor) || value.isDisposed) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: weight ${v.name} is disposed (was the model disposed?)`);
    }
  });
  return weights as ModelWeight[];
}

/** A model's weights as one flat vector and the {@link Layout} that names its ranges. */
export interface FlatWeights {
  /** All weights of `model.weights`, concatenated in order (trainable and not). */
  readonly flat: Float32Array;
  /** Name, shape, offset, size, trainability and kind of every weight. */
  readonly layout: Layout;
}

/**
 * What a TF.js weight holds, from the last part of its name: `kernel` (also `depthwise_kernel`,
 * `pointwise_kernel`, `recurrent_kernel`, `embeddings`), `bias`, batch-norm `gamma` / `beta`, the
 * batch-norm moving statistics, or `'other'`.
 */
function kindOf(name: string): SegmentKind {
  const last = name.split('/').pop()?.replace(/_\d+$/, '') ?? '';
  if (/(^|_)kernel$/.test(last) || last === 'embeddings') return 'kernel';
  if (last === 'bias') return 'bias';
  if (last === 'gamma') return 'batchnorm-gamma';
  if (last === 'beta') return 'batchnorm-beta';
  if (last === 'moving_mean' || last === 'moving_variance') return 'batchnorm-statistic';
  return 'other';
}

/**
 * Flattens a TF.js LayersModel's weights (`model.weights`: the trainable ones, then the non-trainable)
 * into one `Float32Array` with its {@link Layout}: segment i is
 * `flat.subarray(layout[i].offset, layout[i].offset + layout[i].size)`, row-major in the weight's
 * shape. Reads each weight once (`dataSync`); creates no tensors, so `tf.memory().numTensors` is
 * unchanged. Anything but a live LayersModel (`{}`, null, a disposed model) throws
 * `INVALID_OPTION`; a weight of another dtype than float32 throws `UNSUPPORTED`.
 *
 * @param model - a live tf.LayersModel (built: its weights exist); read, not changed.
 * @returns the flat vector (a new `Float32Array` of the total size) and its layout.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { flattenWeights } from 'robust-agg/tfjs';
 *
 * const model = tfl.sequential({
 *   layers: [tfl.layers.dense({ inputShape: [4], units: 3 }), tfl.layers.batchNormalization(), tfl.layers.dense({ units: 2 })],
 * });
 * const before = tf.memory().numTensors;
 * const { flat, layout } = flattenWeights(model);
 * console.log(flat.length); // 4·3 + 3, then 4 × 3 (gamma, beta, moving mean and variance), then 3·2 + 2: 35
 * console.log(layout.map((s) => `${s.name} ${s.kind} [${s.shape}]${s.trainable ? '' : ' (not trainable)'}`));
 * console.log(tf.memory().numTensors === before); // true: no tensor created
 * ```
 */
export function flattenWeights(model: LayersModel): FlatWeights {
  const weights = modelWeights('flattenWeights', model);
  const layout: LayoutSegment[] = [];
  let offset = 0;
  for (const w of weights) {
    if (w.dtype !== 'float32') {
      throw new RobustAggError('UNSUPPORTED', `flattenWeights: weight ${w.name} has dtype ${w.dtype}; only float32 weights flatten`);
    }
    const shape = [...w.shape] as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    layout.push({ name: w.name, shape, offset, size, trainable: w.trainable, kind: kindOf(w.name) });
    offset += size;
  }
  const flat = new Float32Array(offset);
  weights.forEach((w, i) => flat.set(w.read().dataSync() as Float32Array, layout[i].offset));
  return { flat, layout };
}

/**
 * Writes a flat vector back into a LayersModel's weights, in the order and sizes of
 * `flattenWeights(model).layout` (the inverse of {@link flattenWeights}). Weight constraints of
 * the layers apply, as in any TF.js weight update. Temporary tensors are disposed; the count of
 * live tensors is unchanged.
 *
 * @param model - the model to update in place (a live tf.LayersModel, else `INVALID_OPTION`).
 * @param flat - a `Float32Array` (from any realm) of d finite values, d = the total size of
 *   `model.weights` (else `LENGTH_MISMATCH`; NaN or ±Infinity: `NON_FINITE_UPDATE`, nothing written).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { geometricMedian } from 'robust-agg';
 * import { assignWeights, flattenWeights } from 'robust-agg/tfjs';
 *
 * // Four clients' local models, same architecture, different weights; aggregate them robustly.
 * const build = () => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
 * const clients = [build(), build(), build(), build()];
 * const globalModel = build();
 * const models = clients.map((c) => flattenWeights(c).flat);
 * assignWeights(globalModel, geometricMedian(models));
 * console.log(flattenWeights(globalModel).flat); // the geometric median of the four weight vectors
 * ```
 */
export function assignWeights(model: LayersModel, flat: Float32Array): void {
  const weights = modelWeights('assignWeights', model);
  const total = weights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
  if (!isFloat32Array(flat) || flat.length !== total) {
    const got = isFloat32Array(flat) ? `a Float32Array of length ${flat.length}` : describeValue(flat);
    throw new RobustAggError('LENGTH_MISMATCH', `assignWeights: the model has ${total} weights, got ${got}`);
  }
  for (let k = 0; k < flat.length; k++) {
    if (!Number.isFinite(flat[k])) {
      throw new RobustAggError('NON_FINITE_UPDATE', `assignWeights: the vector holds ${flat[k]} at index ${k}; nothing was written`);
    }
  }
  tf.tidy(() => {
    let offset = 0;
    for (const w of weights) {
      const shape = [...w.shape] as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      w.write(tf.tensor(flat.subarray(offset, offset + size), shape, 'float32'));
      offset += size;
    }
  });
}
