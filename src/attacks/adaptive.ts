import type { Aggregator } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import type { Updates } from '../core/updates.js';
import { resolveMixTailorPool, type MixTailorMember } from '../aggregators/mix-tailor.js';
import { describeValue, requireNumber } from '../core/options.js';
import { isOverflowError, meanVector, readAttack, type AttackOptions } from './common.js';
import { checkAggregate } from './optimal.js';
import { resolveScaledAttack, type ScaledAttack, type ScaledAttackName } from './scaled.js';

/** Options of {@link adaptive}. */
export interface AdaptiveOptions extends AttackOptions {
  /** The rule attacked, or a pool (as for {@link mixTailor}) attacked through all its members. */
  target: Aggregator | readonly (Aggregator | MixTailorMember)[];
  /** Draw probabilities of the pool's members (as {@link mixTailor}'s default when omitted). */
  probabilities?: readonly number[];
  /**
   * Candidate ε values: a non-empty array of at most 256 finite numbers ≥ 0, with at most 4096
   * (ε, pool member) evaluations in all. Default [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]. An ε at
   * which a built-in family would overflow float32 throws `INVALID_OPTION` naming it.
   */
  epsilons?: readonly number[];
  /** The attack family. Default `'epsilonReverse'`. */
  attack?: ScaledAttackName | ScaledAttack;
}

/** What {@link adaptiveSearch} found. */
export interface AdaptiveSearchResult {
  /** The f Byzantine vectors at the chosen ε. */
  readonly byzantine: Float32Array[];
  /** The chosen ε. */
  readonly epsilon: number;
  /** The (expected) inner product ⟨agg(honest ∪ byz), μ⟩ at the chosen ε. */
  readonly objective: number;
  /** The objective of every candidate, in the order of `epsilons`. */
  readonly objectives: Float64Array;
}

const DEFAULT_EPSILONS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

/** The most candidate ε values {@link adaptiveSearch} takes. */
export const MAX_EPSILONS = 256;

/** The most (ε, pool member) evaluations of the target one {@link adaptiveSearch} may run. */
export const MAX_ADAPTIVE_EVALUATIONS = 4096;

const ADAPTIVE_KEYS = ['target', 'probabilities', 'epsilons', 'attack'] as const;

/**
 * The search behind {@link adaptive}: for every candidate ε, craft the attack and evaluate
 * J(ε) = Σₖ pₖ ⟨aggₖ(honest ∪ byz(ε)), μ⟩ (μ the honest mean; one rule: p = 1); keep the ε with
 * the smallest J (ties: the first). Against a pool this is the expected inner product over the
 * random draw, so the attacker tailors to every member at once, weighted by its probability.
 *
 * Limits: at most 256 candidates and 4096 evaluations (candidates × members with p > 0), checked
 * before any is run. Every member must return a finite `Float32Array` of length d
 * (else `INVALID_OPTION`), so every objective is finite.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link AdaptiveOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `target` (required: a rule, or a pool as for {@link mixTailor}), `probabilities` (the
 *   pool's draw probabilities), `epsilons` (at most 256 numbers ≥ 0, default [0.1, 0.2, 0.5, 1, 2, 5,
 *   10, 20, 50, 100]), `attack` (default `'epsilonReverse'`).
 * @returns the Byzantine vectors at the chosen ε, that ε, its objective and the objective of every
 *   candidate.
 * @example
 * ```ts
 * import { adaptiveSearch, coordinateMedian } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * const r = adaptiveSearch(honest, { f: 2, target: (u) => coordinateMedian(u) });
 * console.log(r.objectives); // [0.9375, 0.875, 0.75, 0.75, …]: ⟨median, μ⟩ per ε (⟨μ, μ⟩ = 2.25)
 * console.log(r.epsilon, r.objective); // 0.5 0.75: the first ε with the smallest objective
 * console.log(r.byzantine);           // 2 copies of −0.5·(Σ honest)/2 = −1.25·μ = (−1.25, 1.25, −0.625)
 * console.log(coordinateMedian([...honest, ...r.byzantine])); // (0.5, −0.5, −0.5)
 * ```
 */
export function adaptiveSearch(honest: Updates, options: AdaptiveOptions): AdaptiveSearchResult {
  const rule = 'adaptive';
  const { d, f, o } = readAttack(honest, options, rule, ADAPTIVE_KEYS);
  const attack = resolveScaledAttack(o.attack ?? 'epsilonReverse', rule);
  const target = o.target;
  if (typeof target !== 'function' && !Array.isArray(target)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: target must be an aggregator function or a pool (array) of them, got ${describeValue(target)}`,
    );
  }
  const { members, probabilities } =
    typeof target === 'function'
      ? { members: [{ name: 'target', rule: target }], probabilities: Float64Array.of(1) }
      : resolveMixTailorPool(target as readonly (Aggregator | MixTailorMember)[], o.probabilities);
  const given = o.epsilons ?? DEFAULT_EPSILONS;
  if (!Array.isArray(given) || given.length === 0 || given.length > MAX_EPSILONS) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: epsilons must be a non-empty array of at most ${MAX_EPSILONS} numbers, got ${Array.isArray(given) ? `${given.length} values` : describeValue(given)}`,
    );
  }
  const epsilons = Float64Array.from(given, (e, c) => requireNumber(rule, `epsilons[${c}]`, e, 0));
  let active = 0;
  for (let k = 0; k < members.length; k++) if (probabilities[k] !== 0) active++;
  if (epsilons.length * active > MAX_ADAPTIVE_EVALUATIONS) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${epsilons.length} epsilons × ${active} pool members = ${epsilons.length * active} evaluations exceed ${MAX_ADAPTIVE_EVALUATIONS}`,
    );
  }
  const mu = meanVector(honest);
  const objectives = new Float64Array(epsilons.length);
  let best = 0;
  let bestByz: Float32Array[] = [];
  for (let c = 0; c < epsilons.length; c++) {
    let byz: Float32Array[];
    try {
      byz = attack(honest, { f, scale: epsilons[c] });
    } catch (e) {
      if (!isOverflowError(e)) throw e;
      throw new RobustAggError('INVALID_OPTION', `${rule}: epsilons[${c}] = ${epsilons[c]} is too large for these honest vectors (${(e as Error).message})`);
    }
    const all = [...honest, ...byz];
    let j = 0;
    for (let k = 0; k < members.length; k++) {
      if (probabilities[k] === 0) continue;
      const out = checkAggregate(rule, `pool member ${k} (${members[k].name})`, members[k].rule(all), d, `epsilon ${epsilons[c]}`);
      let dot = 0;
      for (let t = 0; t < d; t++) dot += out[t] * mu[t];
      j += probabilities[k] * dot;
    }
    objectives[c] = j;
    if (c === 0 || j < objectives[best]) {
      best = c;
      bestByz = byz;
    }
  }
  return { byzantine: bestByz, epsilon: epsilons[best], objective: objectives[best], objectives };
}

/**
 * MixTailor's adaptive attack (Ramezani-Kebrya, Tabrizian, Faghri & Popovski, TMLR 2022): an
 * omniscient attacker that knows the rule — or the whole pool of a randomized rule, but not the
 * draw — tries every ε of a list for the ε-reverse attack ({@link epsilonReverse}, or another scaled
 * family) and sends the vectors minimising the (expected) inner product ⟨agg, μ⟩ between the
 * aggregate and the honest mean. Default ε list [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].
 * {@link adaptiveSearch} also returns the chosen ε and the objectives.
 *
 * @param honest - the h ≥ 1 honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values (`NON_FINITE_UPDATE` otherwise); not modified.
 * @param options - see {@link AdaptiveOptions}: `f` (required, an integer in [0, 2²⁰] with
 *   f·d ≤ 2³⁰), `target` (required: a rule, or a pool as for {@link mixTailor}), `probabilities` (the
 *   pool's draw probabilities), `epsilons` (at most 256 numbers ≥ 0, default [0.1, 0.2, 0.5, 1, 2, 5,
 *   10, 20, 50, 100]), `attack` (default `'epsilonReverse'`).
 * @returns f new vectors of length d: the attack at the chosen ε.
 * @example
 * ```ts
 * import { adaptive, mixTailor, mixTailorPool } from 'robust-agg';
 *
 * // Five honest clients, d = 3, spread around μ = (1, −1, 0.5).
 * const honest = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(2.0, 0.0, -0.5),
 *   Float32Array.of(0.0, -2.0, 1.5),
 *   Float32Array.of(1.5, -0.5, 1.5),
 *   Float32Array.of(0.5, -1.5, -0.5),
 * ];
 * // n = 7 < 4f+3 = 11: a pool without the Bulyan family (Krum needs n ≥ 2f+3 = 7).
 * const pool = mixTailorPool(2, { families: ['krum', 'geometricMedian'] });
 * const byz = adaptive(honest, { f: 2, target: pool });
 * console.log(byz); // ε = 0.1 is best against the pool: 2 copies of −0.25·μ = (−0.25, 0.25, −0.125)
 * console.log(mixTailor([...honest, ...byz], { pool, seed: 1 })); // ≈ (0.739, −0.746, 0.339)
 * ```
 */
export function adaptive(honest: Updates, options: AdaptiveOptions): Float32Array[] {
  return adaptiveSearch(honest, options).byzantine;
}
