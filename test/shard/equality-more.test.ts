// Sharded = single call for the rules added to the shard protocol last: LASA (radix-selected
// thresholds, per-layer statistics), Auror (per-coordinate votes), CRFL, normClippingDp, SMEA and
// FoolsGold (history kept per shard across rounds). S ∈ {1, 2, 7} with ragged last shards, on
// ordinary and hostile rows (huge, blinder, NaN in one shard only). S = 1 is the single call bit
// for bit; S > 1 gives the same decision and the aggregate within float64 summation-order rounding.
import { describe, expect, it } from 'vitest';
import {
  aurorWithDecision,
  crflWithDecision,
  foolsGoldWithDecision,
  lasaWithDecision,
  normClippingDpWithDecision,
  smeaWithDecision,
  type FoolsGoldHistory,
} from '../../src/index.js';
import { createLayout } from '../../src/core/layout.js';
import { createRng } from '../../src/core/random.js';
import {
  aggregateSharded,
  createShardCoordinator,
  reduceShardStatistics,
  shardFoolsGoldHistory,
  shardRanges,
  shardStatistics,
  type ShardHistoryMember,
  type ShardSlice,
} from '../../src/shard/index.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, HUGE, hugeRow } from '../helpers/hostile.js';

const N = 11;

function dataSets(d: number): { name: string; rows: Float32Array[] }[] {
  const honest = gaussianRows(N, d, 23, 0.3, 1);
  const shifted = honest.map((r, i) => (i === 2 || i === 8 ? Float32Array.from(r, (v, k) => (k % 3 === 0 ? v + 9 : v)) : r));
  const hostile = honest.map((r) => r);
  hostile[0] = hugeRow(d);
  hostile[4] = blinderRow(d);
  hostile[6] = Float32Array.from(honest[6]);
  hostile[6][d - 1] = NaN;
  const sparse = honest.map((r) => r);
  sparse[10] = Float32Array.from(honest[10], (v, k) => (k % 29 === 0 ? -HUGE : 0));
  sparse[1] = new Float32Array(d); // all zeros
  return [
    { name: 'gaussian + 2 shifted', rows: shifted },
    { name: 'hostile: huge row 0, blinder, NaN in the last shard', rows: hostile },
    { name: 'hostile: sparse -huge, a zero row', rows: sparse },
  ];
}

function slicesOf(rows: Float32Array[], d: number, shards: number, vectors: Record<string, Float32Array> = {}): ShardSlice[] {
  return shardRanges(d, shards).map(({ offset, width }) => ({
    offset,
    d,
    rows: rows.map((r) => r.slice(offset, offset + width)),
    vectors: Object.fromEntries(Object.entries(vectors).map(([name, v]) => [name, v.slice(offset, offset + width)])),
  }));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 1e-5): void {
  expect(a.length).toBe(b.length);
  let scale = 1;
  for (let k = 0; k < b.length; k++) if (Number.isFinite(b[k])) scale = Math.max(scale, Math.abs(b[k]));
  for (let k = 0; k < a.length; k++) {
    if (Number.isNaN(b[k])) expect(a[k]).toBeNaN();
    else expect(Math.abs(a[k] - b[k]) / scale).toBeLessThan(tolerance);
  }
}

const SHARDS = [1, 2, 7];

describe('lasa: radix-selected thresholds and per-layer decisions equal the single call', () => {
  const d = 613;
  const layout = createLayout([
    { name: 'conv/kernel', shape: [5, 40], kind: 'kernel' },
    { name: 'conv/bias', shape: [13], kind: 'bias' },
    { name: 'dense/kernel', shape: [300], kind: 'kernel' },
    { name: 'bn', shape: [50], kind: 'batchnorm-gamma' },
    { name: 'head', shape: [50] },
  ]);
  for (const data of dataSets(d)) {
    for (const options of [
      { layout, sparsity: 0.3 },
      { layout, sparsity: 0.95, zScore: 'mad' as const },
      { sparsity: 0 },
      { layout, sparsity: 0.5, lambdaNorm: 1, lambdaSign: 0.5 },
    ]) {
      it(`${data.name}, ${JSON.stringify({ ...options, layout: options.layout === undefined ? undefined : 'layers' })}`, async () => {
        const single = lasaWithDecision(data.rows, options);
        for (const shards of SHARDS) {
          const run = await aggregateSharded('lasa', slicesOf(data.rows, d, shards), options);
          const decision = run.decision as typeof single.decision;
          const ctx = `S=${shards}`;
          expect(decision.dropped, ctx).toEqual(single.decision.dropped);
          expect(decision.selected, ctx).toEqual(single.decision.selected);
          expect(decision.layers, ctx).toEqual(single.decision.layers);
          expectClose([decision.clipNorm], [single.decision.clipNorm], 1e-12);
          if (shards === 1) {
            expect(decision.clipNorm).toBe(single.decision.clipNorm);
            expect(sameBits(concat(run.shards), single.aggregate), ctx).toBe(true);
          } else expectClose(concat(run.shards), single.aggregate);
          // The thresholds are exact order statistics of |x| over the sparsified segments.
          const plan = run.plan as unknown as { thresholds: number[]; clients: number[] };
          const sparse = (options.layout ?? [{ offset: 0, size: d, kind: 'other' }]).filter((s) => s.kind === 'kernel' || s.kind === 'other');
          const total = sparse.reduce((a, s) => a + s.size, 0);
          const keep = Math.floor((1 - options.sparsity) * total);
          plan.clients.forEach((i, k) => {
            if (options.sparsity === 0) return expect(plan.thresholds[k]).toBe(0);
            const values: number[] = [];
            for (const s of sparse) for (let c = s.offset; c < s.offset + s.size; c++) values.push(Math.abs(data.rows[i][c]));
            values.sort((a, b) => a - b);
            expect(plan.thresholds[k], `${ctx}, client ${i}`).toBe(values[total - keep]);
          });
        }
      });
    }
  }

  it('keep = 0 (sparsity close to 1 on few values): threshold +Infinity, as the single call', async () => {
    const rows = gaussianRows(5, 3, 4);
    const options = { sparsity: 0.5, layout: createLayout([{ name: 'k', shape: [1], kind: 'kernel' }, { name: 'b', shape: [2], kind: 'bias' }]) };
    const single = lasaWithDecision(rows, options);
    const run = await aggregateSharded('lasa', slicesOf(rows, 3, 3), options);
    expect((run.plan as unknown as { thresholds: number[] }).thresholds).toEqual([Infinity, Infinity, Infinity, Infinity, Infinity]);
    expect(sameBits(concat(run.shards), single.aggregate)).toBe(true);
  });
});

describe('auror: per-coordinate votes add up exactly across shards', () => {
  const d = 517;
  for (const data of dataSets(d)) {
    for (const options of [{ threshold: 1.5 }, { threshold: 0.5, tau: 0.8, features: { offset: 100, size: 300 } }, { threshold: 1e6 }]) {
      it(`${data.name}, ${JSON.stringify(options)}`, async () => {
        const single = aurorWithDecision(data.rows, options);
        for (const shards of SHARDS) {
          const run = await aggregateSharded('auror', slicesOf(data.rows, d, shards), options);
          const decision = run.decision as unknown as typeof single.decision & { indicativeCount: number };
          expect(decision.selected).toEqual(single.decision.selected);
          expect(decision.flagged).toEqual(single.decision.flagged);
          expect(decision.suspicions).toEqual(single.decision.suspicions);
          expect(decision.indicativeCount).toBe(single.decision.indicative.length);
          expect(sameBits(concat(run.shards), single.aggregate), `S=${shards}`).toBe(true);
        }
      });
    }
  }
});

describe('crfl and normClippingDp: norms in one trip, noise from the shards’ offsets', () => {
  const d = 401;
  const weights = Array.from({ length: N }, (_, i) => (i === 3 ? 0 : 1 + (i % 3)));
  for (const data of dataSets(d)) {
    it(`crfl, ${data.name}`, async () => {
      const global = Float32Array.from({ length: d }, (_, k) => Math.sin(k));
      for (const [single, options] of [
        [crflWithDecision(data.rows, { clipNorm: 2, sigma: 0.1, seed: 11, global, weights }), { clipNorm: 2, sigma: 0.1, seed: 11, global: true, weights }],
        [crflWithDecision(data.rows, { clipNorm: 1e6, sigma: 0 }), { clipNorm: 1e6, sigma: 0 }],
      ] as const) {
        for (const shards of SHARDS) {
          const run = await aggregateSharded('crfl', slicesOf(data.rows, d, shards, { global }), options);
          const decision = run.decision as typeof single.decision;
          expect(decision.dropped).toEqual(single.decision.dropped);
          expect(decision.weights).toEqual(single.decision.weights);
          expectClose([decision.normBefore, decision.clipFactor], [single.decision.normBefore, single.decision.clipFactor], 1e-12);
          if (shards === 1) expect(sameBits(concat(run.shards), single.aggregate)).toBe(true);
          else expectClose(concat(run.shards), single.aggregate);
        }
      }
    });
    it(`normClippingDp, ${data.name}`, async () => {
      for (const options of [{ maxNorm: 5, sigma: 0.2, seed: 2, weights }, { maxNorm: 1e30, sigma: 0 }]) {
        const single = normClippingDpWithDecision(data.rows, options);
        for (const shards of SHARDS) {
          const run = await aggregateSharded('normClippingDp', slicesOf(data.rows, d, shards), options);
          const decision = run.decision as typeof single.decision;
          expect(decision.dropped).toEqual(single.decision.dropped);
          expectClose(decision.clipFactors, single.decision.clipFactors, 1e-12);
          if (shards === 1) expect(sameBits(concat(run.shards), single.aggregate)).toBe(true);
          else expectClose(concat(run.shards), single.aggregate);
        }
      }
    });
  }

  it('a caller rng gives the shards one 32-bit seed (the noise then differs from the single call with that rng)', async () => {
    const rows = gaussianRows(5, 40, 1);
    const run = await aggregateSharded('crfl', slicesOf(rows, 40, 3), { clipNorm: 1, sigma: 1, rng: createRng(7) });
    const plan = run.plan as { noise: { seed: number; sigma: number } };
    expect(plan.noise).toEqual({ seed: createRng(7).nextUint32(), sigma: 1 });
  });

  it('crfl: a non-finite global in one shard throws INVALID_OPTION naming global', async () => {
    const rows = gaussianRows(5, 40, 1);
    const global = new Float32Array(40);
    global[39] = Infinity;
    await expect(aggregateSharded('crfl', slicesOf(rows, 40, 3, { global }), { clipNorm: 1, sigma: 0, global: true })).rejects.toThrow(/crfl: global must be a finite/);
  });
});

describe('smea: the exact search on the reduced Gram matrix', () => {
  const d = 333;
  for (const data of dataSets(d)) {
    it(data.name, async () => {
      const single = smeaWithDecision(data.rows, { f: 3 });
      for (const shards of SHARDS) {
        const run = await aggregateSharded('smea', slicesOf(data.rows, d, shards), { f: 3 });
        const decision = run.decision as typeof single.decision;
        expect(decision.selected).toEqual(single.decision.selected);
        expectClose([decision.maxEigenvalue], [single.decision.maxEigenvalue], 1e-9);
        expect(sameBits(concat(run.shards), single.aggregate), `S=${shards}`).toBe(true);
      }
    });
  }
  it('the subset caps throw before any shard works', () => {
    expect(() => createShardCoordinator('smea', { f: 5, maxSubsets: 10 }, 20, 10).next()).not.toThrow(); // round 1 first
    const c = createShardCoordinator('smea', { f: 5, maxSubsets: 10 }, 20, 10);
    c.next();
    expect(() => c.next([new Float64Array(20)])).toThrow(/C\(20, 5\).*maxSubsets=10/);
  });
});

describe('foolsGold: histories kept per shard across rounds (clients come, go, send NaN)', () => {
  const d = 257;
  // Each round: the client ids present and their updates; sybils s1, s2 push one direction.
  function round(t: number, ids: string[]): Float32Array[] {
    const rng = createRng(100 + t);
    return ids.map((id) => {
      if (id.startsWith('s')) return Float32Array.from({ length: d }, (_, k) => (k % 5 === 0 ? 1 : 0.1) + 0.001 * rng.gaussian());
      const x = Float32Array.from({ length: d }, () => rng.gaussian());
      if (id === 'h' && t === 1) x[d - 3] = NaN; // non-finite in the last shard only: dropped, history unchanged
      if (id === 'g' && t === 2) x.fill(0);
      if (id === 'big') x[7] = HUGE;
      return x;
    });
  }
  const schedule = [
    ['a', 'b', 'c', 's1', 's2', 'h'],
    ['b', 'a', 'h', 's1', 'd', 's2', 'big'],
    ['c', 's2', 'g', 'a', 's1', 'h'],
    ['d', 'b', 's1', 's2', 'big', 'a'],
  ];
  for (const shards of SHARDS) {
    it(`S = ${shards}: four rounds equal the single call (history as a structured clone per shard)`, async () => {
      let history: FoolsGoldHistory | undefined;
      let historyIds: (string | number)[] | undefined;
      let shardHistories: (FoolsGoldHistory | undefined)[] = shardRanges(d, shards).map(() => undefined);
      for (let t = 0; t < schedule.length; t++) {
        const ids = schedule[t];
        const rows = round(t, ids);
        const single = foolsGoldWithDecision(rows, { clientIds: ids, history });
        history = single.history;
        const slices = slicesOf(rows, d, shards).map((s, k) => ({ ...s, ...(shardHistories[k] === undefined ? {} : { history: shardHistories[k] }) }));
        const run = await aggregateSharded('foolsGold', slices, { clientIds: ids, ...(historyIds === undefined ? {} : { historyIds }) });
        const decision = run.decision as typeof single.decision & { historyIds: (string | number)[]; historyMembers: ShardHistoryMember[] };
        const ctx = `S=${shards}, round ${t}`;
        expect(decision.dropped, ctx).toEqual(single.decision.dropped);
        expect(decision.selected, ctx).toEqual(single.decision.selected);
        expectClose(decision.learningRates, single.decision.learningRates, 1e-6);
        expectClose(decision.maxSimilarity, single.decision.maxSimilarity, 1e-6);
        if (shards === 1) expect(sameBits(concat(run.shards), single.aggregate), ctx).toBe(true);
        else expectClose(concat(run.shards), single.aggregate);
        expect(decision.historyIds, ctx).toEqual([...single.history.sums.keys()]);
        // Next round's state: each shard's columns of the new history, through a structured clone.
        shardHistories = structuredClone(slices.map((s) => shardFoolsGoldHistory(s, decision.historyMembers)));
        historyIds = structuredClone(decision.historyIds);
        slices.forEach((s, k) => {
          for (const [id, sum] of single.history.sums) {
            const part = sum.subarray(s.offset, s.offset + s.rows[0].length);
            expect(Buffer.from((shardHistories[k] as FoolsGoldHistory).sums.get(id)!.buffer).equals(Buffer.from(part.slice().buffer)), `${ctx}, ${id}`).toBe(true);
          }
        });
      }
    });
  }

  it('refuses a history option and a shard missing a previous client', async () => {
    const rows = gaussianRows(4, 10, 2);
    await expect(aggregateSharded('foolsGold', slicesOf(rows, 10, 2), { history: { sums: new Map() } })).rejects.toThrow(/historyIds/);
    await expect(aggregateSharded('foolsGold', slicesOf(rows, 10, 2), { historyIds: ['gone'] })).rejects.toThrow(/no history for client gone/);
    await expect(aggregateSharded('foolsGold', slicesOf(rows, 10, 2), { historyIds: [1, 1] })).rejects.toThrow(/appears twice/);
  });

  it('a corrupted (non-finite) history column in one shard throws INVALID_OPTION naming the client', async () => {
    const rows = gaussianRows(3, 10, 2);
    const slices = slicesOf(rows, 10, 2);
    const bad = new Float64Array(5);
    bad[4] = NaN;
    const withHistory = slices.map((s, k) => ({ ...s, history: { sums: new Map([[0, k === 1 ? bad : new Float64Array(5)]]) } }));
    await expect(aggregateSharded('foolsGold', withHistory, { historyIds: [0] })).rejects.toThrow(/history of client 0 holds NaN or ±Infinity in some shard/);
  });
});

describe('reduction of the new asks', () => {
  it('historyLargest reduces by maximum, NaN wins; norms as ℓ2', () => {
    const asks = [
      { kind: 'historyLargest', members: [] },
      { kind: 'norms', clients: [0] },
    ] as const;
    const [largest, norms] = reduceShardStatistics(asks, [
      [Float64Array.of(1, NaN, 3), Float64Array.of(3)],
      [Float64Array.of(2, 5, 1), Float64Array.of(4)],
    ]);
    expect(Array.from(largest)).toEqual([2, NaN, 3]);
    expect(norms[0]).toBeCloseTo(5, 14);
  });

  it('every answer is plain typed arrays that survive a structured clone', () => {
    const slice = { offset: 0, d: 4, rows: [Float32Array.of(1, -2, 0, 3), Float32Array.of(0.5, 0, 0, -1)] };
    const parts = shardStatistics(slice, [
      { kind: 'magnitudeHistogram', clients: [0, 1], segments: [{ offset: 0, size: 4, sparsified: true }], level: 0, prefixes: [0, 0] },
      { kind: 'aurorVotes', clients: [0, 1], start: 0, length: 4, threshold: 0.1 },
    ]);
    expect(structuredClone(parts)).toEqual(parts);
    expect(parts[0].length).toBe(512);
    expect(parts[0].reduce((a, b) => a + b, 0)).toBe(8);
  });
});

describe('rules without a sharded form say why', () => {
  it('deepSight needs whole models; pre-aggregators and crflCertifiedRadius are named', () => {
    expect(() => createShardCoordinator('deepSight' as never, {}, 3, 10)).toThrow(/no sharded form of "deepSight": it runs each client's model/);
    expect(() => createShardCoordinator('nnm' as never, {}, 3, 10)).toThrow(/pre-aggregator/);
    expect(() => createShardCoordinator('crflCertifiedRadius' as never, {}, 3, 10)).toThrow(/a few scalars/);
    expect(() => createShardCoordinator('nope' as never, {}, 3, 10)).toThrow(/no sharded form of "nope"; sharded rules: mean, /);
  });
});
