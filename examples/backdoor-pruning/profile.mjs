// Where the training time goes: per-kernel time of N training steps of the backdoor CNN on a backend.
// node examples/backdoor-pruning/profile.mjs [--model cnn|resnet] [--backend wasm|cpu] [--filters 16,32,64] [--batch 64] [--steps 10]
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from './backend.mjs';
import { buildCnn, images } from './model.mjs';
import { buildResnet } from './resnet.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, arr) => (v.startsWith('--') ? [...a, [v.slice(2), arr[i + 1]]] : a), []));
const backend = await setupBackend(args.backend ?? 'wasm');
const filters = (args.filters ?? '16,32,64').split(',').map(Number);
const batch = Number(args.batch ?? 64);
const steps = Number(args.steps ?? 10);
const model = args.model === 'resnet' ? buildResnet(1, { widths: filters }) : buildCnn(1, { filters });
const x = images(Float32Array.from({ length: batch * 784 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2));
const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
const opt = tf.train.adam(1e-3);
const vars = model.trainableWeights.map((w) => w.read());
const step = () => tf.tidy(() => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true, vars)).dataSync();
step(); step();
let t0 = performance.now();
for (let s = 0; s < steps; s++) step();
const plain = (performance.now() - t0) / steps;
const prof = await tf.profile(() => { for (let s = 0; s < steps; s++) step(); });
const byKernel = new Map();
for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + k.kernelTimeMs);
const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
console.log(`backend ${backend}, filters ${filters}, batch ${batch}: ${plain.toFixed(1)} ms per step (unprofiled); kernels ${(total / steps).toFixed(1)} ms per step`);
for (const [k, v] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${k.padEnd(24)} ${(v / steps).toFixed(2)} ms/step  ${((100 * v) / total).toFixed(1)} %`);
