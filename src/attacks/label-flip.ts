import { RobustAggError } from '../core/errors.js';
import { readOptions, requireInteger } from '../core/options.js';

/** Typed arrays that can hold class labels. */
export type LabelArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

const LABEL_TYPES = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
];

/** Options of {@link labelFlip}. */
export interface LabelFlipOptions {
  /**
   * Number of classes C: an integer in [1, 2⁵³ − 1]; every label must be an integer in [0, C), and
   * C − 1 − y must fit the array type (else `INVALID_OPTION`).
   */
  numClasses: number;
  /**
   * Positions whose label is flipped (e.g. the samples of a malicious client): an array of integers
   * in [0, labels.length). Default: all.
   */
  indices?: readonly number[];
}

/**
 * Label-flipping data poisoning: every label y becomes C − 1 − y (class 0 ↔ C−1, 1 ↔ C−2, …), the
 * variant used by Fang et al. (USENIX Security 2020) and in most Byzantine-robust FL benchmarks.
 * Returns a new array of the same type; `labels` is not modified. A flipped label the array type
 * cannot hold (e.g. 299 in a `Uint8Array`) throws `INVALID_OPTION` instead of wrapping around.
 *
 * @typeParam T - the label array's type; the result has the same type.
 * @param labels - the class labels, a typed array; each label that is flipped must be an integer
 *   in [0, numClasses). Not modified.
 * @param options - see {@link LabelFlipOptions}: `numClasses` (required, an integer in [1, 2⁵³ −
 *   1]), `indices` (positions in [0, labels.length); default: all).
 * @returns a new array of the same type and length, with the chosen labels flipped.
 * @example
 * ```ts
 * import { labelFlip } from 'robust-agg';
 *
 * console.log(labelFlip(Uint8Array.of(0, 3, 9), { numClasses: 10 }));               // Uint8Array [9, 6, 0]
 * console.log(labelFlip(Int32Array.of(0, 3, 9), { numClasses: 10, indices: [1] })); // Int32Array [0, 6, 9]
 * ```
 */
export function labelFlip<T extends LabelArray>(labels: T, options: LabelFlipOptions): T {
  const rule = 'labelFlip';
  const kind = Object.prototype.toString.call(labels).slice(8, -1);
  if (!ArrayBuffer.isView(labels) || !LABEL_TYPES.includes(kind)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: labels must be a typed array of numbers (${LABEL_TYPES.join(', ')})`);
  }
  const o = readOptions<LabelFlipOptions>(rule, options, ['numClasses', 'indices']);
  const c = requireInteger(rule, 'numClasses', o.numClasses as number, 1, Number.MAX_SAFE_INTEGER);
  const indices = o.indices;
  if (indices !== undefined && !Array.isArray(indices)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: indices must be an array of positions`);
  }
  const out = labels.slice() as T;
  const flip = (i: number): void => {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= c) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: label ${i} must be an integer in [0, ${c}), got ${y}`);
    }
    const flipped = c - 1 - y;
    out[i] = flipped;
    if (out[i] !== flipped) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the flipped label ${flipped} of position ${i} does not fit a ${kind} (numClasses = ${c})`,
      );
    }
  };
  if (indices === undefined) {
    for (let i = 0; i < labels.length; i++) flip(i);
  } else {
    for (let t = 0; t < indices.length; t++) {
      flip(requireInteger(rule, `indices[${t}]`, indices[t], 0, labels.length - 1));
    }
  }
  return out;
}
