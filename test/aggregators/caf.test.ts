import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caf, cafWithDecision, type CafOptions } from '../../src/aggregators/caf.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
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

/** Top eigenpair of a symmetric 1×1 or 2×2 matrix in closed form. */
function topEigen(cov: number[][]): { value: number; vector: number[] } {
  if (cov.length === 1) return { value: cov[0][0], vector: [1] };
  const [[a, b], [, c]] = cov;
  const value = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
  let v = b !== 0 ? [b, value - a] : a >= c ? [1, 0] : [0, 1];
  const norm = Math.hypot(v[0], v[1]);
  v = v.map((t) => t / norm);
  return { value, vector: v };
}

/** CAF written directly in d-space (d ≤ 2), as the algorithm reads, for comparison. */
function cafReference(x: number[][], f: number): number[] {
  const n = x.length;
  const d = x[0].length;
  const c = new Array<number>(n).fill(1);
  let best = x[0].map((_, k) => x.reduce((s, r) => s + r[k], 0) / n);
  let bestLambda = Infinity;
  let total = n;
  while (total > n - 2 * f) {
    const mu = x[0].map((_, k) => x.reduce((s, r, i) => s + c[i] * r[k], 0) / total);
    const cov = Array.from({ length: d }, (_, p) =>
      Array.from({ length: d }, (_, q) => x.reduce((s, r, i) => s + c[i] * (r[p] - mu[p]) * (r[q] - mu[q]), 0) / total),
    );
    const { value, vector } = topEigen(cov);
    if (value < bestLambda) {
      bestLambda = value;
      best = mu;
    }
    if (value <= 0) break;
    const tau = x.map((r) => r.reduce((s, v, k) => s + (v - mu[k]) * vector[k], 0) ** 2);
    const tauMax = Math.max(...tau.filter((_, i) => c[i] > 0));
    total = 0;
    for (let i = 0; i < n; i++) {
      if (c[i] > 0) c[i] = tau[i] >= tauMax ? 0 : c[i] * (1 - tau[i] / tauMax);
      total += c[i];
    }
  }
  return best;
}

describe('caf', () => {
  it("reproduces ByzFL's documented example", () => {
    // x = (1,2,3), (4,5,6), (7,8,9), f = 1: μ = (4,5,6), deviations ∓(3,3,3), λ = 54/3 = 18 along
    // (1,1,1)/√3, τ = (27, 0, 27): clients 0 and 2 get weight 0, Σc = 1 ≤ n − 2f stops the loop.
    const rows = rowsOf([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    const { aggregate, decision } = cafWithDecision(rows, { f: 1 });
    expect(Array.from(aggregate)).toEqual([4, 5, 6]);
    expect(decision.largestEigenvalue).toBeCloseTo(18, 9);
    expect(decision.iterations).toBe(1);
  });

  it('filters a far client in two iterations (hand-computed, 1-D)', () => {
    // x = 0, 1, 2, 30, f = 1 (stop once Σc ≤ 2).
    // 1: μ = 8.25, λ = (8.25² + 7.25² + 6.25² + 21.75²)/4 = 158.1875, τ = squared deviations,
    //    max 473.0625 (x=30) -> c = (1 − 68.0625/473.0625, 8/9, 1 − 39.0625/473.0625, 0), Σc ≈ 2.662.
    // 2: μ = (8/9 + 2·c₂)/Σc ≈ 1.02302 with λ ≈ 0.6656 < 158.19: the returned mean.
    const { aggregate, decision } = cafWithDecision(rowsOf([[0], [1], [2], [30]]), { f: 1 });
    const c0 = 1 - 68.0625 / 473.0625;
    const c2 = 1 - 39.0625 / 473.0625;
    const mu2 = (8 / 9 + 2 * c2) / (c0 + 8 / 9 + c2);
    expect(aggregate[0]).toBeCloseTo(mu2, 6);
    expect(aggregate[0]).toBeCloseTo(1.02302, 4);
    expect(decision.iterations).toBe(2);
    expect(decision.weights[3]).toBe(0);
    expect(decision.largestEigenvalue).toBeCloseTo(0.6656, 3);
  });

  it('matches the d-space algorithm on random 1-D and 2-D clouds with outliers', () => {
    for (let seed = 0; seed < 30; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.nextInt(8);
      const f = rng.nextInt(Math.floor((n - 1) / 2) + 1);
      const d = 1 + rng.nextInt(2);
      const rows = gaussianRows(n, d, seed);
      for (let j = 0; j < f; j++) rows[j] = rows[j].map((v) => v * 20 + 5);
      const expected = cafReference(rows.map((r) => Array.from(r)), f);
      const out = caf(rows, { f });
      expected.forEach((v, k) => expect(out[k]).toBeCloseTo(v, 4));
    }
  });

  it('returns the plain mean when f = 0 and drops non-finite clients against f', () => {
    const rows = rowsOf([[0], [1], [2], [30]]);
    const { aggregate, decision } = cafWithDecision(rows, { f: 0 });
    expect(Array.from(aggregate)).toEqual([8.25]);
    expect(decision.iterations).toBe(0);
    const withNaN = cafWithDecision([...rows, Float32Array.of(NaN)], { f: 1 });
    expect(withNaN.decision.dropped).toEqual([4]);
    expect(Array.from(withNaN.aggregate)).toEqual([8.25]); // f' = 0
    expect(() => caf(rows, { f: 2 })).toThrow('caf needs n ≥ 2f+1, got n=4, f=2');
  });

  it('reads options once: null, unknown keys and a missing f are RobustAggErrors', () => {
    const rows = gaussianRows(5, 4, 2);
    expectError(() => caf(rows, {} as CafOptions), 'INVALID_OPTION', /f must be a non-negative integer/);
  });

  it('gives f huge or blinding clients weight 0 wherever they sit, on both kernels', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 41, 1, 0.1);
    forEachHostileCase(honest, f, ({ rows, positions, label }) => {
      const { aggregate, decision } = cafWithDecision(rows, { f });
      for (const p of positions) expect(decision.weights[p], label).toBe(0);
      expectFinite(aggregate);
      expect(Number.isFinite(decision.largestEigenvalue)).toBe(true);
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(1);
    });
  });


  it('property: f clients of magnitude 1e6..3.4e38, dense or strided, anywhere: weight 0, output within the honest radius, both kernels', () => {
    fc.assert(
      fc.property(hostileCaseArb({ minHonest: 4, maxHonest: 8, maxF: 3, minExponent: 6 }).filter((c) => c.honest.length >= c.f + 1), (c) => {
        onBothBackends(() => {
          const { aggregate, decision } = cafWithDecision(c.rows, { f: c.f });
          expectFinite(aggregate);
          for (const p of c.positions) expect(decision.weights[p]).toBe(0);
          expect(distanceInHonestRadii(aggregate, c.honest)).toBeLessThanOrEqual(1 + 1e-3);
        });
      }),
      { numRuns: 40 },
    );
  });
  it('pins identical and zero clients: λ = 0 at once and their plain mean', () => {
    const x = Float32Array.from({ length: 5 }, (_, k) => 2 * k - 3);
    const { aggregate, decision } = cafWithDecision([x, x, x].map((r) => Float32Array.from(r)), { f: 1 });
    expect(Array.from(aggregate)).toEqual(Array.from(x));
    expect(decision.largestEigenvalue).toBe(0);
    expect(decision.iterations).toBe(1);
    expect(Array.from(caf([0, 1, 2].map(() => new Float32Array(5)), { f: 1 }))).toEqual([0, 0, 0, 0, 0]);
  });
});

describeAggregatorProperties({ name: 'caf(f=1)', run: (u) => caf(u, { f: 1 }), minClients: 3 });
describeAggregatorProperties({
  name: 'caf(f=⌊(n−1)/2⌋)',
  run: (u) => caf(u, { f: Math.floor((u.length - 1) / 2) }),
  minClients: 1,
});

describeOptionReading({
  name: 'caf',
  call: (u, o) => caf(u, o as CafOptions),
  updates: gaussianRows(5, 4, 2),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, 7] },
  required: true,
});
