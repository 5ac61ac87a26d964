import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, remainingByzantine, requireClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { meanAroundMedianReducer, reduceColumns } from '../kernels/column-select.js';

/** Options of {@link meamed}. */
export interface MeamedOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 2f+1; n − f values are kept per coordinate. Required. */
  f: number;
}

/**
 * Mean around the median, "MeaMed" (Xie, Koyejo & Gupta, "Generalized Byzantine-tolerant SGD",
 * 2018): per coordinate, the mean of the n − f values closest to the coordinate's median. Needs
 * n ≥ 2f+1. Ties at the boundary go to the smaller value, so the result is order-independent.
 *
 * Cost: three quickselects per coordinate over blocks of 256 columns, O(n·d) expected.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MeamedOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `nonFinite` (default `'drop'`).
 * @returns a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { meamed } from 'robust-agg';
 *
 * // Five clients, d = 1: the median is 3; the n − f = 3 values closest to it are 2, 3 and 4.
 * const updates = [1, 2, 3, 4, 50].map((v) => Float32Array.of(v));
 * console.log(meamed(updates, { f: 2 })); // [3]
 * ```
 */
export function meamed(updates: Updates, options: MeamedOptions): Float32Array {
  return meamedWithDecision(updates, options).aggregate;
}

/**
 * {@link meamed} with its decision (which clients were dropped as non-finite).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MeamedOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { meamedWithDecision } from 'robust-agg';
 *
 * const updates = [1, 2, NaN, 4, 5].map((v) => Float32Array.of(v));
 * const { aggregate, decision } = meamedWithDecision(updates, { f: 1 });
 * console.log(decision.dropped, aggregate); // [2] [3]: the dropped client used up f
 * ```
 */
export function meamedWithDecision(updates: Updates, options: MeamedOptions): Aggregation<Decision> {
  const opts = readOptions('meamed', options, ['f', 'nonFinite']);
  const clients = finiteClients(updates, 'meamed', opts.nonFinite);
  const f = opts.f as number;
  requireClients('meamed', clients.n, f, 2, 1);
  const m = clients.rows.length;
  const keep = m - remainingByzantine(f, clients);
  const aggregate = reduceColumns(clients.rows, meanAroundMedianReducer(keep));
  return { aggregate, decision: { rule: 'meamed', n: clients.n, dropped: clients.dropped } };
}
