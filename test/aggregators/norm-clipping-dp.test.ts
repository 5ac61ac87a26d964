import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normClippingDp, normClippingDpWithDecision, type NormClippingDpOptions } from '../../src/aggregators/norm-clipping-dp.js';
import { mean } from '../../src/aggregators/mean.js';
import { createRng } from '../../src/core/random.js';
import { clipping } from '../../src/pre-aggregators/clipping.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { expectError, expectFinite, hostileCaseArb, onBothBackends } from '../helpers/hostile.js';

const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0));

describe('normClippingDp', () => {
  it('clips each update to M and averages (hand-computed), = clipping then mean when σ = 0', () => {
    // (0.3, 0.4) and (0.4, 0.3) have norm 0.5 (kept); (−30, 40) has norm 50, clipped to (−0.6, 0.8).
    const rows = rowsOf([[0.3, 0.4], [0.4, 0.3], [-30, 40]]);
    const { aggregate, decision } = normClippingDpWithDecision(rows, { maxNorm: 1, sigma: 0 });
    expect(Array.from(decision.clipFactors)).toEqual([1, 1, 0.02]);
    expect(aggregate[0]).toBeCloseTo(0.1 / 3, 7);
    expect(aggregate[1]).toBeCloseTo(0.5, 7);
    const data = gaussianRows(9, 50, 3, 0, 2);
    // (clipping rounds the clipped rows to float32 first: equal to a few ulps)
    const viaPipeline = mean(clipping(data, { tau: 5 }));
    normClippingDp(data, { maxNorm: 5, sigma: 0 }).forEach((v, k) => expect(Math.abs(v - viaPipeline[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
    // Weights 1 and 3 on (3, 4) (clip factor 0.2) and (0.5, 0): 0.25·(0.6, 0.8) + 0.75·(0.5, 0).
    const w = normClippingDpWithDecision(rowsOf([[3, 4], [0.5, 0]]), { maxNorm: 1, sigma: 0, weights: [1, 3] });
    expect(Array.from(w.decision.weights)).toEqual([0.05, 0.75]);
    expect(Array.from(w.decision.clientWeights ?? [])).toEqual([0.25, 0.75]);
    expect(normClippingDpWithDecision(rowsOf([[3, 4], [0.5, 0]]), { maxNorm: 1, sigma: 0 }).decision.clientWeights).toBeUndefined();
    expect(Array.from(w.aggregate)).toEqual([0.525, 0.2].map(Math.fround));
  });

  it('adds N(0, σ²) with the seeded generator: same seed, same bits; unseeded refused', () => {
    const d = 20000;
    const rows = [new Float32Array(d), new Float32Array(d)];
    const a = normClippingDp(rows, { maxNorm: 1, sigma: 0.025, seed: 3 });
    expect(Array.from(normClippingDp(rows, { maxNorm: 1, sigma: 0.025, rng: createRng(3) }))).toEqual(Array.from(a));
    const rms = norm(a) / Math.sqrt(d);
    expect(rms).toBeGreaterThan(0.0245);
    expect(rms).toBeLessThan(0.0255);
    expectError(() => normClippingDp(rows, { maxNorm: 1, sigma: 0.025 }), 'INVALID_OPTION', /normClippingDp is randomized/);
  });

  it('checks its options and drops non-finite clients with their weight', () => {
    const rows = rowsOf([[1, 2], [3, 4]]);
    expectError(() => normClippingDp(rows, { maxNorm: 0, sigma: 0 }), 'INVALID_OPTION', /maxNorm must be a finite number in \(0, 1e\+30\]/);
    expectError(() => normClippingDp(rows, { maxNorm: 1, sigma: 2e30 }), 'INVALID_OPTION', /sigma/);
    expectError(() => normClippingDp(rows, { maxNorm: 1 } as NormClippingDpOptions), 'INVALID_OPTION', /sigma/);
    expectError(() => normClippingDp(rows, { maxNorm: 1, sigma: 0, tau: 1 } as unknown as NormClippingDpOptions), 'UNKNOWN_OPTION', /unknown option 'tau'/);
    const { decision, aggregate } = normClippingDpWithDecision([...rows, Float32Array.of(NaN, 1)], { maxNorm: 100, sigma: 0, weights: [1, 1, 9] });
    expect(decision.dropped).toEqual([2]);
    expect(Array.from(decision.weights)).toEqual([0.5, 0.5, 0]);
    expect(Array.from(aggregate)).toEqual([2, 3]);
  });

  it('property: any finite clients, anywhere: the noiseless average has norm ≤ M, on both kernels; finite with noise', () => {
    fc.assert(
      fc.property(
        hostileCaseArb({ minHonest: 1, maxHonest: 8, maxF: 5 }),
        fc.double({ min: 1e-6, max: 1e30, noNaN: true }),
        fc.integer(),
        (c, maxNorm, seed) => {
          const before = c.rows.map((r) => Float32Array.from(r));
          onBothBackends(() => {
            const out = normClippingDp(c.rows, { maxNorm, sigma: 0 });
            expectFinite(out);
            expect(norm(out)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
          });
          expectFinite(normClippingDp(c.rows, { maxNorm, sigma: maxNorm, seed }));
          c.rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
        },
      ),
      { numRuns: 40 },
    );
  });
});
