import { requireInteger } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { copies, readAttack, type AttackOptions } from './common.js';

/** Options of {@link mimic}. */
export interface MimicOptions extends AttackOptions {
  /** Which honest vector to copy: an integer in [0, honest − 1]. Default 0. */
  index?: number;
}

/**
 * Mimic attack (Karimireddy, He & Jaggi, "Byzantine-robust learning on heterogeneous datasets via
 * bucketing", ICLR 2022): every Byzantine vector is a copy of honest vector `index`, so that under
 * heterogeneous (non-IID) data one client's distribution is over-represented and the others' is
 * under-represented, without any vector looking abnormal. Default index 0. The copies are honest
 * values, so always finite; f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link MimicOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `index` (an integer in [0, h − 1], default 0).
 * @returns f new vectors, each a copy of `honest[index]`.
 * @example
 * ```ts
 * import { mimic } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(mimic(honest, { f: 4, index: 2 })); // 4 copies of honest[2] = (0.9, −1.1, 0.6)
 * ```
 */
export function mimic(honest: Updates, options: MimicOptions): Float32Array[] {
  const { h, f, o } = readAttack(honest, options, 'mimic', ['index']);
  const index = requireInteger('mimic', 'index', o.index ?? 0, 0, h - 1);
  return copies(honest[index], f);
}
