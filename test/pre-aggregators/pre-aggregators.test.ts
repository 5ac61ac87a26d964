import { describe, expect, it } from 'vitest';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { krum } from '../../src/aggregators/krum.js';
import { mean } from '../../src/aggregators/mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { arc } from '../../src/pre-aggregators/arc.js';
import { bucketing } from '../../src/pre-aggregators/bucketing.js';
import { clipping } from '../../src/pre-aggregators/clipping.js';
import { nnm } from '../../src/pre-aggregators/nnm.js';
import { pipeline } from '../../src/pre-aggregators/pipeline.js';
import { cloneRows, gaussianRows, rowsOf } from '../helpers/data.js';

const values = (rows: Float32Array[]) => rows.map((r) => Array.from(r));

describe('nnm', () => {
  it('replaces each update by the mean of its n − f nearest (itself included)', () => {
    // f=1, points 0, 1, 10: 0 -> {0,1} = 0.5; 1 -> {1,0} = 0.5; 10 -> {10,1} = 5.5
    expect(values(nnm(rowsOf([[0], [1], [10]]), { f: 1 }))).toEqual([[0.5], [0.5], [5.5]]);
  });

  it('drops non-finite rows and needs an honest majority, n ≥ 2f+1', () => {
    expect(nnm(rowsOf([[0], [NaN], [2]]), { f: 1 })).toHaveLength(2);
    expect(() => nnm(rowsOf([[0]]), { f: 1 })).toThrow('nnm needs n ≥ 2f+1, got n=1, f=1');
    // f ≥ n/2 was accepted; with a Byzantine majority the Gram's robust centre is an attacker's row.
    expect(() => nnm(rowsOf([[0], [1], [2], [3]]), { f: 2 })).toThrow('nnm needs n ≥ 2f+1, got n=4, f=2');
  });
});

describe('bucketing', () => {
  it('returns ⌈n/s⌉ bucket means that preserve the total', () => {
    const rows = gaussianRows(7, 3, 1);
    const out = bucketing(rows, { bucketSize: 3, seed: 4 });
    expect(out).toHaveLength(3);
    // bucket sizes 3, 3, 1 in shuffled order: Σ size·mean = Σ rows
    const sizes = [3, 3, 1];
    for (let k = 0; k < 3; k++) {
      const total = rows.reduce((a, r) => a + r[k], 0);
      expect(out.reduce((a, b, i) => a + sizes[i] * b[k], 0)).toBeCloseTo(total, 4);
    }
  });

  it('is reproducible by seed and needs a seed or rng', () => {
    const rows = gaussianRows(8, 2, 2);
    expect(values(bucketing(rows, { seed: 1 }))).toEqual(values(bucketing(rows, { seed: 1 })));
    expect(values(bucketing(rows, { seed: 1 }))).not.toEqual(values(bucketing(rows, { seed: 2 })));
    expect(() => bucketing(rows, {} as { seed: number })).toThrow(/pass \{ seed \} or \{ rng \}/);
  });
});

describe('clipping', () => {
  it('scales updates longer than τ down to τ and leaves the others', () => {
    expect(values(clipping(rowsOf([[3, 4], [0.5, 0], [0, 0]]), { tau: 1 }))).toEqual([
      [Math.fround(0.6), Math.fround(0.8)],
      [0.5, 0],
      [0, 0],
    ]);
  });
});

describe('arc', () => {
  it('clips the k = ⌊2(f/n)(n−f)⌋ largest norms to the next largest (hand-computed)', () => {
    // n=5, f=1: k = ⌊2·(1/5)·4⌋ = 1. Norms 1,2,3,4,50: the 50 is clipped to 4.
    const rows = rowsOf([[1], [2], [3], [4], [-50]]);
    expect(values(arc(rows, { f: 1 }))).toEqual([[1], [2], [3], [4], [-4]]);
    // f=2: k = ⌊2·(2/5)·3⌋ = 2: 50 and 4 are clipped to 3.
    expect(values(arc(rows, { f: 2 }))).toEqual([[1], [2], [3], [3], [-3]]);
    expect(values(arc(rows, { f: 0 }))).toEqual(values(rows));
  });
});

describe('pipeline', () => {
  it('applies the stages in order and leaves the input unchanged', () => {
    const rows = rowsOf([[0], [1], [10]]);
    const before = cloneRows(rows);
    const agg = pipeline((u) => nnm(u, { f: 1 }), (u) => mean(u));
    expect(Array.from(agg(rows))).toEqual([13 / 6].map(Math.fround));
    expect(values(rows)).toEqual(values(before));
  });

  it('composes randomized and deterministic stages reproducibly', () => {
    const rows = [...gaussianRows(10, 5, 3), ...gaussianRows(2, 5, 4, 100)];
    const make = () => {
      const rng = createRng(11);
      return pipeline(
        (u) => bucketing(u, { bucketSize: 2, rng }),
        (u) => nnm(u, { f: 2 }),
        (u) => coordinateMedian(u),
      );
    };
    const a = make()(rows);
    expect(Array.from(a)).toEqual(Array.from(make()(rows)));
    for (const v of a) expect(Math.abs(v)).toBeLessThan(60); // the two far clients do not dominate
  });

  it('an aggregator alone is a pipeline of one stage', () => {
    const rows = gaussianRows(5, 2, 1);
    expect(Array.from(pipeline((u) => krum(u, { f: 1 }))(rows))).toEqual(Array.from(krum(rows, { f: 1 })));
  });
});

describe('pipeline: malformed stages', () => {
  const rows = rowsOf([[0], [1], [10]]);

  it('needs at least one stage, and every stage a function (a TypeError before)', () => {
    expect(() => (pipeline as (...s: unknown[]) => unknown)()).toThrow('pipeline needs at least one stage (the final aggregator), got none');
    expect(() => (pipeline as (...s: unknown[]) => unknown)((u: Float32Array[]) => u, 3)).toThrow(
      'pipeline: stage 1 must be a function of the updates, got 3',
    );
    expect(() => (pipeline as (...s: unknown[]) => unknown)(null, mean)).toThrow(/stage 0 must be a function/);
  });

  it('names a stage that returns something other than updates, or a bad aggregate', () => {
    const single = pipeline((() => Float32Array.of(1)) as never, (u) => mean(u));
    expect(() => single(rows)).toThrow(/stage 0 \(a pre-aggregator\) returned an object \(Float32Array\), expected an array/);
    const nan = pipeline((u) => nnm(u, { f: 1 }), () => Float32Array.of(NaN));
    expect(() => nan(rows)).toThrow('pipeline: stage 1 (the aggregator) returned NaN or ±Infinity');
    const short = pipeline(() => new Float32Array(2));
    expect(() => short(rows)).toThrow(/stage 0 \(the aggregator\) returned a vector of length 2, expected a Float32Array of length d=1/);
    const notVector = pipeline(() => [1] as never);
    expect(() => notVector(rows)).toThrow(RobustAggError);
  });
});

describe('pre-aggregators: hostile numbers and an invalid rng', () => {
  it('keep every output finite with clients up to ±3.4e38', () => {
    const rows = [...gaussianRows(5, 3, 7), new Float32Array(3).fill(3.4e38), new Float32Array(3).fill(-3.4e38)];
    const outputs = [
      ...nnm(rows, { f: 2 }),
      ...arc(rows, { f: 2 }),
      ...clipping(rows, { tau: 1e38 }),
      ...clipping(rows, { tau: 1 }),
      ...bucketing(rows, { bucketSize: 2, seed: 1 }),
      ...bucketing(rows, { bucketSize: 7, seed: 1 }),
    ];
    for (const out of outputs) for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('bucketing rejects an invalid rng with a RobustAggError', () => {
    const rows = gaussianRows(6, 2, 2);
    for (const rng of [{}, null, 'x']) expect(() => bucketing(rows, { rng: rng as never }), String(rng)).toThrow(RobustAggError);
    const bad = { ...createRng(1), nextInt: () => 99 };
    expect(() => bucketing(rows, { rng: bad })).toThrow(/rng\.nextInt\(\d+\) must return an integer in \[0, \d+\)/);
    expect(() => bucketing(rows, { bucketSize: 1.5, seed: 1 })).toThrow(/bucketSize must be an integer/);
  });
});

describeOptionReading({
  name: 'nnm',
  call: (u, o) => nnm(u, o as never),
  updates: rowsOf([[0], [1], [10]]),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
describeOptionReading({
  name: 'arc',
  call: (u, o) => arc(u, o as never),
  updates: rowsOf([[0], [1], [10]]),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
describeOptionReading({
  name: 'clipping',
  call: (u, o) => clipping(u, o as never),
  updates: rowsOf([[0], [1], [10]]),
  valid: { tau: 1 },
  getter: { key: 'tau', values: [1, -1] },
  required: true,
});
describeOptionReading({
  name: 'bucketing',
  call: (u, o) => bucketing(u, o as never),
  updates: rowsOf([[0], [1], [10]]),
  valid: { seed: 1 },
  getter: { key: 'bucketSize', values: [2, 0] },
  required: true,
});
