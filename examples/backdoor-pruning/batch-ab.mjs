import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from './backend.mjs';
import { buildCnn, images } from './model.mjs';
await setupBackend('wasm');
const model = buildCnn(1, { filters: [16, 32, 64] });
const opt = tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => w.read());
const mk = (b) => ({ x: images(Float32Array.from({ length: b * 784 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2)), y: tf.oneHot(tf.tensor1d(Int32Array.from({ length: b }, (_, i) => i % 10), 'int32'), 10) });
const sets = { 32: mk(32), 64: mk(64), 128: mk(128), 256: mk(256) };
const step = ({ x, y }) => tf.tidy(() => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true, vars)).dataSync();
const t = { 32: 0, 64: 0, 128: 0, 256: 0 };
for (const b of Object.keys(sets)) step(sets[b]);
for (let r = 0; r < 3; r++) for (const b of Object.keys(sets)) { const t0 = performance.now(); step(sets[b]); t[b] += performance.now() - t0; }
for (const b of Object.keys(sets)) console.log(`batch ${b}: ${(t[b] / 3).toFixed(0)} ms per step, ${(t[b] / 3 / b).toFixed(2)} ms per image`);
