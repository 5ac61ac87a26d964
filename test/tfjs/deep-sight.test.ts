// DeepSight (src/tfjs/deep-sight.ts): NEUPs, threshold exceedings and DDifs against hand
// computations, the ensemble clustering rejecting a backdoor cluster, hostile clients and the
// tensor hygiene of every call.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLayout } from '../../src/core/layout.js';
import { createRng } from '../../src/core/random.js';
import { deepSight, deepSightWithDecision, type DeepSightOptions } from '../../src/tfjs/index.js';
import { expectError, expectFinite } from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs fn and checks that it leaves the number of live tensors unchanged. */
function noLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

// Softmax regression: inputs [b, I], kernel [I, P] then bias [P].
function softmaxModel(inputs: number, classes: number) {
  const layout = createLayout([
    { name: 'dense/kernel', shape: [inputs, classes], kind: 'kernel' },
    { name: 'dense/bias', shape: [classes], kind: 'bias' },
  ]);
  const predict = (params: Float32Array, x: tf.Tensor) =>
    tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(params.slice(0, inputs * classes), [inputs, classes])), tf.tensor1d(params.slice(inputs * classes))));
  return { layout, predict, d: inputs * classes + classes };
}

describe('deepSight', () => {
  it('NEUPs and threshold exceedings (hand-computed, P = 3, fanIn 2)', () => {
    // Client 0: ΔW = [[1, 0, 0], [1, 0, 0]], Δb = (0, 1, 0): energies (2, 1, 0), squares (4, 1, 0),
    // NEUPs (0.8, 0.2, 0); threshold max(0.01, 1/3)·0.8 = 0.267: one class exceeds it, TE = 1.
    // Client 1: every entry 0.5: energies (1.5, 1.5, 1.5), NEUPs 1/3 each, all exceed 1/9: TE = 3.
    const { layout, predict } = softmaxModel(2, 3);
    const updates = [Float32Array.of(1, 0, 0, 1, 0, 0, 0, 1, 0), new Float32Array(9).fill(0.5)];
    const { decision } = noLeak(() => deepSightWithDecision(updates, { global: new Float32Array(9), layout, predict, probeShape: [2], probes: 10, seed: 1 }));
    expect(Array.from(decision.neups).map((x) => +x.toFixed(12))).toEqual([0.8, 0.2, 0, 1 / 3, 1 / 3, 1 / 3].map((x) => +x.toFixed(12)));
    expect(Array.from(decision.thresholdExceedings)).toEqual([1, 3]);
    expect(decision.classes).toBe(3);
    // median TE = 2; suspicious when TE ≤ 1: client 0.
    expect(decision.suspicious).toEqual([0]);
  });

  it('DDifs: the ratio of the client’s to the global model’s probabilities (hand-computed with an input-free model)', () => {
    // predict = softmax(b): every probe gives the same probabilities, so DDifₖ = pᵢₖ / (p_Gₖ + ε)
    // exactly; a zero update gives p_Gₖ / (p_Gₖ + ε).
    const layout = createLayout([
      { name: 'k', shape: [1, 2], kind: 'kernel' },
      { name: 'b', shape: [2], kind: 'bias' },
    ]);
    const predict = (params: Float32Array, x: tf.Tensor) => tf.tile(tf.softmax(tf.tensor2d(params.slice(2), [1, 2])), [x.shape[0], 1]);
    const global = Float32Array.of(0, 0, 0, 0);
    const updates = [Float32Array.of(0, 0, Math.log(3), 0), new Float32Array(4)];
    const eps = 1e-6;
    const { decision } = deepSightWithDecision(updates, { global, layout, predict, probeShape: [1], probes: 7, seeds: 2, seed: 2, epsilon: eps });
    // Client 0: softmax(ln 3, 0) = (3/4, 1/4), p_G = (1/2, 1/2): DDif = (1.5, 0.5) up to ε and float32.
    for (let s = 0; s < 2; s++) {
      const base = s * 2 * 2;
      expect(decision.ddifs[base]).toBeCloseTo(0.75 / (0.5 + eps), 5);
      expect(decision.ddifs[base + 1]).toBeCloseTo(0.25 / (0.5 + eps), 5);
      expect(decision.ddifs[base + 2]).toBeCloseTo(0.5 / (0.5 + eps), 6);
    }
  });

  it('rejects a cluster of backdoor updates concentrated on one class and clips the rest to the median norm', () => {
    const { layout, predict, d } = softmaxModel(4, 5);
    const rng = createRng(4);
    const honest = Array.from({ length: 9 }, () => Float32Array.from({ length: d }, () => 0.1 * rng.gaussian()));
    // Backdoors push class 2 (kernel column 2 and bias 2), each a little different.
    const backdoor = Array.from({ length: 4 }, () => Float32Array.from({ length: d }, (_, k) => ((k < 20 && k % 5 === 2) || k === 22 ? 0.8 + 0.05 * rng.gaussian() : 0)));
    const updates = [...honest.slice(0, 3), ...backdoor.slice(0, 2), ...honest.slice(3), ...backdoor.slice(2)];
    const attackers = [3, 4, 11, 12];
    const { aggregate, decision } = noLeak(() =>
      deepSightWithDecision(updates, { global: new Float32Array(d), layout, predict, probeShape: [4], probes: 300, seed: 5, minClusterSize: 2, minSamples: 1 }),
    );
    for (const a of attackers) {
      expect(decision.thresholdExceedings[a]).toBe(1);
      expect(decision.suspicious).toContain(a);
      expect(decision.selected).not.toContain(a);
    }
    expect(decision.selected.length).toBeGreaterThanOrEqual(6);
    let norm = 0;
    for (const v of aggregate) norm += v * v;
    expect(Math.sqrt(norm)).toBeLessThanOrEqual(decision.clipBound * (1 + 1e-6));
    expect(decision.componentLabels.ddif.length).toBe(3);
  });

  it('hostile clients: NaN is dropped, 1e38 weights give invalid predictions and are never accepted; output finite', () => {
    const { layout, predict, d } = softmaxModel(3, 4);
    const rng = createRng(9);
    const honest = Array.from({ length: 6 }, () => Float32Array.from({ length: d }, () => 0.1 * rng.gaussian()));
    const huge = new Float32Array(d).fill(3e38);
    const nan = new Float32Array(d).fill(NaN);
    const updates = [huge, ...honest, nan];
    const before = updates.map((u) => Float32Array.from(u));
    const { aggregate, decision } = noLeak(() => deepSightWithDecision(updates, { global: new Float32Array(d), layout, predict, probeShape: [3], probes: 40, seed: 1 }));
    expect(decision.dropped).toEqual([7]);
    expect(decision.invalid).toEqual([0]);
    expect(decision.selected).not.toContain(0);
    expect(decision.labels[0]).toBe(-2);
    expectFinite(aggregate);
    updates.forEach((u, i) => expect(Array.from(u)).toEqual(Array.from(before[i])));
    // Same seed, same result.
    const again = deepSightWithDecision(updates, { global: new Float32Array(d), layout, predict, probeShape: [3], probes: 40, seed: 1 });
    expect(Array.from(again.aggregate)).toEqual(Array.from(aggregate));
    expect(Array.from(again.decision.ddifs)).toEqual(Array.from(decision.ddifs));
  });

  it('property: with hostile clients anywhere the output is finite, ‖out‖ ≤ S, inputs unchanged, no tensor leaked', () => {
    const { layout, predict, d } = softmaxModel(3, 4);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer(), fc.constantFrom('huge', 'blinder', 'flip', 'tiny'), (n, seed, kind) => {
        const rng = createRng(seed);
        const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => 0.2 * rng.gaussian()));
        const b = Math.max(1, rng.nextInt(Math.ceil(n / 2)));
        for (let t = 0; t < b; t++) {
          const i = rng.nextInt(n);
          rows[i] =
            kind === 'huge' ? new Float32Array(d).fill(3.4e38) : kind === 'blinder' ? Float32Array.from({ length: d }, (_, k) => (k === 0 ? 1e30 : 0)) : kind === 'flip' ? rows[i].map((v) => -50 * v) : rows[i].map((v) => 1e-30 * v);
        }
        const before = rows.map((r) => Float32Array.from(r));
        const { aggregate, decision } = noLeak(() => deepSightWithDecision(rows, { global: new Float32Array(d), layout, predict, probeShape: [3], probes: 16, seeds: 1, seed: 1, minClusterSize: 2, minSamples: 1 }));
        expectFinite(aggregate);
        let norm = 0;
        for (const v of aggregate) norm += v * v;
        expect(Math.sqrt(norm)).toBeLessThanOrEqual(decision.clipBound * (1 + 1e-6) + 1e-30);
        for (const i of decision.invalid) expect(decision.selected).not.toContain(i);
        rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
      }),
      { numRuns: 25 },
    );
  });

  it('rejects bad layouts, predictions and options, naming them; leaves no tensor behind when it throws', () => {
    const { layout, predict, d } = softmaxModel(2, 3);
    const updates = [new Float32Array(d).fill(0.1), new Float32Array(d).fill(0.2)];
    const base = { global: new Float32Array(d), layout, predict, probeShape: [2], probes: 5, seed: 1 };
    const before = tf.memory().numTensors;
    expectError(() => deepSight(updates, { ...base, predict: (() => tf.zeros([5, 2])) as never }), 'INVALID_OPTION', /shape \[5, 3\]/);
    expectError(() => deepSight(updates, { ...base, predict: (() => 3) as never }), 'INVALID_OPTION', /predict must return a tf.Tensor/);
    expectError(() => deepSight(updates, { ...base, predict: (() => tf.fill([5, 3], NaN)) as never }), 'INVALID_OPTION', /global model/);
    expect(tf.memory().numTensors).toBe(before);
    expectError(() => deepSight(updates, { ...base, layout: createLayout([{ name: 'w', shape: [d], kind: 'kernel' }]) }), 'INVALID_OPTION', /no segment of kind 'bias'/);
    expectError(() => deepSight(updates, { ...base, outputBias: 'nope' }), 'INVALID_OPTION', /outputBias 'nope'/);
    expectError(() => deepSight(updates, { ...base, layout: createLayout([{ name: 'w', shape: [d + 1], kind: 'kernel' }]) }), 'INVALID_OPTION', /layout covers/);
    expectError(() => deepSight(updates, { ...base, probeShape: [] }), 'INVALID_OPTION', /probeShape/);
    expectError(() => deepSight(updates, { ...base, probes: 0 }), 'INVALID_OPTION', /probes/);
    expectError(() => deepSight(updates, { ...base, tau: 0 }), 'INVALID_OPTION', /tau/);
    expectError(() => deepSight(updates, { ...base, global: new Float32Array(d + 1) }), 'INVALID_OPTION', /global/);
    expectError(() => deepSight(updates, { ...base, seed: undefined }), 'INVALID_OPTION', /deepSight/);
  });
});

const model = softmaxModel(2, 2);
describeOptionReading({
  name: 'deepSight',
  call: (u, o) => deepSightWithDecision(u, o as DeepSightOptions),
  updates: [Float32Array.of(0.1, 0, 0, 0.1, 0, 0.1), Float32Array.of(0, 0.1, 0.1, 0, 0.1, 0)],
  valid: { global: new Float32Array(6), layout: model.layout, predict: model.predict, probeShape: [2], probes: 4, seed: 1 },
  getter: { key: 'probes', values: [4, 0] },
  required: true,
});
