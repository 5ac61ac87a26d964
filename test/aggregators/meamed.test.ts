import { describe, expect, it } from 'vitest';
import { meamed } from '../../src/aggregators/meamed.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('meamed', () => {
  it('averages the n−f values closest to the median (hand-computed)', () => {
    // [1,2,3,4,100], median 3, distances 2,1,0,1,97: keep {1,2,3,4} -> 2.5
    expect(Array.from(meamed(rowsOf([[1], [2], [3], [4], [100]]), { f: 1 }))).toEqual([2.5]);
  });

  it('breaks a tie at the boundary towards the smaller value', () => {
    // [0,1,2,3,4] with f=2: median 2; keep 3 closest: 2 then 1 and 3 (distance 1 each) -> 2.
    // [0,2,4] with f=1, plus a 2nd coordinate: median 2, keep 2: {2, 0} (0 and 4 tie; 0 wins) -> 1.
    expect(Array.from(meamed(rowsOf([[0, 0], [2, 1], [4, 2], [1, 3], [3, 4]]), { f: 2 }))).toEqual([2, 2]);
    expect(Array.from(meamed(rowsOf([[0], [2], [4]]), { f: 1 }))).toEqual([1]);
  });

  it('checks n ≥ 2f+1', () => {
    expect(() => meamed(rowsOf([[0], [1], [2]]), { f: 2 })).toThrow('meamed needs n ≥ 2f+1, got n=3, f=2');
  });
});

describeAggregatorProperties({ name: 'meamed(f=2)', run: (u) => meamed(u, { f: 2 }), minClients: 5 });

describeOptionReading({
  name: 'meamed',
  call: (u, o) => meamed(u, o as never),
  updates: rowsOf([[0], [1], [2], [3], [40]]),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
