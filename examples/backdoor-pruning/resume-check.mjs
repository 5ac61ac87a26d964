// Checks that training resumed from an epoch checkpoint (weights + Adam state, run.mjs's saveAdam /
// loadAdam, trainModel's startEpoch) ends with the same weights as the uninterrupted run, on a
// tiny ResNet and 200 images: node examples/backdoor-pruning/resume-check.mjs
import * as tf from '@tensorflow/tfjs-core';
import { randomCropFlip } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { loadMnist } from './data.mjs';
import { trainModel } from './model.mjs';
import { buildResnet } from './resnet.mjs';
import { loadAdam, loadWeights, saveAdam, saveWeights } from './checkpoint.mjs';
await setupBackend();
const { train } = loadMnist({ seed: 1 });
const n = 200;
const data = { x: train.x.slice(0, n * 784), y: train.y.slice(0, n) };
const aug = randomCropFlip({ padding: 4, flip: false });
const cfg = { epochs: 3, seed: 5, augment: aug, lrMilestones: [2], batchSize: 64 };
const a = buildResnet(1, { widths: [4, 8, 8] });
const oa = tf.train.adam(1e-3);
trainModel(a, data, { ...cfg, optimizer: oa });
const b = buildResnet(1, { widths: [4, 8, 8] });
const ob = tf.train.adam(1e-3);
let layout;
trainModel(b, data, { ...cfg, optimizer: ob, onEpoch: (e, o) => { if (e === 1) { saveWeights(b, '/tmp/rnpck/w.f32'); layout = saveAdam(o, '/tmp/rnpck/a.f32'); } } , stopAfterEpoch: (e) => e === 1 });
const c = buildResnet(1, { widths: [4, 8, 8] });
const oc = tf.train.adam(1e-3);
loadWeights(c, '/tmp/rnpck/w.f32');
await loadAdam(oc, '/tmp/rnpck/a.f32', layout);
trainModel(c, data, { ...cfg, optimizer: oc, startEpoch: 2 });
let maxd = 0;
const wa = a.getWeights(), wc = c.getWeights();
wa.forEach((w, i) => { const x = w.dataSync(), y = wc[i].dataSync(); for (let k = 0; k < x.length; k++) maxd = Math.max(maxd, Math.abs(x[k] - y[k])); });
console.log('max |diff| uninterrupted vs resumed:', maxd, 'lr', oa.learningRate, oc.learningRate, 'iters', oa.iterations, oc.iterations);
