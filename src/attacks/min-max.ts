import { RobustAggError } from '../core/errors.js';
import { describeValue, requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { copies, FLOAT32_MAX, meanVector, readAttack, requireHonest, stdVector, toFloat32, type AttackOptions } from './common.js';

/**
 * The perturbation direction p of {@link minMax} and {@link minSum} (the Byzantine vector is
 * μ − γ·p): `'unit'` p = μ/‖μ‖, `'sign'` p = sign(μ), `'std'` p = σ (coordinate-wise sample
 * standard deviation of the honest vectors).
 */
export type MinMaxDirection = 'unit' | 'sign' | 'std';

/** Options of {@link minMax} and {@link minSum}. */
export interface MinMaxOptions extends AttackOptions {
  /** Perturbation direction: `'unit'`, `'sign'` or `'std'`. Default `'std'`. */
  direction?: MinMaxDirection;
  /**
   * `'bisection'` (default): the authors' search, γ starting at `gammaInit` and halving steps until
   * they fall below `tolerance`; it never goes past 2·gammaInit. `'exact'`: the largest feasible γ,
   * solved in closed form (the constraints are quadratic in γ).
   */
  search?: 'bisection' | 'exact';
  /** First γ of the bisection: a finite number > 0. Default 10. */
  gammaInit?: number;
  /**
   * Bisection stops once its step is below this: a finite number > 0. Default 1e-5. The bisection
   * takes ⌈log₂(gammaInit/tolerance)⌉ steps, at most ≈ 2100 whatever the two values.
   */
  tolerance?: number;
}

/**
 * Min-max attack (Shejwalkar & Houmansadr, "Manipulating the Byzantine: optimizing model poisoning
 * attacks and defenses for federated learning", NDSS 2021, AGR-agnostic): every Byzantine vector
 * is b = μ − γ·p with the largest γ such that b's farthest honest vector is no farther than the two
 * farthest honest vectors are from each other: maxᵢ ‖b − xᵢ‖ ≤ maxᵢⱼ ‖xᵢ − xⱼ‖. Defaults:
 * direction `'std'`, γ by bisection from 10 to a 1e-5 step (see {@link MinMaxOptions}).
 * Needs 2 honest vectors. {@link minMaxGamma} returns the γ. Computed in float64; γ is also kept
 * small enough that every value of b is a finite float32 (|bₖ| ≤ 3.4028235e38): a vector that
 * cannot be sent is not feasible. f ≤ 2²⁰, f·d ≤ 2³⁰.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link MinMaxOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `direction` (default `'std'`), `search` (default `'bisection'`), `gammaInit` (> 0,
 *   default 10), `tolerance` (> 0, default 1e-5). Needs h ≥ 2.
 * @returns f new vectors of length d, each μ − γ·p (`[]` for f = 0).
 * @example
 * ```ts
 * import { minMax } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * // σ = (0.0707, 0.1, 0.0707); γ ≈ 1.679: 2 copies of μ − γ·σ ≈ (0.881, −1.168, 0.381).
 * console.log(minMax(honest, { f: 2 }));
 * // p = μ/‖μ‖ = μ/1.5; γ ≈ 0.2685: 2 copies of (1 − γ/1.5)·μ ≈ (0.821, −0.821, 0.410).
 * console.log(minMax(honest, { f: 2, direction: 'unit', search: 'exact' }));
 * ```
 */
export function minMax(honest: Updates, options: MinMaxOptions): Float32Array[] {
  return craft(honest, options, 'minMax').byzantine;
}

/**
 * Min-sum attack (Shejwalkar & Houmansadr, NDSS 2021, AGR-agnostic): every Byzantine vector is
 * b = μ − γ·p with the largest γ such that b's sum of squared distances to the honest vectors is
 * no larger than the largest such sum of an honest vector: Σᵢ ‖b − xᵢ‖² ≤ maxᵢ Σⱼ ‖xᵢ − xⱼ‖².
 * Same defaults as {@link minMax}; {@link minSumGamma} returns the γ.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link MinMaxOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `direction` (default `'std'`), `search` (default `'bisection'`), `gammaInit` (> 0,
 *   default 10), `tolerance` (> 0, default 1e-5). Needs h ≥ 2.
 * @returns f new vectors of length d, each μ − γ·p (`[]` for f = 0).
 * @example
 * ```ts
 * import { minSum } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * // p = sign(μ) = (1, −1, 1); γ ≈ 0.1: 2 copies of ≈ (0.9, −0.9, 0.4).
 * console.log(minSum(honest, { f: 2, direction: 'sign' }));
 * // p = σ; γ ≈ 1.2247: 2 copies of ≈ (0.913, −1.122, 0.413).
 * console.log(minSum(honest, { f: 2 }));
 * ```
 */
export function minSum(honest: Updates, options: MinMaxOptions): Float32Array[] {
  return craft(honest, options, 'minSum').byzantine;
}

/**
 * The γ {@link minMax} uses on these honest vectors.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link MinMaxOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `direction` (default `'std'`), `search` (default `'bisection'`), `gammaInit` (> 0,
 *   default 10), `tolerance` (> 0, default 1e-5). Needs h ≥ 2.
 * @returns γ ≥ 0 (0 when no positive γ is feasible); `f` is checked but no vector is made.
 * @example
 * ```ts
 * import { minMaxGamma } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(minMaxGamma(honest, { f: 2 }));                  // 1.67943954… (bisection, to a 1e-5 step)
 * console.log(minMaxGamma(honest, { f: 2, search: 'exact' })); // 1.67944933… (the largest feasible γ)
 * ```
 */
export function minMaxGamma(honest: Updates, options: MinMaxOptions): number {
  return craft(honest, options, 'minMax', true).gamma;
}

/**
 * The γ {@link minSum} uses on these honest vectors.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link MinMaxOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `direction` (default `'std'`), `search` (default `'bisection'`), `gammaInit` (> 0,
 *   default 10), `tolerance` (> 0, default 1e-5). Needs h ≥ 2.
 * @returns γ ≥ 0 (0 when no positive γ is feasible); `f` is checked but no vector is made.
 * @example
 * ```ts
 * import { minSumGamma } from 'robust-agg';
 *
 * // Five honest clients, d = 3, with mean μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.0, -1.1, 0.5),
 * ];
 * console.log(minSumGamma(honest, { f: 2 }));                  // 1.22472763… (bisection, to a 1e-5 step)
 * console.log(minSumGamma(honest, { f: 2, search: 'exact' })); // 1.22474489… (the largest feasible γ)
 * ```
 */
export function minSumGamma(honest: Updates, options: MinMaxOptions): number {
  return craft(honest, options, 'minSum', true).gamma;
}

const MIN_MAX_KEYS = ['direction', 'search', 'gammaInit', 'tolerance'] as const;

function craft(
  honest: Updates,
  options: MinMaxOptions,
  name: 'minMax' | 'minSum',
  gammaOnly = false,
): { byzantine: Float32Array[]; gamma: number } {
  const input = readAttack(honest, options, name, MIN_MAX_KEYS);
  const { h, d, o } = input;
  const f = gammaOnly ? 0 : input.f;
  requireHonest(name, h, 2, 'for the distance threshold');
  const direction = o.direction ?? 'std';
  if (direction !== 'unit' && direction !== 'sign' && direction !== 'std') {
    throw new RobustAggError('INVALID_OPTION', `${name}: direction must be 'unit', 'sign' or 'std', got ${describeValue(direction)}`);
  }
  const search = o.search ?? 'bisection';
  if (search !== 'bisection' && search !== 'exact') {
    throw new RobustAggError('INVALID_OPTION', `${name}: search must be 'bisection' or 'exact', got ${describeValue(search)}`);
  }
  const gammaInit = requireNumber(name, 'gammaInit', o.gammaInit ?? 10, 0, Infinity, true);
  const tolerance = requireNumber(name, 'tolerance', o.tolerance ?? 1e-5, 0, Infinity, true);

  const mu = meanVector(honest);
  const p = perturbation(honest, mu, direction);
  // ‖μ − γp − xᵢ‖² = ‖aᵢ‖² − 2γ⟨aᵢ, p⟩ + γ²‖p‖² with aᵢ = μ − xᵢ.
  let pp = 0;
  for (let k = 0; k < d; k++) pp += p[k] * p[k];
  const aa = new Float64Array(h);
  const ap = new Float64Array(h);
  for (let i = 0; i < h; i++) {
    const x = honest[i];
    let s2 = 0;
    let sp = 0;
    for (let k = 0; k < d; k++) {
      const a = mu[k] - x[k];
      s2 += a * a;
      sp += a * p[k];
    }
    aa[i] = s2;
    ap[i] = sp;
  }
  const dist = squaredDistancesFromGram(gram(honest, 'robust'), h);
  // Each constraint is a quadratic c₂γ² + c₁γ + c₀ ≤ 0 (c₂ ≥ 0), satisfied at γ = 0.
  const constraints: [number, number, number][] = [];
  if (name === 'minMax') {
    let threshold = 0;
    for (let t = 0; t < h * h; t++) threshold = Math.max(threshold, dist[t]);
    for (let i = 0; i < h; i++) constraints.push([pp, -2 * ap[i], aa[i] - threshold]);
  } else {
    let threshold = 0;
    for (let i = 0; i < h; i++) {
      let s = 0;
      for (let j = 0; j < h; j++) s += dist[i * h + j];
      threshold = Math.max(threshold, s);
    }
    let sumAa = 0;
    let sumAp = 0;
    for (let i = 0; i < h; i++) {
      sumAa += aa[i];
      sumAp += ap[i];
    }
    constraints.push([h * pp, -2 * sumAp, sumAa - threshold]);
  }
  // Every bₖ = μₖ − γpₖ must stay a finite float32: γ ≤ (FLOAT32_MAX ± μₖ)/|pₖ|.
  let representable = Infinity;
  for (let k = 0; k < d; k++) {
    if (p[k] > 0) representable = Math.min(representable, (FLOAT32_MAX + mu[k]) / p[k]);
    else if (p[k] < 0) representable = Math.min(representable, (FLOAT32_MAX - mu[k]) / -p[k]);
  }
  const feasible = (g: number): boolean =>
    g <= representable && constraints.every(([c2, c1, c0]) => (c2 * g + c1) * g + c0 <= 0);
  const gamma =
    search === 'exact' ? Math.min(largestRoot(constraints), representable) : bisect(feasible, gammaInit, tolerance);
  if (f === 0) return { byzantine: [], gamma };
  const b = new Float64Array(d);
  for (let k = 0; k < d; k++) b[k] = mu[k] - gamma * p[k];
  const byz = toFloat32(b, name, (k, v) => `μ − γ·p = ${v} overflows float32 at coordinate ${k} (γ = ${gamma})`);
  return { byzantine: copies(byz, f), gamma };
}

/** The perturbation vector p for a direction. */
function perturbation(honest: Updates, mu: Float64Array, direction: MinMaxDirection): Float64Array {
  const d = mu.length;
  if (direction === 'std') return stdVector(honest, mu, 1);
  const p = new Float64Array(d);
  if (direction === 'sign') {
    for (let k = 0; k < d; k++) p[k] = Math.sign(mu[k]);
    return p;
  }
  let norm = 0;
  for (let k = 0; k < d; k++) norm += mu[k] * mu[k];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let k = 0; k < d; k++) p[k] = mu[k] / norm;
  return p;
}

/**
 * The authors' bisection: try γ; on success remember it and step up, on failure step down; halve
 * the step each time until it falls below `tolerance`. Returns the largest γ that succeeded (0 if
 * none did).
 */
function bisect(feasible: (g: number) => boolean, init: number, tolerance: number): number {
  let g = init;
  let step = init / 2;
  let best = 0;
  for (;;) {
    if (feasible(g)) {
      best = Math.max(best, g);
      g += step;
    } else {
      g -= step;
    }
    if (step < tolerance) break;
    step /= 2;
  }
  return best;
}

/**
 * The largest γ ≥ 0 with every c₂γ² + c₁γ + c₀ ≤ 0, given that γ = 0 satisfies all of them:
 * the smallest upper root. A constraint with c₂ = 0 and c₁ ≤ 0 never binds (+∞).
 */
function largestRoot(constraints: readonly [number, number, number][]): number {
  let best = Infinity;
  for (const [c2, c1, c0] of constraints) {
    let root: number;
    if (c2 > 0) {
      const disc = Math.max(0, c1 * c1 - 4 * c2 * c0);
      root = (-c1 + Math.sqrt(disc)) / (2 * c2);
    } else if (c1 > 0) {
      root = -c0 / c1;
    } else {
      root = Infinity;
    }
    best = Math.min(best, Math.max(0, root));
  }
  return Number.isFinite(best) ? best : 0;
}
