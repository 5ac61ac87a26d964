import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { combine } from '../kernels/combine.js';
import { rowNorms } from '../kernels/norms.js';

/** Largest `maxNorm` and `sigma` {@link normClippingDp} accepts (10³⁰): the output then stays far inside float32. */
export const NORM_CLIPPING_DP_MAX_SCALE = 1e30;

/** Options of {@link normClippingDp}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface NormClippingDpOptions extends CommonOptions, RandomOptions {
  /** The norm bound M every update is clipped to: a finite number in (0, 10³⁰]. Required. */
  maxNorm: number;
  /**
   * Standard deviation σ of the Gaussian noise added to every coordinate of the average: a finite
   * number in [0, 10³⁰]. Required (0: norm clipping alone). With σ > 0 pass `seed` or `rng`.
   * Sun et al. use σ = 0.025 for their "weak" differential privacy on EMNIST.
   */
  sigma: number;
  /**
   * One weight per client (sample counts, FedAvg's pᵢ): an array-like of n finite numbers ≥ 0, not
   * all 0 over the finite clients, normalised to sum to 1 over them. Default: equal weights.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link normClippingDp}. */
export interface NormClippingDpDecision extends Decision {
  /** The weight of each client in the noiseless average: pᵢ·min(1, M/‖xᵢ‖) (0 for dropped ones). */
  readonly weights: Float64Array;
  /** min(1, M/‖xᵢ‖) for each client (0 for dropped ones). */
  readonly clipFactors: Float64Array;
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Norm clipping with weak differential privacy (Sun, Kairouz, Suresh & McMahan, "Can you really
 * backdoor federated learning?", 2019): every update is clipped to norm M, the clipped updates are
 * averaged and Gaussian noise is added,
 *
 *   out = Σᵢ pᵢ · xᵢ · min(1, M/‖xᵢ‖) + N(0, σ² I).
 *
 * Clipping bounds what any client (a boosted model-replacement update included) contributes, to
 * pᵢ·M; the noise, too small for a formal privacy guarantee, further dampens backdoors. Without
 * noise (σ = 0) this is `pipeline(clipping, mean)`. No client is rejected.
 *
 * Guarantee, whatever finite values the clients send: the noiseless average has norm ≤ M (a convex
 * combination of vectors of norm ≤ M); norms are float64. Non-finite clients are dropped with their
 * weight. The noise comes from the library's seeded generator (σ > 0 without `seed` or `rng`
 * throws: a fixed default seed would repeat the same noise every round).
 *
 * Cost: one norm pass, one combine pass, d Gaussian draws.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see {@link NormClippingDpOptions}: `maxNorm` (required, M in (0, 10³⁰]),
 *   `sigma` (required, in [0, 10³⁰]), `seed` or `rng` (required when σ > 0), `weights` (default
 *   equal), `nonFinite` (default `'drop'`).
 * @returns the noisy average of the clipped updates, a new `Float32Array` of length d.
 * @category Aggregators
 * @example
 * ```ts
 * import { normClippingDp } from 'robust-agg';
 *
 * // A boosted model-replacement update (norm 50) among two honest ones.
 * const updates = [Float32Array.of(0.3, 0.4), Float32Array.of(0.4, 0.3), Float32Array.of(-30, 40)];
 * console.log(normClippingDp(updates, { maxNorm: 1, sigma: 0 }));             // [0.0333…, 0.5]
 * console.log(normClippingDp(updates, { maxNorm: 1, sigma: 0.025, seed: 7 })); // the same, plus noise
 * ```
 */
export function normClippingDp(updates: Updates, options: NormClippingDpOptions): Float32Array {
  return normClippingDpWithDecision(updates, options).aggregate;
}

/**
 * {@link normClippingDp} together with its {@link NormClippingDpDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see {@link NormClippingDpOptions}: `maxNorm` (required, M in (0, 10³⁰]),
 *   `sigma` (required, in [0, 10³⁰]), `seed` or `rng` (required when σ > 0), `weights` (default
 *   equal), `nonFinite` (default `'drop'`).
 * @category Aggregators
 * @example
 * ```ts
 * import { normClippingDpWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(3, 4), Float32Array.of(0.5, 0)];
 * const { decision } = normClippingDpWithDecision(updates, { maxNorm: 1, sigma: 0, weights: [1, 3] });
 * console.log(decision.clipFactors); // [0.2, 1]
 * console.log(decision.weights);     // [0.05, 0.75]: pᵢ · min(1, M/‖xᵢ‖)
 * ```
 */
export function normClippingDpWithDecision(updates: Updates, options: NormClippingDpOptions): Aggregation<NormClippingDpDecision> {
  const rule = 'normClippingDp';
  const { opts, maxNorm, sigma } = readNormClippingDpOptions(rule, options);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { rows } = clients;
  const given = opts.weights === undefined ? undefined : readClientWeights(rule, opts.weights, clients.n);
  const rng = sigma > 0 || opts.seed !== undefined || opts.rng !== undefined ? resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule) : null;
  const p = given === undefined ? new Float64Array(rows.length).fill(1 / rows.length) : normalisedClientWeights(rule, given, clients.index);
  const norms = rowNorms(rows);
  const clip = normClipFactors(norms, maxNorm);
  const w = Float64Array.from(p, (pi, i) => pi * clip[i]);
  const out = combine(rows, w);
  if (rng !== null && sigma > 0) for (let k = 0; k < out.length; k++) out[k] += sigma * rng.gaussian();
  return {
    aggregate: out,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(w, clients),
      clipFactors: weightsOverInput(clip, clients),
      ...(given === undefined ? {} : { clientWeights: weightsOverInput(p, clients) }),
    },
  };
}

/**
 * normClippingDp's options object read, maxNorm and sigma checked. Shared by normClippingDp and
 * the sharded coordinator.
 *
 * @internal
 */
export function readNormClippingDpOptions(
  rule: string,
  options: NormClippingDpOptions | undefined,
): { opts: Readonly<Partial<NormClippingDpOptions>>; maxNorm: number; sigma: number } {
  const opts = readOptions(rule, options, ['maxNorm', 'sigma', 'weights', 'seed', 'rng', 'nonFinite']);
  const maxNorm = requireNumber(rule, 'maxNorm', opts.maxNorm as number, 0, NORM_CLIPPING_DP_MAX_SCALE);
  if (maxNorm === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: maxNorm must be a finite number in (0, ${NORM_CLIPPING_DP_MAX_SCALE}], got 0`);
  }
  const sigma = requireNumber(rule, 'sigma', opts.sigma as number, 0, NORM_CLIPPING_DP_MAX_SCALE);
  return { opts, maxNorm, sigma };
}

/**
 * min(1, M/‖xᵢ‖) per client from the norms. Shared by normClippingDp and the sharded coordinator.
 *
 * @internal
 */
export function normClipFactors(norms: Float64Array, maxNorm: number): Float64Array {
  return Float64Array.from(norms, (v) => (v > maxNorm ? maxNorm / v : 1));
}
