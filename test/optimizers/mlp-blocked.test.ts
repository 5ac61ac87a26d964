// mlpOracle's first-layer loops run five hidden units at a time in registers. This checks them
// against the plain loops they replaced — one unit at a time, summed in the order of the sample's
// non-zero pixels — bit for bit (the gradient; sagaFactored's code() runs the same forward pass), for
// every hidden size from 1 to 13 (the blocks and every remainder), both losses, and inputs and
// weights from tiny to large.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { mlpEvaluator, mlpOracle, type MlpLoss, type MlpShape } from '../../src/optimizers/index.js';

const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * The mean gradient of `batch` and the mean loss, written as the oracle's loops were: one hidden unit
 * at a time.
 */
function plain(shape: MlpShape, loss: MlpLoss, features: Float32Array, labels: Int32Array, x: Float32Array, batch: number[]): { gradient: Float32Array; loss: number } {
  const { inputSize: p, hidden: h, classes: k } = shape;
  const d = p * h + h + h * k + k;
  const acc = new Float64Array(d);
  const code = new Float32Array(2 * h + k);
  let lossSum = 0;
  for (const j of batch) {
    const nz: number[] = [];
    for (let i = 0; i < p; i++) if (features[j * p + i] !== 0) nz.push(i);
    const z = new Float64Array(h);
    for (let u = 0; u < h; u++) z[u] = x[p * h + u];
    for (const i of nz) for (let u = 0; u < h; u++) z[u] += features[j * p + i] * x[i * h + u];
    for (let u = 0; u < h; u++) z[u] = Math.tanh(z[u]);
    const w2 = p * h + h;
    const o = new Float64Array(k);
    for (let c = 0; c < k; c++) o[c] = x[w2 + h * k + c];
    for (let u = 0; u < h; u++) for (let c = 0; c < k; c++) o[c] += z[u] * x[w2 + u * k + c];
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (o[c] > max) max = o[c];
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(o[c] - max);
    const logSum = max + Math.log(sum);
    const delta2 = new Float64Array(k);
    const y = labels[j];
    if (loss === 'cross-entropy') {
      for (let c = 0; c < k; c++) delta2[c] = Math.exp(o[c] - logSum) - (c === y ? 1 : 0);
      lossSum += logSum - o[y];
    } else {
      const pr = new Float64Array(k);
      let sum2 = 0;
      for (let c = 0; c < k; c++) {
        pr[c] = Math.exp(o[c] - logSum);
        sum2 += Math.exp(pr[c]);
      }
      let pg = 0;
      for (let c = 0; c < k; c++) {
        delta2[c] = Math.exp(pr[c]) / sum2 - (c === y ? 1 : 0);
        pg += pr[c] * delta2[c];
      }
      for (let c = 0; c < k; c++) delta2[c] = pr[c] * (delta2[c] - pg);
      lossSum += Math.log(sum2) - pr[y];
    }
    for (let u = 0; u < h; u++) {
      let back = 0;
      for (let c = 0; c < k; c++) back += x[w2 + u * k + c] * delta2[c];
      code[u] = back * (1 - z[u] * z[u]);
      code[h + u] = z[u];
    }
    for (let c = 0; c < k; c++) code[2 * h + c] = delta2[c];
    const scale = 1 / batch.length;
    for (const i of nz) {
      const v = scale * features[j * p + i];
      for (let u = 0; u < h; u++) acc[i * h + u] += v * code[u];
    }
    for (let u = 0; u < h; u++) acc[p * h + u] += scale * code[u];
    for (let u = 0; u < h; u++) {
      const a = scale * code[h + u];
      for (let c = 0; c < k; c++) acc[w2 + u * k + c] += a * code[2 * h + c];
    }
    for (let c = 0; c < k; c++) acc[w2 + h * k + c] += scale * code[2 * h + c];
  }
  return { gradient: Float32Array.from(acc, (v) => (Math.abs(v) < FLOAT32_MIN_NORMAL ? 0 : v)), loss: lossSum / batch.length };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('mlpOracle / mlpEvaluator: the blocked first-layer loops give the plain loops\' bits', () => {
  it('gradient and loss, for hidden sizes 1–13, both losses, inputs and weights scaled apart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.constantFrom<MlpLoss>('cross-entropy', 'double-softmax'),
        fc.integer(),
        fc.constantFrom(1e-20, 1, 1e10),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
        (hidden, loss, seed, scale, batch) => {
          const shape = { inputSize: 20, hidden, classes: 3 };
          const rng = createRng(seed);
          // Pixels of two magnitudes (1 and 2⁻²⁹), weights of moderate size: float32 products are
          // exact in float64 and sums of terms of one magnitude often are too, where a change in
          // the order of a sum would not show; these make the sums round. `scale` moves inputs
          // and weights apart (the products keep their size).
          const features = Float32Array.from({ length: 6 * 20 }, () => (rng.next() < 0.4 ? 0 : (rng.next() < 0.5 ? 1 : 2 ** -29) * scale * rng.gaussian()));
          const labels = Int32Array.from({ length: 6 }, () => rng.nextInt(3));
          const d = 20 * hidden + hidden + hidden * 3 + 3;
          const x = Float32Array.from({ length: d }, (_, i) => (0.3 * rng.gaussian()) / (i < 20 * hidden ? scale : 1));
          const oracle = mlpOracle({ features, labels }, shape, { loss });
          expect(sameBits(oracle.gradient(x, batch), plain(shape, loss, features, labels, x, batch).gradient)).toBe(true);
          // The loss is a float64 of the forward pass: any change in how the hidden units are
          // summed shows in it, where the float32 gradient would mostly round it away.
          const all = [0, 1, 2, 3, 4, 5];
          expect(mlpEvaluator({ features, labels }, shape, { loss })(x).loss).toBe(plain(shape, loss, features, labels, x, all).loss);
        },
      ),
      { numRuns: 300 },
    );
  });
});
