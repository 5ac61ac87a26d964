// The experiment's grid and one run of it: attacks, estimators (with the paper's step sizes) and
// aggregators of the Byrd-SAGA table, on the notebook's 784–50(tanh)–10 network.
import {
  coordinateMedian,
  createRng,
  gaussian,
  geometricMedian,
  initMlp,
  krum,
  mean,
  minibatch,
  mlpEvaluator,
  mlpOracle,
  sagaFactored,
  sgd,
  signFlip,
  trainRobust,
  zeroGradient,
} from '../../dist/index.js';
import { splitMnist } from './data.mjs';

export const SHAPE = { inputSize: 784, hidden: 50, classes: 10 };
export const HONEST = 50;
export const BYZANTINE = 20;

/** Attacks of the table: the Byzantine messages given the honest ones (null: no attack). */
// Each attack needs only the honest mean μ, computed once on the fast kernels (mean(), float64
// accumulation rounded to float32), then handed to the library's attack as its single "honest"
// vector: the attack's formula applied to [μ] is the formula applied to the honest messages.
export const ATTACKS = {
  none: null,
  gaussian: (honest, ctx) => gaussian([mean(honest)], { ...ctx, sigma: 30 }), // μ + 30·N(0, I)
  'sign-flip': (honest, ctx) => signFlip([mean(honest)], { ...ctx, scale: -3 }), // −3·μ
  // −Σ honest / f (the sum of all messages is 0) = −(H/f)·μ
  'zero-gradient': (honest, ctx) => signFlip([mean(honest)], { ...ctx, scale: -honest.length / ctx.f }),
};

/** Estimators with the paper's step sizes. */
export const ESTIMATORS = {
  SGD: { lr: 0.1, make: (w, { rng }) => sgd(w, { rng }), note: 'one sample per worker per step' },
  BSGD: { lr: 0.5, make: (w, { rng }) => minibatch(w, { batchSize: 50, rng }), note: 'mini-batch of 50 per worker' },
  SAGA: { lr: 0.1, make: (w, { rng }) => sagaFactored(w, { rng }), note: 'SAGA table (factored, 110 floats per sample)' },
};

/** Aggregators: the paper's two, then two extra columns. */
export const AGGREGATORS = {
  mean: (m) => mean(m),
  geometricMedian: (m) => geometricMedian(m), // Weiszfeld, tol 1e-5, ≤ 80 iterations
  coordinateMedian: (m) => coordinateMedian(m),
  krum: (m) => krum(m, { f: BYZANTINE }),
};

/** The data, oracles and evaluator one process needs (built once, shared by its runs). */
export function prepare({ seed, testSize }) {
  const { test, shards, perWorker, total } = splitMnist({ seed, workers: HONEST, testSize });
  return {
    workers: shards.map((s) => mlpOracle(s, SHAPE)),
    evaluate: mlpEvaluator(test, SHAPE),
    init: initMlp(SHAPE, createRng(seed)),
    perWorker,
    total,
  };
}

/** One cell of the grid. `onStep(step)` is called after every step. */
export function runOne(prepared, { attack, estimator, aggregator, steps, evalEvery, seed }, onStep) {
  const est = ESTIMATORS[estimator];
  const started = performance.now();
  const result = trainRobust({
    workers: prepared.workers,
    byzantineCount: BYZANTINE,
    attack: ATTACKS[attack],
    aggregator: AGGREGATORS[aggregator],
    estimator: est.make,
    lr: est.lr,
    steps,
    init: prepared.init,
    evaluate: prepared.evaluate,
    evalEvery,
    seed,
    onProgress: ({ step }) => onStep?.(step),
  });
  const last = result.path.accuracy.length - 1;
  return {
    attack,
    estimator,
    aggregator,
    accuracy: result.path.accuracy[last],
    loss: result.path.loss[last],
    path: result.path,
    stepsDone: result.stepsDone,
    diverged: result.diverged,
    seconds: (performance.now() - started) / 1000,
  };
}
