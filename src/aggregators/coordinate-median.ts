import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { allEqual, normalisedClientWeights, readClientWeights, scaledClientWeights } from '../core/weights.js';
import { columnMedian, reduceColumns } from '../kernels/column-select.js';
import { weightedColumnMedian } from './weighted-quantile.js';

/** Options of {@link coordinateMedian}. */
export interface CoordinateMedianOptions extends CommonOptions {
  /**
   * One weight per client (e.g. local sample counts): an array-like of n finite numbers ≥ 0, not
   * all 0 over the finite clients, read once; clients dropped as non-finite lose theirs, the rest
   * are normalised to sum to 1 (as {@link mean} does). Per coordinate the output is then the
   * weighted median (see {@link coordinateMedian}); a client of weight 0 takes no part. Default:
   * equal weights (the plain median). Equal weights give the unweighted result, bit for bit.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link coordinateMedian}. */
export interface CoordinateMedianDecision extends Decision {
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Coordinate-wise median (Yin et al., "Byzantine-robust distributed learning: towards optimal
 * statistical rates", ICML 2018): out_k = median_i x_{i,k}. With an even number of clients, the mean
 * of the two middle values (numpy's convention; torch.median returns the lower one). Robust while
 * fewer than half the clients are Byzantine; needs no f. Options: weights, nonFinite (null options
 * and unknown keys throw).
 *
 * **Client weights** (`weights`, normalised to wᵢ over the finite clients): per coordinate the
 * weighted median. Sort the values of the clients with wᵢ > 0, x₍₁₎ ≤ … ≤ x₍ₘ₎, with cumulative
 * weights Cⱼ = w₍₁₎ + … + w₍ⱼ₎; then
 * lower = x₍ⱼ₎ for the smallest j with Cⱼ ≥ 1/2, upper = x₍ⱼ'₎ for the smallest j' with Cⱼ' > 1/2,
 * out = (lower + upper)/2. lower is the lower weighted median of Cormen, Leiserson, Rivest & Stein
 * (Introduction to Algorithms, 3rd ed., 2009, Problem 9-2); the midpoint convention (used only when
 * the cumulative weight is exactly 1/2 at lower) makes equal weights give numpy's median of an
 * even count. Cumulative weights are float64 sums of the given weights, exact for integer weights
 * (sample counts) whose total is below 2⁵³.
 *
 * **Weight liars.** A client's weight is its word. The weighted median stays within the honest
 * clients' range on every coordinate while the Byzantine clients hold less than half the total
 * weight; one client that claims more than half the weight (say 10⁹ samples) sets every coordinate
 * to its own value. Cap or verify sample counts before passing them.
 *
 * Cost: blocks of 256 columns copied transposed, one quickselect per coordinate (expected O(n·d)).
 * With unequal weights: a plain-TypeScript weighted quickselect per coordinate (expected O(n),
 * O(n log n) at worst, per coordinate), several times slower than the unweighted WebAssembly
 * kernel.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CoordinateMedianOptions}: `weights` (one finite weight ≥ 0 per
 *   client; default equal), `nonFinite` (default `'drop'`).
 * @returns the coordinate-wise (weighted) median, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { coordinateMedian } from 'robust-agg';
 *
 * // Five clients, d = 3; client 4 is an attacker.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1e6, 1e6, -1e6),
 * ];
 * console.log(coordinateMedian(updates)); // [1, -1, 0.5]: the attacker moved nothing
 *
 * // Sample counts: clients 0 and 1 trained on 3 and 2 times as much data as each of the others.
 * console.log(coordinateMedian(updates, { weights: [3, 2, 1, 1, 1] })); // [1, -1, 0.5]
 * // A weight liar: the attacker claims more than half of all samples, and decides every coordinate.
 * console.log(coordinateMedian(updates, { weights: [3, 2, 1, 1, 100] })); // [1000000, 1000000, -1000000]
 * ```
 */
export function coordinateMedian(updates: Updates, options?: CoordinateMedianOptions): Float32Array {
  return coordinateMedianWithDecision(updates, options).aggregate;
}

/**
 * {@link coordinateMedian} with its decision (which clients were dropped as non-finite, and the
 * normalised client weights when `weights` was given).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CoordinateMedianOptions}: `weights` (one finite weight ≥ 0 per
 *   client; default equal), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { coordinateMedianWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1, 5), Float32Array.of(Infinity, 0), Float32Array.of(2, 7), Float32Array.of(3, 6)];
 * const { aggregate, decision } = coordinateMedianWithDecision(updates);
 * console.log(aggregate, decision.dropped); // [2, 6] [1]
 *
 * // Weighted: client 1's weight goes with it; the others' are normalised to sum to 1.
 * const weighted = coordinateMedianWithDecision(updates, { weights: [3, 5, 1, 1] });
 * console.log(weighted.aggregate, weighted.decision.clientWeights); // [1, 5] [0.6, 0, 0.2, 0.2]
 * ```
 */
export function coordinateMedianWithDecision(
  updates: Updates,
  options?: CoordinateMedianOptions,
): Aggregation<CoordinateMedianDecision> {
  const rule = 'coordinateMedian';
  const opts = readOptions(rule, options, ['weights', 'nonFinite']);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  if (opts.weights === undefined) {
    const aggregate = reduceColumns(clients.rows, columnMedian);
    return { aggregate, decision: { rule, n: clients.n, dropped: clients.dropped } };
  }
  const given = readClientWeights(rule, opts.weights, clients.n);
  const normalised = normalisedClientWeights(rule, given, clients.index);
  const scaled = scaledClientWeights(rule, given, clients.index);
  // Clients of weight 0 take no part; equal positive weights are the plain median of the rest.
  const rows: Float32Array[] = [];
  const positive: number[] = [];
  for (let k = 0; k < clients.rows.length; k++) {
    if (scaled[k] > 0) {
      rows.push(clients.rows[k]);
      positive.push(scaled[k]);
    }
  }
  const aggregate = allEqual(positive)
    ? reduceColumns(rows, columnMedian)
    : weightedColumnMedian(rows, Float64Array.from(positive));
  return {
    aggregate,
    decision: { rule, n: clients.n, dropped: clients.dropped, clientWeights: weightsOverInput(normalised, clients) },
  };
}
