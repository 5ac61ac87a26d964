// A reduced Byrd-SAGA experiment (examples/byrd-saga runs the full table): 10 honest + 4 Byzantine
// workers (the paper's 20/70 ratio), 40 MNIST digits each, a 784–16(tanh)–10 network, 200 steps.
// Asserts the qualitative result of Wu, Ling, Chen & Giannakis (IEEE TSP 2020), Table I: under
// each attack the mean collapses, while the geometric median with SAGA stays close to its
// no-attack accuracy (within 15 points here; the full table is in docs/results/byrd-saga.md) —
// in our clean setting and in the seed notebook's (tanh-normalised inputs, double softmax, PyTorch
// initialisation, −10·μ) — and the diagnostics of the page: the attackers get less than their
// uniform share of the geometric median's weight, and its direction agrees with the honest mean.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { geometricMedian, geometricMedianWithDecision } from '../../src/aggregators/geometric-median.js';
import { mean } from '../../src/aggregators/mean.js';
import { gaussian, signFlip, zeroGradient } from '../../src/attacks/index.js';
import { createRng, randomPermutation } from '../../src/core/random.js';
import {
  initMlp,
  mlpEvaluator,
  mlpOracle,
  sagaFactored,
  trainRobust,
  type LabeledSet,
  type MlpLoss,
  type MlpShape,
  type TrainingAttack,
} from '../../src/optimizers/index.js';

interface MnistDigit {
  length: number;
  raw: number[];
}

const PIXELS = 784;
const HONEST = 10;
const BYZANTINE = 4;
const PER_WORKER = 40;
const TEST = 500;
const shape: MlpShape = { inputSize: PIXELS, hidden: 16, classes: 10 };

function load(seed: number, transform: (x: number) => number = (x) => x): { shards: LabeledSet[]; test: LabeledSet } {
  const digits = createRequire(import.meta.url)('mnist') as MnistDigit[];
  const all: { c: number; i: number }[] = [];
  for (let c = 0; c < 10; c++) for (let i = 0; i < digits[c].length; i++) all.push({ c, i });
  const order = randomPermutation(all.length, createRng(seed));
  const take = (from: number, count: number): LabeledSet => {
    const features = new Float32Array(count * PIXELS);
    const labels = new Int32Array(count);
    for (let r = 0; r < count; r++) {
      const { c, i } = all[order[from + r]];
      features.set(digits[c].raw.slice(i * PIXELS, (i + 1) * PIXELS).map(transform), r * PIXELS);
      labels[r] = c;
    }
    return { features, labels };
  };
  const test = take(0, TEST);
  const shards = Array.from({ length: HONEST }, (_, w) => take(TEST + w * PER_WORKER, PER_WORKER));
  return { shards, test };
}

describe('Byrd-SAGA smoke experiment (MNIST, reduced)', () => {
  const { shards, test } = load(7);
  const workers = shards.map((s) => mlpOracle(s, shape));
  const evaluate = mlpEvaluator(test, shape);
  const init = initMlp(shape, createRng(7));
  const run = (attack: TrainingAttack | null, aggregate: (m: readonly Float32Array[]) => Float32Array): number => {
    const out = trainRobust({
      workers,
      byzantineCount: BYZANTINE,
      attack,
      aggregator: aggregate,
      estimator: (w, { rng }) => sagaFactored(w, { rng }),
      lr: 0.1,
      steps: 200,
      evalEvery: 200,
      init,
      evaluate,
      seed: 7,
    });
    return out.path.accuracy.at(-1) as number;
  };
  const gm = (m: readonly Float32Array[]) => geometricMedian(m);
  const avg = (m: readonly Float32Array[]) => mean(m);
  const baseline = run(null, gm);

  it('learns without attack', () => {
    expect(baseline).toBeGreaterThan(0.6);
  });

  const attacks: [string, TrainingAttack][] = [
    ['gaussian (σ = 30)', (h, c) => gaussian(h, { ...c, sigma: 30 })],
    ['sign-flip (−3·mean)', (h, c) => signFlip(h, { ...c, scale: -3 })],
    ['zero-gradient', zeroGradient],
  ];
  it.each(attacks)('%s: mean collapses, geometric median + SAGA holds', (_, attack) => {
    const broken = run(attack, avg);
    const robust = run(attack, gm);
    // Measured (seed 7): no attack 83.6 %; mean 10.6–11 %; GM + SAGA 73.4–83.2 %. The paper's full run
    // loses ≤ 4 points; 200 steps on 400 digits is still early in training, so allow 15.
    expect(broken).toBeLessThan(0.3);
    expect(robust).toBeGreaterThan(baseline - 0.15);
    expect(robust).toBeGreaterThan(broken + 0.4);
  });
});

describe("Byrd-SAGA smoke experiment, the seed notebook's setting and the diagnostics", () => {
  // tanh((x − 0.1307)/0.3081) inputs, Softmax fed to CrossEntropyLoss, nn.Linear's initialisation.
  const { shards, test } = load(7, (x) => Math.tanh((x - 0.1307) / 0.3081));
  const loss: MlpLoss = 'double-softmax';
  const workers = shards.map((s) => mlpOracle(s, shape, { loss }));
  const evaluate = mlpEvaluator(test, shape, { loss });
  const init = initMlp(shape, createRng(7), { scheme: 'pytorch' });
  const maxValue: TrainingAttack = (h, c) => signFlip(h, { ...c, scale: -10 });

  /** Trains; records the attackers' GM weight and cos(GM, honest mean) at the last step. */
  const run = (attack: TrainingAttack | null, robust: boolean) => {
    let share = NaN;
    let cos = NaN;
    const out = trainRobust({
      workers,
      byzantineCount: BYZANTINE,
      attack,
      aggregator: (m) => {
        if (!robust) return mean(m);
        const { aggregate, decision } = geometricMedianWithDecision(m);
        share = decision.weights.slice(HONEST).reduce((s, w) => s + w, 0);
        const mu = mean(m.slice(0, HONEST));
        let ab = 0;
        let aa = 0;
        let bb = 0;
        for (let k = 0; k < mu.length; k++) {
          ab += aggregate[k] * mu[k];
          aa += aggregate[k] * aggregate[k];
          bb += mu[k] * mu[k];
        }
        cos = ab / Math.sqrt(aa * bb);
        return aggregate;
      },
      estimator: (w, { rng }) => sagaFactored(w, { rng }),
      lr: 0.1,
      steps: 200,
      evalEvery: 200,
      init,
      evaluate,
      seed: 7,
    });
    return { accuracy: out.path.accuracy.at(-1) as number, share, cos };
  };
  const baseline = run(null, true);

  it('learns without attack, more slowly than with one softmax (smaller gradients)', () => {
    // Measured (seed 7): 67.2 % after 200 steps (83.6 % with one softmax above).
    expect(baseline.accuracy).toBeGreaterThan(0.5);
  });

  it('maxValue (−10·μ): the mean collapses; SAGA + GM holds, gives the attackers less than their share and follows μ', () => {
    const broken = run(maxValue, false);
    const robust = run(maxValue, true);
    // Measured (seed 7): no attack 67.2 %; mean 0.2 % (below chance, like the paper's 0.11 %: the
    // clean setting's −3·μ stops at 10 %); GM 51.8 %, attackers' weight 0.055, cos 0.97.
    expect(broken.accuracy).toBeLessThan(0.05);
    expect(robust.accuracy).toBeGreaterThan(baseline.accuracy - 0.2);
    expect(robust.accuracy).toBeGreaterThan(broken.accuracy + 0.4);
    expect(robust.share).toBeLessThan(BYZANTINE / (HONEST + BYZANTINE)); // uniform weights would be 4/14
    expect(robust.cos).toBeGreaterThan(0);
  });
});
