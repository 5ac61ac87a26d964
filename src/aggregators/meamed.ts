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
 * @example
 * ```ts
 * import { meamed } from 'robust-agg';
 * const out = meamed(updates, { f: 2 });
 * ```
 */
export function meamed(updates: Updates, options: MeamedOptions): Float32Array {
  return meamedWithDecision(updates, options).aggregate;
}

/**
 * {@link meamed} with its decision.
 *
 * @example
 * ```ts
 * meamedWithDecision(updates, { f: 1 }).decision.dropped;
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
