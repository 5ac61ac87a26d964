import { describe, expect, it } from 'vitest';
import { centeredClipping, centeredClippingWithDecision } from '../../src/aggregators/centered-clipping.js';
import { runInNewContext } from 'node:vm';
import { RobustAggError } from '../../src/core/errors.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('centeredClipping', () => {
  // Hand-computed, centre 0, τ = 1: ‖[3,4]‖ = 5 -> factor 0.2; ‖[0.6,0.8]‖ = 1 -> factor 1.
  // v₁ = ½(0.2·[3,4] + [0.6,0.8]) = [0.6, 0.8].
  const rows = rowsOf([[3, 4], [0.6, 0.8]]);

  it('one iteration clips each difference to τ and averages', () => {
    const { aggregate, decision } = centeredClippingWithDecision(rows, { tau: 1, iterations: 1 });
    expect(aggregate[0]).toBeCloseTo(0.6, 6);
    expect(aggregate[1]).toBeCloseTo(0.8, 6);
    expect(decision.clipFactors[0]).toBeCloseTo(0.2, 6);
    expect(decision.clipFactors[1]).toBeCloseTo(1, 6); // ‖float32 [0.6, 0.8]‖ is 1 within 1e-7
    expect(decision.centerWeight).toBeCloseTo(0.4, 6);
    expect(decision.weights[0]).toBeCloseTo(0.1, 6);
    expect(decision.weights[1]).toBeCloseTo(0.5, 6);
  });

  it('a second iteration starts from v₁ (hand-computed: [0.9, 1.2])', () => {
    // x₁ − v₁ = [2.4, 3.2] (norm 4, factor 0.25); x₂ − v₁ = 0. v₂ = v₁ + ½·0.25·[2.4, 3.2].
    const out = centeredClipping(rows, { tau: 1, iterations: 2 });
    expect(out[0]).toBeCloseTo(0.9, 6);
    expect(out[1]).toBeCloseTo(1.2, 6);
  });

  it('uses the given centre and never mutates it', () => {
    const center = Float32Array.of(3, 4);
    const { aggregate, decision } = centeredClippingWithDecision(rows, { tau: 100, iterations: 1, center });
    // τ large: no clipping, v = mean of the rows, centre weight 0.
    expect(aggregate[0]).toBeCloseTo(1.8, 6);
    expect(decision.centerWeight).toBeCloseTo(0, 12);
    expect(Array.from(center)).toEqual([3, 4]);
  });

  it('rejects a centre of the wrong length and τ ≤ 0', () => {
    expect(() => centeredClipping(rows, { center: new Float32Array(3) })).toThrow(/center must be a finite Float32Array of length d=2/);
    expect(() => centeredClipping(rows, { tau: 0 })).toThrow(/tau/);
  });
});

describe('centeredClipping: hostile numbers and options', () => {
  const rows = rowsOf([[3, 4], [0.6, 0.8], [1, 1]]);

  // Regression (issue 14, item 7): a NaN centre gave a NaN output, an infinite one an infinite output.
  it('rejects a centre holding NaN or ±Infinity, or that is not a Float32Array', () => {
    for (const center of [Float32Array.of(NaN, 0), Float32Array.of(0, Infinity), Float32Array.of(-Infinity, 0)]) {
      expect(() => centeredClipping(rows, { center })).toThrow('centeredClipping: center must be a finite Float32Array of length d=2, got one holding NaN or ±Infinity');
    }
    expect(() => centeredClipping(rows, { center: [0, 0] as never })).toThrow(/center must be a finite Float32Array of length d=2, got an array/);
    expect(() => centeredClipping(rows, { center: new Float64Array(2) as never })).toThrow(/center must be a finite Float32Array/);
  });

  it('accepts a centre from another realm', () => {
    const center = runInNewContext('Float32Array.of(3, 4)') as Float32Array;
    expect(Array.from(centeredClipping(rows, { center, tau: 1e6, iterations: 1 }))).toEqual(
      Array.from(centeredClipping(rows, { center: Float32Array.of(3, 4), tau: 1e6, iterations: 1 })),
    );
  });

  it('caps iterations at 100', () => {
    expect(() => centeredClipping(rows, { iterations: 101 })).toThrow(/iterations must be an integer in \[1, 100\]/);
    expect(() => centeredClipping(rows, { iterations: 1e9 })).toThrow(RobustAggError);
    expect(centeredClipping(rows, { iterations: 100 })).toHaveLength(2);
  });

  it('rejects null options and unknown keys, and reads each option once', () => {
    expect(() => centeredClipping(rows, null as never)).toThrow('centeredClipping: options must be an object, got null');
    expect(() => centeredClipping(rows, { centre: Float32Array.of(0, 0) } as never)).toThrow(/unknown option 'centre'/);
    let reads = 0;
    const options = {
      get tau() {
        reads++;
        return reads === 1 ? 1 : -1;
      },
    };
    expect(() => centeredClipping(rows, options)).not.toThrow();
    expect(reads).toBe(1);
  });

  it('stays finite and inside the clients’ range with values up to ±3.4e38', () => {
    const huge = rowsOf([[3.4e38, -3.4e38], [-3.4e38, 3.4e38], [1, 1]]);
    for (const center of [Float32Array.of(3.4e38, 3.4e38), Float32Array.of(-3.4e38, 0), undefined]) {
      const out = centeredClipping(huge, { tau: 3e38, iterations: 7, center });
      for (const v of out) {
        expect(Number.isFinite(v)).toBe(true);
        expect(Math.abs(v)).toBeLessThanOrEqual(3.4e38);
      }
    }
  });
});

describeAggregatorProperties({
  name: 'centeredClipping',
  run: (u) => centeredClipping(u, { tau: 2 }),
  minClients: 1,
  translationEquivariant: false, // the centre (0) does not move with the data
});
describeAggregatorProperties({
  name: 'centeredClipping with the centre translated too',
  run: (u) => centeredClipping(u, { tau: 2, center: u[0] }),
  minClients: 1,
  permutationInvariant: false, // the centre is the first row
});

describeOptionReading({
  name: 'centeredClipping',
  call: (u, o) => centeredClipping(u, o as never),
  updates: rowsOf([[0], [1], [2]]),
  valid: { tau: 1 },
  getter: { key: 'iterations', values: [2, 1e9] },
});
