import { maxOf, quickselect } from './quickselect.js';
import { kernelConfig, pickWorkspace } from './wasm/config.js';
import { selectKernels } from './wasm/instance.js';
import { selectWasm } from './wasm/drivers.js';
import { SELECT_MEAN_AROUND_MEDIAN, SELECT_MEDIAN, SELECT_TRIMMED_MEAN } from './wasm/exports.js';

/** Columns per block: m × 256 float32 values copied transposed, so each column is contiguous. */
const COLUMN_BLOCK = 256;

/**
 * Reduces a column of m values, stored contiguously at `col[lo..lo+m-1]`, to one number. The
 * reducer may reorder the values in place (the block is a private copy).
 */
export type ColumnReducer = (col: Float32Array, lo: number, m: number) => number;

/** The WebAssembly operation a reducer stands for (set by the reducer factories below). */
const FAST_OP = /* @__PURE__ */ Symbol('robust-agg.columnOp');

interface TaggedReducer extends ColumnReducer {
  [FAST_OP]?: { readonly op: number; readonly param: number };
}

/**
 * Applies `reducer` to every coordinate (column) of the rows and returns the d results.
 *
 * Dispatch (see `setKernelBackend`): when the reducer is {@link columnMedian} or comes from
 * {@link trimmedMeanReducer} or {@link meanAroundMedianReducer} and n·d reaches 2¹⁶, the
 * WebAssembly kernel runs the same selection per column (worker threads join above n·d = 2²²);
 * any other reducer runs on {@link reduceColumnsPlain}. Every fast path (sorting networks for
 * n ≤ 512; beyond, one column at a time: a branch-free out-of-place three-way partition with
 * random-sample pivots and a heapsort after 48 rounds; with or without worker threads) returns
 * the plain kernel's bits, ties, ±0, subnormals and values up to ±3.4e38 included: both follow
 * the conventions pinned on {@link columnMedian}, {@link columnTrimmedMean} and
 * {@link columnMeanAroundMedian} (see {@link binnedSum} for how the kept values are added). A
 * zero result is written as +0.
 */
export function reduceColumns(rows: readonly Float32Array[], reducer: ColumnReducer): Float32Array {
  const fast = reducer === columnMedian ? { op: SELECT_MEDIAN, param: 0 } : (reducer as TaggedReducer)[FAST_OP];
  if (fast !== undefined && rows.length > 0 && rows[0].length > 0) {
    const ws = pickWorkspace(selectKernels, rows.length * rows[0].length, kernelConfig.minWasmWork);
    if (ws !== null) return selectWasm(ws, rows, fast.op, fast.param);
  }
  return reduceColumnsPlain(rows, reducer);
}

/**
 * The reducer `(col, lo, m) => columnTrimmedMean(col, lo, m, trim)`, marked so that
 * {@link reduceColumns} can run it on the WebAssembly kernel (same bits: the kept values are the
 * sorted ranks [trim, m − trim), added by {@link binnedSum}).
 *
 * @param trim - values dropped from each tail (2·trim < m).
 *
 * Usage (internal: not exported from the package):
 * ```text
 * reduceColumns(rows, trimmedMeanReducer(f)); // trimmed mean
 * ```
 */
export function trimmedMeanReducer(trim: number): ColumnReducer {
  const reducer: TaggedReducer = (col, lo, m) => columnTrimmedMean(col, lo, m, trim);
  reducer[FAST_OP] = { op: SELECT_TRIMMED_MEAN, param: trim };
  return reducer;
}

/**
 * The reducer `(col, lo, m) => columnMeanAroundMedian(col, lo, m, keep, scratch)` with its own
 * scratch buffer, marked so that {@link reduceColumns} can run it on the WebAssembly kernel —
 * meamed's and Bulyan's aggregation. Which values are kept is pinned on
 * {@link columnMeanAroundMedian}: the contiguous window of `keep` sorted values nearest the median,
 * of two equidistant values the smaller one; their {@link binnedSum} / keep. Every kernel returns
 * the same bits (sparse, quantized, all-equal columns included).
 *
 * @param keep - values kept per column, 1 ≤ keep ≤ m.
 *
 * Usage (internal: not exported from the package):
 * ```text
 * reduceColumns(rows, meanAroundMedianReducer(rows.length - f)); // meamed
 * ```
 */
export function meanAroundMedianReducer(keep: number): ColumnReducer {
  let scratch = new Float64Array(0);
  const reducer: TaggedReducer = (col, lo, m) => {
    if (scratch.length < m) scratch = new Float64Array(m);
    return columnMeanAroundMedian(col, lo, m, keep, scratch);
  };
  reducer[FAST_OP] = { op: SELECT_MEAN_AROUND_MEDIAN, param: keep };
  return reducer;
}

/**
 * Applies `reducer` to every coordinate (column) of the rows: blocks of 256 columns of all m rows
 * are copied transposed into one scratch buffer, then each column is reduced in place. Memory:
 * 256·m float32 values; never a full transposed copy, never a sort per column. The plain
 * TypeScript kernel: the fallback and the oracle of the WebAssembly one. Each result is rounded
 * to float32 and a zero result is written as +0 (never −0).
 */
export function reduceColumnsPlain(rows: readonly Float32Array[], reducer: ColumnReducer): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  const out = new Float32Array(d);
  const block = new Float32Array(m * Math.min(COLUMN_BLOCK, d));
  for (let c0 = 0; c0 < d; c0 += COLUMN_BLOCK) {
    const width = Math.min(COLUMN_BLOCK, d - c0);
    for (let i = 0; i < m; i++) {
      const row = rows[i];
      for (let c = 0; c < width; c++) block[c * m + i] = row[c0 + c];
    }
    for (let c = 0; c < width; c++) {
      out[c0 + c] = reducer(block, c * m, m);
      if (out[c0 + c] === 0) out[c0 + c] = 0; // −0 → +0: one sign of zero on every kernel
    }
  }
  return out;
}

/**
 * The 32 float64 bins of {@link binnedSum} (one sum at a time: reducers never nest). Marked pure
 * so bundles of rules that never sum in bins (mean, krum) drop them.
 */
const BINS = /* @__PURE__ */ new Float64Array(32);
/** A float32 and its bits, one 4-byte buffer (created on first use, for the same reason). */
let bitsF32: Float32Array | null = null;
let bitsU32: Uint32Array | null = null;

/** Adds `copies` copies of the float32 value v to its bin (copies · v is exact: 24 bits · ≤ 2²¹). */
function addToBin(v: number, copies: number): void {
  if (bitsF32 === null) {
    bitsF32 = new Float32Array(1);
    bitsU32 = new Uint32Array(bitsF32.buffer);
  }
  bitsF32[0] = v;
  BINS[((bitsU32 as Uint32Array)[0] >>> 26) & 31] += copies === 1 ? v : v * copies;
}

/** Σ of the bins from bin 0 up, in float64. */
function binTotal(): number {
  let s = 0;
  for (let b = 0; b < 32; b++) s += BINS[b];
  return s;
}

/**
 * The sum of the float32 values a[from..to−1] as every selection kernel computes it, so that a mean
 * has the same bits whatever order the values come in: each value goes to one of 32 float64 bins by
 * its float32 exponent bits (bits 26–30 of its IEEE encoding: 8 consecutive exponents per bin), the
 * bins are added in float64 from bin 0 (subnormals, tiny values) up to bin 31 (up to ±3.4e38).
 *
 * Why it is order-free: the values of one bin are multiples of one power of two and span at most
 * 32 bits, so float64 adds up to 2²¹ of them exactly, in any order; the bins are then added in one
 * fixed order. When all the nonzero values span at most 29 − ⌈log₂ count⌉ binary exponents, every
 * partial sum is exact and this is the exact sum (the WebAssembly kernel's SIMD fast path relies on
 * that). Never overflows: |sum| ≤ count · 3.4e38. Exact per bin for count ≤ 2²¹ values (columns
 * of more than two million clients would still give a finite sum, possibly not the same bits on
 * every kernel).
 *
 * @param a - float32 values (a Float32Array, or float32 values held in a Float64Array).
 * @param from - first index.
 * @param to - one past the last index.
 * @returns the binned sum in float64.
 *
 * Usage (internal: not exported from the package):
 * ```text
 * binnedSum(Float32Array.of(3e38, 1e-45, -3e38), 0, 3); // 1.401298464324817e-45, in any order
 * ```
 *
 * @internal
 */
export function binnedSum(a: Float32Array | Float64Array, from: number, to: number): number {
  BINS.fill(0);
  for (let i = from; i < to; i++) addToBin(a[i], 1);
  return binTotal();
}

/**
 * Median of col[lo..lo+m−1]; for even m the mean of the two middle values (numpy's convention),
 * computed as (lower + upper) / 2 in float64 on every kernel. Reorders the range.
 *
 * @param col - the column (float32 values, or any float64 values).
 * @param lo - index of its first value.
 * @param m - number of values, ≥ 1.
 * @returns the median in float64 (the caller rounds it; {@link reduceColumns} writes a zero
 *   result as +0).
 *
 * Usage (internal: not exported from the package):
 * ```text
 * columnMedian(Float32Array.of(4, 1, 3, 2), 0, 4); // 2.5
 * ```
 */
export function columnMedian(col: Float32Array | Float64Array, lo: number, m: number): number {
  const k = lo + (m >>> 1);
  quickselect(col, lo, lo + m - 1, k);
  if ((m & 1) === 1) return col[k];
  // After selection every value left of k is ≤ col[k]; the lower middle is their maximum.
  return (maxOf(col, lo, k - 1) + col[k]) / 2;
}

/**
 * Mean of col[lo..lo+m−1] after dropping the `trim` smallest and `trim` largest values
 * (2·trim < m): the {@link binnedSum} of the m − 2·trim kept values divided by their count in
 * float64. Two selections, one sum; reorders the range.
 *
 * @param trim - values dropped from each tail, 0 ≤ trim and 2·trim < m.
 *
 * Usage (internal: not exported from the package):
 * ```text
 * columnTrimmedMean(Float32Array.of(9, 1, 2, 3, -7), 0, 5, 1); // 2
 * ```
 */
export function columnTrimmedMean(col: Float32Array, lo: number, m: number, trim: number): number {
  const hi = lo + m - 1;
  if (trim > 0) {
    quickselect(col, lo, hi, lo + trim); // the trim smallest now sit left of lo+trim
    quickselect(col, lo + trim, hi, hi - trim); // the trim largest now sit right of hi−trim
  }
  return binnedSum(col, lo + trim, hi - trim + 1) / (m - 2 * trim);
}

/**
 * Mean of the `keep` values of col[lo..lo+m−1] closest to its median med ({@link columnMedian}),
 * 1 ≤ keep ≤ m — the aggregation of meamed and of Bulyan.
 *
 * Pinned convention (every kernel): sort the column as x₀ ≤ … ≤ x_{m−1}, k = ⌊m/2⌋. The kept
 * values are the contiguous window x_a … x_{a+keep−1} with a the smallest start in
 * [max(0, k − keep), min(k, m − keep)] such that med − x_a ≤ x_{a+keep} − med (float64): the keep
 * values nearest the median, and of two equidistant values on either side of it the smaller one
 * (a start below k − keep could only pass inside a run of values equal to med, whose window holds
 * the same values). Equivalently: all values at distance |x − med| < r, r the keep-th smallest
 * distance, then values at distance r, first those ≤ med from the largest down, then those above
 * med from the smallest up. The result is their {@link binnedSum} / keep in float64.
 *
 * This kernel finds r by quickselect on the distances (in `scratch`, length ≥ m) and never sorts;
 * reorders the range.
 *
 * Usage (internal: not exported from the package):
 * ```text
 * // median 2; distances 2, 1, 0, 1, 2: keep 2 takes 2 and, of the tied 1 and 3, the smaller.
 * columnMeanAroundMedian(Float32Array.of(0, 1, 2, 3, 4), 0, 5, 2, new Float64Array(5)); // 1.5
 * ```
 */
export function columnMeanAroundMedian(
  col: Float32Array,
  lo: number,
  m: number,
  keep: number,
  scratch: Float64Array,
): number {
  const med = columnMedian(col, lo, m);
  if (keep === m) return binnedSum(col, lo, lo + m) / m;
  for (let i = 0; i < m; i++) scratch[i] = Math.abs(col[lo + i] - med);
  quickselect(scratch, 0, m - 1, keep - 1);
  const r = scratch[keep - 1]; // the keep-th smallest distance
  BINS.fill(0);
  let count = 0;
  let lowTies = 0;
  let highTies = 0;
  let lowMin = Infinity;
  let lowMax = -Infinity;
  let highMin = Infinity;
  let highMax = -Infinity;
  for (let i = lo; i < lo + m; i++) {
    const v = col[i];
    const dist = Math.abs(v - med);
    if (dist < r) {
      addToBin(v, 1);
      count++;
    } else if (dist === r) {
      if (v <= med) {
        lowTies++;
        if (v < lowMin) lowMin = v;
        if (v > lowMax) lowMax = v;
      } else {
        highTies++;
        if (v < highMin) highMin = v;
        if (v > highMax) highMax = v;
      }
    }
  }
  const need = keep - count;
  const fromLow = Math.min(need, lowTies);
  const fromHigh = need - fromLow;
  if (fromLow > 0) {
    if (lowMin === lowMax) addToBin(lowMax, fromLow);
    else addNearestTies(col, lo, m, med, r, true, fromLow, scratch);
  }
  if (fromHigh > 0) {
    if (highMin === highMax) addToBin(highMin, fromHigh);
    else addNearestTies(col, lo, m, med, r, false, fromHigh, scratch);
  }
  return binTotal() / keep;
}

/**
 * Adds to the bins the `take` values at distance exactly r from med on one side (at or below it:
 * the largest; above it: the smallest), i.e. those nearest the median in sorted order. Reached only
 * when the tied values differ (distinct values whose float64 distances rounded to the same number).
 */
function addNearestTies(
  col: Float32Array,
  lo: number,
  m: number,
  med: number,
  r: number,
  below: boolean,
  take: number,
  scratch: Float64Array,
): void {
  let t = 0;
  for (let i = lo; i < lo + m; i++) {
    const v = col[i];
    if (Math.abs(v - med) === r && v <= med === below) scratch[t++] = v;
  }
  const from = below ? t - take : 0;
  quickselect(scratch, 0, t - 1, below ? from : take - 1);
  for (let j = from; j < from + take; j++) addToBin(scratch[j], 1);
}
