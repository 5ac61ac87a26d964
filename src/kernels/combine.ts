import { isFiniteVector } from './finite.js';
import { kernelConfig, pickWorkspace } from './wasm/config.js';
import { combineKernels } from './wasm/instance.js';
import { combineWasm } from './wasm/workspace.js';

/**
 * Where {@link combine} looks first: an aggregation round's worker (src/server/worker-main.ts) sets
 * `sum` while it runs a rule, to sum the rows it holds from its own copies, in place, with the
 * combine kernel's operations in the same order (src/server/pair-table.ts): the same bits without
 * copying every row into the combine kernel's memory. `sum` answers null when a row with a
 * non-zero weight is not held, and combine then runs as usual. Null everywhere else (see
 * gram-source.ts for why it lives here).
 *
 * @internal
 */
export const heldCombine: {
  sum: ((rows: readonly Float32Array[], weights: ArrayLike<number>, offset: Float32Array | null, offsetWeight: number) => Float32Array | null) | null;
} = { sum: null };

/** Columns per block: the float64 accumulator (32 KiB) stays in L1 while all rows stream through. */
const COMBINE_BLOCK = 4096;

/**
 * The weighted combination out = Σᵢ wᵢ rowsᵢ (+ `offsetWeight`·`offset`), accumulated in float64
 * per block of columns and rounded once to float32. Rows with weight 0 are never read. One pass
 * over the data.
 *
 * Dispatch (see `setKernelBackend`): once (rows with a non-zero weight)·d reaches 2¹⁶ the
 * WebAssembly kernel runs (f64x2 lanes, rows copied in blocks of 4096 columns); it performs the
 * plain kernel's operations in the plain kernel's order, so both give the same bits.
 *
 * @param rows - the vectors to combine.
 * @param weights - one weight per row.
 * @param offset - an optional vector added to the result (e.g. `α·center` written by the caller).
 * @param offsetWeight - multiplies `offset`.
 */
export function combine(
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  offset: Float32Array | null = null,
  offsetWeight = 1,
): Float32Array {
  // In a round's worker, rows it holds are summed in place (same bits; see heldCombine).
  const held = heldCombine.sum?.(rows, weights, offset, offsetWeight);
  if (held) return held;
  const d = rows.length > 0 ? rows[0].length : offset !== null ? offset.length : 0;
  if (d > 0) {
    let used = 0;
    for (let i = 0; i < rows.length; i++) if (weights[i] !== 0) used++;
    const ws = pickWorkspace(combineKernels, Math.max(1, used) * d, kernelConfig.minCombineWork);
    if (ws !== null) {
      const out = new Float32Array(d);
      combineWasm(ws, rows, weights, offset, offsetWeight, out);
      return out;
    }
  }
  return combinePlain(rows, weights, offset, offsetWeight);
}

/**
 * The weighted combination out = Σᵢ wᵢ rowsᵢ (+ `offset`), accumulated in float64 per block of
 * columns and rounded once to float32. Rows with weight 0 are never read. One pass over the data.
 *
 * The plain TypeScript kernel: the fallback and the oracle of the WebAssembly one.
 *
 * @param rows - the vectors to combine.
 * @param weights - one weight per row.
 * @param offset - an optional vector added to the result (e.g. `α·center` written by the caller).
 * @param offsetWeight - multiplies `offset`.
 */
export function combinePlain(
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  offset: Float32Array | null = null,
  offsetWeight = 1,
): Float32Array {
  const d = rows.length > 0 ? rows[0].length : offset !== null ? offset.length : 0;
  const out = new Float32Array(d);
  const acc = new Float64Array(Math.min(COMBINE_BLOCK, d));
  for (let c0 = 0; c0 < d; c0 += COMBINE_BLOCK) {
    const width = Math.min(COMBINE_BLOCK, d - c0);
    if (offset !== null && offsetWeight !== 0) {
      for (let k = 0; k < width; k++) acc[k] = offsetWeight * offset[c0 + k];
    } else {
      acc.fill(0, 0, width);
    }
    for (let i = 0; i < rows.length; i++) {
      const w = weights[i];
      if (w === 0) continue;
      const row = rows[i];
      for (let k = 0; k < width; k++) acc[k] += w * row[c0 + k];
    }
    for (let k = 0; k < width; k++) out[c0 + k] = acc[k];
  }
  return out;
}

/**
 * {@link combine} fused with the finiteness check: returns the combination when every row is
 * finite (rows with weight 0 included), null as soon as one holds NaN or ±Infinity. One pass over
 * the data instead of a finiteness pass followed by a combination pass, for rules whose weights do
 * not depend on which rows are finite (the plain mean, when no client misbehaves): run it first,
 * and on null drop the non-finite rows and combine the rest as usual.
 *
 * Usage (internal: not exported from the package):
 * ```text
 * const w = new Float64Array(rows.length).fill(1 / rows.length);
 * const out = combineIfFinite(rows, w) ?? combine(finiteRowsOf(rows), …);
 * ```
 */
export function combineIfFinite(
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  offset: Float32Array | null = null,
  offsetWeight = 1,
): Float32Array | null {
  const d = rows.length > 0 ? rows[0].length : offset !== null ? offset.length : 0;
  if (d > 0) {
    const ws = pickWorkspace(combineKernels, Math.max(1, rows.length) * d, kernelConfig.minCombineWork);
    if (ws !== null) {
      const out = new Float32Array(d);
      return combineWasm(ws, rows, weights, offset, offsetWeight, out, true) ? out : null;
    }
  }
  for (const row of rows) if (!isFiniteVector(row)) return null;
  return combinePlain(rows, weights, offset, offsetWeight);
}

/** The plain mean of rows (float64 accumulation), a common special case of {@link combine}. */
export function meanOfRows(rows: readonly Float32Array[]): Float32Array {
  const w = new Float64Array(rows.length).fill(1 / rows.length);
  return combine(rows, w);
}
