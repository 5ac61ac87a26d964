// Checkpoints of trainRobust and the estimators' saveState/loadState: a run continued from any
// checkpoint is bit for bit the run that was never stopped, for every estimator of the library,
// with a randomized attack; states survive structuredClone and node:v8 serialization; a state
// that does not fit, or is damaged, is refused before anything changes.
import { deserialize, serialize } from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { geometricMedian } from '../../src/aggregators/geometric-median.js';
import { mean } from '../../src/aggregators/mean.js';
import { gaussian } from '../../src/attacks/index.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import {
  initMlp,
  looplessSvrg,
  minibatch,
  mlpOracle,
  saga,
  sagaFactored,
  sarah,
  sgd,
  svrg,
  trainRobust,
  type EstimatorState,
  type GradientEstimator,
  type TrainingState,
  type TrainRobustOptions,
} from '../../src/optimizers/index.js';
import type { EstimatorContext, FactoredGradientOracle } from '../../src/optimizers/types.js';
import { createSavableRng } from '../../src/optimizers/estimator-state.js';
import { leastSquares } from './least-squares.js';

const H = 5;
const D = 4;
type Make = (w: FactoredGradientOracle, ctx: EstimatorContext) => GradientEstimator;

/** Every estimator of the library, in the settings that change its state's shape. */
const ESTIMATORS: [string, Make][] = [
  ['sgd', (w, { rng }) => sgd(w, { rng })],
  ['minibatch', (w, { rng }) => minibatch(w, { batchSize: 3, rng })],
  ['saga float32', (w, { rng }) => saga(w, { rng })],
  ['saga bfloat16, zeros', (w, { rng }) => saga(w, { rng, storage: 'bfloat16', init: 'zeros' })],
  ['sagaFactored', (w, { rng }) => sagaFactored(w, { rng })],
  ['sagaFactored zeros', (w, { rng }) => sagaFactored(w, { rng, init: 'zeros' })],
  ['svrg', (w, { rng }) => svrg(w, { rng, epochLength: 4 })],
  ['looplessSvrg', (w, { rng }) => looplessSvrg(w, { rng, probability: 0.3 })],
  ['sarah', (w, { rng }) => sarah(w, { rng, epochLength: 5 })],
  ['sarah, no restart', (w, { rng }) => sarah(w, { rng, epochLength: 3, randomRestart: false })],
];

const workers = Array.from({ length: H }, (_, i) => leastSquares(9, D, 40 + i, 0.1).oracle);

/** A small MLP's workers: sagaFactored then takes its fused, support-range path. */
function mlpWorkers(): { workers: FactoredGradientOracle[]; init: Float32Array } {
  const shape = { inputSize: 6, hidden: 4, classes: 3 };
  const rng = createRng(3);
  const shard = () => {
    const features = Float32Array.from({ length: 8 * 6 }, () => (rng.next() < 0.5 ? 0 : rng.next()));
    const labels = Int32Array.from({ length: 8 }, () => rng.nextInt(3));
    return mlpOracle({ features, labels }, shape);
  };
  return { workers: Array.from({ length: 3 }, shard), init: initMlp(shape, createRng(5)) };
}

function options(make: Make, more: Partial<TrainRobustOptions<FactoredGradientOracle>> = {}): TrainRobustOptions<FactoredGradientOracle> {
  return {
    workers,
    byzantineCount: 2,
    attack: (honest, ctx) => gaussian([mean(honest)], { ...ctx, sigma: 3 }), // draws from the attack's generator
    aggregator: (m) => geometricMedian(m),
    estimator: make,
    lr: 0.05,
    steps: 24,
    evalEvery: 5,
    init: new Float32Array(D),
    evaluate: (x) => ({ loss: x.reduce((s, v) => s + v * v, 0), accuracy: x[0] > 0 ? 1 : 0 }),
    seed: 11,
    ...more,
  };
}

/** The same bits, NaN included. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const copies: [string, (s: TrainingState) => TrainingState][] = [
  ['as handed out', (s) => s],
  ['structuredClone', (s) => structuredClone(s)],
  ['node:v8 serialize', (s) => deserialize(serialize(s)) as TrainingState],
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof RobustAggError ? e.code : `not a RobustAggError: ${String(e)}`;
  }
  return undefined;
}

describe('trainRobust: a run resumed from a checkpoint is the uninterrupted run', () => {
  it.each(ESTIMATORS)('%s, from every checkpoint, through every copy', (_, make) => {
    const states: TrainingState[] = [];
    const whole = trainRobust(options(make, { checkpointEvery: 1, onCheckpoint: (s) => states.push(s) }));
    expect(states.map((s) => s.step)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    for (const [, copy] of copies) {
      for (const state of states) {
        const resumed = trainRobust(options(make, { resume: copy(state) }));
        expect(sameBits(resumed.params, whole.params)).toBe(true);
        expect(resumed.path.step).toEqual(whole.path.step);
        expect(sameBits(resumed.path.loss, whole.path.loss)).toBe(true);
        expect(sameBits(resumed.path.accuracy, whole.path.accuracy)).toBe(true);
        expect(sameBits(resumed.path.variance, whole.path.variance)).toBe(true);
        expect(resumed.gradientEvaluations).toBe(whole.gradientEvaluations);
        expect(resumed.stepsDone).toBe(whole.stepsDone);
      }
    }
  });

  it('sagaFactored on an MLP (fused support ranges) and minibatch: chains of stops at random steps', () => {
    const { workers: mlp, init } = mlpWorkers();
    const makes: Make[] = [(w, { rng }) => sagaFactored(w, { rng }), (w, { rng }) => minibatch(w, { batchSize: 5, rng })];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.uniqueArray(fc.integer({ min: 1, max: 29 }), { maxLength: 4 }), (which, stops) => {
        const base = { workers: mlp, init, steps: 30, lr: 0.3, estimator: makes[which] };
        const whole = trainRobust(options(makes[which], base));
        // Stop at each of the sorted steps in turn, continuing each time from the last stop.
        let state: TrainingState | undefined;
        for (const stop of [...stops].sort((a, b) => a - b)) {
          let taken: TrainingState | undefined;
          trainRobust(options(makes[which], { ...base, resume: state, checkpointEvery: 1, onCheckpoint: (s) => (s.step === stop ? (taken = s) : 0) }));
          state = deserialize(serialize(taken)) as TrainingState;
          expect(state.step).toBe(stop);
        }
        const resumed = trainRobust(options(makes[which], { ...base, resume: state }));
        expect(sameBits(resumed.params, whole.params)).toBe(true);
        expect(sameBits(resumed.path.loss, whole.path.loss)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('a checkpoint is a copy: changing it, or the run going on, does not change the other', () => {
    const states: TrainingState[] = [];
    const whole = trainRobust(options(ESTIMATORS[2][1], { checkpointEvery: 10, onCheckpoint: (s) => states.push(s) }));
    const kept = structuredClone(states[0]);
    expect(sameBits(states[0].params, whole.params)).toBe(false); // the run went on after it
    (states[1].params as Float32Array).fill(9);
    const again = trainRobust(options(ESTIMATORS[2][1], { resume: states[0] }));
    expect(sameBits(again.params, whole.params)).toBe(true);
    expect(sameBits(states[0].params, kept.params)).toBe(true);
  });

  it('no checkpoint after the last step; a checkpoint at the end resumes to the same result', () => {
    const steps: number[] = [];
    const whole = trainRobust(options(ESTIMATORS[0][1], { checkpointEvery: 8, onCheckpoint: (s) => steps.push(s.step) }));
    expect(steps).toEqual([8, 16]); // 24 = steps: none
    let last: TrainingState | undefined;
    trainRobust(options(ESTIMATORS[0][1], { steps: 16, checkpointEvery: 8, onCheckpoint: (s) => (last = s) }));
    const done = trainRobust(options(ESTIMATORS[0][1], { steps: 8, resume: last ?? undefined }));
    expect(done).toBeDefined();
    const rest = trainRobust(options(ESTIMATORS[0][1], { resume: last }));
    expect(sameBits(rest.params, whole.params)).toBe(true);
  });
});

describe('estimators: saveState / loadState', () => {
  it.each(ESTIMATORS)('%s: a fresh estimator given the state sends the same messages', (_, make) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer(), (before, seed) => {
        const w = workers[0];
        const a = make(w, { index: 0, rng: createSavableRng(seed) });
        const x = Float32Array.of(0.5, -1, 2, 0.25);
        for (let t = 0; t < before; t++) a.next(x.map((v) => v + t / 7));
        const state = structuredClone(a.saveState!());
        const b = make(w, { index: 0, rng: createSavableRng(seed + 1) });
        b.loadState!(state);
        expect(b.gradientEvaluations).toBe(a.gradientEvaluations);
        for (let t = 0; t < 6; t++) {
          const p = x.map((v) => v - t / 5);
          expect(sameBits(b.next(p), a.next(p))).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('an estimator drawing from a caller-made generator cannot be saved (INVALID_OPTION), nor a run with one', () => {
    const e = sgd(workers[0], { rng: createRng(1) });
    expect(codeOf(() => e.saveState!())).toBe('INVALID_OPTION');
    const own = createRng(2);
    expect(codeOf(() => trainRobust(options((w) => sgd(w, { rng: own }), { checkpointEvery: 2, onCheckpoint: () => {} })))).toBe('INVALID_OPTION');
    expect(sgd(workers[0], { seed: 4 }).saveState!().estimator).toBe('sgd'); // from a seed it can
  });

  it('a state of another kind, shape or damaged is refused, and the estimator is left as it was', () => {
    const make = () => minibatch(workers[0], { batchSize: 3, seed: 8 });
    const good = make().saveState!();
    const damaged: [string, EstimatorState][] = [
      ['another kind', { ...good, estimator: 'sgd' }],
      ['order not a permutation', { ...good, order: Int32Array.from({ length: 9 }, () => 0) }],
      ['order too short', { ...good, order: new Int32Array(8) }],
      ['order as a plain array', { ...good, order: Array.from(good.order as Int32Array) }],
      ['negative evaluations', { ...good, evaluations: -1 }],
      ['all-zero generator', { ...good, rng: { words: new Int32Array(4), spare: NaN } }],
      ['generator spare infinite', { ...good, rng: { words: Int32Array.of(1, 2, 3, 4), spare: Infinity } }],
      ['no generator', { ...good, rng: undefined }],
    ];
    const x = Float32Array.of(1, 2, 3, 4);
    for (const [what, state] of damaged) {
      const e = make();
      const reference = make();
      e.next(x);
      reference.next(x);
      expect(codeOf(() => e.loadState!(state)), what).toBe('INVALID_OPTION');
      expect(sameBits(e.next(x), reference.next(x)), what).toBe(true);
    }
    expect(codeOf(() => make().loadState!(null as never))).toBe('INVALID_OPTION');
  });

  it('saga and sagaFactored refuse tables of another size or storage', () => {
    const x = Float32Array.of(1, 2, 3, 4);
    const s = saga(workers[0], { seed: 1 });
    s.next(x);
    const state = s.saveState!();
    expect(codeOf(() => saga(workers[0], { seed: 1, storage: 'bfloat16' }).loadState!(state))).toBe('INVALID_OPTION');
    expect(codeOf(() => saga(workers[1], { seed: 1 }).loadState!({ ...state, table: new Float32Array(3) }))).toBe('INVALID_OPTION');
    expect(codeOf(() => saga(workers[1], { seed: 1 }).loadState!({ ...state, d: 0 }))).toBe('INVALID_OPTION');
    const f = sagaFactored(workers[0], { seed: 1 });
    f.next(x);
    const fs = f.saveState!();
    expect(codeOf(() => sagaFactored(leastSquares(10, D, 1).oracle, { seed: 1 }).loadState!(fs))).toBe('INVALID_OPTION'); // 10 samples, not 9
    expect(codeOf(() => sagaFactored(workers[0], { seed: 1 }).loadState!({ ...fs, filled: new Uint8Array(9).fill(2) }))).toBe('INVALID_OPTION');
    expect(codeOf(() => sagaFactored(workers[0], { seed: 1 }).loadState!({ ...fs, averageF32: new Float32Array(D) }))).toBe('INVALID_OPTION');
  });

  it('svrg and sarah refuse half a snapshot or vectors of two lengths', () => {
    const x = Float32Array.of(1, 2, 3, 4);
    for (const make of [() => svrg(workers[0], { seed: 1 }), () => sarah(workers[0], { seed: 1 })]) {
      const e = make();
      e.next(x);
      const state = e.saveState!();
      const [a, b] = e.name === 'svrg' ? ['snapshot', 'full'] : ['previous', 'estimate'];
      expect(codeOf(() => make().loadState!({ ...state, [b]: null })), e.name).toBe('INVALID_OPTION');
      expect(codeOf(() => make().loadState!({ ...state, [a]: null })), e.name).toBe('INVALID_OPTION');
      expect(codeOf(() => make().loadState!({ ...state, [b]: new Float32Array(D + 1) })), e.name).toBe('INVALID_OPTION');
      expect(codeOf(() => make().loadState!({ ...state, [a]: null, [b]: null })), e.name).toBeUndefined(); // not started: fine
    }
  });
});

describe('trainRobust: checkpoint options are checked', () => {
  const make = ESTIMATORS[1][1];
  let state: TrainingState | undefined;
  trainRobust(options(make, { checkpointEvery: 5, onCheckpoint: (s) => (state ??= s) }));
  const saved = state as TrainingState;

  it.each<[string, Partial<TrainRobustOptions<FactoredGradientOracle>>]>([
    ['checkpointEvery without onCheckpoint', { checkpointEvery: 3 }],
    ['onCheckpoint without checkpointEvery', { onCheckpoint: () => {} }],
    ['checkpointEvery 0', { checkpointEvery: 0, onCheckpoint: () => {} }],
    ['checkpointEvery 1.5', { checkpointEvery: 1.5, onCheckpoint: () => {} }],
    ['onCheckpoint not a function', { checkpointEvery: 2, onCheckpoint: 'save' as never }],
    ['resume: null', { resume: null as never }],
    ['resume: another version', { resume: { ...saved, version: 2 as never } }],
    ['resume: step past steps', { resume: { ...saved, step: 25 } }],
    ['resume: step not an integer', { resume: { ...saved, step: 2.5 } }],
    ['resume: params of another length', { resume: { ...saved, params: new Float32Array(D + 1) } }],
    ['resume: params not finite', { resume: { ...saved, params: Float32Array.of(0, NaN, 0, 0) } }],
    ['resume: another worker count', { resume: { ...saved, estimators: saved.estimators.slice(1) } }],
    ['resume: curves of different lengths', { resume: { ...saved, path: { ...saved.path, loss: [] } } }],
    ['resume: another estimator kind', { estimator: ESTIMATORS[0][1], resume: saved }],
    ['resume: a damaged attack generator', { resume: { ...saved, attackRng: { words: new Int32Array(4), spare: NaN } } }],
  ])('%s → INVALID_OPTION', (_, more) => {
    expect(codeOf(() => trainRobust(options(make, more)))).toBe('INVALID_OPTION');
  });

  it('an estimator without saveState / loadState is named in the error', () => {
    const bare: Make = (w, { rng }) => {
      const inner = sgd(w, { rng });
      return { name: 'mine', next: (x) => inner.next(x), gradientEvaluations: 0 };
    };
    expect(() => trainRobust(options(bare, { checkpointEvery: 2, onCheckpoint: () => {} }))).toThrow(/mine/);
    expect(codeOf(() => trainRobust(options(bare, { resume: saved })))).toBe('INVALID_OPTION');
  });

  it('without checkpoint options the run is the one it always was (the savable generators draw createRng streams)', () => {
    const plain = trainRobust(options(make));
    const checkpointed = trainRobust(options(make, { checkpointEvery: 4, onCheckpoint: () => {} }));
    expect(sameBits(plain.params, checkpointed.params)).toBe(true);
  });
});
