import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, indicesOverInput, requireNonFinitePolicy, weightsOverInput } from '../core/finite-clients.js';
import { RobustAggError } from '../core/errors.js';
import { readOptions, requireVector, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { isFiniteVector } from '../kernels/finite.js';
import { combine } from '../kernels/combine.js';
import { dotsAndSquaredNorms } from '../kernels/lp-distances.js';
import { squaredNorm } from '../kernels/norms.js';

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Options of {@link fltrust}. */
export interface FltrustOptions extends CommonOptions {
  /**
   * The server's own update g₀ for this round, computed on its small clean root data set: a finite
   * `Float32Array` of length d with ‖g₀‖ ≤ 3.4028234663852886e38 (the largest float32; the output's
   * norm is at most ‖g₀‖, so it always fits). Required: FLTrust's trust comes from it.
   */
  serverUpdate: Float32Array;
}

/** Decision of {@link fltrust}. */
export interface FltrustDecision extends Decision {
  /** Clients with a positive trust score (ascending). */
  readonly selected: readonly number[];
  /** Output = Σ wᵢ xᵢ with wᵢ = TSᵢ·(‖g₀‖/‖xᵢ‖)/Σⱼ TSⱼ (0 for untrusted and dropped clients). */
  readonly weights: Float64Array;
  /** Trust score TSᵢ = max(0, cos(xᵢ, g₀)) of each client (0 for dropped and zero-norm clients). */
  readonly trustScores: Float64Array;
  /** Σᵢ TSᵢ; when it is 0 no client is trusted and the output is the zero vector. */
  readonly totalTrust: number;
}

/**
 * FLTrust (Cao, Fang, Liu & Gong, "FLTrust: Byzantine-robust federated learning via trust
 * bootstrapping", NDSS 2021): with the server's reference update g₀,
 * TSᵢ = ReLU(cos(xᵢ, g₀)), each update rescaled to ‖g₀‖, out = Σᵢ TSᵢ·(‖g₀‖/‖xᵢ‖)·xᵢ / Σᵢ TSᵢ.
 * Clients pointing away from g₀ get no weight; no client can contribute more than ‖g₀‖ in norm.
 * Needs no f.
 *
 * Conventions: a zero-norm client has no direction and gets trust 0. When no client has positive
 * trust (Σ TS = 0, e.g. every update opposes g₀, or g₀ = 0) the output is the zero vector — the
 * server does not move; the decision reports `totalTrust: 0`.
 *
 * Options: serverUpdate (required; finite, length d, ‖g₀‖ ≤ 3.4028234663852886e38), nonFinite;
 * unknown keys throw `UNKNOWN_OPTION`. The output is finite whatever finite values the clients send.
 *
 * Cost: one pass for the n inner products with g₀ and the norms (float64 products and sums; a
 * WebAssembly f64x2 kernel with the plain loop's bits from n·d = 2¹⁶ on), which is also the
 * finiteness check (a client with NaN or ±∞ costs one more check pass), one combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link FltrustOptions}: `serverUpdate` (required: the server's update g₀,
 *   finite, length d), `nonFinite` (default `'drop'`).
 * @returns a new `Float32Array` of length d, of norm at most ‖g₀‖.
 * @example
 * ```ts
 * import { fltrust } from 'robust-agg';
 *
 * // g₀: the server's update on its own small clean data set (here written out, d = 2).
 * const serverUpdate = Float32Array.of(1, 1);
 * const updates = [
 *   Float32Array.of(2, 1.5),    // agrees with g₀: trusted, rescaled to ‖g₀‖
 *   Float32Array.of(0.9, 1.2),  // agrees with g₀: trusted
 *   Float32Array.of(-50, -40),  // opposes g₀: trust 0
 * ];
 * console.log(fltrust(updates, { serverUpdate }));
 * ```
 */
export function fltrust(updates: Updates, options: FltrustOptions): Float32Array {
  return fltrustWithDecision(updates, options).aggregate;
}

/**
 * {@link fltrust} together with its {@link FltrustDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link FltrustOptions}: `serverUpdate` (required: the server's update g₀,
 *   finite, length d), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { fltrustWithDecision } from 'robust-agg';
 *
 * const serverUpdate = Float32Array.of(1, 0);
 * const updates = [Float32Array.of(3, 0), Float32Array.of(1, 1), Float32Array.of(-5, 1)];
 * const { decision } = fltrustWithDecision(updates, { serverUpdate });
 * console.log(decision.trustScores); // ReLU(cos(xᵢ, g₀)): [1, 0.707…, 0]
 * console.log(decision.selected);    // [0, 1]
 * ```
 */
export function fltrustWithDecision(updates: Updates, options: FltrustOptions): Aggregation<FltrustDecision> {
  const rule = 'fltrust';
  const opts = readOptions(rule, options, ['serverUpdate', 'nonFinite']);
  // The pass over the data that computes ⟨x_k, g₀⟩ and ‖x_k‖² doubles as the finiteness check
  // when serverUpdate is valid: ‖x_k‖² in float64 is finite exactly when x_k holds no NaN or ±∞
  // (finite float32 squares sum to at most 2³²·1.2e77). A client that is not finite sends the
  // call through finiteClients (its errors, or the finite clients, whose statistics are already
  // computed: each row's are its own). An invalid serverUpdate takes the separate pass first, so
  // the errors come in the same order as before.
  const { n, d } = validateUpdates(updates, rule);
  requireNonFinitePolicy(rule, opts.nonFinite);
  const fused = fusedStatistics(updates, opts.serverUpdate, n, d);
  const clients =
    fused !== null && fused.finite
      ? { rows: Array.from(updates), index: Array.from(updates, (_, i) => i), dropped: [], n, d }
      : finiteClients(updates, rule, opts.nonFinite);
  const g0 = requireVector(rule, 'serverUpdate', opts.serverUpdate, clients.d);
  const rows = clients.rows;
  const m = rows.length;
  const g0Norm = fused?.g0Norm ?? Math.sqrt(squaredNorm(g0));
  if (g0Norm > FLOAT32_MAX) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: serverUpdate has norm ${g0Norm}, above the largest float32 ${FLOAT32_MAX}: every client is rescaled to that norm, so the output would overflow`,
    );
  }
  // s = [⟨x_k, g₀⟩ for every k, then ‖x_k‖² for every k], as the sharded coordinator sums them.
  let s: Float64Array;
  if (fused === null) s = dotsAndSquaredNorms(rows, g0);
  else if (fused.finite) s = fused.s;
  else {
    s = new Float64Array(2 * m);
    clients.index.forEach((i, k) => {
      s[k] = fused.s[i];
      s[m + k] = fused.s[n + i];
    });
  }
  const { trust, w, chosen, totalTrust } = fltrustWeights(s, m, g0Norm);
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      trustScores: weightsOverInput(trust, clients),
      totalTrust,
    },
  };
}

/**
 * ⟨x_k, g₀⟩ and ‖x_k‖² of every given row (non-finite ones included) when serverUpdate is a finite
 * Float32Array of length d with ‖g₀‖ ≤ the largest float32 (else null: the call takes the
 * separate finiteness pass and the option checks raise their errors in order), and whether every
 * row is finite.
 */
function fusedStatistics(
  updates: Updates,
  given: unknown,
  n: number,
  d: number,
): { s: Float64Array; g0Norm: number; finite: boolean } | null {
  const typed = ArrayBuffer.isView(given) && Object.prototype.toString.call(given) === '[object Float32Array]';
  if (!typed || (given as Float32Array).length !== d || !isFiniteVector(given as Float32Array)) return null;
  const g0 = given as Float32Array;
  const g0Norm = Math.sqrt(squaredNorm(g0));
  if (!(g0Norm <= FLOAT32_MAX)) return null;
  const s = dotsAndSquaredNorms(updates, g0);
  let finite = true;
  for (let i = 0; i < n; i++) if (!Number.isFinite(s[n + i])) finite = false;
  return { s, g0Norm, finite };
}

/**
 * FLTrust's weights from s = [⟨xₖ, g₀⟩ …, ‖xₖ‖² …] (2m numbers) and ‖g₀‖: trust
 * TSₖ = ReLU(cos(xₖ, g₀)) (0 for a zero vector), weights TSₖ·(‖g₀‖/‖xₖ‖)/Σ TS, the clients with
 * TSₖ > 0. Shared by fltrust and the sharded coordinator.
 *
 * @internal
 */
export function fltrustWeights(s: Float64Array, m: number, g0Norm: number): { trust: Float64Array; w: Float64Array; chosen: number[]; totalTrust: number } {
  const trust = new Float64Array(m);
  const scale = new Float64Array(m);
  let totalTrust = 0;
  for (let k = 0; k < m; k++) {
    const norm = Math.sqrt(s[m + k]);
    if (norm === 0 || g0Norm === 0) continue;
    const ts = Math.max(0, Math.min(1, s[k] / (norm * g0Norm)));
    trust[k] = ts;
    scale[k] = g0Norm / norm;
    totalTrust += ts;
  }
  const w = new Float64Array(m);
  const chosen: number[] = [];
  if (totalTrust > 0) {
    for (let k = 0; k < m; k++) {
      if (trust[k] > 0) {
        w[k] = (trust[k] * scale[k]) / totalTrust;
        chosen.push(k);
      }
    }
  }
  return { trust, w, chosen, totalTrust };
}
