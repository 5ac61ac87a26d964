import { describeValue, requireNumber } from '../core/options.js';
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
  /**
   * Where the noise is centred: `'honest-mean'` (default), the mean μ of the honest vectors the
   * attacker observes; or a finite number c, the same value in every coordinate, whatever the
   * honest clients send — ByzFL's `Gaussian(mu, sigma)` attack (its defaults: c = 0, σ = 1), which
   * draws bⱼ ~ N(c, σ²I) without looking at the honest vectors. Range for a number: |c| + 8.6·σ ≤
   * 3.4028235e38.
   */
  centre?: 'honest-mean' | number;
}

/**
 * Gaussian ("white") attack of the Byrd-SAGA seed notebook (Wu, Ling, Chen & Giannakis,
 * "Federated variance-reduced stochastic gradient descent with robustness to Byzantine attacks",
 * IEEE TSP 2020): each Byzantine vector is the honest mean plus independent noise,
 * bⱼ = μ + σ·ξⱼ with ξⱼ ~ N(0, I). Default σ = 30. With `centre: c` (a number) the noise is centred
 * on c in every coordinate instead, bⱼ = c + σ·ξⱼ, independent of the honest vectors: ByzFL's
 * Gaussian attack (`centre: 0, sigma: 1` are its defaults). Seeded: pass `seed` or `rng` (a wrong generator,
 * or a custom one whose draw overflows float32, throws `INVALID_OPTION`). μ in float64;
 * f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link GaussianAttackOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `sigma` (σ ≥ 0, default 30), `centre` (`'honest-mean'`, default, or a finite
 *   number), `seed` or `rng` (one is required).
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
 * console.log(gaussian(honest, { f: 2, centre: 0, sigma: 1, seed: 1 })); // ByzFL's N(0, 1), ignoring μ
 * ```
 */
export function gaussian(honest: Updates, options: GaussianAttackOptions): Float32Array[] {
  const { d, f, o } = readAttack(honest, options, 'gaussian', ['sigma', 'centre']);
  const sigma = requireNumber('gaussian', 'sigma', o.sigma ?? 30, 0);
  const centre = o.centre ?? 'honest-mean';
  if (centre !== 'honest-mean' && (typeof centre !== 'number' || !Number.isFinite(centre))) {
    throw new RobustAggError('INVALID_OPTION', `gaussian: centre must be 'honest-mean' or a finite number, got ${describeValue(centre)}`);
  }
  const rng = attackRng(o, 'gaussian');
  const mu = centre === 'honest-mean' ? meanVector(honest) : new Float64Array(d).fill(centre);
  const room = FLOAT32_MAX - (centre === 'honest-mean' ? maxAbs(mu) : Math.abs(centre));
  if (!(sigma * GAUSSIAN_TAIL <= room)) {
    const what = centre === 'honest-mean' ? 'these honest vectors allow' : `centre ${centre} allows`;
    throw new RobustAggError(
      'INVALID_OPTION',
      `gaussian: sigma = ${sigma} can push the centre + σ·ξ past the largest float32 (${what} sigma ≤ ${Math.max(0, room) / GAUSSIAN_TAIL})`,
    );
  }
  return gaussianRows('gaussian', mu, sigma, f, rng);
}
