import { requireNumber } from '../core/options.js';
import { RobustAggError } from '../core/errors.js';
import type { RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { attackRng, FLOAT32_MAX, GAUSSIAN_TAIL, gaussianRows, maxAbs, meanVector, readAttack, type AttackOptions } from './common.js';

/** Options of {@link gaussian}. */
export interface GaussianAttackOptions extends AttackOptions, RandomOptions {
  /**
   * Standard deviation σ of the noise added to the honest mean. Default 30 (the seed notebook's
   * "white" attack). Range: σ ≥ 0 with maxₖ |μₖ| + 8.6·σ ≤ 3.4028235e38, so that no draw of the
   * library's generator (|ξ| < 8.6) overflows float32; else `INVALID_OPTION` with the largest σ
   * these honest vectors allow.
   */
  sigma?: number;
}

/**
 * Gaussian ("white") attack of the Byrd-SAGA seed notebook (Wu, Ling, Chen & Giannakis,
 * "Federated variance-reduced stochastic gradient descent with robustness to Byzantine attacks",
 * IEEE TSP 2020): each Byzantine vector is the honest mean plus independent noise,
 * bⱼ = μ + σ·ξⱼ with ξⱼ ~ N(0, I). Default σ = 30. Seeded: pass `seed` or `rng` (a wrong generator,
 * or a custom one whose draw overflows float32, throws `INVALID_OPTION`). μ in float64;
 * f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link GaussianAttackOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `sigma` (σ ≥ 0, default 30), `seed` or `rng` (one is required).
 * @returns f new vectors of length d.
 * @example
 * ```ts
 * import { gaussian } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(gaussian(honest, { f: 2, seed: 1 }));            // σ = 30: values tens away from μ
 * console.log(gaussian(honest, { f: 2, sigma: 0.1, seed: 1 })); // within 0.15 of μ (this seed)
 * ```
 */
export function gaussian(honest: Updates, options: GaussianAttackOptions): Float32Array[] {
  const { f, o } = readAttack(honest, options, 'gaussian', ['sigma']);
  const sigma = requireNumber('gaussian', 'sigma', o.sigma ?? 30, 0);
  const rng = attackRng(o, 'gaussian');
  const mu = meanVector(honest);
  const room = FLOAT32_MAX - maxAbs(mu);
  if (sigma * GAUSSIAN_TAIL > room) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `gaussian: sigma = ${sigma} can push μ + σ·ξ past the largest float32 (these honest vectors allow sigma ≤ ${room / GAUSSIAN_TAIL})`,
    );
  }
  return gaussianRows('gaussian', mu, sigma, f, rng);
}
