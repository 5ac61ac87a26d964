import { requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { copies, FLOAT32_MAX, maxAbs, readAttack, sumVector, toFloat32, type AttackOptions } from './common.js';

/** Options of {@link epsilonReverse}. */
export interface EpsilonReverseOptions extends AttackOptions {
  /**
   * ε ≥ 0 in −ε·(Σ honest)/f. Default 0.1. Range: finite, ≥ 0, with ε·|Σₖ|/f ≤ 3.4028235e38 in
   * every coordinate (else `INVALID_OPTION` naming the coordinate and the largest ε allowed).
   */
  epsilon?: number;
}

/**
 * ε-reverse attack of MixTailor (Ramezani-Kebrya, Tabrizian, Faghri & Popovski, "MixTailor: mixed
 * gradient aggregation for robust learning against tailored attacks", TMLR 2022): every Byzantine
 * vector is −ε·(Σ honest)/f, so the sum of all n messages is (1 − ε)·Σ honest. ε = 1 zeroes the sum
 * ({@link reverse}, the same vectors as {@link zeroGradient}); ε > 1 reverses it. Default ε = 0.1.
 * MixTailor's adaptive attack ({@link adaptive}) tunes ε against a rule or a pool.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link EpsilonReverseOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `epsilon` (ε ≥ 0, default 0.1).
 * @returns f new vectors of length d, each −ε·(Σ honest)/f (`[]` for f = 0).
 * @example
 * ```ts
 * import { epsilonReverse, mean } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * const byz = epsilonReverse(honest, { f: 2, epsilon: 2 });
 * console.log(byz); // 2 copies of −2·(Σ honest)/2 = −5·μ = (−5, 5, −2.5)
 * // The mean of all 7 is (1 − ε)·(Σ honest)/7 = −5μ/7 ≈ (−0.714, 0.714, −0.357).
 * console.log(mean([...honest, ...byz]));
 * console.log(epsilonReverse(honest, { f: 2 })); // ε = 0.1: 2 copies of −0.25·μ
 * ```
 */
export function epsilonReverse(honest: Updates, options: EpsilonReverseOptions): Float32Array[] {
  const { f, o } = readAttack(honest, options, 'epsilonReverse', ['epsilon']);
  const eps = requireNumber('epsilonReverse', 'epsilon', o.epsilon ?? 0.1, 0);
  return reverseCore(honest, f, 'epsilonReverse', eps);
}

/**
 * Reverse attack of MixTailor (Ramezani-Kebrya et al., TMLR 2022): {@link epsilonReverse} with
 * ε = 1, i.e. every Byzantine vector is −(Σ honest)/f and the n messages sum to zero. It sends the
 * same vectors as the seed notebook's {@link zeroGradient}; both names are kept because both
 * literatures use them. Returns `[]` for f = 0. When |Σ honest|/f overflows float32 (honest vectors
 * near ±3.4e38 and f too small) it throws `INVALID_OPTION` naming the coordinate and the least f.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - `{ f }` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰); trainRobust's `rng`,
 *   `seed` and `step` are accepted and only checked.
 * @returns f new vectors of length d, each −(Σ honest)/f (`[]` for f = 0).
 * @example
 * ```ts
 * import { mean, reverse } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * const byz = reverse(honest, { f: 2 });
 * console.log(byz);                       // 2 copies of −2.5·μ = (−2.5, 2.5, −1.25)
 * console.log(mean([...honest, ...byz])); // ≈ 0 in every coordinate
 * ```
 */
export function reverse(honest: Updates, options: AttackOptions): Float32Array[] {
  const { f } = readAttack(honest, options, 'reverse');
  return reverseCore(honest, f, 'reverse', 1);
}

/** f copies of −ε·(Σ honest)/f (float64, then float32), or an overflow error naming ε or f. */
export function reverseCore(honest: Updates, f: number, name: string, eps: number): Float32Array[] {
  if (f === 0) return [];
  const s = sumVector(honest);
  const peak = maxAbs(s);
  for (let k = 0; k < s.length; k++) s[k] = (-eps * s[k]) / f;
  const byz = toFloat32(s, name, (k, v) =>
    eps === 1
      ? `−(Σ honest)/f = ${v} overflows float32 at coordinate ${k}; f must be ≥ ${Math.ceil(peak / FLOAT32_MAX)} for these honest vectors, got ${f}`
      : `−ε·(Σ honest)/f = ${v} overflows float32 at coordinate ${k} (epsilon = ${eps}, f = ${f}; these honest vectors allow epsilon ≤ ${(FLOAT32_MAX * f) / peak})`,
  );
  return copies(byz, f);
}
