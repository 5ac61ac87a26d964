import type { Aggregator } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger, requireNumber } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { isOverflowError, meanVector, readAttack, type Attack, type AttackOptions } from './common.js';
import { resolveScaledAttack, type ScaledAttack, type ScaledAttackName } from './scaled.js';

/** Settings of the line search of {@link optimal}. */
export interface LineSearchOptions {
  /** Evaluations of the aggregator allowed: an integer in [1, 256]. Default 16. */
  evaluations?: number;
  /** First scale tried: a finite number ≥ 0 small enough that the attack can be crafted. Default 0. */
  start?: number;
  /** First step: a finite number > 0. Default 1. */
  step?: number;
  /** Factor in (0.5, 1) the step shrinks by in the contraction phase. Default 0.8. */
  ratio?: number;
  /**
   * How the contraction phase probes, once the step has shrunk by `ratio`:
   * - `'around-best'` (default): the best scale so far one step above, then one step below (never
   *   below 0); up to two evaluations per shrink, stopping at the first improvement;
   * - `'from-last-probe'`: ByzFL's LineMaximize: one evaluation per shrink, one step from the
   *   previous probe (up when that probe lay below the best scale, else down; a probe below 0 is
   *   moved halfway back towards the previous one until it is ≥ 0). Reproduces ByzFL's search.
   */
  contraction?: LineSearchContraction;
}

/** The contraction phases of {@link optimalSearch}'s line search (see {@link LineSearchOptions}). */
export type LineSearchContraction = 'around-best' | 'from-last-probe';

/** The most aggregator evaluations one {@link optimalSearch} may spend (`evaluations` ≤ 256). */
export const MAX_SEARCH_EVALUATIONS = 256;

const LINE_SEARCH_KEYS = ['evaluations', 'start', 'step', 'ratio', 'contraction'] as const;
const OPTIMAL_KEYS = [...LINE_SEARCH_KEYS, 'attack', 'aggregator'] as const;

/**
 * Checks what an aggregator returned: a `Float32Array` of length d holding finite values (the
 * library's rules always do for finite input), else `INVALID_OPTION` naming `what` and `when`.
 *
 * @internal
 */
export function checkAggregate(rule: string, what: string, out: unknown, d: number, when: string): Float32Array {
  if (!(out instanceof Float32Array) || out.length !== d) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${what} must return a Float32Array of length ${d}, got ${out instanceof Float32Array ? `length ${out.length}` : describeValue(out)} at ${when}`,
    );
  }
  for (let k = 0; k < d; k++) {
    if (out[k] - out[k] !== 0) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: ${what} returned ${out[k]} at coordinate ${k} at ${when} (it must return finite values for finite input)`,
      );
    }
  }
  return out;
}

/** Options of {@link optimalSearch}. */
export interface OptimalSearchOptions extends AttackOptions, LineSearchOptions {
  /** The attack family searched: a built-in name or a {@link ScaledAttack}. */
  attack: ScaledAttackName | ScaledAttack;
  /** The aggregator attacked, bound to its options (it sees honest ∪ Byzantine, honest first). */
  aggregator: Aggregator;
}

/** What {@link optimalSearch} found. */
export interface OptimalSearchResult {
  /** The f Byzantine vectors at the best scale. */
  readonly byzantine: Float32Array[];
  /** The best scale found. */
  readonly scale: number;
  /** ‖agg(honest ∪ byzantine) − mean(honest)‖ at that scale. */
  readonly deviation: number;
  /** Aggregator evaluations spent. */
  readonly evaluations: number;
}

/**
 * The line search behind {@link optimal}: maximises the deviation
 * D(s) = ‖agg(honest ∪ attack(honest, s)) − mean(honest)‖ over the scale s ≥ 0 with a budget of
 * aggregator evaluations. Expansion: from `start`, step up while D improves, doubling the step.
 * Contraction: the step shrinks by `ratio` each time, and (default, `contraction: 'around-best'`)
 * the best point so far is probed one step above and then one step below (never below 0), keeping
 * the first improvement. A best-effort search (D need not be unimodal). The expansion and the
 * defaults (16 evaluations, start 0, step 1, ratio 0.8) are those of ByzFL's "LineMaximize"
 * optimizer for its Optimal IPM/ALIE attacks (Allouah, Guerraoui, Gupta, Pinot & Stephan,
 * AISTATS 2023; ByzFL, EPFL); the default contraction is not. ByzFL spends one evaluation per
 * shrink, stepping from its previous probe rather than from the best point (up when that probe lay
 * below the best, else down). Ours probes both sides of the best point at every step size, so a
 * maximum on the side the previous probe did not come from is not skipped, at the price of up to
 * two evaluations per shrink; with the same budget the two searches can settle on different
 * scales. `contraction: 'from-last-probe'` runs ByzFL's contraction, to reproduce its numbers.
 *
 * Limits: at most 256 evaluations. A scale at which the attack cannot be crafted (a built-in family
 * throws `INVALID_OPTION` when a value would overflow float32; a scale that overflows float64) counts
 * as an evaluation that did not improve; only the start must be craftable. The aggregator must
 * return a finite `Float32Array` of length d (else `INVALID_OPTION`), so the deviation is finite.
 * Here `step` is the line search's first step (a bound {@link optimal} attack ignores the training
 * step `trainRobust` passes).
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link OptimalSearchOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `attack` and `aggregator` (required), `evaluations` (an integer in [1, 256], default
 *   16), `start` (≥ 0, default 0), `step` (> 0, default 1), `ratio` (in (0.5, 1), default 0.8),
 *   `contraction` (`'around-best'`, default, or ByzFL's `'from-last-probe'`).
 * @returns the Byzantine vectors at the best scale, that scale, its deviation and the evaluations
 *   spent.
 * @example
 * ```ts
 * import { krum, optimalSearch } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * const r = optimalSearch(honest, { f: 2, attack: 'ipm', aggregator: (u) => krum(u, { f: 2 }) });
 * // ε ≈ 0.055: Krum picks −ε·μ, which lies 1.055·‖μ‖ ≈ 1.58 from μ (‖μ‖ = 1.5); a larger ε puts
 * // the attackers too far from the honest clients for Krum to pick them.
 * console.log(r.scale, r.deviation, r.evaluations); // ≈ 0.055 1.5825 16
 * console.log(r.byzantine); // 2 copies of ≈ (−0.055, 0.055, −0.0275)
 * ```
 */
export function optimalSearch(honest: Updates, options: OptimalSearchOptions): OptimalSearchResult {
  const rule = 'optimal';
  const { d, f, o } = readAttack(honest, options, rule, OPTIMAL_KEYS);
  if (o.attack === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: attack must be 'ipm', 'alie', 'epsilonReverse', 'signFlip' or a function`);
  }
  const attack = resolveScaledAttack(o.attack, rule);
  const aggregator = o.aggregator;
  if (typeof aggregator !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: aggregator must be a function (updates) => Float32Array`);
  }
  const budget = requireInteger(rule, 'evaluations', o.evaluations ?? 16, 1, MAX_SEARCH_EVALUATIONS);
  const start = requireNumber(rule, 'start', o.start ?? 0, 0);
  let step = requireNumber(rule, 'step', o.step ?? 1, 0, Infinity, true);
  const ratio = requireNumber(rule, 'ratio', o.ratio ?? 0.8, 0.5, 1, true);
  const contraction = requireContraction(rule, o.contraction);
  const mu = meanVector(honest);
  let used = 0;
  /** The attack at `scale` and its deviation; null when the scale is too large to craft (overflow). */
  const evaluate = (scale: number): { byz: Float32Array[]; dev: number } | null => {
    used++;
    if (!Number.isFinite(scale)) return null;
    let byz: Float32Array[];
    try {
      byz = attack(honest, { f, scale });
    } catch (e) {
      if (isOverflowError(e)) return null;
      throw e;
    }
    const out = checkAggregate(rule, 'aggregator', aggregator([...honest, ...byz]), d, `scale ${scale}`);
    let sum = 0;
    for (let k = 0; k < d; k++) {
      const u = out[k] - mu[k];
      sum += u * u;
    }
    return { byz, dev: Math.sqrt(sum) };
  };
  let x = start;
  const first = evaluate(x);
  if (first === null) {
    // Say why: craft again at the start, outside the catch, so the overflow error reaches the caller.
    attack(honest, { f, scale: x });
    throw new RobustAggError('INVALID_OPTION', `${rule}: start = ${x} is too large to craft the attack`);
  }
  let best = first;
  // Expansion.
  let probe = x;
  while (used < budget) {
    probe = x + step;
    const trial = evaluate(probe);
    if (trial !== null && trial.dev > best.dev) {
      x += step;
      best = trial;
      step *= 2;
    } else {
      break;
    }
  }
  if (contraction === 'from-last-probe') {
    // ByzFL's LineMaximize: one probe per shrink, from the previous probe.
    step *= ratio;
    while (used < budget) {
      if (probe < x) probe += step;
      else {
        let next = probe - step;
        // Halfway back towards the previous probe while below 0 (bounded: ≤ 1100 halvings reach −0).
        for (let k = 0; next < 0 && k < 1100; k++) next = (next + probe) / 2;
        probe = next < 0 ? 0 : next;
      }
      const trial = evaluate(probe);
      if (trial !== null && trial.dev > best.dev) {
        best = trial;
        x = probe;
      }
      step *= ratio;
    }
    return { byzantine: best.byz, scale: x, deviation: best.dev, evaluations: used };
  }
  // Contraction around the best point.
  while (used < budget) {
    step *= ratio;
    for (const candidate of [x + step, x - step]) {
      if (used >= budget || candidate < 0) continue;
      const trial = evaluate(candidate);
      if (trial !== null && trial.dev > best.dev) {
        best = trial;
        x = candidate;
        break;
      }
    }
  }
  return { byzantine: best.byz, scale: x, deviation: best.dev, evaluations: used };
}

/**
 * Aggregator-aware attack: binds a scaled attack family to an aggregator and returns an
 * {@link Attack} that, on every call, picks the scale by {@link optimalSearch}'s line search to
 * maximise ‖agg(honest ∪ byz) − mean(honest)‖ (ByzFL's Optimal IPM / Optimal ALIE; Allouah et al.,
 * AISTATS 2023). Defaults as in {@link LineSearchOptions}.
 *
 * @param attack - the scaled family searched: `'ipm'`, `'alie'`, `'epsilonReverse'`, `'signFlip'`
 *   or a {@link ScaledAttack}.
 * @param aggregator - the rule attacked, bound to its options; it sees honest ∪ Byzantine, honest
 *   first, and must return a finite `Float32Array` of length d.
 * @param search - the line search's settings, read and checked once, now (see
 *   {@link LineSearchOptions}; defaults: 16 evaluations, start 0, step 1, ratio 0.8).
 * @returns an {@link Attack}: `(honest, { f })` runs the search on these honest vectors and returns
 *   its f vectors.
 * @example
 * ```ts
 * import { coordinateMedian, optimal } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * const optimalAlie = optimal('alie', (u) => coordinateMedian(u));
 * const byz = optimalAlie(honest, { f: 2 });
 * // σ = (0.791, 0.791, 1); the search settles on z = 1: 2 copies of μ + σ ≈ (1.791, −0.209, 1.5).
 * console.log(byz);
 * console.log(coordinateMedian(honest));              // (1, −1, 0.5)
 * console.log(coordinateMedian([...honest, ...byz])); // (1.5, −0.5, 1.5)
 * ```
 */
export function optimal(
  attack: ScaledAttackName | ScaledAttack,
  aggregator: Aggregator,
  search?: LineSearchOptions,
): Attack {
  const rule = 'optimal';
  resolveScaledAttack(attack, rule); // fail early on an unknown name
  if (typeof aggregator !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: aggregator must be a function (updates) => Float32Array`);
  }
  // Read the search settings once, now, and check them before any call.
  const settings = readOptions<LineSearchOptions>(rule, search, LINE_SEARCH_KEYS);
  requireInteger(rule, 'evaluations', settings.evaluations ?? 16, 1, MAX_SEARCH_EVALUATIONS);
  requireNumber(rule, 'start', settings.start ?? 0, 0);
  requireNumber(rule, 'step', settings.step ?? 1, 0, Infinity, true);
  requireNumber(rule, 'ratio', settings.ratio ?? 0.8, 0.5, 1, true);
  requireContraction(rule, settings.contraction);
  return (honest, options) => {
    // The bound attack takes the keys of every attack (f, and trainRobust's rng, seed and step, ignored).
    const { f } = readAttack(honest, options, rule);
    return optimalSearch(honest, { ...settings, f, attack, aggregator }).byzantine;
  };
}

/** Checks `contraction`: undefined (the default, `'around-best'`) or one of the two phases. */
function requireContraction(rule: string, value: unknown): LineSearchContraction {
  if (value === undefined) return 'around-best';
  if (value !== 'around-best' && value !== 'from-last-probe') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: contraction must be 'around-best' or 'from-last-probe', got ${describeValue(value)}`);
  }
  return value;
}
