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
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CoordinateMedianOptions}: `nonFinite` only (default `'drop'`).
 * @returns the coordinate-wise median, a new `Float32Array` of length d.
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
 * ```
 */
export function coordinateMedian(updates: Updates, options?: CoordinateMedianOptions): Float32Array {
  return coordinateMedianWithDecision(updates, options).aggregate;
}

/**
 * {@link coordinateMedian} with its decision (which clients were dropped as non-finite).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link CoordinateMedianOptions}: `nonFinite` only (default `'drop'`).
 * @example
 * ```ts
 * import { coordinateMedianWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1, 5), Float32Array.of(Infinity, 0), Float32Array.of(2, 7), Float32Array.of(3, 6)];
 * const { aggregate, decision } = coordinateMedianWithDecision(updates);
 * console.log(aggregate, decision.dropped); // [2, 6] [1]
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
