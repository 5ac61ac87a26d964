import type { Aggregation, Aggregator, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients } from '../core/finite-clients.js';
import { lbfgsHvp } from '../core/lbfgs-hvp.js';
import { describeValue, readOptions, requireInteger, requireVector, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions, type Rng } from '../core/random.js';
import { isFloat32Array, type Updates } from '../core/updates.js';
import { gapStatistic, twoMeansThreshold } from '../clustering/gap-statistic.js';
import { isFiniteVector } from '../kernels/finite.js';
import { coordinateMedian } from './coordinate-median.js';

/** Largest window N {@link flDetector} accepts (the state holds 2N vectors of length d, plus n). */
export const FL_DETECTOR_MAX_WINDOW = 100;

/**
 * What {@link flDetector} remembers between rounds: an explicit, immutable value (never mutated;
 * each call returns a new one), made of numbers, `Float32Array`s and `Float64Array`s only, so it
 * survives `structuredClone` and `postMessage` as it is, and JSON through
 * {@link flDetectorStateToJSON} / {@link flDetectorStateFromJSON}. Start with `undefined` (or
 * omit `state`). Clients are identified by their position in `updates`: pass the same n clients
 * in the same order every round.
 */
export interface FlDetectorState {
  /** Format version: 1. */
  readonly version: 1;
  /** Number of clients n the state was built for. */
  readonly n: number;
  /** Length d of every update and model. */
  readonly d: number;
  /** Rounds aggregated with this state so far. */
  readonly round: number;
  /** The global model w^{t−1} of the previous round (null before the first round). */
  readonly previousModel: Float32Array | null;
  /** The previous round's aggregate g^{t−1} (null before the first round). */
  readonly previousAggregate: Float32Array | null;
  /**
   * The previous round's client updates g_i^{t−1}, n rows (null before the first round); a client
   * that sent NaN or ±Infinity keeps its last finite update (a zero vector if it never sent one).
   */
  readonly previousUpdates: readonly Float32Array[] | null;
  /** Up to N global-model differences sⱼ = w^j − w^{j−1}, oldest first (float64). */
  readonly modelDiffs: readonly Float64Array[];
  /** The matching aggregate differences yⱼ = g^j − g^{j−1}, oldest first (float64). */
  readonly aggregateDiffs: readonly Float64Array[];
  /** Up to N rounds of normalised prediction errors, oldest first, each of length n. */
  readonly roundScores: readonly Float64Array[];
}

/** Options of {@link flDetector}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface FlDetectorOptions extends CommonOptions, RandomOptions {
  /**
   * The global model w^t the clients computed this round's updates on: a finite `Float32Array`
   * of length d. Required: the Hessian approximation works on model differences.
   */
  globalModel: Float32Array;
  /** The state returned by the previous round's call; omit it (or pass `undefined`) in the first round. */
  state?: FlDetectorState;
  /**
   * Window N: the number of (model difference, aggregate difference) pairs of the L-BFGS
   * approximation and the number of rounds each suspicious score averages. An integer in
   * [1, {@link FL_DETECTOR_MAX_WINDOW}]. Default 10 (the paper and FLPoison).
   */
  window?: number;
  /**
   * Largest number of clusters the gap statistic considers: an integer in [2, 20] (capped at the
   * number of finite clients minus one). Default 10 (FLPoison; the authors' code uses 7).
   */
  maxClusters?: number;
  /**
   * B, the number of uniform reference sets of the gap statistic: an integer in [1, 200].
   * Default 20 (FLPoison; the authors' code uses 10).
   */
  references?: number;
  /**
   * The robust rule that aggregates the clients not flagged, bound to its options. Default
   * `coordinateMedian` (the authors' code's default; FLPoison averages). Its output must be a
   * finite `Float32Array` of length d, or the call throws `INVALID_OPTION`.
   */
  aggregator?: Aggregator;
}

/** Decision of {@link flDetector}. */
export interface FlDetectorDecision extends Decision {
  /** Clients passed to the aggregator: the finite clients not flagged (ascending). */
  readonly selected: readonly number[];
  /** Clients in the cluster of larger suspicious scores when an attack is detected (ascending). */
  readonly flagged: readonly number[];
  /** Whether the gap statistic found more than one cluster of suspicious scores this round. */
  readonly attackDetected: boolean;
  /** The gap statistic's number of clusters (0 when it did not run: fewer than N scores yet). */
  readonly clusters: number;
  /** Whether this round predicted the clients' updates (the window of N pairs was full). */
  readonly predicted: boolean;
  /**
   * Whether the Hessian-vector product was undefined (a degenerate window: zero or
   * linearly dependent model differences, zero curvature) and the prediction fell back to the
   * client's previous update (H·Δw taken as 0).
   */
  readonly hvpFallback: boolean;
  /**
   * This round's prediction errors ‖ĝᵢ − gᵢ‖ divided by their sum over the finite clients
   * (1 for a dropped client), length n; null when the round made no prediction.
   */
  readonly roundScores: Float64Array | null;
  /** Suspicious scores: the mean of the last N round scores per client; null before N rounds of scores. */
  readonly scores: Float64Array | null;
}

/** What {@link flDetectorWithDecision} returns: the aggregation and the next state. */
export interface FlDetectorAggregation extends Aggregation<FlDetectorDecision> {
  /** The state to pass as `state` in the next round. */
  readonly state: FlDetectorState;
}

/**
 * FLDetector (Zhang, Cao, Jia & Gong, "FLDetector: Defending federated learning against model
 * poisoning attacks via detecting malicious clients", KDD 2022): flags clients whose updates are
 * inconsistent with a prediction from their own history. Each round t, with the global model w^t:
 * 1. predict each client's update from its previous one, ĝᵢ^t = gᵢ^{t−1} + Ĥ^t (w^t − w^{t−1}),
 *    where Ĥ^t v is the L-BFGS Hessian-vector product (compact form, Byrd, Nocedal & Schnabel
 *    1994) built from the last N pairs (w^j − w^{j−1}, g^j − g^{j−1}) of global-model and
 *    global-aggregate differences;
 * 2. round score dᵢ^t = ‖ĝᵢ^t − gᵢ^t‖ / Σⱼ ‖ĝⱼ^t − gⱼ^t‖; suspicious score sᵢ^t = the mean of
 *    dᵢ over the last N rounds;
 * 3. the gap statistic (Tibshirani et al. 2001) on the scores, min-max normalised, with B uniform
 *    reference sets: more than one cluster means an attack; then 2-means on the scores and the
 *    cluster with the larger mean is flagged;
 * 4. the output is `aggregator` (default coordinate median) over the finite clients not flagged,
 *    and g^t is that output.
 * Needs no f. Stateful: the state is an explicit value passed in and returned.
 *
 * Timeline with window N: round 0 stores the first model; pairs accumulate from round 1; the
 * first prediction is in round N + 1 (the window of pairs is full), the first detection in round
 * 2N (N round scores). Until then every finite client is aggregated.
 *
 * Our choices where the paper leaves room: k-means in 1-D is solved exactly (dynamic programming
 * over the sorted scores; scikit-learn's Lloyd iterations with random starts approximate it),
 * equal scores always share a cluster, and on an exact tie the smaller upper cluster is flagged;
 * Gap(k) averages log W* over the references as Tibshirani et al. define it (the authors' code and
 * FLPoison take the log of the mean W*); when no k satisfies the gap rule, maxClusters is taken
 * (attack), as FLPoison does. The paper removes flagged clients for good and restarts training;
 * this rule flags per round and leaves that decision to the caller (`decision.flagged`). A
 * degenerate window (Ĥ undefined) predicts ĝᵢ = gᵢ^{t−1} (`decision.hvpFallback`).
 *
 * Hostile clients: a client that sends NaN or ±Infinity is dropped (never aggregated) and gets
 * round score 1, the largest a share can be; its last finite update stays in the state. Finite
 * updates up to ±3.4·10³⁸ give finite errors (float64, norms scaled by their largest
 * coordinate); a client cannot change another client's prediction error, only the shares. Until the
 * first detection the output is the aggregator's over all finite clients, so the default
 * (coordinate median) keeps its guarantee for a minority of attackers. The flagged cluster can
 * hold honest clients when attackers are more self-consistent than they (the paper's adaptive
 * attacks): the aggregator is the second line of defence.
 *
 * Limits: N ≤ 100; maxClusters ≤ 20; B ≤ 200. Cost per round: one copy of the n updates into the
 * state, 2N dot products and axpys over d for Ĥv, one pass for the n errors, O((B + 1)·K·n log n)
 * for the gap statistic, and the aggregator.
 *
 * @param updates - this round's n client updates (gradients or model deltas, one sign convention
 *   throughout), each a `Float32Array` of length d; not modified. Clients holding NaN or ±Inf are
 *   dropped (or throw, see `nonFinite`).
 * @param options - see {@link FlDetectorOptions}: `globalModel` (required), `state` (default: a
 *   first round), `seed` or `rng` (required: the gap statistic's references are random),
 *   `window` (N in [1, 100]; default 10), `maxClusters` ([2, 20]; default 10), `references` (B in
 *   [1, 200]; default 20), `aggregator` (default coordinate median), `nonFinite` (default `'drop'`).
 * @returns the aggregate of the clients not flagged, a new `Float32Array` of length d (use
 *   {@link flDetectorWithDecision} to carry the state across rounds).
 * @example
 * ```ts
 * import { flDetector } from 'robust-agg';
 *
 * // One round without a state: nothing to predict yet, so this is the coordinate median.
 * const updates = [Float32Array.of(1, 2), Float32Array.of(1.1, 2.1), Float32Array.of(-9, 40)];
 * console.log(flDetector(updates, { globalModel: new Float32Array(2), seed: 1 })); // ≈ [1, 2.1], the median
 * ```
 */
export function flDetector(updates: Updates, options: FlDetectorOptions): Float32Array {
  return flDetectorWithDecision(updates, options).aggregate;
}

/**
 * {@link flDetector} together with its {@link FlDetectorDecision} and the next
 * {@link FlDetectorState}.
 *
 * @param updates - this round's n client updates, each a `Float32Array` of length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link FlDetectorOptions}: `globalModel` (required), `state`, `seed` or
 *   `rng` (required), `window` (default 10), `maxClusters` (default 10), `references` (default
 *   20), `aggregator` (default coordinate median), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { createRng, flDetectorWithDecision, type FlDetectorState } from 'robust-agg';
 *
 * // A quadratic loss ½‖w − w*‖² seen by 8 clients with noisy gradients; client 0 sends a
 * // gradient that jumps around (model poisoning that is inconsistent across rounds).
 * const rng = createRng(3);
 * const d = 20;
 * const target = Float32Array.from({ length: d }, (_, k) => Math.sin(k));
 * let w = new Float32Array(d);
 * let state: FlDetectorState | undefined;
 * for (let round = 0; round < 14; round++) {
 *   const updates = Array.from({ length: 8 }, (_, i) =>
 *     Float32Array.from(w, (wk, k) => (i === 0 ? 5 * rng.gaussian() : wk - target[k] + 0.01 * rng.gaussian())),
 *   );
 *   const result = flDetectorWithDecision(updates, { globalModel: w, state, window: 4, rng });
 *   state = result.state;
 *   w = Float32Array.from(w, (wk, k) => wk - 0.2 * result.aggregate[k]);
 *   if (result.decision.attackDetected) console.log(round, result.decision.flagged); // rounds 8…13: [0]
 * }
 * ```
 */
export function flDetectorWithDecision(updates: Updates, options: FlDetectorOptions): FlDetectorAggregation {
  const rule = 'flDetector';
  const { opts, window, maxClusters, references } = readFlDetectorOptions(rule, options);
  const aggregator = opts.aggregator ?? coordinateMedian;
  if (typeof aggregator !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: aggregator must be a function (updates) => Float32Array, got ${describeValue(aggregator)}`);
  }
  const rng = resolveValidRng(opts, rule);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { n, d, rows } = clients;
  if (opts.globalModel === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: globalModel (the model w^t this round's updates were computed on) is required`);
  }
  const model = requireVector(rule, 'globalModel', opts.globalModel, d);
  const state = opts.state === undefined ? null : checkState(rule, 'state', opts.state, n, d);
  if (state !== null && state.modelDiffs.length > window) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: state holds ${state.modelDiffs.length} pairs, more than window=${window}; keep the window the same across rounds`,
    );
  }
  const m = rows.length;

  // 1-2. Predict each client's update and score the errors (needs a full window of pairs).
  let roundScores: Float64Array | null = null;
  let hvpFallback = false;
  if (state !== null && state.previousModel !== null && state.previousUpdates !== null && state.modelDiffs.length === window) {
    const v = new Float64Array(d);
    for (let k = 0; k < d; k++) v[k] = model[k] - state.previousModel[k];
    let hvp = lbfgsHvp(state.modelDiffs, state.aggregateDiffs, v);
    if (hvp === null) {
      hvpFallback = true;
      hvp = new Float64Array(d);
    }
    const errors = new Float64Array(m);
    for (let r = 0; r < m; r++) errors[r] = predictionError(state.previousUpdates[clients.index[r]], hvp, rows[r]);
    roundScores = flDetectorRoundScores(errors, clients.index, n);
  }

  // 3. Window scores, gap statistic and 2-means; the kept clients.
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
  const rowOf = new Map(clients.index.map((i, r) => [i, rows[r]]));
  const keptRows = selected.map((i) => rowOf.get(i) as Float32Array);

  // 4. Aggregate the kept clients.
  const out: unknown = aggregator(keptRows);
  if (!isFloat32Array(out) || out.length !== d || !isFiniteVector(out)) {
    const got = isFloat32Array(out) ? (out.length !== d ? `length ${out.length}` : 'NaN or ±Infinity') : describeValue(out);
    throw new RobustAggError('INVALID_OPTION', `${rule}: aggregator must return a finite Float32Array of length d=${d}, got ${got}`);
  }
  const aggregate = updates.includes(out) ? Float32Array.from(out) : out;

  // Next state: the pair (w^t − w^{t−1}, g^t − g^{t−1}), this round's updates and scores.
  const next = flDetectorNextState(state, model, aggregate, rows, clients.index, n, d, window, windowScores);
  return {
    aggregate,
    decision: {
      rule,
      n,
      dropped: clients.dropped,
      selected,
      flagged,
      attackDetected: clusters >= 2,
      clusters,
      predicted: roundScores !== null,
      hvpFallback,
      roundScores,
      scores,
    },
    state: next,
  };
}

/**
 * FLDetector's options object read; window, maxClusters and references checked. Shared by
 * flDetector and the sharded coordinator.
 *
 * @internal
 */
export function readFlDetectorOptions(
  rule: string,
  options: FlDetectorOptions | undefined,
): { opts: Partial<FlDetectorOptions>; window: number; maxClusters: number; references: number } {
  const opts = readOptions(rule, options, [
    'globalModel',
    'state',
    'window',
    'maxClusters',
    'references',
    'aggregator',
    'seed',
    'rng',
    'nonFinite',
  ]);
  const window = requireInteger(rule, 'window', opts.window ?? 10, 1, FL_DETECTOR_MAX_WINDOW);
  const maxClusters = requireInteger(rule, 'maxClusters', opts.maxClusters ?? 10, 2, 20);
  const references = requireInteger(rule, 'references', opts.references ?? 20, 1, 200);
  return { opts, window, maxClusters, references };
}

/**
 * This round's scores from the prediction errors of the finite clients (input indices `index`):
 * each error's share of their sum (1/m when the sum is 0), 1 for the other clients. Shared by
 * flDetector and the sharded coordinator.
 *
 * @internal
 */
export function flDetectorRoundScores(errors: Float64Array, index: readonly number[], n: number): Float64Array {
  const m = errors.length;
  const roundScores = new Float64Array(n).fill(1);
  const total = sumScaled(errors);
  for (let r = 0; r < m; r++) roundScores[index[r]] = total.sum > 0 ? share(errors[r], total) : 1 / m;
  return roundScores;
}

/**
 * Step 3 of FLDetector: the window of round scores, their average, the gap statistic and the
 * 2-means threshold (the flagged clients), and the kept clients (input indices, ascending): the
 * finite clients not flagged, or all of them when every one is (then the flagged list keeps only
 * the others). Shared by flDetector and the sharded coordinator.
 *
 * @internal
 */
export function flDetectorFlags(
  pastScores: readonly Float64Array[],
  roundScores: Float64Array | null,
  window: number,
  n: number,
  maxClusters: number,
  references: number,
  rng: Rng,
  index: readonly number[],
): { windowScores: Float64Array[]; scores: Float64Array | null; clusters: number; flagged: number[]; selected: number[] } {
  // 3. Window scores, gap statistic and 2-means.
  const windowScores = roundScores === null ? pastScores.slice(-window) : [...pastScores, roundScores].slice(-window);
  let scores: Float64Array | null = null;
  let clusters = 0;
  let flagged: number[] = [];
  if (roundScores !== null && windowScores.length === window) {
    scores = new Float64Array(n);
    for (const s of windowScores) for (let i = 0; i < n; i++) scores[i] += s[i] / window;
    const gap = gapStatistic(scores, maxClusters, references, rng);
    clusters = gap.k;
    if (gap.k >= 2) {
      const threshold = twoMeansThreshold(scores);
      if (threshold !== null) for (let i = 0; i < n; i++) if (scores[i] >= threshold) flagged.push(i);
    }
  }
  const flaggedSet = new Set(flagged);
  const selected: number[] = [];
  for (const i of index) if (!flaggedSet.has(i)) selected.push(i);
  if (selected.length === 0) {
    // Every finite client is in the flagged cluster (the others were dropped): aggregate them all.
    flagged = flagged.filter((i) => !index.includes(i));
    selected.push(...index);
  }
  return { windowScores: windowScores as Float64Array[], scores, clusters, flagged, selected: selected.sort((a, b) => a - b) };
}

/**
 * The state after a round: the pair (w^t − w^{t−1}, g^t − g^{t−1}) appended (the last `window`
 * kept) when the previous round left a model and an aggregate, this round's model and aggregate,
 * the finite clients' updates (input indices `index`; the others keep theirs, zeros at first)
 * and the window of round scores. Shared by flDetector and the shards of the sharded coordinator
 * (there over a shard's columns, d its width).
 *
 * @internal
 */
export function flDetectorNextState(
  state: FlDetectorState | null,
  model: Float32Array,
  aggregate: Float32Array,
  rows: readonly Float32Array[],
  index: readonly number[],
  n: number,
  d: number,
  window: number,
  windowScores: readonly Float64Array[],
): FlDetectorState {
  const m = rows.length;
  let modelDiffs = state?.modelDiffs ?? [];
  let aggregateDiffs = state?.aggregateDiffs ?? [];
  if (state !== null && state.previousModel !== null && state.previousAggregate !== null) {
    const s = new Float64Array(d);
    const y = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      s[k] = model[k] - state.previousModel[k];
      y[k] = aggregate[k] - state.previousAggregate[k];
    }
    modelDiffs = [...modelDiffs, s].slice(-window);
    aggregateDiffs = [...aggregateDiffs, y].slice(-window);
  }
  const previousUpdates: Float32Array[] = [];
  for (let i = 0; i < n; i++) previousUpdates.push(state?.previousUpdates?.[i] ?? new Float32Array(d));
  for (let r = 0; r < m; r++) previousUpdates[index[r]] = Float32Array.from(rows[r]);
  const next: FlDetectorState = {
    version: 1,
    n,
    d,
    round: (state?.round ?? 0) + 1,
    previousModel: Float32Array.from(model),
    previousAggregate: Float32Array.from(aggregate),
    previousUpdates,
    modelDiffs,
    aggregateDiffs,
    roundScores: windowScores,
  };
  return next;
}

/**
 * ‖(g_prev + hvp) − g‖ in float64, scaled by the largest |difference| so it never overflows.
 * Shared by flDetector and the shards of the sharded coordinator.
 *
 * @internal
 */
export function predictionError(previous: Float32Array, hvp: Float64Array, current: Float32Array): number {
  let largest = 0;
  for (let k = 0; k < current.length; k++) largest = Math.max(largest, Math.abs(previous[k] + hvp[k] - current[k]));
  if (largest === 0 || !Number.isFinite(largest)) return largest === 0 ? 0 : Number.MAX_VALUE;
  let sum = 0;
  for (let k = 0; k < current.length; k++) {
    const t = (previous[k] + hvp[k] - current[k]) / largest;
    sum += t * t;
  }
  return Math.min(Number.MAX_VALUE, largest * Math.sqrt(sum));
}

/** Σ errors as (sum / 2^e)·2^e so that n errors near Number.MAX_VALUE still add up. */
function sumScaled(errors: Float64Array): { sum: number; scale: number } {
  let largest = 0;
  for (const e of errors) largest = Math.max(largest, e);
  if (largest === 0) return { sum: 0, scale: 1 };
  const scale = 2 ** Math.floor(Math.log2(largest));
  let sum = 0;
  for (const e of errors) sum += e / scale;
  return { sum, scale };
}

function share(error: number, total: { sum: number; scale: number }): number {
  return Math.min(1, error / total.scale / total.sum);
}

/**
 * Checks a state value passed in by the caller (or parsed from JSON): shapes, finiteness, lengths.
 * Shared by flDetector and the shards of the sharded coordinator.
 *
 * @internal
 */
export function checkState(rule: string, name: string, value: unknown, n: number, d: number): FlDetectorState {
  const fail = (what: string): never => {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`must be a state returned by flDetectorWithDecision, got ${describeValue(value)}`);
  const s = value as Record<string, unknown>;
  const version = s.version;
  if (version !== 1) fail(`has version ${describeValue(version)}, expected 1`);
  const sn = s.n;
  const sd = s.d;
  if (sn !== n || sd !== d) fail(`was built for n=${describeValue(sn)} clients of length d=${describeValue(sd)}, got n=${n}, d=${d}`);
  const round = s.round;
  if (typeof round !== 'number' || !Number.isInteger(round) || round < 0) fail(`.round must be an integer ≥ 0, got ${describeValue(round)}`);
  const vector = (v: unknown, what: string, nullable: boolean): Float32Array | null => {
    if (v === null && nullable) return null;
    if (!isFloat32Array(v) || v.length !== d || !isFiniteVector(v)) fail(`.${what} must be a finite Float32Array of length d=${d}${nullable ? ' or null' : ''}`);
    return v as Float32Array;
  };
  const previousModel = vector(s.previousModel, 'previousModel', true);
  const previousAggregate = vector(s.previousAggregate, 'previousAggregate', true);
  const pu = s.previousUpdates;
  let previousUpdates: Float32Array[] | null = null;
  if (pu !== null) {
    if (!Array.isArray(pu) || pu.length !== n) fail(`.previousUpdates must be null or an array of n=${n} vectors`);
    previousUpdates = (pu as unknown[]).map((v, i) => vector(v, `previousUpdates[${i}]`, false) as Float32Array);
  }
  if ((previousModel === null) !== (previousAggregate === null) || (previousModel === null) !== (previousUpdates === null)) {
    fail('must hold previousModel, previousAggregate and previousUpdates together (or none)');
  }
  const list = (v: unknown, what: string, length: number): Float64Array[] => {
    if (!Array.isArray(v) || v.length > FL_DETECTOR_MAX_WINDOW) fail(`.${what} must be an array of at most ${FL_DETECTOR_MAX_WINDOW} vectors`);
    return (v as unknown[]).map((x, j) => {
      if (!(x instanceof Float64Array) || x.length !== length) fail(`.${what}[${j}] must be a Float64Array of length ${length}`);
      const f = x as Float64Array;
      for (let k = 0; k < length; k++) if (!Number.isFinite(f[k])) fail(`.${what}[${j}] holds NaN or ±Infinity`);
      return f;
    });
  };
  const modelDiffs = list(s.modelDiffs, 'modelDiffs', d);
  const aggregateDiffs = list(s.aggregateDiffs, 'aggregateDiffs', d);
  if (modelDiffs.length !== aggregateDiffs.length) fail('.modelDiffs and .aggregateDiffs must have the same length');
  const roundScores = list(s.roundScores, 'roundScores', n);
  for (const r of roundScores) for (let i = 0; i < n; i++) if (r[i] < 0 || r[i] > 1) fail('.roundScores must hold shares in [0, 1]');
  return {
    version: 1,
    n,
    d,
    round: round as number,
    previousModel,
    previousAggregate,
    previousUpdates,
    modelDiffs,
    aggregateDiffs,
    roundScores,
  };
}

/** A {@link FlDetectorState} with every typed array replaced by a plain array of numbers. */
export interface FlDetectorStateJSON {
  /** Format version: 1. */
  readonly version: 1;
  /** Number of clients n. */
  readonly n: number;
  /** Length d of every update. */
  readonly d: number;
  /** Rounds aggregated so far. */
  readonly round: number;
  /** {@link FlDetectorState.previousModel} as numbers. */
  readonly previousModel: number[] | null;
  /** {@link FlDetectorState.previousAggregate} as numbers. */
  readonly previousAggregate: number[] | null;
  /** {@link FlDetectorState.previousUpdates} as numbers. */
  readonly previousUpdates: number[][] | null;
  /** {@link FlDetectorState.modelDiffs} as numbers. */
  readonly modelDiffs: number[][];
  /** {@link FlDetectorState.aggregateDiffs} as numbers. */
  readonly aggregateDiffs: number[][];
  /** {@link FlDetectorState.roundScores} as numbers. */
  readonly roundScores: number[][];
}

/**
 * A {@link FlDetectorState} as a JSON-safe object (typed arrays become arrays of numbers, which
 * JSON carries exactly: float32 and float64 values print and parse back to the same value).
 *
 * @param state - a state returned by {@link flDetectorWithDecision}.
 * @returns a plain object for `JSON.stringify`; {@link flDetectorStateFromJSON} turns it back.
 * @example
 * ```ts
 * import { flDetectorStateFromJSON, flDetectorStateToJSON, flDetectorWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1, 2), Float32Array.of(1.5, 2), Float32Array.of(1, 2.5)];
 * const { state } = flDetectorWithDecision(updates, { globalModel: new Float32Array(2), seed: 1 });
 * const text = JSON.stringify(flDetectorStateToJSON(state)); // store it anywhere
 * const restored = flDetectorStateFromJSON(JSON.parse(text));
 * console.log(restored.round, restored.previousModel); // 1 Float32Array [0, 0]
 * ```
 */
export function flDetectorStateToJSON(state: FlDetectorState): FlDetectorStateJSON {
  const s = checkState('flDetectorStateToJSON', 'state', state, state?.n, state?.d);
  return {
    version: 1,
    n: s.n,
    d: s.d,
    round: s.round,
    previousModel: s.previousModel === null ? null : Array.from(s.previousModel),
    previousAggregate: s.previousAggregate === null ? null : Array.from(s.previousAggregate),
    previousUpdates: s.previousUpdates === null ? null : s.previousUpdates.map((x) => Array.from(x)),
    modelDiffs: s.modelDiffs.map((x) => Array.from(x)),
    aggregateDiffs: s.aggregateDiffs.map((x) => Array.from(x)),
    roundScores: s.roundScores.map((x) => Array.from(x)),
  };
}

/**
 * The {@link FlDetectorState} of an object made by {@link flDetectorStateToJSON} (after a JSON
 * round trip), checked like a state passed to {@link flDetector}: throws `INVALID_OPTION` naming
 * the field otherwise.
 *
 * @param json - the parsed object.
 * @returns the state, with typed arrays again.
 * @example
 * ```ts
 * import { flDetectorStateFromJSON } from 'robust-agg';
 *
 * const state = flDetectorStateFromJSON({
 *   version: 1, n: 2, d: 1, round: 1,
 *   previousModel: [0], previousAggregate: [0.5], previousUpdates: [[0.4], [0.6]],
 *   modelDiffs: [], aggregateDiffs: [], roundScores: [],
 * });
 * console.log(state.previousUpdates); // [Float32Array [0.4…], Float32Array [0.6…]]
 * ```
 */
export function flDetectorStateFromJSON(json: FlDetectorStateJSON): FlDetectorState {
  const rule = 'flDetectorStateFromJSON';
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: json must be an object made by flDetectorStateToJSON, got ${describeValue(json)}`);
  }
  const j = json as unknown as Record<string, unknown>;
  const numbers = (v: unknown, as: 'f32' | 'f64', what: string): Float32Array | Float64Array => {
    if (!Array.isArray(v)) throw new RobustAggError('INVALID_OPTION', `${rule}: ${what} must be an array of numbers`);
    for (const x of v) if (typeof x !== 'number') throw new RobustAggError('INVALID_OPTION', `${rule}: ${what} must be an array of numbers`);
    return as === 'f32' ? Float32Array.from(v as number[]) : Float64Array.from(v as number[]);
  };
  const lists = (v: unknown, as: 'f32' | 'f64', what: string) => {
    if (!Array.isArray(v)) throw new RobustAggError('INVALID_OPTION', `${rule}: ${what} must be an array`);
    if (v.length > Math.max(FL_DETECTOR_MAX_WINDOW, typeof j.n === 'number' ? j.n : 0)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: ${what} holds too many vectors`);
    }
    return (v as unknown[]).map((x, i) => numbers(x, as, `${what}[${i}]`));
  };
  const candidate = {
    version: j.version,
    n: j.n,
    d: j.d,
    round: j.round,
    previousModel: j.previousModel === null ? null : numbers(j.previousModel, 'f32', 'previousModel'),
    previousAggregate: j.previousAggregate === null ? null : numbers(j.previousAggregate, 'f32', 'previousAggregate'),
    previousUpdates: j.previousUpdates === null ? null : lists(j.previousUpdates, 'f32', 'previousUpdates'),
    modelDiffs: lists(j.modelDiffs, 'f64', 'modelDiffs'),
    aggregateDiffs: lists(j.aggregateDiffs, 'f64', 'aggregateDiffs'),
    roundScores: lists(j.roundScores, 'f64', 'roundScores'),
  };
  const n = typeof j.n === 'number' && Number.isInteger(j.n) && j.n >= 1 ? j.n : -1;
  const d = typeof j.d === 'number' && Number.isInteger(j.d) && j.d >= 1 ? j.d : -1;
  if (n < 0 || d < 0) throw new RobustAggError('INVALID_OPTION', `${rule}: n and d must be integers ≥ 1, got n=${describeValue(j.n)}, d=${describeValue(j.d)}`);
  return checkState(rule, 'json', candidate, n, d);
}
