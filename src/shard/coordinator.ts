import { aurorFeatures, aurorSelection, readAurorOptions, type AurorOptions } from '../aggregators/auror.js';
import { bulyanSelection } from '../aggregators/bulyan.js';
import { readCrflOptions, type CrflOptions } from '../aggregators/crfl.js';
import { requireLayoutOf } from '../aggregators/flame-noise.js';
import { FL_DETECTOR_MAX_WINDOW, flDetectorFlags, flDetectorRoundScores, readFlDetectorOptions, type FlDetectorOptions } from '../aggregators/fl-detector.js';
import { lbfgsCoefficients } from '../core/lbfgs-hvp.js';
import {
  clientIdsOf,
  FOOLS_GOLD_MAX_HISTORY,
  foolsGoldKappa,
  foolsGoldRates,
  foolsGoldWeights,
  unitScale,
  type FoolsGoldClientId,
} from '../aggregators/fools-gold.js';
import { lasaClip, lasaLayerFilter, readLasaOptions, type LasaLayerDecision, type LasaOptions } from '../aggregators/lasa.js';
import { normClipFactors, readNormClippingDpOptions, type NormClippingDpOptions } from '../aggregators/norm-clipping-dp.js';
import { SMEA_DEFAULT_MAX_SUBSETS, SMEA_MAX_SUBSETS_LIMIT, smallestEigenvalueSubset, smeaSubsetSize } from '../aggregators/smea.js';
import type { LayoutSegment } from '../core/layout.js';
import { normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { clippedClusteringFromGram, readNormHistory } from '../aggregators/clipped-clustering.js';
import { readSignGuardOptions, signGuardSelection, type SignGuardOptions } from '../aggregators/sign-guard.js';
import { mixTailorPool, resolveMixTailorPool } from '../aggregators/mix-tailor.js';
import { binomial, MDA_DEFAULT_MAX_SUBSETS, MDA_MAX_SUBSETS_LIMIT, minimumDiameterSubset } from '../aggregators/mda.js';
import { cosinesFromGram, medianOf, requireLimit, sampleIndices } from '../aggregators/catalogue-similarity.js';
import { doubleCentre, largestEigenpair } from '../aggregators/dnc.js';
import { cafFilter } from '../aggregators/caf.js';
import { fltrustWeights } from '../aggregators/fltrust.js';
import { readGeometricMedianOptions, weiszfeld } from '../aggregators/geometric-median.js';
import { krumScores, lowestScores } from '../aggregators/krum-scores.js';
import { hdbscan } from '../clustering/hdbscan.js';
import type { Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  indicesOverInput,
  remainingByzantine,
  requireClients,
  requireNonFinitePolicy,
  weightsOverInput,
  type FiniteClients,
} from '../core/finite-clients.js';
import { describeValue, readOptions, requireInteger, requireNumber, type NonFinitePolicy } from '../core/options.js';
import { resolveValidRng, type Rng } from '../core/random.js';
import { columnMedian } from '../kernels/column-select.js';
import { cosineDistancesFromGram, shiftedGram } from '../kernels/cosine-distances.js';
import { squaredDistancesFromGram } from '../kernels/gram.js';
import {
  coordinateWiseRule,
  floatOfBits,
  type CoordinateWiseRule,
  type ShardAsk,
  type ShardCombinePlan,
  type ShardHistoryMember,
  type ShardSegment,
  shardCombine,
  shardStatistics,
} from './protocol.js';

/**
 * The rules {@link createShardCoordinator} decomposes by coordinates.
 *
 * @category Sharding
 */
export type ShardRuleName =
  | CoordinateWiseRule
  | 'krum'
  | 'multiKrum'
  | 'krumLp'
  | 'bulyan'
  | 'geometricMedian'
  | 'centeredClipping'
  | 'flame'
  | 'fltrust'
  | 'monna'
  | 'dnc'
  | 'mda'
  | 'caf'
  | 'clippedClustering'
  | 'signGuard'
  | 'bulyanVariant'
  | 'mixTailor'
  | 'smea'
  | 'auror'
  | 'normClippingDp'
  | 'crfl'
  | 'lasa'
  | 'foolsGold'
  | 'flDetector';

/** Every rule {@link createShardCoordinator} accepts, in the order of the guide's table. */
export const SHARD_RULES: readonly ShardRuleName[] = [
  'mean',
  'coordinateMedian',
  'trimmedMean',
  'meamed',
  'signMajority',
  'krum',
  'multiKrum',
  'krumLp',
  'bulyan',
  'geometricMedian',
  'centeredClipping',
  'flame',
  'fltrust',
  'monna',
  'dnc',
  'mda',
  'caf',
  'clippedClustering',
  'signGuard',
  'bulyanVariant',
  'mixTailor',
  'smea',
  'auror',
  'normClippingDp',
  'crfl',
  'lasa',
  'foolsGold',
  'flDetector',
];

/**
 * One step of a sharded aggregation: either another round of statistics every shard must answer,
 * or the end (the decision, and the plan every shard combines its columns with).
 *
 * @category Sharding
 */
export type ShardStep =
  | {
      /** Not finished. */
      readonly done: false;
      /** What every shard must compute next ({@link shardStatistics}). */
      readonly asks: readonly ShardAsk[];
    }
  | {
      /** Finished. */
      readonly done: true;
      /** What every shard combines its columns with ({@link shardCombine}). */
      readonly plan: ShardCombinePlan;
      /** The rule's decision, shaped as the single call's. */
      readonly decision: Decision;
    };

/**
 * The coordinator of one sharded aggregation: it holds only O(n²) numbers and the options, never a
 * column of the data. Call {@link ShardCoordinator.next} with nothing first, then with each
 * round's reduced statistics, until it answers `done`.
 *
 * @category Sharding
 */
export interface ShardCoordinator {
  /** The rule being run. */
  readonly rule: ShardRuleName;
  /** Number of clients. */
  readonly n: number;
  /** Length of the full updates. */
  readonly d: number;
  /**
   * Advances the aggregation.
   *
   * @param reduced - the reduced answers to the previous step's asks ({@link reduceShardStatistics});
   *   omitted on the first call.
   */
  next(reduced?: readonly Float64Array[]): ShardStep;
}

type Program = Generator<readonly ShardAsk[], { plan: ShardCombinePlan; decision: Decision }, Float64Array[]>;

/** Why the library's other rules and stages have no sharded form (the coordinator's error says it). */
const NOT_SHARDED: Readonly<Record<string, string>> = {
  deepSight:
    'it runs each client\'s model (robust-agg/tfjs) on random inputs to measure its output differences, so one process needs every layer of a client\'s update at once, not a range of coordinates',
  crflCertifiedRadius: 'it is a function of a few scalars (no updates), call it directly',
  nnm: 'a pre-aggregator (a linear map of the clients chosen from the Gram matrix) is not split on its own; aggregate with the rule it feeds',
  bucketing: 'a pre-aggregator (bucket means) is not split on its own; aggregate with the rule it feeds',
  clipping: 'a pre-aggregator (a per-client scaling) is not split on its own; aggregate with the rule it feeds',
  arc: 'a pre-aggregator (a per-client scaling) is not split on its own; aggregate with the rule it feeds',
  pipeline: 'a pipeline of caller functions cannot be split by coordinates',
};

/** Largest n a coordinator accepts: its n×n statistics stay below 2 GB. */
export const SHARD_MAX_CLIENTS = 16_384;

/**
 * The coordinator of a coordinate-sharded aggregation of n updates of length d by `rule`: the
 * per-shard statistics to compute, the decision from their reduction (in client space: Krum scores,
 * Weiszfeld weights, FLAME's clusters and clip factors, …) and the per-shard combine. One shard
 * holding all d columns reproduces the single call (the same decision; bit for bit for
 * coordinate-wise rules and whenever the decision is the same).
 *
 * Rounds (each moves O(n) or O(n²) numbers per shard, never a column):
 * 1. every rule: which clients are non-finite (n numbers), so all shards drop the same clients;
 * 2. Gram rules (krum, multiKrum, bulyan, geometricMedian, flame, krumLp, dnc, mda, caf, smea,
 *    clippedClustering): one round of partial Gram matrices (or ℓp distances, subsampled Grams);
 *    fltrust, monna, normClippingDp, crfl, auror, signGuard: one round of O(m) numbers; centered
 *    clipping: one round per iteration (m numbers each, the shard replays the earlier steps from the
 *    O(L·n) step weights it is sent); lasa: norms, then 4 rounds of 256·m counts (an exact radix
 *    selection of each client's threshold) and one of 3·m·L layer statistics; foolsGold: the
 *    history's largest magnitudes (K numbers), then its K×K Gram; flDetector with a full window:
 *    the L-BFGS dot products (2w² + 2w), then 2m + 1 prediction-error numbers;
 * 3. the combine: every shard writes its columns of the aggregate.
 *
 * Stateful rules keep their per-coordinate state on the shards: foolsGold's history in
 * `slice.history` (written by {@link shardFoolsGoldHistory}; pass the decision's `historyIds`
 * back as the option `historyIds`), flDetector's in `slice.flDetector` (written by
 * {@link shardFlDetectorState}; pass the decision's `state` back as the option `state`).
 *
 * Options are the rule's own, read and checked as the rule does, except that a vector option of
 * length d is not passed: give `true` (`{ serverUpdate: true }`, `{ global: true }`,
 * `{ trusted: true }`, `{ center: true }`, `{ globalModel: true }`) and put each shard's columns of
 * it in its slice's `vectors` under that name. FLAME's `layout` is not supported sharded, nor
 * flDetector's `aggregator` function or a mixTailor pool of functions; Auror's decision gives
 * `indicativeCount` instead of the O(d) list of indicative coordinates. A caller's `rng` object
 * is drawn from on the coordinator (DnC's columns, a 32-bit seed for FLAME's noise); with `seed`
 * the shards reproduce the single call's noise.
 *
 * @param rule - one of {@link SHARD_RULES}.
 * @param options - the rule's options (see above for vectors).
 * @param n - number of clients, an integer in [1, 16 384].
 * @param d - length of the updates, an integer ≥ 1 (up to 2⁵³: no array of length d is made here).
 * @returns the coordinator.
 * @example
 * ```ts
 * import { createShardCoordinator, reduceShardStatistics, shardCombine, shardStatistics } from 'robust-agg/shard';
 *
 * // Five clients of d = 4, split into two shards of two columns each.
 * const updates = [[1, 1, 1, 1], [1.1, 0.9, 1, 1], [0.9, 1, 1.1, 1], [1, 1.1, 0.9, 1], [50, -50, 50, -50]];
 * const slices = [0, 2].map((offset) => ({ offset, d: 4, rows: updates.map((u) => Float32Array.from(u.slice(offset, offset + 2))) }));
 * const coordinator = createShardCoordinator('krum', { f: 1 }, 5, 4);
 * let step = coordinator.next();
 * while (!step.done) {
 *   const { asks } = step;
 *   step = coordinator.next(reduceShardStatistics(asks, slices.map((s) => shardStatistics(s, asks))));
 * }
 * console.log(step.decision.selected); // one honest client
 * const { plan } = step;
 * console.log(slices.map((s) => shardCombine(s, plan))); // its two halves
 * ```
 * @category Sharding
 */
export function createShardCoordinator(rule: ShardRuleName, options: object | undefined, n: number, d: number): ShardCoordinator {
  requireInteger('createShardCoordinator', 'n', n, 1, SHARD_MAX_CLIENTS);
  if (!Number.isSafeInteger(d) || d < 1) {
    throw new RobustAggError('INVALID_OPTION', `createShardCoordinator: d must be an integer ≥ 1, got ${describeValue(d)}`);
  }
  const make = Object.hasOwn(PROGRAMS, rule) ? PROGRAMS[rule] : undefined;
  if (make === undefined) {
    const why = typeof rule === 'string' && Object.hasOwn(NOT_SHARDED, rule) ? `: ${NOT_SHARDED[rule]}` : '';
    throw new RobustAggError(
      'UNSUPPORTED',
      `createShardCoordinator: no sharded form of ${describeValue(rule)}${why}; sharded rules: ${SHARD_RULES.join(', ')}`,
    );
  }
  const program = make(rule, options as Record<string, unknown> | undefined, n, d);
  let started = false;
  let finished = false;
  let expected = 0;
  return {
    rule,
    n,
    d,
    next(reduced) {
      if (finished) throw new RobustAggError('INVALID_OPTION', `${rule}: the sharded aggregation has already finished`);
      let r: IteratorResult<readonly ShardAsk[], { plan: ShardCombinePlan; decision: Decision }>;
      if (!started) {
        started = true;
        r = program.next(undefined as unknown as Float64Array[]);
      } else {
        if (!Array.isArray(reduced) || reduced.length !== expected) {
          throw new RobustAggError(
            'INVALID_OPTION',
            `${rule}: next() needs the ${expected} reduced statistics of the previous step, got ${describeValue(reduced)}`,
          );
        }
        r = program.next(reduced as Float64Array[]);
      }
      if (r.done === true) {
        finished = true;
        return { done: true, plan: r.value.plan, decision: r.value.decision };
      }
      expected = r.value.length;
      return { done: false, asks: r.value };
    },
  };
}

/** The finite clients, from round 1 (which clients hold NaN/±Inf in any shard). */
function* finitePass(rule: string, n: number, d: number, policy: NonFinitePolicy | undefined): Generator<readonly ShardAsk[], FiniteClients, Float64Array[]> {
  requireNonFinitePolicy(rule, policy);
  const [bad] = yield [{ kind: 'nonFinite' }];
  if (!(bad instanceof Float64Array) || bad.length !== n) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: the non-finite round needs ${n} counts`);
  }
  const index: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < n; i++) {
    if (bad[i] === 0) index.push(i);
    else if (policy === 'throw') throw new RobustAggError('NON_FINITE_UPDATE', `${rule}: client ${i} sent NaN or ±Infinity`);
    else dropped.push(i);
  }
  if (index.length === 0) throw new RobustAggError('NO_FINITE_UPDATES', `${rule}: all ${n} clients sent NaN or ±Infinity`);
  return { rows: [], index, dropped, n, d };
}

/** Reads a "the shards hold this vector" flag (`true`); a real vector is refused with a hint. */
function vectorFlag(rule: string, name: string, value: unknown, required: boolean): boolean {
  if (value === undefined && !required) return false;
  if (value === true) return true;
  throw new RobustAggError(
    'INVALID_OPTION',
    `${rule} (sharded): ${name} must be true (each shard holds its columns of it in slice.vectors.${name}), got ${describeValue(value)}`,
  );
}

function uniformOn(chosen: readonly number[], m: number): Float64Array {
  const w = new Float64Array(m);
  for (const k of chosen) w[k] = 1 / chosen.length;
  return w;
}

function linear(weights: Float64Array): ShardCombinePlan {
  return { kind: 'linear', weights: Array.from(weights) };
}

/**
 * A program's decision record as the rule's own call returns it: the rule, n and the clients
 * dropped for NaN/±Infinity, then the rule's fields, in that order.
 */
function decided(rule: string, n: number, clients: FiniteClients, fields: Record<string, unknown>): Decision {
  return { rule, n, dropped: [...clients.dropped], ...fields } as Decision;
}

function* coordinateWise(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const name = rule as CoordinateWiseRule;
  const fn = coordinateWiseRule(name);
  // The rule reads and checks its own options; a probe on one column per client runs those checks
  // (and the client-count rules) before any shard works, with the same errors as the single call.
  const snapshot: Record<string, unknown> = options === undefined ? {} : { ...options };
  const probe = (rows: Float32Array[]) => fn(rows, options === undefined ? (undefined as unknown as Record<string, unknown>) : snapshot);
  probe(Array.from({ length: n }, () => new Float32Array(1)));
  const clients = yield* finitePass(rule, n, d, snapshot.nonFinite as NonFinitePolicy | undefined);
  const dropped = new Set(clients.dropped);
  probe(Array.from({ length: n }, (_, i) => Float32Array.of(dropped.has(i) ? NaN : 0)));
  return {
    plan: { kind: 'rule', rule: name, options: snapshot, dropped: [...clients.dropped] },
    decision: decided(rule, n, clients, {}),
  };
}

function* krumFamily(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const keys = rule === 'multiKrum' ? ['f', 'm', 'nonFinite'] : rule === 'krumLp' ? ['f', 'p', 'nonFinite'] : ['f', 'nonFinite'];
  const opts = readOptions(rule, options as object, keys as never[]) as Record<string, unknown>;
  const p = rule === 'krumLp' ? ((opts.p as number | undefined) ?? 2) : 2;
  if (typeof p !== 'number' || !(p >= 1)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: p must be a number ≥ 1 or Infinity, got ${describeValue(p)}`);
  }
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 3);
  const m = opts.m as number | undefined;
  if (m !== undefined) requireInteger(rule, 'm', m, 1, clients.n);
  const count = clients.index.length;
  const fLeft = remainingByzantine(f, clients);
  let dist: Float64Array;
  if (p === 2) {
    const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
    dist = squaredDistancesFromGram(g, count);
  } else {
    const [lp] = yield [{ kind: 'lpDistances', clients: clients.index, p }];
    dist = Float64Array.from(lp, (v) => v * v);
  }
  const local = krumScores(dist, count, count - fLeft - 2);
  const picks = rule === 'multiKrum' ? Math.min(m ?? count - fLeft, count) : 1;
  const chosen = lowestScores(local, picks);
  const w = uniformOn(chosen, count);
  const scores = new Float64Array(n).fill(Infinity);
  for (let k = 0; k < count; k++) scores[clients.index[k]] = local[k];
  const decision = {
    rule,
    n,
    dropped: [...clients.dropped],
    selected: indicesOverInput(chosen, clients),
    weights: weightsOverInput(w, clients),
    scores,
    ...(rule === 'krumLp' ? { p } : {}),
  };
  const plan: ShardCombinePlan = picks === 1 ? { kind: 'copy', client: clients.index[chosen[0]] } : linear(decision.weights);
  return { plan, decision };
}

function* bulyanProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'nonFinite'] as never[]) as Record<string, unknown>;
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  requireClients(rule, clients.n, opts.f as number, 4, 3);
  const count = clients.index.length;
  const f = remainingByzantine(opts.f as number, clients);
  const theta = count - 2 * f;
  const beta = theta - 2 * f;
  const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
  const order = bulyanSelection(squaredDistancesFromGram(g, count), count, f, theta);
  const selectionOrder = order.map((k) => clients.index[k]);
  return {
    plan: { kind: 'meanAroundMedian', clients: selectionOrder, keep: beta },
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(order, clients),
      selectionOrder,
      beta,
    }),
  };
}

function* geometricMedianProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { nonFinite, ...settings } = readGeometricMedianOptions(rule, options);
  const clients = yield* finitePass(rule, n, d, nonFinite);
  const m = clients.index.length;
  let g: Float64Array | null = null;
  if (m > 1) [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
  const { weights, iterations, converged } = weiszfeld(g, m, settings);
  const w = weightsOverInput(weights, clients);
  return {
    plan: linear(w),
    decision: decided(rule, n, clients, { weights: w, iterations, converged }),
  };
}

function* centeredClippingProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['tau', 'iterations', 'center', 'nonFinite'] as never[]) as Record<string, unknown>;
  const tau = requireNumber(rule, 'tau', (opts.tau as number | undefined) ?? 10, 0, Infinity, true);
  const iterations = requireInteger(rule, 'iterations', (opts.iterations as number | undefined) ?? 5, 1, 100);
  const center = vectorFlag(rule, 'center', opts.center, false) ? 'center' : null;
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const m = clients.index.length;
  const steps: number[][] = [];
  const centerWeights: number[] = [];
  let centerWeight = 1;
  const a = new Float64Array(m);
  const clip = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    const [dist2] = yield [
      { kind: 'clipDistances', clients: clients.index, center, steps: steps.map((s) => [...s]), centerWeights: [...centerWeights] },
    ];
    let kept = 0;
    for (let k = 0; k < m; k++) {
      const dist = Math.sqrt(dist2[k]);
      clip[k] = dist <= tau ? 1 : tau / dist;
      kept += clip[k] / m;
    }
    const step = new Array<number>(m);
    for (let k = 0; k < m; k++) step[k] = clip[k] / m;
    steps.push(step);
    centerWeights.push(1 - kept);
    centerWeight *= 1 - kept;
    for (let k = 0; k < m; k++) a[k] = (1 - kept) * a[k] + step[k];
  }
  return {
    plan: { kind: 'clipping', clients: clients.index, center, steps, centerWeights },
    decision: decided(rule, n, clients, {
      weights: weightsOverInput(a, clients),
      centerWeight,
      clipFactors: weightsOverInput(clip, clients),
    }),
  };
}

function* flameProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['lambda', 'clusterOn', 'global', 'layout', 'seed', 'rng', 'nonFinite'] as never[]) as Record<
    string,
    unknown
  >;
  const lambda = requireNumber(rule, 'lambda', (opts.lambda as number | undefined) ?? 0.001, 0, 1);
  const explicit = opts.clusterOn;
  if (explicit !== undefined && explicit !== 'updates' && explicit !== 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn must be 'updates' or 'models', got ${describeValue(explicit)}`);
  }
  if (opts.layout !== undefined) {
    throw new RobustAggError('UNSUPPORTED', `${rule} (sharded): per-segment noise (layout) is not supported across shards`);
  }
  const hasGlobal = vectorFlag(rule, 'global', opts.global, false);
  const clusterOn = explicit ?? (hasGlobal ? 'models' : 'updates');
  if (!hasGlobal && clusterOn === 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn 'models' needs the global model (option global)`);
  }
  const random = { seed: opts.seed as number | undefined, rng: opts.rng as Rng | undefined };
  const rng = lambda > 0 || random.rng !== undefined || random.seed !== undefined ? resolveValidRng(random, rule) : null;
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const m = clients.index.length;
  const withGlobal = clusterOn === 'models';
  const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'none', ...(withGlobal ? { vectors: ['global'] } : {}) }];
  const stride = withGlobal ? m + 1 : m;
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) norms[i] = Math.sqrt(Math.max(0, g[i * stride + i]));
  const cosine = cosineDistancesFromGram(withGlobal ? shiftedGram(g, m) : g, m);
  const clustering = m === 1 ? null : hdbscan(cosine, { minClusterSize: Math.floor(m / 2) + 1, minSamples: 1, allowSingleCluster: true });
  const localLabels = clustering === null ? Int32Array.of(0) : clustering.labels;
  const medianNorm = columnMedian(Float64Array.from(norms), 0, m);
  const admittedLocal: number[] = [];
  for (let k = 0; k < m; k++) if (localLabels[k] === 0) admittedLocal.push(k);
  const clip = new Float64Array(m);
  const w = new Float64Array(m);
  for (const k of admittedLocal) {
    clip[k] = norms[k] > medianNorm ? medianNorm / norms[k] : 1;
    w[k] = clip[k] / admittedLocal.length;
  }
  const sigma = lambda * medianNorm;
  // The single call draws its noise from createRng(seed) in index order; the shards skip ahead
  // to their offset in that same stream. A caller's rng object gives one 32-bit seed here.
  const seed =
    rng === null || lambda === 0 ? null : random.rng !== undefined ? rng.nextUint32() : (random.seed as number);
  const labels = new Int32Array(n).fill(-1);
  const inputNorms = new Float64Array(n).fill(Infinity);
  for (let k = 0; k < m; k++) {
    labels[clients.index[k]] = localLabels[k];
    inputNorms[clients.index[k]] = norms[k];
  }
  const admitted = indicesOverInput(admittedLocal, clients);
  const weights = weightsOverInput(w, clients);
  return {
    plan: { kind: 'linear', weights: Array.from(weights), ...(seed === null ? {} : { noise: { seed, sigma } }) },
    decision: decided(rule, n, clients, {
      selected: admitted,
      admitted,
      weights,
      labels,
      norms: inputNorms,
      medianNorm,
      clipFactors: weightsOverInput(clip, clients),
      clusterOn,
      lambda,
      sigma,
      clustered: [...clients.index],
      cosineDistances: cosine,
      clustering,
    }),
  };
}

const FLOAT32_MAX = 3.4028234663852886e38;

function* fltrustProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['serverUpdate', 'nonFinite'] as never[]) as Record<string, unknown>;
  vectorFlag(rule, 'serverUpdate', opts.serverUpdate, true);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const m = clients.index.length;
  const [s] = yield [{ kind: 'dots', clients: clients.index, vector: 'serverUpdate' }];
  const g0Norm = Math.sqrt(s[2 * m]);
  if (g0Norm > FLOAT32_MAX) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: serverUpdate has norm ${g0Norm}, above the largest float32 ${FLOAT32_MAX}: every client is rescaled to that norm, so the output would overflow`,
    );
  }
  const { trust, w, chosen, totalTrust } = fltrustWeights(s, m, g0Norm);
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      trustScores: weightsOverInput(trust, clients),
      totalTrust,
    }),
  };
}

function* monnaProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'trusted', 'trustedIndex', 'nonFinite'] as never[]) as Record<string, unknown>;
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 1);
  const hasVector = opts.trusted !== undefined;
  if (hasVector === (opts.trustedIndex !== undefined)) {
    throw new RobustAggError('INVALID_OPTION', `${rule} takes exactly one of { trusted } and { trustedIndex }`);
  }
  let to: { vector: string } | { client: number };
  if (hasVector) {
    vectorFlag(rule, 'trusted', opts.trusted, true);
    to = { vector: 'trusted' };
  } else {
    const index = requireInteger(rule, 'trustedIndex', opts.trustedIndex as number, 0, n - 1);
    if (clients.dropped.includes(index)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: the trusted client ${index} sent NaN or ±Infinity`);
    }
    to = { client: index };
  }
  const m = clients.index.length;
  const keep = m - remainingByzantine(f, clients);
  const [dist2] = yield [{ kind: 'squaredDistances', clients: clients.index, to }];
  const chosen = lowestScores(dist2, keep);
  const w = uniformOn(chosen, m);
  const distances = new Float64Array(n).fill(Infinity);
  for (let k = 0; k < m; k++) distances[clients.index[k]] = Math.sqrt(dist2[k]);
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      distances,
    }),
  };
}

/** DnC's outlier score per client: λ·vᵢ² for the top eigenpair of the double-centred Gram. */
function projectionScores(g: Float64Array, m: number): Float64Array {
  const { value, vector } = largestEigenpair(doubleCentre(g, m), m);
  const scores = new Float64Array(m);
  if (value <= 0) return scores;
  for (let i = 0; i < m; i++) scores[i] = value * vector[i] * vector[i];
  return scores;
}

function* dncProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'iterations', 'subsampleDimension', 'filterFraction', 'seed', 'rng', 'nonFinite'] as never[]) as Record<
    string,
    unknown
  >;
  const iterations = requireInteger(rule, 'iterations', (opts.iterations as number | undefined) ?? 5, 1, 100);
  const filterFraction = requireNumber(rule, 'filterFraction', (opts.filterFraction as number | undefined) ?? 1, 0);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 1, 1);
  const b = Math.min(d, requireInteger(rule, 'subsampleDimension', (opts.subsampleDimension as number | undefined) ?? Math.min(d, 10000), 1));
  const rng = resolveValidRng({ seed: opts.seed as number | undefined, rng: opts.rng as Rng | undefined }, rule);
  const m = clients.index.length;
  const removed = Math.ceil(filterFraction * remainingByzantine(f, clients) - 1e-12);
  const keep = m - removed;
  if (keep < 1) {
    throw new RobustAggError(
      'TOO_FEW_CLIENTS',
      `${rule} needs more than ⌈c·f⌉ finite clients, got ${m} finite clients with c=${filterFraction}, f=${f}`,
    );
  }
  const asks: ShardAsk[] = [];
  for (let it = 0; it < iterations; it++) {
    asks.push({ kind: 'subsampledGram', clients: clients.index, columns: Array.from(sampleIndices(d, b, rng)) });
  }
  const grams = yield asks;
  const timesKept = new Int32Array(m);
  let scores: Float64Array = new Float64Array(m);
  for (const g of grams) {
    scores = projectionScores(g, m);
    for (const k of lowestScores(scores, keep)) timesKept[k]++;
  }
  let most = 0;
  for (let k = 0; k < m; k++) if (timesKept[k] > most) most = timesKept[k];
  const chosen: number[] = [];
  for (let k = 0; k < m; k++) if (timesKept[k] === most) chosen.push(k);
  const w = uniformOn(chosen, m);
  const kept = new Int32Array(n);
  const allScores = new Float64Array(n).fill(NaN);
  for (let k = 0; k < m; k++) {
    kept[clients.index[k]] = timesKept[k];
    allScores[clients.index[k]] = scores[k];
  }
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      timesKept: kept,
      scores: allScores,
    }),
  };
}

function* mdaProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'maxSubsets', 'nonFinite'] as never[]) as Record<string, unknown>;
  const maxSubsets = requireInteger(rule, 'maxSubsets', (opts.maxSubsets as number | undefined) ?? MDA_DEFAULT_MAX_SUBSETS, 1, MDA_MAX_SUBSETS_LIMIT);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 1);
  const m = clients.index.length;
  const fLeft = remainingByzantine(f, clients);
  const size = m - fLeft;
  const count = binomial(m, fLeft);
  if (count > maxSubsets) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: the exact search faces C(${m}, ${fLeft}) = ${count.toPrecision(3)} subsets, more than ` +
        `maxSubsets=${maxSubsets}; raise maxSubsets (at most ${MDA_MAX_SUBSETS_LIMIT}) or use a polynomial rule`,
    );
  }
  let dist: Float64Array = new Float64Array(1);
  if (m > 1) {
    const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
    dist = squaredDistancesFromGram(g, m);
  }
  const { subset, diameter2 } = minimumDiameterSubset(dist, m, size);
  const weights = weightsOverInput(uniformOn(subset, m), clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(subset, clients),
      weights,
      diameter: Math.sqrt(diameter2),
    }),
  };
}

function* cafProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'nonFinite'] as never[]) as Record<string, unknown>;
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 1);
  const m = clients.index.length;
  const threshold = m - 2 * remainingByzantine(f, clients);
  let g: Float64Array = new Float64Array(1);
  if (m > 1) [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
  const { best, bestLambda, iterations } = cafFilter(g, m, threshold);
  const weights = weightsOverInput(best, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      weights,
      largestEigenvalue: iterations === 0 ? NaN : bestLambda,
      iterations,
    }),
  };
}

function* clippedClusteringProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['normHistory', 'maxTau', 'nonFinite'] as never[]) as Record<string, unknown>;
  const maxTau = requireLimit(rule, 'maxTau', (opts.maxTau as number | undefined) ?? Infinity, 0);
  const past = readNormHistory(rule, opts.normHistory);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const m = clients.index.length;
  const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'none' }];
  const { tau, normHistory, clip, labels, chosen, w } = clippedClusteringFromGram(g, m, past, maxTau);
  const allLabels = new Int32Array(n).fill(-1);
  for (let k = 0; k < m; k++) allLabels[clients.index[k]] = labels[k];
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      tau,
      clipFactors: weightsOverInput(clip, clients),
      labels: allLabels,
      normHistory,
    }),
  };
}

function* signGuardProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { lower, upper, fraction, quantile, clustering, eps, minSamples, rng, nonFinite } = readSignGuardOptions(
    rule,
    options as SignGuardOptions | undefined,
  );
  const clients = yield* finitePass(rule, n, d, nonFinite);
  const m = clients.index.length;
  const length = Math.min(d, Math.max(1, Math.floor(fraction * d)));
  const start = length < d ? rng.nextInt(d - length + 1) : 0;
  const [counts] = yield [{ kind: 'signCounts', clients: clients.index, start, length }];
  const norms = new Float64Array(m);
  for (let k = 0; k < m; k++) norms[k] = Math.sqrt(counts[3 * k + 2]);
  const median = medianOf(norms);
  const passNorm: number[] = [];
  for (let k = 0; k < m; k++) if (norms[k] > lower * median && norms[k] < upper * median) passNorm.push(k);
  // The sign features as signGuard computes them: fractions of positive, zero and negative values
  // in the window, each divided by its largest value over the clients (+1e-8).
  const features = new Float64Array(m * 3);
  const largest = [0, 0, 0];
  for (let k = 0; k < m; k++) {
    const pos = counts[3 * k];
    const neg = counts[3 * k + 1];
    const f = [pos / length, (length - pos - neg) / length, neg / length];
    for (let t = 0; t < 3; t++) {
      features[k * 3 + t] = f[t];
      if (f[t] > largest[t]) largest[t] = f[t];
    }
  }
  for (let k = 0; k < m; k++) for (let t = 0; t < 3; t++) features[k * 3 + t] /= largest[t] + 1e-8;
  const { labels, inCluster, chosen, w } = signGuardSelection(features, m, passNorm, norms, median, {
    clustering,
    quantile,
    eps,
    minSamples,
    rng,
  });
  const allLabels = new Int32Array(n).fill(-1);
  for (let k = 0; k < m; k++) allLabels[clients.index[k]] = labels[k];
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      medianNorm: median,
      normFiltered: indicesOverInput(passNorm, clients),
      largestCluster: indicesOverInput(inCluster, clients),
      labels: allLabels,
      clustering,
      window: { start, length },
    }),
  };
}

const BULYAN_SELECTIONS = ['krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const;
const BULYAN_AGGREGATIONS = ['meamed', 'krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const;
/** The geometric median bulyanVariant runs inside (its defaults). */
const BULYAN_GM = { maxIterations: 80, tolerance: 1e-5, nu: 0 };

function subMatrix(a: Float64Array, n: number, idx: readonly number[]): Float64Array {
  const k = idx.length;
  const out = new Float64Array(k * k);
  for (let x = 0; x < k; x++) for (let y = 0; y < k; y++) out[x * k + y] = a[idx[x] * n + idx[y]];
  return out;
}

function* bulyanVariantProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'selection', 'aggregation', 'nonFinite'] as never[]) as Record<string, unknown>;
  const selection = (opts.selection ?? 'krum') as (typeof BULYAN_SELECTIONS)[number];
  const aggregation = (opts.aggregation ?? 'meamed') as (typeof BULYAN_AGGREGATIONS)[number];
  if (!BULYAN_SELECTIONS.includes(selection)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: selection must be one of ${BULYAN_SELECTIONS.join(', ')}, got ${describeValue(selection)}`);
  }
  if (!BULYAN_AGGREGATIONS.includes(aggregation)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: aggregation must be one of ${BULYAN_AGGREGATIONS.join(', ')}, got ${describeValue(aggregation)}`,
    );
  }
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  requireClients(rule, clients.n, opts.f as number, 4, 3);
  const count = clients.index.length;
  const f = remainingByzantine(opts.f as number, clients);
  const theta = count - 2 * f;
  const beta = theta - 2 * f;
  const [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
  const dist = squaredDistancesFromGram(g, count);
  let order: number[];
  if (selection === 'krum') {
    order = bulyanSelection(dist, count, f, theta);
  } else {
    // Recursive selection: pick the member closest to the members' aggregate, θ times. The mean and
    // the geometric median are combinations, measured from the Gram matrix; the coordinate median
    // is not, so each of its picks is one more round (the shards measure ‖xᵢ − z‖², m numbers).
    const active = new Array<boolean>(count).fill(true);
    order = [];
    const toOutput = new Float64Array(count);
    while (order.length < theta) {
      const members: number[] = [];
      for (let i = 0; i < count; i++) if (active[i]) members.push(i);
      if (selection === 'coordinateMedian') {
        const [dz] = yield [{ kind: 'medianDistances', clients: members.map((k) => clients.index[k]) }];
        members.forEach((i, k) => (toOutput[i] = dz[k]));
      } else {
        const local =
          selection === 'mean'
            ? new Float64Array(members.length).fill(1 / members.length)
            : weiszfeld(subMatrix(g, count, members), members.length, BULYAN_GM).weights;
        const w = new Float64Array(count);
        members.forEach((i, k) => (w[i] = local[k]));
        for (const i of members) {
          let gw = 0;
          for (let j = 0; j < count; j++) if (w[j] !== 0) gw += g[i * count + j] * w[j];
          toOutput[i] = g[i * count + i] - 2 * gw;
        }
      }
      let best = -1;
      for (const i of members) if (best < 0 || toOutput[i] < toOutput[best]) best = i;
      order.push(best);
      active[best] = false;
    }
  }
  const picked = order.map((k) => clients.index[k]);
  let plan: ShardCombinePlan;
  if (aggregation === 'meamed') plan = { kind: 'meanAroundMedian', clients: picked, keep: beta };
  else if (aggregation === 'coordinateMedian') plan = { kind: 'median', clients: picked };
  else if (aggregation === 'mean') plan = { kind: 'linear', clients: picked, weights: picked.map(() => 1 / picked.length) };
  else if (aggregation === 'krum') {
    const [best] = lowestScores(krumScores(subMatrix(dist, count, order), theta, theta - f - 2), 1);
    plan = { kind: 'copy', client: picked[best] };
  } else {
    const { weights } = weiszfeld(subMatrix(g, count, order), theta, BULYAN_GM);
    plan = { kind: 'linear', clients: picked, weights: Array.from(weights) };
  }
  return {
    plan,
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(order, clients),
      selectionOrder: picked,
      beta,
      selection,
      aggregation,
    }),
  };
}

/**
 * MixTailor over its default pool (Ramezani-Kebrya et al., TMLR 2022): the coordinator draws the
 * member as mixTailor does (one rng.next() against the cumulative probabilities), then runs that
 * member's sharded program. A pool of caller functions cannot be split by coordinates.
 */
function* mixTailorProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'pool', 'probabilities', 'seed', 'rng', 'nonFinite'] as never[]) as Record<string, unknown>;
  if (opts.pool !== undefined) {
    throw new RobustAggError('UNSUPPORTED', `${rule} (sharded): only the default pool (from f) can be split by coordinates, not a pool of functions`);
  }
  if (opts.f === undefined) throw new RobustAggError('INVALID_OPTION', `${rule} needs { f } to build its default pool, or a { pool }`);
  const nonFinite = opts.nonFinite as NonFinitePolicy | undefined;
  requireNonFinitePolicy(rule, nonFinite);
  requireClients(rule, n, opts.f as number, 4, 3);
  const f = opts.f as number;
  const { members, probabilities } = resolveMixTailorPool(mixTailorPool(f, { nonFinite }), opts.probabilities as number[] | undefined);
  const rng = resolveValidRng({ seed: opts.seed as number | undefined, rng: opts.rng as Rng | undefined }, rule);
  const u = rng.next();
  let cumulative = 0;
  let drawn = 0;
  for (let k = 0; k < probabilities.length; k++) {
    if (probabilities[k] === 0) continue;
    drawn = k;
    cumulative += probabilities[k];
    if (u < cumulative) break;
  }
  const member = members[drawn];
  const common = nonFinite === undefined ? {} : { nonFinite };
  let inner: Program;
  const lp = /^krum-l(.+)$/.exec(member.name);
  const bulyan = /^bulyan\((\w+),(\w+)\)$/.exec(member.name);
  if (lp !== null) inner = krumFamily('krumLp', { f, p: Number(lp[1]), ...common }, n, d);
  else if (member.name === 'coordinateMedian') inner = coordinateWise('coordinateMedian', { ...common }, n, d);
  else if (member.name === 'geometricMedian') inner = geometricMedianProgram('geometricMedian', { ...common }, n, d);
  else if (bulyan !== null) inner = bulyanVariantProgram('bulyanVariant', { f, selection: bulyan[1], aggregation: bulyan[2], ...common }, n, d);
  else throw new RobustAggError('UNSUPPORTED', `${rule} (sharded): no sharded form of pool member '${member.name}'`);
  const { plan, decision } = yield* inner;
  return {
    plan,
    decision: {
      rule,
      n,
      dropped: decision.dropped,
      drawn,
      member: member.name,
      ...(member.family === undefined ? {} : { family: member.family }),
      probability: probabilities[drawn],
      poolSize: members.length,
      memberDecision: decision,
    } as Decision,
  };
}

function* smeaProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['f', 'maxSubsets', 'nonFinite'] as never[]) as Record<string, unknown>;
  const maxSubsets = requireInteger(rule, 'maxSubsets', (opts.maxSubsets as number | undefined) ?? SMEA_DEFAULT_MAX_SUBSETS, 1, SMEA_MAX_SUBSETS_LIMIT);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 2, 1);
  const m = clients.index.length;
  const size = smeaSubsetSize(rule, m, remainingByzantine(f, clients), maxSubsets);
  let g: Float64Array = new Float64Array(1);
  if (m > 1) [g] = yield [{ kind: 'gram', clients: clients.index, centre: 'robust' }];
  const { subset, scatterMax } = smallestEigenvalueSubset(g, m, size);
  const weights = weightsOverInput(uniformOn(subset, m), clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(subset, clients),
      weights,
      maxEigenvalue: scatterMax / size,
    }),
  };
}

/**
 * Auror: its votes are per coordinate (each coordinate's two-cluster split over the clients), so
 * each shard votes over its own columns and the m vote counts add up exactly; the decision is
 * bit for bit the single call's. The list of indicative coordinates is O(d): the sharded decision
 * reports its length (`indicativeCount`), not the list.
 */
function* aurorProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { alpha, tau, features, nonFinite } = readAurorOptions(rule, options as AurorOptions | undefined);
  const clients = yield* finitePass(rule, n, d, nonFinite);
  const { start, size } = aurorFeatures(rule, features, d);
  const m = clients.index.length;
  const [votes] = yield [{ kind: 'aurorVotes', clients: clients.index, start, length: size, threshold: alpha }];
  const counts = votes.slice(0, m);
  const indicativeCount = votes[m];
  const { kept, flagged, w } = aurorSelection(counts, indicativeCount, tau);
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(kept, clients),
      weights,
      flagged: indicesOverInput(flagged, clients),
      indicativeCount,
      suspicions: weightsOverInput(counts, clients),
    }),
  };
}

/** A 32-bit seed for noise the shards draw: the caller's seed, or one drawn from its rng. */
function noiseSeed(rng: Rng | null, random: { seed?: number; rng?: Rng }, sigma: number): number | null {
  if (rng === null || sigma === 0) return null;
  return random.rng !== undefined ? rng.nextUint32() : (random.seed as number);
}

function* normClippingDpProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { opts, maxNorm, sigma } = readNormClippingDpOptions(rule, options as NormClippingDpOptions | undefined);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite);
  const m = clients.index.length;
  const given = opts.weights === undefined ? undefined : readClientWeights(rule, opts.weights, clients.n);
  const random = { seed: opts.seed, rng: opts.rng };
  const rng = sigma > 0 || opts.seed !== undefined || opts.rng !== undefined ? resolveValidRng(random, rule) : null;
  const p = given === undefined ? new Float64Array(m).fill(1 / m) : normalisedClientWeights(rule, given, clients.index);
  const [norms] = yield [{ kind: 'norms', clients: clients.index }];
  const clip = normClipFactors(norms, maxNorm);
  const w = Float64Array.from(p, (pi, i) => pi * clip[i]);
  const weights = weightsOverInput(w, clients);
  const seed = noiseSeed(rng, random, sigma);
  return {
    plan: { kind: 'linear', weights: Array.from(weights), ...(seed === null ? {} : { noise: { seed, sigma } }) },
    decision: decided(rule, n, clients, {
      weights,
      clipFactors: weightsOverInput(clip, clients),
      ...(given === undefined ? {} : { clientWeights: weightsOverInput(p, clients) }),
    }),
  };
}

function* crflProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { opts, clipNorm, sigma } = readCrflOptions(rule, options as CrflOptions | undefined);
  const hasGlobal = vectorFlag(rule, 'global', opts.global, false);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite);
  const m = clients.index.length;
  const given = opts.weights === undefined ? undefined : readClientWeights(rule, opts.weights, clients.n);
  const random = { seed: opts.seed, rng: opts.rng };
  const rng = sigma > 0 || opts.seed !== undefined || opts.rng !== undefined ? resolveValidRng(random, rule) : null;
  const w = given === undefined ? new Float64Array(m).fill(1 / m) : normalisedClientWeights(rule, given, clients.index);
  const vector = hasGlobal ? 'global' : null;
  const [norm] = yield [{ kind: 'weightedNorm', clients: clients.index, weights: Array.from(w), vector }];
  const normBefore = norm[0];
  if (!Number.isFinite(normBefore)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: global must be a finite Float32Array of length d=${d}, got one holding NaN or ±Infinity`);
  }
  const clipFactor = normBefore > clipNorm ? clipNorm / normBefore : 1;
  const seed = noiseSeed(rng, random, sigma);
  const weights = weightsOverInput(w, clients);
  return {
    plan: {
      kind: 'crfl',
      clients: clients.index,
      weights: Array.from(w),
      vector,
      clipFactor,
      ...(seed === null ? {} : { noise: { seed, sigma } }),
    },
    decision: decided(rule, n, clients, {
      weights,
      normBefore,
      clipFactor,
      ...(given === undefined ? {} : { clientWeights: weights }),
    }),
  };
}

/**
 * LASA: the per-client threshold (the keep-th largest |x| over the sparsified segments) is a
 * global order statistic of each client's d values; it is found exactly by a radix selection on
 * the float32 bit patterns, one byte per trip (4 trips of 256·m counts), then one trip of per-layer
 * statistics (3·m·L numbers) and the per-layer combine.
 */
function* lasaProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { opts, sparsity, lambdaNorm, lambdaSign, zScore } = readLasaOptions(rule, options as LasaOptions | undefined);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite);
  const m = clients.index.length;
  const layout: readonly LayoutSegment[] =
    opts.layout === undefined
      ? [{ name: 'all', shape: [d], offset: 0, size: d, trainable: true, kind: 'other' }]
      : requireLayoutOf(rule, opts.layout, d);
  const segments: ShardSegment[] = layout.map((seg) => ({
    offset: seg.offset,
    size: seg.size,
    sparsified: seg.kind === 'kernel' || seg.kind === 'other',
  }));
  const total = segments.reduce((a, s) => a + (s.sparsified ? s.size : 0), 0);
  const keep = Math.floor((1 - sparsity) * total);
  const select = !(sparsity === 0 || total === 0) && keep !== 0;
  const prefixes = new Array<number>(m).fill(0);
  const histogram = (level: number): ShardAsk => ({ kind: 'magnitudeHistogram', clients: clients.index, segments, level, prefixes: [...prefixes] });
  const first = yield [{ kind: 'squaredNorms', clients: clients.index }, ...(select ? [histogram(0)] : [])];
  const { clipNorm, scale } = lasaClip(Float64Array.from(first[0], (s2) => Math.sqrt(s2)));
  // As lasa: no sparsification (threshold 0) when sparsity or the sparsified size is 0; Infinity when none is kept.
  const threshold = new Float64Array(m).fill(!select && !(sparsity === 0 || total === 0) ? Infinity : 0);
  if (select) {
    // The (total − keep)-th smallest |x| (0-based) of each client, one byte of its bits per level.
    const rank = new Array<number>(m).fill(total - keep);
    let hist = first[1];
    for (let level = 0; level < 4; level++) {
      for (let k = 0; k < m; k++) {
        let below = 0;
        let b = 0;
        while (b < 255 && below + hist[256 * k + b] <= rank[k]) below += hist[256 * k + b++];
        rank[k] -= below;
        prefixes[k] = prefixes[k] * 256 + b;
      }
      if (level < 3) [hist] = yield [histogram(level + 1)];
    }
    for (let k = 0; k < m; k++) threshold[k] = floatOfBits(prefixes[k]);
  }
  const [stats] = yield [{ kind: 'layerStats', clients: clients.index, segments, thresholds: Array.from(threshold) }];
  const layerNorm = new Float64Array(m);
  const purity = new Float64Array(m);
  const used = new Uint8Array(m);
  const layers: LasaLayerDecision[] = [];
  const planSegments: (ShardSegment & { benign: number[] })[] = [];
  layout.forEach((seg, l) => {
    for (let i = 0; i < m; i++) {
      const at = 3 * (l * m + i);
      layerNorm[i] = scale[i] * Math.sqrt(stats[at]);
      purity[i] = stats[at + 2] === 0 || scale[i] === 0 ? 0.5 : stats[at + 1] / stats[at + 2];
    }
    const { benign, fallback } = lasaLayerFilter(layerNorm, purity, zScore, lambdaNorm, lambdaSign);
    for (const i of benign) used[i] = 1;
    layers.push({ name: seg.name, selected: benign.map((i) => clients.index[i]), fallback });
    planSegments.push({ ...segments[l], benign });
  });
  const selected: number[] = [];
  for (let i = 0; i < m; i++) if (used[i] === 1) selected.push(clients.index[i]);
  return {
    plan: { kind: 'lasa', clients: clients.index, scale: Array.from(scale), thresholds: Array.from(threshold), segments: planSegments },
    decision: decided(rule, n, clients, { selected, clipNorm, layers }),
  };
}

/** The ids of the previous round's history, in its order: unique strings or numbers. */
function readHistoryIds(rule: string, value: unknown): FoolsGoldClientId[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > FOOLS_GOLD_MAX_HISTORY) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule} (sharded): historyIds must be an array of at most ${FOOLS_GOLD_MAX_HISTORY} client ids (the previous decision's historyIds), got ${describeValue(value)}`,
    );
  }
  const ids = Array.from(value as unknown[]);
  const seen = new Set<FoolsGoldClientId>();
  ids.forEach((id, p) => {
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new RobustAggError('INVALID_OPTION', `${rule} (sharded): historyIds[${p}] must be a string or a number`);
    }
    if (seen.has(id)) throw new RobustAggError('INVALID_OPTION', `${rule} (sharded): history id ${String(id)} appears twice`);
    seen.add(id);
  });
  return ids as FoolsGoldClientId[];
}

const NO_COLUMNS = new Float64Array(0);

/**
 * FoolsGold: the state (each client's accumulated update Hᵢ) is per coordinate, so each shard
 * keeps its columns of it (slice.history) and the coordinator only the ids (`historyIds`). Two
 * trips: the largest |Hᵢ + xᵢ| per member (K numbers, maximum) for the power-of-two scales, then
 * the K×K Gram of the scaled new sums; the decision is the rule's own (foolsGoldRates).
 */
function* foolsGoldProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const opts = readOptions(rule, options as object, ['clientIds', 'historyIds', 'kappa', 'nonFinite'] as never[]) as Record<string, unknown>;
  if ((options as Record<string, unknown> | undefined)?.history !== undefined) {
    throw new RobustAggError('INVALID_OPTION', `${rule} (sharded): pass historyIds (the ids) and each shard's columns of the history in slice.history, not history`);
  }
  const kappa = foolsGoldKappa(rule, opts.kappa as number | undefined);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite as NonFinitePolicy | undefined);
  const ids = clientIdsOf(rule, opts.clientIds, n);
  const previous = readHistoryIds(rule, opts.historyIds);
  const updateOf = new Map<FoolsGoldClientId, number>();
  for (const i of clients.index) updateOf.set(ids[i], i);
  const members: ShardHistoryMember[] = previous.map((id) => ({ id, previous: true, client: updateOf.get(id) ?? null }));
  const known = new Set(previous);
  for (const i of clients.index) if (!known.has(ids[i])) members.push({ id: ids[i], previous: false, client: i });
  const K = members.length;
  if (K > FOOLS_GOLD_MAX_HISTORY) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the history would hold ${K} clients, more than ${FOOLS_GOLD_MAX_HISTORY}; delete the entries of clients that left`,
    );
  }
  const [largest] = yield [{ kind: 'historyLargest', members }];
  const scales = members.map((member, p) => {
    if (!(largest[p] < Infinity)) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the history of client ${String(member.id)} holds NaN or ±Infinity in some shard; histories must be finite (delete the entry to restart that client)`,
      );
    }
    return unitScale(rule, largest[p], NO_COLUMNS, member.id);
  });
  const [g] = yield [{ kind: 'historyGram', members, scales }];
  const { v, alpha } = foolsGoldRates(g, K, kappa);
  const position = new Map(members.map((member, p) => [member.id, p]));
  const at = clients.index.map((i) => position.get(ids[i]) as number);
  const { rates, similarity, w, chosen } = foolsGoldWeights(alpha, v, at, clients.index, n);
  const weights = weightsOverInput(w, clients);
  return {
    plan: linear(weights),
    decision: decided(rule, n, clients, {
      selected: indicesOverInput(chosen, clients),
      weights,
      learningRates: weightsOverInput(rates, clients),
      maxSimilarity: similarity,
      historyIds: members.map((member) => member.id),
      historyMembers: members,
    }),
  };
}

/**
 * The coordinator's part of FLDetector's state across sharded rounds: the window of round scores
 * (n numbers per round) and what the shards' states must hold (the round, the pairs). Plain data:
 * structured-clone safe, and JSON through stringifyShardMessage. The per-coordinate part (models,
 * aggregates, previous updates, difference pairs) stays with each shard (slice.flDetector).
 *
 * @category Sharding
 */
export interface FlDetectorShardedState {
  /** Format version, 1. */
  readonly version: 1;
  /** Number of clients. */
  readonly n: number;
  /** Length of the full updates. */
  readonly d: number;
  /** Rounds aggregated so far (the shards' states carry the same number). */
  readonly round: number;
  /** Difference pairs every shard's state holds (at most the window). */
  readonly pairs: number;
  /** The last `window` rounds' scores, oldest first, each n numbers in [0, 1]. */
  readonly roundScores: readonly Float64Array[];
}

function readShardedFlDetectorState(rule: string, value: unknown, n: number, d: number, window: number): FlDetectorShardedState {
  const fail = (what: string): never => {
    throw new RobustAggError('INVALID_OPTION', `${rule} (sharded): state ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`must be the previous decision's state, got ${describeValue(value)}`);
  const s = value as Record<string, unknown>;
  if (s.version !== 1) fail(`has version ${describeValue(s.version)}, expected 1`);
  if (s.n !== n || s.d !== d) fail(`was built for n=${describeValue(s.n)}, d=${describeValue(s.d)}, got n=${n}, d=${d}`);
  const round = s.round;
  if (typeof round !== 'number' || !Number.isSafeInteger(round) || round < 1) fail(`.round must be an integer ≥ 1, got ${describeValue(round)}`);
  const pairs = s.pairs;
  if (typeof pairs !== 'number' || !Number.isInteger(pairs) || pairs < 0 || pairs > (round as number) - 1) {
    fail(`.pairs must be an integer in [0, round − 1], got ${describeValue(pairs)}`);
  }
  if ((pairs as number) > window) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: state holds ${String(pairs)} pairs, more than window=${window}; keep the window the same across rounds`);
  }
  const list = s.roundScores;
  if (!Array.isArray(list) || list.length > FL_DETECTOR_MAX_WINDOW) fail(`.roundScores must be an array of at most ${FL_DETECTOR_MAX_WINDOW} arrays`);
  const roundScores = (list as unknown[]).map((r, j) => {
    if (!(r instanceof Float64Array) || r.length !== n) fail(`.roundScores[${j}] must be a Float64Array of length n=${n}`);
    for (const x of r as Float64Array) if (!(x >= 0 && x <= 1)) fail('.roundScores must hold shares in [0, 1]');
    return r as Float64Array;
  });
  return { version: 1, n, d, round: round as number, pairs: pairs as number, roundScores };
}

/**
 * FLDetector (Zhang et al., KDD 2022) with the default aggregator (the coordinate-wise median):
 * the per-coordinate state (the previous model, aggregate and updates, the window of difference
 * pairs) stays with the shards, the round scores with the coordinator. When a full window of
 * pairs exists, two trips: the L-BFGS dot products (2w² + 2w numbers), then each client's
 * prediction error with and without the Hessian-vector product and whether that product
 * overflowed anywhere (2m + 1); the gap statistic and 2-means run on the n scores here. A
 * caller's aggregator function cannot be split by coordinates.
 */
function* flDetectorProgram(rule: string, options: Record<string, unknown> | undefined, n: number, d: number): Program {
  const { opts, window, maxClusters, references } = readFlDetectorOptions(rule, options as FlDetectorOptions | undefined);
  if (opts.aggregator !== undefined) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule} (sharded): only the default aggregator (coordinateMedian) can be split by coordinates, not a function`,
    );
  }
  const rng = resolveValidRng(opts, rule);
  const clients = yield* finitePass(rule, n, d, opts.nonFinite);
  vectorFlag(rule, 'globalModel', opts.globalModel, true);
  const state = opts.state === undefined ? null : readShardedFlDetectorState(rule, opts.state, n, d, window);
  let roundScores: Float64Array | null = null;
  let hvpFallback = false;
  if (state !== null && state.pairs === window) {
    const round = state.round;
    const [dots] = yield [{ kind: 'lbfgsDots', pairs: window, round }];
    const coefficients = lbfgsCoefficients(dots, window);
    let errors: Float64Array;
    if (coefficients === null) {
      hvpFallback = true;
      [errors] = yield [{ kind: 'predictionErrors', clients: clients.index, hvp: null, round }];
    } else {
      const hvp = { sigma: coefficients.sigma, q: Array.from(coefficients.q) };
      const [withHvp, without, bad] = yield [
        { kind: 'predictionErrors', clients: clients.index, hvp, round },
        { kind: 'predictionErrors', clients: clients.index, hvp: null, round },
        { kind: 'hvpNonFinite', ...hvp, round },
      ];
      hvpFallback = bad[0] > 0;
      errors = hvpFallback ? without : withHvp;
    }
    for (let k = 0; k < errors.length; k++) errors[k] = Math.min(Number.MAX_VALUE, errors[k]);
    roundScores = flDetectorRoundScores(errors, clients.index, n);
  }
  const { windowScores, scores, clusters, flagged, selected } = flDetectorFlags(
    state?.roundScores ?? [],
    roundScores,
    window,
    n,
    maxClusters,
    references,
    rng,
    clients.index,
  );
  const kept = new Set(selected);
  const excluded: number[] = [];
  for (let i = 0; i < n; i++) if (!kept.has(i)) excluded.push(i);
  const next: FlDetectorShardedState = {
    version: 1,
    n,
    d,
    round: (state?.round ?? 0) + 1,
    pairs: state === null ? 0 : Math.min(window, state.pairs + 1),
    roundScores: windowScores,
  };
  return {
    plan: { kind: 'rule', rule: 'coordinateMedian', options: {}, dropped: excluded },
    decision: decided(rule, n, clients, {
      selected,
      flagged,
      attackDetected: clusters >= 2,
      clusters,
      predicted: roundScores !== null,
      hvpFallback,
      roundScores,
      scores,
      state: next,
      stateUpdate: { window, clients: [...clients.index], previousRound: state?.round ?? null },
    }),
  };
}

type ProgramFactory = (rule: string, options: Record<string, unknown> | undefined, n: number, d: number) => Program;

const PROGRAMS: Readonly<Record<string, ProgramFactory>> = {
  mean: coordinateWise,
  coordinateMedian: coordinateWise,
  trimmedMean: coordinateWise,
  meamed: coordinateWise,
  signMajority: coordinateWise,
  krum: krumFamily,
  multiKrum: krumFamily,
  krumLp: krumFamily,
  bulyan: bulyanProgram,
  geometricMedian: geometricMedianProgram,
  centeredClipping: centeredClippingProgram,
  flame: flameProgram,
  fltrust: fltrustProgram,
  monna: monnaProgram,
  dnc: dncProgram,
  mda: mdaProgram,
  caf: cafProgram,
  clippedClustering: clippedClusteringProgram,
  signGuard: signGuardProgram,
  bulyanVariant: bulyanVariantProgram,
  mixTailor: mixTailorProgram,
  smea: smeaProgram,
  auror: aurorProgram,
  normClippingDp: normClippingDpProgram,
  crfl: crflProgram,
  lasa: lasaProgram,
  foolsGold: foolsGoldProgram,
  flDetector: flDetectorProgram,
};
