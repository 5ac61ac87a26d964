import { requireNumber } from '../core/options.js';
import type { RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { attackRng, FLOAT32_MAX, GAUSSIAN_TAIL, gaussianRows, readAttack, type AttackOptions } from './common.js';

/** Options of {@link noise}. */
export interface NoiseOptions extends AttackOptions, RandomOptions {
  /**
   * Standard deviation σ. Default 200 (MixTailor's experiments). Range: [0, 3.4028235e38 / 8.6]
   * (≈ 3.97e37), so that no draw of the library's generator (|ξ| < 8.6) overflows float32.
   */
  sigma?: number;
}

/**
 * Noise attack: every Byzantine vector is pure N(0, σ²I) noise, independent of the honest vectors
 * (which only fix d). MixTailor (Ramezani-Kebrya et al., TMLR 2022) used σ = 200, the default.
 * Unlike {@link gaussian} it is not centred on the honest mean. Seeded: pass `seed` or `rng` (a wrong
 * generator, or one whose draw overflows float32, throws `INVALID_OPTION`); f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link NoiseOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `sigma` (σ in [0, ≈ 3.97e37], default 200), `seed` or `rng` (one is required).
 * @returns f new vectors of length d of N(0, σ²) draws.
 * @example
 * ```ts
 * import { noise } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(noise(honest, { f: 2, seed: 3 }));           // σ = 200: values in the hundreds, around 0
 * console.log(noise(honest, { f: 1, sigma: 1, seed: 3 }));  // N(0, 1) draws, whatever μ is
 * ```
 */
export function noise(honest: Updates, options: NoiseOptions): Float32Array[] {
  const { d, f, o } = readAttack(honest, options, 'noise', ['sigma']);
  const sigma = requireNumber('noise', 'sigma', o.sigma ?? 200, 0, FLOAT32_MAX / GAUSSIAN_TAIL);
  const rng = attackRng(o, 'noise');
  return gaussianRows('noise', new Float64Array(d), sigma, f, rng);
}
