// RNP's options beyond the smoke run: the unlearning MultiStepLR, the two selection rules (our
// accuracy budget and BackdoorBench's fixed threshold), the per-layer restriction, reusing masks,
// the augmentation hook, and randomCropFlip. Tiny 8×8 models on tfjs-backend-cpu; masks given by
// hand where the test is about the pruning step, so the expected sets are computed by hand.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/core/random.js';
import { RobustAggError } from '../../src/core/errors.js';
import { randomCropFlip, rnp } from '../../src/defenses/index.js';

function tiny(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, useBias: false, kernelInitializer: tfl.initializers.heNormal({ seed }) }),
      tfl.layers.batchNormalization({ name: `bnA${seed}` }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, useBias: false, kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) }),
      tfl.layers.batchNormalization({ name: `bnB${seed}` }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
}

function data(n: number) {
  const pixels = Float32Array.from({ length: n * 64 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
  return { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

function gammas(model: tfl.LayersModel, layer: string): Float32Array {
  return Float32Array.from(model.getLayer(layer).getWeights()[0].dataSync() as Float32Array);
}

describe('rnp options', () => {
  it('unlearning follows MultiStepLR(10, 20; ×0.1) by default and custom milestones when given', () => {
    const model = tiny(1);
    const clean = data(8);
    const base = rnp(model, clean, { seed: 1, cleanThreshold: 0, unlearningEpochs: 12, recoveryEpochs: 0, batchSize: 8 });
    expect(base.report.unlearning.map((e) => e.learningRate)).toEqual([...Array(10).fill(0.01), 0.01 * 0.1, 0.01 * 0.1]);
    base.model.dispose();
    const custom = rnp(model, clean, { seed: 1, cleanThreshold: 0, unlearningEpochs: 5, recoveryEpochs: 0, unlearningMilestones: [2, 4], unlearningGamma: 0.5 });
    expect(custom.report.unlearning.map((e) => e.learningRate)).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025]);
    custom.model.dispose();
    model.dispose();
    clean.x.dispose();
  });

  it('given masks: no training, the fixed threshold prunes exactly the channels with m ≤ t whatever they cost', () => {
    const model = tiny(2);
    const clean = data(12);
    const masks = { bnA2: [0.9, 0, 0.7, 0.71], bnB2: [0.5, 1, 0.69, 0.05, 0.7, 0.2] };
    const { model: out, report } = rnp(model, clean, { seed: 0, masks, selection: 'fixed', thresholds: [0, 0.5] });
    expect(report.unlearning).toEqual([]);
    expect(report.recovery).toEqual([]);
    expect(report.selection).toBe('fixed');
    expect(report.chosen?.value).toBe(0.7); // BackdoorBench's pruning_number, not one of the sweep's thresholds
    const pruned = report.pruned.map((p) => `${p.layer}[${p.channel}]`).sort();
    expect(pruned).toEqual(['bnA2[1]', 'bnA2[2]', 'bnB2[0]', 'bnB2[2]', 'bnB2[3]', 'bnB2[4]', 'bnB2[5]'].sort());
    const gA = gammas(out, 'bnA2');
    const gB = gammas(out, 'bnB2');
    expect([gA[0] !== 0, gA[1], gA[2], gA[3] !== 0]).toEqual([true, 0, 0, true]);
    expect([gB[0], gB[1] !== 0, gB[2], gB[3], gB[4], gB[5]]).toEqual([0, true, 0, 0, 0, 0]);
    out.dispose();
    model.dispose();
    clean.x.dispose();
  });

  it('layers restricts pruning to the named BN layers; budget 100 takes the largest threshold', () => {
    const model = tiny(3);
    const clean = data(12);
    const masks = { bnA3: [0, 0, 0, 0], bnB3: [0.3, 1, 0.95, 0.05, 0.7, 0.2] };
    const { model: out, report } = rnp(model, clean, { seed: 0, masks, layers: ['bnB3'], maxAccuracyDrop: 100 });
    expect(report.selection).toBe('accuracy-budget');
    expect(report.chosen?.value).toBe(0.9);
    expect(report.pruned.map((p) => p.channel).sort()).toEqual([0, 3, 4, 5]);
    expect(report.pruned.every((p) => p.layer === 'bnB3')).toBe(true);
    expect(Array.from(gammas(out, 'bnA3')).every((g) => g !== 0)).toBe(true);
    expect(report.sweep[0].prunedCount).toBe(0); // t = 0 set of bnB3 is empty; bnA3's zeros are out of reach
    out.dispose();
    model.dispose();
    clean.x.dispose();
  });

  it('fixed count selection needs pruningValue; bad masks, layers and selections throw RobustAggError', () => {
    const model = tiny(4);
    const clean = data(6);
    const masks = { bnA4: [0, 0, 0, 0], bnB4: [0, 0, 0, 0, 0, 0] };
    const bad = (o: Parameters<typeof rnp>[2]) => () => rnp(model, clean, { seed: 0, ...o });
    expect(bad({ masks, selection: 'fixed', pruneBy: 'count' })).toThrow(RobustAggError);
    const ok = rnp(model, clean, { seed: 0, masks, selection: 'fixed', pruneBy: 'count', pruningValue: 3, counts: [1] });
    expect(ok.report.pruned).toHaveLength(3);
    ok.model.dispose();
    expect(bad({ masks: { bnA4: [0, 0, 0], bnB4: [0, 0, 0, 0, 0, 0] } })).toThrow(/masks\['bnA4'\] must have 4 values/);
    expect(bad({ masks: { bnA4: [0, 0, 0, 2], bnB4: [0, 0, 0, 0, 0, 0] } })).toThrow(/not in \[0, 1\]/);
    expect(bad({ masks: { bnA4: [0, 0, 0, Number.NaN], bnB4: [0, 0, 0, 0, 0, 0] } })).toThrow(RobustAggError);
    expect(bad({ masks, layers: ['nope'] })).toThrow(/not a BatchNormalization layer/);
    expect(bad({ masks, selection: 'best' as never })).toThrow(/selection/);
    expect(bad({ masks, selection: 'fixed', pruningValue: 1.5 })).toThrow(RobustAggError);
    expect(bad({ unlearningMilestones: [0] })).toThrow(RobustAggError);
    expect(bad({ unlearningGamma: 2 })).toThrow(RobustAggError);
    expect(bad({ augment: 3 as never })).toThrow(/augment/);
    model.dispose();
    clean.x.dispose();
  });

  it('augment is applied to every training batch of both stages, with the seeded generator', () => {
    const model = tiny(5);
    const clean = data(20);
    let calls = 0;
    const shapes = new Set<string>();
    const { model: out, report } = rnp(model, clean, {
      seed: 3,
      batchSize: 8,
      cleanThreshold: 0,
      unlearningEpochs: 2,
      recoveryEpochs: 3,
      augment: (b, rng) => {
        calls++;
        shapes.add(b.shape.join('x'));
        expect(typeof rng.nextInt).toBe('function');
        return b;
      },
    });
    expect(report.unlearning).toHaveLength(2);
    expect(calls).toBe((2 + 3) * 3); // 20 images in batches of 8 → 3 batches per epoch
    expect([...shapes].sort()).toEqual(['4x8x8x1', '8x8x8x1']);
    out.dispose();
    model.dispose();
    clean.x.dispose();
  });
});

describe('randomCropFlip', () => {
  const img = Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, k) => k + 1);

  it('padding 0 without flip is the identity; with flip each image is itself or its mirror', () => {
    const x = tf.tensor4d(img, [2, 3, 3, 2]);
    expect(Array.from(randomCropFlip({ padding: 0, flip: false })(x, createRng(1)).dataSync())).toEqual(Array.from(img));
    const rng = createRng(7);
    for (let t = 0; t < 10; t++) {
      const out = randomCropFlip({ padding: 0 })(x, rng).dataSync();
      for (let b = 0; b < 2; b++) {
        const at = (i: number, j: number, c: number) => ((b * 3 + i) * 3 + j) * 2 + c;
        const same = [0, 1, 2].every((i) => [0, 1, 2].every((j) => [0, 1].every((c) => out[at(i, j, c)] === img[at(i, j, c)])));
        const mirror = [0, 1, 2].every((i) => [0, 1, 2].every((j) => [0, 1].every((c) => out[at(i, j, c)] === img[at(i, 2 - j, c)])));
        expect(same || mirror).toBe(true);
      }
    }
    x.dispose();
  });

  it('each output image is the input shifted by (dy, dx) ∈ [−p, p]², zeros outside; seeded', () => {
    const x = tf.tensor4d(img, [2, 3, 3, 2]);
    const aug = randomCropFlip({ padding: 1, flip: false });
    const a = aug(x, createRng(11)).dataSync();
    expect(Array.from(aug(x, createRng(11)).dataSync())).toEqual(Array.from(a));
    for (let b = 0; b < 2; b++) {
      const at = (i: number, j: number, c: number) => ((b * 3 + i) * 3 + j) * 2 + c;
      const fits = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [dy, dx])).some(([dy, dx]) =>
        [0, 1, 2].every((i) =>
          [0, 1, 2].every((j) =>
            [0, 1].every((c) => {
              const si = i + dy;
              const sj = j + dx;
              const want = si < 0 || si > 2 || sj < 0 || sj > 2 ? 0 : img[at(si, sj, c)];
              return a[at(i, j, c)] === want;
            }),
          ),
        ),
      );
      expect(fits).toBe(true);
    }
    expect(() => randomCropFlip({ padding: -1 })).toThrow(RobustAggError);
    expect(() => randomCropFlip({ padding: 65 })).toThrow(RobustAggError);
    expect(() => randomCropFlip()(tf.zeros([2, 3]), createRng(1))).toThrow(RobustAggError);
    x.dispose();
  });
});
