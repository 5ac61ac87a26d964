import { describe, expect, it } from 'vitest';
import {
  mda,
  mdaWithDecision,
  MDA_DEFAULT_MAX_SUBSETS,
  MDA_MAX_SUBSETS_LIMIT,
  type MdaOptions,
} from '../../src/aggregators/mda.js';
import { createRng } from '../../src/core/random.js';
import { RobustAggError } from '../../src/core/errors.js';
import { nnm } from '../../src/pre-aggregators/nnm.js';
import { pipeline } from '../../src/pre-aggregators/pipeline.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import fc from 'fast-check';
import {
  distanceInHonestRadii,
  expectError,
  expectFinite,
  forEachHostileCase,
  hostileCaseArb,
  onBothBackends,
} from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

const points = rowsOf([[0], [1], [2], [10], [11]]);

/** Every subset of `size` indices of 0..n−1 in lexicographic order. */
function* subsets(n: number, size: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === size) {
    yield prefix;
    return;
  }
  for (let k = start; k < n; k++) yield* subsets(n, size, k + 1, [...prefix, k]);
}

/**
 * Brute force over all subsets of n − f rows: the smallest diameter, then the smallest spread
 * Σ_{i<j} ‖xᵢ − xⱼ‖², then the lexicographically first.
 */
function bruteForce(rows: Float32Array[], f: number): { subset: number[]; diameter: number } {
  const d2 = (a: Float32Array, b: Float32Array) => Array.from(a, (v, k) => (v - b[k]) ** 2).reduce((x, y) => x + y, 0);
  let best = { subset: [] as number[], diameter: Infinity, spread: Infinity };
  for (const s of subsets(rows.length, rows.length - f)) {
    let diameter = 0;
    let spread = 0;
    for (const i of s) {
      for (const j of s) {
        if (j <= i) continue;
        diameter = Math.max(diameter, Math.sqrt(d2(rows[i], rows[j])));
        spread += d2(rows[i], rows[j]);
      }
    }
    const better = diameter < best.diameter - 1e-9 || (Math.abs(diameter - best.diameter) <= 1e-9 && spread < best.spread - 1e-9);
    if (better) best = { subset: s, diameter, spread };
  }
  return best;
}

describe('mda', () => {
  it('averages the n − f clients with the smallest diameter (hand-computed)', () => {
    // f = 2, subsets of 3: {0,1,2} has diameter 2, every other one contains 10 or 11 and a point
    // ≤ 2 (diameter ≥ 8) or is {10,11,x} with x ≤ 2 (diameter ≥ 9). Mean (0+1+2)/3 = 1.
    const { aggregate, decision } = mdaWithDecision(points, { f: 2 });
    expect(Array.from(aggregate)).toEqual([1]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(decision.diameter).toBe(2);
    expect(Array.from(decision.weights)).toEqual([1 / 3, 1 / 3, 1 / 3, 0, 0]);
  });

  it('breaks diameter ties by the smaller spread, then by the lexicographically first subset', () => {
    // f = 1: {0,1,2,10} and {1,2,10,11} both have diameter 10 (every other subset 11). Spreads
    // Σ of squared pairwise distances: 1+4+100+1+81+64 = 251 and 1+81+100+64+81+1 = 328, so
    // {0,1,2,10} wins: mean 13/4 = 3.25, whatever the order of the clients.
    const { aggregate, decision } = mdaWithDecision(points, { f: 1 });
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    expect(decision.diameter).toBe(10);
    expect(Array.from(aggregate)).toEqual([3.25]);
    const reversed = [...points].reverse(); // the tight subset is now the lexicographically last
    const again = mdaWithDecision(reversed, { f: 1 });
    expect(again.decision.selected).toEqual([1, 2, 3, 4]);
    expect(Array.from(again.aggregate)).toEqual([3.25]);
    // A full tie (same diameter 1, same spread 1): {−1, 0} and {0, 1}; the first subset wins.
    expect(Array.from(mda(rowsOf([[-1], [0], [1]]), { f: 1 }))).toEqual([-0.5]);
  });

  it('finds the same subset as brute force on random clouds', () => {
    for (let seed = 0; seed < 25; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.nextInt(7);
      const f = rng.nextInt(Math.floor((n - 1) / 2) + 1);
      const rows = gaussianRows(n, 1 + rng.nextInt(4), seed + 100);
      const expected = bruteForce(rows, f);
      const { decision } = mdaWithDecision(rows, { f });
      expect(decision.selected).toEqual(expected.subset);
      expect(decision.diameter).toBeCloseTo(expected.diameter, 5);
    }
  });

  it('refuses an exact search larger than maxSubsets (explicit size guard)', () => {
    expect(MDA_DEFAULT_MAX_SUBSETS).toBe(1_000_000);
    const many = gaussianRows(41, 1, 3);
    // C(41, 8) = 95 548 245 > 10⁶.
    expect(() => mda(many, { f: 8 })).toThrow(/C\(41, 8\) = 9\.55e\+7 subsets, more than maxSubsets=1000000/);
    try {
      mda(many, { f: 8 });
    } catch (e) {
      expect((e as RobustAggError).code).toBe('UNSUPPORTED');
    }
    const seven = gaussianRows(7, 2, 4);
    // C(7, 3) = 35.
    expect(() => mda(seven, { f: 3, maxSubsets: 34 })).toThrow(RobustAggError);
    expect(mda(seven, { f: 3, maxSubsets: 35 })).toHaveLength(2);
    expect(mda(seven, { f: 3, maxSubsets: MDA_MAX_SUBSETS_LIMIT })).toHaveLength(2);
    expect(() => mda(seven, { f: 3, maxSubsets: 0 })).toThrow(/maxSubsets/);
  });

  it('caps maxSubsets at MDA_MAX_SUBSETS_LIMIT (Infinity once allowed a search of hours) and reads options once', () => {
    const seven = gaussianRows(7, 2, 4);
    expectError(() => mda(seven, { f: 3, maxSubsets: Infinity }), 'INVALID_OPTION', /maxSubsets must be an integer in \[1, 100000000\], got Infinity/);
    expectError(() => mda(seven, { f: 3, maxSubsets: MDA_MAX_SUBSETS_LIMIT + 1 }), 'INVALID_OPTION', /maxSubsets/);
    expectError(() => mda(seven, { f: 3, maxSubsets: 2.5 }), 'INVALID_OPTION', /maxSubsets/);
    // C(60, 20) = 4.2e15: refused at once, whatever maxSubsets.
    expectError(() => mda(gaussianRows(60, 1, 5), { f: 20, maxSubsets: MDA_MAX_SUBSETS_LIMIT }), 'UNSUPPORTED', /at most 100000000/);
  });

  it('selects the honest subset whatever f huge or blinding clients send, wherever they sit, on both kernels', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 51, 1, 0.1);
    forEachHostileCase(honest, f, ({ rows, honestIndex, label }) => {
      const { aggregate, decision } = mdaWithDecision(rows, { f });
      expect(decision.selected, label).toEqual(honestIndex);
      expect(Number.isFinite(decision.diameter)).toBe(true);
      expectFinite(aggregate);
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(1);
    });
  });


  it('property: f hostile clients of any magnitude 1..3.4e38, dense or strided, anywhere: output within 3 honest radii, both kernels', () => {
    // The honest subset is a candidate, so the selected one is no wider: every selected client is
    // within the honest diameter (2 radii) of a selected honest one, hence the bound 3.
    fc.assert(
      fc.property(hostileCaseArb({ minHonest: 4, maxHonest: 8, maxF: 3 }).filter((c) => c.honest.length >= c.f + 1), (c) => {
        onBothBackends(() => {
          const out = mda(c.rows, { f: c.f });
          expectFinite(out);
          expect(distanceInHonestRadii(out, c.honest)).toBeLessThanOrEqual(3 + 1e-3);
        });
      }),
      { numRuns: 40 },
    );
  });
  it('pins duplicates and zero clients: a subset of diameter 0, the lowest indices among equals', () => {
    const x = Float32Array.of(1, -2, 3);
    const { aggregate, decision } = mdaWithDecision([x, x, x, x].map((r) => Float32Array.from(r)), { f: 1 });
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(decision.diameter).toBe(0);
    expect(Array.from(aggregate)).toEqual([1, -2, 3]);
    const rows = [new Float32Array(3), new Float32Array(3), Float32Array.of(5, 5, 5)];
    expect(mdaWithDecision(rows, { f: 1 }).decision.selected).toEqual([0, 1]);
  });

  it('states its constraint, drops non-finite clients and counts them against f', () => {
    expect(() => mda(points.slice(0, 4), { f: 2 })).toThrow('mda needs n ≥ 2f+1, got n=4, f=2');
    const rows = [...points.slice(0, 4), Float32Array.of(Infinity)];
    // f' = 0 after the drop: all four finite clients, mean 3.25.
    const { aggregate, decision } = mdaWithDecision(rows, { f: 1 });
    expect(decision.dropped).toEqual([4]);
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    expect(Array.from(aggregate)).toEqual([3.25]);
  });
});

describe('mda in a pipeline', () => {
  it('composes with a pre-aggregator: pipeline(nnm, mda) = mda(nnm(x))', () => {
    const rows = [...gaussianRows(7, 6, 21), Float32Array.from({ length: 6 }, () => 50)];
    const robust = pipeline(
      (u) => nnm(u, { f: 1 }),
      (u) => mda(u, { f: 1 }),
    );
    expect(Array.from(robust(rows))).toEqual(Array.from(mda(nnm(rows, { f: 1 }), { f: 1 })));
    // The far client is mixed away by NNM, then left out by MDA: the output stays near the cloud.
    expect(Math.max(...Array.from(robust(rows), Math.abs))).toBeLessThan(5);
  });
});

describeAggregatorProperties({ name: 'mda(f=1)', run: (u) => mda(u, { f: 1 }), minClients: 3 });
describeAggregatorProperties({
  name: 'mda(f=⌊(n−1)/2⌋)',
  run: (u) => mda(u, { f: Math.floor((u.length - 1) / 2) }),
  minClients: 1,
  maxClients: 9,
});

describeOptionReading({
  name: 'mda',
  call: (u, o) => mda(u, o as MdaOptions),
  updates: gaussianRows(7, 2, 4),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
