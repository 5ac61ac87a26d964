import { krumWithDecision } from '../aggregators/krum.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, requireNumber } from '../core/options.js';
import type { RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { squaredNorm } from '../kernels/norms.js';
import { attackRng, copies, FLOAT32_MAX, meanVector, readAttack, toFloat32, type AttackInput, type AttackOptions } from './common.js';

/** The rule {@link fang}'s full-knowledge attack is built against. */
export type FangTarget = 'krum' | 'trimmedMean' | 'median';

/** Options of {@link fang}. */
export interface FangOptions extends AttackOptions, RandomOptions {
  /** The attacked rule. Default `'krum'`. `'trimmedMean'` and `'median'` are randomized (pass `seed` or `rng`). */
  target?: FangTarget;
  /**
   * Trimmed mean / median: the factor b > 1 of the sampling intervals (finite). Default 2 (the
   * paper's). b·|wₖ| must stay ≤ 3.4028235e38 for the honest extremes wₖ the attack scales, else
   * `INVALID_OPTION` naming the coordinate.
   */
  b?: number;
  /**
   * Krum: λ is halved from its upper bound until Krum picks the attack or λ < threshold (a finite
   * number > 0). Default 1e-5. At most 64 halvings (65 Krum runs) whatever the threshold.
   */
  threshold?: number;
}

/**
 * Full-knowledge local model poisoning (Fang, Cao, Jia & Gong, "Local model poisoning attacks to
 * Byzantine-robust federated learning", USENIX Security 2020), on updates: s = sign(μ) is the
 * direction the honest mean moves in, and the attack pushes the aggregate the other way.
 *
 * - `'krum'`: all f vectors are −λ·s, with λ halved from the paper's upper bound
 *   λ̄ = minᵢ Σ_{l∈Γᵢ} ‖xₗ − xᵢ‖ / ((n − 2f − 1)√d) + maxᵢ ‖xᵢ‖ / √d (Γᵢ: the n − f − 2 honest
 *   vectors nearest to honest xᵢ, n = honest + f) until Krum with f selects one of them, or
 *   λ < threshold (then the last λ tried is used). Needs n ≥ 2f+3.
 * - `'trimmedMean'` / `'median'` (the paper's attack on both): per coordinate j with
 *   wmaxⱼ, wminⱼ the honest extremes, each Byzantine value is drawn uniformly from
 *   [wminⱼ/b, wminⱼ] (wminⱼ > 0) or [b·wminⱼ, wminⱼ] (otherwise) when sⱼ > 0, and from
 *   [wmaxⱼ, b·wmaxⱼ] (wmaxⱼ > 0) or [wmaxⱼ, wmaxⱼ/b] (otherwise) when sⱼ < 0; μⱼ when sⱼ = 0.
 *
 * Defaults: target `'krum'`, b = 2, threshold 1e-5. {@link fangLambda} returns Krum's λ. λ̄ is
 * capped at the largest float32 (3.4028235e38) so that −λ·s is always finite, and the search runs
 * Krum at most 65 times. f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link FangOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `target` (default `'krum'`), `b` (> 1, default 2), `threshold` (> 0, default 1e-5), and `seed` or
 *   `rng` for `'trimmedMean'` and `'median'`. Against Krum n = h + f ≥ 2f+3.
 * @returns f new vectors of length d (`[]` for f = 0).
 * @example
 * ```ts
 * import { fang, krum, trimmedMean } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * const byz = fang(honest, { f: 2, target: 'krum' });
 * console.log(byz); // 2 copies of −λ·sign(μ) with λ ≈ 0.0414: ≈ (−0.0414, 0.0414, −0.0414)
 * // Krum picks an attacker: its output points against μ.
 * console.log(krum([...honest, ...byz], { f: 2 }));
 * const tm = fang(honest, { f: 2, target: 'trimmedMean', seed: 1 });
 * // sign(μ) = (1, −1, 1); honest minima (0, −2, −0.5), maxima (2, 0, 1.5): coordinates 0 and 1 are
 * // drawn from [0, 0] (wmin = 0, wmax = 0), coordinate 2 from [2·(−0.5), −0.5] = [−1, −0.5].
 * console.log(tm); // ≈ (0, 0, −0.765) and (0, 0, −0.748) with this seed
 * // ≈ (0.5, −0.5, −0.167), where the honest clients alone give ≈ μ = (1, −1, 0.5):
 * console.log(trimmedMean([...honest, ...tm], { f: 2 }));
 * ```
 */
export function fang(honest: Updates, options: FangOptions): Float32Array[] {
  const input = readFang(honest, options);
  const target = input.o.target ?? 'krum';
  if (target === 'krum') return copies(krumAttack(honest, input).vector, input.f);
  return trimmedMeanAttack(honest, input);
}

/**
 * The most times {@link fang}'s Krum attack halves λ (64: λ̄·2⁻⁶⁴ is negligible against λ̄), so that
 * a tiny `threshold` or a huge λ̄ cannot make it run Krum thousands of times.
 */
export const FANG_MAX_HALVINGS = 64;

const FANG_KEYS = ['target', 'b', 'threshold'] as const;

function readFang(honest: Updates, options: FangOptions): AttackInput<FangOptions> {
  const input = readAttack(honest, options, 'fang', FANG_KEYS);
  const target = input.o.target ?? 'krum';
  if (target !== 'krum' && target !== 'trimmedMean' && target !== 'median') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `fang: target must be 'krum', 'trimmedMean' or 'median', got ${describeValue(target)}`,
    );
  }
  return input;
}

/**
 * The λ that {@link fang} uses against Krum for these honest vectors and f.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link FangOptions}: `f` (required, an integer in [0, 2²⁰] with f·d ≤ 2³⁰),
 *   `threshold` (> 0, default 1e-5). `target` must be one of the three names, but λ is always the one
 *   against Krum; `b` is not used. Needs n = h + f ≥ 2f+3.
 * @returns λ ≥ 0 (0 for f = 0).
 * @example
 * ```ts
 * import { fangLambda } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * console.log(fangLambda(honest, { f: 2 })); // ≈ 0.0414: λ̄ halved until Krum picks the attack
 * ```
 */
export function fangLambda(honest: Updates, options: FangOptions): number {
  return krumAttack(honest, readFang(honest, options)).lambda;
}

/** The upper bound λ̄ of Fang et al.'s search against Krum (exported for tests). */
export function fangLambdaBound(honest: Updates, f: number): number {
  const h = honest.length;
  const n = h + f;
  const d = honest[0].length;
  const dist = squaredDistancesFromGram(gram(honest, 'robust'), h);
  const neighbours = n - f - 2;
  let minSum = Infinity;
  const scratch: number[] = [];
  for (let i = 0; i < h; i++) {
    scratch.length = 0;
    for (let l = 0; l < h; l++) if (l !== i) scratch.push(Math.sqrt(dist[i * h + l]));
    scratch.sort((a, b) => a - b);
    let s = 0;
    for (let t = 0; t < neighbours; t++) s += scratch[t];
    minSum = Math.min(minSum, s);
  }
  let maxNorm = 0;
  for (const x of honest) maxNorm = Math.max(maxNorm, Math.sqrt(squaredNorm(x)));
  return minSum / ((n - 2 * f - 1) * Math.sqrt(d)) + maxNorm / Math.sqrt(d);
}

function krumAttack(honest: Updates, input: AttackInput<FangOptions>): { vector: Float64Array; lambda: number } {
  const { h, d, f, o } = input;
  const threshold = requireNumber('fang', 'threshold', o.threshold ?? 1e-5, 0, Infinity, true);
  const s = meanVector(honest).map(Math.sign);
  const vector = new Float64Array(d);
  if (f === 0) return { vector, lambda: 0 };
  if (h + f < 2 * f + 3) {
    throw new RobustAggError(
      'TOO_FEW_CLIENTS',
      `fang against krum needs n = honest + f ≥ 2f+3, got n=${h + f}, f=${f}`,
    );
  }
  const bound = fangLambdaBound(honest, f);
  let lambda = Number.isFinite(bound) ? Math.min(bound, FLOAT32_MAX) : FLOAT32_MAX;
  let tried = lambda;
  for (let halvings = 0; lambda >= threshold && halvings <= FANG_MAX_HALVINGS; halvings++) {
    tried = lambda;
    for (let k = 0; k < d; k++) vector[k] = -lambda * s[k];
    const byz = copies(vector, f);
    const { decision } = krumWithDecision([...honest, ...byz], { f });
    if (decision.selected[0] >= h) return { vector, lambda };
    lambda /= 2;
  }
  for (let k = 0; k < d; k++) vector[k] = -tried * s[k];
  return { vector, lambda: tried };
}

function trimmedMeanAttack(honest: Updates, input: AttackInput<FangOptions>): Float32Array[] {
  const { d, f, o } = input;
  const b = requireNumber('fang', 'b', o.b ?? 2, 1, Infinity, true);
  const rng = attackRng(o, 'fang');
  const mu = meanVector(honest);
  const lo = new Float64Array(d);
  const hi = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let wmin = Infinity;
    let wmax = -Infinity;
    for (const x of honest) {
      wmin = Math.min(wmin, x[k]);
      wmax = Math.max(wmax, x[k]);
    }
    if (mu[k] > 0) {
      [lo[k], hi[k]] = wmin > 0 ? [wmin / b, wmin] : [b * wmin, wmin];
    } else if (mu[k] < 0) {
      [lo[k], hi[k]] = wmax > 0 ? [wmax, b * wmax] : [wmax, wmax / b];
    } else {
      lo[k] = hi[k] = mu[k];
    }
  }
  // The interval ends are honest values or b times one; check the scaled ones once, not per draw
  // (a value drawn between two finite float32 ends is finite).
  toFloat32(lo, 'fang', (k, v) => `b·w = ${v} overflows float32 at coordinate ${k} (b = ${b}; |b·w| must be ≤ 3.4028235e38)`);
  toFloat32(hi, 'fang', (k, v) => `b·w = ${v} overflows float32 at coordinate ${k} (b = ${b}; |b·w| must be ≤ 3.4028235e38)`);
  const out: Float32Array[] = [];
  for (let j = 0; j < f; j++) {
    const v = new Float32Array(d);
    for (let k = 0; k < d; k++) v[k] = lo[k] + (hi[k] - lo[k]) * rng.next();
    out.push(v);
  }
  return out;
}
