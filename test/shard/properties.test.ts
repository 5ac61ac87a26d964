// Properties of the sharded protocol on adversarial data (test/helpers' hostile cases: attackers of
// magnitude up to 3.4e38, dense or sparse, at any position, row 0 included), for any number of
// shards S ≤ 7 (ragged last shard), a shard order chosen at random, and an optional client that
// is NaN in one coordinate only:
// - coordinate-wise rules and Krum's selection equal the single call bit for bit;
// - the breakdown-point Gram rules make the same selection, and the geometric median's aggregate
//   stays within float32 rounding of the single call's;
// - every output is finite; the inputs are not modified; the shards' answers are deterministic
//   (a duplicate delivery answers the same bytes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coordinateMedian, geometricMedianWithDecision, krumWithDecision, multiKrumWithDecision, trimmedMean } from '../../src/index.js';
import { aggregateSharded, reduceShardStatistics, shardStatistics } from '../../src/shard/index.js';
import { cloneRows } from '../helpers/data.js';
import { hostileCaseArb } from '../helpers/hostile.js';
import { assemble, slicesOf, withNan } from './slices.js';

const caseArb = fc.record({
  c: hostileCaseArb({ minHonest: 5, maxHonest: 9, maxF: 2 }),
  shards: fc.integer({ min: 1, max: 7 }),
  shuffle: fc.integer(),
  nanAt: fc.option(fc.nat(), { nil: undefined }),
});


describe('sharded = single call on hostile data, any S and shard order', () => {
  it('coordinate median and trimmed mean: bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ c, shards, shuffle, nanAt }) => {
        const rows = withNan(c.rows, nanAt);
        const before = cloneRows(rows);
        const d = rows[0].length;
        const slices = slicesOf(rows, shards, shuffle);
        const med = await aggregateSharded('coordinateMedian', slices);
        expect(assemble(slices, med.shards, d)).toEqual(coordinateMedian(rows));
        const tm = await aggregateSharded('trimmedMean', slices, { f: c.f });
        expect(assemble(slices, tm.shards, d)).toEqual(trimmedMean(rows, { f: c.f }));
        expect(rows).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('krum and multiKrum: the same selection, the same bits; geometric median: the same to rounding, finite', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ c, shards, shuffle, nanAt }) => {
        const rows = withNan(c.rows, nanAt);
        const d = rows[0].length;
        const slices = slicesOf(rows, shards, shuffle);
        const k = await aggregateSharded('krum', slices, { f: c.f });
        const single = krumWithDecision(rows, { f: c.f });
        expect(k.decision.selected).toEqual(single.decision.selected);
        expect(assemble(slices, k.shards, d)).toEqual(single.aggregate);
        const mk = await aggregateSharded('multiKrum', slices, { f: c.f });
        const mkSingle = multiKrumWithDecision(rows, { f: c.f });
        expect(mk.decision.selected).toEqual(mkSingle.decision.selected);
        expect(assemble(slices, mk.shards, d)).toEqual(mkSingle.aggregate);
        const gm = await aggregateSharded('geometricMedian', slices);
        const gmSingle = geometricMedianWithDecision(rows).aggregate;
        const out = assemble(slices, gm.shards, d);
        let scale = 1;
        for (const v of gmSingle) scale = Math.max(scale, Math.abs(v));
        for (let t = 0; t < d; t++) {
          expect(Number.isFinite(out[t])).toBe(true);
          expect(Math.abs(out[t] - gmSingle[t])).toBeLessThanOrEqual(1e-4 * scale);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('shard answers are deterministic (a duplicated job answers the same bytes) and reduce in any order', () => {
    fc.assert(
      fc.property(caseArb, ({ c, shards, shuffle }) => {
        const slices = slicesOf(c.rows, shards, shuffle);
        const clients = c.rows.map((_, i) => i);
        const asks = [{ kind: 'nonFinite' as const }, { kind: 'gram' as const, clients, centre: 'robust' as const }];
        const first = slices.map((s) => shardStatistics(s, asks));
        const again = slices.map((s) => shardStatistics(s, asks));
        expect(again).toEqual(first);
        const forward = reduceShardStatistics(asks, first);
        const backward = reduceShardStatistics(asks, [...first].reverse());
        const n = clients.length;
        for (let t = 0; t < n * n; t++) {
          const i = Math.floor(t / n);
          const j = t % n;
          const bound = 1e-12 * Math.sqrt(forward[1][i * n + i] * forward[1][j * n + j]) + 1e-300;
          expect(Math.abs(forward[1][t] - backward[1][t])).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: 40 },
    );
  });
});
