import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { describeValue, readOptions, requireNumber, requireVector, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { normalisedClientWeights, readClientWeights } from '../core/weights.js';

/** Largest `clipNorm` and `sigma` {@link crfl} accepts (10³⁰): the output then stays far inside float32. */
export const CRFL_MAX_SCALE = 1e30;

/** Options of {@link crfl}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface CrflOptions extends CommonOptions, RandomOptions {
  /**
   * The model-norm bound ρₜ of this round: the new global model is scaled to norm ≤ ρₜ. A finite
   * number in (0, 10³⁰]. Required. (The authors' experiments grow it over the rounds, e.g.
   * ρₜ = 0.1·t + 2 for MNIST.)
   */
  clipNorm: number;
  /**
   * Standard deviation σₜ of the Gaussian noise added to every parameter: a finite number in
   * [0, 10³⁰]. Required. With σ > 0 pass `seed` or `rng`.
   */
  sigma: number;
  /**
   * The global model wₜ₋₁ the updates apply to (finite, length d). Default: zeros, i.e. the clients
   * send full models and the new model is their weighted mean, clipped and noised.
   */
  global?: Float32Array;
  /**
   * One weight per client (sample counts, as FedAvg's pᵢ): an array-like of n finite numbers ≥ 0,
   * not all 0 over the finite clients, normalised to sum to 1 over them. Default: equal weights.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link crfl}. */
export interface CrflDecision extends Decision {
  /** The normalised weight of each client (0 for dropped ones). */
  readonly weights: Float64Array;
  /** ‖wₜ₋₁ + Σ pᵢ Δᵢ‖ before clipping. */
  readonly normBefore: number;
  /** The clipping factor min(1, ρₜ / ‖wₜ₋₁ + Σ pᵢ Δᵢ‖) applied. */
  readonly clipFactor: number;
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * CRFL's server step (Xie, Chen, Chen & Li, "CRFL: Certifiably robust federated learning against
 * backdoor attacks", ICML 2021): average the updates, clip the resulting **model** to norm ρₜ and
 * perturb it with Gaussian noise:
 *
 *   wₜ = wₜ₋₁ + Σᵢ pᵢ Δᵢ,  wₜ ← wₜ · min(1, ρₜ / ‖wₜ‖),  wₜ ← wₜ + N(0, σₜ² I).
 *
 * Unlike the other rules, the result is the new global model, not an aggregated update (pass the
 * previous model as `global`; subtract it for an update). The clipping and noise bound how far any
 * poisoned round can move the model, which is what makes the smoothed model certifiable: at test
 * time, predict with the majority vote of models wₜ + N(0, σ_T² I) and compute the certified radius
 * with {@link crflCertifiedRadius}. No client is rejected: the defence is the bound, not a filter.
 *
 * Non-finite clients are dropped with their weight. The sums are float64 and the clipped model has
 * norm ≤ ρₜ ≤ 10³⁰ and noise |z| ≤ 8.6σ ≤ 8.6·10³⁰, so the output is finite whatever finite values
 * the clients send.
 *
 * @param updates - the n client updates Δᵢ (or full models with `global` omitted), each a
 *   `Float32Array` of the same length d; not modified. Clients holding NaN or ±Inf are dropped
 *   with their weight (or throw, see `nonFinite`).
 * @param options - see {@link CrflOptions}: `clipNorm` (required, in (0, 10³⁰]), `sigma`
 *   (required, in [0, 10³⁰]), `seed` or `rng` (required when σ > 0), `global` (default zeros),
 *   `weights` (default equal), `nonFinite` (default `'drop'`).
 * @returns the new global model, a new `Float32Array` of length d.
 * @category Aggregators
 * @example
 * ```ts
 * import { crfl } from 'robust-agg';
 *
 * const global = Float32Array.of(0.5, 0.5, 0.5);
 * const updates = [Float32Array.of(0.1, 0, 0), Float32Array.of(0, 0.1, 0), Float32Array.of(30, 30, 30)];
 * // Mean update (10.03, 10.03, 10), new model norm ≈ 18.2, clipped to 2, plus N(0, 0.01²) noise.
 * const next = crfl(updates, { global, clipNorm: 2, sigma: 0.01, seed: 4 });
 * console.log(Math.hypot(...next)); // ≈ 2
 * ```
 */
export function crfl(updates: Updates, options: CrflOptions): Float32Array {
  return crflWithDecision(updates, options).aggregate;
}

/**
 * {@link crfl} together with its {@link CrflDecision}.
 *
 * @param updates - the n client updates Δᵢ (or full models with `global` omitted), each a
 *   `Float32Array` of the same length d; not modified. Clients holding NaN or ±Inf are dropped
 *   with their weight (or throw, see `nonFinite`).
 * @param options - see {@link CrflOptions}: `clipNorm` (required, in (0, 10³⁰]), `sigma`
 *   (required, in [0, 10³⁰]), `seed` or `rng` (required when σ > 0), `global` (default zeros),
 *   `weights` (default equal), `nonFinite` (default `'drop'`).
 * @category Aggregators
 * @example
 * ```ts
 * import { crflWithDecision } from 'robust-agg';
 *
 * // Full models (no `global`), no noise: the mean (3, 4) has norm 5, clipped to 1.
 * const { aggregate, decision } = crflWithDecision([Float32Array.of(2, 4), Float32Array.of(4, 4)], { clipNorm: 1, sigma: 0 });
 * console.log(aggregate);            // [0.6, 0.8]
 * console.log(decision.clipFactor);  // 0.2
 * ```
 */
export function crflWithDecision(updates: Updates, options: CrflOptions): Aggregation<CrflDecision> {
  const rule = 'crfl';
  const { opts, clipNorm, sigma } = readCrflOptions(rule, options);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { rows, d } = clients;
  const global = opts.global === undefined ? null : requireVector(rule, 'global', opts.global, d);
  const given = opts.weights === undefined ? undefined : readClientWeights(rule, opts.weights, clients.n);
  const rng = sigma > 0 || opts.seed !== undefined || opts.rng !== undefined ? resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule) : null;
  const w =
    given === undefined ? new Float64Array(rows.length).fill(1 / rows.length) : normalisedClientWeights(rule, given, clients.index);
  const acc = crflSum(rows, w, global, d);
  const normBefore = crflNorm(acc);
  const clipFactor = normBefore > clipNorm ? clipNorm / normBefore : 1;
  const out = crflOutput(acc, clipFactor, rng !== null && sigma > 0 ? sigma : 0, rng);
  return {
    aggregate: out,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(w, clients),
      normBefore,
      clipFactor,
      ...(given === undefined ? {} : { clientWeights: weightsOverInput(w, clients) }),
    },
  };
}

/**
 * CRFL's options object read, clipNorm and sigma checked. Shared by crfl and the sharded
 * coordinator.
 *
 * @internal
 */
export function readCrflOptions(
  rule: string,
  options: CrflOptions | undefined,
): { opts: Readonly<Partial<CrflOptions>>; clipNorm: number; sigma: number } {
  const opts = readOptions(rule, options, ['clipNorm', 'sigma', 'global', 'weights', 'seed', 'rng', 'nonFinite']);
  const clipNorm = requireNumber(rule, 'clipNorm', opts.clipNorm as number, 0, CRFL_MAX_SCALE);
  if (clipNorm === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: clipNorm must be a finite number in (0, ${CRFL_MAX_SCALE}], got 0`);
  const sigma = requireNumber(rule, 'sigma', opts.sigma as number, 0, CRFL_MAX_SCALE);
  return { opts, clipNorm, sigma };
}

/**
 * global + Σ wᵢ xᵢ over the first `d` columns, in float64 (clients with wᵢ = 0 skipped, the
 * others in order). Shared by crfl and the shards of the sharded coordinator.
 *
 * @internal
 */
export function crflSum(rows: readonly Float32Array[], w: ArrayLike<number>, global: Float32Array | null, d: number): Float64Array {
  const acc = new Float64Array(d);
  if (global !== null) for (let k = 0; k < d; k++) acc[k] = global[k];
  for (let i = 0; i < rows.length; i++) {
    const x = rows[i];
    const wi = w[i];
    if (wi === 0) continue;
    for (let k = 0; k < d; k++) acc[k] += wi * x[k];
  }
  return acc;
}

/**
 * acc·clipFactor + σ·N(0, 1) per coordinate, in order (no draw when σ = 0), rounded to float32.
 * Shared by crfl and the shards of the sharded coordinator.
 *
 * @internal
 */
export function crflOutput(acc: Float64Array, clipFactor: number, sigma: number, rng: { gaussian(): number } | null): Float32Array {
  const out = new Float32Array(acc.length);
  for (let k = 0; k < acc.length; k++) out[k] = acc[k] * clipFactor + (rng !== null && sigma > 0 ? sigma * rng.gaussian() : 0);
  return out;
}

/**
 * ‖v‖ of a float64 vector, scaled so that squares of values up to 1.8e308 cannot overflow.
 *
 * @internal
 */
export function crflNorm(v: Float64Array): number {
  let big = 0;
  for (let k = 0; k < v.length; k++) big = Math.max(big, Math.abs(v[k]));
  if (big === 0) return 0;
  let s = 0;
  for (let k = 0; k < v.length; k++) s += (v[k] / big) ** 2;
  return big * Math.sqrt(s);
}

/** One round of the chain the certificate runs through: its model-norm bound and noise. */
export interface CrflRound {
  /** The round's clipping bound ρₜ: a finite number > 0. */
  clipNorm: number;
  /** The round's noise σₜ (the last round: the test-time smoothing σ_T): a finite number > 0. */
  sigma: number;
}

/** Options of {@link crflCertifiedRadius}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface CrflCertificateOptions {
  /** A lower confidence bound p_A on the smoothed model's probability of the predicted class: in (0, 1). */
  pA: number;
  /** An upper confidence bound p_B on the runner-up's probability: in [0, 1), below p_A. */
  pB: number;
  /** The training noise σ of the rounds before T (the σ in the numerator): a finite number > 0. */
  sigma: number;
  /**
   * The rounds t_adv + 1, …, T after the attack, in order, each with its ρₜ and σₜ (the last one
   * with the test-time σ_T): 1 to 10⁶ entries. Their contraction Π (2Φ(ρₜ/σₜ) − 1) enters the
   * denominator.
   */
  rounds: readonly CrflRound[];
  /** The aggregation weights pᵢ of the R attackers (R = its length, 1 to 10⁶), each finite and > 0. */
  attackerWeights: ArrayLike<number>;
  /** Local iterations τ of each client per round: a finite number > 0. */
  localIterations: number;
  /** Lipschitz constant L_Z of the loss gradient in the input (the authors use √(2 + 2ρ + ρ²) with ρ = 3): finite, > 0. */
  lipschitz: number;
  /** The attackers' scale factor γ on their update: finite, > 0. */
  scaleFactor: number;
  /** The clients' learning rate η: finite, > 0. */
  learningRate: number;
  /** The fraction q_B / n_B of poisoned samples in an attacker's batch: in (0, 1]. */
  poisonedFraction: number;
}

/**
 * CRFL's certified radius (Xie et al., ICML 2021, Theorem 1 and its corollary, with the constants
 * as the authors' certification script computes them): the smoothed global model's prediction on
 * a test input is the same with and without the attack for every backdoor trigger of norm
 * ‖δ‖ < RAD, where
 *
 *   RAD = √( −σ² ln(1 − (√p_A − √p_B)²) / (2 R τ² L_Z² (Σᵢ pᵢ²) γ² η² (q_B/n_B)² Π_{t=t_adv+1}^{T} (2Φ(ρₜ/σₜ) − 1)) ),
 *
 * Φ the standard normal CDF, R attackers with aggregation weights pᵢ, τ local iterations, L_Z the
 * Lipschitz constant, γ the attackers' scale factor, η the learning rate, q_B/n_B the poisoned
 * fraction of a batch, and the product over the rounds after the attack (clipping ρₜ, noise σₜ;
 * the last is the test-time σ_T). p_A and p_B are confidence bounds from M noisy models, e.g. by
 * Hoeffding: p_A = p̂_A − √(ln(1/α)/(2M)), p_B = p̂_B + √(ln(1/α)/(2M)) (the authors' choice).
 *
 * @param options - see {@link CrflCertificateOptions}: `pA` in (0, 1), `pB` in [0, pA), `sigma`,
 *   `rounds`, `attackerWeights`, `localIterations`, `lipschitz`, `scaleFactor`, `learningRate`
 *   (all finite, > 0), `poisonedFraction` in (0, 1].
 * @returns the radius, a finite number ≥ 0; throws `UNSUPPORTED` if it overflows (a contraction or
 *   denominator that underflows to 0).
 * @category Aggregators
 * @example
 * ```ts
 * import { crflCertifiedRadius } from 'robust-agg';
 *
 * // The authors' MNIST setting: one attacker with weight 1/N (N = 20), τ = 60000/N/n_B local
 * // iterations (n_B = 64), L_Z = √(2 + 6 + 9), γ = 10, η = 0.01, 5 of 64 samples poisoned, the
 * // attack at round 10 and the certificate at T = 100 with ρₜ = 0.1t + 2, σ = 0.01.
 * const rounds = Array.from({ length: 90 }, (_, i) => ({ clipNorm: 0.1 * (11 + i) + 2, sigma: 0.01 }));
 * const radius = crflCertifiedRadius({
 *   pA: 0.9, pB: 0.05, sigma: 0.01, rounds, attackerWeights: [1 / 20],
 *   localIterations: 60000 / 20 / 64, lipschitz: Math.sqrt(17), scaleFactor: 10,
 *   learningRate: 0.01, poisonedFraction: 5 / 64,
 * });
 * console.log(radius); // ≈ 0.081
 * ```
 */
export function crflCertifiedRadius(options: CrflCertificateOptions): number {
  const rule = 'crflCertifiedRadius';
  const o = readOptions(rule, options, [
    'pA', 'pB', 'sigma', 'rounds', 'attackerWeights', 'localIterations', 'lipschitz', 'scaleFactor', 'learningRate', 'poisonedFraction',
  ]);
  const pA = requireNumber(rule, 'pA', o.pA as number, 0, 1, true);
  const pB = requireNumber(rule, 'pB', o.pB as number, 0, 1);
  if (!(pB < pA)) throw new RobustAggError('INVALID_OPTION', `${rule}: pB must be below pA, got pA=${pA}, pB=${pB}`);
  const positive = (name: string, v: unknown): number => {
    const x = requireNumber(rule, name, v as number, 0, Infinity);
    if (x === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be a finite number > 0, got 0`);
    return x;
  };
  const sigma = positive('sigma', o.sigma);
  const tau = positive('localIterations', o.localIterations);
  const lz = positive('lipschitz', o.lipschitz);
  const gamma = positive('scaleFactor', o.scaleFactor);
  const eta = positive('learningRate', o.learningRate);
  const q = positive('poisonedFraction', o.poisonedFraction);
  if (q > 1) throw new RobustAggError('INVALID_OPTION', `${rule}: poisonedFraction must be in (0, 1], got ${q}`);
  const weights = o.attackerWeights;
  if (weights === null || typeof weights !== 'object' || !Number.isInteger(weights.length) || weights.length < 1 || weights.length > 1e6) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: attackerWeights must be an array of 1 to 10⁶ weights, got ${describeValue(weights)}`);
  }
  const r = weights.length;
  let sumSquares = 0;
  for (let i = 0; i < r; i++) sumSquares += positive(`attackerWeights[${i}]`, weights[i]) ** 2;
  const rounds = o.rounds;
  if (!Array.isArray(rounds) || rounds.length < 1 || rounds.length > 1e6) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: rounds must be an array of 1 to 10⁶ { clipNorm, sigma }, got ${describeValue(rounds)}`);
  }
  let contraction = 1;
  for (let t = 0; t < rounds.length; t++) {
    const round: unknown = rounds[t];
    if (round === null || typeof round !== 'object') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: rounds[${t}] must be { clipNorm, sigma }, got ${describeValue(round)}`);
    }
    const { clipNorm, sigma: s } = round as CrflRound;
    contraction *= erf(positive(`rounds[${t}].clipNorm`, clipNorm) / positive(`rounds[${t}].sigma`, s) / Math.SQRT2);
  }
  const gap = (Math.sqrt(pA) - Math.sqrt(pB)) ** 2;
  const numerator = -Math.log1p(-gap) * sigma * sigma;
  const denominator = 2 * r * tau * tau * lz * lz * sumSquares * gamma * gamma * eta * eta * q * q * contraction;
  const radius = Math.sqrt(numerator / denominator);
  if (!Number.isFinite(radius)) {
    throw new RobustAggError('UNSUPPORTED', `${rule}: the radius overflows (denominator ${denominator}, numerator ${numerator})`);
  }
  return radius;
}

/**
 * The error function erf(z) for z ≥ 0, to about 1e-15 relative: its Taylor series below 3, and
 * 1 − erfc(z) with erfc's continued fraction (Lentz form, evaluated backwards) from 3 on. So
 * 2Φ(x) − 1 = erf(x/√2) keeps its relative accuracy for small x.
 */
function erf(z: number): number {
  if (z < 3) {
    // erf(z) = 2/√π Σ (−1)ⁿ z^{2n+1} / (n! (2n+1))
    let p = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      p *= (-z * z) / n;
      const term = p / (2 * n + 1);
      sum += term;
      if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …)))))
  let f = z;
  for (let k = 80; k >= 1; k--) f = z + k / 2 / f;
  return 1 - Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
}
