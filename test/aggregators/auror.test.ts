import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auror, aurorWithDecision, type AurorOptions } from '../../src/aggregators/auror.js';
import { createRng } from '../../src/core/random.js';
import { rowsOf } from '../helpers/data.js';
import { expectError, expectFinite, hostileCaseArb } from '../helpers/hostile.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

/** Brute force 1-D 2-means: every split of the sorted values between distinct ones; least SSE, lowest split. */
function bruteSplit(values: number[]): { left: number[]; gap: number } | null {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let best: { s: number; sse: number } | null = null;
  for (let s = 1; s < order.length; s++) {
    if (!(order[s - 1][0] < order[s][0])) continue;
    const sse = (g: (readonly [number, number])[]) => {
      const mu = g.reduce((a, x) => a + x[0], 0) / g.length;
      return g.reduce((a, x) => a + (x[0] - mu) ** 2, 0);
    };
    const total = sse(order.slice(0, s)) + sse(order.slice(s));
    if (best === null || total < best.sse - 1e-12) best = { s, sse: total };
  }
  if (best === null) return null;
  const mean = (g: (readonly [number, number])[]) => g.reduce((a, x) => a + x[0], 0) / g.length;
  return { left: order.slice(0, best.s).map((x) => x[1]), gap: mean(order.slice(best.s)) - mean(order.slice(0, best.s)) };
}

describe('auror', () => {
  it('flags clients in the suspicious (smaller) cluster of ≥ τ·K indicative features (hand-computed)', () => {
    // Coordinate 0: {0.10, 0.11, 0.12} | {0.90, 0.92}, 0.8 apart; coordinate 1: {−0.8, −0.8} |
    // {0.19, 0.20, 0.21}, 1.0 apart; coordinate 2: best split {0.4, 0.5, 0.5} | {0.6, 0.6}, 0.13 apart.
    const rows = rowsOf([
      [0.1, 0.2, 0.5],
      [0.12, 0.19, 0.6],
      [0.11, 0.21, 0.4],
      [0.9, -0.8, 0.5],
      [0.92, -0.8, 0.6],
    ]);
    const { aggregate, decision } = aurorWithDecision(rows, { threshold: 0.3 });
    expect(decision.indicative).toEqual([0, 1]);
    expect(decision.flagged).toEqual([3, 4]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(decision.suspicions)).toEqual([0, 0, 0, 2, 2]);
    expect(Array.from(decision.weights)).toEqual([1 / 3, 1 / 3, 1 / 3, 0, 0]);
    expect(aggregate[0]).toBeCloseTo(0.11, 6);
    // With α = 0.1 the third coordinate is indicative too; its smaller group {0.6, 0.6} holds
    // clients 1 and 4. K = 3, τK = 1.5: clients 3 (2 features) and 4 (3) are flagged, 1 (1) is not.
    const more = aurorWithDecision(rows, { threshold: 0.1 });
    expect(more.decision.indicative).toEqual([0, 1, 2]);
    expect(Array.from(more.decision.suspicions)).toEqual([0, 1, 0, 2, 3]);
    expect(more.decision.flagged).toEqual([3, 4]);
    // τ = 1: only client 4 (in all three suspicious clusters).
    expect(aurorWithDecision(rows, { threshold: 0.1, tau: 1 }).decision.flagged).toEqual([4]);
    // α too large: nothing indicative, the plain mean.
    const none = aurorWithDecision(rows, { threshold: 5 });
    expect(none.decision.indicative).toEqual([]);
    expect(none.decision.flagged).toEqual([]);
  });

  it('leaves a feature with two equal groups without suspects, and examines only the given features', () => {
    const rows = rowsOf([[0, 0], [0, 0], [9, 9], [9, 9]]);
    const d = aurorWithDecision(rows, { threshold: 1 }).decision;
    expect(d.indicative).toEqual([0, 1]);
    expect(d.flagged).toEqual([]);
    const only = aurorWithDecision(rowsOf([[5, 0, 0], [-5, 0, 0], [0, 0, 0], [0, 3, 3]]), { threshold: 1, features: { offset: 1, size: 2 } });
    expect(only.decision.indicative).toEqual([1, 2]);
    expect(only.decision.flagged).toEqual([3]);
  });

  it('splits each feature exactly as brute-force 1-D 2-means does (random data)', () => {
    for (let seed = 0; seed < 40; seed++) {
      const rng = createRng(seed);
      const n = 2 + rng.nextInt(9);
      const values = Array.from({ length: n }, () => Math.fround(Math.round(rng.gaussian() * 4) / 2 + (rng.next() < 0.3 ? 10 : 0)));
      const rows = values.map((v) => Float32Array.of(v));
      const expected = bruteSplit(values);
      const { decision } = aurorWithDecision(rows, { threshold: 1e-9, tau: 1 });
      if (expected === null || !(expected.gap >= 1e-9)) {
        expect(decision.indicative).toEqual([]);
        continue;
      }
      expect(decision.indicative).toEqual([0]);
      const smaller = expected.left.length * 2 < n ? expected.left : expected.left.length * 2 > n ? values.map((_, i) => i).filter((i) => !expected.left.includes(i)) : [];
      expect(decision.flagged, `seed ${seed}: ${values}`).toEqual([...smaller].sort((a, b) => a - b));
    }
  });

  it('checks its options, reads them once, drops non-finite clients', () => {
    const rows = rowsOf([[1, 2], [2, 1], [1, 1]]);
    expectError(() => auror(rows, {} as AurorOptions), 'INVALID_OPTION', /threshold must be a finite number in \(0, Infinity\)/);
    expectError(() => auror(rows, { threshold: 1, tau: 0.4 }), 'INVALID_OPTION', /tau must be a finite number in \[0.5, 1\]/);
    expectError(() => auror(rows, { threshold: 1, features: { offset: 1, size: 2 } }), 'INVALID_OPTION', /offset \+ size ≤ d=2/);
    expectError(() => auror(rows, { threshold: 1, features: null as never }), 'INVALID_OPTION', /features must be/);
    expectError(() => auror(rows, { threshold: 1, alpha: 2 } as unknown as AurorOptions), 'UNKNOWN_OPTION', /unknown option 'alpha'/);
    let reads = 0;
    const tricky = {
      get threshold() {
        reads++;
        return reads === 1 ? 1 : -1;
      },
    } as AurorOptions;
    expect(() => auror(rows, tricky)).not.toThrow();
    expect(reads).toBe(1);
    const { decision } = aurorWithDecision([...rows, Float32Array.of(-Infinity, 0)], { threshold: 0.5 });
    expect(decision.dropped).toEqual([3]);
    expect(decision.suspicions[3]).toBe(0);
  });

  it('property: any finite hostile clients, anywhere: someone is kept, the output is their mean (inside their range), finite', () => {
    fc.assert(
      fc.property(
        hostileCaseArb({ minHonest: 1, maxHonest: 8, maxF: 6 }),
        fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        (c, threshold, tau) => {
          const before = c.rows.map((r) => Float32Array.from(r));
          const { aggregate, decision } = aurorWithDecision(c.rows, { threshold, tau });
          c.rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
          expectFinite(aggregate);
          expect(decision.selected.length).toBeGreaterThan(0);
          const kept = decision.selected.map((i) => c.rows[i]);
          for (let k = 0; k < aggregate.length; k++) {
            const col = kept.map((r) => r[k]);
            const lo = Math.min(...col);
            const hi = Math.max(...col);
            const slack = 1e-6 * Math.max(Math.abs(lo), Math.abs(hi));
            expect(aggregate[k]).toBeGreaterThanOrEqual(lo - slack);
            expect(aggregate[k]).toBeLessThanOrEqual(hi + slack);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describeAggregatorProperties({
  name: 'auror (α = 0.5)',
  run: (u) => auror(u, { threshold: 0.5 }),
  minClients: 1,
  maxClients: 9,
});
