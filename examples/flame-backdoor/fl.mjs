// FedAvg building blocks of the FLAME experiment: the MNIST model, local SGD of one client, the
// attackers' BadNets training with model-replacement scaling, and evaluation.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, modelReplacement, randomPermutation } from '../../dist/index.js';
import { assignWeights, flattenWeights, evaluateBackdoor } from '../../dist/tfjs/index.js';
import { PIXELS, SIDE, stamp } from '../backdoor-pruning/data.mjs';

/** 784 → 128 (ReLU) → 10 logits; 101 770 parameters; seeded initializers. */
export function buildMlp(seed, hidden = 128) {
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }),
      tfl.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }),
      tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/**
 * Local training of one client, starting from the global weights: `epochs` passes of plain SGD
 * (lr, batch) over its samples in a seeded order. Returns the client's update Δ = L − G.
 */
export function localUpdate(model, global, data, { epochs, learningRate, batchSize, rng }) {
  assignWeights(model, global);
  const vars = model.trainableWeights.map((w) => w.read());
  const opt = tf.train.sgd(learningRate);
  const n = data.y.length;
  const xs = tf.tensor4d(data.x, [n, SIDE, SIDE, 1]);
  try {
    for (let e = 0; e < epochs; e++) {
      const order = randomPermutation(n, rng);
      for (let s = 0; s < n; s += batchSize) {
        const idx = Int32Array.from(order.slice(s, s + batchSize));
        tf.tidy(() => {
          const xb = tf.gather(xs, tf.tensor1d(idx, 'int32'));
          const yb = tf.oneHot(tf.tensor1d(Int32Array.from(idx, (i) => data.y[i]), 'int32'), 10);
          opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true })), false, vars);
        });
      }
    }
  } finally {
    xs.dispose();
    opt.dispose();
  }
  const local = flattenWeights(model).flat;
  const delta = new Float32Array(local.length);
  for (let k = 0; k < local.length; k++) delta[k] = local[k] - global[k];
  return { local, delta };
}

/** An attacker's local data: a fraction `poisonFraction` of its samples get the trigger and the target label. */
export function attackerData(data, { poisonFraction, target, seed }) {
  const n = data.y.length;
  const candidates = [];
  for (let i = 0; i < n; i++) if (data.y[i] !== target) candidates.push(i);
  const perm = randomPermutation(candidates.length, createRng(seed));
  const chosen = perm.slice(0, Math.round(poisonFraction * n)).map((j) => candidates[j]);
  const x = stamp(data.x, chosen);
  const y = Int32Array.from(data.y);
  for (const i of chosen) y[i] = target;
  return { x, y };
}

/**
 * Model replacement (Bagdasaryan et al. 2020) by k colluding attackers: each submits
 * γ·(X − G) with γ = n / (η·k), so that the k boosted updates together move the FedAvg mean
 * by ≈ X − G.
 */
export function replacementUpdate(local, global, { n, eta, attackers }) {
  const zero = new Float32Array(global.length);
  const diff = new Float32Array(global.length);
  for (let k = 0; k < diff.length; k++) diff[k] = local[k] - global[k];
  return modelReplacement(diff, zero, { gamma: n / (eta * attackers) });
}

/** IID split of the training set into `clients` shards of equal size (seeded). */
export function splitClients(train, clients, seed) {
  const order = randomPermutation(train.y.length, createRng(seed));
  const per = Math.floor(train.y.length / clients);
  return Array.from({ length: clients }, (_, c) => {
    const idx = order.slice(c * per, (c + 1) * per);
    const x = new Float32Array(idx.length * PIXELS);
    idx.forEach((i, r) => x.set(train.x.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS));
    return { x, y: Int32Array.from(idx, (i) => train.y[i]) };
  });
}

/** Main-task accuracy and backdoor accuracy (ASR on triggered test digits with label ≠ target). */
export function makeEvaluator(test, target) {
  const n = test.y.length;
  const clean = tf.tensor4d(test.x, [n, SIDE, SIDE, 1]);
  const trig = tf.tensor4d(stamp(test.x), [n, SIDE, SIDE, 1]);
  const data = { clean: { x: clean, y: test.y }, poisoned: { x: trig, y: test.y }, target };
  return {
    evaluate: (model) => evaluateBackdoor(model, data),
    dispose: () => tf.dispose([clean, trig]),
  };
}

/** Which clients take part in round r (the same for every rule): honest and attacking shard indices. */
export function roundClients(o, round, attacked) {
  const rng = createRng(o.seed * 7919 + round);
  const honestPool = randomPermutation(o.clients - o.compromised, rng).map((i) => i + o.compromised);
  const attackerPool = randomPermutation(o.compromised, rng);
  const k = attacked ? o.attackers : 0;
  const honest = honestPool.slice(0, o.perRound - k);
  const bad = attackerPool.slice(0, k);
  // Position of each participant in the update list: a seeded shuffle, so that no rule can lean on order.
  const all = [...honest.map((c) => ({ c, bad: false })), ...bad.map((c) => ({ c, bad: true }))];
  return randomPermutation(all.length, rng).map((i) => all[i]);
}
