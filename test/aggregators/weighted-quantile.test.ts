// The weighted per-coordinate kernels (src/aggregators/weighted-quantile.ts) against their
// definitions, computed here the slow way: sort each column, walk the cumulative weights.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { weightedColumnMedian, weightedColumnTrimmedMean } from '../../src/aggregators/weighted-quantile.js';
import { columnMedian, columnTrimmedMean, reduceColumnsPlain } from '../../src/kernels/column-select.js';
import { HUGE } from '../helpers/hostile.js';

/** Column k of the rows with their weights, sorted by value (ties by row). */
function sortedColumn(rows: readonly Float32Array[], s: ArrayLike<number>, k: number): { x: number; w: number }[] {
  return rows.map((r, i) => ({ x: r[k], w: s[i], i })).sort((a, b) => a.x - b.x || a.i - b.i);
}

/** The weighted median by its definition (lower/upper crossing of W/2, midpoint on an exact tie). */
function oracleMedian(rows: readonly Float32Array[], s: ArrayLike<number>): Float32Array {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  return Float32Array.from({ length: rows[0].length }, (_, k) => {
    const col = sortedColumn(rows, s, k);
    let c = 0;
    let lower = NaN;
    for (const { x, w } of col) {
      c += w;
      if (Number.isNaN(lower) && c >= total / 2) lower = x;
      if (c > total / 2) return (lower + x) / 2;
    }
    return lower;
  });
}

/** The weighted trimmed mean by its definition: kept part of each weight interval inside [T, W − T]. */
function oracleTrimmed(rows: readonly Float32Array[], s: ArrayLike<number>, beta: number): Float64Array {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  const lo = total * beta;
  const hi = total - lo;
  return Float64Array.from({ length: rows[0].length }, (_, k) => {
    let before = 0;
    let acc = 0;
    for (const { x, w } of sortedColumn(rows, s, k)) {
      const part = Math.max(0, Math.min(before + w, hi) - Math.max(before, lo));
      acc += part * x;
      before += w;
    }
    return acc / (hi - lo);
  });
}

/** Rows repeated by their integer weights: the unweighted multiset the weighted rule stands for. */
function replicate(rows: readonly Float32Array[], counts: readonly number[]): Float32Array[] {
  return rows.flatMap((r, i) => Array.from({ length: counts[i] }, () => r));
}

/** Columns of n rows, d ≤ 40: tie-heavy (a few quantized values, ±0), or spread up to ±3.4e38. */
const columnsArb = fc
  .record({
    n: fc.integer({ min: 1, max: 60 }),
    d: fc.integer({ min: 1, max: 40 }),
    kind: fc.constantFrom('ties', 'spread', 'huge'),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ n, d, kind, seed }) => {
    let state = seed;
    const next = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const value = (): number => {
      if (kind === 'ties') return [0, -0, 1, -1, 2, 0.5][Math.floor(next() * 6)];
      if (kind === 'huge') return [HUGE, -HUGE, 1e-45, 0, 1][Math.floor(next() * 5)];
      return (next() - 0.5) * 1e6;
    };
    const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, value));
    const counts = Array.from({ length: n }, () => 1 + Math.floor(next() * 5));
    return { rows, counts };
  });

describe('weightedColumnMedian', () => {
  it('hand-computed: the cumulative weight crosses 1/2 inside a value, or sits exactly on it (midpoint)', () => {
    const rows = [1, 2, 3, 4].map((v) => Float32Array.of(v));
    // W = 10: C = 4, 5, … reaches exactly W/2 at the value 2 → (2 + 3)/2.
    expect(Array.from(weightedColumnMedian(rows, Float64Array.of(4, 1, 2, 3)))).toEqual([2.5]);
    // W = 10: C = 6 > 5 at the value 1 → 1.
    expect(Array.from(weightedColumnMedian(rows, Float64Array.of(6, 1, 2, 1)))).toEqual([1]);
    // Equal weights, n = 4: numpy's median (2 + 3)/2.
    expect(Array.from(weightedColumnMedian(rows, Float64Array.of(7, 7, 7, 7)))).toEqual([2.5]);
  });

  it('equals the definition (sort, walk the cumulative weights) on tie-heavy and huge columns, with the heapsort fallback too', () => {
    fc.assert(
      fc.property(columnsArb, ({ rows, counts }) => {
        const s = Float64Array.from(counts);
        const expected = Array.from(oracleMedian(rows, s), (v) => (v === 0 ? 0 : v));
        expect(Array.from(weightedColumnMedian(rows, s))).toEqual(expected);
        expect(Array.from(weightedColumnMedian(rows, s, 0))).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('with integer weights equals the plain median of the rows repeated by their weights, bit for bit', () => {
    fc.assert(
      fc.property(columnsArb, ({ rows, counts }) => {
        const expected = reduceColumnsPlain(replicate(rows, counts), columnMedian);
        expect(Array.from(weightedColumnMedian(rows, Float64Array.from(counts)))).toEqual(Array.from(expected));
      }),
      { numRuns: 150 },
    );
  });

  it('equals the definition on a long zig-zag column (m = 2000, many partitioning rounds)', () => {
    // Alternating low/high values, a pattern that unbalances median-of-three partitions.
    const m = 2000;
    const values = Array.from({ length: m }, (_, i) => (i % 2 === 0 ? i : m - i));
    const rows = values.map((v) => Float32Array.of(v));
    const s = Float64Array.from({ length: m }, (_, i) => 1 + (i % 3));
    expect(Array.from(weightedColumnMedian(rows, s))).toEqual(Array.from(oracleMedian(rows, s)));
  });
});

describe('weightedColumnTrimmedMean', () => {
  it('hand-computed: partial weights at both cuts', () => {
    // Values 1..4 with weights 1, 1, 1, 1 and β = 0.3: T = 1.2 from each tail.
    // Kept: 1 → 0, 2 → 0.8, 3 → 0.8, 4 → 0 (each interval [C−1, C] ∩ [1.2, 2.8]): (0.8·2 + 0.8·3)/1.6 = 2.5.
    const rows = [1, 2, 3, 4].map((v) => Float32Array.of(v));
    expect(weightedColumnTrimmedMean(rows, Float64Array.of(1, 1, 1, 1), 0.3)[0]).toBeCloseTo(2.5, 6);
    // Weights 3, 1, 1, 5 (W = 10), β = 0.2: T = 2. Kept: 1 → [2,3] = 1, 2 → 1, 3 → 1, 4 → [5,8] = 3.
    // (1 + 2 + 3 + 3·4)/6 = 3.
    expect(weightedColumnTrimmedMean(rows, Float64Array.of(3, 1, 1, 5), 0.2)[0]).toBe(3);
    // β = 0: the weighted mean (3 + 2 + 3 + 20)/10 = 2.8.
    expect(weightedColumnTrimmedMean(rows, Float64Array.of(3, 1, 1, 5), 0)[0]).toBe(Math.fround(2.8));
    // Weights 1, 0.5, 0.5, 8 (W = 10), β = 0.1: T = 1. Kept: 1 → 0, 2 → 0.5, 3 → 0.5, 4 → [2, 9] = 7.
    expect(weightedColumnTrimmedMean(rows, Float64Array.of(1, 0.5, 0.5, 8), 0.1)[0]).toBe((0.5 * 2 + 0.5 * 3 + 7 * 4) / 8);
    // One value holds all the kept mass: weights 0.5, 0.25, 0.25, 9, T = 1: 4 keeps [1, 9] → 4.
    expect(weightedColumnTrimmedMean(rows, Float64Array.of(0.5, 0.25, 0.25, 9), 0.1)[0]).toBe(4);
  });

  it('equals the definition within float64 rounding, inside [min, max] of the column, heapsort fallback included', () => {
    fc.assert(
      fc.property(columnsArb, fc.integer({ min: 0, max: 4 }), ({ rows, counts }, tenths) => {
        const beta = tenths / 10;
        const s = Float64Array.from(counts);
        const expected = oracleTrimmed(rows, s, beta);
        for (const got of [weightedColumnTrimmedMean(rows, s, beta), weightedColumnTrimmedMean(rows, s, beta, 0)]) {
          for (let k = 0; k < got.length; k++) {
            const col = rows.map((r) => r[k]);
            expect(got[k]).toBeGreaterThanOrEqual(Math.min(...col));
            expect(got[k]).toBeLessThanOrEqual(Math.max(...col));
            const scale = Math.max(...col.map(Math.abs), 1e-30);
            expect(Math.abs(got[k] - expected[k])).toBeLessThanOrEqual(1e-6 * scale);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('with equal weights and β = t/m equals the unweighted trimmed mean of t values per tail', () => {
    fc.assert(
      fc.property(columnsArb, fc.nat(), ({ rows }, pick) => {
        const m = rows.length;
        const t = pick % Math.ceil(m / 2);
        if (2 * t >= m) return;
        const got = weightedColumnTrimmedMean(rows, new Float64Array(m).fill(3), t / m);
        const expected = reduceColumnsPlain(rows, (col, lo, mm) => columnTrimmedMean(col, lo, mm, t));
        for (let k = 0; k < got.length; k++) {
          const scale = Math.max(...rows.map((r) => Math.abs(r[k])), 1e-30);
          expect(Math.abs(got[k] - expected[k])).toBeLessThanOrEqual(1e-6 * scale);
        }
      }),
      { numRuns: 100 },
    );
  });
});
