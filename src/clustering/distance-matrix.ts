import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';

/**
 * A precomputed n×n distance matrix, in one of two forms:
 * - rows: `number[][]` (or an array of `Float64Array`/`Float32Array` rows), `distances[i][j]`;
 * - flat: a row-major `Float64Array` (or `Float32Array`) of length n², entry (i, j) at `i·n + j`.
 *
 * Requirements, each checked (a violation throws `INVALID_OPTION` naming the entry): every entry a
 * number (strings and other types are not converted), ≥ 0 and not NaN (`+Infinity` means
 * "unreachable"); the diagonal exactly 0; the matrix symmetric up to a relative tolerance,
 * |dᵢⱼ − dⱼᵢ| ≤ tol·max(dᵢⱼ, dⱼᵢ) with tol = 10⁻⁹ (10⁻⁶ for `Float32Array` data, which float32
 * rounding may leave slightly asymmetric). Within the tolerance, entry (i, j) is read exactly where
 * the reference package reads it (core distances from columns, edges from rows).
 */
export type DistanceMatrix = readonly (readonly number[] | Float64Array | Float32Array)[] | Float64Array | Float32Array;

/** A validated distance matrix as a flat row-major float64 array (the input itself when it was one). */
export interface SquareMatrix {
  /** Entry (i, j) at `i·n + j`. */
  readonly data: Float64Array | Float32Array;
  /** Number of points. */
  readonly n: number;
}

/** Relative symmetry tolerance for float64 entries (sklearn's pairwise distances differ by ~1e-14). */
export const SYMMETRY_TOLERANCE = 1e-9;
/** Relative symmetry tolerance when the matrix is held in float32. */
export const SYMMETRY_TOLERANCE_FLOAT32 = 1e-6;

/** `Float64Array` or `Float32Array`, from this realm or another (vm, iframe). */
function flatKind(value: unknown): 'Float64Array' | 'Float32Array' | null {
  if (!ArrayBuffer.isView(value)) return null;
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return tag === 'Float64Array' || tag === 'Float32Array' ? tag : null;
}

/**
 * Checks and flattens a {@link DistanceMatrix}. `expectedN`, when given, must equal the inferred n.
 * Throws `INVALID_OPTION` naming the rule and the offending entry (`EMPTY_UPDATES` for no rows).
 */
export function toSquareMatrix(distances: DistanceMatrix, rule: string, expectedN?: number): SquareMatrix {
  let data: Float64Array | Float32Array;
  let n: number;
  let float32 = false;
  const kind = flatKind(distances);
  if (kind !== null) {
    const flat = distances as Float64Array | Float32Array;
    n = Math.round(Math.sqrt(flat.length));
    if (n * n !== flat.length || n === 0) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: a flat distance matrix needs a length n² with n ≥ 1, got length ${flat.length}`,
      );
    }
    data = flat;
    float32 = kind === 'Float32Array';
  } else if (Array.isArray(distances)) {
    n = distances.length;
    if (n === 0) throw new RobustAggError('EMPTY_UPDATES', `${rule}: the distance matrix has no rows`);
    data = new Float64Array(n * n);
    float32 = true;
    for (let i = 0; i < n; i++) {
      const row: unknown = distances[i];
      const rowKind = flatKind(row);
      if (rowKind === null && !Array.isArray(row)) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: row ${i} of the distance matrix must be an array of numbers, got ${describeValue(row)}`,
        );
      }
      const values = row as ArrayLike<unknown>;
      if (values.length !== n) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: the distance matrix must be square, row ${i} has length ${values.length} (n=${n})`,
        );
      }
      if (rowKind !== 'Float32Array') float32 = false;
      for (let j = 0; j < n; j++) {
        const v = values[j];
        if (typeof v !== 'number') {
          throw new RobustAggError(
            'INVALID_OPTION',
            `${rule}: distance (${i}, ${j}) must be a number, got ${describeValue(v)}`,
          );
        }
        data[i * n + j] = v;
      }
    }
  } else {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: distances must be number[][] or a flat Float64Array of length n², got ${describeValue(distances)}`,
    );
  }
  if (expectedN !== undefined && expectedN !== n) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: n=${expectedN} was given but the matrix has n=${n}`);
  }
  const tolerance = float32 ? SYMMETRY_TOLERANCE_FLOAT32 : SYMMETRY_TOLERANCE;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = data[i * n + j];
      if (!(v >= 0)) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: distance (${i}, ${j}) must be ≥ 0 and not NaN, got ${String(v)}`,
        );
      }
    }
    if (data[i * n + i] !== 0) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the diagonal must be 0 (a point's distance to itself), got ${String(data[i * n + i])} at (${i}, ${i})`,
      );
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const a = data[i * n + j];
      const b = data[j * n + i];
      if (a !== b && !(a < Infinity && b < Infinity && Math.abs(a - b) <= tolerance * Math.max(a, b))) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: the distance matrix must be symmetric, got (${i}, ${j}) = ${String(a)} but (${j}, ${i}) = ${String(b)} ` +
            `(relative tolerance ${tolerance})`,
        );
      }
    }
  }
  return { data, n };
}
