// Sharded = single call: for every sharded rule, S ∈ {1, 2, 7} shards (ragged last shards), on
// ordinary and hostile data (huge rows at index 0, a 1e30 blinder, a client that is non-finite in
// one shard only). Coordinate-wise rules and selections: bit for bit. Gram rules: the same
// decision, and the aggregate within float64 summation-order rounding of the weights.
import { describe, expect, it } from 'vitest';
import {
  aurorWithDecision,
  crflWithDecision,
  flDetectorWithDecision,
  foolsGoldWithDecision,
  lasaWithDecision,
  normClippingDpWithDecision,
  smeaWithDecision,
  bulyanVariantWithDecision,
  bulyanWithDecision,
  cafWithDecision,
  centeredClippingWithDecision,
  clippedClusteringWithDecision,
  coordinateMedianWithDecision,
  dncWithDecision,
  flameWithDecision,
  fltrustWithDecision,
  geometricMedianWithDecision,
  krumLpWithDecision,
  krumWithDecision,
  mdaWithDecision,
  meamedWithDecision,
  meanWithDecision,
  mixTailorWithDecision,
  monnaWithDecision,
  multiKrumWithDecision,
  signGuardWithDecision,
  signMajorityWithDecision,
  trimmedMeanWithDecision,
} from '../../src/index.js';
import type { Aggregation, Decision } from '../../src/core/decision.js';
import { aggregateSharded, shardRanges, SHARD_RULES, type ShardRuleName, type ShardSlice } from '../../src/shard/index.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, HUGE, hugeRow } from '../helpers/hostile.js';

interface Case {
  single(rows: Float32Array[], v: Record<string, Float32Array>): Aggregation<Decision>;
  options: Record<string, unknown>;
  vectors?: string[];
  /** 'bits': the aggregate equals bit for bit; 'close': within rounding of the weights. */
  equal: 'bits' | 'close';
}

const CASES: Record<ShardRuleName, Case> = {
  mean: { single: (r) => meanWithDecision(r, { weights: r.map((_, i) => 1 + (i % 3)) }), options: { weights: Array.from({ length: 13 }, (_, i) => 1 + (i % 3)) }, equal: 'bits' },
  coordinateMedian: { single: (r) => coordinateMedianWithDecision(r), options: {}, equal: 'bits' },
  trimmedMean: { single: (r) => trimmedMeanWithDecision(r, { f: 3 }), options: { f: 3 }, equal: 'bits' },
  meamed: { single: (r) => meamedWithDecision(r, { f: 3 }), options: { f: 3 }, equal: 'bits' },
  signMajority: { single: (r) => signMajorityWithDecision(r), options: {}, equal: 'bits' },
  krum: { single: (r) => krumWithDecision(r, { f: 3 }), options: { f: 3 }, equal: 'bits' },
  multiKrum: { single: (r) => multiKrumWithDecision(r, { f: 3, m: 4 }), options: { f: 3, m: 4 }, equal: 'bits' },
  krumLp: { single: (r) => krumLpWithDecision(r, { f: 3, p: 3 }), options: { f: 3, p: 3 }, equal: 'bits' },
  bulyan: { single: (r) => bulyanWithDecision(r, { f: 2 }), options: { f: 2 }, equal: 'bits' },
  geometricMedian: { single: (r) => geometricMedianWithDecision(r), options: {}, equal: 'close' },
  centeredClipping: {
    single: (r, v) => centeredClippingWithDecision(r, { tau: 2, iterations: 3, center: v.center }),
    options: { tau: 2, iterations: 3, center: true },
    vectors: ['center'],
    equal: 'close',
  },
  flame: {
    single: (r, v) => flameWithDecision(r, { seed: 5, global: v.global }),
    options: { seed: 5, global: true },
    vectors: ['global'],
    equal: 'close',
  },
  fltrust: {
    single: (r, v) => fltrustWithDecision(r, { serverUpdate: v.serverUpdate }),
    options: { serverUpdate: true },
    vectors: ['serverUpdate'],
    equal: 'close',
  },
  monna: {
    single: (r, v) => monnaWithDecision(r, { f: 3, trusted: v.trusted }),
    options: { f: 3, trusted: true },
    vectors: ['trusted'],
    equal: 'bits',
  },
  dnc: {
    single: (r) => dncWithDecision(r, { f: 3, seed: 9, subsampleDimension: 200 }),
    options: { f: 3, seed: 9, subsampleDimension: 200 },
    equal: 'bits',
  },
  mda: { single: (r) => mdaWithDecision(r, { f: 3 }), options: { f: 3 }, equal: 'bits' },
  caf: { single: (r) => cafWithDecision(r, { f: 3 }), options: { f: 3 }, equal: 'close' },
  clippedClustering: {
    single: (r) => clippedClusteringWithDecision(r, { normHistory: [1, 2, 3] }),
    options: { normHistory: [1, 2, 3] },
    equal: 'close',
  },
  bulyanVariant: {
    single: (r) => bulyanVariantWithDecision(r, { f: 2, selection: 'coordinateMedian', aggregation: 'mean' }),
    options: { f: 2, selection: 'coordinateMedian', aggregation: 'mean' },
    equal: 'bits',
  },
  mixTailor: { single: (r) => mixTailorWithDecision(r, { f: 2, seed: 12 }), options: { f: 2, seed: 12 }, equal: 'close' },
  signGuard: { single: (r) => signGuardWithDecision(r, { seed: 3, coordinateFraction: 0.5 }), options: { seed: 3, coordinateFraction: 0.5 }, equal: 'close' },
  smea: { single: (r) => smeaWithDecision(r, { f: 2 }), options: { f: 2 }, equal: 'bits' },
  auror: { single: (r) => aurorWithDecision(r, { threshold: 1.5 }), options: { threshold: 1.5 }, equal: 'bits' },
  normClippingDp: {
    single: (r) => normClippingDpWithDecision(r, { maxNorm: 20, sigma: 0.01, seed: 4, weights: r.map((_, i) => 1 + (i % 4)) }),
    options: { maxNorm: 20, sigma: 0.01, seed: 4, weights: Array.from({ length: 13 }, (_, i) => 1 + (i % 4)) },
    equal: 'close',
  },
  crfl: {
    single: (r, v) => crflWithDecision(r, { clipNorm: 30, sigma: 0.01, seed: 6, global: v.global }),
    options: { clipNorm: 30, sigma: 0.01, seed: 6, global: true },
    vectors: ['global'],
    equal: 'close',
  },
  lasa: { single: (r) => lasaWithDecision(r), options: {}, equal: 'close' },
  foolsGold: { single: (r) => foolsGoldWithDecision(r), options: {}, equal: 'close' },
  flDetector: {
    single: (r, v) => flDetectorWithDecision(r, { globalModel: v.globalModel, seed: 2 }),
    options: { globalModel: true, seed: 2 },
    vectors: ['globalModel'],
    equal: 'bits',
  },
};

const N = 13;

function dataSets(d: number): { name: string; rows: Float32Array[]; vectors: Record<string, Float32Array> }[] {
  const honest = gaussianRows(N, d, 17, 0.5, 1);
  const mean = new Float32Array(d);
  for (const r of honest.slice(3)) for (let k = 0; k < d; k++) mean[k] += r[k] / (N - 3);
  const vectors = { center: Float32Array.from(mean, (v) => v * 0.9), global: Float32Array.from(mean, (v) => 2 - v), serverUpdate: mean, trusted: mean, globalModel: Float32Array.from(mean, (v) => v / 2) };
  const shifted = honest.map((r, i) => (i === 4 || i === 9 ? Float32Array.from(r, (v) => v + 6) : r));
  const hostile = honest.map((r) => r);
  hostile[0] = hugeRow(d);
  hostile[5] = blinderRow(d);
  // Non-finite in the last columns only: one shard sees it, every shard must drop it.
  hostile[7] = Float32Array.from(honest[7]);
  hostile[7][d - 2] = NaN;
  const negative = hostile.map((r) => r);
  negative[0] = hugeRow(d, -1);
  negative[11] = Float32Array.from(honest[11], (v, k) => (k % 37 === 0 ? HUGE : v));
  return [
    { name: 'gaussian + 2 shifted', rows: shifted, vectors },
    { name: 'hostile: huge row 0, blinder, NaN in the last shard', rows: hostile, vectors },
    { name: 'hostile: -huge row 0, sparse huge, NaN', rows: negative, vectors },
  ];
}

function slicesOf(rows: Float32Array[], vectors: Record<string, Float32Array>, names: string[], d: number, shards: number): ShardSlice[] {
  return shardRanges(d, shards).map(({ offset, width }) => ({
    offset,
    d,
    rows: rows.map((r) => r.slice(offset, offset + width)),
    vectors: Object.fromEntries(names.map((name) => [name, vectors[name].slice(offset, offset + width)])),
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

function expectClose(a: Float32Array, b: Float32Array): void {
  let scale = 1;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  expect(worst / scale).toBeLessThan(1e-5);
}

describe('bulyanVariant: every selection × aggregation, S = 3, equals the single call', () => {
  const d = 501;
  const [data] = dataSets(d).slice(1);
  for (const selection of ['krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const) {
    for (const aggregation of ['meamed', 'krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const) {
      it(`${selection} + ${aggregation}`, async () => {
        const options = { f: 2, selection, aggregation };
        const single = bulyanVariantWithDecision(data.rows, options);
        const run = await aggregateSharded('bulyanVariant', slicesOf(data.rows, data.vectors, [], d, 3), options);
        expect((run.decision as typeof single.decision).selectionOrder).toEqual(single.decision.selectionOrder);
        const out = concat(run.shards);
        if (aggregation === 'geometricMedian') expectClose(out, single.aggregate);
        else expect(Buffer.from(out.buffer).equals(Buffer.from(single.aggregate.buffer))).toBe(true);
      });
    }
  }
});

describe('mixTailor: every member of the default pool, S = 2, equals the single call', () => {
  const d = 301;
  const [data] = dataSets(d).slice(2);
  for (let seed = 0; seed < 40; seed++) {
    it(`seed ${seed}`, async () => {
      const options = { f: 2, seed };
      const single = mixTailorWithDecision(data.rows, options);
      const run = await aggregateSharded('mixTailor', slicesOf(data.rows, data.vectors, [], d, 2), options);
      const decision = run.decision as typeof single.decision;
      expect(decision.member).toBe(single.decision.member);
      expect(decision.drawn).toBe(single.decision.drawn);
      expectClose(concat(run.shards), single.aggregate);
    });
  }
});

it('covers every sharded rule', () => {
  expect(Object.keys(CASES).sort()).toEqual([...SHARD_RULES].sort());
});

for (const d of [299, 6007]) {
  describe(`d = ${d}`, () => {
    for (const data of dataSets(d)) {
      describe(data.name, () => {
        for (const rule of SHARD_RULES) {
          const c = CASES[rule];
          it(`${rule}: S = 1, 2, 7 equal the single call`, async () => {
            const single = c.single(data.rows, data.vectors);
            for (const shards of [1, 2, 7]) {
              const run = await aggregateSharded(rule, slicesOf(data.rows, data.vectors, c.vectors ?? [], d, shards), c.options);
              const out = concat(run.shards);
              const ctx = `${rule}, S=${shards}`;
              expect(run.decision.dropped, ctx).toEqual(single.decision.dropped);
              if (single.decision.selected !== undefined) expect(run.decision.selected, ctx).toEqual(single.decision.selected);
              if (c.equal === 'bits' || shards === 1) {
                expect(Buffer.from(out.buffer).equals(Buffer.from(single.aggregate.buffer)), ctx).toBe(true);
              } else {
                expectClose(out, single.aggregate);
              }
            }
          });
        }
      });
    }
  });
}
