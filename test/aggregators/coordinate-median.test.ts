import { describe, expect, it } from 'vitest';
import { coordinateMedian, coordinateMedianWithDecision } from '../../src/aggregators/coordinate-median.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('coordinateMedian', () => {
  it('takes the median per coordinate (hand-computed)', () => {
    // columns [1,2,100] -> 2 and [10,20,-5] -> 10
    expect(Array.from(coordinateMedian(rowsOf([[1, 10], [2, 20], [100, -5]])))).toEqual([2, 10]);
  });

  it('averages the two middle values for an even count (numpy, not torch)', () => {
    expect(Array.from(coordinateMedian(rowsOf([[1], [2], [3], [10]])))).toEqual([2.5]);
  });

  it('drops an Infinity client and reports it', () => {
    const { aggregate, decision } = coordinateMedianWithDecision(rowsOf([[1], [Infinity], [3], [2]]));
    expect(Array.from(aggregate)).toEqual([2]);
    expect(decision.dropped).toEqual([1]);
  });

  it("throws on a NaN client with nonFinite: 'throw'", () => {
    expect(() => coordinateMedian(rowsOf([[1], [NaN]]), { nonFinite: 'throw' })).toThrow(/client 1 sent NaN/);
  });
});

describeAggregatorProperties({
  name: 'coordinateMedian',
  run: (u) => coordinateMedian(u),
  minClients: 5,
  coordinateRange: { byzantine: 2 },
});

describeOptionReading({
  name: 'coordinateMedian',
  call: (u, o) => coordinateMedian(u, o as never),
  updates: rowsOf([[0], [1], [NaN]]),
  valid: {},
  getter: { key: 'nonFinite', values: ['drop', 'throw'] },
});
