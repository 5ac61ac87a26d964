/**
 * Issue 14 items 10 and 13 for the optimizers: options read once (a counting Proxy), null options
 * and unknown keys are RobustAggErrors, a wrong rng or seed is a RobustAggError (never a
 * TypeError), and trainRobust's caller-set counts fail fast.
 */
import { describe, expect, it } from 'vitest';
import { signFlip } from '../../src/attacks/index.js';
import { mean } from '../../src/aggregators/mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/random.js';
import {
  initMlp,
  looplessSvrg,
  minibatch,
  mlpLayout,
  mlpOracle,
  saga,
  sagaFactored,
  sarah,
  sgd,
  svrg,
  trainRobust,
  type TrainRobustOptions,
} from '../../src/optimizers/index.js';
import { leastSquares } from './least-squares.js';

const D = 3;
const { oracle } = leastSquares(8, D, 1);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e, `threw ${String(e)}`).toBeInstanceOf(RobustAggError);
    return (e as RobustAggError).code;
  }
  throw new Error('expected a RobustAggError, got a result');
}

function counting(options: Record<string, unknown>): { proxy: Record<string, unknown>; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const proxy = new Proxy(options, {
    get(target, key, receiver) {
      if (typeof key === 'string') reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(target, key, receiver);
    },
  });
  return { proxy, reads };
}

const x0 = Float32Array.of(0.5, -1, 2);

type Make = (options: never) => { next(p: Float32Array): Float32Array };
const estimators: Record<string, [Make, Record<string, unknown>]> = {
  sgd: [(o) => sgd(oracle, o), { seed: 1 }],
  minibatch: [(o) => minibatch(oracle, o), { seed: 1, batchSize: 3 }],
  saga: [(o) => saga(oracle, o), { seed: 1, storage: 'bfloat16', init: 'zeros' }],
  sagaFactored: [(o) => sagaFactored(oracle, o), { seed: 1, init: 'zeros' }],
  svrg: [(o) => svrg(oracle, o), { seed: 1, epochLength: 4 }],
  looplessSvrg: [(o) => looplessSvrg(oracle, o), { seed: 1, probability: 0.5 }],
  sarah: [(o) => sarah(oracle, o), { seed: 1, epochLength: 4, randomRestart: false }],
};

describe('estimators: options', () => {
  for (const [name, [make, options]] of Object.entries(estimators)) {
    it(`${name}: each key read once; null, unknown keys and wrong rng/seed are RobustAggErrors`, () => {
      const { proxy, reads } = counting(options);
      const a = make(proxy as never);
      const b = make({ ...options } as never);
      expect(Array.from(a.next(x0))).toEqual(Array.from(b.next(x0)));
      for (const [key, count] of reads) expect(count, `option ${key} read ${count} times`).toBe(1);
      expect(codeOf(() => make(null as never))).toBe('INVALID_OPTION');
      expect(codeOf(() => make({ ...options, sed: 1 } as never))).toBe('UNKNOWN_OPTION');
      for (const rng of [5, 'x', {}, { next: () => 0.5 }, null]) {
        expect(codeOf(() => make({ rng } as never))).toBe('INVALID_OPTION');
      }
      for (const seed of [NaN, Infinity, '1']) expect(codeOf(() => make({ seed } as never))).toBe('INVALID_OPTION');
      // A generator whose nextInt lies is caught at the draw (the old code indexed sample 99 of 8).
      const liar: Rng = { ...createRng(1), nextInt: () => 99 };
      const lied = make({ ...options, seed: undefined, rng: liar } as never);
      expect(codeOf(() => [lied.next(x0), lied.next(x0)])).toBe('INVALID_OPTION');
    });
  }

  it('the messages name the estimator and the method', () => {
    expect(() => sgd(oracle, { rng: {} as Rng })).toThrow(/sgd: rng.nextUint32 must be a function/);
    const liar: Rng = { ...createRng(1), nextInt: () => 99 };
    expect(() => sgd(oracle, { rng: liar }).next(x0)).toThrow(/sgd: rng.nextInt\(8\) must return an integer in \[0, 8\), got 99/);
    expect(() => sarah(oracle, { seed: 1, epochLength: 2 ** 40 })).toThrow(/sarah: epochLength must be an integer in \[1, 4294967296\]/);
  });
});

describe('mlp: shapes and rng', () => {
  it('initMlp rejects a wrong rng with a RobustAggError; sizes are capped', () => {
    const shape = { inputSize: 4, hidden: 3, classes: 2 };
    expect(() => initMlp(shape, {} as Rng)).toThrow(/initMlp: rng.nextUint32 must be a function/);
    expect(codeOf(() => initMlp(shape, 7 as unknown as Rng))).toBe('INVALID_OPTION');
    // The old code allocated 1e9·1e6 parameters (a RangeError) instead of saying why.
    expect(() => mlpLayout({ inputSize: 1e9, hidden: 1e6, classes: 10 })).toThrow(/mlpLayout: inputSize must be an integer in \[1, 268435456\]/);
    expect(() => initMlp({ inputSize: 1e5, hidden: 1e4, classes: 2 }, createRng(1))).toThrow(/more than 268435456/);
    expect(codeOf(() => mlpOracle(null as never, shape))).toBe('INVALID_OPTION');
    expect(codeOf(() => mlpLayout(null as never))).toBe('INVALID_OPTION');
  });
});

describe('trainRobust: options', () => {
  const base = (): TrainRobustOptions => ({
    workers: [oracle, leastSquares(8, D, 2).oracle, leastSquares(8, D, 3).oracle],
    aggregator: (m) => mean(m),
    estimator: (w, { rng }) => sgd(w, { rng }),
    lr: 0.05,
    steps: 5,
    init: new Float32Array(D),
    seed: 1,
  });

  it('reads each key once; null and unknown keys are RobustAggErrors', () => {
    const { proxy, reads } = counting({ ...base(), byzantineCount: 1, attack: signFlip, evalEvery: 2 });
    const a = trainRobust(proxy as never);
    const b = trainRobust({ ...base(), byzantineCount: 1, attack: signFlip, evalEvery: 2 });
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    for (const [key, count] of reads) expect(count, `option ${key} read ${count} times`).toBe(1);
    expect(codeOf(() => trainRobust(null as never))).toBe('INVALID_OPTION');
    expect(codeOf(() => trainRobust({ ...base(), step: 3 } as never))).toBe('UNKNOWN_OPTION');
  });

  it('an lr getter cannot pass the check and run as NaN', () => {
    let n = 0;
    const options = {
      ...base(),
      get lr() {
        n++;
        return n === 1 ? 0.05 : NaN;
      },
    };
    const out = trainRobust(options);
    expect(out.diverged).toBe(false);
    expect(out.params.every(Number.isFinite)).toBe(true);
  });

  it('caps steps and byzantineCount before running anything; checks lr(step), rng and outputs', () => {
    // The old code started a 1e12-step loop.
    expect(() => trainRobust({ ...base(), steps: 1e12 })).toThrow(/trainRobust: steps must be an integer in \[0, 10000000\], got 1000000000000/);
    expect(() => trainRobust({ ...base(), byzantineCount: 5e7, attack: signFlip })).toThrow(/byzantineCount must be an integer in \[0, 1048576\]/);
    expect(() => trainRobust({ ...base(), lr: (t) => (t < 2 ? 0.1 : NaN) })).toThrow(/trainRobust: lr\(2\) must return a finite number, got NaN/);
    expect(() => trainRobust({ ...base(), lr: Infinity })).toThrow(/trainRobust: lr must be a finite number/);
    expect(codeOf(() => trainRobust({ ...base(), seed: undefined, rng: {} as Rng }))).toBe('INVALID_OPTION');
    expect(codeOf(() => trainRobust({ ...base(), seed: NaN }))).toBe('INVALID_OPTION');
    expect(() => trainRobust({ ...base(), aggregator: () => new Float32Array(2) })).toThrow(/the aggregator must return a Float32Array of length 3, got length 2/);
    expect(() => trainRobust({ ...base(), aggregator: () => undefined as never })).toThrow(/the aggregator must return a Float32Array of length 3, got undefined/);
    expect(() => trainRobust({ ...base(), estimator: () => ({}) as never })).toThrow(/estimator factory must return a GradientEstimator/);
    expect(codeOf(() => trainRobust({ ...base(), attack: 5 as never, byzantineCount: 1 }))).toBe('INVALID_OPTION');
  });
});
