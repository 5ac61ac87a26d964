// A round's precompute (src/server/pair-table.ts): each arrival's dot products and squared
// distances with the updates already received, computed while the next one is in flight. The
// statistics must be float64-accurate whatever a client sends (any finite float32, sparse, at any
// position, first or last), must not depend on how arrivals were batched or ordered, and the rules
// that read their Gram matrix from them must decide as the one-shot call does.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as aggregators from '../../src/aggregators/index.js';
import { RobustAggError } from '../../src/core/errors.js';
import { squaredDistancesFromGram } from '../../src/kernels/gram.js';
import { closeAggregationWorkers } from '../../src/server/async.js';
import { MeanSum } from '../../src/server/mean-sum.js';
import { PairTable } from '../../src/server/pair-table.js';
import { createRound, PRECOMPUTED_RULES } from '../../src/server/round.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, hugeRow } from '../helpers/hostile.js';

afterAll(() => closeAggregationWorkers());

/** ⟨a, b⟩ and ‖a − b‖² in float64, term by term (the oracle). */
function exactPair(a: Float32Array, b: Float32Array): { dot: number; dist: number; scale: number } {
  let dot = 0;
  let dist = 0;
  let scale = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    dist += (a[k] - b[k]) ** 2;
    scale += Math.abs(a[k] * b[k]);
  }
  return { dot, dist, scale };
}

/** Rows of every kind a client can send: ordinary, huge, blinders, subnormal, zero, sparse, copies. */
function hostileRows(d: number, seed: number): Float32Array[] {
  const rows = gaussianRows(6, d, seed, 1, 0.1);
  rows.push(hugeRow(d), hugeRow(d, -1), blinderRow(d), blinderRow(d, 3.4e38));
  rows.push(Float32Array.from({ length: d }, (_, k) => (k % 7 === 0 ? 1e-45 : 0))); // subnormal
  rows.push(Float32Array.from({ length: d }, (_, k) => (1 + (k % 5)) * 1e-41)); // all subnormal
  rows.push(new Float32Array(d)); // zero
  rows.push(Float32Array.from(rows[0], (v, k) => (k === 3 ? v + 1e-3 : v))); // near copy of row 0
  rows.push(Float32Array.from(rows[1], (v) => v * 2 ** 50)); // ordinary shape, out of the float32 range
  return rows;
}

/** The table of `rows`, fed in `order` and flushed after each group of `sizes` arrivals. */
function tableOf(rows: readonly Float32Array[], order: readonly number[], sizes: readonly number[]): PairTable {
  const table = new PairTable(rows[0].length);
  let next = 0;
  let g = 0;
  while (next < order.length) {
    const size = sizes[g++ % sizes.length];
    for (let q = 0; q < size && next < order.length; q++, next++) table.add(order[next], rows[order[next]], true);
    table.flush();
  }
  table.bind(rows, rows.map((_, i) => i));
  return table;
}

describe('PairTable statistics', () => {
  it('are float64-accurate for every pair of hostile and ordinary rows', () => {
    const d = 5000; // ragged against the 4096-column blocks and the 256-column float32 stretches
    const rows = hostileRows(d, 3);
    const n = rows.length;
    const table = tableOf(rows, rows.map((_, i) => i), [1, 4, 2, 5]);
    expect(table.active).toBe(true);
    const uncentred = table.lookup(rows, null)!;
    const centred = table.lookup(rows, 'robust')!;
    const dist = squaredDistancesFromGram(centred, n);
    const r = Array.from({ length: n }, (_, i) => i).find((i) => centred[i * n + i] === 0)!;
    const fromRef = rows.map((row) => Math.sqrt(exactPair(row, rows[r]).dist));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const { dot, dist: exact, scale } = exactPair(rows[i], rows[j]);
        expect(Number.isFinite(uncentred[i * n + j])).toBe(true);
        // float32 products of ordinary rows: a 256-column stretch of float32 sums per lane.
        expect(Math.abs(uncentred[i * n + j] - dot)).toBeLessThanOrEqual(1e-5 * scale + 1e-300);
        // squared distances within the Gram kernel's documented bound 2⁻¹⁷(‖yᵢ‖ + ‖yⱼ‖)², y = x − x_r
        expect(Math.abs(dist[i * n + j] - exact)).toBeLessThanOrEqual(2 ** -17 * (fromRef[i] + fromRef[j]) ** 2);
      }
    }
  });

  it('do not depend on batching or arrival order (a pair depends only on its two rows)', () => {
    const d = 4100;
    const rows = hostileRows(d, 5);
    const n = rows.length;
    const base = tableOf(rows, rows.map((_, i) => i), [1]).lookup(rows, null)!;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(rows.map((_, i) => i), { minLength: n, maxLength: n }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        (order, sizes) => {
          const g = tableOf(rows, order, sizes).lookup(rows, null)!;
          expect(Array.from(g)).toEqual(Array.from(base));
        },
      ),
      { numRuns: 12 },
    );
  });

  it('gives nothing for rows it does not hold, non-finite arrivals or a vector centre', () => {
    const rows = gaussianRows(4, 64, 1);
    const table = new PairTable(64);
    table.add(0, rows[0], true);
    table.add(1, rows[1], false);
    table.add(2, rows[2], true);
    expect(table.queued).toBe(2); // what the worker watches to pair four at a time
    table.flush();
    expect(table.queued).toBe(0);
    table.bind(rows.slice(0, 3), [0, 1, 2]);
    expect(table.lookup([rows[0], rows[2]], null)).not.toBeNull();
    expect(table.lookup([rows[0], rows[1]], null)).toBeNull(); // the non-finite arrival
    expect(table.lookup([rows[0], rows[3]], 'robust')).toBeNull(); // never added
    expect(table.lookup([rows[0], rows[2]], new Float32Array(64))).toBeNull();
  });

  it('centres on a client the majority is close to, not on a far minority', () => {
    const d = 256;
    const honest = gaussianRows(7, d, 9, 0, 1);
    const rows = [hugeRow(d), hugeRow(d, -1), ...honest, blinderRow(d)];
    const table = tableOf(rows, rows.map((_, i) => i), [3]);
    const g = table.lookup(rows, 'robust')!;
    const n = rows.length;
    // The reference r has Gᵣᵣ = 0 and is one of the honest rows.
    const zeros = Array.from({ length: n }, (_, i) => i).filter((i) => g[i * n + i] === 0);
    expect(zeros.length).toBeGreaterThan(0);
    for (const r of zeros) expect(r >= 2 && r < 2 + honest.length).toBe(true);
  });
});

describe('rounds with precompute', () => {
  const d = 8192; // n·d ≥ 2¹⁶: the rules ask the WebAssembly Gram kernel, which the table answers
  const n = 12;

  async function viaRound(rule: string, options: Record<string, unknown>, rows: readonly Float32Array[], precompute?: boolean) {
    const round = createRound({ rule, options, d, expected: rows.length, ...(precompute === undefined ? {} : { precompute }) });
    // One at a time, as over a network: the worker pairs them up while the next one comes.
    for (let i = 0; i < rows.length; i++) {
      await round.add(`c${i}`, rows[i]);
      await new Promise((r) => setTimeout(r, 25));
    }
    const result = await round.close();
    expect(result.precomputed).toBe(precompute === false ? undefined : true);
    return result;
  }

  function clientsWithAttackers(seed: number, first: Float32Array): Float32Array[] {
    const rows = gaussianRows(n - 3, d, seed, 0.5, 1);
    return [first, ...rows.slice(0, 4), blinderRow(d), ...rows.slice(4), Float32Array.from(rows[0], (v) => -4 * v)];
  }

  it.each([
    ['krum', { f: 3 }],
    ['multiKrum', { f: 3 }],
    ['bulyan', { f: 2 }],
  ])('%s selects the same clients and gives the same aggregate bits as the one-shot call', async (rule, options) => {
    for (const [seed, first] of [[1, hugeRow(d)], [2, hugeRow(d, -1)], [3, blinderRow(d, 3.4e38)]] as const) {
      const rows = clientsWithAttackers(seed, first);
      const oneShot = (aggregators as unknown as Record<string, (u: Float32Array[], o: unknown) => { aggregate: Float32Array; decision: { selected?: number[] } }>)[`${rule}WithDecision`](rows, options);
      const result = await viaRound(rule, options, rows);
      expect(result.decision.raw.selected).toEqual(oneShot.decision.selected);
      if (rule !== 'bulyan') expect(Array.from(result.aggregate)).toEqual(Array.from(oneShot.aggregate));
      else for (let k = 0; k < d; k++) expect(Math.abs(result.aggregate[k] - oneShot.aggregate[k])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(oneShot.aggregate[k])));
    }
  });

  it('geometricMedian and flame agree with the one-shot call (same decision, aggregate within the Gram bound)', async () => {
    const rows = clientsWithAttackers(4, hugeRow(d));
    // Both run Weiszfeld to convergence, so they differ by the Gram matrices' rounding only.
    const options = { maxIterations: 5000, tolerance: 1e-9 };
    const gm = aggregators.geometricMedianWithDecision(rows, options);
    const gmRound = await viaRound('geometricMedian', options, rows);
    expect(gm.decision.converged && (gmRound.decision.raw as unknown as { converged: boolean }).converged).toBe(true);
    for (let k = 0; k < d; k++) expect(Math.abs(gmRound.aggregate[k] - gm.aggregate[k])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(gm.aggregate[k])));
    expect(gmRound.decision.raw.weights![0]).toBeLessThan(1e-30); // the client sending 3.4e38
    const flame = aggregators.flameWithDecision(rows, { seed: 3 });
    const flameRound = await viaRound('flame', { seed: 3 }, rows);
    expect(flameRound.decision.raw.selected).toEqual(flame.decision.selected);
  });

  it('with precompute: false gives the one-shot bits for every Gram rule', async () => {
    const rows = clientsWithAttackers(5, hugeRow(d));
    const oneShot = aggregators.geometricMedianWithDecision(rows, {});
    const result = await viaRound('geometricMedian', {}, rows, false);
    expect(Array.from(result.aggregate)).toEqual(Array.from(oneShot.aggregate));
  });

  it('drops a NaN client and still pairs up the others', async () => {
    const rows = clientsWithAttackers(6, hugeRow(d));
    rows[3] = Float32Array.from(rows[3], (v, k) => (k === 9 ? NaN : v));
    const oneShot = aggregators.multiKrumWithDecision(rows, { f: 3 });
    const result = await viaRound('multiKrum', { f: 3 }, rows);
    expect(result.decision.dropped).toEqual(['c3']);
    expect(result.decision.raw.selected).toEqual(oneShot.decision.selected);
    expect(Array.from(result.aggregate)).toEqual(Array.from(oneShot.aggregate));
  });

  it('names the rules it applies to and rejects a non-boolean precompute', () => {
    expect(PRECOMPUTED_RULES).toContain('krum');
    expect(PRECOMPUTED_RULES).toContain('flame');
    expect(PRECOMPUTED_RULES).toContain('mean');
    expect(PRECOMPUTED_RULES).not.toContain('coordinateMedian');
    try {
      createRound({ rule: 'krum', options: { f: 1 }, d: 4, precompute: 'yes' as unknown as boolean });
      expect.fail('did not throw');
    } catch (e) {
      expect(e).toBeInstanceOf(RobustAggError);
      expect((e as RobustAggError).code).toBe('INVALID_OPTION');
      expect((e as Error).message).toMatch(/precompute/);
    }
  });
});

describe('mean rounds sum as updates arrive', () => {
  const d = 3000;

  it('MeanSum gives the one-shot bits whatever order the copies finish in, and nothing otherwise', () => {
    const rows = gaussianRows(9, d, 12, 3, 100);
    rows[4] = hugeRow(d); // finite: summed like any other (the mean has no defence)
    rows[5] = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? 1e-45 : -3.4e38));
    const oneShot = aggregators.mean(rows);
    fc.assert(
      fc.property(fc.shuffledSubarray(rows.map((_, i) => i), { minLength: 9, maxLength: 9 }), (order) => {
        const sum = new MeanSum(d, 9);
        for (const i of order) sum.add(i, rows[i], true);
        expect(Array.from(sum.result(Int32Array.from(rows.keys()))!)).toEqual(Array.from(oneShot));
      }),
      { numRuns: 10 },
    );
    const short = new MeanSum(d, 10); // expected 10, 9 came
    rows.forEach((r, i) => short.add(i, r, true));
    expect(short.result(Int32Array.from(rows.keys()))).toBeNull();
    const withNaN = new MeanSum(d, 9);
    rows.forEach((r, i) => withNaN.add(i, r, i !== 2));
    expect(withNaN.result(Int32Array.from(rows.keys()))).toBeNull();
  });

  it.each([
    ['as expected', 8, 8],
    ['fewer than expected', 10, 8],
    ['more than expected', 5, 8],
  ])('a round (%s) gives the one-shot bits', async (_, expected, count) => {
    const rows = gaussianRows(count, d, 13, -2, 5);
    rows[1] = hugeRow(d, -1);
    const round = createRound({ rule: 'mean', d, expected });
    await Promise.all(rows.map((r, i) => round.add(i, r)));
    const result = await round.close();
    expect(result.precomputed).toBe(expected === count ? true : undefined); // summed on arrival only when the count was known
    const oneShot = aggregators.meanWithDecision(rows);
    expect(Array.from(result.aggregate)).toEqual(Array.from(oneShot.aggregate));
    expect(Array.from(result.decision.raw.weights!)).toEqual(Array.from(oneShot.decision.weights));
    expect(result.decision.raw).toEqual(oneShot.decision);
  });

  it('a round with a NaN client or client weights gives the one-shot bits too', async () => {
    const rows = gaussianRows(6, d, 14);
    rows[3] = Float32Array.from(rows[3], (v, k) => (k === 7 ? NaN : v));
    const round = createRound({ rule: 'mean', d, expected: 6 });
    await Promise.all(rows.map((r, i) => round.add(i, r)));
    expect(Array.from((await round.close()).aggregate)).toEqual(Array.from(aggregators.mean(rows)));
    const weighted = createRound({ rule: 'mean', d, expected: 6 });
    const finite = rows.filter((_, i) => i !== 3);
    await Promise.all(finite.map((r, i) => weighted.add(i, r, { weight: i + 1 })));
    const w = finite.map((_, i) => i + 1);
    expect(Array.from((await weighted.close()).aggregate)).toEqual(Array.from(aggregators.mean(finite, { weights: w })));
  });
});
