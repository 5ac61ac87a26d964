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
 * @example
 * ```ts
 * import { noise } from 'robust-agg';
 * noise(honest, { f: 2, seed: 3 });
 * ```
 */
export function noise(honest: Updates, options: NoiseOptions): Float32Array[] {
  const { d, f, o } = readAttack(honest, options, 'noise', ['sigma']);
  const sigma = requireNumber('noise', 'sigma', o.sigma ?? 200, 0, FLOAT32_MAX / GAUSSIAN_TAIL);
  const rng = attackRng(o, 'noise');
  return gaussianRows('noise', new Float64Array(d), sigma, f, rng);
}
