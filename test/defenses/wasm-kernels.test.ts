import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // registers the gradients of tfjs-core's ops
import { registerWasmConvGradients } from '../../src/defenses/wasm-kernels.js';
import { createRng } from '../../src/core/random.js';
import { maxRelativeError } from '../helpers/data.js';

function values(shape: number[], seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.gaussian());
}

/** Gradients of Σ conv2d(x, w) ⊙ r with respect to x and w, and a tile, on the current backend. */
function run(xShape: number[], wShape: number[], stride: number, pad: 'valid' | 'same', reps: number[]) {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(xShape, 1), xShape as [number, number, number, number]);
    const w = tf.tensor4d(values(wShape, 2), wShape as [number, number, number, number]);
    const y = tf.conv2d(x, w, stride, pad);
    const r = tf.tensor(values(y.shape, 3), y.shape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)))([x, w]);
    const t = tf.tile(tf.tensor(values([1, 1, 3], 4), [1, 1, 3]), reps);
    return [gx.dataSync().slice(), gw.dataSync().slice(), t.dataSync().slice()] as Float32Array[];
  });
}

describe('registerWasmConvGradients', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  it('gives the cpu backend’s conv gradients and tiles on odd shapes, strides and paddings', async () => {
    const cases: [number[], number[], number, 'valid' | 'same', number[]][] = [
      [[2, 7, 7, 3], [3, 3, 3, 5], 1, 'valid', [2, 3, 1]],
      [[3, 9, 8, 2], [3, 3, 2, 4], 2, 'same', [1, 1, 2]],
      [[1, 5, 5, 1], [3, 3, 1, 1], 1, 'same', [4, 1, 1]],
      [[2, 6, 6, 4], [1, 1, 4, 3], 1, 'valid', [1, 2, 2]],
      // stride 1 runs the convolution path: even and non-square filters (asymmetric 'same' padding)
      [[2, 8, 6, 3], [2, 4, 3, 2], 1, 'same', [1, 1, 1]],
      [[1, 9, 7, 2], [5, 2, 2, 3], 1, 'same', [1, 1, 1]],
      [[3, 10, 9, 2], [4, 3, 2, 2], 1, 'valid', [1, 1, 1]],
    ];
    await tf.setBackend('cpu');
    const expected = cases.map((c) => run(...c));
    registerWasmConvGradients();
    registerWasmConvGradients(); // idempotent
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    cases.forEach((c, i) => {
      const got = run(...c);
      got.forEach((g, k) => {
        expect(g.length).toBe(expected[i][k].length);
        expect(maxRelativeError(g, expected[i][k])).toBeLessThan(1e-4);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
