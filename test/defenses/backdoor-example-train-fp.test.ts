// examples/backdoor-pruning: (1) training resumed from an epoch checkpoint (weights + Adam state,
// checkpoint.mjs; trainModel's startEpoch replaying batch order and crops) ends with the same
// weights as the uninterrupted run; (2) fine-pruning-block.mjs, Fine-Pruning at a residual block's
// output, is the library's finePruning() when the "block" has one input (a plain CNN's last conv →
// BN → ReLU), and on the ResNet it zeroes the pruned output channels exactly without touching the
// given model. Runs the examples on the built package (dist/, as `npm test` builds it first).
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { mnistSubset, toTensor } from './helpers.js';

const ROOT = resolve(__dirname, '../..');
const built = existsSync(join(ROOT, 'dist/index.js')) && existsSync(join(ROOT, 'dist/defenses/index.js'));
const ex = (f: string) => join(ROOT, 'examples/backdoor-pruning', f);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const flat = (m: tfl.LayersModel) => m.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));

describe.skipIf(!built)('backdoor example: resumable training and block-output Fine-Pruning', () => {
  let lib: Any;
  let model: Any;
  let checkpoint: Any;
  let block: Any;
  let resnet: Any;
  let data: { x: Float32Array; y: Int32Array };
  let clean: { x: tf.Tensor; y: Int32Array };
  const dir = join(tmpdir(), `backdoor-train-fp-${process.pid}`);

  beforeAll(async () => {
    lib = await import(join(ROOT, 'dist/defenses/index.js'));
    lib.registerWasmConvGradients();
    await tf.setBackend('wasm');
    model = await import(ex('model.mjs'));
    checkpoint = await import(ex('checkpoint.mjs'));
    block = await import(ex('fine-pruning-block.mjs'));
    resnet = await import(ex('resnet.mjs'));
    const { train } = mnistSubset(8, 0, 7);
    data = train;
    clean = { x: toTensor(train.x), y: train.y };
  }, 60_000);

  afterAll(() => {
    clean?.x.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run resumed after epoch 1 from the saved weights and Adam state ends bit-identical to the uninterrupted run', async () => {
    const augment = lib.randomCropFlip({ padding: 2, flip: false });
    const cfg = { epochs: 3, seed: 11, augment, lrMilestones: [2], batchSize: 32 };
    const a = resnet.buildResnet(2, { widths: [4, 4, 8] });
    const oa = tf.train.adam(1e-3);
    expect(model.trainModel(a, data, { ...cfg, optimizer: oa })).toBe(3);

    const b = resnet.buildResnet(2, { widths: [4, 4, 8] });
    const ob = tf.train.adam(1e-3);
    let layout: Any;
    const trained = model.trainModel(b, data, {
      ...cfg,
      optimizer: ob,
      onEpoch: (epoch: number, opt: Any) => {
        if (epoch === 1) {
          checkpoint.saveWeights(b, join(dir, 'w.f32'));
          layout = checkpoint.saveAdam(opt, join(dir, 'a.f32'));
        }
      },
      stopAfterEpoch: (epoch: number) => epoch === 1,
    });
    expect(trained).toBe(1);

    const c = resnet.buildResnet(2, { widths: [4, 4, 8] });
    const oc: Any = tf.train.adam(1e-3);
    checkpoint.loadWeights(c, join(dir, 'w.f32'));
    await checkpoint.loadAdam(oc, join(dir, 'a.f32'), layout);
    const tensorsBefore = tf.memory().numTensors;
    expect(model.trainModel(c, data, { ...cfg, optimizer: oc, startEpoch: 2 })).toBe(3);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the replay of epoch 1 keeps no tensor

    const wa = flat(a);
    const wc = flat(c);
    const wb = flat(b);
    wa.forEach((w, i) => expect(Array.from(wc[i])).toEqual(Array.from(w)));
    // and the stopped run really differs from the finished one (the check can fail)
    expect(wb.some((w, i) => w.some((v, k) => v !== wa[i][k]))).toBe(true);
    expect(oc.learningRate).toBeCloseTo(1e-4, 12);
    for (const m of [a, b, c]) m.dispose();
    for (const o of [oa, ob, oc]) o.dispose();
  }, 60_000);

  it('with one conv → BN → ReLU "block" it prunes and fine-tunes as the library finePruning does', () => {
    const cnn = model.buildCnn(3, { filters: [4, 8, 8] });
    const names = cnn.layers.map((l: Any) => l.name);
    const convName = names.filter((n: string) => cnn.getLayer(n).getClassName() === 'Conv2D').at(-1);
    const i = names.indexOf(convName);
    const [bnName, reluName] = [names[i + 1], names[i + 2]];
    const ref = lib.finePruning(cnn, clean, { seed: 5, epochs: 2, maxAccuracyDrop: 10 });
    const ours = block.finePruneBlock(cnn, clean, { seed: 5, epochs: 2, maxAccuracyDrop: 10, output: reluName, convs: [[convName, bnName]] });
    expect(ref.report.activationLayer).toBe(reluName);
    expect(ours.report.order).toEqual(ref.report.order);
    expect(ours.report.pruned).toEqual(ref.report.pruned);
    expect(ours.report.steps.map((s: Any) => [s.channel, s.validationAccuracy, s.kept])).toEqual(
      ref.report.steps.map((s: Any) => [s.channel, s.validationAccuracy, s.kept]),
    );
    expect(ours.report.stoppedBy).toBe(ref.report.stoppedBy);
    const wr = flat(ref.model);
    flat(ours.model).forEach((w, k) => w.forEach((v, j) => expect(Math.abs(v - wr[k][j])).toBeLessThan(1e-4)));
    ref.model.dispose();
    ours.model.dispose();
    cnn.dispose();
  }, 60_000);

  it("on the ResNet the pruned block-output channels are exactly 0, the others not all, and the given model is unchanged", () => {
    const net = resnet.buildResnet(4, { widths: [4, 8, 8] });
    const before = flat(net);
    const { model: out, report } = block.finePruneBlock(net, clean, { seed: 1, epochs: 1, maxAccuracyDrop: 100 });
    expect(report.stoppedBy).toBe('last-channel');
    expect(report.pruned.length).toBe(7);
    const kept = report.order.at(-1);
    const probe = tfl.model({ inputs: out.inputs, outputs: out.getLayer('s3_relu2').output as tfl.SymbolicTensor });
    const act = tf.tidy(() => tf.max(probe.apply(clean.x) as tf.Tensor, [0, 1, 2]).dataSync());
    for (const c of report.pruned) expect(act[c]).toBe(0);
    expect(act[kept]).toBeGreaterThan(0);
    flat(net).forEach((w, k) => expect(Array.from(w)).toEqual(Array.from(before[k])));
    out.dispose();
    net.dispose();
  }, 60_000);
});
