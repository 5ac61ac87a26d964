import type { Aggregation, Decision } from '../core/decision.js';
import {
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../core/finite-clients.js';
import { readOptions, requireInteger, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { finiteClientsGram, squaredDistancesFromGram } from '../kernels/gram.js';
import { krumScores, lowestScores } from './krum-scores.js';

/** Options of {@link krum}. */
export interface KrumOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 2f+3. Required. */
  f: number;
}

/** Decision of {@link krum} and {@link multiKrum}. */
export interface KrumDecision extends Decision {
  /** The selected clients: one for krum, the m best for multiKrum (ascending index). */
  readonly selected: readonly number[];
  /** Weight of each client in the output (1 for krum's pick; 1/m for multiKrum's picks). */
  readonly weights: Float64Array;
  /** Krum score of each client (+∞ for dropped ones). */
  readonly scores: Float64Array;
}

/**
 * Krum (Blanchard, El Mhamdi, Guerraoui & Stainer, "Machine learning with adversaries: Byzantine
 * tolerant gradient descent", NeurIPS 2017): score_i = Σ of the squared distances from xᵢ to its
 * n − f − 2 nearest other clients; return the client with the lowest score (ties: lowest index).
 * Needs n ≥ 2f+3. Non-finite clients are dropped and count against f.
 *
 * Options: f (required), nonFinite; null options and unknown keys throw.
 *
 * Cost: one centred float64 Gram pass (n²d/2 multiply-adds), O(n²) selection, one copy.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link KrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `nonFinite` (default `'drop'`).
 * @returns a copy of the chosen client's update.
 * @example
 * ```ts
 * import { krum } from 'robust-agg';
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
 * console.log(krum(updates, { f: 2 })); // a copy of one honest client's update
 * ```
 */
export function krum(updates: Updates, options: KrumOptions): Float32Array {
  return krumWithDecision(updates, options).aggregate;
}

/**
 * {@link krum} together with its {@link KrumDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link KrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { krumWithDecision } from 'robust-agg';
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
 * const { aggregate, decision } = krumWithDecision(updates, { f: 2 });
 * console.log(decision.selected); // [the chosen client], one of 0..4
 * console.log(decision.scores);   // its score is the lowest; the attackers' are far higher
 * console.log(aggregate);
 * ```
 */
export function krumWithDecision(updates: Updates, options: KrumOptions): Aggregation<KrumDecision> {
  const opts = readOptions('krum', options, ['f', 'nonFinite']);
  return multiKrumCore('krum', updates, opts.f as number, 1, opts.nonFinite);
}

/**
 * Shared by krum and multiKrum: scores once on the centred Gram matrix, averages the m best.
 * `f` and `m` are the values read from the options (checked here: f an integer ≥ 0 with
 * n ≥ 2f+3, m an integer in [1, n] or undefined).
 */
export function multiKrumCore(
  rule: string,
  updates: Updates,
  f: number,
  m: number | undefined,
  nonFinite: CommonOptions['nonFinite'],
): Aggregation<KrumDecision> {
  // Errors in the order finiteClients and then the counts give them (NO_FINITE_UPDATES before
  // TOO_FEW_CLIENTS); the Gram pass doubles as the finiteness check.
  const { clients, g } = finiteClientsGram(updates, rule, nonFinite, 'robust');
  requireClients(rule, clients.n, f, 2, 3);
  if (m !== undefined) requireInteger(rule, 'm', m, 1, clients.n);
  const rows = clients.rows;
  const count = rows.length;
  const fLeft = remainingByzantine(f, clients);
  const dist = squaredDistancesFromGram(g, count);
  const local = krumScores(dist, count, count - fLeft - 2);
  const picks = Math.min(m ?? count - fLeft, count);
  const chosen = lowestScores(local, picks);
  const w = new Float64Array(count);
  for (const k of chosen) w[k] = 1 / picks;
  const aggregate = picks === 1 ? Float32Array.from(rows[chosen[0]]) : combine(rows, w);
  const scores = new Float64Array(clients.n).fill(Infinity);
  for (let k = 0; k < count; k++) scores[clients.index[k]] = local[k];
  return {
    aggregate,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      scores,
    },
  };
}
