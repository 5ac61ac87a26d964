import type { Aggregation, Aggregator, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions } from '../core/options.js';
import { isFloat32Array, type Updates } from '../core/updates.js';
import { isFiniteVector } from '../kernels/finite.js';
import { bulyanWithDecision } from '../aggregators/bulyan.js';
import { bulyanVariantWithDecision } from '../aggregators/bulyan-variants.js';
import { cafWithDecision } from '../aggregators/caf.js';
import { centeredClippingWithDecision } from '../aggregators/centered-clipping.js';
import { clippedClusteringWithDecision } from '../aggregators/clipped-clustering.js';
import { coordinateMedianWithDecision } from '../aggregators/coordinate-median.js';
import { dncWithDecision } from '../aggregators/dnc.js';
import { flameWithDecision } from '../aggregators/flame.js';
import { flDetectorWithDecision } from '../aggregators/fl-detector.js';
import { fltrustWithDecision } from '../aggregators/fltrust.js';
import { foolsGoldWithDecision } from '../aggregators/fools-gold.js';
import { geometricMedianWithDecision } from '../aggregators/geometric-median.js';
import { krumLpWithDecision } from '../aggregators/krum-lp.js';
import { krumWithDecision } from '../aggregators/krum.js';
import { aurorWithDecision } from '../aggregators/auror.js';
import { crflWithDecision } from '../aggregators/crfl.js';
import { normClippingDpWithDecision } from '../aggregators/norm-clipping-dp.js';
import { lasaWithDecision } from '../aggregators/lasa.js';
import { mdaWithDecision } from '../aggregators/mda.js';
import { meamedWithDecision } from '../aggregators/meamed.js';
import { meanWithDecision } from '../aggregators/mean.js';
import { mixTailorWithDecision, type MixTailorMember } from '../aggregators/mix-tailor.js';
import { monnaWithDecision } from '../aggregators/monna.js';
import { multiKrumWithDecision } from '../aggregators/multi-krum.js';
import { signGuardWithDecision } from '../aggregators/sign-guard.js';
import { smeaWithDecision } from '../aggregators/smea.js';
import { signMajorityWithDecision } from '../aggregators/sign-majority.js';
import { trimmedMeanWithDecision } from '../aggregators/trimmed-mean.js';
import { arc } from '../pre-aggregators/arc.js';
import { bucketing } from '../pre-aggregators/bucketing.js';
import { clipping } from '../pre-aggregators/clipping.js';
import { nnm } from '../pre-aggregators/nnm.js';

/**
 * The kind of value an option takes, as the registry checks it when an aggregator is created:
 * - `'integer'`, `'number'`: a number in [`min`, `max`] (`Infinity` only where `max` is `Infinity`
 *   and the option says so in its description); `exclusiveMin` makes the lower bound open.
 * - `'enum'`: one of `values`. `'enumList'`: an array of distinct entries of `values`.
 * - `'vector'`: a finite `Float32Array` (its length d is checked by the rule).
 * - `'weights'`: an array-like of finite numbers ≥ 0, one per client (length checked by the rule).
 * - `'numbers'`: an array of numbers (range checked by the rule). `'ids'`: an array of strings or
 *   numbers.
 * - `'object'`: a state object returned by an earlier round (a history, a layout).
 * - `'rng'`: a random generator `{ next(): number }` (cannot cross to a worker: use `seed` there).
 * - `'stages'`: MixTailor's pool or a pipeline's stages: rule names or `{ name, options }`.
 * - `'stage'`: one rule given as a name or `{ name, options }`.
 *
 * @category Server
 */
export type OptionType =
  | 'integer'
  | 'number'
  | 'enum'
  | 'enumList'
  | 'vector'
  | 'weights'
  | 'numbers'
  | 'ids'
  | 'object'
  | 'rng'
  | 'stages'
  | 'stage';

/**
 * One option of a rule, as {@link listAggregators} describes it.
 *
 * @category Server
 */
export interface OptionSchema {
  /** What kind of value it takes. */
  readonly type: OptionType;
  /** Lower bound of an `'integer'` or `'number'`. */
  readonly min?: number;
  /** Upper bound of an `'integer'` or `'number'` (`Infinity` when unbounded). */
  readonly max?: number;
  /** True when the lower bound is excluded (e.g. τ > 0). */
  readonly exclusiveMin?: boolean;
  /** The accepted values of an `'enum'` or `'enumList'`. */
  readonly values?: readonly string[];
  /** The default, in words or as the value (absent: the option is required or has no default). */
  readonly default?: string | number;
  /** True when the rule cannot run without it. */
  readonly required?: boolean;
  /** True for options that usually change every round (a centre, a server update, a history). */
  readonly perRound?: boolean;
  /** One line: what it does. */
  readonly description: string;
}

/**
 * What the registry knows about one rule: its kind, its options and whether it takes client
 * weights. Listed by {@link listAggregators}.
 *
 * @category Server
 */
export interface AggregatorInfo {
  /** The name {@link createAggregator} takes, the same as the function's (`'multiKrum'`). */
  readonly name: string;
  /**
   * `'aggregator'` (n updates → one vector), `'preAggregator'` (n updates → m updates, usable as a
   * stage of `'pipeline'`) or `'pipeline'` (pre-aggregators then an aggregator, by name).
   */
  readonly kind: 'aggregator' | 'preAggregator' | 'pipeline';
  /** One line: the rule and its paper. */
  readonly summary: string;
  /** The rule's requirement on n and f, when it has one (`'n ≥ 2f+3'`). */
  readonly requires?: string;
  /** Every option the rule accepts, by key (`nonFinite` included). */
  readonly options: Readonly<Record<string, OptionSchema>>;
  /** True when the rule accepts client weights (the option `weights`, e.g. sample counts). */
  readonly weights: boolean;
  /** True when the rule draws random numbers (pass `seed`). */
  readonly randomized: boolean;
}

/**
 * What a rule returns through the registry, a round or {@link aggregateAsync}: the aggregate, the
 * decision, and the state a stateful rule hands to its next round (`history` of foolsGold,
 * `normHistory` of clippedClustering).
 *
 * @category Server
 */
export interface RuleResult<D extends Decision = Decision> extends Aggregation<D> {
  /** foolsGold's updated history: pass it as `history` next round. */
  readonly history?: unknown;
  /** clippedClustering's norm history: pass it as `normHistory` next round. */
  readonly normHistory?: number[];
  /** flDetector's state: pass it as `state` next round. */
  readonly state?: unknown;
}

/**
 * An aggregator chosen by name and bound to its options by {@link createAggregator}. Call it like
 * any {@link Aggregator} (`agg(updates)` returns the aggregate), or call `withDecision` for the
 * decision too, optionally with options that change per round (weights, a centre, a history).
 *
 * @category Server
 */
export interface ConfiguredAggregator {
  /**
   * Runs the rule with the configured options.
   *
   * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
   * @returns the aggregate, a new `Float32Array` of length d.
   */
  (updates: readonly Float32Array[]): Float32Array;
  /** The rule's name. */
  readonly ruleName: string;
  /** The options it was created with (a frozen snapshot, each key read once). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The registry's description of the rule. */
  readonly info: AggregatorInfo;
  /**
   * Runs the rule with its decision.
   *
   * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
   * @param perRound - options for this call only, merged over the configured ones (e.g.
   *   `{ weights }` or `{ history }`); checked like the configured ones.
   * @returns the aggregate, the decision and any state for the next round.
   */
  withDecision(updates: Updates, perRound?: Readonly<Record<string, unknown>>): RuleResult;
}

type Run = (updates: Updates, options: Record<string, unknown>) => RuleResult;
type PreRun = (updates: Updates, options: Record<string, unknown>) => Float32Array[];

interface Entry {
  readonly name: string;
  readonly kind: AggregatorInfo['kind'];
  readonly summary: string;
  readonly requires?: string;
  readonly randomized: boolean;
  /** Options other than `nonFinite` and `weights` (those two are added from the rule's own key list). */
  readonly options: Record<string, OptionSchema>;
  readonly run?: Run;
  readonly pre?: PreRun;
  /** Calls the rule with an options object holding only an unknown key (to read its accepted keys). */
  readonly probe?: (options: object) => unknown;
}

const NON_FINITE: OptionSchema = {
  type: 'enum',
  values: ['drop', 'throw'],
  default: 'drop',
  description: 'clients that sent NaN or ±Infinity: dropped and counted against f, or an error',
};
const WEIGHTS: OptionSchema = {
  type: 'weights',
  perRound: true,
  default: 'equal',
  description: 'one weight ≥ 0 per client (e.g. its sample count), normalised over the finite clients',
};
const f = (requires: string, required = true): OptionSchema => ({
  type: 'integer',
  min: 0,
  max: Infinity,
  ...(required ? { required: true } : {}),
  description: `declared number of Byzantine clients (${requires})`,
});
const SEED: OptionSchema = { type: 'number', min: -Infinity, max: Infinity, description: 'seed of the random draws (any finite number)' };
const RNG: OptionSchema = { type: 'rng', description: 'a generator to draw from (wins over seed; not for aggregateAsync or rounds)' };

const rule = (e: Omit<Entry, 'kind'>): Entry => ({ kind: 'aggregator', ...e });
const asRun = <O>(fn: (u: Updates, o: O) => RuleResult): Run => fn as unknown as Run;
const oneRow = (): Float32Array[] => [new Float32Array(1)];

/** The registry's entries, built on first use (so that importing one rule from the package does not keep them all). */
function buildEntries(): readonly Entry[] {
  return [
    rule({
      name: 'mean',
      summary: 'the (weighted) mean, FedAvg (McMahan et al. 2017); not robust',
      randomized: false,
      options: {},
      run: asRun(meanWithDecision),
    }),
    rule({
      name: 'coordinateMedian',
      summary: 'coordinate-wise median (Yin et al. 2018)',
      randomized: false,
      options: {},
      run: asRun(coordinateMedianWithDecision),
    }),
    rule({
      name: 'trimmedMean',
      summary: 'coordinate-wise trimmed mean (Yin et al. 2018): f (or ⌊βn⌋) values dropped per tail',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: {
        f: { ...f('n ≥ 2f+1', false), description: 'values trimmed from each tail per coordinate (n ≥ 2f+1); give f or beta' },
        beta: { type: 'number', min: 0, max: 0.5, description: 'fraction in [0, 0.5) trimmed from each tail; give f or beta' },
      },
      run: asRun(trimmedMeanWithDecision),
    }),
    rule({
      name: 'meamed',
      summary: 'mean around the median (Xie et al. 2018): per coordinate, the n−f values closest to the median',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: { f: f('n ≥ 2f+1') },
      run: asRun(meamedWithDecision),
    }),
    rule({
      name: 'geometricMedian',
      summary: 'geometric median by Weiszfeld iterations (RFA, Pillutla et al. 2022)',
      randomized: false,
      options: {
        maxIterations: { type: 'integer', min: 0, max: 10_000, default: 80, description: 'most Weiszfeld iterations' },
        tolerance: { type: 'number', min: 0, max: Infinity, default: 1e-5, description: 'stop once the estimate moves by at most this much' },
        nu: { type: 'number', min: 0, max: Infinity, default: 0, description: 'RFA smoothing ν: weights 1/max(ν, ‖xᵢ − z‖)' },
      },
      run: asRun(geometricMedianWithDecision),
    }),
    rule({
      name: 'krum',
      summary: 'Krum (Blanchard et al. 2017): the client with the smallest sum of squared distances to its n−f−2 nearest',
      requires: 'n ≥ 2f+3',
      randomized: false,
      options: { f: f('n ≥ 2f+3') },
      run: asRun(krumWithDecision),
    }),
    rule({
      name: 'multiKrum',
      summary: 'Multi-Krum (Blanchard et al. 2017): the mean of the m best Krum scores',
      requires: 'n ≥ 2f+3',
      randomized: false,
      options: {
        f: f('n ≥ 2f+3'),
        m: { type: 'integer', min: 1, max: Infinity, default: 'n − f', description: 'how many best-scored clients to average (≤ n)' },
      },
      run: asRun(multiKrumWithDecision),
    }),
    rule({
      name: 'bulyan',
      summary: 'Bulyan (El Mhamdi et al. 2018): n−2f Krum picks, then a trimmed mean around the median',
      requires: 'n ≥ 4f+3',
      randomized: false,
      options: { f: f('n ≥ 4f+3') },
      run: asRun(bulyanWithDecision),
    }),
    rule({
      name: 'bulyanVariant',
      summary: 'Bulyan with another selection or aggregation rule (MixTailor’s pool)',
      requires: 'n ≥ 4f+3',
      randomized: false,
      options: {
        f: f('n ≥ 4f+3'),
        selection: { type: 'enum', values: ['krum', 'geometricMedian', 'coordinateMedian', 'mean'], default: 'krum', description: 'selection rule' },
        aggregation: {
          type: 'enum',
          values: ['meamed', 'krum', 'geometricMedian', 'coordinateMedian', 'mean'],
          default: 'meamed',
          description: 'aggregation rule',
        },
      },
      run: asRun(bulyanVariantWithDecision),
    }),
    rule({
      name: 'krumLp',
      summary: 'Krum under an ℓp distance (MixTailor’s pool)',
      requires: 'n ≥ 2f+3',
      randomized: false,
      options: {
        f: f('n ≥ 2f+3'),
        p: { type: 'number', min: 1, max: Infinity, default: 2, description: 'the norm p ≥ 1 (Infinity allowed)' },
      },
      run: asRun(krumLpWithDecision),
    }),
    rule({
      name: 'centeredClipping',
      summary: 'centered clipping (Karimireddy et al. 2021): v ← v + mean of clip_τ(xᵢ − v), L times',
      randomized: false,
      options: {
        tau: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, default: 10, description: 'clipping radius τ > 0' },
        iterations: { type: 'integer', min: 1, max: 100, default: 5, description: 'clipping iterations L' },
        center: { type: 'vector', perRound: true, default: 'the zero vector', description: 'starting point v₀, e.g. the previous aggregate' },
      },
      run: asRun(centeredClippingWithDecision),
    }),
    rule({
      name: 'signMajority',
      summary: 'signSGD with majority vote (Bernstein et al. 2019): the per-coordinate sign of the vote',
      randomized: false,
      options: {},
      run: asRun(signMajorityWithDecision),
    }),
    rule({
      name: 'fltrust',
      summary: 'FLTrust (Cao et al. 2021): trust = ReLU(cos) with the server update, norms matched to it',
      randomized: false,
      options: {
        serverUpdate: { type: 'vector', required: true, perRound: true, description: 'the server’s update on its clean root data' },
      },
      run: asRun(fltrustWithDecision),
    }),
    rule({
      name: 'mda',
      summary: 'minimum-diameter averaging (El Mhamdi et al. 2018): the mean of the n−f subset of smallest diameter',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: {
        f: f('n ≥ 2f+1'),
        maxSubsets: { type: 'integer', min: 1, max: 1e8, default: 1e6, description: 'most candidate subsets the exact search may face' },
      },
      run: asRun(mdaWithDecision),
    }),
    rule({
      name: 'smea',
      summary: 'SMEA (Allouah et al. 2023): the mean of the n−f subset whose covariance has the smallest largest eigenvalue',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: {
        f: f('n ≥ 2f+1'),
        maxSubsets: { type: 'integer', min: 1, max: 1e6, default: 1e5, description: 'most candidate subsets the exact search may face' },
      },
      run: asRun(smeaWithDecision),
    }),
    rule({
      name: 'lasa',
      summary: 'LASA (Xu et al. 2025): per layer, sparsify each update, filter clients by norm and sign z-scores, average',
      randomized: false,
      options: {
        layout: { type: 'object', default: 'one layer', description: 'the layers, each filtered and averaged on its own' },
        sparsity: { type: 'number', min: 0, max: 1, default: 0.3, description: 'fraction of each update’s coordinates set to 0 (< 1)' },
        lambdaNorm: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, default: 2, description: 'norm filter radius' },
        lambdaSign: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, default: 1, description: 'sign filter radius' },
        zScore: { type: 'enum', values: ['std', 'mad'], default: 'std', description: 'scale of the median-based z-score' },
      },
      run: asRun(lasaWithDecision),
    }),
    rule({
      name: 'crfl',
      summary: 'CRFL (Xie et al. 2021): the weighted mean, the model clipped to norm ρ, Gaussian noise σ (certifiable)',
      randomized: true,
      options: {
        clipNorm: { type: 'number', min: 0, max: 1e30, exclusiveMin: true, required: true, perRound: true, description: 'the model-norm bound ρ of this round' },
        sigma: { type: 'number', min: 0, max: 1e30, required: true, description: 'standard deviation σ of the noise (σ > 0 needs a seed)' },
        global: { type: 'vector', perRound: true, default: 'zeros', description: 'the global model the updates apply to' },
        seed: SEED,
        rng: RNG,
      },
      run: asRun(crflWithDecision),
    }),
    rule({
      name: 'normClippingDp',
      summary: 'norm clipping with weak differential privacy (Sun et al. 2019): clip to M, weighted mean, Gaussian noise σ',
      randomized: true,
      options: {
        maxNorm: { type: 'number', min: 0, max: 1e30, exclusiveMin: true, required: true, description: 'the norm bound M every update is clipped to' },
        sigma: { type: 'number', min: 0, max: 1e30, required: true, description: 'standard deviation σ of the noise (σ > 0 needs a seed)' },
        seed: SEED,
        rng: RNG,
      },
      run: asRun(normClippingDpWithDecision),
    }),
    rule({
      name: 'auror',
      summary: 'Auror (Shen et al. 2016): clients in the suspicious cluster of too many indicative features are left out',
      randomized: false,
      options: {
        threshold: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, required: true, description: 'distance α between cluster centres from which a feature is indicative' },
        tau: { type: 'number', min: 0.5, max: 1, default: 0.5, description: 'flag a client in at least τ·K of the K indicative features' },
        features: { type: 'object', default: 'every coordinate', description: 'the coordinates examined, { offset, size }' },
      },
      run: asRun(aurorWithDecision),
    }),
    rule({
      name: 'monna',
      summary: 'MoNNA (Farhadkhani et al. 2023): the mean of the n−f clients nearest a trusted vector',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: {
        f: f('n ≥ 2f+1'),
        trusted: { type: 'vector', perRound: true, description: 'the trusted vector (give trusted or trustedIndex)' },
        trustedIndex: { type: 'integer', min: 0, max: Infinity, description: 'index of the trusted client (give trusted or trustedIndex)' },
      },
      run: asRun(monnaWithDecision),
    }),
    rule({
      name: 'flame',
      summary: 'FLAME (Nguyen et al. 2022): HDBSCAN on cosine distances, norm clipping, Gaussian noise',
      randomized: true,
      options: {
        lambda: { type: 'number', min: 0, max: 1, default: 0.001, description: 'noise level λ (0: no noise, no seed needed)' },
        clusterOn: { type: 'enum', values: ['updates', 'models'], default: "'models' with global, else 'updates'", description: 'what is clustered' },
        global: { type: 'vector', perRound: true, description: 'the current global model G' },
        layout: { type: 'object', description: 'the model layout, for per-segment noise' },
        seed: SEED,
        rng: RNG,
      },
      run: asRun(flameWithDecision),
    }),
    rule({
      name: 'foolsGold',
      summary: 'FoolsGold (Fung et al. 2020): clients whose accumulated updates point the same way lose weight',
      randomized: false,
      options: {
        clientIds: { type: 'ids', perRound: true, default: 'positions 0..n−1', description: 'stable id of each client (a round fills it in)' },
        history: { type: 'object', perRound: true, default: 'empty', description: 'the history returned by the previous round' },
        kappa: { type: 'number', min: 0, max: 1e6, exclusiveMin: true, default: 1, description: 'confidence κ of the logit' },
      },
      run: asRun(foolsGoldWithDecision),
    }),
    rule({
      name: 'dnc',
      summary: 'Divide-and-Conquer (Shejwalkar & Houmansadr 2021): spectral filtering on random coordinate subsamples',
      requires: 'n ≥ f+1',
      randomized: true,
      options: {
        f: f('n ≥ f+1'),
        iterations: { type: 'integer', min: 1, max: 100, default: 5, description: 'random coordinate subsamples' },
        subsampleDimension: { type: 'integer', min: 1, max: Infinity, default: 'min(d, 10 000)', description: 'coordinates per subsample' },
        filterFraction: { type: 'number', min: 0, max: Infinity, default: 1, description: 'each subsample removes the ⌈c·f⌉ highest scores' },
        seed: SEED,
        rng: RNG,
      },
      run: asRun(dncWithDecision),
    }),
    rule({
      name: 'caf',
      summary: 'CAF (Allouah et al. 2024): covariance-bound agnostic filter',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: { f: f('n ≥ 2f+1') },
      run: asRun(cafWithDecision),
    }),
    rule({
      name: 'signGuard',
      summary: 'SignGuard (Xu et al. 2022): norm filter and sign-statistics clustering',
      randomized: true,
      options: {
        lowerRatio: { type: 'number', min: 0, max: Infinity, default: 0.1, description: 'norm filter lower ratio' },
        upperRatio: { type: 'number', min: 0, max: Infinity, default: 3, description: 'norm filter upper ratio (> lowerRatio)' },
        coordinateFraction: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.1, description: 'fraction of coordinates for the sign statistics' },
        bandwidthQuantile: { type: 'number', min: 0, max: 1, default: 0.5, description: 'quantile of the mean-shift bandwidth estimate' },
        clustering: { type: 'enum', values: ['meanShift', 'dbscan', 'kmeans'], default: 'meanShift', description: 'clustering of the sign statistics' },
        eps: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, default: 0.05, description: 'DBSCAN radius (clustering dbscan)' },
        minSamples: { type: 'integer', min: 1, max: 1_000_000, default: 3, description: 'DBSCAN neighbourhood size, the client included (clustering dbscan)' },
        seed: SEED,
        rng: RNG,
      },
      run: asRun(signGuardWithDecision),
    }),
    rule({
      name: 'clippedClustering',
      summary: 'clipped clustering (Li et al. 2023, Blades): clip to the median norm, keep the larger of two clusters',
      randomized: false,
      options: {
        normHistory: { type: 'numbers', perRound: true, default: 'none', description: 'norms of earlier rounds (returned as normHistory)' },
        maxTau: { type: 'number', min: 0, max: Infinity, default: 'Infinity', description: 'upper cap on the clipping bound (Infinity allowed)' },
      },
      run: asRun(clippedClusteringWithDecision),
    }),
    rule({
      name: 'mixTailor',
      summary: 'MixTailor (Ramezani-Kebrya et al. 2022): one rule drawn at random from a pool per call',
      requires: 'n ≥ 4f+3 for the default pool',
      randomized: true,
      options: {
        f: f('builds the default pool; n ≥ 4f+3', false),
        pool: { type: 'stages', description: 'the members: rule names or { name, options } (or functions, in-process only)' },
        probabilities: { type: 'numbers', description: 'one draw weight ≥ 0 per member' },
        seed: SEED,
        rng: RNG,
      },
      run: (updates, options) => {
        const pool = options.pool;
        const resolved = pool === undefined ? undefined : resolvePool(pool as readonly unknown[]);
        return mixTailorWithDecision(updates, { ...options, ...(resolved === undefined ? {} : { pool: resolved }) }) as RuleResult;
      },
    }),
    rule({
      name: 'flDetector',
      summary: 'FLDetector (Zhang et al. 2022): flags clients inconsistent with an L-BFGS prediction from their history',
      randomized: true,
      options: {
        globalModel: { type: 'vector', required: true, perRound: true, description: 'the global model the clients trained on this round' },
        state: { type: 'object', perRound: true, default: 'none (first round)', description: 'the state returned by the previous round' },
        window: { type: 'integer', min: 1, max: 100, default: 10, description: 'window N of the L-BFGS pairs and score averages' },
        maxClusters: { type: 'integer', min: 2, max: 20, default: 10, description: 'most clusters of the gap statistic' },
        references: { type: 'integer', min: 1, max: 200, default: 20, description: 'uniform reference sets B of the gap statistic' },
        aggregator: { type: 'stage', default: 'coordinateMedian', description: 'the rule over the clients not flagged: a name or { name, options }' },
        seed: SEED,
        rng: RNG,
      },
      run: (updates, options) => {
        const agg = options.aggregator;
        const resolved = agg === undefined || typeof agg === 'function' ? agg : stageAggregator(agg, 'flDetector: aggregator');
        return flDetectorWithDecision(updates, { ...options, ...(resolved === undefined ? {} : { aggregator: resolved }) } as never) as RuleResult;
      },
    }),
    {
      name: 'nnm',
      kind: 'preAggregator',
      summary: 'nearest-neighbour mixing (Allouah et al. 2023): each update replaced by the mean of its n−f nearest',
      requires: 'n ≥ 2f+1',
      randomized: false,
      options: { f: f('n ≥ 2f+1') },
      pre: nnm as unknown as PreRun,
    },
    {
      name: 'bucketing',
      kind: 'preAggregator',
      summary: 'bucketing (Karimireddy et al. 2022): means of random buckets of s updates',
      randomized: true,
      options: {
        bucketSize: { type: 'integer', min: 1, max: 2 ** 53, default: 2, description: 'bucket size s' },
        seed: SEED,
        rng: RNG,
      },
      pre: bucketing as unknown as PreRun,
    },
    {
      name: 'clipping',
      kind: 'preAggregator',
      summary: 'static norm clipping: every update scaled to norm at most τ',
      randomized: false,
      options: { tau: { type: 'number', min: 0, max: Infinity, exclusiveMin: true, required: true, description: 'the norm bound τ > 0' } },
      pre: clipping as unknown as PreRun,
    },
    {
      name: 'arc',
      kind: 'preAggregator',
      summary: 'adaptive robust clipping (Allouah et al. 2024): the largest updates clipped to the next norm',
      requires: 'n ≥ f+1',
      randomized: false,
      options: { f: f('n ≥ f+1') },
      pre: arc as unknown as PreRun,
    },
    {
      name: 'pipeline',
      kind: 'pipeline',
      summary: 'pre-aggregators then an aggregator, each by name: { pre: [stages], aggregator: stage }',
      randomized: false,
      options: {
        pre: { type: 'stages', default: 'none', description: 'pre-aggregators applied in order: names or { name, options }' },
        aggregator: { type: 'stage', required: true, description: 'the final aggregator: a name or { name, options }' },
      },
      run: runPipeline,
      probe: () => {
        throw new RobustAggError('UNKNOWN_OPTION', 'pipeline: unknown option (known: pre, aggregator)');
      },
    },
  ];
}

let entriesCache: readonly Entry[] | null = null;
let byNameCache: Map<string, Entry> | null = null;

function entries(): readonly Entry[] {
  return (entriesCache ??= buildEntries());
}

function byName(name: string): Entry | undefined {
  byNameCache ??= new Map(entries().map((e) => [e.name, e]));
  return byNameCache.get(name);
}

/** Accepted option keys of each rule as the rule itself reports them (cached). */
const acceptedCache = /* @__PURE__ */ new Map<string, readonly string[] | null>();

/** A key no rule accepts, to make a rule list the ones it does. */
const PROBE_KEY = '\u0000probe';

/**
 * The option keys `name` itself accepts, read from the `UNKNOWN_OPTION` error it throws for an
 * options object holding only an unknown key (every rule reads its options first, with
 * `readOptions`, whose message lists the known keys). Null when the rule did not answer that way.
 *
 * @internal
 */
export function ruleAcceptedKeys(name: string): readonly string[] | null {
  const cached = acceptedCache.get(name);
  if (cached !== undefined) return cached;
  const entry = byName(name);
  let keys: readonly string[] | null = null;
  if (entry !== undefined) {
    try {
      const opts = { [PROBE_KEY]: 0 };
      if (entry.probe !== undefined) entry.probe(opts);
      else if (entry.run !== undefined) entry.run(oneRow(), opts);
      else entry.pre!(oneRow(), opts);
    } catch (e) {
      const match = e instanceof RobustAggError && e.code === 'UNKNOWN_OPTION' ? /\(known: (.*)\)$/.exec(e.message) : null;
      if (match !== null) keys = match[1] === 'none' ? [] : match[1].split(', ');
    }
  }
  acceptedCache.set(name, keys);
  return keys;
}

/** The full option schema of an entry: its own options, `weights` when the rule takes them, `nonFinite`. */
function schemaOf(entry: Entry): Record<string, OptionSchema> {
  const out: Record<string, OptionSchema> = { ...entry.options };
  const accepted = ruleAcceptedKeys(entry.name);
  if (accepted?.includes('weights')) out.weights = WEIGHTS;
  if (entry.kind !== 'pipeline') out.nonFinite = NON_FINITE;
  return out;
}

const infoCache = /* @__PURE__ */ new Map<string, AggregatorInfo>();

function infoOf(entry: Entry): AggregatorInfo {
  let info = infoCache.get(entry.name);
  if (info === undefined) {
    const options = schemaOf(entry);
    info = Object.freeze({
      name: entry.name,
      kind: entry.kind,
      summary: entry.summary,
      ...(entry.requires === undefined ? {} : { requires: entry.requires }),
      options: Object.freeze(options),
      weights: 'weights' in options,
      randomized: entry.randomized,
    });
    infoCache.set(entry.name, info);
  }
  return info;
}

/**
 * Every rule the registry knows — the aggregators, the pre-aggregators and `'pipeline'` — with
 * its option schema: each key's type, range, default, whether it is required or changes per round,
 * and whether the rule takes client weights (`weights`). This is what a config file or a server
 * can choose from by name with {@link createAggregator}.
 *
 * @returns one {@link AggregatorInfo} per rule, aggregators first (frozen objects).
 * @example
 * ```ts
 * import { listAggregators } from 'robust-agg';
 *
 * for (const info of listAggregators().filter((r) => r.kind === 'aggregator')) {
 *   console.log(info.name, Object.keys(info.options).join(', '), info.weights ? '(weighted)' : '');
 * }
 * const krum = listAggregators().find((r) => r.name === 'krum')!;
 * console.log(krum.requires, krum.options.f); // n ≥ 2f+3 { type: 'integer', min: 0, … required: true }
 * ```
 * @category Server
 */
export function listAggregators(): AggregatorInfo[] {
  return entries().map(infoOf);
}

/**
 * The registry's entry for `name`, or throws `INVALID_OPTION` naming the known rules.
 *
 * @internal
 */
export function registryEntry(name: unknown, who = 'createAggregator'): { info: AggregatorInfo; entry: Entry } {
  const entry = typeof name === 'string' ? byName(name) : undefined;
  if (entry === undefined) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${who}: unknown rule ${describeValue(name)} (known: ${entries().map((e) => e.name).join(', ')})`,
    );
  }
  return { info: infoOf(entry), entry };
}

/** Checks one option value against its schema; throws `INVALID_OPTION` naming the rule and key. */
function checkValue(rule: string, key: string, s: OptionSchema, v: unknown): void {
  const bad = (what: string): never => {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${key} must be ${what}, got ${describeValue(v)}`);
  };
  switch (s.type) {
    case 'integer':
    case 'number': {
      const lo = s.min ?? -Infinity;
      const hi = s.max ?? Infinity;
      const range = `${s.exclusiveMin ? '(' : '['}${lo}, ${hi}]`;
      const what = `${s.type === 'integer' ? 'an integer' : 'a number'} in ${range}`;
      if (typeof v !== 'number' || Number.isNaN(v)) bad(what);
      const n = v as number;
      if (s.type === 'integer' && !Number.isInteger(n)) bad(what);
      if (!Number.isFinite(n) && !(n === Infinity && hi === Infinity && s.type === 'number' && lo > -Infinity)) bad(what);
      if (n < lo || n > hi || (s.exclusiveMin === true && n === lo)) bad(what);
      return;
    }
    case 'enum':
      if (!s.values!.includes(v as string)) bad(`one of ${s.values!.join(', ')}`);
      return;
    case 'enumList':
      if (!Array.isArray(v) || v.some((x) => !s.values!.includes(x as string))) bad(`an array of ${s.values!.join(', ')}`);
      return;
    case 'vector':
      if (!isFloat32Array(v) || v.length === 0 || !isFiniteVector(v)) bad('a non-empty finite Float32Array');
      return;
    case 'weights': {
      if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') bad('an array of weights ≥ 0');
      const w = v as ArrayLike<unknown>;
      for (let i = 0; i < w.length; i++) {
        const x = w[i];
        if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
          throw new RobustAggError('INVALID_OPTION', `${rule}: weight of client ${i} must be finite and ≥ 0, got ${describeValue(x)}`);
        }
      }
      return;
    }
    case 'numbers':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || Number.isNaN(x))) bad('an array of numbers');
      return;
    case 'ids':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number')) bad('an array of client ids (strings or numbers)');
      return;
    case 'object':
      if (v === null || typeof v !== 'object') bad('an object');
      return;
    case 'rng':
      if (v === null || typeof v !== 'object' || typeof (v as { next?: unknown }).next !== 'function') bad('a generator { next(): number }');
      return;
    case 'stages':
      if (!Array.isArray(v) || v.length === 0) bad('a non-empty array of rule names or { name, options }');
      return;
    case 'stage':
      return;
  }
}

/**
 * Reads and checks an options object against the rule's schema: unknown keys throw
 * `UNKNOWN_OPTION` naming the key and the accepted ones (the rules' own `readOptions`), each value
 * is read once and checked for its type and range; required keys must be present unless
 * `partial`. Returns the frozen snapshot.
 *
 * @internal
 */
export function checkOptions(
  info: AggregatorInfo,
  options: unknown,
  partial = false,
): Readonly<Record<string, unknown>> {
  const keys = Object.keys(info.options);
  const snapshot = readOptions(info.name, options as Record<string, unknown> | undefined, keys) as Record<string, unknown>;
  for (const key of keys) {
    const s = info.options[key];
    if (key in snapshot) checkValue(info.name, key, s, snapshot[key]);
    else if (s.required === true && !partial) {
      throw new RobustAggError('INVALID_OPTION', `${info.name}: option ${key} is required (${s.description})`);
    }
  }
  if (info.name === 'pipeline') {
    if ('pre' in snapshot) resolveStages(snapshot.pre as readonly unknown[], 'preAggregator', 'pipeline: pre');
    if ('aggregator' in snapshot) resolveStage(snapshot.aggregator, 'aggregator', 'pipeline: aggregator');
  }
  if (info.name === 'mixTailor' && 'pool' in snapshot) resolvePool(snapshot.pool as readonly unknown[]);
  if (info.name === 'flDetector' && typeof snapshot.aggregator !== 'function' && 'aggregator' in snapshot) {
    resolveStage(snapshot.aggregator, 'aggregator', 'flDetector: aggregator');
  }
  return Object.freeze(snapshot);
}

interface Stage {
  readonly name: string;
  readonly entry: Entry;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A stage given as a name or `{ name, options }`, resolved and checked. */
function resolveStage(value: unknown, kind: AggregatorInfo['kind'], where: string): Stage {
  const spec = typeof value === 'string' ? { name: value } : value;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new RobustAggError('INVALID_OPTION', `${where} must be a rule name or { name, options }, got ${describeValue(value)}`);
  }
  const s = readOptions(where, spec as { name?: unknown; options?: unknown }, ['name', 'options']);
  const { info, entry } = registryEntry(s.name, where);
  if (info.kind !== kind) {
    throw new RobustAggError('INVALID_OPTION', `${where}: '${info.name}' is ${info.kind === 'preAggregator' ? 'a pre-aggregator' : `an ${info.kind}`}, expected ${kind === 'preAggregator' ? 'a pre-aggregator' : 'an aggregator'}`);
  }
  return { name: info.name, entry, options: checkOptions(info, s.options) };
}

function resolveStages(value: readonly unknown[], kind: AggregatorInfo['kind'], where: string): Stage[] {
  if (!Array.isArray(value)) throw new RobustAggError('INVALID_OPTION', `${where} must be an array, got ${describeValue(value)}`);
  return value.map((v, k) => resolveStage(v, kind, `${where}[${k}]`));
}

/** MixTailor's pool given by names: members `{ name, rule }`; functions and members pass through. */
function resolvePool(pool: readonly unknown[]): (Aggregator | MixTailorMember)[] {
  if (!Array.isArray(pool)) throw new RobustAggError('INVALID_OPTION', `mixTailor: pool must be an array, got ${describeValue(pool)}`);
  return pool.map((m, k) => {
    if (typeof m === 'function') return m as Aggregator;
    if (m !== null && typeof m === 'object' && typeof (m as { rule?: unknown }).rule === 'function') return m as MixTailorMember;
    const stage = resolveStage(m, 'aggregator', `mixTailor: pool[${k}]`);
    const agg = createAggregator(stage.name, stage.options);
    const label = Object.keys(stage.options).length === 0 ? stage.name : `${stage.name}(${JSON.stringify(stage.options)})`;
    return { name: label, rule: agg };
  });
}

/** A stage given by name bound to its options, as an {@link Aggregator}. */
function stageAggregator(value: unknown, where: string): Aggregator {
  const stage = resolveStage(value, 'aggregator', where);
  return createAggregator(stage.name, stage.options);
}

/** Runs a pipeline configured by names: the pre-aggregators in order, then the aggregator's decision. */
function runPipeline(updates: Updates, options: Record<string, unknown>): RuleResult {
  const pre = options.pre === undefined ? [] : resolveStages(options.pre as readonly unknown[], 'preAggregator', 'pipeline: pre');
  const last = resolveStage(options.aggregator, 'aggregator', 'pipeline: aggregator');
  let rows: Updates = updates;
  for (const stage of pre) rows = stage.entry.pre!(rows, { ...stage.options });
  const inner = last.entry.run!(rows, { ...last.options });
  const name = [...pre.map((s) => s.name), last.name].join(' → ');
  // The stages drop non-finite rows themselves; the pipeline reports which input clients they were.
  const dropped: number[] = [];
  for (let i = 0; i < updates.length; i++) if (!isFiniteVector(updates[i])) dropped.push(i);
  return {
    aggregate: inner.aggregate,
    decision: { rule: `pipeline(${name})`, n: updates.length, dropped, stages: inner.decision } as Decision,
  };
}

/**
 * Chooses a rule by name and binds it to its options, checking them at once: an unknown rule or
 * option key throws (`INVALID_OPTION` naming the known rules, `UNKNOWN_OPTION` naming the key and
 * the accepted ones — the same check every rule makes), and each value is checked against the
 * rule's schema (type, range, required keys; checks that need n or d happen at the call). For
 * config-driven experiments and servers: `createAggregator(config.rule, config.options)`.
 *
 * Names are the functions' names (`'krum'`, `'multiKrum'`, `'geometricMedian'`, …; see
 * {@link listAggregators}). `'pipeline'` composes pre-aggregators and an aggregator by name
 * (`{ pre: [{ name: 'nnm', options: { f: 2 } }], aggregator: { name: 'krum', options: { f: 2 } } }`);
 * `'mixTailor'` takes its `pool` as names or `{ name, options }` too. Pre-aggregators cannot be
 * created on their own (they return m updates, not an aggregate): use them in a pipeline.
 *
 * @param name - the rule's name, see {@link listAggregators}.
 * @param options - the rule's options (each key read once into a frozen snapshot). Default none.
 * @returns the rule bound to its options: callable like any aggregator, with `withDecision`.
 * @example
 * ```ts
 * import { createAggregator, RobustAggError } from 'robust-agg';
 *
 * const updates = [
 *   Float32Array.of(1, 0), Float32Array.of(1.1, 0.1), Float32Array.of(0.9, -0.1),
 *   Float32Array.of(1, 0.05), Float32Array.of(1.05, 0), Float32Array.of(0.95, 0.02),
 *   Float32Array.of(50, -50),
 * ];
 * const config = { rule: 'multiKrum', options: { f: 1 } }; // e.g. from a JSON file
 * const agg = createAggregator(config.rule, config.options);
 * console.log(agg(updates));                           // the mean of the 6 best-scored clients
 * console.log(agg.withDecision(updates).decision.selected); // [0, 1, 2, 3, 4, 5]
 *
 * try {
 *   createAggregator('geometricMedian', { tol: 1e-6 }); // a typo for tolerance
 * } catch (e) {
 *   console.log((e as RobustAggError).code, (e as RobustAggError).message); // UNKNOWN_OPTION, names tol and the known keys
 * }
 * ```
 * @category Server
 */
export function createAggregator(name: string, options?: Readonly<Record<string, unknown>>): ConfiguredAggregator {
  const { info, entry } = registryEntry(name);
  if (info.kind === 'preAggregator') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `createAggregator: '${name}' is a pre-aggregator (it returns updates, not an aggregate); use it in 'pipeline' ({ pre: ['${name}'], aggregator: … })`,
    );
  }
  const configured = checkOptions(info, options);
  const run = entry.run!;
  const withDecision = (updates: Updates, perRound?: Readonly<Record<string, unknown>>): RuleResult => {
    if (perRound === undefined) return run(updates, { ...configured });
    const extra = checkOptions(info, perRound, true);
    return run(updates, { ...configured, ...extra });
  };
  const agg = ((updates: readonly Float32Array[]) => withDecision(updates).aggregate) as ConfiguredAggregator;
  Object.defineProperties(agg, {
    ruleName: { value: info.name, enumerable: true },
    options: { value: configured, enumerable: true },
    info: { value: info, enumerable: true },
    withDecision: { value: withDecision, enumerable: true },
  });
  return agg;
}

/**
 * Runs rule `name` with `options` (already merged and meant to be checked by the rule itself):
 * what a worker and a round call.
 *
 * @internal
 */
export function runByName(name: string, updates: Updates, options: Record<string, unknown>): RuleResult {
  const { info, entry } = registryEntry(name);
  if (info.kind === 'preAggregator') createAggregator(name); // throws the explanation
  const checked = checkOptions(info, options);
  return entry.run!(updates, { ...checked });
}
