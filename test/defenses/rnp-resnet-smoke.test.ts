// Smoke test of the ResNet path of examples/backdoor-pruning (run.mjs --model resnet): RNP on the
// example's ResNet-8, a functional graph with identity and projection shortcuts, whose
// BatchNormalization layers feed Add layers. Untrained model, 30 digits, one epoch per stage: this
// checks the plumbing (masks for every BN layer, pruning in a functional graph, no mutation, no
// leak), not the defense; docs/results/backdoor-pruning.md has the measured run.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmConvGradients, rnp } from '../../src/defenses/index.js';
import { mnistSubset, toTensor } from './helpers.js';

type BuildResnet = (seed: number, options?: { widths?: number[]; inputShape?: number[] }) => tfl.LayersModel;

const BN_LAYERS = ['stem_bn', 's1_bn1', 's1_bn2', 's2_bn1', 's2_bn2', 's2_short_bn', 's3_bn1', 's3_bn2', 's3_short_bn'];

function gammaOf(model: tfl.LayersModel, layer: string): Float32Array {
  const w = model.getLayer(layer).weights.find((v) => v.originalName.endsWith('gamma'));
  if (!w) throw new Error(`no gamma in ${layer}`);
  return Float32Array.from(w.read().dataSync() as Float32Array);
}

describe('RNP on the backdoor example ResNet-8 (smoke)', () => {
  let model: tfl.LayersModel;
  let clean: { x: tf.Tensor; y: Int32Array };

  beforeAll(async () => {
    registerWasmConvGradients();
    await tf.setBackend('wasm');
    const { buildResnet } = (await import(join(__dirname, '../../examples/backdoor-pruning/resnet.mjs'))) as { buildResnet: BuildResnet };
    model = buildResnet(1, { widths: [4, 8, 8] });
    const { train } = mnistSubset(3, 0, 5);
    clean = { x: toTensor(train.x), y: train.y };
  }, 60_000);

  afterAll(() => {
    model.dispose();
    clean.x.dispose();
  });

  it('has the documented layout: 9 BN layers, projection shortcuts in stages 2 and 3', () => {
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name);
    expect(bns.sort()).toEqual([...BN_LAYERS].sort());
    expect(model.layers.filter((l) => l.getClassName() === 'Add').length).toBe(3);
    expect(model.outputs[0].shape).toEqual([null, 10]);
  });

  it('learns a mask per channel of every BN layer and prunes in the functional graph without touching the original', () => {
    const original = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
    const tensors = tf.memory().numTensors;
    const { model: out, report } = rnp(model, clean, {
      seed: 3,
      unlearningEpochs: 1,
      recoveryEpochs: 1,
      batchSize: 16,
      thresholds: [0, 0.5, 1],
    });
    expect(Object.keys(report.masks).sort()).toEqual([...BN_LAYERS].sort());
    for (const [layer, m] of Object.entries(report.masks)) {
      expect(m.length).toBe(gammaOf(model, layer).length);
      for (const v of m) expect(v >= 0 && v <= 1).toBe(true);
    }
    expect(report.sweep.map((s) => s.value)).toEqual([0, 0.5, 1]);
    // Every pruned channel has γ = 0 in the output, every other channel keeps the original's γ.
    for (const layer of BN_LAYERS) {
      const g0 = gammaOf(model, layer);
      const g1 = gammaOf(out, layer);
      const pruned = new Set(report.pruned.filter((c) => c.layer === layer).map((c) => c.channel));
      g0.forEach((v, c) => expect(g1[c]).toBe(pruned.has(c) ? 0 : v));
    }
    model.getWeights().forEach((w, i) => expect(Float32Array.from(w.dataSync() as Float32Array)).toEqual(original[i]));
    out.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  }, 60_000);

  it('fixed pruning by given masks zeroes exactly the chosen channels, shortcut BN included', () => {
    const masks = Object.fromEntries(BN_LAYERS.map((l) => [l, Array.from(gammaOf(model, l), () => 1)]));
    masks.s2_short_bn[3] = 0.1;
    masks.s1_bn2[0] = 0;
    const { model: out, report } = rnp(model, clean, { seed: 0, masks, selection: 'fixed', pruningValue: 0.2, thresholds: [0.2] });
    expect(report.pruned.map((c) => `${c.layer}[${c.channel}]`).sort()).toEqual(['s1_bn2[0]', 's2_short_bn[3]']);
    expect(gammaOf(out, 's2_short_bn')[3]).toBe(0);
    expect(gammaOf(out, 's1_bn2')[0]).toBe(0);
    expect(gammaOf(out, 's2_short_bn')[2]).toBe(gammaOf(model, 's2_short_bn')[2]);
    out.dispose();
  }, 30_000);
});
