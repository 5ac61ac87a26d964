import { describe, expect, it } from 'vitest';
import { mean, meanWithDecision } from '../../src/aggregators/mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('mean', () => {
  it('averages (hand-computed: ([1,2]+[3,4]+[5,9])/3 = [3,5])', () => {
    expect(Array.from(mean(rowsOf([[1, 2], [3, 4], [5, 9]])))).toEqual([3, 5]);
  });

  it('weights clients: (1·[1,2] + 3·[5,9]) / 4 = [4, 7.25]', () => {
    const { aggregate, decision } = meanWithDecision(rowsOf([[1, 2], [3, 4], [5, 9]]), { weights: [1, 0, 3] });
    expect(Array.from(aggregate)).toEqual([4, 7.25]);
    expect(Array.from(decision.weights)).toEqual([0.25, 0, 0.75]);
  });

  it('drops a NaN client and renormalises the remaining weights', () => {
    const { aggregate, decision } = meanWithDecision(rowsOf([[1, 1], [NaN, 0], [3, 5]]), { weights: [1, 5, 1] });
    expect(Array.from(aggregate)).toEqual([2, 3]);
    expect(decision.dropped).toEqual([1]);
    expect(Array.from(decision.weights)).toEqual([0.5, 0, 0.5]);
  });

  it('rejects bad weights', () => {
    const rows = rowsOf([[1], [2]]);
    expect(() => mean(rows, { weights: [1] })).toThrow(/one weight per client \(n=2\)/);
    expect(() => mean(rows, { weights: [1, -1] })).toThrow(/weight of client 1/);
    expect(() => mean(rows, { weights: [0, 0] })).toThrow(RobustAggError);
  });
});

describe('mean: hostile weights and options', () => {
  const rows = rowsOf([[1, 2], [3, 4], [5, 9]]);

  // Regression (issue 14, item 6): the sum of these weights overflows float64, and the mean was zeros.
  it('normalises weights whose sum overflows instead of returning zeros', () => {
    const { aggregate, decision } = meanWithDecision(rows, { weights: [1e308, 1e308, 0] });
    expect(Array.from(aggregate)).toEqual([2, 3]);
    expect(Array.from(decision.weights)).toEqual([0.5, 0.5, 0]);
    const big = mean(rows, { weights: [Number.MAX_VALUE, Number.MAX_VALUE, Number.MAX_VALUE] });
    expect(Array.from(big)).toEqual([3, 5]);
    // After a dropped client too.
    const withNaN = meanWithDecision(rowsOf([[1, 2], [NaN, 0], [5, 9]]), { weights: [1.5e308, 1, 1.5e308] });
    expect(Array.from(withNaN.aggregate)).toEqual([3, 5.5]);
  });

  it('handles subnormal weights', () => {
    expect(Array.from(mean(rows, { weights: [5e-324, 0, 5e-324] }))).toEqual([3, 5.5]);
  });

  it('rejects non-finite, negative, non-number and all-zero weights with INVALID_OPTION', () => {
    for (const weights of [[1, Infinity, 1], [1, NaN, 1], [1, -1e-300, 1], [1, '2', 1], [0, 0, 0], 5, null, 'abc']) {
      let code: string | undefined;
      try {
        mean(rows, { weights } as never);
      } catch (e) {
        expect(e).toBeInstanceOf(RobustAggError);
        code = (e as RobustAggError).code;
      }
      expect(code, String(weights)).toBe('INVALID_OPTION');
    }
    expect(() => mean(rowsOf([[1], [NaN], [2]]), { weights: [0, 1, 0] })).toThrow(/finite clients sum to 0/);
  });

  it('reads each weight once', () => {
    let reads = 0;
    const weights = {
      length: 3,
      get 0() {
        reads++;
        return reads === 1 ? 1 : -5;
      },
      1: 1,
      2: 0,
    };
    expect(Array.from(mean(rows, { weights }))).toEqual([2, 3]);
    expect(reads).toBe(1);
  });

  it('rejects null options and unknown keys', () => {
    expect(() => mean(rows, null as never)).toThrow('mean: options must be an object, got null');
    expect(() => mean(rows, { weight: [1, 1, 1] } as never)).toThrow(/unknown option 'weight'/);
  });
});

describeAggregatorProperties({ name: 'mean', run: (u) => mean(u), minClients: 1 });

describeOptionReading({
  name: 'mean',
  call: (u, o) => mean(u, o as never),
  updates: rowsOf([[0], [1], [NaN]]),
  valid: { weights: [1, 1, 1] },
  getter: { key: 'nonFinite', values: ['drop', 'throw'] },
});
