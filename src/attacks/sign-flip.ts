import { requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { copies, FLOAT32_MAX, maxAbs, meanVector, readAttack, toFloat32, type AttackOptions } from './common.js';

/** Options of {@link signFlip} and {@link maxValue}. */
export interface SignFlipOptions extends AttackOptions {
  /**
   * The factor u in u·μ. Default −3 for {@link signFlip} (the Byrd-SAGA paper), −10 for
   * {@link maxValue} (the seed notebook). Range: any finite number with |u|·|μₖ| ≤ 3.4028235e38
   * (the largest float32) in every coordinate; a larger |u| throws `INVALID_OPTION` naming the
   * coordinate and the largest |u| these honest vectors allow.
   */
  scale?: number;
}

/**
 * Sign-flipping attack (Wu et al., "Federated variance-reduced stochastic gradient descent with
 * robustness to Byzantine attacks" (Byrd-SAGA), IEEE TSP 2020): every Byzantine vector is u·μ, the
 * honest mean μ scaled by a negative factor u. Default u = −3, the paper's value; the seed
 * notebook's "max value" attack is the same with u = −10 (see {@link maxValue}). μ is computed in
 * float64; an output that would overflow float32 throws `INVALID_OPTION` (see {@link SignFlipOptions}).
 * f ≤ 2²⁰ and f·d ≤ 2³⁰ (`INVALID_OPTION` before anything is allocated).
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link SignFlipOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `scale` (the factor u, default −3).
 * @returns f new vectors of length d, each u·μ (`[]` for f = 0).
 * @example
 * ```ts
 * import { mean, signFlip } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * const byz = signFlip(honest, { f: 2 });
 * console.log(byz);                           // 2 copies of −3·μ = (−3, 3, −1.5)
 * console.log(mean([...honest, ...byz]));     // (5μ − 6μ)/7 = −μ/7 ≈ (−0.143, 0.143, −0.071)
 * console.log(signFlip(honest, { f: 2, scale: -1 })); // the plain reversed mean −μ
 * ```
 */
export function signFlip(honest: Updates, options: SignFlipOptions): Float32Array[] {
  return scaledMean(honest, options, 'signFlip', -3);
}

/**
 * The seed notebook's "max value" attack: {@link signFlip} with u = −10 by default, i.e. every
 * Byzantine vector is −10·μ (Byrd-SAGA, Wu et al., IEEE TSP 2020, uses u = −3 in the paper).
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link SignFlipOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `scale` (the factor u, default −10).
 * @returns f new vectors of length d, each u·μ (`[]` for f = 0).
 * @example
 * ```ts
 * import { maxValue } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(maxValue(honest, { f: 2 })); // 2 copies of −10·μ = (−10, 10, −5)
 * ```
 */
export function maxValue(honest: Updates, options: SignFlipOptions): Float32Array[] {
  return scaledMean(honest, options, 'maxValue', -10);
}

function scaledMean(honest: Updates, options: SignFlipOptions, name: string, fallback: number): Float32Array[] {
  const { f, o } = readAttack(honest, options, name, ['scale']);
  const u = requireNumber(name, 'scale', o.scale ?? fallback);
  if (f === 0) return [];
  const mu = meanVector(honest);
  const largest = FLOAT32_MAX / maxAbs(mu);
  for (let k = 0; k < mu.length; k++) mu[k] *= u;
  const byz = toFloat32(
    mu,
    name,
    (k, v) => `scale·μ = ${v} overflows float32 at coordinate ${k} (scale = ${u}; these honest vectors allow |scale| ≤ ${largest})`,
  );
  return copies(byz, f);
}
