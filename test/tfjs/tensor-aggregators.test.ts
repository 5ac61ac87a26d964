// The TF.js tensor path equals the Float32Array path within float32 tolerance (cpu backend) and
// leaks no tensor.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { geometricMedianWithDecision } from '../../src/aggregators/geometric-median.js';
import { krumWithDecision } from '../../src/aggregators/krum.js';
import { meanWithDecision } from '../../src/aggregators/mean.js';
import { multiKrumWithDecision } from '../../src/aggregators/multi-krum.js';
import { trimmedMeanWithDecision } from '../../src/aggregators/trimmed-mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import {
  tensorColumnMedian,
  tensorCombine,
  tensorCoordinateMedian,
  tensorGeometricMedianWithDecision,
  tensorGram,
  tensorKrum,
  tensorKrumWithDecision,
  tensorMean,
  tensorMeanWithDecision,
  tensorMultiKrumWithDecision,
  tensorTrimmedMean,
  tensorTrimmedMeanWithDecision,
} from '../../src/tfjs/tensor-index.js';
import { gramPlain, medianMagnitudeRow } from '../../src/kernels/gram.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Honest rows around a common centre plus `byzantine` far-away rows, n×d, seeded. */
function clients(n: number, d: number, seed: number, byzantine = 0): Float32Array[] {
  const rng = createRng(seed);
  const centre = Float32Array.from({ length: d }, () => rng.gaussian());
  return Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: d }, (_, k) => (i < n - byzantine ? centre[k] + 0.3 * rng.gaussian() : 20 + 5 * rng.gaussian())),
  );
}

function stack(rows: Float32Array[]): tf.Tensor2D {
  const d = rows[0].length;
  const flat = new Float32Array(rows.length * d);
  rows.forEach((r, i) => flat.set(r, i * d));
  return tf.tensor2d(flat, [rows.length, d]);
}

/** Runs fn on a fresh tensor of rows, checks no tensor leaked and returns fn's result, downloaded. */
async function onTensor<T>(rows: Float32Array[], fn: (x: tf.Tensor2D) => Promise<T>): Promise<T> {
  const x = stack(rows);
  const before = tf.memory().numTensors;
  const out = await fn(x);
  const produced = out instanceof tf.Tensor ? 1 : (out as { aggregate?: unknown }).aggregate instanceof tf.Tensor ? 1 : 0;
  expect(tf.memory().numTensors).toBe(before + produced);
  x.dispose();
  return out;
}

async function download(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-5): void {
  expect(a.length).toBe(b.length);
  for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[k])));
}

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 5],
  [2, 3],
  [5, 1],
  [7, 13],
  [10, 101],
  [16, 64],
];

describe('tensor kernels', () => {
  it.each(SHAPES)('gram, combine and column median match the float64 kernels, n=%i d=%i', async (n, d) => {
    const rows = clients(n, d, n * 31 + d);
    const x = stack(rows);
    const before = tf.memory().numTensors;
    const g = await tensorGram(x, true);
    // The tensor Gram centres on the row of median largest magnitude (whole rows, lower median).
    const ref = gramPlain(rows, rows[medianMagnitudeRow(rows, 0, d)]);
    for (let k = 0; k < g.length; k++) expect(Math.abs(g[k] - ref[k])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[k])) * Math.sqrt(d));
    const w = Float64Array.from({ length: n }, (_, i) => (i + 1) / ((n * (n + 1)) / 2));
    const comb = await download(tensorCombine(x, w));
    const expected = new Float32Array(d);
    for (let k = 0; k < d; k++) for (let i = 0; i < n; i++) expected[k] += w[i] * rows[i][k];
    expectClose(comb, expected);
    expectClose(await download(tensorColumnMedian(x)), coordinateMedian(rows), 1e-6);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('tensor aggregators equal the Float32Array rules (float32 tolerance, no leaks)', () => {
  it.each(SHAPES)('mean, coordinateMedian, trimmedMean: n=%i d=%i', async (n, d) => {
    const rows = clients(n, d, 7 * n + d, Math.floor(n / 4));
    expectClose(await download(await onTensor(rows, (x) => tensorMean(x))), meanWithDecision(rows).aggregate);
    const weights = Array.from({ length: n }, (_, i) => i + 1);
    const wm = await onTensor(rows, (x) => tensorMeanWithDecision(x, { weights }));
    expect(wm.decision.weights).toEqual(meanWithDecision(rows, { weights }).decision.weights);
    expectClose(await download(wm.aggregate), meanWithDecision(rows, { weights }).aggregate);
    expectClose(await download(await onTensor(rows, (x) => tensorCoordinateMedian(x))), coordinateMedian(rows), 1e-6);
    const f = Math.floor((n - 1) / 2);
    const tm = await onTensor(rows, (x) => tensorTrimmedMeanWithDecision(x, { f }));
    const ref = trimmedMeanWithDecision(rows, { f });
    expect(tm.decision).toEqual(ref.decision);
    expectClose(await download(tm.aggregate), ref.aggregate);
    expectClose(await download(await onTensor(rows, (x) => tensorTrimmedMean(x, { f: 0 }))), trimmedMeanWithDecision(rows, { f: 0 }).aggregate);
  });

  it.each([
    [5, 8, 1],
    [9, 40, 2],
    [12, 200, 3],
    [20, 33, 4],
  ])('krum and multiKrum pick the same clients: n=%i d=%i f=%i', async (n, d, f) => {
    const rows = clients(n, d, n + d, f);
    const k = await onTensor(rows, (x) => tensorKrumWithDecision(x, { f }));
    const ref = krumWithDecision(rows, { f });
    expect(k.decision.selected).toEqual(ref.decision.selected);
    expectClose(k.decision.scores, ref.decision.scores, 1e-4);
    expect(await download(k.aggregate)).toEqual(ref.aggregate);
    const mk = await onTensor(rows, (x) => tensorMultiKrumWithDecision(x, { f }));
    const mref = multiKrumWithDecision(rows, { f });
    expect(mk.decision.selected).toEqual(mref.decision.selected);
    expect(mk.decision.weights).toEqual(mref.decision.weights);
    expectClose(await download(mk.aggregate), mref.aggregate);
    const three = await onTensor(rows, (x) => tensorMultiKrumWithDecision(x, { f, m: 3 }));
    expect(three.decision.selected).toEqual(multiKrumWithDecision(rows, { f, m: 3 }).decision.selected);
    three.aggregate.dispose();
  });

  it.each([
    [1, 4],
    [2, 3],
    [7, 20],
    [15, 120],
  ])('geometricMedian: n=%i d=%i', async (n, d) => {
    const rows = clients(n, d, 3 * n + d, Math.floor(n / 3));
    const gm = await onTensor(rows, (x) => tensorGeometricMedianWithDecision(x, { maxIterations: 30, tolerance: 0 }));
    const ref = geometricMedianWithDecision(rows, { maxIterations: 30, tolerance: 0 });
    expect(gm.decision.iterations).toBe(ref.decision.iterations);
    expectClose(gm.decision.weights, ref.decision.weights, 1e-3);
    expectClose(await download(gm.aggregate), ref.aggregate, 1e-4);
  });
});

describe('bad input, as on the Float32Array path', () => {
  it('drops non-finite rows and counts them against f', async () => {
    const rows = clients(9, 10, 1, 2);
    rows[3][4] = NaN;
    const tm = await onTensor(rows, (x) => tensorTrimmedMeanWithDecision(x, { f: 2 }));
    const ref = trimmedMeanWithDecision(rows, { f: 2 });
    expect(tm.decision).toEqual(ref.decision);
    expectClose(await download(tm.aggregate), ref.aggregate);
    const k = await onTensor(rows, (x) => tensorKrumWithDecision(x, { f: 2 }));
    expect(k.decision.selected).toEqual(krumWithDecision(rows, { f: 2 }).decision.selected);
    expect(k.decision.dropped).toEqual([3]);
    k.aggregate.dispose();
  });

  it('throws RobustAggError with the same codes, and leaks nothing on the way', async () => {
    const before = tf.memory().numTensors;
    const x3 = tf.zeros([2, 2, 2]);
    await expect(tensorMean(x3 as unknown as tf.Tensor2D)).rejects.toThrow(RobustAggError);
    x3.dispose();
    const xi = tf.zeros([3, 4], 'int32');
    await expect(tensorMean(xi as tf.Tensor2D)).rejects.toMatchObject({ code: 'NOT_FLOAT32' });
    xi.dispose();
    const x = stack(clients(4, 3, 2));
    await expect(tensorKrum(x, { f: 1 })).rejects.toMatchObject({ code: 'TOO_FEW_CLIENTS' });
    await expect(tensorTrimmedMean(x, {} as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    x.dispose();
    const bad = tf.tensor2d([NaN, 1, 2, Infinity], [2, 2]);
    await expect(tensorMean(bad)).rejects.toMatchObject({ code: 'NO_FINITE_UPDATES' });
    await expect(tensorMean(bad, { nonFinite: 'throw' })).rejects.toMatchObject({ code: 'NON_FINITE_UPDATE' });
    bad.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('weights on the tensor rules', () => {
  it('only tensorMean takes weights: the others reject them at compile time and at run time', async () => {
    const x = tf.tensor2d(clients(7, 4, 11).flatMap((r) => Array.from(r)), [7, 4]);
    const weights = [1, 1, 1, 1, 1, 1, 1];
    // @ts-expect-error weights is not an option of the tensor trimmed mean
    await expect(tensorTrimmedMean(x, { f: 1, weights })).rejects.toThrow(RobustAggError);
    // @ts-expect-error nor of the tensor geometric median
    await expect(tensorGeometricMedianWithDecision(x, { weights })).rejects.toThrow(/weights/);
    // @ts-expect-error nor of the tensor Multi-Krum
    await expect(tensorMultiKrumWithDecision(x, { f: 1, weights })).rejects.toThrow(/weights/);
    const weighted = await tensorMean(x, { weights });
    weighted.dispose();
    x.dispose();
  });
});
