import fc from 'fast-check';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  smea,
  smeaWithDecision,
  SMEA_DEFAULT_MAX_SUBSETS,
  SMEA_MAX_SUBSETS_LIMIT,
  SMEA_MAX_WORK,
  type SmeaOptions,
} from '../../src/aggregators/smea.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import {
  attackerPositions,
  distanceInHonestRadii,
  expectError,
  expectFinite,
  hostileCaseArb,
  hostileKinds,
  insertAt,
  onBothBackends,
} from '../helpers/hostile.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

/** Every subset of `size` indices of 0..n−1 in lexicographic order. */
function* subsets(n: number, size: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === size) {
    yield prefix;
    return;
  }
  for (let k = start; k < n; k++) yield* subsets(n, size, k + 1, [...prefix, k]);
}

/** λ_max of the d×d empirical covariance (1/|S|)Σ(xᵢ − x̄)(xᵢ − x̄)ᵀ, by ml-matrix (the oracle). */
function covarianceMax(rows: Float32Array[], subset: number[]): number {
  const d = rows[0].length;
  const mean = new Array<number>(d).fill(0);
  for (const i of subset) for (let k = 0; k < d; k++) mean[k] += rows[i][k] / subset.length;
  const cov = Matrix.zeros(d, d);
  for (const i of subset) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) cov.set(a, b, cov.get(a, b) + ((rows[i][a] - mean[a]) * (rows[i][b] - mean[b])) / subset.length);
    }
  }
  return Math.max(...new EigenvalueDecomposition(cov, { assumeSymmetric: true }).realEigenvalues);
}

describe('smea', () => {
  it('selects the subset whose covariance has the smallest largest eigenvalue (hand-computed)', () => {
    // {0,1,2}: mean (1/3, 1/3), covariance [[2, −1], [−1, 2]]/9, eigenvalues 1/9 and 3/9. Every
    // subset holding (9, 9) has a variance of at least 2·(9 − 4.5)²/3 = 13.5 along (1, 1)/√2.
    const rows = rowsOf([[0, 0], [1, 0], [0, 1], [9, 9]]);
    const { aggregate, decision } = smeaWithDecision(rows, { f: 1 });
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(decision.maxEigenvalue).toBeCloseTo(1 / 3, 12);
    expect(Array.from(decision.weights)).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
    expect(Array.from(aggregate)).toEqual([1 / 3, 1 / 3].map(Math.fround));

    // 1-D, f = 1, subsets of four of 0, 1, 2, 10, 11: variances {0,1,2,10} 15.6875,
    // {0,1,2,11} 19.25, {1,2,10,11} 20.5, {0,2,10,11} 23.1875, {0,1,10,11} 25.25: mean 3.25.
    const line = rowsOf([[0], [1], [2], [10], [11]]);
    const one = smeaWithDecision(line, { f: 1 });
    expect(one.decision.selected).toEqual([0, 1, 2, 3]);
    expect(one.decision.maxEigenvalue).toBeCloseTo(15.6875, 12);
    expect(Array.from(one.aggregate)).toEqual([3.25]);
    // f = 2: {0,1,2}, variance 2/3, mean 1.
    expect(Array.from(smea(line, { f: 2 }))).toEqual([1]);
  });

  it('agrees with the oracle on a planar case with competing shapes (all 15 subsets of 4 of 6)', () => {
    const rows = rowsOf([[0, 0], [1, 0], [0, 1], [1, 1], [-0.3, 0.5], [3, 0.5]]);
    const { decision } = smeaWithDecision(rows, { f: 2 });
    let best = { subset: [] as number[], value: Infinity };
    for (const s of subsets(6, 4)) {
      const v = covarianceMax(rows, s);
      if (v < best.value - 1e-9) best = { subset: s, value: v };
    }
    expect(decision.selected).toEqual(best.subset);
    expect(decision.maxEigenvalue).toBeCloseTo(best.value, 9);
  });

  it('finds the same subset as brute force over every subset (ml-matrix eigenvalues) on random clouds', () => {
    for (let seed = 0; seed < 30; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.nextInt(7);
      const f = rng.nextInt(Math.floor((n - 1) / 2) + 1);
      const d = 1 + rng.nextInt(4);
      const rows = gaussianRows(n, d, seed + 100);
      if (seed % 3 === 0) rows[rng.nextInt(n)] = Float32Array.from({ length: d }, () => 20 * rng.gaussian());
      let best = { subset: [] as number[], value: Infinity };
      for (const s of subsets(n, n - f)) {
        const v = covarianceMax(rows, s);
        if (v < best.value - 1e-9) best = { subset: s, value: v };
      }
      const { decision } = smeaWithDecision(rows, { f });
      expect(decision.selected, `seed ${seed}`).toEqual(best.subset);
      expect(decision.maxEigenvalue).toBeCloseTo(best.value, 6);
    }
  });

  it('breaks ties by the smaller trace, then by the lexicographically first subset', () => {
    // f = 1 among −1, 0, 1: {−1,0} and {0,1} tie (variance 1/4, same trace): the first wins.
    expect(Array.from(smea(rowsOf([[-1], [0], [1]]), { f: 1 }))).toEqual([-0.5]);
    // Duplicates: a subset of covariance 0, the lowest indices among equals.
    const x = Float32Array.of(1, -2, 3);
    const { decision, aggregate } = smeaWithDecision([x, x, x, x].map((r) => Float32Array.from(r)), { f: 1 });
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(decision.maxEigenvalue).toBe(0);
    expect(Array.from(aggregate)).toEqual([1, -2, 3]);
  });

  it('refuses a search larger than maxSubsets, caps maxSubsets, reads options once', () => {
    expect(SMEA_DEFAULT_MAX_SUBSETS).toBe(100_000);
    expect(SMEA_MAX_SUBSETS_LIMIT).toBe(1_000_000);
    // C(30, 6) = 593 775 > 10⁵.
    expectError(() => smea(gaussianRows(30, 2, 3), { f: 6 }), 'UNSUPPORTED', /C\(30, 6\) = 5\.94e\+5 subsets, more than maxSubsets=100000/);
    const seven = gaussianRows(7, 2, 4);
    // C(7, 3) = 35.
    expectError(() => smea(seven, { f: 3, maxSubsets: 34 }), 'UNSUPPORTED', /C\(7, 3\) = 35\.0 subsets/);
    expect(smea(seven, { f: 3, maxSubsets: 35 })).toHaveLength(2);
    expectError(() => smea(seven, { f: 3, maxSubsets: SMEA_MAX_SUBSETS_LIMIT + 1 }), 'INVALID_OPTION', /maxSubsets must be an integer in \[1, 1000000\]/);
    expectError(() => smea(seven, { f: 3, maxSubsets: Infinity }), 'INVALID_OPTION', /maxSubsets/);
    // C(120, 3) = 280 840 subsets of 117: 280 840 · 117³/6 = 7.5e10 multiply-adds > SMEA_MAX_WORK.
    expect(SMEA_MAX_WORK).toBe(2e10);
    expectError(() => smea(gaussianRows(120, 1, 6), { f: 3, maxSubsets: SMEA_MAX_SUBSETS_LIMIT }), 'UNSUPPORTED', /estimated at 7\.50e\+10 multiply-adds, more than 20000000000/);
    expectError(() => smea(seven, { f: 3, maxSubsets: 0 }), 'INVALID_OPTION', /maxSubsets/);
    expectError(() => smea(seven, null as unknown as SmeaOptions), 'INVALID_OPTION', /options must be an object, got null/);
    expectError(() => smea(seven, { f: 1, maxSubset: 9 } as unknown as SmeaOptions), 'UNKNOWN_OPTION', /unknown option 'maxSubset'/);
    expectError(() => smea(seven, { f: 4 }), 'TOO_FEW_CLIENTS', /smea needs n ≥ 2f\+1, got n=7, f=4/);
    expectError(() => smea(seven, { f: 1.5 }), 'INVALID_OPTION', /f must be a non-negative integer/);
    let reads = 0;
    const tricky = {
      get f() {
        reads++;
        return reads === 1 ? 1 : -3;
      },
    } as SmeaOptions;
    expect(() => smea(seven, tricky)).not.toThrow();
    expect(reads).toBe(1);
  });

  it('selects the honest subset whatever f huge or blinding clients send, wherever they sit, on both kernels', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 51, 1, 0.1);
    onBothBackends((backend) => {
      for (const { name, row } of hostileKinds(d)) {
        for (const positions of attackerPositions(honest.length + f, f)) {
          const rows = insertAt(honest, row, positions);
          const { aggregate, decision } = smeaWithDecision(rows, { f });
          const honestIndex = rows.flatMap((_, i) => (positions.includes(i) ? [] : [i]));
          expect(decision.selected, `${backend} ${name} at ${positions.join(',')}`).toEqual(honestIndex);
          expect(Number.isFinite(decision.maxEigenvalue)).toBe(true);
          expectFinite(aggregate);
          expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(1);
        }
      }
    });
  });

  it('property: f hostile clients of any magnitude 1..3.4e38, dense or strided, anywhere: output within √(n−f)+1 honest radii, both kernels', () => {
    // An all-honest subset is a candidate with λ ≤ r² (r: the honest radius), so the selected S
    // has λ_S ≤ r²; every member of S is within √|S|·√λ_S of x̄_S (its own term of the scatter
    // matrix), an honest member included, which is within r of the honest mean.
    fc.assert(
      fc.property(
        hostileCaseArb({ minHonest: 4, maxHonest: 8, maxF: 3 }).filter((c) => c.honest.length >= c.f + 1),
        fc.boolean(),
        (c, colluding) => {
          const rows = colluding ? c.rows.map((r, i) => (c.positions.includes(i) ? c.rows[c.positions[0]] : r)) : c.rows;
          onBothBackends(() => {
            const out = smea(rows, { f: c.f });
            expectFinite(out);
            expect(distanceInHonestRadii(out, c.honest)).toBeLessThanOrEqual(Math.sqrt(rows.length - c.f) + 1 + 1e-3);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drops non-finite clients and counts them against f; leaves its input unchanged', () => {
    const rows = [...rowsOf([[0], [1], [2], [10]]), Float32Array.of(NaN)];
    const before = rows.map((r) => Float32Array.from(r));
    // f' = 0 after the drop: all four finite clients, mean 3.25.
    const { aggregate, decision } = smeaWithDecision(rows, { f: 1 });
    expect(decision.dropped).toEqual([4]);
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    expect(Array.from(aggregate)).toEqual([3.25]);
    rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
    expectError(() => smea(rows, { f: 1, nonFinite: 'throw' }), 'NON_FINITE_UPDATE', /client 4/);
  });
});

describeAggregatorProperties({
  name: 'smea (f = 1)',
  run: (u) => smea(u, { f: 1 }),
  minClients: 3,
  maxClients: 9,
});
