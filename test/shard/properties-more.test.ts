// Properties of the sharded forms of auror, lasa, smea, normClippingDp and crfl on adversarial data
// (test/helpers' hostile cases: attackers up to 3.4e38, dense or sparse, at any position), any
// S ≤ 7 (ragged last shard), any shard order, an optional client that is NaN in one coordinate:
// - Auror's votes are integers: the same decision and the same bits as the single call;
// - LASA's thresholds are exact order statistics and its layer choices the single call's;
// - SMEA selects the same subset (same bits);
// - normClippingDp and crfl: the same clip factors to float64 rounding, outputs finite and within
//   rounding of the single call; the inputs are never modified.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aurorWithDecision, crflWithDecision, lasaWithDecision, normClippingDpWithDecision, smeaWithDecision } from '../../src/index.js';
import { aggregateSharded } from '../../src/shard/index.js';
import { cloneRows } from '../helpers/data.js';
import { hostileCaseArb } from '../helpers/hostile.js';
import { assemble, slicesOf, withNan } from './slices.js';

const caseArb = fc.record({
  c: hostileCaseArb({ minHonest: 5, maxHonest: 8, maxF: 2 }),
  shards: fc.integer({ min: 1, max: 7 }),
  shuffle: fc.integer(),
  nanAt: fc.option(fc.nat(), { nil: undefined }),
});


function expectClose(a: Float32Array, b: Float32Array): void {
  let scale = 1;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let k = 0; k < a.length; k++) {
    expect(Number.isFinite(a[k])).toBe(true);
    expect(Math.abs(a[k] - b[k]) / scale).toBeLessThan(1e-5);
  }
}

describe('sharded = single call on hostile data, any S and shard order (rules with statistics beyond the Gram)', () => {
  it('auror: same flags, votes and bits', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.double({ min: 0.01, max: 10, noNaN: true }), async ({ c, shards, shuffle, nanAt }, threshold) => {
        const rows = withNan(c.rows, nanAt);
        const before = cloneRows(rows);
        const single = aurorWithDecision(rows, { threshold });
        const slices = slicesOf(rows, shards, shuffle);
        const run = await aggregateSharded('auror', slices, { threshold });
        const decision = run.decision as unknown as typeof single.decision & { indicativeCount: number };
        expect(decision.flagged).toEqual(single.decision.flagged);
        expect(decision.suspicions).toEqual(single.decision.suspicions);
        expect(decision.indicativeCount).toBe(single.decision.indicative.length);
        expect(assemble(slices, run.shards, rows[0].length)).toEqual(single.aggregate);
        expect(rows).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('lasa: same thresholds (exact), layer choices and clip norm; output within rounding', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.double({ min: 0, max: 0.99, noNaN: true }), async ({ c, shards, shuffle, nanAt }, sparsity) => {
        const rows = withNan(c.rows, nanAt);
        const single = lasaWithDecision(rows, { sparsity });
        const slices = slicesOf(rows, shards, shuffle);
        const run = await aggregateSharded('lasa', slices, { sparsity });
        const decision = run.decision as typeof single.decision;
        expect(decision.layers).toEqual(single.decision.layers);
        expect(Math.abs(decision.clipNorm - single.decision.clipNorm)).toBeLessThanOrEqual(1e-12 * single.decision.clipNorm);
        expectClose(assemble(slices, run.shards, rows[0].length), single.aggregate);
      }),
      { numRuns: 40 },
    );
  });

  it('smea: same subset, same bits', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ c, shards, shuffle, nanAt }) => {
        const rows = withNan(c.rows, nanAt);
        const single = smeaWithDecision(rows, { f: c.f });
        const slices = slicesOf(rows, shards, shuffle);
        const run = await aggregateSharded('smea', slices, { f: c.f });
        expect(run.decision.selected).toEqual(single.decision.selected);
        expect(assemble(slices, run.shards, rows[0].length)).toEqual(single.aggregate);
      }),
      { numRuns: 30 },
    );
  });

  it('normClippingDp and crfl: clip factors to float64 rounding, finite outputs within rounding', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.double({ min: 1e-3, max: 1e30, noNaN: true }), async ({ c, shards, shuffle, nanAt }, bound) => {
        const rows = withNan(c.rows, nanAt);
        const slices = slicesOf(rows, shards, shuffle);
        const d = rows[0].length;
        const dp = normClippingDpWithDecision(rows, { maxNorm: bound, sigma: 0.5, seed: 3 });
        const dpRun = await aggregateSharded('normClippingDp', slices, { maxNorm: bound, sigma: 0.5, seed: 3 });
        const factors = (dpRun.decision as typeof dp.decision).clipFactors;
        factors.forEach((v, i) => expect(Math.abs(v - dp.decision.clipFactors[i])).toBeLessThanOrEqual(1e-12 * Math.max(1e-300, dp.decision.clipFactors[i])));
        expectClose(assemble(slices, dpRun.shards, d), dp.aggregate);
        const cr = crflWithDecision(rows, { clipNorm: bound, sigma: 0 });
        const crRun = await aggregateSharded('crfl', slices, { clipNorm: bound, sigma: 0 });
        const clip = (crRun.decision as typeof cr.decision).clipFactor;
        expect(Math.abs(clip - cr.decision.clipFactor)).toBeLessThanOrEqual(1e-12 * cr.decision.clipFactor);
        expectClose(assemble(slices, crRun.shards, d), cr.aggregate);
      }),
      { numRuns: 40 },
    );
  });
});
