import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { columnMedian, reduceColumns } from '../kernels/column-select.js';

/** Options of {@link coordinateMedian}. */
export type CoordinateMedianOptions = CommonOptions;

/**
 * Coordinate-wise median (Yin et al., "Byzantine-robust distributed learning: towards optimal
 * statistical rates", ICML 2018): out_k = median_i x_{i,k}. With an even number of clients, the mean
 * of the two middle values (numpy's convention; torch.median returns the lower one). Robust while
 * fewer than half the clients are Byzantine; needs no f. Options: nonFinite only (null options and
 * unknown keys throw).
 *
 * Cost: blocks of 256 columns copied transposed, one quickselect per coordinate (expected O(n·d)).
 *
 * @example
 * ```ts
 * import { coordinateMedian } from 'robust-agg';
 * const med = coordinateMedian(updates);
 * ```
 */
export function coordinateMedian(updates: Updates, options?: CoordinateMedianOptions): Float32Array {
  return coordinateMedianWithDecision(updates, options).aggregate;
}

/**
 * {@link coordinateMedian} with its decision (which clients were dropped as non-finite).
 *
 * @example
 * ```ts
 * const { decision } = coordinateMedianWithDecision(updates);
 * ```
 */
export function coordinateMedianWithDecision(
  updates: Updates,
  options?: CoordinateMedianOptions,
): Aggregation<Decision> {
  const opts = readOptions('coordinateMedian', options, ['nonFinite']);
  const clients = finiteClients(updates, 'coordinateMedian', opts.nonFinite);
  const aggregate = reduceColumns(clients.rows, columnMedian);
  return { aggregate, decision: { rule: 'coordinateMedian', n: clients.n, dropped: clients.dropped } };
}
