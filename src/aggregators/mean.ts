import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, requireNonFinitePolicy, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { combine, combineIfFinite } from '../kernels/combine.js';

/** Options of {@link mean}. */
export interface MeanOptions extends CommonOptions {
  /**
   * One weight per client (e.g. local sample counts, as in FedAvg): an array-like of n finite
   * numbers ≥ 0 (any magnitude up to Number.MAX_VALUE: they are divided by the largest before they
   * are summed, in float64, so their sum never overflows), not all 0 over the finite clients.
   * Normalised to sum to 1 over the finite clients. Each entry is read once. Default: equal weights.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link mean}: `weights` are the normalised weights actually applied. */
export interface MeanDecision extends Decision {
  readonly weights: Float64Array;
}

/**
 * The (weighted) mean, FedAvg's aggregation (McMahan et al., AISTATS 2017):
 * out = Σᵢ wᵢ xᵢ / Σᵢ wᵢ. Not robust: one client moves it arbitrarily far. It is the baseline every
 * robust rule is measured against. Clients that sent NaN/±Inf are dropped (their weight too).
 *
 * Cost: one pass over the data (the finiteness check is fused with the sum), float64 accumulation.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see {@link MeanOptions}: `weights` (one finite weight ≥ 0 per client; default
 *   equal), `nonFinite` (default `'drop'`).
 * @returns the mean, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { mean } from 'robust-agg';
 *
 * // Three clients, d = 2; the third trained on four times as much data as each of the others.
 * const updates = [Float32Array.of(1, 0), Float32Array.of(3, 0), Float32Array.of(0, 6)];
 * console.log(mean(updates));                         // plain average: [1.333…, 2]
 * console.log(mean(updates, { weights: [1, 1, 4] })); // FedAvg, by sample count: [0.666…, 4]
 * ```
 */
export function mean(updates: Updates, options?: MeanOptions): Float32Array {
  return meanWithDecision(updates, options).aggregate;
}

/**
 * {@link mean} together with its {@link MeanDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see {@link MeanOptions}: `weights` (one finite weight ≥ 0 per client; default
 *   equal), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { meanWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1, 2), Float32Array.of(NaN, 0), Float32Array.of(3, 4)];
 * const { aggregate, decision } = meanWithDecision(updates);
 * console.log(aggregate);        // [2, 3]: the mean of clients 0 and 2
 * console.log(decision.dropped); // [1]: client 1 sent NaN
 * console.log(decision.weights); // [0.5, 0, 0.5]
 * ```
 */
export function meanWithDecision(updates: Updates, options?: MeanOptions): Aggregation<MeanDecision> {
  const rule = 'mean';
  const opts = readOptions(rule, options, ['weights', 'nonFinite']);
  const { n } = validateUpdates(updates, rule);
  requireNonFinitePolicy(rule, opts.nonFinite);
  const given = opts.weights === undefined ? undefined : readClientWeights(rule, opts.weights, n);
  // Fast path: when every client is finite (the common case) one fused pass checks and combines.
  const all = Array.from({ length: n }, (_, i) => i);
  const w = given === undefined ? new Float64Array(n).fill(1 / n) : normalisedClientWeights(rule, given, all);
  const aggregate = combineIfFinite(updates, w);
  if (aggregate !== null) {
    return { aggregate, decision: { rule, n, dropped: [], weights: w } };
  }
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const m = clients.index.length;
  const wFinite = given === undefined ? new Float64Array(m).fill(1 / m) : normalisedClientWeights(rule, given, clients.index);
  return {
    aggregate: combine(clients.rows, wFinite),
    decision: { rule, n, dropped: clients.dropped, weights: weightsOverInput(wFinite, clients) },
  };
}
