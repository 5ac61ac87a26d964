import type { Aggregation, Decision } from '../core/decision.js';
import {
  indicesOverInput,
  remainingByzantine,
  requireClients,
} from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { meanAroundMedianReducer, reduceColumns } from '../kernels/column-select.js';
import { finiteClientsGram, squaredDistancesFromGram } from '../kernels/gram.js';
import { bulyanSelectionFast } from './bulyan-selection.js';

/** Options of {@link bulyan}. */
export interface BulyanOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 4f+3. Required. */
  f: number;
}

/** Decision of {@link bulyan}. */
export interface BulyanDecision extends Decision {
  /** The θ = n − 2f clients Krum picked, ascending. */
  readonly selected: readonly number[];
  /** The same clients in the order Krum picked them. */
  readonly selectionOrder: readonly number[];
  /** β = θ − 2f: values averaged per coordinate around the median of the selected clients. */
  readonly beta: number;
}

/**
 * Bulyan (El Mhamdi, Guerraoui & Rouault, "The hidden vulnerability of distributed learning in
 * Byzantium", ICML 2018). Selection: θ = n − 2f Krum picks without replacement, Krum recomputed on
 * the n' remaining clients with max(1, n' − f − 2) neighbours (as Flower does). Aggregation: per
 * coordinate, the mean of the β = θ − 2f selected values closest to their median. Needs n ≥ 4f+3.
 * Non-finite clients are dropped first and count against f.
 *
 * With one neighbour (the last rounds), the two closest remaining clients always tie; ties go to
 * the lower index, so the selected set — unlike the other rules' output — can depend on the order
 * of the clients. For the same reason, two identical Byzantine copies score 0 in those rounds and
 * are selected; the second phase (β values around the median) absorbs them here, but a variant
 * that averages the selection instead (see `bulyanVariant`) does not.
 *
 * Cost: one centred Gram pass (n²d/2 multiply-adds), θ Krum rounds in client space (O(n² log n):
 * each client's neighbours sorted once, scores updated incrementally after each pick, the same picks
 * bit for bit as re-scoring every round; O(n) more per client whose score ties the lowest within
 * rounding, e.g. identical rows), then a coordinate-wise pass over the θ selected rows.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link BulyanOptions}: `f` (required, an integer ≥ 0 with n ≥ 4f+3),
 *   `nonFinite` (default `'drop'`).
 * @returns a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { bulyan } from 'robust-agg';
 *
 * // Eleven clients, d = 3 (n ≥ 4f+3 with f = 2): nine honest ones near (1, −1, 0.5), two attackers.
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 * console.log(bulyan(updates, { f: 2 })); // close to (1, −1, 0.5)
 * ```
 */
export function bulyan(updates: Updates, options: BulyanOptions): Float32Array {
  return bulyanWithDecision(updates, options).aggregate;
}

/**
 * {@link bulyan} together with its {@link BulyanDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link BulyanOptions}: `f` (required, an integer ≥ 0 with n ≥ 4f+3),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { bulyanWithDecision } from 'robust-agg';
 *
 * // Eleven clients, d = 3 (n ≥ 4f+3 with f = 2): nine honest ones near (1, −1, 0.5), two attackers.
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 * const { decision } = bulyanWithDecision(updates, { f: 2 });
 * console.log(decision.selectionOrder); // θ = n − 2f = 7 honest clients, in the order Krum picked them
 * console.log(decision.beta);           // 3 = θ − 2f values averaged per coordinate
 * ```
 */
export function bulyanWithDecision(updates: Updates, options: BulyanOptions): Aggregation<BulyanDecision> {
  const opts = readOptions('bulyan', options, ['f', 'nonFinite']);
  // The Gram pass doubles as the finiteness check (errors in finiteClients' order).
  const { clients, g } = finiteClientsGram(updates, 'bulyan', opts.nonFinite, 'robust');
  requireClients('bulyan', clients.n, opts.f as number, 4, 3);
  const rows = clients.rows;
  const count = rows.length;
  const f = remainingByzantine(opts.f as number, clients);
  const theta = count - 2 * f;
  const beta = theta - 2 * f;
  const order = bulyanSelection(squaredDistancesFromGram(g, count), count, f, theta);
  const picked = order.map((k) => rows[k]);
  const aggregate = reduceColumns(picked, meanAroundMedianReducer(beta));
  return {
    aggregate,
    decision: {
      rule: 'bulyan',
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(order, clients),
      selectionOrder: order.map((k) => clients.index[k]),
      beta,
    },
  };
}

/**
 * Bulyan's selection phase on a squared-distance matrix: `theta` successive Krum picks, each on the
 * clients not yet picked with max(1, remaining − f − 2) neighbours. Returns positions in pick order.
 * O(n² log n) with incremental scores (`bulyanSelectionFast`); the same picks, bit for bit, as
 * the plain O(n³) re-scoring (`bulyanSelectionPlain`).
 */
export function bulyanSelection(dist: Float64Array, n: number, f: number, theta: number): number[] {
  return bulyanSelectionFast(dist, n, f, theta);
}
