import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { alie } from './alie.js';
import type { AttackOptions } from './common.js';
import { epsilonReverse } from './epsilon-reverse.js';
import { ipm } from './ipm.js';
import { signFlip } from './sign-flip.js';

/** Options of a {@link ScaledAttack}: f and the attack's scale. */
export interface ScaledAttackOptions extends AttackOptions {
  /** The attack's strength (≥ 0), e.g. IPM's ε or ALIE's z. */
  scale: number;
}

/**
 * A one-parameter family of attacks, searched over by {@link optimal} and {@link adaptive}. It must
 * return `f` `Float32Array`s of length d holding finite values (checked: anything else is an
 * `INVALID_OPTION` error naming the attack); to say that a scale is too large, throw a
 * `RobustAggError` — the built-in families throw `INVALID_OPTION` when a value would overflow float32.
 *
 * @param honest - the h honest vectors, each a `Float32Array` of the same length d holding finite
 *   values; not to be modified.
 * @param options - `f`, the number of vectors to return, and `scale`, the attack's strength (a
 *   finite number ≥ 0 chosen by the search).
 * @returns f `Float32Array`s of length d holding finite values.
 */
export type ScaledAttack = (honest: readonly Float32Array[], options: ScaledAttackOptions) => Float32Array[];

/**
 * Built-in scaled attacks: `'ipm'` (−scale·μ, {@link ipm}), `'alie'` (μ + scale·σ, {@link alie}),
 * `'epsilonReverse'` (−scale·Σ honest / f, {@link epsilonReverse}), `'signFlip'` ({@link signFlip}
 * with u = −scale, i.e. −scale·μ: the same vectors as `'ipm'`, kept for its name).
 */
export type ScaledAttackName = 'ipm' | 'alie' | 'epsilonReverse' | 'signFlip';

/**
 * Resolves a built-in name, or wraps a {@link ScaledAttack} so that its output is checked (f
 * finite `Float32Array`s of length d).
 */
export function resolveScaledAttack(attack: ScaledAttackName | ScaledAttack, rule: string): ScaledAttack {
  if (typeof attack === 'function') {
    return (h: Updates, o: ScaledAttackOptions) => checkCrafted(rule, attack(h, o), o.f, h[0].length, o.scale);
  }
  switch (attack) {
    case 'ipm':
      return (h: Updates, o: ScaledAttackOptions) => ipm(h, { f: o.f, epsilon: o.scale });
    case 'alie':
      return (h: Updates, o: ScaledAttackOptions) => alie(h, { f: o.f, z: o.scale });
    case 'epsilonReverse':
      return (h: Updates, o: ScaledAttackOptions) => epsilonReverse(h, { f: o.f, epsilon: o.scale });
    case 'signFlip':
      return (h: Updates, o: ScaledAttackOptions) => signFlip(h, { f: o.f, scale: -o.scale });
    default:
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: attack must be 'ipm', 'alie', 'epsilonReverse', 'signFlip' or a function, got ${describeValue(attack)}`,
      );
  }
}

function checkCrafted(rule: string, byz: unknown, f: number, d: number, scale: number): Float32Array[] {
  if (!Array.isArray(byz) || byz.length !== f) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the attack must return an array of f=${f} vectors, got ${Array.isArray(byz) ? `${byz.length}` : describeValue(byz)} at scale ${scale}`,
    );
  }
  for (let j = 0; j < f; j++) {
    const v: unknown = byz[j];
    if (!(v instanceof Float32Array) || v.length !== d) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the attack's vector ${j} must be a Float32Array of length ${d}, got ${v instanceof Float32Array ? `length ${v.length}` : describeValue(v)} at scale ${scale}`,
      );
    }
    for (let k = 0; k < d; k++) {
      if (v[k] - v[k] !== 0) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: the attack's vector ${j} holds ${v[k]} at coordinate ${k} at scale ${scale} (a scaled attack must return finite values)`,
        );
      }
    }
  }
  return byz as Float32Array[];
}
