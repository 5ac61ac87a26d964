import { describeValue, readOptions, requireInteger } from '../core/options.js';
import { RobustAggError } from '../core/errors.js';
import type { RandomOptions } from '../core/random.js';
import { readCount, readVectorPair, readRng, readState, resolveSavableRng, saveRng } from './estimator-state.js';
import { allIndices, checkGradient, requireWorker } from './sampling.js';
import type { EstimatorState, GradientEstimator, WorkerOracle } from './types.js';

/** Options of {@link sarah}. */
export interface SarahOptions extends RandomOptions {
  /** Longest inner loop m (calls between restarts): an integer in [1, 2³²]. Default J. */
  epochLength?: number;
  /**
   * Draw each inner loop's length uniformly from {1, …, m} (true) or use m every time (false).
   * Default true.
   */
  randomRestart?: boolean;
}

/**
 * SARAH, the recursive gradient estimator (Nguyen, Liu, Scheinberg & Takáč, "SARAH: a novel method
 * for machine learning problems using stochastic recursive gradient", ICML 2017): a restart sends the
 * full local gradient v = ∇F(x); every other call draws j uniformly and sends
 * v ← ∇f_j(x) − ∇f_j(x_prev) + v, where x_prev is the point of the previous call. Biased but with
 * variance that shrinks along the trajectory; memory 2d.
 *
 * Restarts: SARAH's outer loop restarts from an inner iterate chosen uniformly at random; in a
 * federated loop the server owns x, so the equivalent used here is a random restart interval — each
 * inner loop lasts L calls with L uniform in {1, …, m} (`randomRestart: false` fixes L = m).
 * Cost: 2 gradient evaluations per inner call, J per restart.
 *
 * @param worker - the worker's samples and oracle.
 * @param options - `epochLength` m (default J), `randomRestart` (default true), `seed` or `rng` (required).
 * @example
 * ```ts
 * import { sarah, type WorkerOracle } from 'robust-agg';
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
 * const est = sarah(worker, { epochLength: 4, seed: 1 });
 * const x = Float32Array.of(0.5, 0.5);
 * console.log(est.next(x)); // the first call of an epoch is the full gradient
 * console.log(est.next(x)); // then the recursive estimate
 * ```
 */
export function sarah(worker: WorkerOracle, options: SarahOptions): GradientEstimator {
  const rule = 'sarah';
  const o = readOptions<SarahOptions>(rule, options, ['epochLength', 'randomRestart', 'seed', 'rng']);
  const count = requireWorker(rule, worker);
  const epochLength = requireInteger(rule, 'epochLength', o.epochLength ?? count, 1, 2 ** 32);
  const randomRestart = o.randomRestart ?? true;
  if (typeof randomRestart !== 'boolean') {
    throw new RobustAggError('INVALID_OPTION', `sarah: randomRestart must be true or false, got ${describeValue(randomRestart)}`);
  }
  const rng = resolveSavableRng(o, rule);
  const all = allIndices(count);
  let previous: Float32Array | null = null;
  let estimate: Float32Array | null = null;
  let remaining = 0; // inner calls left before the next restart
  let evaluations = 0;
  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      const d = params.length;
      if (remaining === 0 || previous === null || estimate === null || previous.length !== d) {
        estimate = Float32Array.from(checkGradient(rule, worker.gradient(params, all), d));
        evaluations += count;
        remaining = randomRestart ? 1 + rng.nextInt(epochLength) : epochLength;
        remaining--; // the restart call itself counts as the loop's first call
      } else {
        const j = rng.nextInt(count);
        const g = checkGradient(rule, worker.gradient(params, [j]), d);
        const gp = checkGradient(rule, worker.gradient(previous, [j]), d);
        evaluations += 2;
        const v = estimate;
        for (let k = 0; k < d; k++) v[k] = g[k] - gp[k] + v[k];
        remaining--;
      }
      previous = Float32Array.from(params);
      return Float32Array.from(estimate);
    },
    get gradientEvaluations() {
      return evaluations;
    },
    saveState: (): EstimatorState => ({
      estimator: rule,
      rng: saveRng(rng, rule),
      previous: previous === null ? null : previous.slice(),
      estimate: estimate === null ? null : estimate.slice(),
      remaining,
      evaluations,
    }),
    loadState(state: EstimatorState): void {
      const s = readState(rule, state);
      const restoreRng = readRng(rng, s.rng, rule);
      const pair = readVectorPair(rule, s, 'previous', 'estimate');
      const left = readCount(rule, s, 'remaining', 0, 2 ** 32);
      const e = readCount(rule, s, 'evaluations');
      restoreRng();
      [previous, estimate] = pair ?? [null, null];
      remaining = left;
      evaluations = e;
    },
  };
}
