import { requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { copies, FLOAT32_MAX, maxAbs, meanVector, readAttack, toFloat32, type AttackOptions } from './common.js';

/** Options of {@link ipm}. */
export interface IpmOptions extends AttackOptions {
  /**
   * ε ≥ 0 in −ε·μ. Default 0.1 (Xie et al.'s small-ε setting, aimed at Krum and the median).
   * Range: finite, ≥ 0, with ε·|μₖ| ≤ 3.4028235e38 in every coordinate (else `INVALID_OPTION`
   * naming the coordinate and the largest ε these honest vectors allow).
   */
  epsilon?: number;
}

/**
 * Inner product manipulation (Xie, Koyejo & Gupta, "Fall of empires: breaking Byzantine-tolerant
 * SGD by inner product manipulation", UAI 2020): every Byzantine vector is −ε·μ, the honest mean
 * reversed and scaled, so that the aggregate's inner product with the true gradient turns negative
 * while the vectors stay close to the honest ones for small ε. Default ε = 0.1; the paper also
 * uses large ε (e.g. 100) against the mean. ByzFL's `InnerProductManipulation(tau)` sends −τ·μ:
 * the same attack with ε = τ (ByzFL's default τ = 2).
 * μ in float64; f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link IpmOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `epsilon` (ε ≥ 0, default 0.1).
 * @returns f new vectors of length d, each −ε·μ (`[]` for f = 0).
 * @example
 * ```ts
 * import { ipm, mean } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(ipm(honest, { f: 3 })); // 3 copies of −0.1·μ = (−0.1, 0.1, −0.05)
 * const large = ipm(honest, { f: 3, epsilon: 100 });
 * console.log(mean([...honest, ...large])); // (5μ − 300μ)/8 = (−36.875, 36.875, −18.4375)
 * ```
 */
export function ipm(honest: Updates, options: IpmOptions): Float32Array[] {
  const { f, o } = readAttack(honest, options, 'ipm', ['epsilon']);
  const epsilon = requireNumber('ipm', 'epsilon', o.epsilon ?? 0.1, 0);
  if (f === 0) return [];
  const mu = meanVector(honest);
  const largest = FLOAT32_MAX / maxAbs(mu);
  for (let k = 0; k < mu.length; k++) mu[k] *= -epsilon;
  const byz = toFloat32(
    mu,
    'ipm',
    (k, v) => `−ε·μ = ${v} overflows float32 at coordinate ${k} (epsilon = ${epsilon}; these honest vectors allow epsilon ≤ ${largest})`,
  );
  return copies(byz, f);
}
