import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../core/finite-clients.js';
import { readOptions, requireInteger, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { squaredDistance } from '../kernels/norms.js';
import { lowestScores } from './krum-scores.js';
import { requireVector } from './catalogue-similarity.js';

/**
 * Options of {@link monna}: give exactly one of `trusted` and `trustedIndex`. Unknown keys throw
 * `UNKNOWN_OPTION`.
 */
export interface MonnaOptions extends CommonOptions {
  /** Declared number of Byzantine clients f: an integer ≥ 0 with n ≥ 2f+1. */
  f: number;
  /**
   * The trusted vector t (e.g. the aggregating node's own update): a `Float32Array` of length d
   * holding finite values (any float32 magnitude).
   */
  trusted?: Float32Array;
  /**
   * Alternatively, the index of the trusted client among `updates` (ByzFL's `idx`): an integer in
   * [0, n − 1]; that client must send a finite update.
   */
  trustedIndex?: number;
}

/** Decision of {@link monna}. */
export interface MonnaDecision extends Decision {
  /** The n − f clients nearest to the trusted vector (ascending index). */
  readonly selected: readonly number[];
  /** 1/(n − f) for the selected clients, 0 otherwise. */
  readonly weights: Float64Array;
  /** ‖xᵢ − t‖ of each client to the trusted vector (+∞ for dropped clients). */
  readonly distances: Float64Array;
}

/**
 * MoNNA, the mean of the nearest neighbours of a trusted vector (Farhadkhani, Guerraoui, Gupta,
 * Hoang, Pinot & Stephan, "Robust collaborative learning with linear gradient overhead", ICML
 * 2023; ByzFL's `MoNNA`): out = mean of the n − f clients closest to t in ℓ₂. Meant for
 * peer-to-peer learning, where each honest node trusts its own update; pass it as `trusted`, or
 * as `trustedIndex` when it is one of the updates (then it is always among its own neighbours).
 * Needs n ≥ 2f+1. Distance ties keep the lower index. Non-finite clients are dropped and count
 * against f.
 *
 * Hostile numbers: the distances to t are float64 sums of float64 squares (a float32 difference
 * squared is at most 4.7·10⁷⁷, far from overflow), so finite updates up to ±3.4·10³⁸ never
 * overflow and never change another client's distance; f such clients are the f farthest from
 * an honest t, and the output is the honest clients' mean (tested on both kernels). The output
 * is a mean of finite updates: finite, inside their per-coordinate range. Duplicates of t (or
 * zero clients at equal distance) tie and the lower indices are kept.
 *
 * Cost: one pass for the n distances to t, one combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MonnaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   exactly one of `trusted` (a finite vector of length d) and `trustedIndex` (an integer in
 *   [0, n − 1]), `nonFinite` (default `'drop'`).
 * @returns the mean of the n − f clients nearest to t, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { monna } from 'robust-agg';
 *
 * // A node of a peer-to-peer network trusts its own update and receives four from its peers.
 * const myUpdate = Float32Array.of(1, -1);
 * const peerUpdates = [Float32Array.of(1.2, -0.8), Float32Array.of(0.9, -1.1), Float32Array.of(1.1, -1), Float32Array.of(30, 30)];
 * console.log(monna(peerUpdates, { f: 1, trusted: myUpdate }));                    // mean of the 3 nearest peers
 * console.log(monna([myUpdate, ...peerUpdates], { f: 1, trustedIndex: 0 })); // own update among the 4 kept
 * ```
 */
export function monna(updates: Updates, options: MonnaOptions): Float32Array {
  return monnaWithDecision(updates, options).aggregate;
}

/**
 * {@link monna} together with its {@link MonnaDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MonnaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   exactly one of `trusted` (a finite vector of length d) and `trustedIndex` (an integer in
 *   [0, n − 1]), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { monnaWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(0, 0), Float32Array.of(3, 4), Float32Array.of(1, 0), Float32Array.of(-60, 80)];
 * const { decision } = monnaWithDecision(updates, { f: 1, trustedIndex: 0 });
 * console.log(decision.selected);  // [0, 1, 2]
 * console.log(decision.distances); // [0, 5, 1, 100]
 * ```
 */
export function monnaWithDecision(updates: Updates, options: MonnaOptions): Aggregation<MonnaDecision> {
  const rule = 'monna';
  const opts = readOptions(rule, options, ['f', 'trusted', 'trustedIndex', 'nonFinite']);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 1);
  const trusted = trustedVector(rule, opts, updates, clients.n, clients.d, clients.dropped);
  const rows = clients.rows;
  const m = rows.length;
  const keep = m - remainingByzantine(f, clients);
  const dist2 = rows.map((x) => squaredDistance(x, trusted));
  const chosen = lowestScores(dist2, keep);
  const w = new Float64Array(m);
  for (const k of chosen) w[k] = 1 / keep;
  const distances = new Float64Array(clients.n).fill(Infinity);
  for (let k = 0; k < m; k++) distances[clients.index[k]] = Math.sqrt(dist2[k]);
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      distances,
    },
  };
}

function trustedVector(
  rule: string,
  options: Partial<MonnaOptions>,
  updates: Updates,
  n: number,
  d: number,
  dropped: readonly number[],
): Float32Array {
  const hasVector = options.trusted !== undefined;
  const hasIndex = options.trustedIndex !== undefined;
  if (hasVector === hasIndex) {
    throw new RobustAggError('INVALID_OPTION', `${rule} takes exactly one of { trusted } and { trustedIndex }`);
  }
  if (hasVector) return requireVector(rule, 'trusted', options.trusted, d);
  const index = requireInteger(rule, 'trustedIndex', options.trustedIndex as number, 0, n - 1);
  if (dropped.includes(index)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the trusted client ${index} sent NaN or ±Infinity`);
  }
  return updates[index];
}
