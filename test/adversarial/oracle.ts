/**
 * Exact reference decisions for the Gram rules, from float64 distances computed directly on the
 * float32 values (no Gram, no centring, no scaling): what the fast kernels' decisions are
 * compared with. A decision whose two best candidates are closer than the float32 tolerance of
 * the kernels (`TIE_TOLERANCE`) is reported as ambiguous: either pick is then correct, and the
 * tests only ask that the pick be optimal within that tolerance.
 */
import { dist2 } from './hostile-data.js';

/**
 * Relative gap below which two exact scores count as tied for a float32 kernel (its distances
 * carry a relative error of about 1e-7 of the centred norms; sums of n of them, 1e-5 leaves room).
 */
export const TIE_TOLERANCE = 1e-5;

/** Exact squared distances, row-major n×n. */
export function exactDistances(rows: readonly Float32Array[]): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = dist2(rows[i], rows[j]);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

/** Krum scores over the active clients with k neighbours (+∞ for inactive clients). */
export function krumScoresExact(dist: Float64Array, n: number, k: number, active?: readonly boolean[]): Float64Array {
  const scores = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    if (active && !active[i]) continue;
    const row: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i && (!active || active[j])) row.push(dist[i * n + j]);
    row.sort((a, b) => a - b);
    let s = 0;
    for (let t = 0; t < Math.min(k, row.length); t++) s += row[t];
    scores[i] = s;
  }
  return scores;
}

/** Whether a and b are within the tie tolerance of each other, relative to `scale`. */
export function nearTie(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= TIE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), scale);
}

/** Positions of the m lowest scores (ties: lowest index) and whether the cut at m is ambiguous. */
export function lowestExact(scores: Float64Array, m: number, scale: number): { picks: number[]; ambiguous: boolean } {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
  const picks = order.slice(0, m).sort((a, b) => a - b);
  const finite = order.filter((i) => Number.isFinite(scores[i]));
  const ambiguous = m < finite.length && nearTie(scores[order[m - 1]], scores[order[m]], scale);
  return { picks, ambiguous };
}

/** Median of the finite values (scale for the absolute part of the tie tolerance). */
export function medianFinite(values: ArrayLike<number>): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return v.length === 0 ? 0 : v[(v.length - 1) >> 1];
}

/**
 * Bulyan's selection (θ Krum rounds without replacement, max(1, n' − f − 2) neighbours) on exact
 * distances; `ambiguous` when some round's best two scores are tied within the tolerance.
 */
export function bulyanOrderExact(dist: Float64Array, n: number, f: number, theta: number): { order: number[]; ambiguous: boolean } {
  const active = new Array<boolean>(n).fill(true);
  const order: number[] = [];
  let ambiguous = false;
  for (let remaining = n; order.length < theta; remaining--) {
    const scores = krumScoresExact(dist, n, Math.max(1, remaining - f - 2), active);
    const { picks, ambiguous: tie } = lowestExact(scores, 1, medianFinite(scores));
    if (tie) ambiguous = true;
    order.push(picks[0]);
    active[picks[0]] = false;
  }
  return { order, ambiguous };
}

/** Squared diameter of a subset under the exact distances. */
export function diameter2(dist: Float64Array, n: number, subset: readonly number[]): number {
  let d = 0;
  for (const i of subset) for (const j of subset) d = Math.max(d, dist[i * n + j]);
  return d;
}

/** Coordinate median of rows (mean of the two middle values for an even count), rounded to float32. */
export function medianExact(rows: readonly Float32Array[]): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  const out = new Float32Array(d);
  const col = new Float64Array(m);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < m; i++) col[i] = rows[i][k];
    col.sort();
    out[k] = m % 2 === 1 ? col[m >> 1] : (col[m / 2 - 1] + col[m / 2]) / 2;
  }
  return out;
}

/**
 * bulyanVariant's recursive selection for the 'mean' and 'coordinateMedian' selection rules on
 * exact distances: θ rounds, each picks the active client closest to the rule's output on the
 * active clients (ties: lowest index); `ambiguous` when a round's best two are tied within the
 * tolerance.
 */
export function recursiveOrderExact(
  rows: readonly Float32Array[],
  selection: 'mean' | 'coordinateMedian',
  theta: number,
): { order: number[]; ambiguous: boolean } {
  const n = rows.length;
  const d = rows[0].length;
  const active = new Array<boolean>(n).fill(true);
  const order: number[] = [];
  let ambiguous = false;
  while (order.length < theta) {
    const members = rows.filter((_, i) => active[i]);
    let z: ArrayLike<number>;
    if (selection === 'mean') {
      const mean = new Float64Array(d);
      for (const x of members) for (let k = 0; k < d; k++) mean[k] += x[k] / members.length;
      z = mean;
    } else {
      z = medianExact(members);
    }
    const scores = new Float64Array(n).fill(Infinity);
    for (let i = 0; i < n; i++) if (active[i]) scores[i] = dist2(rows[i], z);
    const { picks, ambiguous: tie } = lowestExact(scores, 1, medianFinite(scores));
    if (tie) ambiguous = true;
    order.push(picks[0]);
    active[picks[0]] = false;
  }
  return { order, ambiguous };
}
