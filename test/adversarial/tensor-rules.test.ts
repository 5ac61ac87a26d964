// Red-team properties of the tensor rules of robust-agg/tfjs (issue 14, item 4): TF.js computes in
// float32, so a finite client of 1e20 … 3.4e38 must not overflow the Gram matrix into ±Inf/NaN, win
// a Krum selection with a NaN score, or turn the geometric median into NaN. The bounds are those of
// the Float32Array rules (see gram-rules.test.ts), with a float32 tolerance.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  tensorCoordinateMedian,
  tensorGeometricMedianWithDecision,
  tensorKrumWithDecision,
  tensorMean,
  tensorMultiKrumWithDecision,
  tensorTrimmedMean,
} from '../../src/tfjs/index.js';
import {
  buildCase,
  caseArb,
  dist,
  expectFinite,
  expectInBox,
  expectWithin,
  honestStats,
  roundingSlack,
  RUNS,
  type CaseSpec,
  type HostileCase,
} from './hostile-data.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function declaredF(spec: CaseSpec, fMax: number): number {
  return spec.b + (Math.abs(spec.seed) % (fMax - spec.b + 1));
}

function toTensor(c: HostileCase): tf.Tensor2D {
  const flat = new Float32Array(c.n * c.d);
  c.rows.forEach((x, i) => flat.set(x, i * c.d));
  return tf.tensor2d(flat, [c.n, c.d]);
}

/** Runs a tensor rule, returns its output as a Float32Array and checks that no tensor leaked. */
async function run<T extends { aggregate: tf.Tensor1D } | tf.Tensor1D>(c: HostileCase, rule: (x: tf.Tensor2D) => Promise<T>): Promise<{ out: Float32Array; result: T }> {
  const x = toTensor(c);
  const before = tf.memory().numTensors;
  try {
    const result = await rule(x);
    const t: tf.Tensor1D = result instanceof tf.Tensor ? (result as tf.Tensor1D) : (result as { aggregate: tf.Tensor1D }).aggregate;
    const out = (await t.data()) as Float32Array;
    t.dispose();
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    return { out, result };
  } finally {
    x.dispose();
  }
}

const cases = (maxAttackers: (n: number) => number, minN = 3) =>
  caseArb({ n: [minN, 13], maxAttackers, d: () => 40, extraD: 300 });

describe('tensor rules under hostile clients', () => {
  it('tensorMean is finite; tensorCoordinateMedian and tensorTrimmedMean stay in the honest range', async () => {
    await fc.assert(
      fc.asyncProperty(cases((n) => Math.floor((n - 1) / 2)), async (spec) => {
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        expectFinite((await run(c, (x) => tensorMean(x))).out, 'tensorMean');
        const med = (await run(c, (x) => tensorCoordinateMedian(x))).out;
        expectFinite(med, 'tensorCoordinateMedian');
        expectInBox(med, s.lo, s.hi, () => 0, 'tensorCoordinateMedian');
        const tm = (await run(c, (x) => tensorTrimmedMean(x, { f }))).out;
        expectFinite(tm, 'tensorTrimmedMean');
        expectInBox(tm, s.lo, s.hi, (k) => c.n * 2 ** -23 * Math.max(Math.abs(s.lo[k]), Math.abs(s.hi[k])) + 2 ** -149, 'tensorTrimmedMean');
      }),
      RUNS(15),
    );
  });

  it('tensorKrum and tensorMultiKrum select only clients near the honest ones, never a far attacker', async () => {
    await fc.assert(
      fc.asyncProperty(cases((n) => Math.floor((n - 3) / 2), 5), fc.boolean(), async (spec, multi) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 3) / 2));
        const s = honestStats(c.honest);
        const { out, result } = await run(c, (x) => (multi ? tensorMultiKrumWithDecision(x, { f }) : tensorKrumWithDecision(x, { f })));
        const what = multi ? 'tensorMultiKrum' : 'tensorKrum';
        expectFinite(out, what);
        const reach = Math.sqrt(c.n - f - 2) * s.diameter;
        let gap = Infinity;
        for (const a of c.attackerIdx) for (const x of c.honest) gap = Math.min(gap, dist(c.rows[a], x));
        for (const i of result.decision.selected) {
          const near = Math.min(...c.honest.map((x) => dist(c.rows[i], x)));
          if (!(near <= reach * (1 + 1e-3) + 1e-300)) throw new Error(`${what} selected client ${i} at ${near} from the honest clients > √(n−f−2)·δ = ${reach}`);
          if (c.attackerIdx.includes(i) && gap > 2 * reach) throw new Error(`${what} selected far attacker ${i} (gap ${gap}, honest diameter ${s.diameter})`);
        }
      }),
      RUNS(15),
    );
  });

  it('tensorGeometricMedian stays within 2h·r/(h−b) of the honest mean (b < n/2)', async () => {
    await fc.assert(
      fc.asyncProperty(cases((n) => Math.ceil(n / 2) - 1), async (spec) => {
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        const h = c.honest.length;
        const { out } = await run(c, (x) => tensorGeometricMedianWithDecision(x));
        expectFinite(out, 'tensorGeometricMedian');
        expectWithin(out, s.mean, ((2 * h * s.radius) / (h - spec.b)) * (1 + 1e-3) + c.n * 1e-5 + roundingSlack(c.d, s.maxAbs, 64), 'tensorGeometricMedian');
      }),
      RUNS(15),
    );
  });
});
