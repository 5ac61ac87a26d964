import { RobustAggError } from '../core/errors.js';
import { describeValue, requireInteger, requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { copies, meanVector, readAttack, requireHonest, stdVector, toFloat32, type AttackOptions } from './common.js';
import { normalQuantile } from './normal-quantile.js';

/** Which formula gives ALIE's z when it is not given (see {@link alieZ}). */
export type AlieVariant = 'paper' | 'code';

/** Options of {@link alie}. */
export interface AlieOptions extends AttackOptions {
  /**
   * The factor z in μ ± z·σ. Default: {@link alieZ}(n, f, variant) with n = honest + f. Range: any
   * finite number with |μₖ ± z·σₖ| ≤ 3.4028235e38 in every coordinate (else `INVALID_OPTION`
   * naming the coordinate).
   */
  z?: number;
  /** Formula for the default z: `'paper'` (default) or `'code'`, see {@link alieZ}. */
  variant?: AlieVariant;
  /** +1 for μ + z·σ (default, as ByzFL), −1 for μ − z·σ. */
  sign?: 1 | -1;
}

/**
 * ALIE's factor z for n clients of which f are Byzantine (Baruch, Baruch & Goldberg, "A little is
 * enough: circumventing defenses for distributed learning", NeurIPS 2019). With
 * s = ⌊n/2 + 1⌋ − f, the number of honest clients the attacker needs on its side for a majority:
 * `'paper'`: z = Φ⁻¹((n − s)/n); `'code'` (the formula common in public implementations):
 * z = Φ⁻¹((n − f − s)/(n − f)). Throws `TOO_FEW_CLIENTS` when s < 1 (f already holds a majority)
 * or when the probability is 0.
 *
 * @param n - the number of clients, honest and Byzantine: an integer ≥ 1.
 * @param f - the number of Byzantine clients: an integer in [0, n] with f < ⌊n/2 + 1⌋.
 * @param variant - the formula: `'paper'` (default) or `'code'`.
 * @returns z, finite (it may be negative or 0 when s is large).
 * @example
 * ```ts
 * import { alieZ } from 'robust-agg';
 *
 * console.log(alieZ(50, 12));         // s = 26 − 12 = 14: Φ⁻¹(36/50) ≈ 0.583
 * console.log(alieZ(50, 12, 'code')); // Φ⁻¹(24/38) ≈ 0.336
 * ```
 */
export function alieZ(n: number, f: number, variant: AlieVariant = 'paper'): number {
  requireInteger('alie', 'n', n, 1);
  requireInteger('alie', 'f', f, 0, n);
  if (variant !== 'paper' && variant !== 'code') {
    throw new RobustAggError('INVALID_OPTION', `alie: variant must be 'paper' or 'code', got ${describeValue(variant)}`);
  }
  const s = Math.floor(n / 2 + 1) - f;
  if (s < 1) {
    throw new RobustAggError(
      'TOO_FEW_CLIENTS',
      `alie needs s = ⌊n/2+1⌋ − f ≥ 1 (f < ⌊n/2+1⌋), got n=${n}, f=${f}; pass z explicitly`,
    );
  }
  const p = variant === 'paper' ? (n - s) / n : (n - f - s) / (n - f);
  if (!(p > 0)) {
    throw new RobustAggError('TOO_FEW_CLIENTS', `alie: z = Φ⁻¹(${p}) is infinite for n=${n}, f=${f}; pass z explicitly`);
  }
  return normalQuantile(p);
}

/**
 * "A little is enough" (Baruch, Baruch & Goldberg, NeurIPS 2019): every Byzantine vector is
 * μ + sign·z·σ, with μ and σ the coordinate-wise mean and sample standard deviation (ddof = 1, as
 * torch.std and ByzFL) of the honest vectors. The shift stays inside the honest spread in every
 * coordinate, so median- and distance-based rules keep it while it moves the aggregate by z·σ.
 * Defaults: z = {@link alieZ}(honest + f, f, 'paper'), sign +1. Needs 2 honest vectors. μ and σ in
 * float64; an output that overflows float32 throws `INVALID_OPTION`; f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link AlieOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `z` (default {@link alieZ}), `variant` (default `'paper'`), `sign` (+1 or −1, default +1). Needs
 *   h ≥ 2.
 * @returns f new vectors of length d, each μ + sign·z·σ (`[]` for f = 0).
 * @example
 * ```ts
 * import { alie, alieZ, coordinateMedian } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * // σ = (0.0707, 0.1, 0.0707) (sample standard deviation, ddof = 1).
 * console.log(alieZ(7, 2));                 // z = Φ⁻¹(5/7) ≈ 0.566 for n = 5 + 2, f = 2
 * const byz = alie(honest, { f: 2 });       // 2 copies of μ + 0.566·σ ≈ (1.040, −0.943, 0.540)
 * console.log(byz);
 * // The median takes the attackers' value in coordinate 1, within the honest spread:
 * console.log(coordinateMedian([...honest, ...byz])); // (1, −0.943, 0.5)
 * console.log(alie(honest, { f: 2, variant: 'code' }));  // z = Φ⁻¹(3/5) ≈ 0.253: μ + 0.253·σ
 * console.log(alie(honest, { f: 2, z: 1.5, sign: -1 })); // μ − 1.5·σ ≈ (0.894, −1.15, 0.394)
 * ```
 */
export function alie(honest: Updates, options: AlieOptions): Float32Array[] {
  const { h, f, o } = readAttack(honest, options, 'alie', ['z', 'variant', 'sign']);
  requireHonest('alie', h, 2, 'for a standard deviation');
  const sign = o.sign ?? 1;
  if (sign !== 1 && sign !== -1) {
    throw new RobustAggError('INVALID_OPTION', `alie: sign must be 1 or -1, got ${describeValue(sign)}`);
  }
  const variant = o.variant ?? 'paper';
  if (variant !== 'paper' && variant !== 'code') {
    throw new RobustAggError('INVALID_OPTION', `alie: variant must be 'paper' or 'code', got ${describeValue(variant)}`);
  }
  const given = o.z;
  if (given !== undefined) requireNumber('alie', 'z', given);
  if (f === 0) return [];
  const z = given ?? alieZ(h + f, f, variant);
  const mu = meanVector(honest);
  const sd = stdVector(honest, mu, 1);
  for (let k = 0; k < mu.length; k++) mu[k] += sign * z * sd[k];
  const byz = toFloat32(mu, 'alie', (k, v) => `μ ± z·σ = ${v} overflows float32 at coordinate ${k} (z = ${z}, σ = ${sd[k]})`);
  return copies(byz, f);
}
