import type { Rng } from '../core/random.js';

/**
 * A gradient oracle over one worker's local samples: the gradient of the mean loss over the samples
 * `indices` (local indices in [0, J)) at `params`, as a new `Float32Array` of the same length as
 * `params`: ∇(1/|B|) Σ_{j∈B} f_j(x). Estimators call it with one index for a per-sample gradient.
 *
 * @param params - the model parameters x (length d); the oracle must not modify them.
 * @param indices - the local sample indices B, each an integer in [0, J); may repeat.
 * @example
 * ```ts
 * import type { GradientOracle } from 'robust-agg';
 *
 * // Least squares on local rows a_j with targets b_j: ∇f_j(x) = (a_jᵀx − b_j) a_j.
 * const a = [[1, 0], [0, 1], [1, 1]];
 * const b = [1, 2, 3];
 * const gradient: GradientOracle = (x, indices) => {
 *   const g = new Float32Array(x.length);
 *   for (const j of indices) {
 *     let r = -b[j];
 *     for (let k = 0; k < x.length; k++) r += a[j][k] * x[k];
 *     for (let k = 0; k < x.length; k++) g[k] += (r * a[j][k]) / indices.length;
 *   }
 *   return g;
 * };
 * console.log(gradient(Float32Array.of(0, 0), [0, 1])); // (−0.5, −1)
 * ```
 */
export type GradientOracle = (params: Float32Array, indices: readonly number[]) => Float32Array;

/**
 * One honest worker as the optimizers see it: how many local samples it holds (J) and a
 * {@link GradientOracle} over them. `mlpOracle` and the TF.js `gradientOracle` build one.
 *
 * @example
 * ```ts
 * import { saga, type WorkerOracle } from 'robust-agg';
 *
 * // Least squares on four local rows a_j with targets b_j: ∇f_j(x) = (a_jᵀx − b_j) a_j.
 * const a = [[1, 0], [0, 1], [1, 1], [1, -1]];
 * const b = [1, 2, 3, -1];
 * const worker: WorkerOracle = {
 *   sampleCount: b.length,
 *   gradient: (x, indices) => {
 *     const g = new Float32Array(x.length);
 *     for (const j of indices) {
 *       const r = a[j][0] * x[0] + a[j][1] * x[1] - b[j];
 *       for (let k = 0; k < x.length; k++) g[k] += (r * a[j][k]) / indices.length;
 *     }
 *     return g;
 *   },
 * };
 * const estimator = saga(worker, { seed: 1 });
 * console.log(estimator.next(Float32Array.of(0, 0)));
 * ```
 */
export interface WorkerOracle {
  /** Number of local samples J; sample indices are 0..J−1. */
  readonly sampleCount: number;
  /** Mean gradient over the given local samples at the given parameters. */
  readonly gradient: GradientOracle;
}

/**
 * A per-worker gradient estimator: each call of `next(params)` returns the message the worker sends
 * at the current parameters and advances the estimator's own state (its sample draws, SAGA table,
 * SVRG snapshot or SARAH recursion). All state lives in the object; nothing is global.
 *
 * @example
 * ```ts
 * import { minibatch, type WorkerOracle } from 'robust-agg';
 *
 * // Least squares on four local rows a_j with targets b_j: ∇f_j(x) = (a_jᵀx − b_j) a_j.
 * const a = [[1, 0], [0, 1], [1, 1], [1, -1]];
 * const b = [1, 2, 3, -1];
 * const worker: WorkerOracle = {
 *   sampleCount: b.length,
 *   gradient: (x, indices) => {
 *     const g = new Float32Array(x.length);
 *     for (const j of indices) {
 *       const r = a[j][0] * x[0] + a[j][1] * x[1] - b[j];
 *       for (let k = 0; k < x.length; k++) g[k] += (r * a[j][k]) / indices.length;
 *     }
 *     return g;
 *   },
 * };
 * const est = minibatch(worker, { batchSize: 2, seed: 3 });
 * const params = Float32Array.of(0.5, 0.5);
 * console.log(est.next(params)); // the mean gradient of two random rows at params
 * console.log(est.next(params)); // another draw
 * console.log(est.gradientEvaluations); // 2 per call: 4
 * ```
 */
export interface GradientEstimator {
  /** The estimator's name, e.g. `'saga'`. */
  readonly name: string;
  /**
   * The message at `params` (a new array); advances the estimator's state.
   *
   * @param params - the current model parameters (length d); not modified.
   */
  next(params: Float32Array): Float32Array;
  /**
   * Optional: the same message as {@link GradientEstimator.next} (the same bits, the same state
   * change), written into `out` (length d) instead of a new array, so a training loop can keep one
   * buffer per worker. `trainRobust` uses it when present.
   *
   * @param params - the current model parameters (length d); not modified.
   * @param out - receives the message (length d); overwritten.
   */
  nextInto?(params: Float32Array, out: Float32Array): void;
  /** Per-sample gradients evaluated so far (the IFO count), for comparing estimators by cost. */
  readonly gradientEvaluations: number;
  /**
   * Optional: a copy of the estimator's whole state — its generator, tables, snapshots and counts —
   * from which {@link GradientEstimator.loadState} continues the same stream of messages, bit for
   * bit. Every estimator of the library has it; `trainRobust` uses it for `onCheckpoint`. Throws
   * `INVALID_OPTION` when the generator is not one robust-agg built from a seed (a caller's `rng`
   * cannot be read back).
   */
  saveState?(): EstimatorState;
  /**
   * Optional: continues from a state {@link GradientEstimator.saveState} returned, by an estimator
   * of the same kind over the same worker (same sample count, same d). The state is checked
   * whole before anything changes; a state of another kind or shape is `INVALID_OPTION`.
   *
   * @param state - a saved state (not modified; its arrays are copied).
   */
  loadState?(state: EstimatorState): void;
}

/**
 * What {@link GradientEstimator.saveState} returns: plain data — numbers, arrays and typed arrays —
 * that `structuredClone` and `node:v8`'s `serialize` copy exactly (JSON does not: it loses typed
 * arrays, NaN and −0). `estimator` names the kind; the other fields are the estimator's own.
 *
 * @example
 * ```ts
 * import { minibatch, type WorkerOracle } from 'robust-agg';
 *
 * const worker: WorkerOracle = {
 *   sampleCount: 100,
 *   gradient: (x, indices) => x.map((v) => v - indices.length / 10),
 * };
 * const a = minibatch(worker, { batchSize: 10, seed: 4 });
 * a.next(Float32Array.of(1));
 * const saved = structuredClone(a.saveState!());
 * const b = minibatch(worker, { batchSize: 10, seed: 99 });
 * b.loadState!(saved);
 * console.log(saved.estimator);        // 'minibatch'
 * console.log(b.gradientEvaluations); // 10, as a's
 * ```
 */
export interface EstimatorState {
  /** The estimator's name (`GradientEstimator.name`). */
  readonly estimator: string;
  /** The estimator's own fields. */
  readonly [field: string]: unknown;
}

/**
 * What {@link trainRobust} hands an estimator factory besides the worker: the worker's position in
 * `workers` and its own seeded generator (derived from the training seed, independent per worker).
 */
export interface EstimatorContext {
  /** Index of the worker in `workers`. */
  readonly index: number;
  /** The worker's own generator. */
  readonly rng: Rng;
}

/**
 * Builds the estimator of one worker, e.g. `(w, { rng }) => saga(w, { rng })`.
 *
 * @typeParam W - the worker type (a {@link WorkerOracle} or a richer oracle such as a
 * {@link FactoredGradientOracle}).
 * @param worker - the worker whose estimator to build.
 * @param context - the worker's index in `workers` and its own seeded generator.
 * @example
 * ```ts
 * import { createRng, minibatch, type EstimatorFactory, type WorkerOracle } from 'robust-agg';
 *
 * // Least squares on four local rows a_j with targets b_j: ∇f_j(x) = (a_jᵀx − b_j) a_j.
 * const a = [[1, 0], [0, 1], [1, 1], [1, -1]];
 * const b = [1, 2, 3, -1];
 * const worker: WorkerOracle = {
 *   sampleCount: b.length,
 *   gradient: (x, indices) => {
 *     const g = new Float32Array(x.length);
 *     for (const j of indices) {
 *       const r = a[j][0] * x[0] + a[j][1] * x[1] - b[j];
 *       for (let k = 0; k < x.length; k++) g[k] += (r * a[j][k]) / indices.length;
 *     }
 *     return g;
 *   },
 * };
 * const factory: EstimatorFactory = (w, { rng }) => minibatch(w, { batchSize: 2, rng });
 * const est = factory(worker, { index: 0, rng: createRng(1) }); // what trainRobust does per worker
 * console.log(est.name, est.next(Float32Array.of(0, 0)));
 * ```
 */
export type EstimatorFactory<W extends WorkerOracle = WorkerOracle> = (
  worker: W,
  context: EstimatorContext,
) => GradientEstimator;

/**
 * A per-sample gradient given in factored form, for SAGA tables that store c numbers per sample
 * instead of d: ∇f_j(x) = G_j(c_j(x)) where the code c_j has `codeSize` entries and G_j expands it
 * with the sample's own (fixed) data. For a generalised linear model ∇f_j(x) = ℓ'(a_jᵀx, b_j)·a_j,
 * the code is the scalar ℓ' and G_j(c) = c·a_j (codeSize 1); for a one-hidden-layer network the code
 * holds the two layers' back-propagated errors and the hidden activations.
 *
 * @example
 * ```ts
 * import { sagaFactored, type FactoredGradientOracle } from 'robust-agg';
 *
 * // Logistic regression, labels b_j ∈ {−1, +1}: ∇f_j(x) = −b_j σ(−b_j a_jᵀx) a_j.
 * const a = [[1, 0], [0, 1], [1, 1], [-1, 0.5]];
 * const b = [1, -1, 1, -1];
 * const dot = (u: number[], x: Float32Array): number => u[0] * x[0] + u[1] * x[1];
 * const coef = (x: Float32Array, j: number): number => -b[j] / (1 + Math.exp(b[j] * dot(a[j], x)));
 * const glm: FactoredGradientOracle = {
 *   sampleCount: a.length,
 *   gradient(x, indices) {
 *     const g = new Float32Array(x.length);
 *     for (const j of indices) for (let k = 0; k < x.length; k++) g[k] += (coef(x, j) * a[j][k]) / indices.length;
 *     return g;
 *   },
 *   codeSize: 1,
 *   code(x, j, out) { out[0] = coef(x, j); },
 *   addGradient(j, code, scale, out) { for (let k = 0; k < out.length; k++) out[k] += scale * code[0] * a[j][k]; },
 * };
 * const est = sagaFactored(glm, { seed: 1 }); // stores one number per sample
 * console.log(est.next(Float32Array.of(0, 0)));
 * ```
 */
export interface FactoredGradientOracle extends WorkerOracle {
  /** Entries c of one sample's code. */
  readonly codeSize: number;
  /**
   * Writes the code c_j(params) of local sample j into `out` (length `codeSize`).
   *
   * @param params - the model parameters x (length d); not modified.
   * @param j - the local sample index, an integer in [0, J).
   * @param out - receives the code (length `codeSize`); overwritten.
   */
  code(params: Float32Array, j: number, out: Float32Array): void;
  /**
   * Adds `scale`·G_j(code), the gradient the code stands for, to `out` (length d).
   *
   * @param j - the local sample index, an integer in [0, J).
   * @param code - a code of sample j, as written by `code` (length `codeSize`); not modified.
   * @param scale - the factor applied to the expanded gradient (finite; may be negative).
   * @param out - the float64 accumulator (length d) the scaled gradient is added to.
   */
  addGradient(j: number, code: Float32Array, scale: number, out: Float64Array): void;
  /**
   * Optional: where `addGradient(j, …)` may write, for any code — disjoint half-open ranges
   * [start, end) of coordinates written as pairs (start, end) into `out` (length
   * 2·{@link FactoredGradientOracle.supportRangeLimit}); returns how many ranges it wrote. With it,
   * {@link sagaFactored} touches only these coordinates per call instead of all d (for the
   * 784–50–10 network of `mlpOracle`: the kernel rows of the sample's lit pixels and the last
   * layers, ~8 000 of 39 760). `addGradient` must never write outside them.
   *
   * @param j - the local sample index, an integer in [0, J).
   * @param out - receives the ranges as (start, end) pairs (length 2·`supportRangeLimit`).
   */
  supportRanges?(j: number, out: Int32Array): number;
  /** The most ranges `supportRanges` writes for any sample (required with `supportRanges`). */
  readonly supportRangeLimit?: number;
}
