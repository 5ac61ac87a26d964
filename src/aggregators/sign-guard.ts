import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import { describeValue, readOptions, requireInteger, requireNumber, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions, type Rng } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { rowNorms } from '../kernels/norms.js';
import { medianOf } from './catalogue-similarity.js';

/**
 * How {@link signGuard} clusters the clients' sign statistics:
 * - `'meanShift'` (default): flat-kernel mean shift, as the paper and its authors' code;
 * - `'dbscan'`: DBSCAN (Ester et al., KDD 1996) with radius `eps` and `minSamples`, FLPoison's
 *   default (eps 0.05, min_samples 3);
 * - `'kmeans'`: k-means with k = 2 (Lloyd's iterations from seeded k-means++ starts), FLPoison's
 *   third choice.
 * In every case the most populated cluster is kept.
 */
export type SignGuardClustering = 'meanShift' | 'dbscan' | 'kmeans';

/** Most clients {@link signGuard} puts in one DBSCAN neighbourhood count: `minSamples` ≤ this. */
export const MAX_MIN_SAMPLES = 1_000_000;

/**
 * Options of {@link signGuard}. Randomized (the coordinate window): pass `seed` or `rng`. Unknown
 * keys throw `UNKNOWN_OPTION`.
 */
export interface SignGuardOptions extends CommonOptions, RandomOptions {
  /**
   * Norm filter keeps clients with ‖xᵢ‖ > lowerRatio·M (M the median norm): a finite number ≥ 0.
   * Default 0.1.
   */
  lowerRatio?: number;
  /** Norm filter keeps clients with ‖xᵢ‖ < upperRatio·M: a finite number > lowerRatio. Default 3. */
  upperRatio?: number;
  /**
   * Fraction of the d coordinates, one random contiguous window, for the sign statistics: a
   * number in (0, 1] (the window holds ⌊fraction·d⌋ coordinates, at least 1, at most d).
   * Default 0.1.
   */
  coordinateFraction?: number;
  /**
   * Quantile of the mean-shift bandwidth estimate (scikit-learn's `estimate_bandwidth`): a number
   * in [0, 1]. Default 0.5.
   */
  bandwidthQuantile?: number;
  /**
   * The clustering of the sign statistics (see {@link SignGuardClustering}): `'meanShift'`,
   * `'dbscan'` or `'kmeans'`. Default `'meanShift'`.
   */
  clustering?: SignGuardClustering;
  /**
   * DBSCAN's radius (with `clustering: 'dbscan'` only): clients within eps of each other (in the
   * 3-D space of normalised sign fractions, where every coordinate is in [0, 1]) are neighbours. A
   * finite number > 0. Default 0.05 (FLPoison).
   */
  eps?: number;
  /**
   * DBSCAN's minimum neighbourhood size, the client itself included as scikit-learn counts it
   * (with `clustering: 'dbscan'` only): an integer in [1, 10⁶]. Default 3 (FLPoison). With fewer
   * clients than this nobody is a core point, no cluster forms and the output is the zero vector.
   */
  minSamples?: number;
}

/** Decision of {@link signGuard}. */
export interface SignGuardDecision extends Decision {
  /** Clients that passed both filters (ascending); their clipped updates are averaged. */
  readonly selected: readonly number[];
  /** Output = Σ wᵢ xᵢ with wᵢ = min(1, M/‖xᵢ‖)/|selected| for the selected clients. */
  readonly weights: Float64Array;
  /** M, the median norm of the finite clients: the norm filter's scale and the clipping bound. */
  readonly medianNorm: number;
  /** Clients that passed the norm filter lowerRatio·M < ‖xᵢ‖ < upperRatio·M (ascending). */
  readonly normFiltered: readonly number[];
  /** Clients in the largest cluster of sign statistics (ascending). */
  readonly largestCluster: readonly number[];
  /**
   * Cluster of each client (−1 = outlier or dropped). Mean shift: 0 is the mode with the most
   * points within the bandwidth; DBSCAN and k-means: clusters numbered by size, largest first
   * (ties: the one holding the lowest client index first).
   */
  readonly labels: Int32Array;
  /** The clustering used. */
  readonly clustering: SignGuardClustering;
  /** The coordinate window [start, start + length) the sign statistics were computed on. */
  readonly window: {
    /** First coordinate of the window. */
    readonly start: number;
    /** Number of coordinates in the window. */
    readonly length: number;
  };
}

/**
 * SignGuard (Xu, Huang, Hu & Zhang, "SignGuard: Byzantine-robust federated learning through
 * collaborative malicious gradient filtering", ICDCS 2022):
 * 1. norm filter: keep lowerRatio·M < ‖xᵢ‖ < upperRatio·M, M = median ‖xᵢ‖;
 * 2. sign clustering: on a random window of coordinates, each client's fractions of positive,
 *    zero and negative values, each divided by its maximum over the clients, are clustered by
 *    mean shift; keep the most populated cluster;
 * 3. average the clients that pass both, each clipped to norm M: Σ xᵢ·min(1, M/‖xᵢ‖)/|S|.
 * Needs no f.
 *
 * Our choices, following the authors' code where the paper leaves room: the window is one
 * contiguous block of ⌊coordinateFraction·d⌋ coordinates (at least 1) at a seeded random offset;
 * the features are divided by (max + 1e-8); mean shift uses a flat kernel of bandwidth h =
 * scikit-learn's `estimate_bandwidth(quantile)` computed on all clients (the authors subsample 50),
 * every client as a seed (no bin seeding), modes merged within h, clients farther than h from
 * every mode left out (`cluster_all=False`). M is the median with the mean of the two middle
 * values for even n (DESIGN §3; the authors' torch median takes the lower one). When no client
 * passes both filters the output is the zero vector. Non-finite clients are dropped.
 *
 * Hostile numbers and edge cases: norms are float64 (no finite float32 update overflows them), so
 * a client of magnitude up to 3.4·10³⁸, or a sparse 10³⁰ blinder, fails the norm filter while
 * the honest clients hold the median; the output is a mean of updates clipped to norm M, each
 * coordinate within the range of the selected updates (finite). A zero client never passes the
 * norm filter (‖0‖ > lowerRatio·M is false), and when the median norm is 0 no client passes and
 * the output is the zero vector. Identical clients have identical sign statistics (one mode).
 * Limits: the window holds at most d coordinates; mean shift runs at most 300 iterations per
 * seed, O(300·n²) in all; DBSCAN is O(n²); k-means 10 × at most 300 iterations of O(n).
 *
 * Cost: one pass for the norms, one over the window for the signs, O(n²) mean shift per
 * iteration in 3-D, one combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link SignGuardOptions}: `seed` or `rng` (required: the window is random),
 *   `lowerRatio` (finite ≥ 0; default 0.1), `upperRatio` (finite > lowerRatio; default 3),
 *   `coordinateFraction` (in (0, 1]; default 0.1), `bandwidthQuantile` (in [0, 1]; default 0.5),
 *   `clustering` (`'meanShift'`, `'dbscan'` or `'kmeans'`; default `'meanShift'`), `eps` (DBSCAN
 *   radius, finite > 0; default 0.05), `minSamples` (DBSCAN, an integer in [1, 10⁶]; default 3),
 *   `nonFinite` (default `'drop'`).
 * @returns the mean of the selected clients clipped to norm M, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { signGuard } from 'robust-agg';
 *
 * // Eight clients, d = 100: six honest ones (mostly positive coordinates), one attacker with
 * // flipped signs and one with a huge norm.
 * const honest = Array.from({ length: 6 }, (_, i) => Float32Array.from({ length: 100 }, (_, k) => 1 + Math.sin(i + k)));
 * const updates = [...honest, honest[0].map((v) => -v), honest[1].map((v) => 100 * v)];
 * console.log(signGuard(updates, { seed: 42 }).slice(0, 4));
 * // FLPoison's default clustering: DBSCAN with eps 0.05 and min_samples 3.
 * console.log(signGuard(updates, { seed: 42, clustering: 'dbscan' }).slice(0, 4));
 * ```
 */
export function signGuard(updates: Updates, options: SignGuardOptions): Float32Array {
  return signGuardWithDecision(updates, options).aggregate;
}

/**
 * {@link signGuard} together with its {@link SignGuardDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link SignGuardOptions}: `seed` or `rng` (required: the window is random),
 *   `lowerRatio` (finite ≥ 0; default 0.1), `upperRatio` (finite > lowerRatio; default 3),
 *   `coordinateFraction` (in (0, 1]; default 0.1), `bandwidthQuantile` (in [0, 1]; default 0.5),
 *   `clustering` (`'meanShift'`, `'dbscan'` or `'kmeans'`; default `'meanShift'`), `eps` (DBSCAN
 *   radius, finite > 0; default 0.05), `minSamples` (DBSCAN, an integer in [1, 10⁶]; default 3),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { signGuardWithDecision } from 'robust-agg';
 *
 * // Eight clients, d = 100: six honest ones (mostly positive coordinates), one attacker with
 * // flipped signs and one with a huge norm.
 * const honest = Array.from({ length: 6 }, (_, i) => Float32Array.from({ length: 100 }, (_, k) => 1 + Math.sin(i + k)));
 * const updates = [...honest, honest[0].map((v) => -v), honest[1].map((v) => 100 * v)];
 * const { decision } = signGuardWithDecision(updates, { seed: 1, coordinateFraction: 0.5 });
 * console.log(decision.normFiltered);   // client 7 fails the norm filter
 * console.log(decision.largestCluster); // client 6 falls outside the main sign cluster
 * console.log(decision.selected);       // [0, …, 5]
 * ```
 */
export function signGuardWithDecision(updates: Updates, options: SignGuardOptions): Aggregation<SignGuardDecision> {
  const rule = 'signGuard';
  const { lower, upper, fraction, quantile, clustering, eps, minSamples, rng, nonFinite } = readSignGuardOptions(rule, options);
  const clients = finiteClients(updates, rule, nonFinite);
  const { rows, d } = clients;
  const m = rows.length;

  const norms = rowNorms(rows);
  const median = medianOf(norms);
  const passNorm: number[] = [];
  for (let k = 0; k < m; k++) if (norms[k] > lower * median && norms[k] < upper * median) passNorm.push(k);

  const length = Math.min(d, Math.max(1, Math.floor(fraction * d)));
  const start = length < d ? rng.nextInt(d - length + 1) : 0;
  const features = signFeatures(rows, start, length);
  const { labels, inCluster, chosen, w } = signGuardSelection(features, m, passNorm, norms, median, {
    clustering,
    quantile,
    eps,
    minSamples,
    rng,
  });
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
      medianNorm: median,
      normFiltered: indicesOverInput(passNorm, clients),
      largestCluster: indicesOverInput(inCluster, clients),
      labels: allLabels,
      clustering,
      window: { start, length },
    },
  };
}

/**
 * Per client, the fractions of positive, zero and negative values in the window, each divided
 * by its largest value over the clients (+1e-8): m points in 3-D, row-major.
 */
function signFeatures(rows: readonly Float32Array[], start: number, length: number): Float64Array {
  const m = rows.length;
  const out = new Float64Array(m * 3);
  const largest = [0, 0, 0];
  for (let k = 0; k < m; k++) {
    const x = rows[k];
    let pos = 0;
    let neg = 0;
    for (let c = start; c < start + length; c++) {
      if (x[c] > 0) pos++;
      else if (x[c] < 0) neg++;
    }
    const f = [pos / length, (length - pos - neg) / length, neg / length];
    for (let t = 0; t < 3; t++) {
      out[k * 3 + t] = f[t];
      if (f[t] > largest[t]) largest[t] = f[t];
    }
  }
  for (let k = 0; k < m; k++) for (let t = 0; t < 3; t++) out[k * 3 + t] /= largest[t] + 1e-8;
  return out;
}

function dist3(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const x = a[i] - b[j];
  const y = a[i + 1] - b[j + 1];
  const z = a[i + 2] - b[j + 2];
  return Math.sqrt(x * x + y * y + z * z);
}

/**
 * Flat-kernel mean shift (Comaniciu & Meer, IEEE TPAMI 2002) on m points in 3-D, seeded from
 * every point, with scikit-learn's post-processing: modes sorted by the number of points within
 * the bandwidth (then by coordinates, descending), a mode within the bandwidth of a better one
 * dropped, each point labelled by its nearest mode, or −1 farther than the bandwidth from all.
 */
export function meanShiftLabels(points: Float64Array, m: number, quantile: number): Int32Array {
  const h = estimateBandwidth(points, m, quantile);
  const modes: { centre: number[]; intensity: number }[] = [];
  const stop = 1e-3 * h;
  for (let s = 0; s < m; s++) {
    let centre = [points[s * 3], points[s * 3 + 1], points[s * 3 + 2]];
    let intensity = 0;
    for (let it = 0; it < 300; it++) {
      const sum = [0, 0, 0];
      let count = 0;
      for (let k = 0; k < m; k++) {
        if (dist3(points, k * 3, centre, 0) <= h) {
          sum[0] += points[k * 3];
          sum[1] += points[k * 3 + 1];
          sum[2] += points[k * 3 + 2];
          count++;
        }
      }
      if (count === 0) break;
      intensity = count;
      const next = [sum[0] / count, sum[1] / count, sum[2] / count];
      const moved = dist3(next, 0, centre, 0);
      centre = next;
      if (moved <= stop) break;
    }
    if (intensity > 0) modes.push({ centre, intensity });
  }
  modes.sort(
    (a, b) =>
      b.intensity - a.intensity ||
      b.centre[0] - a.centre[0] ||
      b.centre[1] - a.centre[1] ||
      b.centre[2] - a.centre[2],
  );
  const kept: number[][] = [];
  const removed = new Array<boolean>(modes.length).fill(false);
  for (let i = 0; i < modes.length; i++) {
    if (removed[i]) continue;
    kept.push(modes[i].centre);
    for (let j = i + 1; j < modes.length; j++) {
      if (!removed[j] && dist3(modes[i].centre, 0, modes[j].centre, 0) <= h) removed[j] = true;
    }
  }
  const labels = new Int32Array(m).fill(-1);
  for (let k = 0; k < m; k++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let c = 0; c < kept.length; c++) {
      const dkc = dist3(points, k * 3, kept[c], 0);
      if (dkc < bestDistance) {
        best = c;
        bestDistance = dkc;
      }
    }
    if (bestDistance <= h) labels[k] = best;
  }
  return labels;
}

/**
 * scikit-learn's `estimate_bandwidth`: the mean over points of the distance to their k-th nearest
 * point, the point itself counted first, k = max(1, ⌊m·quantile⌋).
 */
function estimateBandwidth(points: Float64Array, m: number, quantile: number): number {
  const k = Math.max(1, Math.floor(m * quantile));
  const row = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) row[j] = dist3(points, i * 3, points, j * 3);
    row.sort();
    total += row[Math.min(k, m) - 1];
  }
  return total / m;
}

/**
 * DBSCAN (Ester, Kriegel, Sander & Xu, KDD 1996) on m points in 3-D, as scikit-learn labels it:
 * neighbours within distance ≤ eps (the point itself included), core points with at least
 * minSamples neighbours, clusters grown depth-first from each unlabelled core point in index order;
 * a border point joins the first cluster that reaches it; the rest are −1.
 */
export function dbscanLabels(points: Float64Array, m: number, eps: number, minSamples: number): Int32Array {
  const neighbours: number[][] = [];
  for (let i = 0; i < m; i++) {
    const list: number[] = [];
    for (let j = 0; j < m; j++) if (dist3(points, i * 3, points, j * 3) <= eps) list.push(j);
    neighbours.push(list);
  }
  const core = neighbours.map((list) => list.length >= minSamples);
  const labels = new Int32Array(m).fill(-1);
  let next = 0;
  for (let i = 0; i < m; i++) {
    if (labels[i] !== -1 || !core[i]) continue;
    const stack = [i];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (labels[v] !== -1) continue;
      labels[v] = next;
      if (core[v]) for (const w of neighbours[v]) if (labels[w] === -1) stack.push(w);
    }
    next++;
  }
  return labels;
}

/**
 * k-means with k = 2 on m points in 3-D: 10 seeded k-means++ starts (Arthur & Vassilvitskii, SODA
 * 2007), each followed by at most 300 Lloyd iterations; the run of least inertia wins (first on
 * ties). Returns labels 0/1 (all 0 when every point coincides with the first centre).
 */
export function twoMeansLabels(points: Float64Array, m: number, rng: Rng): Int32Array {
  let best: Int32Array = new Int32Array(m);
  let bestInertia = Infinity;
  for (let start = 0; start < 10; start++) {
    const first = rng.nextInt(m);
    const centres = [[points[first * 3], points[first * 3 + 1], points[first * 3 + 2]]];
    const d2 = new Float64Array(m);
    let total = 0;
    for (let k = 0; k < m; k++) {
      d2[k] = dist3(points, k * 3, centres[0], 0) ** 2;
      total += d2[k];
    }
    if (total > 0) {
      // Draw the second centre with probability ∝ squared distance (the last positive one if
      // rounding leaves u ≥ 0 after the loop).
      let u = rng.next() * total;
      let pick = -1;
      for (let k = 0; k < m; k++) {
        if (d2[k] === 0) continue;
        pick = k;
        u -= d2[k];
        if (u < 0) break;
      }
      centres.push([points[pick * 3], points[pick * 3 + 1], points[pick * 3 + 2]]);
    }
    const labels = new Int32Array(m);
    for (let it = 0; it < 300; it++) {
      let changed = it === 0;
      for (let k = 0; k < m; k++) {
        let label = 0;
        for (let c = 1; c < centres.length; c++) {
          if (dist3(points, k * 3, centres[c], 0) < dist3(points, k * 3, centres[label], 0)) label = c;
        }
        if (labels[k] !== label) changed = true;
        labels[k] = label;
      }
      if (!changed) break;
      for (let c = 0; c < centres.length; c++) {
        const sum = [0, 0, 0];
        let count = 0;
        for (let k = 0; k < m; k++) {
          if (labels[k] !== c) continue;
          sum[0] += points[k * 3];
          sum[1] += points[k * 3 + 1];
          sum[2] += points[k * 3 + 2];
          count++;
        }
        if (count > 0) centres[c] = [sum[0] / count, sum[1] / count, sum[2] / count];
      }
    }
    let inertia = 0;
    for (let k = 0; k < m; k++) inertia += dist3(points, k * 3, centres[labels[k]], 0) ** 2;
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = labels;
    }
  }
  return best;
}

/** Renumbers cluster labels by size, largest first (ties: the cluster with the lowest member first); −1 stays. */
export function bySize(labels: Int32Array): Int32Array {
  const info = new Map<number, { size: number; first: number }>();
  labels.forEach((l, k) => {
    if (l < 0) return;
    const entry = info.get(l);
    if (entry === undefined) info.set(l, { size: 1, first: k });
    else entry.size++;
  });
  const order = [...info.entries()].sort((a, b) => b[1].size - a[1].size || a[1].first - b[1].first).map(([l]) => l);
  const rename = new Map(order.map((l, rank) => [l, rank]));
  return labels.map((l) => (l < 0 ? -1 : rename.get(l)!));
}

/**
 * SignGuard's selection from the sign features (m × 3) and the norm filter: cluster the features,
 * keep the largest cluster (ties: the lowest label; no cluster at all, e.g. DBSCAN without a core
 * point: nobody), intersect it with the clients that passed the norm filter, and weight each kept
 * client by min(1, median/‖xₖ‖)/|kept|. Shared by signGuard and the sharded coordinator.
 *
 * @internal
 */
export function signGuardSelection(
  features: Float64Array,
  m: number,
  passNorm: readonly number[],
  norms: Float64Array,
  median: number,
  o: { clustering: SignGuardClustering; quantile: number; eps: number; minSamples: number; rng: Rng },
): { labels: Int32Array; inCluster: number[]; chosen: number[]; w: Float64Array } {
  const labels =
    o.clustering === 'meanShift'
      ? meanShiftLabels(features, m, o.quantile)
      : o.clustering === 'dbscan'
        ? bySize(dbscanLabels(features, m, o.eps, o.minSamples))
        : bySize(twoMeansLabels(features, m, o.rng));
  const sizes = new Map<number, number>();
  for (const l of labels) if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  let biggest = -1;
  let biggestSize = 0;
  for (const [l, size] of [...sizes].sort((a, b) => a[0] - b[0])) {
    if (size > biggestSize) {
      biggest = l;
      biggestSize = size;
    }
  }
  const inCluster: number[] = [];
  if (biggest >= 0) for (let k = 0; k < m; k++) if (labels[k] === biggest) inCluster.push(k);
  const clusterSet = new Set(inCluster);
  const chosen = passNorm.filter((k) => clusterSet.has(k));
  const w = new Float64Array(m);
  for (const k of chosen) w[k] = (norms[k] > median ? median / norms[k] : 1) / chosen.length;
  return { labels, inCluster, chosen, w };
}

/**
 * Reads and checks signGuard's options once (defaults, ranges, the generator). Shared by the rule
 * and the sharded coordinator.
 *
 * @internal
 */
export function readSignGuardOptions(rule: string, options: SignGuardOptions | undefined) {
  const opts = readOptions(rule, options as SignGuardOptions, [
    'lowerRatio',
    'upperRatio',
    'coordinateFraction',
    'bandwidthQuantile',
    'clustering',
    'eps',
    'minSamples',
    'seed',
    'rng',
    'nonFinite',
  ]);
  const lower = requireNumber(rule, 'lowerRatio', opts.lowerRatio ?? 0.1, 0);
  const upper = requireNumber(rule, 'upperRatio', opts.upperRatio ?? 3, 0);
  if (upper <= lower) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: upperRatio (${upper}) must exceed lowerRatio (${lower})`);
  }
  const fraction = requireNumber(rule, 'coordinateFraction', opts.coordinateFraction ?? 0.1, 0, 1);
  if (fraction === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: coordinateFraction must be > 0`);
  const quantile = requireNumber(rule, 'bandwidthQuantile', opts.bandwidthQuantile ?? 0.5, 0, 1);
  const clustering: unknown = opts.clustering ?? 'meanShift';
  if (clustering !== 'meanShift' && clustering !== 'dbscan' && clustering !== 'kmeans') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clustering must be 'meanShift', 'dbscan' or 'kmeans', got ${describeValue(clustering)}`);
  }
  const eps = requireNumber(rule, 'eps', opts.eps ?? 0.05, 0, Infinity);
  if (eps === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: eps must be > 0, got 0`);
  const minSamples = requireInteger(rule, 'minSamples', opts.minSamples ?? 3, 1, MAX_MIN_SAMPLES);
  const rng = resolveValidRng(opts, rule);
  return {
    lower,
    upper,
    fraction,
    quantile,
    clustering: clustering as SignGuardClustering,
    eps,
    minSamples,
    rng,
    nonFinite: opts.nonFinite,
  };
}
