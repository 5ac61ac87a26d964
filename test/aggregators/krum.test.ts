import { describe, expect, it } from 'vitest';
import { krum, krumWithDecision } from '../../src/aggregators/krum.js';
import { multiKrum, multiKrumWithDecision } from '../../src/aggregators/multi-krum.js';
import { RobustAggError } from '../../src/core/errors.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

// 1-D points 0, 1, 2, 10, 11 with n=5, f=1: each score sums the n−f−2 = 2 smallest squared
// distances to the others (by hand): 0 -> 1+4 = 5, 1 -> 1+1 = 2, 2 -> 1+4 = 5, 10 -> 1+64 = 65,
// 11 -> 1+81 = 82.
const points = rowsOf([[0], [1], [2], [10], [11]]);

describe('krum', () => {
  it('selects the client with the lowest score and exposes the scores', () => {
    const { aggregate, decision } = krumWithDecision(points, { f: 1 });
    expect(Array.from(aggregate)).toEqual([1]);
    expect(decision.selected).toEqual([1]);
    expect(Array.from(decision.scores)).toEqual([5, 2, 5, 65, 82]);
    expect(Array.from(decision.weights)).toEqual([0, 1, 0, 0, 0]);
    expect(aggregate).not.toBe(points[1]);
  });

  it('breaks ties by the lowest index', () => {
    // 0 and 2 tie (score 5 each) once client 1 is removed from the candidates by a far copy.
    const rows = rowsOf([[0], [2], [1], [1000], [1001]]);
    // scores: 0 -> 1+4=5 ; 2 -> 1+4=5 ; 1 -> 1+1=2. Krum picks index 2 (value 1).
    expect(krumWithDecision(rows, { f: 1 }).decision.selected).toEqual([2]);
    const tied = rowsOf([[0], [2], [1000], [1001], [1002]]);
    // f=1: 2 neighbours; 0 -> 4+1e6, 2 -> 4+998²; 1000 -> 1+4 = 5, 1001 -> 1+1 = 2, 1002 -> 1+4 = 5
    expect(krumWithDecision(tied, { f: 1 }).decision.selected).toEqual([3]);
  });

  it('states its constraint on n and f', () => {
    expect(() => krum(points.slice(0, 5), { f: 2 })).toThrow('krum needs n ≥ 2f+3, got n=5, f=2');
    try {
      krum(points, { f: 2 });
    } catch (e) {
      expect((e as RobustAggError).code).toBe('TOO_FEW_CLIENTS');
    }
  });

  it('drops non-finite clients, counts them against f and reports them', () => {
    const rows = [...points, Float32Array.of(NaN)];
    const { decision } = krumWithDecision(rows, { f: 1 });
    // f' = 0 after the drop, so 3 neighbours: 0 -> 1+4+100, 1 -> 1+1+81, 2 -> 4+1+64.
    expect(decision.dropped).toEqual([5]);
    expect(decision.scores[5]).toBe(Infinity);
    expect(decision.selected).toEqual([2]);
  });
});

describe('multiKrum', () => {
  it('averages the m best-scored clients, default m = n − f (hand-computed)', () => {
    // best 4 by score: 1 (2), 0 (5), 2 (5), 10 (65) -> (0+1+2+10)/4 = 3.25
    const { aggregate, decision } = multiKrumWithDecision(points, { f: 1 });
    expect(Array.from(aggregate)).toEqual([3.25]);
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    expect(Array.from(multiKrum(points, { f: 1, m: 3 }))).toEqual([1]);
    expect(Array.from(multiKrum(points, { f: 1, m: 1 }))).toEqual(Array.from(krum(points, { f: 1 })));
  });

  it('rejects m outside [1, n]', () => {
    expect(() => multiKrum(points, { f: 1, m: 0 })).toThrow("multiKrum: m must be an integer in [1, 5], got 0");
    expect(() => multiKrum(points, { f: 1, m: 6 })).toThrow(RobustAggError);
  });
});

describeAggregatorProperties({
  name: 'krum(f=1)',
  run: (u) => krum(u, { f: 1 }),
  minClients: 5,
  returnsInputRow: true,
});
describeAggregatorProperties({ name: 'multiKrum(f=1)', run: (u) => multiKrum(u, { f: 1 }), minClients: 5 });

describeOptionReading({
  name: 'krum',
  call: (u, o) => krum(u, o as never),
  updates: points,
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
describeOptionReading({
  name: 'multiKrum',
  call: (u, o) => multiKrumWithDecision(u, o as never),
  updates: points,
  valid: { f: 1, m: 2 },
  getter: { key: 'm', values: [2, 0] },
  required: true,
});
