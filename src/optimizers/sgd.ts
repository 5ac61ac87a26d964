import { readOptions } from '../core/options.js';
import type { RandomOptions } from '../core/random.js';
import { readCount, readRng, readState, resolveSavableRng, saveRng } from './estimator-state.js';
import { checkGradient, requireWorker } from './sampling.js';
import type { EstimatorState, GradientEstimator, WorkerOracle } from './types.js';

/** Options of {@link sgd}: the randomness of the sample draws. */
export type SgdOptions = RandomOptions;

/**
 * Plain stochastic gradient: each call draws one local sample j uniformly (with replacement across
 * calls) and returns ∇f_j(x). Unbiased, E‖∇f_j − ∇F‖² is the full sampling variance: the estimator
 * the Byrd-SAGA paper (Wu, Ling, Chen & Giannakis, "Federated variance-reduced stochastic gradient
 * descent with robustness to Byzantine attacks", IEEE TSP 2020) calls SGD (there with lr 0.1).
 * One gradient evaluation per call.
 *
 * @param worker - the worker's samples and oracle.
 * @param options - `seed` or `rng` (required; nothing uses Math.random). A wrong generator, a
 *   non-finite seed, null options or an unknown key throw a `RobustAggError`.
 * @example
 * ```ts
 * import { sgd, type WorkerOracle } from 'robust-agg';
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
 * const est = sgd(worker, { seed: 1 });
 * console.log(est.next(Float32Array.of(0, 0))); // the gradient of one random row at x = 0
 * console.log(est.gradientEvaluations);          // 1
 * ```
 */
export function sgd(worker: WorkerOracle, options: SgdOptions): GradientEstimator {
  const rule = 'sgd';
  const o = readOptions<SgdOptions>(rule, options, ['seed', 'rng']);
  const count = requireWorker(rule, worker);
  const rng = resolveSavableRng(o, rule);
  let evaluations = 0;
  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      const j = rng.nextInt(count);
      evaluations++;
      return checkGradient(rule, worker.gradient(params, [j]), params.length);
    },
    get gradientEvaluations() {
      return evaluations;
    },
    saveState: (): EstimatorState => ({ estimator: rule, rng: saveRng(rng, rule), evaluations }),
    loadState(state: EstimatorState): void {
      const s = readState(rule, state);
      const restoreRng = readRng(rng, s.rng, rule);
      const e = readCount(rule, s, 'evaluations');
      restoreRng();
      evaluations = e;
    },
  };
}
