import { describe, expect, it } from 'vitest';
import { trimmedMean, trimmedMeanWithDecision } from '../../src/aggregators/trimmed-mean.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('trimmedMean', () => {
  const rows = rowsOf([[1], [2], [3], [100], [-50]]);

  it('drops f values per tail (hand-computed: [-50,1,2,3,100] -> mean(1,2,3) = 2)', () => {
    expect(Array.from(trimmedMean(rows, { f: 1 }))).toEqual([2]);
  });

  it('with beta, trims ⌊βn⌋ per tail (β=0.2, n=5 -> 1)', () => {
    const { aggregate, decision } = trimmedMeanWithDecision(rows, { beta: 0.2 });
    expect(Array.from(aggregate)).toEqual([2]);
    expect(decision.trimmed).toBe(1);
  });

  it('counts dropped non-finite clients against f', () => {
    // f=2 but one client sent NaN: trim 1 per tail of [-50,1,2,3,100] -> 2
    const { aggregate, decision } = trimmedMeanWithDecision([...rows, Float32Array.of(NaN)], { f: 2 });
    expect(Array.from(aggregate)).toEqual([2]);
    expect(decision).toMatchObject({ trimmed: 1, dropped: [5] });
  });

  it('checks its options', () => {
    expect(() => trimmedMean(rows, { f: 3 })).toThrow('trimmedMean needs n ≥ 2f+1, got n=5, f=3');
    expect(() => trimmedMean(rows, { beta: 0.5 })).toThrow(/beta must be < 0.5/);
    expect(() => trimmedMean(rows, {} as { f: number })).toThrow(/needs \{ f \} or \{ beta \}/);
    expect(() => trimmedMean(rows, { f: 1, beta: 0.1 })).toThrow(/not both/);
  });
});

describeAggregatorProperties({
  name: 'trimmedMean(f=2)',
  run: (u) => trimmedMean(u, { f: 2 }),
  minClients: 5,
  coordinateRange: { byzantine: 2 },
});

describeOptionReading({
  name: 'trimmedMean',
  call: (u, o) => trimmedMean(u, o as never),
  updates: rowsOf([[1], [2], [3], [100], [-50]]),
  valid: { beta: 0.2 },
  getter: { key: 'beta', values: [0.2, 0.6] },
  required: true,
});
