import { krumWithDecision } from '../aggregators/krum.js';
import { RobustAggError } from '../core/errors.js';
import { requireNumber } from '../core/options.js';
import { resolveRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { squaredNorm } from '../kernels/norms.js';
import { checkAttackInput, copies, meanVector, type AttackOptions } from './common.js';

/** The rule {@link fang}'s full-knowledge attack is built against. */
export type FangTarget = 'krum' | 'trimmedMean' | 'median';

/** Options of {@link fang}. */
export interface FangOptions extends AttackOptions, RandomOptions {
  /** The attacked rule. Default `'krum'`. `'trimmedMean'` and `'median'` are randomized (pass `seed` or `rng`). */
  target?: FangTarget;
  /** Trimmed mean / median: the factor b > 1 of the sampling intervals. Default 2 (the paper's). */
  b?: number;
  /** Krum: λ is halved from its upper bound until Krum picks the attack or λ < threshold. Default 1e-5. */
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
 * Defaults: target `'krum'`, b = 2, threshold 1e-5. {@link fangLambda} returns Krum's λ.
 *
 * @example
 * ```ts
 * import { fang } from 'robust-agg';
 * fang(honest, { f: 3, target: 'krum' });
 * fang(honest, { f: 3, target: 'trimmedMean', seed: 1 });
 * ```
 */
export function fang(honest: Updates, options: FangOptions): Float32Array[] {
  const { f } = checkAttackInput(honest, options, 'fang');
  const target = options.target ?? 'krum';
  if (target === 'krum') return copies(krumAttack(honest, f, options).vector, f);
  if (target === 'trimmedMean' || target === 'median') return trimmedMeanAttack(honest, f, options);
  throw new RobustAggError('INVALID_OPTION', `fang: target must be 'krum', 'trimmedMean' or 'median', got ${String(target)}`);
}

/**
 * The λ that {@link fang} uses against Krum for these honest vectors and f.
 *
 * @example
 * ```ts
 * fangLambda(honest, { f: 3 });
 * ```
 */
export function fangLambda(honest: Updates, options: FangOptions): number {
  const { f } = checkAttackInput(honest, options, 'fang');
  return krumAttack(honest, f, options).lambda;
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

function krumAttack(honest: Updates, f: number, options: FangOptions): { vector: Float64Array; lambda: number } {
  const h = honest.length;
  const d = honest[0].length;
  const threshold = requireNumber('fang', 'threshold', options.threshold ?? 1e-5, 0, Infinity, true);
  const s = meanVector(honest).map(Math.sign);
  const vector = new Float64Array(d);
  if (f === 0) return { vector, lambda: 0 };
  if (h + f < 2 * f + 3) {
    throw new RobustAggError(
      'TOO_FEW_CLIENTS',
      `fang against krum needs n = honest + f ≥ 2f+3, got n=${h + f}, f=${f}`,
    );
  }
  let lambda = fangLambdaBound(honest, f);
  let tried = lambda;
  while (lambda >= threshold) {
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

function trimmedMeanAttack(honest: Updates, f: number, options: FangOptions): Float32Array[] {
  const b = requireNumber('fang', 'b', options.b ?? 2, 1, Infinity, true);
  const rng = resolveRng(options, 'fang');
  const d = honest[0].length;
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
  const out: Float32Array[] = [];
  for (let j = 0; j < f; j++) {
    const v = new Float32Array(d);
    for (let k = 0; k < d; k++) v[k] = lo[k] + (hi[k] - lo[k]) * rng.next();
    out.push(v);
  }
  return out;
}
