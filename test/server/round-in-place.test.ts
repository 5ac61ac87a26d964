// What a round's worker does at close besides the Gram matrix (src/kernels/gram-source.ts, combine.ts, finite.ts): it sums
// the weighted combination from its own copies of the rows, in place, and FLAME's noise comes from
// Gaussians drawn ahead from the round's seed while updates arrived. Both must give exactly the
// bits of the one-shot call: the combination the combine kernel's, for any finite rows and weights
// a client or a rule can produce; the noise the same stream of draws.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { flameWithDecision } from '../../src/aggregators/flame.js';
import { createDrawAheadRng, createRng } from '../../src/core/random.js';
import { combine, combinePlain } from '../../src/kernels/combine.js';
import { closeAggregationWorkers } from '../../src/server/async.js';
import { PairTable } from '../../src/server/pair-table.js';
import { createRound } from '../../src/server/round.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, hugeRow } from '../helpers/hostile.js';

afterAll(() => closeAggregationWorkers());

/** A table holding `rows` (arrival i = rows[i]), bound to them. */
function tableOf(rows: readonly Float32Array[]): PairTable {
  const table = new PairTable(rows[0].length);
  rows.forEach((row, i) => table.add(i, row, true));
  table.flush();
  table.bind(rows, rows.map((_, i) => i));
  return table;
}

/** Rows of every finite kind: ordinary, huge, blinders, subnormal, zero, sparse. */
function hostileRows(d: number, seed: number): Float32Array[] {
  const rows = gaussianRows(5, d, seed, 0.5, 2);
  rows.push(hugeRow(d), hugeRow(d, -1), blinderRow(d, 3.4e38));
  rows.push(Float32Array.from({ length: d }, (_, k) => (k % 3 === 0 ? 1e-45 : -0)));
  rows.push(new Float32Array(d));
  rows.push(Float32Array.from({ length: d }, (_, k) => (k === 5 ? -7e37 : 0)));
  return rows;
}

describe('PairTable.combine (the combination read in place)', () => {
  it('gives the combine kernel’s bits for hostile rows, any weights (zeros skipped) and an offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.oneof(fc.constant(0), fc.double({ min: -4, max: 4, noNaN: true }), fc.constantFrom(1e-30, 1e-300, 2 ** -60, 0.1)), {
          minLength: 11,
          maxLength: 11,
        }),
        fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { nil: null }),
        (d, seed, weights, offsetWeight) => {
          const rows = hostileRows(d, seed);
          const table = tableOf(rows);
          const offset = offsetWeight === null ? null : gaussianRows(1, d, seed + 1)[0];
          const got = table.combine(rows, weights, offset, offsetWeight ?? 1);
          const want = combinePlain(rows, weights, offset, offsetWeight ?? 1);
          if (weights.every((w) => w === 0)) {
            expect(got).toBeNull(); // nothing to read: the kernel's own path handles it
            return;
          }
          expect(got).not.toBeNull();
          expect(Array.from(got!)).toEqual(Array.from(want));
          expect(Array.from(got!)).toEqual(Array.from(combine(rows, weights, offset, offsetWeight ?? 1)));
          // The attackers first (the zero, sparse, subnormal and ±huge rows lead).
          const first = [...rows].reverse();
          const wFirst = [...weights].reverse();
          expect(Array.from(table.combine(first, wFirst, offset, offsetWeight ?? 1)!)).toEqual(Array.from(combinePlain(first, wFirst, offset, offsetWeight ?? 1)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the same bits for more rows than one kernel call takes, in any order of the rule’s rows', () => {
    const d = 4100; // one column past a block
    const rows = gaussianRows(150, d, 9, 0, 3);
    const table = tableOf(rows);
    const w = Float64Array.from(rows, (_, i) => (i % 7 === 3 ? 0 : ((i * 37) % 11) / 13 - 0.3));
    expect(Array.from(table.combine(rows, w, null, 1)!)).toEqual(Array.from(combinePlain(rows, w)));
    // The rule may hand the rows in another order than they arrived (e.g. after dropping clients).
    const reversed = [...rows].reverse();
    const wr = Float64Array.from(w).reverse();
    expect(Array.from(table.combine(reversed, wr, null, 1)!)).toEqual(Array.from(combinePlain(reversed, wr)));
  });

  it('answers null for a row it does not hold, unless its weight is 0', () => {
    const rows = gaussianRows(4, 64, 3);
    const table = tableOf(rows.slice(0, 3));
    expect(table.combine(rows, [0.25, 0.25, 0.25, 0.25], null, 1)).toBeNull();
    expect(Array.from(table.combine(rows, [0.5, 0.25, 0.25, 0], null, 1)!)).toEqual(Array.from(combinePlain(rows, [0.5, 0.25, 0.25, 0])));
    expect(table.holds(rows[0])).toBe(true);
    expect(table.holds(rows[3])).toBe(false);
    expect(table.holds(Float32Array.from(rows[0]))).toBe(false); // by identity, not by value
  });
});

describe('PairTable passes cut into slices', () => {
  it('give the same statistics however the held rows are sliced and arrivals interleave', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 1000 }), fc.array(fc.integer({ min: 0, max: 13 }), { minLength: 1, maxLength: 8 }), (d, seed, slices) => {
        const rows = [...hostileRows(d, seed), ...gaussianRows(9, d, seed + 7)];
        const whole = tableOf(rows);
        const sliced = new PairTable(d);
        let t = 0;
        rows.forEach((row, i) => {
          sliced.add(i, row, true);
          // A few slices of whatever size between arrivals, as the worker's turns would do.
          for (let q = 0; q < 2; q++) sliced.pairSome(slices[t++ % slices.length]);
        });
        expect(sliced.queued).toBeGreaterThanOrEqual(0);
        sliced.flush();
        expect(sliced.queued).toBe(0);
        sliced.bind(rows, rows.map((_, i) => i));
        expect(Array.from(sliced.lookup(rows, null)!)).toEqual(Array.from(whole.lookup(rows, null)!));
        expect(Array.from(sliced.lookup(rows, 'robust')!)).toEqual(Array.from(whole.lookup(rows, 'robust')!));
      }),
      { numRuns: 30 },
    );
  });
});

describe('createDrawAheadRng', () => {
  it('serves exactly createRng(seed)’s Gaussians, however many were drawn ahead and when', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 300 }), fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 6 }), (seed, capacity, steps) => {
        const want = createRng(seed);
        const { rng, ahead } = createDrawAheadRng(seed, capacity);
        let drawnAhead = 0;
        for (const k of steps) {
          drawnAhead = ahead(k);
          expect(drawnAhead).toBeLessThanOrEqual(capacity);
          for (let i = 0; i < 37; i++) expect(rng.gaussian()).toBe(want.gaussian());
        }
        for (let i = 0; i < 400; i++) expect(rng.gaussian()).toBe(want.gaussian());
        // Past the buffer the stream is live: a later ahead() draws nothing out of order.
        ahead(50);
        expect(rng.gaussian()).toBe(want.gaussian());
        expect(rng.next()).toBe(want.next());
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a uniform draw while drawn-ahead Gaussians are unserved', () => {
    const { rng, ahead } = createDrawAheadRng(1, 10);
    ahead(4);
    expect(() => rng.next()).toThrow(/reorder/);
    for (let i = 0; i < 4; i++) rng.gaussian();
    expect(typeof rng.nextUint32()).toBe('number');
  });
});

describe('a FLAME round', () => {
  // Small integers: every dot product is exact in float32 stretches and in the Gram kernel alike,
  // so the round and the one-shot call see the same Gram matrix, decide the same and must then give
  // the same bits: the in-place combination and the drawn-ahead noise add no difference.
  const d = 8192;
  const n = 10;
  function integerRows(seed: number): Float32Array[] {
    const rng = createRng(seed);
    const rows = Array.from({ length: n - 2 }, () => Float32Array.from({ length: d }, () => rng.nextInt(9) - 4));
    rows.push(Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? 8 : -8))); // far from the rest
    rows.push(Float32Array.from(rows[0], (v) => -v)); // a sign flip
    return rows;
  }

  it.each([1, 2])('gives the one-shot call’s bits, noise included (seed %i)', async (seed) => {
    const rows = integerRows(seed);
    const options = { seed: 11 * seed, lambda: 0.01 };
    const oneShot = flameWithDecision(rows, options);
    const round = createRound({ rule: 'flame', options, d, expected: n });
    for (let i = 0; i < n; i++) {
      await round.add(`c${i}`, rows[i]);
      await new Promise((r) => setTimeout(r, 20)); // time to pair, then to draw the noise ahead
    }
    const result = await round.close();
    expect(result.precomputed).toBe(true);
    expect(result.decision.raw.selected).toEqual(oneShot.decision.selected);
    expect(Array.from(result.aggregate)).toEqual(Array.from(oneShot.aggregate));
    // And the noise is really there (λ > 0): the aggregate is not the plain combination.
    const w = (oneShot.decision as unknown as { weights: Float64Array }).weights;
    expect(Array.from(result.aggregate)).not.toEqual(Array.from(combinePlain(rows, w)));
  });
});
