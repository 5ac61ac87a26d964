import type { Updates } from '../core/updates.js';
import { readAttack, type AttackOptions } from './common.js';
import { reverseCore } from './epsilon-reverse.js';

/** Options of {@link zeroGradient}. */
export type ZeroGradientOptions = AttackOptions;

/**
 * Zero-gradient attack (the Byrd-SAGA seed notebook; Wu et al., IEEE TSP 2020): every Byzantine
 * vector is −(Σ honest)/f, so that all n messages sum to zero and the plain mean returns 0.
 * Returns `[]` for f = 0. Computed in float64; when |Σ honest|/f overflows float32 (honest vectors
 * near ±3.4e38 and f too small) it throws `INVALID_OPTION` naming the coordinate and the least f.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - `{ f }` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰); trainRobust's `rng`,
 *   `seed` and `step` are accepted and only checked.
 * @returns f new vectors of length d, each −(Σ honest)/f (`[]` for f = 0).
 * @example
 * ```ts
 * import { mean, zeroGradient } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * const byz = zeroGradient(honest, { f: 2 });
 * console.log(byz); // 2 copies of −(Σ honest)/2 = −2.5·μ = (−2.5, 2.5, −1.25)
 * console.log(mean([...honest, ...byz])); // ≈ 0 in every coordinate (|x| < 1e-7: rounding)
 * ```
 */
export function zeroGradient(honest: Updates, options: ZeroGradientOptions): Float32Array[] {
  const { f } = readAttack(honest, options, 'zeroGradient');
  return reverseCore(honest, f, 'zeroGradient', 1);
}
