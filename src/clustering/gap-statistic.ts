/**
 * Exact one-dimensional k-means and the gap statistic (Tibshirani, Walther & Hastie, "Estimating
 * the number of clusters in a data set via the gap statistic", JRSS B 63(2), 2001), as FLDetector
 * uses them on its per-client suspicious scores.
 *
 * Internal (not exported from the package).
 *
 * @internal
 */
import type { Rng } from '../core/random.js';

/** Sorted distinct values with their multiplicities and prefix sums, for interval costs. */
interface Prefix {
  /** Number of distinct values. */
  readonly u: number;
  /** Distinct values, ascending. */
  readonly values: Float64Array;
  /** Prefix sums (length u + 1) of counts, c·x and c·x². */
  readonly c: Float64Array;
  readonly s1: Float64Array;
  readonly s2: Float64Array;
}

function prefixOf(data: ArrayLike<number>): Prefix {
  const sorted = Float64Array.from(data).sort();
  const values: number[] = [];
  const counts: number[] = [];
  for (let t = 0; t < sorted.length; t++) {
    if (values.length > 0 && values[values.length - 1] === sorted[t]) counts[counts.length - 1]++;
    else {
      values.push(sorted[t]);
      counts.push(1);
    }
  }
  const u = values.length;
  // Centre on the mean before squaring so the interval costs do not lose digits to cancellation.
  let mean = 0;
  for (let t = 0; t < sorted.length; t++) mean += sorted[t];
  mean = sorted.length > 0 ? mean / sorted.length : 0;
  const c = new Float64Array(u + 1);
  const s1 = new Float64Array(u + 1);
  const s2 = new Float64Array(u + 1);
  for (let t = 0; t < u; t++) {
    const x = values[t] - mean;
    c[t + 1] = c[t] + counts[t];
    s1[t + 1] = s1[t] + counts[t] * x;
    s2[t + 1] = s2[t] + counts[t] * x * x;
  }
  return { u, values: Float64Array.from(values), c, s1, s2 };
}

/** Within-cluster sum of squares of the distinct values a..b (inclusive) with their counts. */
function cost(p: Prefix, a: number, b: number): number {
  const count = p.c[b + 1] - p.c[a];
  const sum = p.s1[b + 1] - p.s1[a];
  const w = p.s2[b + 1] - p.s2[a] - (sum * sum) / count;
  return w > 0 ? w : 0;
}

/**
 * The optimal k-means objective W_k (sum of squared distances to the cluster means) of 1-D data,
 * for every k = 1..kMax, by dynamic programming over the sorted distinct values (optimal 1-D
 * clusters are intervals; Wang & Song, "Ckmeans.1d.dp", The R Journal 3(2), 2011), with the
 * divide-and-conquer speed-up (the leftmost optimal split is monotone). O(kMax·u·log u) for u
 * distinct values. W_k = 0 for k ≥ u.
 *
 * @param data - the values (finite).
 * @param kMax - the largest k, an integer ≥ 1.
 * @returns `w[k − 1]` = W_k for k = 1..kMax.
 * @internal
 */
export function kMeans1dCosts(data: ArrayLike<number>, kMax: number): Float64Array {
  const p = prefixOf(data);
  const u = p.u;
  const w = new Float64Array(kMax);
  if (u === 0) return w;
  let prev = new Float64Array(u);
  for (let j = 0; j < u; j++) prev[j] = cost(p, 0, j);
  w[0] = prev[u - 1];
  for (let k = 2; k <= kMax; k++) {
    if (k > u) break; // W_k = 0
    const next = new Float64Array(u).fill(Infinity);
    // next[j] = min over i in [k−1, j] of prev[i − 1] + cost(i, j), for j ≥ k − 1.
    const fill = (lo: number, hi: number, optLo: number, optHi: number): void => {
      if (lo > hi) return;
      const mid = (lo + hi) >> 1;
      let best = Infinity;
      let arg = Math.max(optLo, k - 1);
      for (let i = Math.max(optLo, k - 1); i <= Math.min(mid, optHi); i++) {
        const v = prev[i - 1] + cost(p, i, mid);
        if (v < best) {
          best = v;
          arg = i;
        }
      }
      next[mid] = best;
      fill(lo, mid - 1, optLo, arg);
      fill(mid + 1, hi, arg, optHi);
    };
    fill(k - 1, u - 1, k - 1, u - 1);
    w[k - 1] = next[u - 1];
    prev = next;
  }
  return w;
}

/**
 * The optimal 2-means split of 1-D data: the threshold t such that the values ≥ t form the upper
 * cluster. Equal values always fall in the same cluster; on an exact tie in the objective the
 * split with the smaller upper cluster is taken. Needs at least two distinct values (else `null`).
 *
 * @param data - the values (finite).
 * @returns the smallest value of the upper cluster, or `null` when all values are equal.
 * @internal
 */
export function twoMeansThreshold(data: ArrayLike<number>): number | null {
  const p = prefixOf(data);
  if (p.u < 2) return null;
  let best = Infinity;
  let split = -1;
  for (let i = 1; i < p.u; i++) {
    const v = cost(p, 0, i - 1) + cost(p, i, p.u - 1);
    if (v <= best) {
      best = v;
      split = i;
    }
  }
  return p.values[split];
}

/** The gap statistic's answer for one data set. */
export interface GapStatisticResult {
  /** The estimated number of clusters, in [1, kMax]. */
  readonly k: number;
  /** Gap(k) = mean over references of log W*_k − log W_k, for k = 1..kMax. */
  readonly gaps: Float64Array;
  /** s_k = sd(log W*_k)·√(1 + 1/B), for k = 1..kMax. */
  readonly s: Float64Array;
}

/** W values below this are taken as this in logarithms (W = 0 when k ≥ the distinct values). */
const TINY_W = 1e-300;

/**
 * The gap statistic on 1-D data: the data are min-max normalised to [0, 1] (as FLDetector's
 * authors do); each of `references` reference sets holds as many uniform draws on [0, 1);
 * Gap(k) = (1/B) Σ_b log W*_kb − log W_k with exact k-means costs; the answer is the smallest k
 * with Gap(k) ≥ Gap(k+1) − s_{k+1}, or kMax when there is none. Data with one distinct value
 * (or fewer than three points) give k = 1.
 *
 * @param data - the values (finite), at least one.
 * @param kMax - the largest number of clusters considered, an integer ≥ 2 (capped at the number
 *   of points minus one).
 * @param references - B, the number of uniform reference sets, an integer ≥ 1.
 * @param rng - the source of the reference draws.
 * @internal
 */
export function gapStatistic(data: ArrayLike<number>, kMax: number, references: number, rng: Rng): GapStatisticResult {
  const m = data.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < m; t++) {
    lo = Math.min(lo, data[t]);
    hi = Math.max(hi, data[t]);
  }
  const kEff = Math.max(1, Math.min(kMax, m - 1));
  if (!(hi > lo) || kEff < 2) return { k: 1, gaps: new Float64Array(kEff), s: new Float64Array(kEff) };
  const normalised = new Float64Array(m);
  for (let t = 0; t < m; t++) normalised[t] = (data[t] - lo) / (hi - lo);
  const logW = kMeans1dCosts(normalised, kEff).map((w) => Math.log(Math.max(w, TINY_W)));
  const refLogs = new Float64Array(references * kEff);
  const draw = new Float64Array(m);
  for (let b = 0; b < references; b++) {
    for (let t = 0; t < m; t++) draw[t] = rng.next();
    const w = kMeans1dCosts(draw, kEff);
    for (let k = 0; k < kEff; k++) refLogs[b * kEff + k] = Math.log(Math.max(w[k], TINY_W));
  }
  const gaps = new Float64Array(kEff);
  const s = new Float64Array(kEff);
  for (let k = 0; k < kEff; k++) {
    let mean = 0;
    for (let b = 0; b < references; b++) mean += refLogs[b * kEff + k];
    mean /= references;
    let variance = 0;
    for (let b = 0; b < references; b++) variance += (refLogs[b * kEff + k] - mean) ** 2;
    variance /= references;
    gaps[k] = mean - logW[k];
    s[k] = Math.sqrt(variance) * Math.sqrt(1 + 1 / references);
  }
  let k = kEff;
  for (let j = 1; j < kEff; j++) {
    if (gaps[j - 1] >= gaps[j] - s[j]) {
      k = j;
      break;
    }
  }
  return { k, gaps, s };
}
