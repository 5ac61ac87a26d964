/**
 * Weighted per-coordinate selection: the weighted median and the weighted trimmed mean of every
 * column of m client rows, with one weight > 0 per row (the same for every column). Plain
 * TypeScript (the WebAssembly selection kernels are unweighted): blocks of 256 columns are copied
 * transposed, and each column is reduced by a weighted quickselect, expected O(m) per coordinate
 * and O(m log m) at worst (past 2·log₂ m partitioning rounds the rest of the range is heapsorted).
 * Internal: not exported from the package.
 */

/** Columns per block (as the unweighted column kernels). */
const COLUMN_BLOCK = 256;
/** Ranges of at most this many values are insertion-sorted. */
const SMALL = 16;

/** Per-column scratch: the column's values and weights, permuted together by the selection. */
interface Column {
  readonly v: Float64Array;
  readonly w: Float64Array;
  /** Weight left of the rank the last {@link selectWeighted} returned (C_{r−1}). */
  before: number;
  /** Partitioning rounds left before the heapsort fallback. */
  depth: number;
}

/**
 * A per-column reduction. `col.v` and `col.w` hold the column's m values and weights (in row
 * order on entry; the reduction may permute them together).
 */
type ColumnReduction = (col: Column, m: number) => number;

function swap(col: Column, i: number, j: number): void {
  const v = col.v;
  const w = col.w;
  const tv = v[i];
  v[i] = v[j];
  v[j] = tv;
  const tw = w[i];
  w[i] = w[j];
  w[j] = tw;
}

/** Insertion sort of v[lo..hi] (inclusive), weights moving with their values. */
function insertionSort(col: Column, lo: number, hi: number): void {
  const { v, w } = col;
  for (let i = lo + 1; i <= hi; i++) {
    const x = v[i];
    const y = w[i];
    let j = i - 1;
    while (j >= lo && v[j] > x) {
      v[j + 1] = v[j];
      w[j + 1] = w[j];
      j--;
    }
    v[j + 1] = x;
    w[j + 1] = y;
  }
}

/** Heapsort of v[lo..hi] (inclusive), weights moving with their values: O(n log n) at worst. */
function heapSort(col: Column, lo: number, hi: number): void {
  const v = col.v;
  const n = hi - lo + 1;
  const sift = (root: number, end: number): void => {
    for (;;) {
      let child = 2 * root + 1;
      if (child >= end) return;
      if (child + 1 < end && v[lo + child + 1] > v[lo + child]) child++;
      if (!(v[lo + child] > v[lo + root])) return;
      swap(col, lo + root, lo + child);
      root = child;
    }
  };
  for (let i = (n >> 1) - 1; i >= 0; i--) sift(i, n);
  for (let end = n - 1; end > 0; end--) {
    swap(col, lo, lo + end);
    sift(0, end);
  }
}

/**
 * Weighted quickselect. With `acc` the weight of the values left of `lo` (all ≤ those in
 * [lo, hi]), finds the smallest rank r in [lo, hi] whose cumulative weight C_r (in sorted order)
 * is ≥ target (> target when `strict`), and leaves v[lo..r−1] ≤ v[r] ≤ v[r+1..hi]; sets
 * `col.before` = C_r − w_r. Returns hi when rounding leaves every C_r short of the target.
 * Hoare partitioning around a median of three; equal values are a contiguous block after each
 * round, scanned in place. Cumulative weights are float64 sums (exact for integer weights whose
 * total is below 2⁵³).
 */
function selectWeighted(col: Column, lo: number, hi: number, acc: number, target: number, strict: boolean): number {
  const v = col.v;
  const w = col.w;
  let depth = col.depth;
  while (hi - lo > SMALL) {
    if (depth-- <= 0) {
      heapSort(col, lo, hi);
      break;
    }
    const mid = (lo + hi) >>> 1;
    if (v[mid] < v[lo]) swap(col, mid, lo);
    if (v[hi] < v[lo]) swap(col, hi, lo);
    if (v[hi] < v[mid]) swap(col, hi, mid);
    const pivot = v[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const tv = v[i];
        v[i] = v[j];
        v[j] = tv;
        const tw = w[i];
        w[i] = w[j];
        w[j] = tw;
        i++;
        j--;
      }
    }
    // v[lo..j] ≤ pivot ≤ v[i..hi]; v[j+1..i−1] (if any) equal the pivot.
    let left = acc;
    for (let p = lo; p <= j; p++) left += w[p];
    if (strict ? left > target : left >= target) {
      hi = j;
      continue;
    }
    acc = left;
    for (let p = j + 1; p < i; p++) {
      const next = acc + w[p];
      if (strict ? next > target : next >= target) {
        col.before = acc;
        col.depth = depth;
        return p;
      }
      acc = next;
    }
    lo = i;
  }
  col.depth = depth;
  if (hi - lo <= SMALL) insertionSort(col, lo, hi);
  for (let p = lo; p < hi; p++) {
    const next = acc + w[p];
    if (strict ? next > target : next >= target) {
      col.before = acc;
      return p;
    }
    acc = next;
  }
  col.before = acc;
  return hi;
}

/**
 * Applies `reduce` to every column of `rows` with the weights `s` (copied per column: the
 * reduction permutes them with the values). Each result is rounded to float32; a zero is
 * written as +0.
 */
function reduceWeightedColumns(
  rows: readonly Float32Array[],
  s: Float64Array,
  reduce: ColumnReduction,
  depthLimit?: number,
): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  const out = new Float32Array(d);
  const block = new Float32Array(m * Math.min(COLUMN_BLOCK, d));
  const col: Column = { v: new Float64Array(m), w: new Float64Array(m), before: 0, depth: 0 };
  let limit = 2;
  for (let k = 1; k < m; k *= 2) limit += 2;
  if (depthLimit !== undefined) limit = depthLimit;
  for (let c0 = 0; c0 < d; c0 += COLUMN_BLOCK) {
    const width = Math.min(COLUMN_BLOCK, d - c0);
    for (let i = 0; i < m; i++) {
      const row = rows[i];
      for (let c = 0; c < width; c++) block[c * m + i] = row[c0 + c];
    }
    for (let c = 0; c < width; c++) {
      const base = c * m;
      for (let i = 0; i < m; i++) col.v[i] = block[base + i];
      col.w.set(s);
      col.depth = limit;
      const x = Math.fround(reduce(col, m));
      out[c0 + c] = x === 0 ? 0 : x;
    }
  }
  return out;
}

/**
 * The weighted median of every coordinate. With the m values of one coordinate sorted
 * ascending, x₍₁₎ ≤ … ≤ x₍ₘ₎, their weights s₍ⱼ₎ > 0, W = Σ sⱼ and the cumulative weights
 * Cⱼ = s₍₁₎ + … + s₍ⱼ₎:
 *
 *   lower = x₍ⱼ₎ for the smallest j with Cⱼ ≥ W/2,  upper = x₍ⱼ'₎ for the smallest j' with Cⱼ' > W/2,
 *   out = (lower + upper) / 2  (float64, rounded once to float32).
 *
 * lower is the lower weighted median of Cormen et al. (Introduction to Algorithms, 3rd ed., 2009,
 * Problem 9-2); lower and upper differ only when the cumulative weight is exactly W/2 at lower,
 * and then the midpoint is taken, as numpy's median does for an even count.
 *
 * @param rows - m ≥ 1 rows of length d ≥ 1 (finite float32 values).
 * @param s - one weight > 0 per row, finite, with a finite sum.
 * @param depthLimit - partitioning rounds before the heapsort fallback (default 2 + 2⌈log₂ m⌉;
 *   tests pass 0 to check the fallback).
 */
export function weightedColumnMedian(rows: readonly Float32Array[], s: Float64Array, depthLimit?: number): Float32Array {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  const half = total / 2;
  return reduceWeightedColumns(rows, s, (col, m) => {
    const r = selectWeighted(col, 0, m - 1, 0, half, false);
    const lower = col.v[r];
    if (col.before + col.w[r] > half || r === m - 1) return lower;
    // The cumulative weight is exactly W/2 at lower: upper is the next value, the smallest right of r.
    let upper = col.v[r + 1];
    for (let p = r + 2; p < m; p++) if (col.v[p] < upper) upper = col.v[p];
    return (lower + upper) / 2;
  }, depthLimit);
}

/**
 * The weighted trimmed mean of every coordinate: a weight mass T = β·W trimmed from each tail,
 * partial weights at the boundaries. With the sorted values and cumulative weights of
 * {@link weightedColumnMedian} (C₀ = 0), the value x₍ⱼ₎ keeps the part of its weight interval
 * [Cⱼ₋₁, Cⱼ] that lies inside [T, W − T]:
 *
 *   kⱼ = max(0, min(Cⱼ, W − T) − max(Cⱼ₋₁, T)),  out = Σⱼ (kⱼ / (W − 2T))·x₍ⱼ₎,
 *
 * accumulated in float64 (kⱼ·(1/(W − 2T))·x₍ⱼ₎ per value) and clamped to [smallest, largest]
 * kept value (a rounding of Σ kⱼ above W − 2T never carries the result outside them). This is
 * the β-trimmed mean functional (1/(1 − 2β)) ∫_β^{1−β} F⁻¹(u) du (Huber & Ronchetti, Robust
 * Statistics, 2nd ed., 2009, §3.3) of the weighted empirical distribution F = Σ (sᵢ/W)·δ(xᵢ).
 *
 * @param rows - m ≥ 1 rows of length d ≥ 1 (finite float32 values).
 * @param s - one weight > 0 per row, finite, with a finite sum W.
 * @param beta - the trimmed fraction of W per tail, in [0, 1/2).
 * @param depthLimit - as for {@link weightedColumnMedian}.
 */
export function weightedColumnTrimmedMean(
  rows: readonly Float32Array[],
  s: Float64Array,
  beta: number,
  depthLimit?: number,
): Float32Array {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  const lowCut = total * beta;
  const highCut = total - lowCut;
  const perKept = 1 / (highCut - lowCut);
  return reduceWeightedColumns(rows, s, (col, m) => {
    const { v, w } = col;
    // a: the first value whose weight interval reaches past T.
    const a = selectWeighted(col, 0, m - 1, 0, lowCut, true);
    const ca = col.before + w[a];
    if (ca >= highCut || a === m - 1) return v[a]; // one value holds the whole kept mass
    // b: the first value whose weight interval reaches W − T.
    const b = selectWeighted(col, a + 1, m - 1, ca, highCut, false);
    const keptA = ca - lowCut;
    const keptB = highCut - col.before;
    // Each share wⱼ/(W − 2T) ≤ 1/(1 − 2β): the products stay far from overflow.
    let acc = keptA * perKept * v[a];
    for (let p = a + 1; p < b; p++) acc += w[p] * perKept * v[p];
    acc += keptB * perKept * v[b];
    return Math.min(v[b], Math.max(v[a], acc));
  }, depthLimit);
}
