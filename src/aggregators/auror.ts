import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import { describeValue, readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';

/** A range of coordinates {@link auror} examines (a `LayoutSegment` is one). */
export interface AurorFeatureRange {
  /** First coordinate: an integer ≥ 0. */
  readonly offset: number;
  /** Number of coordinates: an integer ≥ 0, with offset + size ≤ d. */
  readonly size: number;
}

/** Options of {@link auror}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface AurorOptions extends CommonOptions {
  /**
   * The distance α between a feature's two cluster centres from which the feature is indicative:
   * a finite number > 0, in the units of the updates. Required: it depends on the model, the data
   * and the learning rate (FLPoison suggests 10⁻⁴ for LeNet-5 on MNIST and 7·10⁻⁴ for ResNet-18 on
   * CIFAR-10 at learning rate 0.01).
   */
  threshold: number;
  /**
   * τ: a client is flagged when it sits in a feature's suspicious cluster for at least τ·K of the K
   * indicative features. A finite number in [0.5, 1] (from 0.5 on, at least one client is never
   * flagged: each feature marks fewer than half of the clients). Default 0.5.
   */
  tau?: number;
  /**
   * The features examined: `{ offset, size }`, a range of coordinates (e.g. a `LayoutSegment` of
   * the output layer, as FLPoison does), with offset and size integers, offset + size ≤ d. Default:
   * every coordinate. The cost is O(n log n) per feature.
   */
  features?: AurorFeatureRange;
}

/** Decision of {@link auror}. */
export interface AurorDecision extends Decision {
  /** Clients averaged: those not flagged (ascending). */
  readonly selected: readonly number[];
  /** 1/|selected| for the selected clients, 0 otherwise. */
  readonly weights: Float64Array;
  /** Clients flagged as malicious (ascending). */
  readonly flagged: readonly number[];
  /** Coordinates found indicative (ascending, indices into the update). */
  readonly indicative: readonly number[];
  /** For each client, in how many indicative features it sat in the suspicious cluster (0 for dropped ones). */
  readonly suspicions: Float64Array;
}

/**
 * Auror (Shen, Tople & Saxena, "Auror: defending against poisoning attacks in collaborative deep
 * learning systems", ACSAC 2016): per feature (coordinate), cluster the n clients' values into two
 * groups; a feature whose two centres are at least α apart is *indicative*, and its smaller group
 * is its suspicious cluster. A client that falls in the suspicious cluster of at least τ·K of the K
 * indicative features is flagged as malicious; the output is the mean of the others.
 *
 * The two groups are the exact optimum of 1-D k-means with k = 2 (the split of the sorted values
 * with the least within-group sum of squares, only between distinct values; ties: the lowest
 * split), not a seeded Lloyd run, so the rule needs no seed and does not depend on the clients'
 * order. Two groups of equal size leave the feature without a suspicious cluster. With no
 * indicative feature nobody is flagged (the plain mean).
 *
 * Hostile numbers: values are sorted and summed in float64 (Welford's updates), so finite float32
 * values up to ±3.4·10³⁸ neither overflow nor decide a split by rounding; the output is the mean of
 * unflagged clients, inside their per-coordinate range.
 *
 * Cost: O(n log n) per examined feature (a sort), one combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link AurorOptions}: `threshold` (required, α > 0), `tau` (in [0.5, 1];
 *   default 0.5), `features` (a range of coordinates; default all), `nonFinite` (default `'drop'`).
 * @returns the mean of the unflagged clients, a new `Float32Array` of length d.
 * @category Aggregators
 * @example
 * ```ts
 * import { aurorWithDecision } from 'robust-agg';
 *
 * // Five clients, d = 3. Clients 3 and 4 push the first two coordinates (a targeted poison).
 * const updates = [
 *   Float32Array.of(0.10, 0.20, 0.5),
 *   Float32Array.of(0.12, 0.19, 0.6),
 *   Float32Array.of(0.11, 0.21, 0.4),
 *   Float32Array.of(0.90, -0.8, 0.5),
 *   Float32Array.of(0.92, -0.8, 0.6),
 * ];
 * const { aggregate, decision } = aurorWithDecision(updates, { threshold: 0.3 });
 * console.log(decision.indicative); // [0, 1]: the third coordinate's two groups are only 0.13 apart
 * console.log(decision.flagged);    // [3, 4]
 * console.log(aggregate);           // the mean of clients 0, 1 and 2
 * ```
 */
export function auror(updates: Updates, options: AurorOptions): Float32Array {
  return aurorWithDecision(updates, options).aggregate;
}

/**
 * {@link auror} together with its {@link AurorDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link AurorOptions}: `threshold` (required, α > 0), `tau` (in [0.5, 1];
 *   default 0.5), `features` (a range of coordinates; default all), `nonFinite` (default `'drop'`).
 * @category Aggregators
 * @example
 * ```ts
 * import { aurorWithDecision } from 'robust-agg';
 *
 * // Only the last two coordinates (the "output layer") are examined.
 * const updates = [Float32Array.of(5, 0, 0), Float32Array.of(-5, 0, 0), Float32Array.of(0, 0, 0), Float32Array.of(0, 3, 3)];
 * const { decision } = aurorWithDecision(updates, { threshold: 1, features: { offset: 1, size: 2 } });
 * console.log(decision.indicative); // [1, 2]
 * console.log(decision.flagged);    // [3]
 * ```
 */
export function aurorWithDecision(updates: Updates, options: AurorOptions): Aggregation<AurorDecision> {
  const rule = 'auror';
  const { alpha, tau, features, nonFinite } = readAurorOptions(rule, options);
  const clients = finiteClients(updates, rule, nonFinite);
  const { rows, d } = clients;
  const m = rows.length;
  const { start, size } = aurorFeatures(rule, features, d);

  const counts = new Float64Array(m);
  const indicative = aurorVotes(rows, start, start + size, alpha, counts);
  const { kept, flagged, w } = aurorSelection(counts, indicative.length, tau);
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(kept, clients),
      weights: weightsOverInput(w, clients),
      flagged: indicesOverInput(flagged, clients),
      indicative,
      suspicions: weightsOverInput(counts, clients),
    },
  };
}

/**
 * Auror's options read and checked (threshold, tau; features kept for {@link aurorFeatures}).
 * Shared by auror and the sharded coordinator.
 *
 * @internal
 */
export function readAurorOptions(
  rule: string,
  options: AurorOptions | undefined,
): { alpha: number; tau: number; features: unknown; nonFinite: AurorOptions['nonFinite'] } {
  const opts = readOptions(rule, options, ['threshold', 'tau', 'features', 'nonFinite']);
  const alpha = requireNumber(rule, 'threshold', opts.threshold as number, 0, Infinity, true);
  const tau = requireNumber(rule, 'tau', opts.tau ?? 0.5, 0.5, 1);
  return { alpha, tau, features: opts.features, nonFinite: opts.nonFinite };
}

/**
 * The feature range [start, start + size) of d coordinates (default all), checked. Shared by
 * auror and the sharded coordinator.
 *
 * @internal
 */
export function aurorFeatures(rule: string, features: unknown, d: number): { start: number; size: number } {
  let start = 0;
  let size = d;
  if (features !== undefined) {
    const fr: unknown = features;
    if (fr === null || typeof fr !== 'object') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: features must be { offset, size }, got ${describeValue(fr)}`);
    }
    const { offset, size: s } = fr as { offset: unknown; size: unknown };
    if (!Number.isInteger(offset) || !Number.isInteger(s) || (offset as number) < 0 || (s as number) < 0 || (offset as number) + (s as number) > d) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: features must be a range of integers with 0 ≤ offset and offset + size ≤ d=${d}, got offset ${describeValue(offset)}, size ${describeValue(s)}`,
      );
    }
    start = offset as number;
    size = s as number;
  }
  return { start, size };
}

/**
 * Auror's per-coordinate votes over the columns [from, to) of the m rows: each coordinate whose
 * best two-cluster split has a gap ≥ alpha is indicative, and the members of its smaller cluster
 * get one vote each (`counts`, added to). Returns the indicative coordinates (ascending). Shared by
 * auror and the shards of the sharded coordinator.
 *
 * @internal
 */
export function aurorVotes(rows: readonly Float32Array[], from: number, to: number, alpha: number, counts: Float64Array): number[] {
  const m = rows.length;
  const indicative: number[] = [];
  const order = new Int32Array(m);
  const values = new Float64Array(m);
  const sorted = new Float64Array(m);
  const rightSse = new Float64Array(m + 1);
  for (let k = from; k < to; k++) {
    for (let i = 0; i < m; i++) {
      order[i] = i;
      values[i] = rows[i][k];
    }
    order.sort((a, b) => values[a] - values[b] || a - b);
    for (let i = 0; i < m; i++) sorted[i] = values[order[i]];
    const split = bestSplit(sorted, m, rightSse);
    if (split === null || !(split.gap >= alpha)) continue;
    indicative.push(k);
    const left = split.at;
    const right = m - left;
    if (left === right) continue;
    if (left < right) for (let p = 0; p < left; p++) counts[order[p]]++;
    else for (let p = left; p < m; p++) counts[order[p]]++;
  }
  return indicative;
}

/**
 * The flagged clients (votes ≥ tau·indicative, when any coordinate is indicative), the kept
 * ones, and the kept ones' equal weights. Shared by auror and the sharded coordinator.
 *
 * @internal
 */
export function aurorSelection(counts: Float64Array, indicative: number, tau: number): { kept: number[]; flagged: number[]; w: Float64Array } {
  const m = counts.length;
  const need = tau * indicative;
  const kept: number[] = [];
  const flagged: number[] = [];
  for (let i = 0; i < m; i++) {
    if (indicative > 0 && counts[i] >= need) flagged.push(i);
    else kept.push(i);
  }
  const w = new Float64Array(m);
  for (const i of kept) w[i] = 1 / kept.length;
  return { kept, flagged, w };
}

/**
 * The optimal 1-D 2-means split of ascending values: the position `at` (left group `[0, at)`) with
 * the least total within-group sum of squares, among positions between distinct values (ties:
 * the lowest), and the distance between the two group means. Null when all values are equal.
 * Sums of squares by Welford's updates, in float64.
 */
function bestSplit(v: Float64Array, m: number, rightSse: Float64Array): { at: number; gap: number } | null {
  // Suffix sums of squares: rightSse[s] for the group [s, m).
  let mean = 0;
  let sse = 0;
  rightSse[m] = 0;
  for (let p = m - 1, count = 1; p >= 0; p--, count++) {
    const delta = v[p] - mean;
    mean += delta / count;
    sse += delta * (v[p] - mean);
    rightSse[p] = sse;
  }
  let best = -1;
  let bestSse = Infinity;
  let leftMean = 0;
  let leftSse = 0;
  for (let s = 1; s < m; s++) {
    const x = v[s - 1];
    const delta = x - leftMean;
    leftMean += delta / s;
    leftSse += delta * (x - leftMean);
    if (!(v[s - 1] < v[s])) continue;
    const total = leftSse + rightSse[s];
    if (total < bestSse) {
      bestSse = total;
      best = s;
    }
  }
  if (best < 0) return null;
  let lo = 0;
  for (let p = 0; p < best; p++) lo += (v[p] - lo) / (p + 1);
  let hi = 0;
  for (let p = best; p < m; p++) hi += (v[p] - hi) / (p - best + 1);
  return { at: best, gap: hi - lo };
}
