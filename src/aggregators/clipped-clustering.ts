import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import { describeValue, readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram } from '../kernels/gram.js';
import { cosinesFromGram, medianOf, requireLimit } from './catalogue-similarity.js';

/**
 * Most norms a {@link clippedClustering} history holds: a `normHistory` passed in may hold at most
 * this many, and the one returned keeps the most recent this many (older norms are dropped), so
 * the median stays O(H log H) with H ≤ 10⁶ however many rounds run.
 */
export const CLIPPED_CLUSTERING_MAX_HISTORY = 1_000_000;

/** Options of {@link clippedClustering}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface ClippedClusteringOptions extends CommonOptions {
  /**
   * Norms of the updates of earlier rounds (as returned in `normHistory` by
   * {@link clippedClusteringWithDecision}): an array of at most
   * {@link CLIPPED_CLUSTERING_MAX_HISTORY} (10⁶) finite numbers ≥ 0. The clipping bound is the
   * median of these and this round's norms. Default: none, so the bound is the median norm of
   * this round.
   */
  normHistory?: readonly number[];
  /** Upper cap on the clipping bound: a number ≥ 0, `Infinity` allowed. Default +∞ (Blades uses 1e5). */
  maxTau?: number;
}

/** Decision of {@link clippedClustering}. */
export interface ClippedClusteringDecision extends Decision {
  /** The clients of the kept cluster (ascending). */
  readonly selected: readonly number[];
  /** Output = Σ wᵢ xᵢ with wᵢ = min(1, τ/‖xᵢ‖)/|selected| for the kept clients. */
  readonly weights: Float64Array;
  /** The clipping bound τ = min(maxTau, median of the norm history with this round appended). */
  readonly tau: number;
  /** min(1, τ/‖xᵢ‖) of each client (1 for zero vectors, 0 for dropped clients). */
  readonly clipFactors: Float64Array;
  /** Cluster of each client: 0 or 1 from average linkage (−1 for dropped clients). */
  readonly labels: Int32Array;
}

/** What {@link clippedClusteringWithDecision} returns: the aggregation and the norm history. */
export interface ClippedClusteringAggregation extends Aggregation<ClippedClusteringDecision> {
  /**
   * `normHistory` with this round's finite norms appended, the most recent
   * {@link CLIPPED_CLUSTERING_MAX_HISTORY} kept; pass it back next round.
   */
  readonly normHistory: number[];
}

/**
 * Clipped clustering (Li, Ngai & Voigt, "An experimental study of Byzantine-robust aggregation
 * schemes in federated learning", IEEE Transactions on Big Data 2023; the Blades suite):
 * 1. clip every update to τ = median of all norms seen so far (this round's included);
 * 2. agglomerative clustering with average linkage on the cosine distances 1 − cos(xᵢ, xⱼ) until
 *    two clusters remain;
 * 3. return the mean of the clipped updates of the larger cluster.
 * Needs no f; assumes an honest majority that points in similar directions.
 *
 * Our choices: the norm history is explicit (`normHistory` in, `normHistory` out), never hidden
 * state; a zero vector has cosine 0 with every non-zero update (distance 1), as torch's ε gives,
 * but distance 0 to another zero vector (identical updates are at distance 0, whatever they are;
 * Blades puts two zero updates at distance 1, which lets zero-sending clients join the honest
 * cluster and shrink its mean); merges join the closest pair of clusters, exact distance ties
 * going to the pair with the lowest client indices. When the two clusters have the same size, the
 * one with the smaller mean within-cluster distance is kept; if that ties too (e.g. n = 2) both
 * are kept. With one client, it is kept. Non-finite clients are dropped and their norms are not
 * recorded.
 *
 * Hostile numbers: norms and cosines come from a float64 Gram matrix (per pair, no client's
 * magnitude changes another pair's cosine), so finite updates up to ±3.4·10³⁸ or a sparse 10³⁰
 * blinder give finite norms and distances in [0, 2]. The output is a mean of updates each
 * clipped to norm τ (weights min(1, τ/‖xᵢ‖)/|S|), so its norm is at most τ and it is finite.
 * Limits: the history holds at most 10⁶ norms; average linkage is O(n³).
 *
 * Cost: one uncentred Gram pass (n²d/2; the norms are its diagonal), O(n³) clustering, one combine
 * pass.
 *
 * @param updates - this round's n client updates, each a `Float32Array` of the same length d; not
 *   modified. Clients holding NaN or ±Inf are dropped, their norms not recorded (or throw, see
 *   `nonFinite`).
 * @param options - see {@link ClippedClusteringOptions}: `normHistory` (earlier rounds' norms, at
 *   most 10⁶ finite numbers ≥ 0; default none), `maxTau` (cap on τ, ≥ 0; default +∞), `nonFinite`
 *   (default `'drop'`).
 * @returns the mean of the larger cluster's clipped updates, a new `Float32Array` of length d (use
 *   {@link clippedClusteringWithDecision} to carry the norm history across rounds).
 * @example
 * ```ts
 * import { clippedClustering } from 'robust-agg';
 *
 * // Five clients, d = 3: three honest ones point one way, two attackers the other way, far out.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(-30, 30, -15),
 *   Float32Array.of(-31, 29, -16),
 * ];
 * console.log(clippedClustering(updates)); // the mean of the three honest updates, clipped to τ
 * ```
 */
export function clippedClustering(updates: Updates, options?: ClippedClusteringOptions): Float32Array {
  return clippedClusteringWithDecision(updates, options).aggregate;
}

/**
 * {@link clippedClustering} together with its {@link ClippedClusteringDecision} and the updated
 * norm history.
 *
 * @param updates - this round's n client updates, each a `Float32Array` of the same length d; not
 *   modified. Clients holding NaN or ±Inf are dropped, their norms not recorded (or throw, see
 *   `nonFinite`).
 * @param options - see {@link ClippedClusteringOptions}: `normHistory` (earlier rounds' norms, at
 *   most 10⁶ finite numbers ≥ 0; default none), `maxTau` (cap on τ, ≥ 0; default +∞), `nonFinite`
 *   (default `'drop'`).
 * @example
 * ```ts
 * import { clippedClusteringWithDecision } from 'robust-agg';
 *
 * // The caller keeps the norm history and passes it back each round.
 * let normHistory: number[] = [];
 * const params = new Float32Array(2);
 * for (let round = 0; round < 3; round++) {
 *   const updates = [
 *     Float32Array.of(1, 0.1 * round),
 *     Float32Array.of(0.9, 0.2),
 *     Float32Array.of(1.2, 0),
 *     Float32Array.of(-40, -40), // an attacker
 *   ];
 *   const result = clippedClusteringWithDecision(updates, { normHistory });
 *   normHistory = result.normHistory;
 *   for (let k = 0; k < params.length; k++) params[k] += result.aggregate[k];
 *   console.log(round, result.decision.selected, result.decision.tau); // [0, 1, 2] and τ
 * }
 * console.log(normHistory.length, params); // 12 norms
 * ```
 */
export function clippedClusteringWithDecision(
  updates: Updates,
  options?: ClippedClusteringOptions,
): ClippedClusteringAggregation {
  const rule = 'clippedClustering';
  const opts = readOptions(rule, options, ['normHistory', 'maxTau', 'nonFinite']);
  const maxTau = requireLimit(rule, 'maxTau', opts.maxTau ?? Infinity, 0);
  const past = readNormHistory(rule, opts.normHistory);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const rows = clients.rows;
  const m = rows.length;
  const g = gram(rows, null);
  const { tau, normHistory, clip, labels, chosen, w } = clippedClusteringFromGram(g, m, past, maxTau);
  const allLabels = new Int32Array(clients.n).fill(-1);
  for (let k = 0; k < m; k++) allLabels[clients.index[k]] = labels[k];
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      tau,
      clipFactors: weightsOverInput(clip, clients),
      labels: allLabels,
    },
    normHistory,
  };
}

/**
 * Agglomerative clustering with average linkage (UPGMA; Lance–Williams update
 * d(k, i∪j) = (|i|·d(k,i) + |j|·d(k,j))/(|i| + |j|)) until two clusters remain. Labels: 0 for the
 * cluster holding client 0, 1 for the other. Ties between merge candidates go to the pair whose
 * smallest members are lowest.
 */
export function averageLinkageTwoClusters(dist: Float64Array, m: number): Int32Array {
  const labels = new Int32Array(m);
  if (m <= 2) {
    for (let k = 0; k < m; k++) labels[k] = k;
    return labels;
  }
  // Active clusters in order of their smallest member; d holds the inter-cluster distances.
  const members: number[][] = Array.from({ length: m }, (_, k) => [k]);
  const d = Float64Array.from(dist);
  const alive = new Array<boolean>(m).fill(true);
  for (let left = m; left > 2; left--) {
    let bi = -1;
    let bj = -1;
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < m; j++) {
        if (alive[j] && d[i * m + j] < best) {
          best = d[i * m + j];
          bi = i;
          bj = j;
        }
      }
    }
    const si = members[bi].length;
    const sj = members[bj].length;
    for (let k = 0; k < m; k++) {
      if (!alive[k] || k === bi || k === bj) continue;
      const merged = (si * d[k * m + bi] + sj * d[k * m + bj]) / (si + sj);
      d[k * m + bi] = merged;
      d[bi * m + k] = merged;
    }
    members[bi] = members[bi].concat(members[bj]);
    alive[bj] = false;
  }
  let label = 0;
  for (let i = 0; i < m; i++) {
    if (!alive[i]) continue;
    for (const k of members[i]) labels[k] = label;
    label++;
  }
  return labels;
}

/** The larger cluster; on a size tie the tighter one (mean within-cluster distance); else both. */
export function keptCluster(dist: Float64Array, m: number, labels: Int32Array): number[] {
  const groups: number[][] = [[], []];
  for (let k = 0; k < m; k++) groups[labels[k]].push(k);
  if (groups[1].length === 0) return groups[0];
  if (groups[0].length !== groups[1].length) {
    return groups[0].length > groups[1].length ? groups[0] : groups[1];
  }
  const spread = groups.map((g) => {
    let s = 0;
    let pairs = 0;
    for (let a = 0; a < g.length; a++) {
      for (let b = a + 1; b < g.length; b++) {
        s += dist[g[a] * m + g[b]];
        pairs++;
      }
    }
    return pairs === 0 ? 0 : s / pairs;
  });
  if (spread[0] < spread[1]) return groups[0];
  if (spread[1] < spread[0]) return groups[1];
  return [...groups[0], ...groups[1]].sort((a, b) => a - b);
}

/**
 * The decision of clippedClustering from the uncentred Gram matrix g (m×m) of the finite clients:
 * τ = min(maxTau, median of the past norms and these), the norm history kept (its last
 * CLIPPED_CLUSTERING_MAX_HISTORY entries), the clip factors, the two average-linkage clusters on
 * cosine distances (zero vectors at distance 0 from each other: cosinesFromGram gives them cosine
 * 0) and the kept cluster's weights clip/|kept|. Shared by the rule and the sharded coordinator.
 *
 * @internal
 */
export function clippedClusteringFromGram(
  g: Float64Array,
  m: number,
  past: Float64Array,
  maxTau: number,
): { tau: number; normHistory: number[]; clip: Float64Array; labels: Int32Array; chosen: number[]; w: Float64Array } {
  const norms = new Float64Array(m);
  for (let k = 0; k < m; k++) norms[k] = Math.sqrt(Math.max(0, g[k * m + k]));
  const all = new Float64Array(past.length + m);
  all.set(past);
  all.set(norms, past.length);
  const tau = Math.min(maxTau, medianOf(all));
  const normHistory = Array.from(all.subarray(Math.max(0, all.length - CLIPPED_CLUSTERING_MAX_HISTORY)));
  const clip = new Float64Array(m);
  for (let k = 0; k < m; k++) clip[k] = norms[k] > tau ? tau / norms[k] : 1;
  const cos = cosinesFromGram(g, m);
  const dist = new Float64Array(m * m);
  for (let t = 0; t < m * m; t++) dist[t] = 1 - cos[t];
  for (let k = 0; k < m; k++) dist[k * m + k] = 0;
  for (let i = 0; i < m; i++) {
    if (norms[i] !== 0) continue;
    for (let j = 0; j < m; j++) if (norms[j] === 0) dist[i * m + j] = 0;
  }
  const labels = averageLinkageTwoClusters(dist, m);
  const chosen = keptCluster(dist, m, labels);
  const w = new Float64Array(m);
  for (const k of chosen) w[k] = clip[k] / chosen.length;
  return { tau, normHistory, clip, labels, chosen, w };
}

/**
 * Reads clippedClustering's `normHistory` option once into float64: an array of at most
 * CLIPPED_CLUSTERING_MAX_HISTORY finite norms ≥ 0 (default none), else `INVALID_OPTION`.
 *
 * @internal
 */
export function readNormHistory(rule: string, given: unknown): Float64Array {
  given ??= [];
  if (!Array.isArray(given)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: normHistory must be an array of norms, got ${describeValue(given)}`);
  }
  if (given.length > CLIPPED_CLUSTERING_MAX_HISTORY) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: normHistory holds ${given.length} norms, more than ${CLIPPED_CLUSTERING_MAX_HISTORY}; keep the most recent ones`,
    );
  }
  const history = given as readonly unknown[];
  const count = history.length;
  const past = new Float64Array(count); // each entry read once
  for (let t = 0; t < count; t++) {
    const v = history[t];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: normHistory[${t}] must be a finite norm ≥ 0, got ${describeValue(v)}`);
    }
    past[t] = v;
  }
  return past;
}
