// The coordinator and the protocol's edges: hand-computed cases, the same errors as the single
// call (codes and the rule named), misuse of next(), slices that lie, and messages that survive JSON.
import { describe, expect, it } from 'vitest';
import { krum } from '../../src/index.js';
import {
  aggregateSharded,
  createShardCoordinator,
  parseShardMessage,
  reduceShardStatistics,
  shardCombine,
  shardRanges,
  shardStatistics,
  stringifyShardMessage,
  type ShardSlice,
} from '../../src/shard/index.js';
import { expectError } from '../helpers/hostile.js';

function slicesOf(rows: number[][], shards: number): ShardSlice[] {
  const d = rows[0].length;
  return shardRanges(d, shards).map(({ offset, width }) => ({
    offset,
    d,
    rows: rows.map((r) => Float32Array.from(r.slice(offset, offset + width))),
  }));
}

describe('hand-computed cases', () => {
  it('krum on five points of the line (f = 1): scores from the reduced Gram, the middle point wins', async () => {
    // Points 0, 1, 2, 10, 11 split over two shards as (x, 0) and (0): squared distances are the
    // squares of the differences; with n − f − 2 = 2 neighbours the scores are 0:1+4=5, 1:1+1=2,
    // 2:1+4=5, 10:1+64=65, 11:1+81=82, so client 1 wins.
    const run = await aggregateSharded('krum', slicesOf([[0, 0], [1, 0], [2, 0], [10, 0], [11, 0]], 2), { f: 1 });
    expect(run.decision.selected).toEqual([1]);
    expect(Array.from((run.decision as unknown as { scores: Float64Array }).scores)).toEqual([5, 2, 5, 65, 82]);
    expect(run.shards.map((s) => Array.from(s))).toEqual([[1], [0]]);
    expect(Array.from(krum([[0, 0], [1, 0], [2, 0], [10, 0], [11, 0]].map((r) => Float32Array.from(r)), { f: 1 }))).toEqual([1, 0]);
  });

  it('the partial Gram matrices add up: two shards of (1, 2 | 3) and (4, 5 | 6)', () => {
    const asks = [{ kind: 'gram' as const, clients: [0, 1], centre: 'none' as const }];
    const a = shardStatistics({ offset: 0, d: 3, rows: [Float32Array.of(1, 2), Float32Array.of(4, 5)] }, asks);
    const b = shardStatistics({ offset: 2, d: 3, rows: [Float32Array.of(3), Float32Array.of(6)] }, asks);
    // ⟨(1,2,3),(1,2,3)⟩ = 14, ⟨(1,2,3),(4,5,6)⟩ = 32, ⟨(4,5,6),(4,5,6)⟩ = 77.
    expect(Array.from(reduceShardStatistics(asks, [a, b])[0])).toEqual([14, 32, 32, 77]);
  });

  it('ℓp distances reduce as a p-norm of the shards’ norms (p = 3, p = 1, p = ∞)', () => {
    const rows = [Float32Array.of(0, 0, 0), Float32Array.of(1, 2, 2)];
    const split = [
      { offset: 0, d: 3, rows: rows.map((r) => r.slice(0, 1)) },
      { offset: 1, d: 3, rows: rows.map((r) => r.slice(1)) },
    ];
    for (const [p, expected] of [[3, Math.cbrt(17)], [1, 5], [Infinity, 2]] as const) {
      const asks = [{ kind: 'lpDistances' as const, clients: [0, 1], p }];
      const [dist] = reduceShardStatistics(asks, split.map((s) => shardStatistics(s, asks)));
      expect(dist[1]).toBeCloseTo(expected, 12);
    }
  });
});

describe('errors', () => {
  it('the single call’s option and client-count errors, naming the rule', async () => {
    const slices = slicesOf([[1], [2], [3], [4]], 1);
    await expect(aggregateSharded('krum', slices, { f: 1 })).rejects.toMatchObject({ code: 'TOO_FEW_CLIENTS', message: expect.stringMatching(/krum needs n ≥ 2f\+3/) });
    await expect(aggregateSharded('krum', slices, { f: 0, bogus: 1 } as object)).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(aggregateSharded('trimmedMean', slices, { f: 2 })).rejects.toMatchObject({ code: 'TOO_FEW_CLIENTS' });
    await expect(aggregateSharded('fltrust', slices, { serverUpdate: new Float32Array(1) } as object)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/serverUpdate must be true/),
    });
    await expect(aggregateSharded('mixTailor', slices, { f: 0, pool: [krum] } as object)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('non-finite clients: dropped in every shard, named with nonFinite: throw, NO_FINITE_UPDATES when none is left', async () => {
    const rows = [Float32Array.of(1, 1), Float32Array.of(2, NaN), Float32Array.of(3, 3)];
    const slices: ShardSlice[] = [0, 1].map((offset) => ({ offset, d: 2, rows: rows.map((r) => r.slice(offset, offset + 1)) }));
    const med = await aggregateSharded('coordinateMedian', slices);
    expect(med.decision.dropped).toEqual([1]);
    expect(med.shards.map((s) => Array.from(s))).toEqual([[2], [2]]); // client 1 dropped in shard 0 too
    await expect(aggregateSharded('coordinateMedian', slices, { nonFinite: 'throw' })).rejects.toMatchObject({
      code: 'NON_FINITE_UPDATE',
      message: expect.stringMatching(/client 1/),
    });
    const allBad: ShardSlice[] = [{ offset: 0, d: 1, rows: [Float32Array.of(NaN), Float32Array.of(Infinity)] }];
    await expect(aggregateSharded('krum', allBad, { f: 0 })).rejects.toMatchObject({ code: 'NO_FINITE_UPDATES' });
  });

  it('coordinator misuse: unknown rules, bad sizes, next() without the reduced statistics or after the end', () => {
    expectError(() => createShardCoordinator('nope' as never, {}, 3, 3), 'UNSUPPORTED', /no sharded form of "nope"/);
    expectError(() => createShardCoordinator('toString' as never, {}, 3, 3), 'UNSUPPORTED', /no sharded form/);
    expectError(() => createShardCoordinator('mean', {}, 0, 3), 'INVALID_OPTION', /n must be/);
    expectError(() => createShardCoordinator('mean', {}, 3, 1.5), 'INVALID_OPTION', /d must be an integer/);
    const c = createShardCoordinator('mean', {}, 2, 2);
    c.next();
    expectError(() => c.next(), 'INVALID_OPTION', /needs the 1 reduced statistics/);
    const end = c.next([Float64Array.of(0, 0)]);
    expect(end.done).toBe(true);
    expectError(() => c.next([]), 'INVALID_OPTION', /already finished/);
  });

  it('slices that lie: ragged rows, columns outside d, a missing side vector, shards of different n', async () => {
    const ask = [{ kind: 'nonFinite' as const }];
    expectError(() => shardStatistics({ offset: 0, d: 2, rows: [Float32Array.of(1, 2), Float32Array.of(1)] }, ask), 'LENGTH_MISMATCH', /client 1/);
    expectError(() => shardStatistics({ offset: 1, d: 2, rows: [Float32Array.of(1, 2)] }, ask), 'INVALID_OPTION', /do not lie inside/);
    expectError(
      () => shardStatistics({ offset: 0, d: 1, rows: [Float32Array.of(1)] }, [{ kind: 'dots', clients: [0], vector: 'serverUpdate' }]),
      'INVALID_OPTION',
      /vector 'serverUpdate'/,
    );
    expectError(() => shardCombine({ offset: 0, d: 1, rows: [Float32Array.of(1)] }, { kind: 'copy', client: 3 }), 'INVALID_OPTION', /client 3/);
    await expect(
      aggregateSharded('mean', [
        { offset: 0, d: 2, rows: [Float32Array.of(1)] },
        { offset: 1, d: 2, rows: [Float32Array.of(1), Float32Array.of(2)] },
      ]),
    ).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
  });
});

describe('messages', () => {
  it('asks, answers, plans and decisions survive JSON bit for bit (typed arrays, ±Infinity, NaN, -0)', async () => {
    const slices = slicesOf([[1, 2, 3], [1.5, 2.5, 3.5], [0.1, 0.2, 0.3], [9, 9, 9], [1, 1, 1]], 2);
    const run = await aggregateSharded('multiKrum', slices, { f: 1 });
    const message = { decision: run.decision, plan: run.plan, parts: [Float64Array.of(0.1, -0, Infinity, -Infinity, NaN)], f32: Float32Array.of(1e-45), i: Int32Array.of(-7) };
    const back = parseShardMessage(stringifyShardMessage(message)) as typeof message;
    expect(back).toEqual(message);
    expect(Object.is(back.parts[0][1], -0)).toBe(true);
  });
});
