import { describe, expect, it } from 'vitest';
import { RobustAggError } from '../../src/core/errors.js';
import { layoutSize } from '../../src/core/layout.js';
import { createRng } from '../../src/core/random.js';
import { initMlp, mlpEvaluator, mlpLayout, mlpOracle, type MlpShape } from '../../src/optimizers/index.js';
import { maxAbsDiff } from './least-squares.js';

const shape: MlpShape = { inputSize: 7, hidden: 5, classes: 3 };

function data(count: number, seed: number) {
  const rng = createRng(seed);
  const features = new Float32Array(count * shape.inputSize);
  // Sparse-ish inputs, like image pixels: about half exactly zero.
  for (let i = 0; i < features.length; i++) features[i] = rng.next() < 0.5 ? 0 : rng.gaussian();
  const labels = Int32Array.from({ length: count }, () => rng.nextInt(shape.classes));
  return { features, labels };
}

/** Mean cross-entropy of samples `indices`, in float64, straight from the definition. */
function lossOf(x: Float64Array, set: ReturnType<typeof data>, indices: number[], double = false): number {
  const { inputSize: p, hidden: h, classes: k } = shape;
  let total = 0;
  for (const j of indices) {
    const act = Array.from({ length: h }, (_, u) => {
      let z = x[p * h + u];
      for (let i = 0; i < p; i++) z += set.features[j * p + i] * x[i * h + u];
      return Math.tanh(z);
    });
    const logits = Array.from({ length: k }, (_, c) => {
      let z = x[p * h + h + h * k + c];
      for (let u = 0; u < h; u++) z += act[u] * x[p * h + h + u * k + c];
      return z;
    });
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0));
    if (double) {
      // nn.Softmax, then CrossEntropyLoss (log-softmax again) on the probabilities.
      const p = logits.map((z) => Math.exp(z - lse));
      total += Math.log(p.reduce((s, q) => s + Math.exp(q), 0)) - p[set.labels[j]];
    } else total += lse - logits[set.labels[j]];
  }
  return total / indices.length;
}

describe('mlp', () => {
  it('lays out TF.js Dense weights: kernel [p,h], bias [h], kernel [h,k], bias [k]', () => {
    const layout = mlpLayout({ inputSize: 784, hidden: 50, classes: 10 });
    expect(layout.map((s) => [s.name, s.offset, s.size, s.kind])).toEqual([
      ['dense/kernel', 0, 39200, 'kernel'],
      ['dense/bias', 39200, 50, 'bias'],
      ['dense_1/kernel', 39250, 500, 'kernel'],
      ['dense_1/bias', 39750, 10, 'bias'],
    ]);
    expect(layoutSize(layout)).toBe(39760);
  });

  it('initialises Glorot-uniform kernels and zero biases, seeded', () => {
    const x = initMlp(shape, createRng(1));
    expect(x).toHaveLength(layoutSize(mlpLayout(shape)));
    const limit = Math.sqrt(6 / (7 + 5));
    for (let i = 0; i < 35; i++) expect(Math.abs(x[i])).toBeLessThanOrEqual(limit);
    expect(Array.from(x.subarray(35, 40))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(initMlp(shape, createRng(1)))).toEqual(Array.from(x));
  });

  it('gradient matches central finite differences of the loss', () => {
    const set = data(6, 2);
    const oracle = mlpOracle(set, shape);
    const x = initMlp(shape, createRng(3));
    for (let i = 0; i < x.length; i++) x[i] += 0.1 * Math.sin(i); // non-zero biases too
    const indices = [0, 3, 5];
    const g = oracle.gradient(x, indices);
    const x64 = Float64Array.from(x);
    const eps = 1e-5;
    for (let i = 0; i < x.length; i++) {
      const saved = x64[i];
      x64[i] = saved + eps;
      const up = lossOf(x64, set, indices);
      x64[i] = saved - eps;
      const down = lossOf(x64, set, indices);
      x64[i] = saved;
      expect(g[i]).toBeCloseTo((up - down) / (2 * eps), 5);
    }
  });

  it("loss 'double-softmax': the gradient matches finite differences of −log softmax(softmax(o))_y", () => {
    const set = data(6, 12);
    const oracle = mlpOracle(set, shape, { loss: 'double-softmax' });
    const x = initMlp(shape, createRng(13), { scheme: 'pytorch' });
    for (let i = 0; i < x.length; i++) x[i] *= 3; // confident logits, where the two losses differ most
    const indices = [1, 2, 4];
    const g = oracle.gradient(x, indices);
    const plain = mlpOracle(set, shape).gradient(x, indices);
    const x64 = Float64Array.from(x);
    const eps = 1e-5;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const saved = x64[i];
      x64[i] = saved + eps;
      const up = lossOf(x64, set, indices, true);
      x64[i] = saved - eps;
      const down = lossOf(x64, set, indices, true);
      x64[i] = saved;
      worst = Math.max(worst, Math.abs(g[i] - (up - down) / (2 * eps)));
    }
    expect(worst).toBeLessThan(1e-5);
    expect(maxAbsDiff(g, plain)).toBeGreaterThan(1e-3); // a different loss, not cross-entropy again
    const evaluate = mlpEvaluator(set, shape, { loss: 'double-softmax' });
    expect(evaluate(x).loss).toBeCloseTo(lossOf(x64, set, [0, 1, 2, 3, 4, 5], true), 6);
    expect(evaluate(x).accuracy).toBe(mlpEvaluator(set, shape)(x).accuracy);
    expect(() => mlpOracle(set, shape, { loss: 'mse' as never })).toThrow(/loss must be/);
  });

  it("init 'pytorch': kernels and biases U(−1/√fan_in, 1/√fan_in)", () => {
    const x = initMlp(shape, createRng(2), { scheme: 'pytorch' });
    const { inputSize: p, hidden: h, classes: k } = shape;
    const first = Array.from(x.subarray(0, p * h + h));
    const second = Array.from(x.subarray(p * h + h));
    expect(Math.max(...first.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(p));
    expect(Math.max(...second.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(h));
    expect(Math.max(...second.slice(h * k).map(Math.abs))).toBeGreaterThan(0); // biases drawn too
    expect(Math.max(...second.map(Math.abs))).toBeGreaterThan(0.5 / Math.sqrt(h));
    expect(() => initMlp(shape, createRng(2), { scheme: 'he' as never })).toThrow(/scheme must be/);
    expect(() => initMlp(shape, createRng(2), { sheme: 'pytorch' } as never)).toThrow(RobustAggError);
  });

  it('the factored code expands to the per-sample gradient', () => {
    const set = data(5, 4);
    const oracle = mlpOracle(set, shape);
    const x = initMlp(shape, createRng(5));
    const code = new Float32Array(oracle.codeSize);
    expect(oracle.codeSize).toBe(2 * 5 + 3);
    for (let j = 0; j < 5; j++) {
      oracle.code(x, j, code);
      const out = new Float64Array(x.length);
      oracle.addGradient(j, code, 1, out);
      expect(maxAbsDiff(out, oracle.gradient(x, [j]))).toBeLessThan(1e-6);
    }
  });

  it('evaluates loss and accuracy', () => {
    const set = data(40, 6);
    const evaluate = mlpEvaluator(set, shape);
    const x = initMlp(shape, createRng(7));
    const { loss, accuracy } = evaluate(x);
    expect(loss).toBeCloseTo(lossOf(Float64Array.from(x), set, Array.from({ length: 40 }, (_, j) => j)), 6);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
  });

  it('rejects bad shapes, labels, indices and parameter lengths', () => {
    const set = data(4, 1);
    expect(() => mlpOracle({ features: set.features, labels: [0, 1, 2] }, shape)).toThrow(RobustAggError);
    expect(() => mlpOracle({ features: set.features, labels: [0, 1, 2, 3] }, shape)).toThrow(/label of sample 3/);
    const oracle = mlpOracle(set, shape);
    expect(() => oracle.gradient(new Float32Array(3), [0])).toThrow(/length 3/);
    expect(() => oracle.gradient(initMlp(shape, createRng(1)), [4])).toThrow(/outside/);
    expect(() => mlpLayout({ inputSize: 0, hidden: 1, classes: 2 })).toThrow(RobustAggError);
  });
});
