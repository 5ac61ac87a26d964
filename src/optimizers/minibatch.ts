import { readOptions, requireInteger } from '../core/options.js';
import type { RandomOptions } from '../core/random.js';
import { RobustAggError } from '../core/errors.js';
import { readArray, readCount, readRng, readState, resolveSavableRng, saveRng } from './estimator-state.js';
import { allIndices, checkGradient, drawWithoutReplacement, requireWorker } from './sampling.js';
import type { EstimatorState, GradientEstimator, WorkerOracle } from './types.js';

/** Options of {@link minibatch}. */
export interface MinibatchOptions extends RandomOptions {
  /** Samples per call: an integer ≥ 1, used as min(b, J). Default 50 (the Byrd-SAGA paper's BSGD). */
  batchSize?: number;
}

/**
 * Mini-batch stochastic gradient: each call draws b distinct local samples B uniformly and returns
 * (1/b) Σ_{j∈B} ∇f_j(x); the variance shrinks by about 1/b at b times the cost. This is BSGD in
 * Wu, Ling, Chen & Giannakis, "Federated variance-reduced stochastic gradient descent with
 * robustness to Byzantine attacks", IEEE TSP 2020 (batch 50, lr 0.5). b = J gives the full local
 * gradient. b gradient evaluations per call.
 *
 * @param worker - the worker's samples and oracle.
 * @param options - `batchSize` (default 50, capped at J), `seed` or `rng` (required).
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
 * const est = minibatch(worker, { batchSize: 2, seed: 1 });
 * console.log(est.next(Float32Array.of(0, 0))); // mean gradient of two distinct random rows
 * console.log(est.gradientEvaluations);          // 2
 * ```
 */
export function minibatch(worker: WorkerOracle, options: MinibatchOptions): GradientEstimator {
  const rule = 'minibatch';
  const o = readOptions<MinibatchOptions>(rule, options, ['batchSize', 'seed', 'rng']);
  const count = requireWorker(rule, worker);
  const batchSize = Math.min(requireInteger(rule, 'batchSize', o.batchSize ?? 50, 1), count);
  const rng = resolveSavableRng(o, rule);
  const scratch = allIndices(count);
  let evaluations = 0;
  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      const batch = batchSize === count ? allIndices(count) : drawWithoutReplacement(scratch, batchSize, rng);
      evaluations += batchSize;
      return checkGradient(rule, worker.gradient(params, batch), params.length);
    },
    get gradientEvaluations() {
      return evaluations;
    },
    // The draws permute `scratch` in place, so the permutation is part of the state.
    saveState: (): EstimatorState => ({ estimator: rule, rng: saveRng(rng, rule), order: Int32Array.from(scratch), evaluations }),
    loadState(state: EstimatorState): void {
      const s = readState(rule, state);
      const restoreRng = readRng(rng, s.rng, rule);
      const order = readArray(rule, s, 'order', Int32Array, count) as Int32Array;
      const seen = new Uint8Array(count);
      for (const j of order) {
        if (!(j >= 0 && j < count) || seen[j] === 1) throw new RobustAggError('INVALID_OPTION', `${rule}: the saved order is not a permutation of 0..${count - 1}`);
        seen[j] = 1;
      }
      const e = readCount(rule, s, 'evaluations');
      restoreRng();
      for (let i = 0; i < count; i++) scratch[i] = order[i];
      evaluations = e;
    },
  };
}
