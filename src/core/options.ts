import { RobustAggError } from './errors.js';
import { isFloat32Array } from './updates.js';
import { noWeightedFormMessage } from './weighted-rules.js';
import { isFiniteVector } from '../kernels/finite.js';

/**
 * What a rule does with a client that sent NaN or ±Infinity. Such a client is Byzantine by definition.
 * - `'drop'` (default): remove the row before the rule runs, count it against f, report its index in
 *   the decision's `dropped`; throw `NO_FINITE_UPDATES` only when no finite row remains.
 * - `'throw'`: throw `NON_FINITE_UPDATE` naming the first such client.
 */
export type NonFinitePolicy = 'drop' | 'throw';

/** Options every aggregator and pre-aggregator accepts. */
export interface CommonOptions {
  /** What to do with clients that send NaN or ±Infinity. Default `'drop'`. */
  nonFinite?: NonFinitePolicy;
}

/** Throws `INVALID_OPTION` unless `value` is an integer in [min, max]. */
export function requireInteger(rule: string, name: string, value: number, min: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be ${range}, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws `INVALID_OPTION` unless `value` is a finite number in [min, max] (open bounds when `open`). */
export function requireNumber(
  rule: string,
  name: string,
  value: number,
  min = -Infinity,
  max = Infinity,
  open = false,
): number {
  const inside = open ? value > min && value < max : value >= min && value <= max;
  if (typeof value !== 'number' || !Number.isFinite(value) || !inside) {
    const lo = open ? '(' : '[';
    const hi = open ? ')' : ']';
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${name} must be a finite number in ${lo}${min}, ${max}${hi}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Reads an options object once and checks its keys: returns a snapshot holding each key of `known`
 * that `options` has (every value read exactly once, so a getter cannot pass validation with one
 * value and run with another), after checking that `options` is undefined or a plain object and
 * holds no other own key. Throws `INVALID_OPTION` for null, arrays and non-objects, and
 * `UNKNOWN_OPTION` naming the key (and the known ones) otherwise; for the key `weights` the message
 * says instead that the rule has no weighted form and names the rules that have one.
 *
 * Rules validate the snapshot's values, never `options` itself.
 *
 * @internal
 */
export function readOptions<T extends object>(
  rule: string,
  options: T | null | undefined,
  known: readonly (keyof T & string)[],
): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    );
  }
  const allowed = new Set<string>(known);
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      // Client weights are a common option for rules that have none: say so specifically.
      if (key === 'weights') throw new RobustAggError('UNKNOWN_OPTION', noWeightedFormMessage(rule));
      throw new RobustAggError(
        'UNKNOWN_OPTION',
        `${rule}: unknown option '${key}' (known: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
  }
  const snapshot: Partial<T> = {};
  const source = options as Record<string, unknown>;
  for (const key of allowed) {
    if (key in options) {
      const value = source[key];
      if (value !== undefined) (snapshot as Record<string, unknown>)[key] = value;
    }
  }
  return snapshot;
}

/** A value as an error message shows it (never throws, whatever the value). */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'object' && value !== null) {
      return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
    }
    return String(value);
  } catch {
    return typeof value;
  }
}

/**
 * Checks a vector option (a centre, a server update, a global model): a `Float32Array` from any
 * realm, of length d, holding only finite values. Throws `INVALID_OPTION` naming the rule and the
 * option otherwise. Returns the caller's array (not a copy).
 *
 * @internal
 */
export function requireVector(rule: string, name: string, value: unknown, d: number): Float32Array {
  if (!isFloat32Array(value) || value.length !== d) {
    const got = isFloat32Array(value) ? `length ${value.length}` : describeValue(value);
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be a finite Float32Array of length d=${d}, got ${got}`);
  }
  if (!isFiniteVector(value)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${name} must be a finite Float32Array of length d=${d}, got one holding NaN or ±Infinity`,
    );
  }
  return value;
}
