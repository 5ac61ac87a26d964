import type { Aggregation } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../core/finite-clients.js';
import { describeValue, readOptions, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { finiteClientsGram, gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { lpDistances } from '../kernels/lp-distances.js';
import type { KrumDecision } from './krum.js';
import { krumScores, lowestScores } from './krum-scores.js';

/** Options of {@link krumLp}. */
export interface KrumLpOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 2f+3. Required. */
  f: number;
  /** The norm: a number p ≥ 1 (any size: distances are computed with scaling) or `Infinity`. Default 2 (plain Krum). */
  p?: number;
}

/** Decision of {@link krumLp}: Krum's decision, scores in squared ℓp distances. */
export interface KrumLpDecision extends KrumDecision {
  /** The norm used. */
  readonly p: number;
}

/**
 * Krum under the ℓp norm, a member of MixTailor's pool (Ramezani-Kebrya, Tabrizian, Faghri &
 * Popovski, TMLR 2022; Krum: Blanchard et al., NeurIPS 2017): score_i = Σ of the squared ℓp
 * distances ‖xᵢ − xⱼ‖_p² to its n − f − 2 nearest other clients; return the client with the lowest
 * score (ties: lowest index). p = 2 is {@link krum}. Needs n ≥ 2f+3; non-finite clients are dropped
 * and count against f.
 *
 * p = 2 runs exactly as {@link krum} does (the centred Gram pass, which on the WebAssembly kernels
 * is also the finiteness check): the same scores and the same client, bit for bit. p = 1, p = ∞
 * and integer p up to 64 run on a WebAssembly f64x2 kernel that gives the plain kernel's bits
 * (see `lpDistances`); the distances are float64 throughout with per-pair scaling, so no finite
 * float32 input (up to ±3.4e38, or subnormal) overflows or underflows a distance to 0.
 *
 * Cost: n(n−1)/2 · d differences in the blocked ℓp kernel (p = 2: the centred Gram pass),
 * O(n²) selection, one copy.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link KrumLpOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3), `p`
 *   (the norm, a number ≥ 1 or `Infinity`; default 2), `nonFinite` (default `'drop'`).
 * @returns a copy of the chosen client's update.
 * @example
 * ```ts
 * import { krumLp } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * console.log(krumLp(updates, { f: 2, p: 1 }));        // Krum with ℓ1 distances
 * console.log(krumLp(updates, { f: 2, p: Infinity })); // Krum with ℓ∞ distances
 * ```
 */
export function krumLp(updates: Updates, options: KrumLpOptions): Float32Array {
  return krumLpWithDecision(updates, options).aggregate;
}

/**
 * {@link krumLp} together with its {@link KrumLpDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link KrumLpOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3), `p`
 *   (the norm, a number ≥ 1 or `Infinity`; default 2), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { krumLpWithDecision } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * const { decision } = krumLpWithDecision(updates, { f: 2, p: 3 });
 * console.log(decision.p, decision.selected); // 3 [the chosen client], one of 0..4
 * ```
 */
export function krumLpWithDecision(updates: Updates, options: KrumLpOptions): Aggregation<KrumLpDecision> {
  const rule = 'krumLp';
  const opts = readOptions(rule, options, ['f', 'p', 'nonFinite']);
  const p = opts.p ?? 2;
  if (typeof p !== 'number' || !(p >= 1)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: p must be a number ≥ 1 or Infinity, got ${describeValue(p)}`);
  }
  // p = 2 is krum's own path: the Gram pass doubles as the finiteness check (finiteClientsGram)
  // when the client count check passes with all n clients; otherwise the separate finiteness pass
  // runs first and the call fails before any pass over the data, with the same errors.
  const { n } = validateUpdates(updates, rule);
  const fDeclared = opts.f as number;
  const fused = p === 2 && Number.isInteger(fDeclared) && fDeclared >= 0 && n >= 2 * fDeclared + 3;
  const { clients, g } = fused
    ? finiteClientsGram(updates, rule, opts.nonFinite, 'robust')
    : { clients: finiteClients(updates, rule, opts.nonFinite), g: null };
  requireClients(rule, clients.n, fDeclared, 2, 3);
  const rows = clients.rows;
  const count = rows.length;
  const f = remainingByzantine(fDeclared, clients);
  let dist: Float64Array;
  if (p === 2) {
    dist = squaredDistancesFromGram(g ?? gram(rows, 'robust'), count);
  } else {
    dist = lpDistances(rows, p);
    for (let t = 0; t < dist.length; t++) dist[t] *= dist[t];
  }
  const local = krumScores(dist, count, count - f - 2);
  const [best] = lowestScores(local, 1);
  const w = new Float64Array(count);
  w[best] = 1;
  const scores = new Float64Array(clients.n).fill(Infinity);
  for (let k = 0; k < count; k++) scores[clients.index[k]] = local[k];
  return {
    aggregate: Float32Array.from(rows[best]),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput([best], clients),
      weights: weightsOverInput(w, clients),
      scores,
      p,
    },
  };
}
