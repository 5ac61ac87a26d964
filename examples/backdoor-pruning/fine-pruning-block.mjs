// Fine-Pruning (Liu, Dolan-Gavitt & Garg, RAID 2018) at a residual block's OUTPUT, for the ResNet of
// resnet.mjs. The paper prunes "the last convolutional layer" of a plain CNN: the channels whose
// mean activation on clean data is lowest. In a ResNet the features the classifier reads (through
// global average pooling) are the last block's output relu(branch + shortcut), channel by channel;
// robust-agg/defenses' finePruning() prunes one Conv2D (by default the last one in the layer list,
// which in resnet.mjs's graph is the stage-3 1×1 shortcut conv, one of the two summands). Here a
// channel c of the block output is pruned by zeroing channel c on both inputs of the add — the
// branch's last conv + BN and the shortcut's conv + BN (kernel slice, γ and β), so the sum and the
// ReLU give exactly 0 there. Everything else is finePruning()'s procedure and defaults: rank by mean
// activation (of the block output, inference mode) on the clean data, prune in increasing order
// until the clean accuracy would drop more than maxAccuracyDrop points (that step undone), then
// fine-tune with PyTorch-style SGD (lr 0.01, momentum 0.9, wd 5e-4, batch 64, 10 epochs, training
// mode) with the pruned channels held at zero after every step. Returns { model, report } with the
// report fields run.mjs reads from finePruning() (layer, order, pruned, steps, stoppedBy, fineTuning).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, randomPermutation } from '../../dist/index.js';

const weightOf = (layer, part) => layer.weights.find((w) => w.originalName.split('/').pop().replace(/_\d+$/, '') === part) ?? null;

function predict(model, x, batch = 256) {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += batch) {
    const size = Math.min(batch, n - s);
    const p = tf.tidy(() => tf.argMax(model.apply(tf.slice(x, s, size), { training: false }), -1));
    out.set(p.dataSync(), s);
    p.dispose();
  }
  return out;
}

function accuracy(model, x, y) {
  const p = predict(model, x);
  let hit = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) hit++;
  return hit / y.length;
}

/**
 * @param model a LayersModel (not changed; a copy is pruned and fine-tuned)
 * @param clean { x: N×28×28×1 tensor, y: labels } the defender's clean data (also the validation set)
 * @param opts { output: the block-output layer (default 's3_relu2'), convs: the Conv2D → BN pairs
 *   feeding the add (default [['s3_conv2', 's3_bn2'], ['s3_short_conv', 's3_short_bn']]),
 *   maxAccuracyDrop (points, 4), epochs (10), learningRate (0.01), momentum (0.9), weightDecay
 *   (5e-4), batchSize (64), seed, probe(model) }
 */
export function finePruneBlock(model, clean, opts = {}) {
  const {
    output = 's3_relu2',
    convs = [
      ['s3_conv2', 's3_bn2'],
      ['s3_short_conv', 's3_short_bn'],
    ],
    maxAccuracyDrop = 4,
    epochs = 10,
    learningRate = 0.01,
    momentum = 0.9,
    weightDecay = 5e-4,
    batchSize = 64,
    seed = 0,
    probe,
  } = opts;
  const work = model.constructor.fromConfig(model.constructor, model.getConfig(), undefined, true);
  work.setWeights(model.getWeights());
  const outLayer = work.getLayer(output);
  const targets = convs.flatMap(([c, b]) => {
    const conv = work.getLayer(c);
    const bn = work.getLayer(b);
    return [
      { w: weightOf(conv, 'kernel'), channelAxisLast: true },
      ...['gamma', 'beta'].map((p) => ({ w: weightOf(bn, p), channelAxisLast: true })),
    ];
  });
  const channels = outLayer.outputShape.at(-1);
  const original = targets.map((t) => Float32Array.from(t.w.read().dataSync()));
  const pruned = new Set();
  const apply = () => {
    if (pruned.size === 0) return;
    targets.forEach((t) => {
      const v = Float32Array.from(t.w.read().dataSync());
      for (let i = 0; i < v.length; i++) if (pruned.has(i % channels)) v[i] = 0;
      tf.tidy(() => t.w.write(tf.tensor(v, t.w.shape)));
    });
  };
  const restore = () => targets.forEach((t, i) => tf.tidy(() => t.w.write(tf.tensor(original[i], t.w.shape))));

  // Mean activation of each block-output channel on the clean data (inference mode).
  const probeModel = tfl.model({ inputs: work.inputs, outputs: outLayer.output });
  const sums = new Float64Array(channels);
  const n = clean.x.shape[0];
  for (let s = 0; s < n; s += 256) {
    const size = Math.min(256, n - s);
    const t = tf.tidy(() => tf.sum(probeModel.apply(tf.slice(clean.x, s, size), { training: false }), [0, 1, 2]));
    const v = t.dataSync();
    t.dispose();
    for (let c = 0; c < channels; c++) sums[c] += v[c];
  }
  const positions = outLayer.outputShape[1] * outLayer.outputShape[2];
  const meanActivations = Array.from(sums, (v) => v / (n * positions));
  const order = Array.from({ length: channels }, (_, c) => c).sort((a, b) => meanActivations[a] - meanActivations[b] || a - b);

  const labels = Int32Array.from(clean.y);
  const base = accuracy(work, clean.x, labels);
  const steps = [];
  let stoppedBy = 'last-channel';
  for (const channel of order.slice(0, channels - 1)) {
    pruned.add(channel);
    restore();
    apply();
    const acc = accuracy(work, clean.x, labels);
    const kept = acc >= base - maxAccuracyDrop / 100 - 1e-12;
    steps.push({ channel, prunedCount: pruned.size, validationAccuracy: acc, kept, ...(probe ? { probe: probe(work) } : {}) });
    if (!kept) {
      pruned.delete(channel);
      restore();
      apply();
      stoppedBy = 'accuracy-drop';
      break;
    }
  }
  const prunedValidationAccuracy = accuracy(work, clean.x, labels);

  const fineTuning = [];
  if (epochs > 0) {
    const vars = work.trainableWeights.map((w) => w.read());
    const velocity = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    const rng = createRng(seed);
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const perm = randomPermutation(n, rng);
        let lossSum = 0;
        let hits = 0;
        for (let s = 0; s < n; s += batchSize) {
          const idx = Int32Array.from(perm.slice(s, s + batchSize));
          const [loss, hit] = tf.tidy(() => {
            const xb = tf.gather(clean.x, tf.tensor1d(idx, 'int32'));
            const yb = tf.tensor1d(Int32Array.from(idx, (i) => labels[i]), 'int32');
            const oneHot = tf.oneHot(yb, 10);
            let correct;
            const { value, grads } = tf.variableGrads(() => {
              const out = work.apply(xb, { training: true });
              correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), yb), 'int32')));
              return tf.losses.softmaxCrossEntropy(oneHot, out);
            }, vars);
            vars.forEach((w, i) => {
              const g = tf.add(grads[w.name], tf.mul(w, weightDecay));
              const v = tf.add(tf.mul(velocity[i], momentum), g);
              velocity[i].assign(v);
              w.assign(tf.sub(w, tf.mul(v, learningRate)));
            });
            return [value, correct];
          });
          lossSum += loss.dataSync()[0] * idx.length;
          hits += hit.dataSync()[0];
          tf.dispose([loss, hit]);
          apply();
        }
        fineTuning.push({ epoch, loss: lossSum / n, trainAccuracy: hits / n });
      }
    } finally {
      tf.dispose(velocity);
    }
  }
  return {
    model: work,
    report: {
      layer: `${output} (block output: ${convs.map(([c, b]) => `${c} + ${b}`).join(', ')})`,
      meanActivations,
      order,
      pruned: order.filter((c) => pruned.has(c)),
      baseValidationAccuracy: base,
      steps,
      stoppedBy,
      prunedValidationAccuracy,
      fineTuning,
      finalValidationAccuracy: accuracy(work, clean.x, labels),
    },
  };
}
