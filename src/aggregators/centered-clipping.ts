import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, requireInteger, requireNumber, requireVector, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { allEqual, normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { combine } from '../kernels/combine.js';
import { squaredDistance } from '../kernels/norms.js';

/** Options of {@link centeredClipping}. */
export interface CenteredClippingOptions extends CommonOptions {
  /** Clipping radius τ: a finite number > 0. Default 10 (the Blades benchmark suite's default). */
  tau?: number;
  /**
   * Number of clipping iterations L: an integer in [1, 100] (each costs two passes over the data;
   * the cap keeps a call from running for minutes). Default 5 (Blades' default; the paper's
   * analysis uses L = 1).
   */
  iterations?: number;
  /**
   * The starting point v₀, typically the previous round's aggregate or server momentum: a finite
   * `Float32Array` of length d. Passed explicitly: the rule keeps no state between calls. Default:
   * the zero vector.
   */
  center?: Float32Array;
  /**
   * One weight per client (e.g. local sample counts): an array-like of n finite numbers ≥ 0, not
   * all 0 over the finite clients, read once; clients dropped as non-finite lose theirs, the rest
   * are normalised to wᵢ summing to 1 (as {@link mean} does). Each iteration is then
   * v ← v + Σᵢ wᵢ·clip_τ(xᵢ − v) (see {@link centeredClipping}). Default: equal weights
   * (wᵢ = 1/n). Equal weights give the unweighted result, bit for bit.
   */
  weights?: ArrayLike<number>;
}

/** The largest `iterations` {@link centeredClipping} accepts. */
export const CENTERED_CLIPPING_MAX_ITERATIONS = 100;

/** Decision of {@link centeredClipping}. */
export interface CenteredClippingDecision extends Decision {
  /** Output = centerWeight·v₀ + Σ weightsᵢ xᵢ. */
  readonly weights: Float64Array;
  /** Coefficient of the centre v₀ in the output. */
  readonly centerWeight: number;
  /** min(1, τ/‖xᵢ − v‖) of each client in the last iteration (0 for dropped clients). */
  readonly clipFactors: Float64Array;
  /**
   * The normalised client weights wᵢ applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Centered clipping (Karimireddy, He & Jaggi, "Learning from history for Byzantine robust
 * optimization", ICML 2021): starting from the given centre v₀, L times
 * v ← v + (1/n) Σᵢ (xᵢ − v)·min(1, τ/‖xᵢ − v‖).
 * Each iteration is one pass for the distances and one combine pass; with the default L = 5 this is
 * cheaper than a Gram matrix once n > 20, so the rule works on the data directly. Every iterate is
 * a convex combination of v₀ and the clients, so the output is finite and within their range.
 *
 * **Client weights** (`weights`, normalised to wᵢ over the finite clients): each iteration is
 * v ← v + Σᵢ wᵢ·clip_τ(xᵢ − v), clip_τ(y) = y·min(1, τ/‖y‖): the 1/n of the paper's update
 * replaced by FedAvg's weights (McMahan et al., AISTATS 2017). The paper states the unweighted
 * rule only: this weighted form is robust-agg's generalisation (equal weights give the paper's
 * rule). Every iterate is still a convex combination of v₀ and the clients.
 *
 * **Weight liars.** A client moves v by at most wᵢ·τ per iteration (τ/n unweighted), so clients
 * holding the weight fraction b move the output by at most L·b·τ from where the others would
 * put it; one client that claims nearly all the weight moves v by nearly τ per iteration towards
 * its update. Cap or verify sample counts before passing them.
 *
 * Options: τ > 0 finite (default 10), iterations ∈ [1, 100] (default 5), center (finite, length d;
 * default 0), weights, nonFinite; unknown keys throw `UNKNOWN_OPTION`.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CenteredClippingOptions}: `tau` (radius, finite > 0; default 10),
 *   `iterations` (an integer in [1, 100]; default 5), `center` (v₀, finite, length d; default 0),
 *   `weights` (one finite weight ≥ 0 per client; default equal), `nonFinite` (default `'drop'`).
 * @returns the last iterate v_L, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { centeredClipping } from 'robust-agg';
 *
 * // Each round starts from the previous round's aggregate (the server's momentum, kept by the caller).
 * let center: Float32Array = new Float32Array(3);
 * for (let round = 0; round < 3; round++) {
 *   const updates = [
 *     Float32Array.of(1.0, -1.0, 0.5),
 *     Float32Array.of(1.1, -0.9, 0.4),
 *     Float32Array.of(0.9, -1.1, 0.6),
 *     Float32Array.of(100, 100, 100), // an attacker: it pulls by at most τ/n per iteration
 *   ];
 *   center = centeredClipping(updates, { tau: 1, iterations: 1, center });
 *   console.log(round, center);
 * }
 *
 * // Sample counts: v ← v + Σ wᵢ clip_τ(xᵢ − v). A client claiming 97 of 100 samples moves v by up to 0.97·τ.
 * const updates = [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(50, 50)];
 * console.log(centeredClipping(updates, { tau: 1, iterations: 1, weights: [2, 1, 97] }));
 * ```
 */
export function centeredClipping(updates: Updates, options?: CenteredClippingOptions): Float32Array {
  return centeredClippingWithDecision(updates, options).aggregate;
}

/**
 * {@link centeredClipping} together with its {@link CenteredClippingDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CenteredClippingOptions}: `tau` (radius, finite > 0; default 10),
 *   `iterations` (an integer in [1, 100]; default 5), `center` (v₀, finite, length d; default 0),
 *   `weights` (one finite weight ≥ 0 per client; default equal), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { centeredClippingWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(0.2, 0), Float32Array.of(0, 0.3), Float32Array.of(40, 30)];
 * const { decision } = centeredClippingWithDecision(updates, { tau: 0.5, iterations: 1 });
 * console.log(decision.clipFactors); // [1, 1, 0.01]: only the far client (‖x‖ = 50) was clipped
 * console.log(decision.centerWeight, decision.weights); // output = centerWeight·v₀ + Σ wᵢ xᵢ
 *
 * const weighted = centeredClippingWithDecision(updates, { tau: 0.5, iterations: 1, weights: [1, 1, 2] });
 * console.log(weighted.decision.clientWeights); // [0.25, 0.25, 0.5]
 * ```
 */
export function centeredClippingWithDecision(
  updates: Updates,
  options?: CenteredClippingOptions,
): Aggregation<CenteredClippingDecision> {
  const rule = 'centeredClipping';
  const opts = readOptions(rule, options, ['tau', 'iterations', 'center', 'weights', 'nonFinite']);
  const tau = requireNumber(rule, 'tau', opts.tau ?? 10, 0, Infinity, true);
  const iterations = requireInteger(rule, 'iterations', opts.iterations ?? 5, 1, CENTERED_CLIPPING_MAX_ITERATIONS);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { rows, d } = clients;
  const center = opts.center === undefined ? new Float32Array(d) : requireVector(rule, 'center', opts.center, d);
  const m = rows.length;
  const given = opts.weights === undefined ? null : readClientWeights(rule, opts.weights, clients.n);
  const normalised = given === null ? null : normalisedClientWeights(rule, given, clients.index);
  // Equal weights are the unweighted rule (its exact operations: c_k/m).
  const w = normalised === null || allEqual(normalised) ? null : normalised;
  // v = centerWeight·v₀ + Σ a_k x_k throughout; each step v ← (1 − Σc/m)·v + Σ (c_k/m)·x_k
  // (with weights: c_k·w_k instead of c_k/m).
  let v: Float32Array = Float32Array.from(center);
  let centerWeight = 1;
  const a = new Float64Array(m);
  const clip = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    let kept = 0;
    for (let k = 0; k < m; k++) {
      const dist = Math.sqrt(squaredDistance(rows[k], v));
      clip[k] = dist <= tau ? 1 : tau / dist;
      kept += w === null ? clip[k] / m : clip[k] * w[k];
    }
    const step = new Float64Array(m);
    for (let k = 0; k < m; k++) step[k] = w === null ? clip[k] / m : clip[k] * w[k];
    v = combine(rows, step, v, 1 - kept);
    centerWeight *= 1 - kept;
    for (let k = 0; k < m; k++) a[k] = (1 - kept) * a[k] + step[k];
  }
  return {
    aggregate: v,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(a, clients),
      centerWeight,
      clipFactors: weightsOverInput(clip, clients),
      ...(normalised === null ? {} : { clientWeights: weightsOverInput(normalised, clients) }),
    },
  };
}
