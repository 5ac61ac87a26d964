import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RobustAggError } from '../core/errors.js';
import type { Layout } from '../core/layout.js';
import { describeValue, readOptions } from '../core/options.js';
import { isFloat32Array } from '../core/updates.js';
import type { WorkerOracle } from '../optimizers/types.js';
import { assignWeights, flattenWeights, modelWeights } from './weights.js';

/**
 * A loss of a batch: mean over the batch of the per-sample loss, e.g. `tf.losses.softmaxCrossEntropy`.
 *
 * @param labels - the batch's targets, `ys` rows of the batch.
 * @param predictions - the model's outputs on the batch's inputs.
 * @returns the batch-mean loss, a scalar.
 */
export type TensorLoss = (labels: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;

/** A worker's local data: inputs and targets with the sample along the first axis. */
export interface TensorData {
  /** Inputs, shape [J, …]. Owned by the caller (never disposed here). */
  readonly xs: tf.Tensor;
  /** Targets, shape [J, …]. Owned by the caller (never disposed here). */
  readonly ys: tf.Tensor;
}

/** Options of {@link gradientOracle}. */
export interface GradientOracleOptions {
  /** Run the model in training mode (dropout, batch statistics), as `fit` does. A boolean; default true. */
  training?: boolean;
}

/** Throws `INVALID_OPTION` unless `t` is a live tensor of rank ≥ 1. */
function requireDataTensor(rule: string, name: string, t: unknown): tf.Tensor {
  if (!(t instanceof tf.Tensor)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: data.${name} must be a tf.Tensor, got ${describeValue(t)}`);
  }
  if (t.isDisposed) throw new RobustAggError('INVALID_OPTION', `${rule}: data.${name} is a disposed tensor`);
  if (t.rank < 1) throw new RobustAggError('INVALID_OPTION', `${rule}: data.${name} needs a sample axis (rank ≥ 1), got a scalar`);
  return t;
}

/**
 * A {@link WorkerOracle} over a TF.js model, with flat gradients in the order of
 * {@link flattenWeights}. Non-trainable segments (batch-norm statistics) get gradient 0.
 */
export interface TensorGradientOracle extends WorkerOracle {
  /** The model's layout (as `flattenWeights(model).layout`). */
  readonly layout: Layout;
  /**
   * Mean gradient of the loss over the samples `indices` at `params` (written into the model first).
   *
   * @param params - the model's flat weights, as {@link flattenWeights} orders them: a
   *   `Float32Array` of the model's total size.
   * @param indices - the samples of the batch: a non-empty array of integers in [0, J − 1].
   * @returns the flat gradient, a new `Float32Array` of the model's size (0 on non-trainable
   *   segments).
   */
  gradient(params: Float32Array, indices: readonly number[]): Float32Array;
  /**
   * One gradient per sample of `indices` at `params`.
   *
   * @param params - the model's flat weights, as {@link flattenWeights} orders them.
   * @param indices - the samples: a non-empty array of integers in [0, J − 1].
   * @returns one new flat `Float32Array` gradient per entry of `indices`, in order.
   */
  perSample(params: Float32Array, indices: readonly number[]): Float32Array[];
}

/**
 * Gradient oracle of a TF.js LayersModel on local data: `gradient(x, B)` writes x into the model
 * ({@link assignWeights}), then returns ∇ loss(ys[B], model(xs[B])) with respect to the trainable
 * weights, flattened as in {@link flattenWeights}; `perSample(x, B)` returns ∇f_j(x) for each j ∈ B.
 * The result plugs into every estimator (`sgd`, `minibatch`, `saga`, `svrg`, `sarah`) and into
 * `trainRobust`. Side effect: the model holds `x` afterwards. Every call runs in `tf.tidy` and reads
 * the gradients with `dataSync`, so `tf.memory().numTensors` is unchanged after it.
 *
 * Bad arguments throw a `RobustAggError`: a non-model or disposed model, a loss that is not a
 * function, `xs` / `ys` that are not live tensors with the same non-zero number of samples, options
 * that are not an object or hold unknown keys; at call time, params that are not a `Float32Array`
 * of the model's size, indices that are not a non-empty array of sample indices, disposed data.
 *
 * @param model - the network (shared by all workers built on it; calls are sequential).
 * @param loss - a batch-mean loss `(labels, predictions) => Scalar`.
 * @param data - the worker's `xs` and `ys` tensors.
 * @param options - `training` (default true).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { minibatch } from 'robust-agg';
 * import { flattenWeights, gradientOracle } from 'robust-agg/tfjs';
 *
 * const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 })] });
 * // The worker's local data: 64 samples of 4 features, 3 classes (one-hot).
 * const xs = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
 * const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, j) => j % 3), 'int32'), 3);
 * const loss = (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p) as tf.Scalar;
 * const worker = gradientOracle(model, loss, { xs, ys });
 *
 * const params = flattenWeights(model).flat;
 * const g = worker.gradient(params, [0, 1, 2]);    // mean gradient over samples 0, 1, 2
 * console.log(worker.sampleCount, g.length);       // 64 15
 * const est = minibatch(worker, { batchSize: 32, seed: 1 });
 * console.log(est.next(params).length);            // a worker's message: 15 values
 * ```
 */
export function gradientOracle(
  model: LayersModel,
  loss: TensorLoss,
  data: TensorData,
  options?: GradientOracleOptions,
): TensorGradientOracle {
  const rule = 'gradientOracle';
  modelWeights(rule, model);
  if (typeof loss !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: loss must be a function (labels, predictions) => Scalar, got ${describeValue(loss)}`);
  }
  if (data === null || typeof data !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: data must be an object { xs, ys } of tensors, got ${describeValue(data)}`);
  }
  const xs = requireDataTensor(rule, 'xs', data.xs);
  const ys = requireDataTensor(rule, 'ys', data.ys);
  const sampleCount = xs.shape[0];
  if (ys.shape[0] !== sampleCount || !(sampleCount > 0)) {
    throw new RobustAggError(
      'LENGTH_MISMATCH',
      `${rule}: xs and ys need the same non-zero number of samples along axis 0, got ${xs.shape[0]} and ${ys.shape[0]}`,
    );
  }
  const o = readOptions(rule, options, ['training']);
  if (o.training !== undefined && typeof o.training !== 'boolean') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: training must be a boolean, got ${describeValue(o.training)}`);
  }
  const training = o.training ?? true;
  const { layout, flat } = flattenWeights(model);
  const d = flat.length;

  const checkCall = (params: Float32Array, indices: readonly number[]): void => {
    if (!isFloat32Array(params) || params.length !== d) {
      const got = isFloat32Array(params) ? `length ${params.length}` : describeValue(params);
      throw new RobustAggError('LENGTH_MISMATCH', `${rule}: params must be a Float32Array of length ${d}, got ${got}`);
    }
    if (!Array.isArray(indices) || indices.length === 0) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: indices must be an array of at least one sample index, got ${Array.isArray(indices) ? 'an empty array' : describeValue(indices)}`,
      );
    }
    for (const j of indices) {
      if (!Number.isInteger(j) || j < 0 || j >= sampleCount) {
        throw new RobustAggError('INVALID_OPTION', `${rule}: sample index ${describeValue(j)} is outside [0, ${sampleCount})`);
      }
    }
    if (xs.isDisposed || ys.isDisposed) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: the oracle's data.${xs.isDisposed ? 'xs' : 'ys'} was disposed`);
    }
  };

  /** Gradient at the model's current weights, flat. */
  const batchGradient = (indices: readonly number[]): Float32Array => {
    const weights = model.weights;
    const out = new Float32Array(d);
    tf.tidy(() => {
      const idx = tf.tensor1d(Array.from(indices), 'int32');
      const x = tf.gather(xs, idx);
      const y = tf.gather(ys, idx);
      const vars = weights.filter((w) => w.trainable).map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => {
        const predictions = model.apply(x, { training }) as tf.Tensor;
        return loss(y, predictions);
      }, vars);
      weights.forEach((w, i) => {
        if (!w.trainable) return;
        const g = grads[(w.read() as tf.Variable).name];
        if (g !== undefined) out.set(g.dataSync() as Float32Array, layout[i].offset);
      });
    });
    return out;
  };

  return {
    sampleCount,
    layout,
    gradient(params, indices) {
      checkCall(params, indices);
      assignWeights(model, params);
      return batchGradient(indices);
    },
    perSample(params, indices) {
      checkCall(params, indices);
      assignWeights(model, params);
      return indices.map((j) => batchGradient([j]));
    },
  };
}
