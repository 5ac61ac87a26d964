// node examples/backdoor-pruning/unlearning-damage.mjs [--dataset mnist]
//
// Tests one hypothesis for RNP's failure on the 32/64/128 CNN: does unlearning damage the early-layer
// channels whose masks later reach 0 more than the others? Replays the unlearning stage (reference
// settings: gradient ascent, SGD lr 0.01, momentum 0.9, wd 5e-4, batch 128, crop augmentation, until
// clean train accuracy ≤ 0.20) on the checkpointed model — same settings as the RNP run, its own batch
// order — then, per BN layer, compares mask-0 channels with the others: the relative change of the
// conv kernel slice and of γ, β; and swaps the unlearned weights of the mask-0 channels (or of as many
// random others) into the ORIGINAL model to see what each costs. Writes
// docs/results/backdoor-pruning.<dataset>.damage.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, randomPermutation } from '../../dist/index.js';
import { evaluateBackdoor, randomCropFlip } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { loadWeights } from './checkpoint.mjs';
import { cleanCount, loadFashion, loadMnist, stamp } from './data.mjs';
import { buildCnn, images } from './model.mjs';
import { log } from './progress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const arg = (n, f) => (args.includes(n) ? args[args.indexOf(n) + 1] : f);
const dataset = arg('--dataset', 'mnist');
const checkpoints = resolve(arg('--checkpoints', join(tmpdir(), 'robust-agg-backdoor')));
const seed = 1;
const started = performance.now();
await setupBackend();
const { train, test } = dataset === 'mnist' ? loadMnist({ seed, testPerClass: 200 }) : loadFashion({ seed, perClass: 1000, testPerClass: 200 });
const load = () => {
  const m = buildCnn(seed, { filters: [32, 64, 128] });
  const file = join(checkpoints, `${dataset}-32x64x128-e3-s${seed}.f32`);
  loadWeights(m, file);
  return m;
};
const original = load();
const unlearned = load();
const masks = JSON.parse(readFileSync(resolve(root, `docs/results/backdoor-pruning.${dataset}.json`), 'utf8')).phases.rnp.masks;
const evalData = { clean: { x: images(test.x), y: test.y }, poisoned: { x: images(stamp(test.x)), y: test.y }, target: 0 };
const clean = cleanCount(train, 500, seed + 303).data;
const cx = images(clean.x);

// Unlearning replay.
const rng = createRng(seed + 404);
const augment = randomCropFlip({ padding: 4, flip: dataset === 'fashion' });
const vars = unlearned.trainableWeights.map((w) => w.read());
const opt = tf.train.momentum(0.01, 0.9);
const curve = [];
for (let epoch = 1; epoch <= 20; epoch++) {
  const order = randomPermutation(clean.y.length, rng);
  let hits = 0;
  for (let s = 0; s < order.length; s += 128) {
    const idx = Int32Array.from(order.slice(s, s + 128));
    const hit = tf.tidy(() => {
      const xb = augment(tf.gather(cx, tf.tensor1d(idx, 'int32')), rng);
      const yb = tf.tensor1d(Int32Array.from(idx, (i) => clean.y[i]), 'int32');
      let correct;
      opt.minimize(() => {
        const out = unlearned.apply(xb, { training: true });
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), yb), 'int32')));
        const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(yb, 10), out);
        const l2 = tf.addN(vars.map((v) => tf.sum(tf.square(v))));
        return tf.add(tf.neg(ce), tf.mul(l2, 5e-4 / 2));
      }, false, vars);
      return correct;
    });
    hits += hit.dataSync()[0];
    hit.dispose();
  }
  curve.push(hits / clean.y.length);
  log(`unlearning epoch ${epoch}: clean train ACC ${(100 * hits / clean.y.length).toFixed(1)} %`);
  if (hits / clean.y.length <= 0.2) break;
}

const convs = original.layers.filter((l) => l.getClassName() === 'Conv2D');
const bns = original.layers.filter((l) => l.getClassName() === 'BatchNormalization');
const uConvs = unlearned.layers.filter((l) => l.getClassName() === 'Conv2D');
const uBns = unlearned.layers.filter((l) => l.getClassName() === 'BatchNormalization');
const pct = (v) => +(100 * v).toFixed(2);
const layers = [];
const before = evaluateBackdoor(original, evalData);
for (let li = 0; li < bns.length; li++) {
  const m = masks[bns[li].name];
  const zero = m.map((v, c) => (v <= 0 ? c : -1)).filter((c) => c >= 0);
  if (zero.length === 0) continue;
  const k0 = convs[li].getWeights()[0].dataSync();
  const k1 = uConvs[li].getWeights()[0].dataSync();
  const b0 = bns[li].getWeights().map((w) => w.dataSync());
  const b1 = uBns[li].getWeights().map((w) => w.dataSync());
  const co = m.length;
  const rel = (c) => {
    let d = 0;
    let n = 0;
    for (let i = c; i < k0.length; i += co) {
      d += (k1[i] - k0[i]) ** 2;
      n += k0[i] ** 2;
    }
    return Math.sqrt(d / n);
  };
  const stats = (cs) => {
    const r = cs.map(rel);
    const g = cs.map((c) => Math.abs(b1[0][c] - b0[0][c]) / Math.abs(b0[0][c]));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { kernelRelativeChange: mean(r), gammaRelativeChange: mean(g), gammaOriginal: mean(cs.map((c) => Math.abs(b0[0][c]))) };
  };
  const others = Array.from({ length: co }, (_, c) => c).filter((c) => !zero.includes(c));
  // Swap the unlearned conv slice + BN parameters of some channels into the original model.
  const swap = (cs) => {
    const model = load();
    const conv = model.layers.filter((l) => l.getClassName() === 'Conv2D')[li];
    const bn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization')[li];
    const k = Float32Array.from(k0);
    for (const c of cs) for (let i = c; i < k.length; i += co) k[i] = k1[i];
    const bw = b0.map((a) => Float32Array.from(a));
    for (const c of cs) for (let j = 0; j < bw.length; j++) bw[j][c] = b1[j][c];
    const kt = tf.tensor(k, convs[li].getWeights()[0].shape);
    conv.setWeights([kt]);
    const bt = bw.map((a) => tf.tensor(a, [co]));
    bn.setWeights(bt);
    tf.dispose([kt, ...bt]);
    const e = evaluateBackdoor(model, evalData);
    model.dispose();
    return { acc: pct(e.acc), asr: pct(e.asr) };
  };
  const random = [];
  for (let r = 0; r < 3; r++) random.push(swap(randomPermutation(others.length, createRng(100 + r)).slice(0, zero.length).map((i) => others[i])));
  layers.push({
    layer: bns[li].name,
    maskZero: zero,
    maskZeroStats: stats(zero),
    otherStats: stats(others),
    swapMaskZero: swap(zero),
    swapRandomOthers: random,
  });
  log(JSON.stringify(layers.at(-1)));
}
// The run's settings next to its numbers (the page's "Settings" has the rest: data, clean set).
const machine = `${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}`;
const wallSeconds = Math.round((performance.now() - started) / 1000);
writeFileSync(
  resolve(root, `docs/results/backdoor-pruning.${dataset}.damage.json`),
  JSON.stringify({ dataset, seed, filters: [32, 64, 128], epochs: 3, machine, wallSeconds, before: { acc: pct(before.acc), asr: pct(before.asr) }, unlearningCurve: curve, layers }, null, 1),
);
