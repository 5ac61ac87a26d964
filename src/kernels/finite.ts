import { isFiniteVectorWasm } from './wasm/finite.js';

/**
 * Where {@link isFiniteVector} looks first: an aggregation round's worker (src/server/worker-main.ts)
 * sets `holds` while it runs a rule; it is true for a row the worker holds, which it found finite
 * when it arrived (its copy cannot have changed since), so the rule's finiteness pass skips it.
 * Null everywhere else (see gram-source.ts for why it lives here).
 *
 * @internal
 */
export const heldFinite: { holds: ((row: Float32Array) => boolean) | null } = { holds: null };

/**
 * True when every value of `x` is finite. Runs on the WebAssembly kernel when the backend allows it
 * and x is long enough (see `setKernelBackend`), otherwise on {@link isFiniteVectorPlain}; both
 * give the same answer for every input.
 */
export function isFiniteVector(x: Float32Array): boolean {
  // A round's worker already checked the rows it holds when they arrived (see heldFinite).
  if (heldFinite.holds?.(x)) return true;
  return isFiniteVectorWasm(x) ?? isFiniteVectorPlain(x);
}

/**
 * The plain check: `v − v` is 0 for finite v and NaN for NaN or ±Infinity, so one accumulator tells
 * with one subtraction and one addition per value and no branch. The fallback and the oracle of the
 * WebAssembly kernel.
 */
export function isFiniteVectorPlain(x: Float32Array): boolean {
  let acc = 0;
  const n = x.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    acc += x[i] - x[i] + (x[i + 1] - x[i + 1]) + (x[i + 2] - x[i + 2]) + (x[i + 3] - x[i + 3]);
  }
  for (; i < n; i++) acc += x[i] - x[i];
  return acc === 0;
}
