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
 * @example
 * ```ts
 * import { zeroGradient, mean } from 'robust-agg';
 * const byz = zeroGradient(honest, { f: 2 });
 * mean([...honest, ...byz]); // ≈ 0 in every coordinate
 * ```
 */
export function zeroGradient(honest: Updates, options: ZeroGradientOptions): Float32Array[] {
  const { f } = readAttack(honest, options, 'zeroGradient');
  return reverseCore(honest, f, 'zeroGradient', 1);
}
