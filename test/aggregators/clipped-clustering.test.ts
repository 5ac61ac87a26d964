import { describe, expect, it } from 'vitest';
import {
  CLIPPED_CLUSTERING_MAX_HISTORY,
  clippedClustering,
  clippedClusteringWithDecision,
  type ClippedClusteringOptions,
} from '../../src/aggregators/clipped-clustering.js';
import { RobustAggError } from '../../src/core/errors.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import {
  attackerPositions,
  distanceInHonestRadii,
  expectError,
  expectFinite,
  forEachHostileCase,
  insertAt,
} from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

// Cosines: (0,1) 0.6, (0,2) 0.8, (1,2) 0.96, (0,3) −1, (0,4) 0, (1,3) −0.6, (1,4) −0.8,
// (2,3) −0.8, (2,4) −0.6, (3,4) 0. Norms 2, 5, 5, 1, 3.
const rows = rowsOf([
  [2, 0],
  [3, 4],
  [4, 3],
  [-1, 0],
  [0, -3],
]);

describe('clippedClustering', () => {
  it('clips to the median norm and averages the larger average-linkage cluster (hand-computed)', () => {
    // Distances 1 − cos: d12 = 0.04 merges first; d(0,{1,2}) = (0.4 + 0.2)/2 = 0.3 next;
    // then d34 = 1 < d({0,1,2},4) = (1 + 2·1.7)/3 ≈ 1.467 < d({0,1,2},3) = (2 + 2·1.7)/3 = 1.8:
    // clusters {0,1,2} and {3,4}. τ = median(2,5,5,1,3) = 3: factors 1, 0.6, 0.6.
    // out = ((2,0) + 0.6·(3,4) + 0.6·(4,3))/3 = (6.2/3, 4.2/3).
    const { aggregate, decision, normHistory } = clippedClusteringWithDecision(rows);
    expect(aggregate[0]).toBeCloseTo(6.2 / 3, 6);
    expect(aggregate[1]).toBeCloseTo(1.4, 6);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(decision.labels)).toEqual([0, 0, 0, 1, 1]);
    expect(decision.tau).toBeCloseTo(3, 12);
    expect(Array.from(decision.clipFactors)).toEqual([1, 0.6, 0.6, 1, 1].map((v) => expect.closeTo(v, 12)));
    expect(normHistory).toEqual([2, 5, 5, 1, 3].map((v) => expect.closeTo(v, 12)));
  });

  it('takes τ from the explicit norm history and caps it with maxTau', () => {
    // median(10,10,10,10, 2,5,5,1,3) = 5: no clipping of the kept clients: out = (9/3, 7/3).
    const past = [10, 10, 10, 10];
    const { aggregate, decision, normHistory } = clippedClusteringWithDecision(rows, { normHistory: past });
    expect(decision.tau).toBeCloseTo(5, 12);
    expect(aggregate[0]).toBeCloseTo(3, 6);
    expect(aggregate[1]).toBeCloseTo(7 / 3, 6);
    expect(normHistory).toHaveLength(9);
    expect(past).toEqual([10, 10, 10, 10]); // the caller's array is not modified
    // maxTau = 1: factors 0.5, 0.2, 0.2 -> ((1,0) + (0.6,0.8) + (0.8,0.6))/3.
    const capped = clippedClustering(rows, { maxTau: 1 });
    expect(capped[0]).toBeCloseTo(2.4 / 3, 6);
    expect(capped[1]).toBeCloseTo(1.4 / 3, 6);
  });

  it('keeps the tighter cluster on a size tie, and both when they tie again', () => {
    // {0,1} (cos 10/√101, distance ≈ 0.005) and {2,3} (cos 1/√2, distance ≈ 0.293) tie in size.
    const tied = rowsOf([
      [1, 0],
      [10, 1],
      [-1, 0],
      [-1, -1],
    ]);
    const { aggregate, decision } = clippedClusteringWithDecision(tied);
    expect(decision.selected).toEqual([0, 1]);
    const tau = (1 + Math.SQRT2) / 2; // median of 1, √101, 1, √2
    const f1 = tau / Math.sqrt(101);
    expect(aggregate[0]).toBeCloseTo((1 + 10 * f1) / 2, 6);
    expect(aggregate[1]).toBeCloseTo(f1 / 2, 6);
    // Two clients: two singletons, nothing to choose between: both are kept.
    expect(clippedClusteringWithDecision(rowsOf([[1, 0], [0, 1]])).decision.selected).toEqual([0, 1]);
    expect(clippedClusteringWithDecision(rowsOf([[1, 0]])).decision.selected).toEqual([0]);
  });

  it('gives zero vectors cosine 0, validates the history and drops non-finite clients', () => {
    const withZero = [...rows, new Float32Array(2)];
    expect(clippedClustering(withZero).every(Number.isFinite)).toBe(true);
    expect(() => clippedClustering(rows, { normHistory: [1, NaN] })).toThrow(/normHistory\[1\]/);
    expect(() => clippedClustering(rows, { maxTau: -1 })).toThrow(RobustAggError);
    const { decision, normHistory } = clippedClusteringWithDecision([...rows, Float32Array.of(Infinity, 0)]);
    expect(decision.dropped).toEqual([5]);
    expect(decision.labels[5]).toBe(-1);
    expect(normHistory).toHaveLength(5);
  });

  it('reads options once, rejects null and unknown keys, and caps the norm history at 10⁶', () => {
    expectError(() => clippedClustering(rows, { normHistory: ['1'] as unknown as number[] }), 'INVALID_OPTION', /normHistory\[0\] must be a finite norm ≥ 0, got "1"/);
    expectError(() => clippedClustering(rows, { normHistory: 3 as unknown as number[] }), 'INVALID_OPTION', /normHistory must be an array of norms, got 3/);
    const long = new Array<number>(CLIPPED_CLUSTERING_MAX_HISTORY + 1).fill(1);
    expectError(() => clippedClustering(rows, { normHistory: long }), 'INVALID_OPTION', /normHistory holds 1000001 norms, more than 1000000/);
    // At the cap, the returned history keeps the most recent 10⁶ norms (this round's last).
    const full = new Array<number>(CLIPPED_CLUSTERING_MAX_HISTORY).fill(7);
    const { normHistory, decision } = clippedClusteringWithDecision(rows, { normHistory: full });
    expect(normHistory).toHaveLength(CLIPPED_CLUSTERING_MAX_HISTORY);
    expect(normHistory.slice(-5)).toEqual([2, 5, 5, 1, 3].map((v) => expect.closeTo(v, 12)));
    expect(decision.tau).toBe(7);
  });

  it('puts zero clients at distance 0 from each other: f zero senders form their own cluster (issue 14)', () => {
    // Before: two zero vectors were at distance 1, like strangers; four zero senders joined the
    // honest cluster and shrank its mean by 9/13 (257 honest radii away).
    const d = 64;
    const honest = gaussianRows(9, d, 91, 1, 0.01);
    for (const positions of attackerPositions(13, 4)) {
      const rowsWithZeros = insertAt(honest, new Float32Array(d), positions);
      const { aggregate, decision } = clippedClusteringWithDecision(rowsWithZeros);
      expect(decision.selected).toEqual(rowsWithZeros.flatMap((_, i) => (positions.includes(i) ? [] : [i])));
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(2);
    }
  });

  it('keeps f huge or blinding clients out of the kept cluster wherever they sit, on both kernels', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 93, 1, 0.1);
    forEachHostileCase(honest, f, ({ rows, positions, label }) => {
      const { aggregate, decision } = clippedClusteringWithDecision(rows);
      for (const p of positions) expect(decision.selected, label).not.toContain(p);
      expectFinite(aggregate);
      expectFinite(decision.clipFactors, 'clipFactors');
      expect(Number.isFinite(decision.tau)).toBe(true);
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(2);
    });
  });
});

describeAggregatorProperties({
  name: 'clippedClustering',
  run: (u) => clippedClustering(u),
  minClients: 1,
  translationEquivariant: false, // cosines and norms change under translation
});

describeOptionReading({
  name: 'clippedClustering',
  call: (u, o) => clippedClustering(u, o as ClippedClusteringOptions),
  updates: gaussianRows(5, 4, 2),
  valid: { maxTau: 1 },
  getter: { key: 'maxTau', values: [1, -1] },
});
