import { RobustAggError } from '../core/errors.js';
import { describeValue, requireInteger } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { meanVector, readAttack, type AttackOptions } from './common.js';

/** What {@link nonFinite} writes. */
export type NonFiniteValue = 'nan' | 'inf' | '-inf' | 'mixed';

/** Options of {@link nonFinite}. */
export interface NonFiniteOptions extends AttackOptions {
  /** `'nan'` (default), `'inf'`, `'-inf'`, or `'mixed'`: NaN, +∞, −∞ in turn across the f vectors. */
  value?: NonFiniteValue;
  /**
   * Poison only this coordinate and send the honest mean elsewhere (a stealthier fault that a
   * norm or distance check sees as NaN/∞ too): an integer in [0, d − 1]. Default: every coordinate.
   */
  coordinate?: number;
}

/**
 * Non-finite attack: the Byzantine vectors hold NaN or ±Infinity (ByzFL's "Inf" attack; also what a
 * crashed or overflowing client sends). Every robust-agg rule drops such clients and counts them
 * against f (DESIGN §5), so this attack checks that code path rather than moving any aggregate.
 * Default: every coordinate NaN. The one attack whose output is not finite, by design (with
 * `coordinate`, the other coordinates are the honest mean, which is). f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link NonFiniteOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `value` (default `'nan'`), `coordinate` (an integer in [0, d − 1]; default: every
 *   coordinate).
 * @returns f new vectors of length d holding NaN or ±Infinity.
 * @example
 * ```ts
 * import { coordinateMedian, nonFinite } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * const byz = nonFinite(honest, { f: 3, value: 'mixed' });
 * console.log(byz);                                   // a NaN, a +∞ and a −∞ vector
 * console.log(nonFinite(honest, { f: 1, coordinate: 0 })); // [NaN, −1, 0.5]: μ with a NaN in coordinate 0
 * // Every rule drops such clients: this is the median of the five honest ones.
 * console.log(coordinateMedian([...honest, ...byz]));  // (1, −1, 0.5)
 * ```
 */
export function nonFinite(honest: Updates, options: NonFiniteOptions): Float32Array[] {
  const { d, f, o } = readAttack(honest, options, 'nonFinite', ['value', 'coordinate']);
  const value = o.value ?? 'nan';
  if (!['nan', 'inf', '-inf', 'mixed'].includes(value)) {
    throw new RobustAggError('INVALID_OPTION', `nonFinite: value must be 'nan', 'inf', '-inf' or 'mixed', got ${describeValue(value)}`);
  }
  const coordinate = o.coordinate === undefined ? -1 : requireInteger('nonFinite', 'coordinate', o.coordinate, 0, d - 1);
  const cycle = [NaN, Infinity, -Infinity];
  const fixed = value === 'nan' ? NaN : value === 'inf' ? Infinity : -Infinity;
  const base = coordinate >= 0 ? meanVector(honest) : null;
  const out: Float32Array[] = [];
  for (let j = 0; j < f; j++) {
    const bad = value === 'mixed' ? cycle[j % 3] : fixed;
    const v = base === null ? new Float32Array(d).fill(bad) : Float32Array.from(base);
    if (coordinate >= 0) v[coordinate] = bad;
    out.push(v);
  }
  return out;
}
