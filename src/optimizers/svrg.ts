import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger } from '../core/options.js';
import type { RandomOptions, Rng } from '../core/random.js';
import { readCount, readVectorPair, readRng, readState, resolveSavableRng, saveRng } from './estimator-state.js';
import { allIndices, checkGradient, requireWorker } from './sampling.js';
import type { EstimatorState, GradientEstimator, WorkerOracle } from './types.js';

/** Options of {@link svrg}. */
export interface SvrgOptions extends RandomOptions {
  /** Calls between snapshots m: an integer ≥ 1. Default J (one local pass per epoch). */
  epochLength?: number;
}

/**
 * SVRG (Johnson & Zhang, "Accelerating stochastic gradient descent using predictive variance
 * reduction", NeurIPS 2013): every m calls take a snapshot x̃ ← x and its full local gradient
 * μ = ∇F(x̃); in between, draw j uniformly and return v = ∇f_j(x) − ∇f_j(x̃) + μ. Unbiased, with
 * variance → 0 as x and x̃ approach the optimum; memory 2d (x̃ and μ) instead of SAGA's J×d.
 * Cost: 2 gradient evaluations per call plus J per snapshot (the first call takes one).
 *
 * @param worker - the worker's samples and oracle.
 * @param options - `epochLength` m (default J), `seed` or `rng` (required).
 * @example
 * ```ts
 * import { svrg, type WorkerOracle } from 'robust-agg';
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
 * const est = svrg(worker, { epochLength: 4, seed: 1 });
 * const x = Float32Array.of(0.5, 0.5);
 * console.log(est.next(x)); // a snapshot call: the full gradient
 * console.log(est.gradientEvaluations);
 * ```
 */
export function svrg(worker: WorkerOracle, options: SvrgOptions): GradientEstimator {
  const rule = 'svrg';
  const o = readOptions<SvrgOptions>(rule, options, ['epochLength', 'seed', 'rng']);
  const count = requireWorker(rule, worker);
  const epochLength = requireInteger(rule, 'epochLength', o.epochLength ?? count, 1);
  const rng = resolveSavableRng(o, rule);
  return snapshotEstimator(rule, worker, count, rng, (call) => call % epochLength === 0);
}

/** Options of {@link looplessSvrg}. */
export interface LooplessSvrgOptions extends RandomOptions {
  /** Probability p ∈ (0, 1] of refreshing the snapshot after a call. Default 1/J. */
  probability?: number;
}

/**
 * Loopless SVRG (Kovalev, Horváth & Richtárik, "Don't jump through hoops and remove those loops:
 * SVRG and Katyusha are better without the outer loop", ALT 2020): the same message as
 * {@link svrg}, v = ∇f_j(x) − ∇f_j(x̃) + μ, but after each call the snapshot is refreshed with
 * probability p (x̃ ← the current x, μ ← ∇F(x̃)) instead of every m calls, so the expected epoch
 * length is 1/p and there is no outer loop. The first call always takes a snapshot.
 *
 * @param worker - the worker's samples and oracle.
 * @param options - `probability` p (default 1/J), `seed` or `rng` (required).
 * @example
 * ```ts
 * import { looplessSvrg, type WorkerOracle } from 'robust-agg';
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
 * const est = looplessSvrg(worker, { probability: 0.25, seed: 1 });
 * const x = Float32Array.of(0.5, 0.5);
 * console.log(est.next(x), est.next(x)); // unbiased estimates of the full gradient at x
 * ```
 */
export function looplessSvrg(worker: WorkerOracle, options: LooplessSvrgOptions): GradientEstimator {
  const rule = 'looplessSvrg';
  const o = readOptions<LooplessSvrgOptions>(rule, options, ['probability', 'seed', 'rng']);
  const count = requireWorker(rule, worker);
  const p = o.probability ?? 1 / count;
  if (typeof p !== 'number' || !(p > 0 && p <= 1)) {
    throw new RobustAggError('INVALID_OPTION', `looplessSvrg: probability must be in (0, 1], got ${describeValue(p)}`);
  }
  const rng = resolveSavableRng(o, rule);
  // The coin for "refresh after call t" is tossed at the start of call t+1, before the sample draw.
  return snapshotEstimator(rule, worker, count, rng, (call) => call === 0 || rng.next() < p);
}

/** SVRG's message with a snapshot policy: `refresh(call)` says whether call `call` takes one. */
function snapshotEstimator(
  rule: string,
  worker: WorkerOracle,
  count: number,
  rng: Rng,
  refresh: (call: number) => boolean,
): GradientEstimator {
  const all = allIndices(count);
  let snapshot: Float32Array | null = null;
  let full: Float32Array | null = null;
  let calls = 0;
  let evaluations = 0;
  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      const d = params.length;
      if (refresh(calls) || snapshot === null || snapshot.length !== d) {
        snapshot = Float32Array.from(params);
        full = checkGradient(rule, worker.gradient(snapshot, all), d);
        evaluations += count;
      }
      calls++;
      const j = rng.nextInt(count);
      const g = checkGradient(rule, worker.gradient(params, [j]), d);
      const gs = checkGradient(rule, worker.gradient(snapshot, [j]), d);
      evaluations += 2;
      const mu = full as Float32Array;
      const message = new Float32Array(d);
      for (let k = 0; k < d; k++) message[k] = g[k] - gs[k] + mu[k];
      return message;
    },
    get gradientEvaluations() {
      return evaluations;
    },
    saveState: (): EstimatorState => ({
      estimator: rule,
      rng: saveRng(rng, rule),
      snapshot: snapshot === null ? null : snapshot.slice(),
      full: full === null ? null : full.slice(),
      calls,
      evaluations,
    }),
    loadState(state: EstimatorState): void {
      const s = readState(rule, state);
      const restoreRng = readRng(rng, s.rng, rule);
      const pair = readVectorPair(rule, s, 'snapshot', 'full');
      const c = readCount(rule, s, 'calls');
      const e = readCount(rule, s, 'evaluations');
      restoreRng();
      [snapshot, full] = pair ?? [null, null];
      calls = c;
      evaluations = e;
    },
  };
}
