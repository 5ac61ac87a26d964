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
 * @example
 * ```ts
 * import { nonFinite } from 'robust-agg';
 * nonFinite(honest, { f: 3, value: 'mixed' });   // NaN, +∞ and −∞ vectors
 * nonFinite(honest, { f: 1, coordinate: 0 });    // honest mean with a NaN in coordinate 0
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
