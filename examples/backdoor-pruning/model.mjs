// The small CNN with BatchNormalization of the backdoor examples and a seeded training loop.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, randomPermutation } from '../../dist/index.js';
import { SIDE } from './data.mjs';

/**
 * conv 3×3 (16) → BN → ReLU → max-pool 2 → conv 3×3 (32) → BN → ReLU → max-pool 2 →
 * conv 3×3 (64) → BN → ReLU → global average pool → dense (10), logits; 'same' padding;
 * 24.3 k parameters; seeded initializers. The global average pooling matters for channel-pruning
 * defenses: as in ResNets, the classifier cannot read WHERE a feature fired, so the trigger has
 * to be carried by channels of its own (with flatten → dense, the backdoor can live in the dense
 * weights of the corner positions, out of reach of any channel pruning). BN momentum 0.9
 * (PyTorch's default 0.1 in its convention) so the moving statistics settle within the first epoch.
 */
export function buildCnn(seed, { filters = [16, 32, 64] } = {}) {
  const he = (k) => tfl.initializers.heNormal({ seed: seed * 16 + k });
  const layers = [];
  filters.forEach((f, i) => {
    layers.push(
      tfl.layers.conv2d({
        ...(i === 0 ? { inputShape: [SIDE, SIDE, 1] } : {}),
        filters: f,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: he(i + 1),
      }),
      tfl.layers.batchNormalization({ momentum: 0.9 }),
      tfl.layers.activation({ activation: 'relu' }),
    );
    if (i < filters.length - 1) layers.push(tfl.layers.maxPooling2d({ poolSize: 2 }));
  });
  layers.push(
    tfl.layers.globalAveragePooling2d({}),
    tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 16 + 15 }) }),
  );
  return tfl.sequential({ layers });
}

/** x (N·784 Float32Array) as an N×28×28×1 tensor. */
export function images(x) {
  return tf.tensor4d(x, [x.length / (SIDE * SIDE), SIDE, SIDE, 1]);
}

/**
 * Mini-batch training with Adam on the softmax cross-entropy, seeded batch order.
 * onBatch(epoch, batch, batches, loss) is called after each step. `augment` (a BatchAugment such
 * as randomCropFlip) transforms each batch, drawing from its own generator seeded from `seed`.
 * `stopAfterEpoch(epoch)` returning true ends the training after that epoch (a wall-clock cap);
 * returns the number of epochs trained.
 *
 * Resuming: `startEpoch` (default 1) skips the epochs before it — their batch orders and
 * augmentation draws are replayed on the generators (no training), so with the weights and the
 * optimizer state saved after epoch startEpoch − 1 (`onEpoch(epoch, opt)` is called after every
 * epoch, the place to write such a checkpoint) the run continues as the uninterrupted one would.
 * `lrMilestones` (epochs after which the learning rate is multiplied by `lrGamma`, default 0.1)
 * sets `opt.learningRate` at the start of every epoch (Adam and SGD read it at each step).
 */
export function trainModel(model, data, { epochs, batchSize = 64, learningRate = 1e-3, seed, onBatch, onEpoch, optimizer, augment, stopAfterEpoch, startEpoch = 1, lrMilestones = [], lrGamma = 0.1 }) {
  const opt = optimizer ?? tf.train.adam(learningRate);
  const vars = model.trainableWeights.map((w) => w.read());
  const rng = createRng(seed);
  const augmentRng = createRng(seed + 7919);
  const n = data.y.length;
  let trained = startEpoch - 1;
  const batches = Math.ceil(n / batchSize);
  // Replay the generators through the epochs already trained.
  for (let epoch = 1; epoch < startEpoch; epoch++) {
    randomPermutation(n, rng);
    if (!augment) continue;
    for (let b = 0; b < batches; b++) {
      const size = Math.min(batchSize, n - b * batchSize);
      tf.tidy(() => {
        augment(tf.zeros([size, SIDE, SIDE, 1]), augmentRng); // only the draws matter
      });
    }
  }
  const xs = images(data.x);
  try {
    for (let epoch = startEpoch; epoch <= epochs; epoch++) {
      if (lrMilestones.length > 0) opt.learningRate = learningRate * lrGamma ** lrMilestones.filter((m) => epoch > m).length;
      const order = randomPermutation(n, rng);
      for (let b = 0; b < batches; b++) {
        const idx = Int32Array.from(order.slice(b * batchSize, (b + 1) * batchSize));
        const loss = tf.tidy(() => {
          const xg = tf.gather(xs, tf.tensor1d(idx, 'int32'));
          const xb = augment ? augment(xg, augmentRng) : xg;
          const yb = tf.oneHot(tf.tensor1d(Int32Array.from(idx, (i) => data.y[i]), 'int32'), 10);
          return opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true })), true, vars);
        });
        const value = loss.dataSync()[0];
        loss.dispose();
        onBatch?.(epoch, b + 1, batches, value);
      }
      trained = epoch;
      onEpoch?.(epoch, opt);
      if (epoch < epochs && stopAfterEpoch?.(epoch)) break;
    }
  } finally {
    xs.dispose();
    if (!optimizer) opt.dispose();
  }
  return trained;
}
