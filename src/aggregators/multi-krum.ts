import type { Aggregation } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { allEqual, normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { combine } from '../kernels/combine.js';
import { multiKrumCore, type KrumDecision } from './krum.js';

/** Options of {@link multiKrum}. */
export interface MultiKrumOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 2f+3. Required. */
  f: number;
  /**
   * How many of the best-scored clients to average: an integer in [1, n]. Default n − f (after
   * dropping non-finite rows: n' − f'); at most the number of finite clients is used.
   */
  m?: number;
  /**
   * One weight per client (e.g. local sample counts): an array-like of n finite numbers ≥ 0, not
   * all 0 over the finite clients, read once; clients dropped as non-finite lose theirs, the rest
   * are normalised to sum to 1 (as {@link mean} does). The selection is unchanged; the m selected
   * clients are averaged with their weights (see {@link multiKrum}). Default: equal weights.
   * Equal weights give the unweighted result, bit for bit.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link multiKrum}: Krum's, plus the client weights when `weights` was given. */
export interface MultiKrumDecision extends KrumDecision {
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given. `weights` then holds each selected client's share of
   * the output, wᵢ / Σ_selected w.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Multi-Krum (Blanchard et al., NeurIPS 2017): compute every client's Krum score once (sum of the
 * squared distances to its n − f − 2 nearest other clients) and average the m clients with the
 * lowest scores (ties: lowest index). m = 1 is Krum; the default m = n − f. Needs n ≥ 2f+3.
 *
 * **Client weights** (`weights`, e.g. sample counts, normalised to wᵢ over the finite clients):
 * the selection is Krum's, by update only; the m selected clients S are then averaged as FedAvg
 * would, out = Σ_{i∈S} wᵢxᵢ / Σ_{i∈S} wᵢ (Blanchard et al. average the selected clients with equal
 * weights; this weighted average is FedAvg's weighting (McMahan et al., AISTATS 2017) applied to
 * Multi-Krum's selection). Throws `INVALID_OPTION` when every selected client has weight 0.
 *
 * **Weight liars.** A client's weight is its word. A client Krum does not select gains nothing by
 * lying; a selected one that claims nearly all the weight makes the output its own update, so the
 * guarantee falls from that of the average of m selected clients to that of Krum's single pick
 * (an update close to n − f − 2 others). Cap or verify sample counts before passing them.
 *
 * Cost: one centred float64 Gram pass (n²d/2 multiply-adds), O(n²) selection, one combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MultiKrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `m` (how many to average, an integer in [1, n]; default n − f), `weights` (one finite weight
 *   ≥ 0 per client, for the average of the selected ones; default equal), `nonFinite` (default
 *   `'drop'`).
 * @returns the (weighted) average of the m selected clients, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { multiKrum } from 'robust-agg';
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
 * console.log(multiKrum(updates, { f: 2 }));       // average of the n − f = 5 best: the honest five
 * console.log(multiKrum(updates, { f: 2, m: 3 })); // average of the 3 best
 * // Sample counts weight the average of the selected five (the attackers' claims do not matter).
 * console.log(multiKrum(updates, { f: 2, weights: [40, 10, 10, 10, 10, 1000, 1000] }));
 * ```
 */
export function multiKrum(updates: Updates, options: MultiKrumOptions): Float32Array {
  return multiKrumWithDecision(updates, options).aggregate;
}

/**
 * {@link multiKrum} together with its {@link MultiKrumDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MultiKrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `m` (how many to average, an integer in [1, n]; default n − f), `weights` (one finite weight
 *   ≥ 0 per client, for the average of the selected ones; default equal), `nonFinite` (default
 *   `'drop'`).
 * @example
 * ```ts
 * import { multiKrumWithDecision } from 'robust-agg';
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
 * const { decision } = multiKrumWithDecision(updates, { f: 2 });
 * console.log(decision.selected); // [0, 1, 2, 3, 4]
 * console.log(decision.weights);  // 0.2 for each of them, 0 for the attackers
 *
 * const weighted = multiKrumWithDecision(updates, { f: 2, weights: [4, 1, 1, 1, 1, 1, 1] });
 * console.log(weighted.decision.weights); // [0.5, 0.125, 0.125, 0.125, 0.125, 0, 0]
 * ```
 */
export function multiKrumWithDecision(updates: Updates, options: MultiKrumOptions): Aggregation<MultiKrumDecision> {
  const rule = 'multiKrum';
  const opts = readOptions(rule, options, ['f', 'm', 'weights', 'nonFinite']);
  if (opts.weights === undefined) return multiKrumCore(rule, updates, opts.f as number, opts.m, opts.nonFinite);
  // Weights are checked before the Gram pass; the selection is the unweighted one.
  const { n } = validateUpdates(updates, rule);
  const given = readClientWeights(rule, opts.weights, n);
  const result = multiKrumCore(rule, updates, opts.f as number, opts.m, opts.nonFinite);
  const { decision } = result;
  const finite: number[] = [];
  const dropped = new Set(decision.dropped);
  for (let i = 0; i < n; i++) if (!dropped.has(i)) finite.push(i);
  const normalised = normalisedClientWeights(rule, given, finite);
  const clientWeights = new Float64Array(n);
  finite.forEach((i, k) => (clientWeights[i] = normalised[k]));
  const picked = Float64Array.from(decision.selected, (i) => given[i]);
  if (allEqual(picked) && picked[0] > 0) return { aggregate: result.aggregate, decision: { ...decision, clientWeights } };
  let total = 0;
  let largest = 0;
  for (const p of picked) {
    total += p;
    largest = Math.max(largest, p);
  }
  if (!(total > 0)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: every selected client (${decision.selected.join(', ')}) has weight 0: nothing to average`,
    );
  }
  if (total === Infinity) {
    // Weights near Number.MAX_VALUE: scale by the largest first (changes nothing but the scale).
    total = 0;
    for (let k = 0; k < picked.length; k++) total += (picked[k] /= largest);
  }
  const rows = decision.selected.map((i) => updates[i]);
  const share = Float64Array.from(picked, (p) => p / total);
  const weights = new Float64Array(n);
  decision.selected.forEach((i, k) => (weights[i] = share[k]));
  const aggregate = rows.length === 1 ? Float32Array.from(rows[0]) : combine(rows, share);
  return { aggregate, decision: { ...decision, weights, clientWeights } };
}
