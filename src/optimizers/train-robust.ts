import type { Aggregator } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger, requireNumber } from '../core/options.js';
import { resolveValidRng, type RandomOptions, type Rng } from '../core/random.js';
import { createSavableRng, readRng, saveRng } from './estimator-state.js';
import { serverStep } from './server-step.js';
import type { EstimatorFactory, EstimatorState, GradientEstimator, WorkerOracle } from './types.js';

/** What {@link trainRobust} passes an attack besides the honest messages. */
export interface TrainingAttackContext {
  /** Number of Byzantine messages to return (`byzantineCount`). */
  readonly f: number;
  /** The attack's own seeded generator (derived from the training seed). */
  readonly rng: Rng;
  /** The current step, 0-based. */
  readonly step: number;
}

/**
 * A Byzantine attack inside {@link trainRobust}: given this step's honest messages, return f
 * messages. The library's attacks fit directly or with a bound option, e.g. `gaussian` or
 * `(h, c) => signFlip(h, { ...c, scale: -3 })`.
 *
 * @param honest - this step's H honest messages, each of length d; valid during this step only, not
 *   to be modified.
 * @param context - `f` (how many messages to return), the attack's own generator and the step.
 * @example
 * ```ts
 * import { createRng, mean, type TrainingAttack } from 'robust-agg';
 *
 * // Every attacker sends −3 × the honest mean.
 * const attack: TrainingAttack = (honest, { f }) => {
 *   const m = mean(honest);
 *   return Array.from({ length: f }, () => m.map((v) => -3 * v));
 * };
 * const honest = [Float32Array.of(1, 2), Float32Array.of(3, 2)];
 * console.log(attack(honest, { f: 2, rng: createRng(1), step: 0 })); // two copies of (−6, −6)
 * ```
 */
export type TrainingAttack = (honest: readonly Float32Array[], context: TrainingAttackContext) => Float32Array[];

/** A model's quality at some parameters, as {@link TrainRobustOptions.evaluate} reports it. */
export interface Evaluation {
  /** Loss (e.g. training or test cross-entropy). */
  readonly loss: number;
  /** Accuracy in [0, 1], when the task has one. */
  readonly accuracy?: number;
}

/** Where {@link trainRobust} is, passed to `onProgress` after every step. */
export interface TrainProgress {
  /** Steps done. */
  readonly step: number;
  /** Steps asked for. */
  readonly steps: number;
  /** The most recent evaluation, if any. */
  readonly evaluation?: Evaluation;
}

/** Options of {@link trainRobust}. */
export interface TrainRobustOptions<W extends WorkerOracle = WorkerOracle> extends RandomOptions {
  /** The honest workers (H of them). */
  workers: readonly W[];
  /** Number f of Byzantine workers: an integer in [0, 2²⁰]. Default 0. */
  byzantineCount?: number;
  /**
   * The Byzantine messages of each step; omitted or null: there is no attack and the Byzantine
   * workers send nothing (the aggregator sees the H honest messages only).
   */
  attack?: TrainingAttack | null;
  /** The server's rule over the H + f messages (honest first, then Byzantine). */
  aggregator: Aggregator;
  /** Builds each honest worker's estimator, e.g. `(w, { rng }) => saga(w, { rng })`. */
  estimator: EstimatorFactory<W>;
  /** Step size γ (finite), or a schedule γ(step) with step 0-based that returns a finite number. */
  lr:
    | number
    | {
        /**
         * The step size of one step (finite).
         *
         * @param step - the 0-based step the size is for.
         */
        (step: number): number;
      };
  /** Number of server steps: an integer in [0, 10⁷]. */
  steps: number;
  /** Initial parameters x⁰ (copied, never modified). */
  init: Float32Array;
  /**
   * Evaluates the parameters; called at step 0 and every `evalEvery` steps (and after the last).
   *
   * @param params - the current parameters (length d); not to be modified.
   */
  evaluate?: (params: Float32Array) => Evaluation;
  /** Steps between evaluations: an integer ≥ 1. Default max(1, ⌊steps/100⌋). */
  evalEvery?: number;
  /**
   * Called after every step.
   *
   * @param progress - steps done, steps asked for and the latest evaluation.
   */
  onProgress?: (progress: TrainProgress) => void;
  /**
   * Steps between checkpoints: an integer ≥ 1, given together with `onCheckpoint`. After every
   * `checkpointEvery`-th step (not after the last) `onCheckpoint` receives the whole state of the
   * run, from which `resume` continues it. Needs estimators with `saveState` (every library
   * estimator has it) drawing from the context's `rng` or a `seed`.
   */
  checkpointEvery?: number;
  /**
   * Receives each checkpoint (a fresh copy the run no longer touches: keep it, or write it with
   * `node:v8`'s `serialize`; JSON loses its typed arrays).
   *
   * @param state - the run after `state.step` steps.
   */
  onCheckpoint?: (state: TrainingState) => void;
  /**
   * Continues a run from a checkpoint of it: the same options as the run that saved it (workers,
   * estimator factory, attack, aggregator, lr, steps, init and seed) give the parameters, path and
   * evaluations the uninterrupted run would have, bit for bit — provided the attack, aggregator
   * and `evaluate` keep no state of their own across steps. The state is checked against the
   * options (d, worker count, steps) before anything runs; a mismatch is `INVALID_OPTION`.
   */
  resume?: TrainingState;
}

/**
 * The whole state of a {@link trainRobust} run after `step` steps, as `onCheckpoint` receives it
 * and `resume` takes it: plain data (numbers, arrays, typed arrays) that `structuredClone` and
 * `node:v8`'s `serialize` copy exactly.
 */
export interface TrainingState {
  /** Format version: 1. */
  readonly version: 1;
  /** Steps done. */
  readonly step: number;
  /** The parameters after `step` steps. */
  readonly params: Float32Array;
  /** The curves so far. */
  readonly path: TrainingPath;
  /** The most recent evaluation (null without `evaluate`). */
  readonly lastEvaluation: Evaluation | null;
  /** Each honest worker's estimator, in `workers` order. */
  readonly estimators: readonly EstimatorState[];
  /** The attack's generator. */
  readonly attackRng: {
    /** Its four xoshiro128** state words. */
    readonly words: Int32Array;
    /** The second value of its last Box–Muller pair (NaN: none). */
    readonly spare: number;
  };
}

/**
 * The curves of a run, one entry per evaluation (the notebook's paths). `variance[i]` is the
 * variance of the honest messages of the step that led to `step[i]`,
 * (1/H) Σᵢ ‖mᵢ − m̄‖² (NaN at step 0, where no message was sent yet).
 */
export interface TrainingPath {
  /** Steps done at each evaluation (0 = the initial parameters). */
  readonly step: number[];
  /** Loss at each evaluation (NaN without `evaluate`). */
  readonly loss: number[];
  /** Accuracy at each evaluation (NaN when `evaluate` gives none). */
  readonly accuracy: number[];
  /** Variance of the honest messages at each evaluation. */
  readonly variance: number[];
}

/** Result of {@link trainRobust}. */
export interface TrainRobustResult {
  /** Final parameters (the last finite ones if the run diverged). */
  readonly params: Float32Array;
  /** Loss, accuracy and honest-message variance per evaluation. */
  readonly path: TrainingPath;
  /** Steps actually done (less than `steps` only if the run diverged). */
  readonly stepsDone: number;
  /** True when a server step produced a non-finite parameter; training stopped there. */
  readonly diverged: boolean;
  /** Per-sample gradient evaluations of all honest workers together. */
  readonly gradientEvaluations: number;
}

/**
 * Byzantine-robust distributed training in the federated setting of Byrd-SAGA (Wu, Ling, Chen &
 * Giannakis, "Federated variance-reduced stochastic gradient descent with robustness to Byzantine
 * attacks", IEEE TSP 2020): at each step every honest worker w sends the message m_w of its
 * estimator at x, the f Byzantine workers send `attack(honest messages)`, and the server sets
 * x ← x − γ·aggregator(m₁ … m_H, b₁ … b_f). With `saga` (or `sagaFactored`) and
 * `geometricMedian` this is Byrd-SAGA; with `sgd` or `minibatch` it is robust (B)SGD.
 *
 * Messages: an estimator with `nextInto` writes into one buffer per worker that is reused every
 * step (no d-sized allocation per worker per step), so the arrays an attack or aggregator receives
 * are valid during that step only — one that keeps messages across steps must copy them.
 *
 * Deterministic: each worker's estimator and the attack get their own generator derived from
 * `seed` (or `rng`), so the same seed gives the same path. Defaults: byzantineCount 0, no attack,
 * evalEvery max(1, ⌊steps/100⌋). Stops early, with `diverged: true`, if x becomes non-finite.
 *
 * Checks: the options are read once (null options or an unknown key is a `RobustAggError`);
 * steps ≤ 10⁷ and byzantineCount ≤ 2²⁰; `seed`/`rng` as `resolveValidRng` checks them; each step,
 * the attack must return f `Float32Array`s of length d, the aggregator one `Float32Array` of
 * length d, and `lr(step)` a finite number (else `INVALID_OPTION`). The attack's context
 * `{ f, rng, step }` is accepted by every library attack as is.
 *
 * Checkpoints: with `checkpointEvery` and `onCheckpoint`, the run hands out its whole state
 * ({@link TrainingState}: parameters, curves, every estimator's table and generator, the attack's
 * generator) every `checkpointEvery` steps; `resume` with the same options continues from one,
 * bit for bit the uninterrupted run. A long experiment can so be stopped and continued.
 *
 * @param options - see {@link TrainRobustOptions}: `workers`, `aggregator`, `estimator`, `lr`,
 *   `steps` and `init` (required); `byzantineCount` (integer in [0, 2²⁰], default 0), `attack`,
 *   `evaluate`, `evalEvery` (integer ≥ 1), `onProgress`, `seed` or `rng`, `checkpointEvery`
 *   (integer ≥ 1) with `onCheckpoint`, `resume`. Not modified.
 * @example
 * ```ts
 * import { geometricMedian, saga, trainRobust, type WorkerOracle } from 'robust-agg';
 *
 * // Five honest workers, each with least-squares rows of the same model x* = (1, 2).
 * const worker = (shift: number): WorkerOracle => {
 *   const a = [[1, shift], [shift, 1], [1, 1]];
 *   const b = a.map((row) => row[0] + 2 * row[1]);
 *   return {
 *     sampleCount: b.length,
 *     gradient: (x, indices) => {
 *       const g = new Float32Array(2);
 *       for (const j of indices) {
 *         const r = a[j][0] * x[0] + a[j][1] * x[1] - b[j];
 *         for (let k = 0; k < 2; k++) g[k] += (r * a[j][k]) / indices.length;
 *       }
 *       return g;
 *     },
 *   };
 * };
 * const result = trainRobust({
 *   workers: [0, 0.1, 0.2, 0.3, 0.4].map(worker),
 *   byzantineCount: 2,
 *   attack: (h, { f }) => Array.from({ length: f }, () => h[0].map((v) => -3 * v)),
 *   aggregator: (m) => geometricMedian(m),
 *   estimator: (w, { rng }) => saga(w, { rng }), // Byrd-SAGA
 *   lr: 0.1, steps: 300, evalEvery: 100, seed: 1,
 *   init: new Float32Array(2),
 * });
 * console.log(result.params);    // ≈ (1, 2) despite the two attackers
 * console.log(result.path.step); // [0, 100, 200, 300]
 * ```
 * @example
 * ```ts
 * import { mean, sgd, trainRobust, type TrainingState, type WorkerOracle } from 'robust-agg';
 *
 * // Each sample j pulls x towards j/4.
 * const worker: WorkerOracle = { sampleCount: 4, gradient: (x, [j]) => x.map((v) => v - j / 4) };
 * const run = (more: { checkpointEvery?: number; onCheckpoint?: (s: TrainingState) => void; resume?: TrainingState }) =>
 *   trainRobust({
 *     workers: [worker, worker, worker],
 *     aggregator: (m) => mean(m),
 *     estimator: (w, { rng }) => sgd(w, { rng }),
 *     lr: 0.1, steps: 100, init: new Float32Array(2), seed: 7,
 *     ...more,
 *   });
 * const saved: TrainingState[] = [];
 * const whole = run({ checkpointEvery: 40, onCheckpoint: (s) => saved.push(s) });
 * // Had the run stopped after step 40, it would continue from that checkpoint:
 * const continued = run({ resume: saved[0] });
 * console.log(saved.map((s) => s.step)); // [40, 80]
 * console.log(continued.params.every((v, k) => v === whole.params[k])); // true
 * ```
 */
export function trainRobust<W extends WorkerOracle>(options: TrainRobustOptions<W>): TrainRobustResult {
  const rule = 'trainRobust';
  const o = readOptions<TrainRobustOptions<W>>(rule, options, TRAIN_KEYS);
  const { workers, aggregator, estimator, evaluate, onProgress } = o;
  if (!Array.isArray(workers) || workers.length === 0) {
    throw new RobustAggError('INVALID_OPTION', 'trainRobust: workers must be a non-empty array of honest workers');
  }
  if (typeof aggregator !== 'function' || typeof estimator !== 'function') {
    throw new RobustAggError('INVALID_OPTION', 'trainRobust: aggregator and estimator must be functions');
  }
  if (evaluate !== undefined && typeof evaluate !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `trainRobust: evaluate must be a function, got ${describeValue(evaluate)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `trainRobust: onProgress must be a function, got ${describeValue(onProgress)}`);
  }
  const init = o.init;
  if (!(init instanceof Float32Array) || init.length === 0) {
    throw new RobustAggError('INVALID_OPTION', 'trainRobust: init must be a non-empty Float32Array');
  }
  const f = requireInteger(rule, 'byzantineCount', o.byzantineCount ?? 0, 0, MAX_BYZANTINE_WORKERS);
  const steps = requireInteger(rule, 'steps', o.steps as number, 0, MAX_TRAIN_STEPS);
  const evalEvery = requireInteger(rule, 'evalEvery', o.evalEvery ?? Math.max(1, Math.floor(steps / 100)), 1);
  const attack = o.attack ?? null;
  if (attack !== null && typeof attack !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `trainRobust: attack must be a function or null, got ${describeValue(attack)}`);
  }
  const lr = o.lr;
  if (typeof lr !== 'function') requireNumber(rule, 'lr', lr as number);
  const lrAt = (t: number): number => {
    if (typeof lr !== 'function') return lr as number;
    const value = lr(t);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RobustAggError('INVALID_OPTION', `trainRobust: lr(${t}) must return a finite number, got ${describeValue(value)}`);
    }
    return value;
  };
  const master = resolveValidRng(o, rule);
  // Savable generators give the createRng stream and let checkpoints read and restore it.
  const estimators: GradientEstimator[] = workers.map((w, index) => {
    const e = estimator(w, { index, rng: createSavableRng(master.nextUint32() | 0) });
    if (e === null || typeof e !== 'object' || typeof e.next !== 'function') {
      throw new RobustAggError('INVALID_OPTION', `trainRobust: the estimator factory must return a GradientEstimator (worker ${index})`);
    }
    return e;
  });
  const attackRng = createSavableRng(master.nextUint32() | 0);
  const checkpointEvery = readCheckpointing(o, estimators);

  const d = init.length;
  let params = Float32Array.from(init);
  let next = new Float32Array(d);
  const path: TrainingPath = { step: [], loss: [], accuracy: [], variance: [] };
  let last: Evaluation | undefined;
  const record = (step: number, variance: number): void => {
    path.step.push(step);
    path.variance.push(variance);
    if (evaluate === undefined) {
      path.loss.push(NaN);
      path.accuracy.push(NaN);
      return;
    }
    last = evaluate(params);
    path.loss.push(last.loss);
    path.accuracy.push(last.accuracy ?? NaN);
  };

  let diverged = false;
  let stepsDone = 0;
  if (o.resume === undefined) record(0, NaN);
  else {
    // A state that does not fit throws here, before the first step (the estimators are this call's own).
    const saved = readTrainingState(o.resume, { d, steps, workers: estimators.length });
    estimators.forEach((e, i) => {
      if (typeof e.loadState !== 'function') {
        throw new RobustAggError('INVALID_OPTION', `trainRobust: resume needs estimators with loadState (worker ${i}'s has none)`);
      }
      e.loadState(saved.estimators[i]);
    });
    readRng(attackRng, saved.attackRng, rule)();
    params.set(saved.params);
    for (const key of ['step', 'loss', 'accuracy', 'variance'] as const) for (const v of saved.path[key]) path[key].push(v);
    last = saved.lastEvaluation ?? undefined;
    stepsDone = saved.step;
  }
  const snapshot = (): TrainingState => ({
    version: 1,
    step: stepsDone,
    params: params.slice(),
    path: { step: path.step.slice(), loss: path.loss.slice(), accuracy: path.accuracy.slice(), variance: path.variance.slice() },
    lastEvaluation: last === undefined ? null : { ...last },
    estimators: estimators.map((e) => (e.saveState as NonNullable<GradientEstimator['saveState']>)()),
    attackRng: saveRng(attackRng, rule),
  });

  // One message buffer per worker, rewritten every step by estimators that have nextInto.
  const buffers = estimators.map((e) => (typeof e.nextInto === 'function' ? new Float32Array(d) : null));
  const honest: Float32Array[] = new Array(estimators.length);
  for (let t = stepsDone; t < steps; t++) {
    for (let i = 0; i < estimators.length; i++) {
      const buffer = buffers[i];
      if (buffer === null) honest[i] = estimators[i].next(params);
      else {
        (estimators[i].nextInto as NonNullable<GradientEstimator['nextInto']>)(params, buffer);
        honest[i] = buffer;
      }
    }
    let messages: Float32Array[] = honest;
    if (attack !== null && f > 0) {
      const byzantine = attack(honest, { f, rng: attackRng, step: t });
      if (!Array.isArray(byzantine) || byzantine.length !== f || byzantine.some((b) => !(b instanceof Float32Array) || b.length !== d)) {
        throw new RobustAggError('INVALID_OPTION', `trainRobust: the attack must return ${f} Float32Arrays of length ${d}`);
      }
      messages = honest.concat(byzantine);
    }
    const direction = aggregator(messages);
    if (!(direction instanceof Float32Array) || direction.length !== d) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `trainRobust: the aggregator must return a Float32Array of length ${d}, got ${direction instanceof Float32Array ? `length ${direction.length}` : describeValue(direction)}`,
      );
    }
    serverStep(params, direction, lrAt(t), next);
    if (!allFinite(next)) {
      diverged = true;
      break;
    }
    [params, next] = [next, params];
    stepsDone = t + 1;
    if (stepsDone % evalEvery === 0 || stepsDone === steps) record(stepsDone, honestVariance(honest));
    onProgress?.({ step: stepsDone, steps, evaluation: last });
    if (checkpointEvery > 0 && stepsDone % checkpointEvery === 0 && stepsDone < steps) {
      (o.onCheckpoint as NonNullable<TrainRobustOptions<W>['onCheckpoint']>)(snapshot());
    }
  }
  return {
    params,
    path,
    stepsDone,
    diverged,
    gradientEvaluations: estimators.reduce((s, e) => s + e.gradientEvaluations, 0),
  };
}

/** The most server steps one {@link trainRobust} call runs. */
export const MAX_TRAIN_STEPS = 10_000_000;

/** The most Byzantine workers {@link trainRobust} simulates (as the attacks' f ≤ 2²⁰). */
export const MAX_BYZANTINE_WORKERS = 1_048_576;

const TRAIN_KEYS = [
  'workers',
  'byzantineCount',
  'attack',
  'aggregator',
  'estimator',
  'lr',
  'steps',
  'init',
  'evaluate',
  'evalEvery',
  'onProgress',
  'seed',
  'rng',
  'checkpointEvery',
  'onCheckpoint',
  'resume',
] as const;

/**
 * `checkpointEvery` (0 when checkpoints are off), checked with `onCheckpoint`: both or neither,
 * and every estimator able to save its state.
 */
function readCheckpointing<W extends WorkerOracle>(o: Partial<TrainRobustOptions<W>>, estimators: readonly GradientEstimator[]): number {
  const { checkpointEvery, onCheckpoint } = o;
  if (checkpointEvery === undefined && onCheckpoint === undefined) return 0;
  if (checkpointEvery === undefined || typeof onCheckpoint !== 'function') {
    throw new RobustAggError('INVALID_OPTION', 'trainRobust: checkpointEvery and onCheckpoint (a function) go together');
  }
  const every = requireInteger('trainRobust', 'checkpointEvery', checkpointEvery, 1);
  estimators.forEach((e, i) => {
    if (typeof e.saveState !== 'function') {
      throw new RobustAggError('INVALID_OPTION', `trainRobust: checkpoints need estimators with saveState (worker ${i}'s, ${describeValue(e.name)}, has none)`);
    }
  });
  return every;
}

/** Checks a checkpoint against the run's shape; returns it typed. */
function readTrainingState(state: unknown, run: { d: number; steps: number; workers: number }): TrainingState {
  const bad = (what: string): never => {
    throw new RobustAggError('INVALID_OPTION', `trainRobust: resume: ${what}`);
  };
  if (state === null || typeof state !== 'object') return bad(`needs a state onCheckpoint gave, got ${describeValue(state)}`);
  const s = state as Partial<Record<keyof TrainingState, unknown>>;
  if (s.version !== 1) bad(`unknown state version ${describeValue(s.version)} (this library writes 1)`);
  const step = s.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > run.steps) {
    bad(`step must be an integer in [0, steps = ${run.steps}], got ${describeValue(step)}`);
  }
  const params = s.params;
  if (!(params instanceof Float32Array) || params.length !== run.d || !allFinite(params)) {
    bad(`params must be a finite Float32Array of length ${run.d} (init's), got ${describeValue(params)}`);
  }
  const path = s.path as Partial<Record<keyof TrainingPath, unknown>> | null | undefined;
  const curves = path === null || typeof path !== 'object' ? [] : [path.step, path.loss, path.accuracy, path.variance];
  const length = Array.isArray(curves[0]) ? curves[0].length : -1;
  if (curves.length !== 4 || length < 1 || curves.some((c) => !Array.isArray(c) || c.length !== length || c.some((v) => typeof v !== 'number'))) {
    bad('path must hold step, loss, accuracy and variance: number arrays of one length ≥ 1');
  }
  const lastEvaluation = s.lastEvaluation;
  if (lastEvaluation !== null && (typeof lastEvaluation !== 'object' || typeof (lastEvaluation as Evaluation).loss !== 'number')) {
    bad(`lastEvaluation must be null or { loss, accuracy? }, got ${describeValue(lastEvaluation)}`);
  }
  if (!Array.isArray(s.estimators) || s.estimators.length !== run.workers) {
    bad(`estimators must hold one state per worker (${run.workers})`);
  }
  return state as TrainingState;
}

/** (1/H) Σᵢ ‖mᵢ − m̄‖² in float64. */
function honestVariance(messages: readonly Float32Array[]): number {
  const h = messages.length;
  const d = messages[0].length;
  let total = 0;
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let i = 0; i < h; i++) s += messages[i][k];
    const m = s / h;
    for (let i = 0; i < h; i++) {
      const v = messages[i][k] - m;
      total += v * v;
    }
  }
  return total / h;
}

function allFinite(x: Float32Array): boolean {
  for (let k = 0; k < x.length; k++) if (!Number.isFinite(x[k])) return false;
  return true;
}
