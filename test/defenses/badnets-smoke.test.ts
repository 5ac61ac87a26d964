// Smoke versions of examples/backdoor-pruning at a small scale: 800 real MNIST digits, 10 % BadNets
// poison, a small CNN with BatchNormalization and global average pooling. Runs on tfjs-backend-wasm
// with registerWasmConvGradients (tfjs-backend-cpu's convolution gradients would take minutes here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type * as tfl from '@tensorflow/tfjs-layers';
import { clp, evaluateBackdoor, finePruning, registerWasmConvGradients, rnp } from '../../src/defenses/index.js';
import { mnistSubset, poisonBadNets, TARGET, tinyCnn, toTensor, train, triggered } from './helpers.js';

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

describe('BadNets on MNIST at smoke scale', () => {
  let model: tfl.LayersModel;
  let evalData: Parameters<typeof evaluateBackdoor>[1];
  let clean: { x: tf.Tensor; y: Int32Array };
  let clean5: { x: tf.Tensor; y: Int32Array };
  let before: { acc: number; asr: number; ra: number };
  const probe = (m: tfl.LayersModel) => {
    const e = evaluateBackdoor(m, evalData);
    return { acc: e.acc, asr: e.asr };
  };

  beforeAll(async () => {
    registerWasmConvGradients();
    await tf.setBackend('wasm');
    const { train: tr, test } = mnistSubset(80, 20, 1);
    const poisoned = poisonBadNets(tr.x, tr.y, 0.1, 2);
    model = tinyCnn(3);
    const x = toTensor(poisoned.x);
    await train(model, x, poisoned.y, 20);
    x.dispose();
    evalData = {
      clean: { x: toTensor(test.x), y: test.y },
      poisoned: { x: toTensor(triggered(test.x)), y: test.y },
      target: TARGET,
    };
    // The defender's clean digits: 80 (10 %) for RNP, 200 for Fine-Pruning.
    clean = { x: toTensor(tr.x.slice(0, 80 * 784)), y: tr.y.slice(0, 80) };
    clean5 = { x: toTensor(tr.x.slice(0, 200 * 784)), y: tr.y.slice(0, 200) };
    before = evaluateBackdoor(model, evalData);
  }, 120_000);

  afterAll(() => {
    model.dispose();
    tf.dispose([evalData.clean.x, evalData.poisoned.x, clean.x, clean5.x]);
  });

  it('BadNets lifts ASR above 90 % before any defense', () => {
    expect(before.asr).toBeGreaterThan(0.9);
    expect(before.acc).toBeGreaterThan(0.6);
  });

  it('RNP with the reference defaults: masks in [0, 1], whole sweep, choice within budget, no mutation, no leak', () => {
    const weights = weightsOf(model);
    const tensors = tf.memory().numTensors;
    const { model: out, report } = rnp(model, clean, { seed: 4, probe });
    expect(report.unlearning.length).toBeGreaterThan(0);
    expect(report.unlearning.length).toBeLessThanOrEqual(20);
    expect(report.recovery).toHaveLength(20);
    expect(Object.keys(report.masks)).toHaveLength(3);
    for (const m of Object.values(report.masks)) for (const v of m) expect(v >= 0 && v <= 1).toBe(true);
    expect(report.sweep.map((s) => s.value)).toEqual(Array.from({ length: 19 }, (_, i) => i / 20));
    if (report.chosen !== null) {
      expect(report.chosen.validationAccuracy).toBeGreaterThanOrEqual(report.baseValidationAccuracy - 0.02 - 1e-12);
      expect(report.pruned).toHaveLength(report.chosen.prunedCount);
    } else {
      expect(report.pruned).toEqual([]);
    }
    expect(weightsOf(model)).toEqual(weights);
    out.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('RNP cuts ASR below 10 % at the smoke scale (unlearning lr 0.003, 50-point budget)', () => {
    // A 56-channel CNN unlearns in a few large steps at the reference lr 0.01, and at 0.001 it
    // hardly unlearns within 20 epochs; 0.003 sits between. At this scale the channels RNP ranks
    // lowest also serve the clean task, so removing the backdoor costs clean accuracy: the budget
    // on the 80 clean digits is widened to 50 points (see docs/results/backdoor-pruning.md for the
    // full-size run with the 2-point default).
    const { model: out, report } = rnp(model, clean, { seed: 4, unlearningRate: 0.003, maxAccuracyDrop: 50 });
    const after = evaluateBackdoor(out, evalData);
    out.dispose();
    expect(report.chosen).not.toBeNull();
    expect(report.pruned.length).toBeGreaterThan(0);
    // The pruned channels are the lowest-mask ones, in order.
    const masks = report.pruned.map((p) => p.mask);
    expect(masks).toEqual([...masks].sort((a, b) => a - b));
    expect(after.asr).toBeLessThan(0.1);
    expect(after.acc).toBeGreaterThan(0.3);
  });

  it('Fine-Pruning prunes the last conv layer in activation order, holds pruned channels at zero, no leak', () => {
    const weights = weightsOf(model);
    const tensors = tf.memory().numTensors;
    const { model: out, report } = finePruning(model, clean5, { seed: 5, epochs: 2, probe });
    const order = report.order;
    for (let i = 1; i < order.length; i++) {
      expect(report.meanActivations[order[i]]).toBeGreaterThanOrEqual(report.meanActivations[order[i - 1]]);
    }
    expect(report.layer).toBe(model.layers[6].name);
    expect(report.batchNorm).toBe(model.layers[7].name);
    expect(report.activationLayer).toBe(model.layers[8].name);
    expect(report.pruned).toEqual(order.slice(0, report.pruned.length));
    const kept = report.steps.filter((s) => s.kept);
    expect(kept).toHaveLength(report.pruned.length);
    for (const s of kept) expect(s.validationAccuracy).toBeGreaterThanOrEqual(report.baseValidationAccuracy - 0.04 - 1e-12);
    expect(report.fineTuning).toHaveLength(2);
    // Pruned channels are exactly zero in the kernel and in the following BN's γ and β.
    const [kernel] = out.layers[6].getWeights().map((w) => w.dataSync());
    const [gamma, beta] = out.layers[7].getWeights().map((w) => w.dataSync());
    const channels = 32;
    for (const c of report.pruned) {
      expect(gamma[c]).toBe(0);
      expect(beta[c]).toBe(0);
      for (let i = c; i < kernel.length; i += channels) expect(kernel[i]).toBe(0);
    }
    expect(report.finalProbe).toBeDefined();
    expect(weightsOf(model)).toEqual(weights);
    out.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it("the experiment's phases at smoke scale: both picks and the last-layer row from one set of masks, the CSAW curve, CLP over u", () => {
    const tensors = tf.memory().numTensors;
    const first = rnp(model, clean, { seed: 4, unlearningEpochs: 3, recoveryEpochs: 3 });
    const masks = first.report.masks;
    first.model.dispose();
    // BackdoorBench's pick: every channel with mask ≤ 0.70, whatever it costs.
    const fixed = rnp(model, clean, { seed: 0, masks, selection: 'fixed', thresholds: [0.7] });
    const expected = Object.values(masks).reduce((a, m) => a + Array.from(m).filter((v) => v <= 0.7).length, 0);
    expect(fixed.report.pruned).toHaveLength(expected);
    fixed.model.dispose();
    // The same masks, last BN layer only.
    const last = model.layers[7].name;
    const lastOnly = rnp(model, clean, { seed: 0, masks, layers: [last], maxAccuracyDrop: 100 });
    expect(lastOnly.report.pruned.every((p) => p.layer === last)).toBe(true);
    expect(lastOnly.report.pruned).toHaveLength(Array.from(masks[last]).filter((v) => v <= 0.9).length);
    lastOnly.model.dispose();
    // Prune-only Fine-Pruning to the last channel: one step per channel but the last, none undone.
    const curve = finePruning(model, clean5, { epochs: 0, maxAccuracyDrop: 100, probe });
    expect(curve.report.steps.map((st) => st.prunedCount)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(curve.report.steps.every((st) => st.kept)).toBe(true);
    expect(curve.report.stoppedBy).toBe('last-channel');
    curve.model.dispose();
    // CLP prunes fewer channels as u grows.
    const counts = [0, 1, 3, 5].map((u) => {
      const c = clp(model, { u });
      c.model.dispose();
      return c.report.prunedCount;
    });
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('CLP finds the three conv → BN pairs of the trained model', () => {
    const tensors = tf.memory().numTensors;
    const { model: out, report } = clp(model);
    expect(report.layers.map((l) => l.upperBounds.length)).toEqual([8, 16, 32]);
    for (const l of report.layers) for (const c of l.pruned) expect(l.upperBounds[c]).toBeGreaterThan(l.threshold);
    out.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
