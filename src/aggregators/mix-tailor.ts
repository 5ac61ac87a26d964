import type { Aggregation, Aggregator, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, requireClients, requireNonFinitePolicy } from '../core/finite-clients.js';
import { describeValue, readOptions, requireInteger, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions, type Rng } from '../core/random.js';
import { isFloat32Array, type Updates } from '../core/updates.js';
import { isFiniteVector } from '../kernels/finite.js';
import { bulyanVariant, type BulyanAggregationRule, type BulyanSelectionRule } from './bulyan-variants.js';
import { coordinateMedian } from './coordinate-median.js';
import { geometricMedian } from './geometric-median.js';
import { krumLp } from './krum-lp.js';

/** A named member of a MixTailor pool. */
export interface MixTailorMember {
  /** Name reported in the decision, e.g. `'krum-l1'`. */
  readonly name: string;
  /** The aggregator, bound to its options. */
  readonly rule: Aggregator;
  /** Family of the member; default probabilities give each family equal weight. */
  readonly family?: string;
}

/** A family of MixTailor's default pool. */
export type MixTailorFamily = 'krum' | 'coordinateMedian' | 'geometricMedian' | 'bulyan';

/** Options of {@link mixTailorPool}. */
export interface MixTailorPoolOptions extends CommonOptions {
  /**
   * Which families to include, each at most once. Default all four: krum (ℓp), coordinateMedian,
   * geometricMedian, bulyan.
   */
  families?: readonly MixTailorFamily[];
  /** The norms of the Krum family: 1 to 64 numbers p ≥ 1 (or Infinity). Default p = 1, 2, …, 16. */
  norms?: readonly number[];
}

/** The most norms {@link mixTailorPool} accepts for its Krum family. */
export const MIX_TAILOR_MAX_NORMS = 64;

/** Options of {@link mixTailor}. */
export interface MixTailorOptions extends CommonOptions, RandomOptions {
  /**
   * Declared number of Byzantine clients, an integer ≥ 0 with n ≥ 4f+3; builds the default pool
   * (needed when `pool` is not given; ignored with a `pool`).
   */
  f?: number;
  /**
   * The aggregators to draw from (functions or named members), a non-empty array. Default
   * {@link mixTailorPool}(f). Each member must return a finite `Float32Array` of length d; one that
   * returns anything else (NaN, ±Infinity, a wrong length) makes the call throw `INVALID_OPTION`
   * naming the member — its output is never passed on.
   */
  pool?: readonly (Aggregator | MixTailorMember)[];
  /**
   * One finite weight ≥ 0 per pool member, not all 0, normalised to sum to 1. Default: equal
   * weight per family, uniform within a family (uniform over the pool when no member names a
   * family).
   */
  probabilities?: readonly number[];
}

/** A pool as {@link mixTailor} draws from it: named members and their normalised probabilities. */
export interface ResolvedMixTailorPool {
  /** The members, functions wrapped as `{ name, rule }` (name: the function's name or `member k`). */
  members: MixTailorMember[];
  /** Draw probability of each member, summing to 1. */
  probabilities: Float64Array;
}

/** Decision of {@link mixTailor}: which member was drawn. */
export interface MixTailorDecision extends Decision {
  /** Position of the drawn member in the pool. */
  readonly drawn: number;
  /** Its name. */
  readonly member: string;
  /** Its family, when it has one. */
  readonly family?: string;
  /** The probability it had of being drawn. */
  readonly probability: number;
  /** Number of members in the pool. */
  readonly poolSize: number;
}

const ALL_FAMILIES: readonly MixTailorFamily[] = ['krum', 'coordinateMedian', 'geometricMedian', 'bulyan'];
const BULYAN_RULES: readonly (BulyanSelectionRule & BulyanAggregationRule)[] = [
  'krum',
  'geometricMedian',
  'coordinateMedian',
  'mean',
];

/**
 * MixTailor's default pool for f Byzantine clients (Ramezani-Kebrya, Tabrizian, Faghri & Popovski,
 * "MixTailor: mixed gradient aggregation for robust learning against tailored attacks", TMLR 2022),
 * in four families: Krum under ℓp distances for p = 1..16 ({@link krumLp}, named `krum-l<p>`),
 * coordinate median, geometric median, and Bulyan with every (selection, aggregation) pair over
 * {krum, geometricMedian, coordinateMedian, mean} ({@link bulyanVariant}, named
 * `bulyan(<selection>,<aggregation>)`): 16 + 1 + 1 + 16 = 34 members. The Bulyan family needs
 * n ≥ 4f+3, Krum n ≥ 2f+3.
 *
 * @param f - the declared number of Byzantine clients the members are bound to: an integer ≥ 0.
 * @param options - see {@link MixTailorPoolOptions}: `families` (default all four), `norms` (the
 *   Krum family's p, 1 to 64 numbers ≥ 1; default 1..16), `nonFinite` (passed to every member;
 *   default `'drop'`).
 * @returns the members, each `{ name, family, rule }`.
 * @example
 * ```ts
 * import { mixTailor, mixTailorPool } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * // n = 7 < 4f+3 = 11: leave the Bulyan family out (Krum needs n ≥ 2f+3 = 7).
 * const pool = mixTailorPool(2, { families: ['krum', 'geometricMedian'] });
 * console.log(pool.length); // 17: krum-l1..krum-l16 and geometricMedian
 * console.log(mixTailor(updates, { pool, seed: 1 }));
 * ```
 */
export function mixTailorPool(f: number, options?: MixTailorPoolOptions): MixTailorMember[] {
  const rule = 'mixTailorPool';
  requireInteger(rule, 'f', f, 0);
  const opts = readOptions(rule, options, ['families', 'norms', 'nonFinite']);
  const families = opts.families === undefined ? ALL_FAMILIES : readArray(rule, 'families', opts.families, ALL_FAMILIES.length);
  for (let k = 0; k < families.length; k++) {
    const fam = families[k];
    if (!ALL_FAMILIES.includes(fam)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: unknown family ${describeValue(fam)} (known: ${ALL_FAMILIES.join(', ')})`);
    }
    if (families.indexOf(fam) !== k) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: family '${fam}' is listed twice`);
    }
  }
  const norms =
    opts.norms === undefined
      ? Array.from({ length: 16 }, (_, i) => i + 1)
      : readArray(rule, 'norms', opts.norms, MIX_TAILOR_MAX_NORMS);
  for (const p of norms) {
    if (typeof p !== 'number' || !(p >= 1)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: every norm must be a number ≥ 1 or Infinity, got ${describeValue(p)}`);
    }
  }
  const nonFinite = opts.nonFinite;
  requireNonFinitePolicy(rule, nonFinite);
  const pool: MixTailorMember[] = [];
  for (const family of families) {
    if (family === 'krum') {
      for (const p of norms) pool.push({ name: `krum-l${p}`, family, rule: (u) => krumLp(u, { f, p, nonFinite }) });
    } else if (family === 'coordinateMedian') {
      pool.push({ name: 'coordinateMedian', family, rule: (u) => coordinateMedian(u, { nonFinite }) });
    } else if (family === 'geometricMedian') {
      pool.push({ name: 'geometricMedian', family, rule: (u) => geometricMedian(u, { nonFinite }) });
    } else {
      for (const selection of BULYAN_RULES) {
        for (const aggregation of BULYAN_RULES) {
          pool.push({
            name: `bulyan(${selection},${aggregation})`,
            family,
            rule: (u) => bulyanVariant(u, { f, selection, aggregation, nonFinite }),
          });
        }
      }
    }
  }
  return pool;
}

/** A copy of an array option of at most `max` entries (each read once); INVALID_OPTION otherwise. */
function readArray<T>(rule: string, name: string, value: readonly T[], max: number): T[] {
  if (!Array.isArray(value)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be an array, got ${describeValue(value)}`);
  }
  const length = value.length;
  if (length === 0 || length > max) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must hold 1 to ${max} entries, got ${length}`);
  }
  return Array.from({ length }, (_, k) => value[k]);
}

/**
 * The pool as named members and the normalised draw probabilities {@link mixTailor} uses: the given
 * `probabilities`, or equal weight per family and uniform within a family, or uniform when no member
 * names a family. Throws `INVALID_OPTION` for an empty pool or bad probabilities.
 *
 * @param pool - the aggregators, functions (named by their `name`, or `member k`) or
 *   `{ name, rule, family? }` members: a non-empty array.
 * @param probabilities - one finite weight ≥ 0 per member, not all 0 (normalised here). Default:
 *   equal weight per family, uniform within a family.
 * @example
 * ```ts
 * import { coordinateMedian, mixTailorPool, resolveMixTailorPool } from 'robust-agg';
 *
 * const { members, probabilities } = resolveMixTailorPool(mixTailorPool(1));
 * console.log(members[0].name, probabilities[0]); // krum-l1 0.015625: the Krum family's ¼ shared by 16 norms
 *
 * const custom = resolveMixTailorPool([coordinateMedian, (u) => u[0].slice()], [3, 1]);
 * console.log(custom.members.map((m) => m.name), custom.probabilities); // ['coordinateMedian', 'member 1'] [0.75, 0.25]
 * ```
 */
export function resolveMixTailorPool(
  pool: readonly (Aggregator | MixTailorMember)[],
  probabilities?: readonly number[],
): ResolvedMixTailorPool {
  const rule = 'mixTailor';
  if (!Array.isArray(pool) || pool.length === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: pool must be a non-empty array of aggregators, got ${describeValue(pool)}`);
  }
  const size = pool.length;
  const members: MixTailorMember[] = [];
  for (let k = 0; k < size; k++) {
    const m: unknown = pool[k];
    if (typeof m === 'function') {
      const name = (m as Aggregator).name;
      members.push({ name: typeof name === 'string' && name !== '' ? name : `member ${k}`, rule: m as Aggregator });
      continue;
    }
    if (m === null || typeof m !== 'object') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: pool member ${k} is neither a function nor { name, rule }, got ${describeValue(m)}`);
    }
    // Each field read once: what is checked is what runs.
    const { name, rule: fn, family } = m as MixTailorMember;
    if (typeof fn !== 'function') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: pool member ${k} is neither a function nor { name, rule } (rule is ${describeValue(fn)})`);
    }
    if (typeof name !== 'string') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: pool member ${k} needs a string name, got ${describeValue(name)}`);
    }
    if (family !== undefined && typeof family !== 'string') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: pool member ${k} ('${name}') has a family that is not a string: ${describeValue(family)}`);
    }
    members.push(family === undefined ? { name, rule: fn } : { name, rule: fn, family });
  }
  const probs = new Float64Array(size);
  if (probabilities !== undefined) {
    if (!Array.isArray(probabilities)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: probabilities must be an array, got ${describeValue(probabilities)}`);
    }
    if (probabilities.length !== size) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: probabilities has length ${probabilities.length}, the pool has ${size} members`,
      );
    }
    let total = 0;
    let largest = 0;
    for (let k = 0; k < size; k++) {
      const p: unknown = probabilities[k];
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) {
        throw new RobustAggError('INVALID_OPTION', `${rule}: probability of member ${k} must be finite and ≥ 0, got ${describeValue(p)}`);
      }
      probs[k] = p;
      total += p;
      if (p > largest) largest = p;
    }
    if (!(total > 0)) throw new RobustAggError('INVALID_OPTION', `${rule}: probabilities sum to 0`);
    if (total === Infinity) {
      // Weights near Number.MAX_VALUE: rescale by the largest first (the sum is then ≤ size).
      total = 0;
      for (let k = 0; k < size; k++) total += (probs[k] /= largest);
    }
    for (let k = 0; k < size; k++) probs[k] /= total;
    return { members, probabilities: probs };
  }
  const sizes = new Map<string, number>();
  for (const m of members) sizes.set(m.family ?? '', (sizes.get(m.family ?? '') ?? 0) + 1);
  for (let k = 0; k < size; k++) {
    const fam = members[k].family ?? '';
    probs[k] = 1 / (sizes.size * (sizes.get(fam) as number));
  }
  return { members, probabilities: probs };
}

/**
 * MixTailor (Ramezani-Kebrya, Tabrizian, Faghri & Popovski, "MixTailor: mixed gradient aggregation
 * for robust learning against tailored attacks", TMLR 2022): each call draws one aggregator from a
 * pool at random and applies it, so an attacker cannot tailor its vectors to the rule in use.
 * Default pool {@link mixTailorPool}(f) with equal weight per family (Krum-ℓp, coordinate median,
 * geometric median, Bulyan pairs: ¼ each); pass `pool` (any aggregators) and `probabilities` to
 * change it. Seeded: pass `seed` or `rng` (an `rng` advances, so successive rounds draw afresh).
 * The default pool needs n ≥ 4f+3. Non-finite clients are reported in the decision and left to
 * the drawn member, which drops them and counts them against its f.
 *
 * The drawn member's output is checked: it must be a finite `Float32Array` of length d, or the
 * call throws `INVALID_OPTION` naming the member (a custom member's NaN, ±Infinity or wrong
 * length never passes through); an output that is one of the input arrays is copied.
 *
 * Options: f, pool, probabilities, seed or rng (every draw checked), nonFinite; null options and
 * unknown keys throw.
 *
 * Cost: that of the drawn member, one uniform draw.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are left to the drawn member, which drops them and counts them
 *   against its f (or the call throws, see `nonFinite`).
 * @param options - see {@link MixTailorOptions}: `seed` or `rng` (required: the draw is random),
 *   `f` (an integer ≥ 0 with n ≥ 4f+3; required without a `pool`), `pool` (default
 *   {@link mixTailorPool}(f)), `probabilities` (one weight ≥ 0 per member; default equal per
 *   family), `nonFinite` (default `'drop'`).
 * @returns the drawn member's output, a finite `Float32Array` of length d.
 * @example
 * ```ts
 * import { createRng, mixTailor } from 'robust-agg';
 *
 * // One generator for the whole run: it advances, so each round draws afresh.
 * const rng = createRng(7);
 * for (let round = 0; round < 3; round++) {
 *   // Eleven clients, d = 3 (the default pool needs n ≥ 4f+3): nine honest ones, two attackers.
 *   const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i + round), -1, 0.5));
 *   const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 *   console.log(round, mixTailor(updates, { f: 2, rng }));
 * }
 * ```
 */
export function mixTailor(updates: Updates, options: MixTailorOptions): Float32Array {
  return mixTailorWithDecision(updates, options).aggregate;
}

/**
 * {@link mixTailor} together with its {@link MixTailorDecision} (which member was drawn).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are left to the drawn member, which drops them and counts them
 *   against its f (or the call throws, see `nonFinite`).
 * @param options - see {@link MixTailorOptions}: `seed` or `rng` (required: the draw is random),
 *   `f` (an integer ≥ 0 with n ≥ 4f+3; required without a `pool`), `pool` (default
 *   {@link mixTailorPool}(f)), `probabilities` (one weight ≥ 0 per member; default equal per
 *   family), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { mixTailorWithDecision } from 'robust-agg';
 *
 * // Eleven clients, d = 3 (the default pool needs n ≥ 4f+3): nine honest ones, two attackers.
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1, 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 * const { decision } = mixTailorWithDecision(updates, { f: 2, seed: 1 });
 * console.log(decision.member, decision.family, decision.probability, decision.poolSize);
 * ```
 */
export function mixTailorWithDecision(updates: Updates, options: MixTailorOptions): Aggregation<MixTailorDecision> {
  const rule = 'mixTailor';
  const opts = readOptions(rule, options, ['f', 'pool', 'probabilities', 'seed', 'rng', 'nonFinite']);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  let pool = opts.pool;
  if (pool === undefined) {
    if (opts.f === undefined) {
      throw new RobustAggError('INVALID_OPTION', `${rule} needs { f } to build its default pool, or a { pool }`);
    }
    requireClients(rule, clients.n, opts.f, 4, 3);
    pool = mixTailorPool(opts.f, { nonFinite: opts.nonFinite });
  }
  const { members, probabilities } = resolveMixTailorPool(pool, opts.probabilities);
  const rng = resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule);
  const drawn = drawIndex(probabilities, rng);
  const member = members[drawn];
  return {
    aggregate: checkedOutput(rule, member, drawn, member.rule(updates), updates, clients.d),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      drawn,
      member: member.name,
      ...(member.family === undefined ? {} : { family: member.family }),
      probability: probabilities[drawn],
      poolSize: members.length,
    },
  };
}

/**
 * The drawn member's output, checked: a finite Float32Array of length d (copied when it is one of
 * the input arrays, so the caller never gets an alias of an update). Throws INVALID_OPTION naming
 * the member otherwise.
 */
function checkedOutput(
  rule: string,
  member: MixTailorMember,
  drawn: number,
  out: unknown,
  updates: Updates,
  d: number,
): Float32Array {
  const who = `pool member ${drawn} ('${member.name}')`;
  if (!isFloat32Array(out)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${who} returned ${describeValue(out)}, expected a Float32Array of length d=${d}`);
  }
  if (out.length !== d) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${who} returned a vector of length ${out.length}, expected d=${d}`);
  }
  if (!isFiniteVector(out)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${who} returned NaN or ±Infinity`);
  }
  return updates.includes(out) ? Float32Array.from(out) : out;
}

/** Inverse-CDF draw of an index with the given probabilities (summing to 1). */
function drawIndex(probabilities: Float64Array, rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  let last = 0;
  for (let k = 0; k < probabilities.length; k++) {
    if (probabilities[k] === 0) continue;
    last = k;
    cumulative += probabilities[k];
    if (u < cumulative) return k;
  }
  return last; // rounding left cumulative just below 1
}
