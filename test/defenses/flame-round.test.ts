// Smoke version of examples/flame-backdoor (docs/results/flame-backdoor.md): FedAvg rounds on real
// MNIST digits in which model-replacement attackers trained on BadNets data must all be left out of
// FLAME's admitted cluster, with the default a caller who passes the global model gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { flameWithDecision } from '../../src/aggregators/flame.js';
import { mean } from '../../src/aggregators/mean.js';
import { modelReplacement } from '../../src/attacks/model-replacement.js';
import { createRng, randomPermutation } from '../../src/core/random.js';
import { assignWeights, flattenWeights } from '../../src/tfjs/weights.js';
import { evaluateBackdoor } from '../../src/defenses/evaluate.js';
import { mnistSubset, poisonBadNets, TARGET, toTensor, triggered } from './helpers.js';

const CLIENTS = 10;
const ATTACKERS = 3;
const PER_CLIENT = 40;

function mlp(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 5 }) }),
      tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
}

/** Plain SGD on (x, y) from `start`; returns the new flat weights. */
function sgd(model: tfl.LayersModel, start: Float32Array, x: Float32Array, y: Int32Array, epochs: number, seed: number): Float32Array {
  assignWeights(model, start);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.sgd(0.1);
  const rng = createRng(seed);
  const xs = toTensor(x);
  for (let e = 0; e < epochs; e++) {
    const order = randomPermutation(y.length, rng);
    for (let s = 0; s < y.length; s += 10) {
      const idx = Int32Array.from(order.slice(s, s + 10));
      tf.tidy(() => {
        const xb = tf.gather(xs, tf.tensor1d(idx, 'int32'));
        const yb = tf.oneHot(tf.tensor1d(Int32Array.from(idx, (i) => y[i]), 'int32'), 10);
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb) as tf.Tensor) as tf.Scalar, false, vars);
      });
    }
  }
  xs.dispose();
  opt.dispose();
  return flattenWeights(model).flat;
}

/** The data of the smoke runs: 10 client shards of 40 digits, 200 pre-training digits, 150 test digits. */
function smokeData() {
  const { train, test } = mnistSubset((CLIENTS * PER_CLIENT) / 10 + 20, 15, 21);
  const shards = Array.from({ length: CLIENTS }, (_, c) => ({
    x: train.x.slice(c * PER_CLIENT * 784, (c + 1) * PER_CLIENT * 784),
    y: train.y.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT),
  }));
  // The global model is pre-trained on the last 20 digits per class.
  const pre = { x: train.x.slice(CLIENTS * PER_CLIENT * 784), y: train.y.slice(CLIENTS * PER_CLIENT) };
  return { shards, pre, test };
}

/**
 * One FedAvg round's updates: honest clients train 2 epochs from G; attackers train on BadNets data
 * (half their digits stamped, relabelled 0) and submit model replacement split over the colluders.
 */
function roundUpdates(
  model: tfl.LayersModel,
  global: Float32Array,
  shards: readonly { x: Float32Array; y: Int32Array }[],
  attackers: ReadonlySet<number>,
  seed: number,
): Float32Array[] {
  return shards.map(({ x, y }, c) => {
    if (!attackers.has(c)) {
      const local = sgd(model, global, x, y, 2, seed + c);
      return local.map((v, k) => v - global[k]);
    }
    const p = poisonBadNets(x, y, 0.5, seed + 100 + c);
    const local = sgd(model, global, p.x, p.y, 2, seed + c);
    // Model replacement split over the colluding attackers: γ = n/k.
    return modelReplacement(local, global, { gamma: CLIENTS / attackers.size }).map((v, k) => v - global[k]);
  });
}

describe('FLAME in a smoke FedAvg round with BadNets model-replacement attackers', () => {
  let model: tfl.LayersModel;
  let tensorsBefore: number;
  let data: ReturnType<typeof smokeData>;
  let global: Float32Array;
  let evalData: Parameters<typeof evaluateBackdoor>[1];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tensorsBefore = tf.memory().numTensors;
    model = mlp();
    data = smokeData();
    global = sgd(model, flattenWeights(model).flat, data.pre.x, data.pre.y, 5, 1);
    evalData = {
      clean: { x: toTensor(data.test.x), y: data.test.y },
      poisoned: { x: toTensor(triggered(data.test.x)), y: data.test.y },
      target: TARGET,
    };
  });
  afterAll(() => {
    tf.dispose([evalData.clean.x, evalData.poisoned.x]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('admits every honest client it needs and none of the attackers; plain mean takes the backdoor', () => {
    const attackers = new Set(randomPermutation(CLIENTS, createRng(4)).slice(0, ATTACKERS));
    const updates = roundUpdates(model, global, data.shards, attackers, 100);
    // As a caller with the global model gets it: clusterOn defaults to 'models' (G + Δᵢ).
    const { decision } = flameWithDecision(updates, { lambda: 0, global });
    expect(decision.clusterOn).toBe('models');
    expect(decision.admitted.length).toBeGreaterThanOrEqual(Math.floor(CLIENTS / 2) + 1);
    for (const a of attackers) expect(decision.admitted).not.toContain(a);
    expect(Array.from(decision.labels).filter((l, i) => attackers.has(i) && l === 0)).toEqual([]);
    // Without G it clusters the updates Δᵢ (the seed code's sketch); here that leaves them out as well.
    const byUpdates = flameWithDecision(updates, { lambda: 0 }).decision;
    expect(byUpdates.clusterOn).toBe('updates');
    for (const a of attackers) expect(byUpdates.admitted).not.toContain(a);

    // Evaluate both aggregates: FedAvg's mean takes the backdoor in, FLAME's does not.
    const apply = (delta: Float32Array) => assignWeights(model, global.map((v, k) => v + delta[k]));
    apply(mean(updates));
    const withMean = evaluateBackdoor(model, evalData);
    apply(flameWithDecision(updates, { lambda: 0, global }).aggregate);
    const withFlame = evaluateBackdoor(model, evalData);
    expect(withMean.asr).toBeGreaterThan(0.5);
    expect(withFlame.asr).toBeLessThan(0.1);
  });

  it('the experiment in miniature: over 3 attacked FedAvg rounds flame(updates, { global, seed }) admits no attacker and keeps the backdoor out', () => {
    assignWeights(model, global);
    const before = evaluateBackdoor(model, evalData);
    let g = Float32Array.from(global);
    for (let round = 1; round <= 3; round++) {
      const attackers = new Set(randomPermutation(CLIENTS, createRng(40 + round)).slice(0, ATTACKERS));
      const updates = roundUpdates(model, g, data.shards, attackers, 1000 * round);
      const { aggregate, decision } = flameWithDecision(updates, { seed: round, global: g });
      expect(decision.clusterOn).toBe('models');
      expect(decision.sigma).toBeGreaterThan(0);
      for (const a of attackers) expect(decision.admitted, `round ${round}`).not.toContain(a);
      g = g.map((v, k) => v + aggregate[k]);
    }
    assignWeights(model, g);
    const after = evaluateBackdoor(model, evalData);
    expect(after.asr).toBeLessThan(0.1);
    expect(after.acc).toBeGreaterThan(before.acc - 0.05);
  });
});
