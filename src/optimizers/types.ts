import type { Rng } from '../core/random.js';

/**
 * A gradient oracle over one worker's local samples: the gradient of the mean loss over the samples
 * `indices` (local indices in [0, J)) at `params`, as a new `Float32Array` of the same length as
 * `params`: ∇(1/|B|) Σ_{j∈B} f_j(x). Estimators call it with one index for a per-sample gradient.
 *
 * @example
 * ```ts
 * // Least squares on local rows a_j with targets b_j: ∇f_j(x) = (a_jᵀx − b_j) a_j.
 * const gradient: GradientOracle = (x, indices) => {
 *   const g = new Float32Array(x.length);
 *   for (const j of indices) {
 *     let r = -b[j];
 *     for (let k = 0; k < x.length; k++) r += a[j][k] * x[k];
 *     for (let k = 0; k < x.length; k++) g[k] += (r * a[j][k]) / indices.length;
 *   }
 *   return g;
 * };
 * ```
 */
export type GradientOracle = (params: Float32Array, indices: readonly number[]) => Float32Array;

/**
 * One honest worker as the optimizers see it: how many local samples it holds (J) and a
 * {@link GradientOracle} over them. `mlpOracle` and the TF.js `gradientOracle` build one.
 *
 * @example
 * ```ts
 * const worker: WorkerOracle = { sampleCount: b.length, gradient };
 * const estimator = saga(worker, { seed: 1 });
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
 * const est = minibatch(worker, { batchSize: 50, seed: 3 });
 * const message = est.next(params);
 * est.gradientEvaluations; // 50 per call
 * ```
 */
export interface GradientEstimator {
  /** The estimator's name, e.g. `'saga'`. */
  readonly name: string;
  /** The message at `params` (a new array); advances the estimator's state. */
  next(params: Float32Array): Float32Array;
  /**
   * Optional: the same message as {@link GradientEstimator.next} (the same bits, the same state
   * change), written into `out` (length d) instead of a new array, so a training loop can keep one
   * buffer per worker. `trainRobust` uses it when present.
   */
  nextInto?(params: Float32Array, out: Float32Array): void;
  /** Per-sample gradients evaluated so far (the IFO count), for comparing estimators by cost. */
  readonly gradientEvaluations: number;
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
 * @example
 * ```ts
 * const factory: EstimatorFactory = (w, { rng }) => minibatch(w, { batchSize: 50, rng });
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
 * // Logistic regression, labels b_j ∈ {−1, +1}: ∇f_j(x) = −b_j σ(−b_j a_jᵀx) a_j.
 * const glm: FactoredGradientOracle = {
 *   sampleCount: a.length, gradient, codeSize: 1,
 *   code(x, j, out) { out[0] = -b[j] / (1 + Math.exp(b[j] * dot(a[j], x))); },
 *   addGradient(j, code, scale, out) { for (let k = 0; k < out.length; k++) out[k] += scale * code[0] * a[j][k]; },
 * };
 * ```
 */
export interface FactoredGradientOracle extends WorkerOracle {
  /** Entries c of one sample's code. */
  readonly codeSize: number;
  /** Writes the code c_j(params) of local sample j into `out` (length `codeSize`). */
  code(params: Float32Array, j: number, out: Float32Array): void;
  /** Adds `scale`·G_j(code), the gradient the code stands for, to `out` (length d). */
  addGradient(j: number, code: Float32Array, scale: number, out: Float64Array): void;
  /**
   * Optional: where `addGradient(j, …)` may write, for any code — disjoint half-open ranges
   * [start, end) of coordinates written as pairs (start, end) into `out` (length
   * 2·{@link FactoredGradientOracle.supportRangeLimit}); returns how many ranges it wrote. With it,
   * {@link sagaFactored} touches only these coordinates per call instead of all d (for the
   * 784–50–10 network of `mlpOracle`: the kernel rows of the sample's lit pixels and the last
   * layers, ~8 000 of 39 760). `addGradient` must never write outside them.
   */
  supportRanges?(j: number, out: Int32Array): number;
  /** The most ranges `supportRanges` writes for any sample (required with `supportRanges`). */
  readonly supportRangeLimit?: number;
}
