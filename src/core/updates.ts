import { RobustAggError } from './errors.js';

/**
 * The input of every rule: n client updates, each a flat `Float32Array` of the same length d
 * (a model or gradient flattened in a fixed order, see {@link Layout}). Rules never mutate it.
 */
export type Updates = readonly Float32Array[];

/** Shape of a validated list of updates. */
export interface UpdatesShape {
  /** Number of clients. */
  n: number;
  /** Length of every update. */
  d: number;
}

/**
 * The `Symbol.toStringTag` getter of %TypedArray%.prototype: it reads the array's internal type
 * name (`'Float32Array'`, …) and returns undefined for anything that is not a typed array. It
 * works on typed arrays from any realm (a `node:vm` context, an iframe, a worker's transferred
 * view) and cannot be fooled by an object that defines its own `Symbol.toStringTag`.
 */
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), Symbol.toStringTag)
  ?.get as ((this: unknown) => string | undefined) | undefined;

/**
 * Whether `value` is a `Float32Array` (or a subclass of it) from any realm. `instanceof` alone
 * rejects arrays made in another realm (a `node:vm` context, an iframe), whose constructor is a
 * different object; this test reads the internal type name instead. Internal (not exported
 * from the package): `isFloat32Array(vm.runInNewContext('new Float32Array(3)'))` is true,
 * `isFloat32Array(new Float64Array(3))` false.
 *
 * @param value - anything.
 */
export function isFloat32Array(value: unknown): value is Float32Array {
  if (value instanceof Float32Array) return true;
  if (typeof value !== 'object' || value === null || typedArrayTag === undefined) return false;
  return typedArrayTag.call(value) === 'Float32Array';
}

/**
 * Checks the shape of `updates` and returns it: a non-empty array of `Float32Array`s (from any
 * realm) of one common, non-zero length. Values are not read. Throws {@link RobustAggError} naming
 * the rule and the first offending client otherwise:
 * - `EMPTY_UPDATES`: `updates` is undefined, null or an empty array;
 * - `NOT_FLOAT32`: `updates` is not an array (a single `Float32Array` passed instead of an array
 *   of them is named as such), or one of its entries is not a `Float32Array`;
 * - `EMPTY_VECTOR`: d = 0; `LENGTH_MISMATCH`: two clients' lengths differ.
 *
 * @param updates - the value to check, meant to be the n client updates.
 * @param rule - the function name used in error messages.
 * @returns n (the number of clients) and d (the common length).
 * @example
 * ```ts
 * import { RobustAggError, validateUpdates } from 'robust-agg';
 *
 * const { n, d } = validateUpdates([new Float32Array(3), new Float32Array(3)], 'myRule');
 * console.log(n, d); // 2 3
 * try {
 *   validateUpdates(new Float32Array(3) as never, 'myRule'); // one vector, not an array of them
 * } catch (e) {
 *   if (!(e instanceof RobustAggError)) throw e;
 *   console.log(e.code, e.message);
 *   // NOT_FLOAT32 myRule: expected an array of Float32Array updates, got a single Float32Array
 * }
 * ```
 */
export function validateUpdates(updates: Updates, rule: string): UpdatesShape {
  if (updates === undefined || updates === null) {
    throw new RobustAggError(
      'EMPTY_UPDATES',
      `${rule} needs an array of client updates (Float32Array), got ${updates === null ? 'null' : 'undefined'}`,
    );
  }
  if (!Array.isArray(updates)) {
    const got = isFloat32Array(updates) ? 'a single Float32Array' : describe(updates);
    throw new RobustAggError('NOT_FLOAT32', `${rule}: expected an array of Float32Array updates, got ${got}`);
  }
  const n = updates.length;
  if (n === 0) {
    throw new RobustAggError('EMPTY_UPDATES', `${rule} needs at least one client update, got an empty array`);
  }
  for (let i = 0; i < n; i++) {
    if (!isFloat32Array(updates[i])) {
      throw new RobustAggError(
        'NOT_FLOAT32',
        `${rule}: client ${i} is not a Float32Array (got ${describe(updates[i])})`,
      );
    }
  }
  const d = updates[0].length;
  if (d === 0) throw new RobustAggError('EMPTY_VECTOR', `${rule}: updates have length d=0`);
  for (let i = 1; i < n; i++) {
    if (updates[i].length !== d) {
      throw new RobustAggError(
        'LENGTH_MISMATCH',
        `${rule}: client ${i} has length ${updates[i].length}, client 0 has length ${d}`,
      );
    }
  }
  return { n, d };
}

/** A value as an error message names it ("Float64Array", "an array", "number 3"); never throws. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const tag = typedArrayTag?.call(value);
    if (tag !== undefined) return tag;
    try {
      return Object.prototype.toString.call(value).slice(8, -1);
    } catch {
      return 'object';
    }
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
