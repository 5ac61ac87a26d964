// Times training steps of the ResNet (and the CNN for a same-run ratio): node examples/backdoor-pruning/time-resnet.mjs [--widths 16,32,64] [--steps 6]
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from './backend.mjs';
import { loadMnist } from './data.mjs';
import { buildCnn, trainModel } from './model.mjs';
import { buildResnet } from './resnet.mjs';

const argv = process.argv.slice(2);
const arg = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const widths = arg('--widths', '16,32,64').split(',').map(Number);
const steps = Number(arg('--steps', '6'));
await setupBackend();
const { train } = loadMnist({ seed: 1 });
const n = 64 * steps;
const data = { x: train.x.slice(0, n * 784), y: train.y.slice(0, n) };
for (const [name, build] of [
  [`resnet ${widths.join('/')}`, () => buildResnet(1, { widths })],
  ['cnn 32/64/128', () => buildCnn(1, { filters: [32, 64, 128] })],
]) {
  const m = build();
  const times = [];
  let t = performance.now();
  trainModel(m, data, { epochs: 1, seed: 2, onBatch: () => { const now = performance.now(); times.push(now - t); t = now; } });
  const rest = times.slice(1);
  console.log(`${name}: ${m.countParams()} params, first step ${times[0].toFixed(0)} ms, then median ${rest.sort((a, b) => a - b)[rest.length >> 1].toFixed(0)} ms/step (batch 64)`);
  m.dispose();
}
console.log('tensors', tf.memory().numTensors);
