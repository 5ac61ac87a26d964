import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, requireNonFinitePolicy, weightsOverInput } from '../core/finite-clients.js';
import type { CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { combine, combineIfFinite } from '../kernels/combine.js';

/** Options of {@link mean}. */
export interface MeanOptions extends CommonOptions {
  /**
   * One non-negative weight per client (e.g. local sample counts, as in FedAvg). Normalised to sum
   * to 1 over the finite clients. Default: equal weights.
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
 * @example
 * ```ts
 * import { mean } from 'robust-agg';
 * const avg = mean(updates);                              // plain average
 * const fedAvg = mean(updates, { weights: sampleCounts }); // weighted by local data size
 * ```
 */
export function mean(updates: Updates, options: MeanOptions = {}): Float32Array {
  return meanWithDecision(updates, options).aggregate;
}

/**
 * {@link mean} together with its {@link MeanDecision}.
 *
 * @example
 * ```ts
 * const { aggregate, decision } = meanWithDecision(updates);
 * decision.dropped; // clients that sent NaN/±Inf
 * ```
 */
export function meanWithDecision(updates: Updates, options: MeanOptions = {}): Aggregation<MeanDecision> {
  const { n } = validateUpdates(updates, 'mean');
  requireNonFinitePolicy('mean', options.nonFinite);
  const given = options.weights;
  if (given !== undefined) requireWeights(given, n);
  // Fast path: when every client is finite (the common case) one fused pass checks and combines.
  const all = Array.from({ length: n }, (_, i) => i);
  const w = normalisedWeights(given, all);
  const aggregate = combineIfFinite(updates, w);
  if (aggregate !== null) {
    return { aggregate, decision: { rule: 'mean', n, dropped: [], weights: w } };
  }
  const clients = finiteClients(updates, 'mean', options.nonFinite);
  const wFinite = normalisedWeights(given, clients.index);
  return {
    aggregate: combine(clients.rows, wFinite),
    decision: { rule: 'mean', n, dropped: clients.dropped, weights: weightsOverInput(wFinite, clients) },
  };
}

/** Checks that `weights` holds one finite, non-negative weight per client. */
function requireWeights(weights: ArrayLike<number>, n: number): void {
  if (weights.length !== n) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `mean: weights has length ${weights.length}, expected one weight per client (n=${n})`,
    );
  }
  for (let i = 0; i < n; i++) {
    const v = weights[i];
    if (!Number.isFinite(v) || v < 0) {
      throw new RobustAggError('INVALID_OPTION', `mean: weight of client ${i} must be finite and ≥ 0, got ${v}`);
    }
  }
}

/** The weights of the clients `index` (equal when none are given), normalised to sum to 1. */
function normalisedWeights(given: ArrayLike<number> | undefined, index: readonly number[]): Float64Array {
  const m = index.length;
  const w = new Float64Array(m);
  if (given === undefined) return w.fill(1 / m);
  let total = 0;
  for (let k = 0; k < m; k++) total += given[index[k]];
  if (total <= 0) {
    throw new RobustAggError('INVALID_OPTION', 'mean: the weights of the finite clients sum to 0');
  }
  for (let k = 0; k < m; k++) w[k] = given[index[k]] / total;
  return w;
}
