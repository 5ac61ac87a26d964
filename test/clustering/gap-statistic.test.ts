// Exact 1-D k-means and the gap statistic behind FLDetector (src/clustering/gap-statistic.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gapStatistic, kMeans1dCosts, twoMeansThreshold } from '../../src/clustering/gap-statistic.js';
import { createRng } from '../../src/core/random.js';

/** min over all labelings into ≤ k clusters of the within-cluster sum of squares (brute force). */
function bruteForce(x: number[], k: number): number {
  let best = Infinity;
  const labels = new Array<number>(x.length).fill(0);
  const visit = (i: number): void => {
    if (i === x.length) {
      let total = 0;
      for (let c = 0; c < k; c++) {
        const members = x.filter((_, t) => labels[t] === c);
        if (members.length === 0) continue;
        const mean = members.reduce((a, b) => a + b, 0) / members.length;
        total += members.reduce((a, b) => a + (b - mean) ** 2, 0);
      }
      best = Math.min(best, total);
      return;
    }
    for (let c = 0; c < k; c++) {
      labels[i] = c;
      visit(i + 1);
    }
  };
  visit(0);
  return best;
}

describe('kMeans1dCosts', () => {
  it('hand-computed: {0, 1, 10, 11} gives W₁ = 101, W₂ = 1, W₃ = 0.5, W₄ = 0', () => {
    // W₁: mean 5.5, Σ (x − 5.5)² = 30.25 + 20.25 + 20.25 + 30.25 = 101. W₂: {0,1},{10,11}: 0.5 + 0.5.
    const w = kMeans1dCosts([11, 0, 10, 1], 5);
    expect(Array.from(w)).toEqual([101, 1, 0.5, 0, 0]);
  });

  it('equals the brute-force optimum over every labeling (≤ 7 points, k ≤ 3), ties and duplicates included', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }), (ints) => {
        const x = ints.map((v) => v / 2);
        const w = kMeans1dCosts(x, 3);
        for (let k = 1; k <= 3; k++) expect(w[k - 1]).toBeCloseTo(bruteForce(x, k), 9);
      }),
      { numRuns: 80 },
    );
  });
});

describe('twoMeansThreshold', () => {
  it('splits {0, 0.1, 0.2, 5, 5.1} at 5 and keeps equal values together', () => {
    expect(twoMeansThreshold([5.1, 0, 0.2, 5, 0.1])).toBe(5);
    expect(twoMeansThreshold([1, 1, 1])).toBeNull();
    // 0, 0, 1, 1: the split is between the two values, never through a pair of equal ones.
    expect(twoMeansThreshold([1, 0, 1, 0])).toBe(1);
  });
});

describe('gapStatistic', () => {
  it('finds more than one cluster in well separated data and one in uniform or constant data', () => {
    const rng = createRng(7);
    const separated = [...Array.from({ length: 20 }, () => 0.01 * rng.next()), 0.9, 0.91, 0.92];
    expect(gapStatistic(separated, 10, 20, createRng(1)).k).toBeGreaterThanOrEqual(2);
    const uniform = Array.from({ length: 30 }, (_, i) => i / 29);
    expect(gapStatistic(uniform, 10, 20, createRng(1)).k).toBe(1);
    expect(gapStatistic([0.3, 0.3, 0.3, 0.3], 10, 20, createRng(1)).k).toBe(1);
    expect(gapStatistic([0.1, 0.9], 10, 20, createRng(1)).k).toBe(1); // two points: nothing to compare
  });

  it('is finite and deterministic for a seed', () => {
    const data = [0, 0, 0, 1, 1, 1];
    const a = gapStatistic(data, 5, 10, createRng(3));
    const b = gapStatistic(data, 5, 10, createRng(3));
    expect(a.k).toBe(b.k);
    expect(Array.from(a.gaps)).toEqual(Array.from(b.gaps));
    expect(Array.from(a.gaps).every(Number.isFinite)).toBe(true);
    expect(a.k).toBe(2);
  });
});
