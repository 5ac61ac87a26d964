import { describe, expect, it } from 'vitest';
import {
  FOOLS_GOLD_MAX_HISTORY,
  foolsGold,
  foolsGoldWithDecision,
  type FoolsGoldHistory,
  type FoolsGoldOptions,
} from '../../src/aggregators/fools-gold.js';
import { RobustAggError } from '../../src/core/errors.js';
import { cloneRows, gaussianRows, rowsOf } from '../helpers/data.js';
import { blinderRow, expectError, expectFinite, HUGE, hugeRow, insertAt, onBothBackends } from '../helpers/hostile.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

describe('foolsGold', () => {
  it('computes similarity, pardoning and logit weights (hand-computed)', () => {
    // x0 = (3,4), x1 = (0,1), x2 = (12,5). cos: (0,1) 4/5, (0,2) 56/65, (1,2) 5/13.
    // v = (56/65, 4/5, 56/65). Pardoning (v1 < v0 = v2): cs10 = 0.8·0.8·65/56 = 26/35,
    // cs12 = (5/13)·0.8·65/56 = 5/14. α = 1 − row max = (9/65, 9/35, 9/65); ÷ max 9/35 ->
    // (7/13, 1, 7/13); 1 -> 0.99; logit: ln((7/13)/(6/13)) + 0.5 = ln(7/6) + 0.5 ≈ 0.65415, and
    // ln(99) + 0.5 > 1 -> 1. out = (a·(3,4) + (0,1) + a·(12,5)) / (1 + 2a), a = ln(7/6) + 0.5.
    const rows = rowsOf([
      [3, 4],
      [0, 1],
      [12, 5],
    ]);
    const { aggregate, decision } = foolsGoldWithDecision(rows);
    const a = Math.log(7 / 6) + 0.5;
    expect(decision.learningRates[0]).toBeCloseTo(a, 12);
    expect(decision.learningRates[1]).toBe(1);
    expect(decision.learningRates[2]).toBeCloseTo(a, 12);
    expect(Array.from(decision.maxSimilarity)).toEqual([56 / 65, 0.8, 56 / 65].map((v) => expect.closeTo(v, 12)));
    expect(aggregate[0]).toBeCloseTo((15 * a) / (1 + 2 * a), 5);
    expect(aggregate[1]).toBeCloseTo((9 * a + 1) / (1 + 2 * a), 5);
    expect(decision.weights[1]).toBeCloseTo(1 / (1 + 2 * a), 12);
  });

  it('gives sybils that send the same direction no weight', () => {
    const honest = gaussianRows(5, 20, 3);
    const sybil = Float32Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? 5 : -5));
    const rows = [...honest, sybil, Float32Array.from(sybil, (v) => 2 * v), Float32Array.from(sybil)];
    const { decision } = foolsGoldWithDecision(rows);
    expect(Array.from(decision.learningRates.slice(5))).toEqual([0, 0, 0]);
    expect(decision.selected.every((i) => i < 5)).toBe(true);
    // Identical updates only: every client has a twin, every α is 0, the output is zero.
    expect(Array.from(foolsGold([sybil, Float32Array.from(sybil)]))).toEqual(new Array(20).fill(0));
  });

  it('keeps an explicit history by client id across rounds and never mutates it', () => {
    const round1 = gaussianRows(3, 6, 10);
    const round2 = gaussianRows(3, 6, 11);
    const first = foolsGoldWithDecision(round1, { clientIds: ['a', 'b', 'c'] });
    const snapshot = new Map([...first.history.sums].map(([id, s]) => [id, Float64Array.from(s)]));
    const second = foolsGoldWithDecision(round2, { clientIds: ['b', 'c', 'd'], history: first.history });
    // The old history is untouched; absent 'a' is carried over; b and c accumulate; d starts.
    for (const [id, s] of snapshot) expect(Array.from(first.history.sums.get(id) as Float64Array)).toEqual(Array.from(s));
    const sums = second.history.sums;
    expect([...sums.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(sums.get('b')).toBeInstanceOf(Float64Array);
    expect(Array.from(sums.get('a') as Float64Array)).toEqual(Array.from(round1[0]));
    // Sums are float64: b = x₁ + x₂ exactly as float64 adds them (no float32 rounding).
    expect(Array.from(sums.get('b') as Float64Array)).toEqual(Array.from(round1[1], (v, k) => v + round2[0][k]));
    expect(Array.from(sums.get('d') as Float64Array)).toEqual(Array.from(round2[2]));
    // Oracle: the learning rates are FoolsGold's on all accumulated sums (a, b, c, d), read for b, c, d
    // (rounded to float32, exactly what the rule compares after scaling each by a power of two).
    const all = foolsGoldWithDecision([...sums.values()].map((h) => Float32Array.from(h)));
    expect(Array.from(second.decision.learningRates)).toEqual(
      Array.from(all.decision.learningRates.slice(1)).map((v) => expect.closeTo(v, 12)),
    );
  });

  it('depends on client ids, not on positions: permuting rows and ids together changes nothing', () => {
    const history = foolsGoldWithDecision(gaussianRows(5, 8, 1), { clientIds: [10, 11, 12, 13, 14] }).history;
    const rows = gaussianRows(5, 8, 2);
    const ids = [10, 11, 12, 13, 14];
    const order = [3, 0, 4, 1, 2];
    const a = foolsGold(rows, { clientIds: ids, history });
    const b = foolsGold(
      order.map((i) => rows[i]),
      { clientIds: order.map((i) => ids[i]), history },
    );
    Array.from(a).forEach((v, k) => expect(b[k]).toBeCloseTo(v, 5));
  });

  it('validates ids, history and kappa; drops non-finite clients without touching their history', () => {
    const rows = gaussianRows(3, 4, 5);
    expect(() => foolsGold(rows, { clientIds: ['x', 'x', 'y'] })).toThrow(/client id x appears twice/);
    expect(() => foolsGold(rows, { clientIds: ['x'] })).toThrow(RobustAggError);
    expect(() => foolsGold(rows, { kappa: 0 })).toThrow(/kappa/);
    const bad = { sums: new Map([[0, new Float64Array(3)]]) };
    expect(() => foolsGold(rows, { history: bad })).toThrow(/history of client 0 must be a Float64Array of length d=4/);
    const first = foolsGoldWithDecision(rows);
    const poisoned = cloneRows(rows);
    poisoned[1][2] = NaN;
    const { decision, history } = foolsGoldWithDecision(poisoned, { history: first.history });
    expect(decision.dropped).toEqual([1]);
    expect(decision.learningRates[1]).toBe(0);
    expect(history.sums.get(1)).toBe(first.history.sums.get(1));
  });

  it('keeps float64 histories: sybils sending 3e38 every round never overflow them and keep rate 0', () => {
    // Issue 14 item 5: with float32 sums, two rounds of 3e38 made the sybils' histories ±Inf, their
    // cosines NaN, and their learning rate 1 from the second round on.
    onBothBackends(() => {
      const d = 16;
      let history: FoolsGoldHistory | undefined;
      for (let round = 0; round < 4; round++) {
        const honest = gaussianRows(5, d, 10 + round);
        const big = hugeRow(d);
        const rows = [big, ...honest, Float32Array.from(big), Float32Array.from(big, (v) => v * 0.5)];
        const result = foolsGoldWithDecision(rows, { history });
        history = result.history;
        const { learningRates, maxSimilarity, selected } = result.decision;
        expect([learningRates[0], learningRates[6], learningRates[7]]).toEqual([0, 0, 0]);
        expect(selected.every((i) => i >= 1 && i <= 5)).toBe(true);
        expectFinite(learningRates, 'learningRates');
        expectFinite(maxSimilarity, 'maxSimilarity');
        expectFinite(result.aggregate);
        for (const h of history.sums.values()) expectFinite(h, 'history');
        // A convex combination of the honest rows: inside their range per coordinate.
        for (let k = 0; k < d; k++) {
          const values = honest.map((x) => x[k]);
          expect(result.aggregate[k]).toBeGreaterThanOrEqual(Math.min(...values) - 1e-6);
          expect(result.aggregate[k]).toBeLessThanOrEqual(Math.max(...values) + 1e-6);
        }
      }
      expect(history?.sums.get(0)?.[0]).toBe(4 * HUGE);
    });
  });

  it('gives a lone huge client a finite learning rate in [0, 1] round after round', () => {
    let history: FoolsGoldHistory | undefined;
    for (let round = 0; round < 3; round++) {
      const rows = [...gaussianRows(4, 8, 30 + round), hugeRow(8, -1)];
      const result = foolsGoldWithDecision(rows, { history });
      history = result.history;
      for (const a of result.decision.learningRates) expect(a >= 0 && a <= 1).toBe(true);
      expectFinite(result.aggregate);
    }
  });

  it('compares histories scale-free: a 1e30 blinder changes no learning rate against a blinder of 1', () => {
    // Each history is scaled by a power of two of its own before the Gram kernel, so a client's
    // magnitude cannot blind the other pairs (issue 14 item 1 on the WebAssembly kernel).
    onBothBackends(() => {
      const d = 1024;
      const honest = gaussianRows(6, d, 3);
      for (const position of [0, 3, 6]) {
        const loud = foolsGoldWithDecision(insertAt(honest, blinderRow(d), [position])).decision;
        const quiet = foolsGoldWithDecision(insertAt(honest, blinderRow(d, 1), [position])).decision;
        Array.from(loud.learningRates).forEach((a, i) => expect(a).toBeCloseTo(quiet.learningRates[i], 6));
        Array.from(loud.maxSimilarity).forEach((v, i) => expect(v).toBeCloseTo(quiet.maxSimilarity[i], 6));
      }
    });
  });

  it('gives a client whose history is the zero vector rate 0 (no direction: maximally suspicious)', () => {
    const rows = [...gaussianRows(4, 6, 8), new Float32Array(6)];
    const first = foolsGoldWithDecision(rows);
    expect(first.decision.learningRates[4]).toBe(0);
    expect(first.decision.maxSimilarity[4]).toBe(1);
    expect(first.decision.learningRates.slice(0, 4).some((a) => a > 0)).toBe(true);
    // x then −x: the history cancels to 0, and the client loses its weight in round 2.
    const x = Float32Array.from({ length: 6 }, (_, k) => k - 2.5);
    const r1 = foolsGoldWithDecision([...gaussianRows(4, 6, 9), x]);
    expect(r1.decision.learningRates[4]).toBeGreaterThan(0);
    const r2 = foolsGoldWithDecision([...gaussianRows(4, 6, 10), Float32Array.from(x, (v) => -v)], { history: r1.history });
    expect(r2.decision.learningRates[4]).toBe(0);
    expectFinite(r2.aggregate);
  });

  it('rejects a history that is not finite (a 0.1.0 float32 history poisoned to ±Inf) and widens finite float32 ones', () => {
    const rows = gaussianRows(3, 4, 12);
    const poisoned = new Map([
      [0, Float32Array.of(1, 2, 3, 4)],
      [1, Float32Array.of(1, Infinity, 3, 4)],
    ]) as unknown as FoolsGoldHistory['sums'];
    expectError(() => foolsGold(rows, { history: { sums: poisoned } }), 'INVALID_OPTION', /history of client 1 holds Infinity at coordinate 1/);
    const nan = new Map([[2, Float64Array.of(0, 0, NaN, 0)]]);
    expectError(() => foolsGold(rows, { history: { sums: nan } }), 'INVALID_OPTION', /history of client 2 holds NaN at coordinate 2/);
    // Even the largest float64 history stays finite (3.4e38 is far below half an ulp of 1.8e308).
    const edge = new Map([[0, Float64Array.of(Number.MAX_VALUE, 0, 0, 0)]]);
    const up = [Float32Array.of(HUGE, 0, 0, 0), ...rows.slice(1)];
    const next = foolsGoldWithDecision(up, { history: { sums: edge } });
    expect(next.history.sums.get(0)?.[0]).toBe(Number.MAX_VALUE);
    expectFinite(next.aggregate);
    // Finite float32 entries are widened: same rates as the same history in float64.
    const f32 = new Map([[0, Float32Array.of(1, -2, 3, 0.5)]]) as unknown as FoolsGoldHistory['sums'];
    const f64 = new Map([[0, Float64Array.of(1, -2, 3, 0.5)]]);
    const a = foolsGoldWithDecision(rows, { history: { sums: f32 } });
    const b = foolsGoldWithDecision(rows, { history: { sums: f64 } });
    expect(Array.from(a.decision.learningRates)).toEqual(Array.from(b.decision.learningRates));
    expect(a.history.sums.get(0)).toBeInstanceOf(Float64Array);
  });

  it('caps the history at FOOLS_GOLD_MAX_HISTORY clients', () => {
    const sums = new Map<number, Float64Array>();
    for (let i = 0; i < FOOLS_GOLD_MAX_HISTORY; i++) sums.set(1000 + i, Float64Array.of(1));
    const rows = [Float32Array.of(1)];
    expectError(() => foolsGold(rows, { history: { sums } }), 'INVALID_OPTION', /would hold 4097 clients, more than 4096/);
    sums.set(-1, Float64Array.of(1));
    expectError(() => foolsGold(rows, { clientIds: [-1], history: { sums } }), 'INVALID_OPTION', /history holds 4097 clients/);
  });

  it('reads options once: null, unknown keys and out-of-range kappa are RobustAggErrors', () => {
    const rows = gaussianRows(3, 4, 13);
    expectError(() => foolsGold(rows, null as unknown as FoolsGoldOptions), 'INVALID_OPTION', /options must be an object, got null/);
    expectError(() => foolsGold(rows, { kapa: 2 } as unknown as FoolsGoldOptions), 'UNKNOWN_OPTION', /unknown option 'kapa'/);
    expectError(() => foolsGold(rows, { kappa: 1e7 }), 'INVALID_OPTION', /kappa/);
    expectError(() => foolsGold(rows, { kappa: Infinity }), 'INVALID_OPTION', /kappa/);
    expectError(() => foolsGold(rows, { history: null as unknown as FoolsGoldHistory }), 'INVALID_OPTION', /history must be/);
    let reads = 0;
    const tricky = {
      get kappa() {
        reads++;
        return reads === 1 ? 2 : -3;
      },
    };
    expect(() => foolsGold(rows, tricky)).not.toThrow();
    expect(reads).toBe(1);
  });
});

// Without history (a first round) the rule depends on the rows only, hence permutation invariant.
describeAggregatorProperties({
  name: 'foolsGold (first round)',
  run: (u) => foolsGold(u),
  minClients: 1,
  translationEquivariant: false, // cosine similarities change under translation
});
