import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import { monna, monnaWithDecision, type MonnaOptions } from '../../src/aggregators/monna.js';
import { RobustAggError } from '../../src/core/errors.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import {
  distanceInHonestRadii,
  expectError,
  expectFinite,
  forEachHostileCase,
  hostileCaseArb,
  hugeRow,
  insertAt,
  onBothBackends,
} from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

const points = rowsOf([[0], [1], [2], [10], [11]]);

describe('monna', () => {
  it('averages the n − f clients nearest to a trusted vector (hand-computed)', () => {
    // t = 0, f = 2: the 3 nearest are 0, 1, 2 (distances 0, 1, 2): mean 1.
    const { aggregate, decision } = monnaWithDecision(points, { f: 2, trusted: Float32Array.of(0) });
    expect(Array.from(aggregate)).toEqual([1]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(decision.distances)).toEqual([0, 1, 2, 10, 11]);
  });

  it('takes the trusted vector from the updates with trustedIndex (ByzFL idx)', () => {
    // t = x₃ = 10, f = 2: nearest 10 (0), 11 (1), 2 (8): mean 23/3.
    const { aggregate, decision } = monnaWithDecision(points, { f: 2, trustedIndex: 3 });
    expect(aggregate[0]).toBeCloseTo(23 / 3, 6);
    expect(decision.selected).toEqual([2, 3, 4]);
  });

  it('breaks distance ties by the lower index', () => {
    // t = 5: 4 and 6 are both at distance 1; f = 1 keeps 5 and the lower index, 4: mean 4.5.
    const rows = rowsOf([[4], [6], [5]]);
    expect(Array.from(monna(rows, { f: 1, trusted: Float32Array.of(5) }))).toEqual([4.5]);
  });

  it('validates its options and drops non-finite clients', () => {
    expect(() => monna(points, { f: 1 })).toThrow('monna takes exactly one of { trusted } and { trustedIndex }');
    expect(() => monna(points, { f: 1, trustedIndex: 0, trusted: Float32Array.of(0) })).toThrow(RobustAggError);
    expect(() => monna(points, { f: 1, trustedIndex: 5 })).toThrow(/trustedIndex must be an integer in \[0, 4\]/);
    expect(() => monna(points, { f: 1, trusted: Float32Array.of(0, 0) })).toThrow(/length d=1/);
    expect(() => monna(points, { f: 3, trustedIndex: 0 })).toThrow('monna needs n ≥ 2f+1, got n=5, f=3');
    const rows = [...points, Float32Array.of(NaN)];
    expect(() => monna(rows, { f: 1, trustedIndex: 5 })).toThrow(/trusted client 5 sent NaN/);
    // One drop, f' = 0: all five finite clients, mean 24/5.
    const { aggregate, decision } = monnaWithDecision(rows, { f: 1, trustedIndex: 0 });
    expect(decision.dropped).toEqual([5]);
    expect(decision.distances[5]).toBe(Infinity);
    expect(aggregate[0]).toBeCloseTo(24 / 5, 6);
  });

  it('reads options once and rejects null, unknown keys and a trusted vector of the wrong kind', () => {
    const rows = gaussianRows(5, 3, 6);
    expectError(() => monna(rows, { f: 1, trusted: [0, 0, 0] as unknown as Float32Array }), 'INVALID_OPTION', /trusted must be a Float32Array of length d=3, got an array/);
    expectError(() => monna(rows, { f: 1, trusted: new Float32Array(2) }), 'INVALID_OPTION', /got length 2/);
    expectError(() => monna(rows, { f: 1, trustedIndex: 5 }), 'INVALID_OPTION', /trustedIndex must be an integer in \[0, 4\]/);
    // A Float32Array from another realm (vm, iframe) is a Float32Array.
    const foreign = runInNewContext('new Float32Array(3)') as Float32Array;
    expect(Array.from(monna(rows, { f: 1, trusted: foreign }))).toEqual(Array.from(monna(rows, { f: 1, trusted: new Float32Array(3) })));
  });

  it('keeps the honest clients whatever f huge or blinding clients send, wherever they sit, on both kernels', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 61, 1, 0.1);
    forEachHostileCase(honest, f, ({ rows, honestIndex, label }) => {
      const { aggregate, decision } = monnaWithDecision(rows, { f, trusted: honest[2] });
      expect(decision.selected, label).toEqual(honestIndex);
      expectFinite(decision.distances, 'distances');
      expectFinite(aggregate);
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(1);
    });
    // A huge trusted vector itself: distances stay finite, the output is a finite mean.
    const rows = insertAt(honest.slice(0, 5), hugeRow(d), [0]);
    const { aggregate, decision } = monnaWithDecision(rows, { f: 1, trustedIndex: 0 });
    expectFinite(decision.distances, 'distances');
    expectFinite(aggregate);
  });


  it('property: f hostile clients of any magnitude, dense or strided, anywhere: output within 3 honest radii of an honest t, both kernels', () => {
    // Every selected client is no farther from t than some honest one (≤ 2 radii), t is within 1.
    fc.assert(
      fc.property(hostileCaseArb({ minHonest: 3, maxHonest: 8, maxF: 3 }).filter((c) => c.honest.length >= c.f + 1), (c) => {
        onBothBackends(() => {
          const out = monna(c.rows, { f: c.f, trusted: c.honest[0] });
          expectFinite(out);
          expect(distanceInHonestRadii(out, c.honest)).toBeLessThanOrEqual(3 + 1e-3);
        });
      }),
      { numRuns: 40 },
    );
  });
  it('pins duplicates and zero clients: equal distances keep the lower indices', () => {
    const zeros = [0, 1, 2, 3].map(() => new Float32Array(2));
    expect(monnaWithDecision(zeros, { f: 1, trusted: Float32Array.of(1, 1) }).decision.selected).toEqual([0, 1, 2]);
  });
});

describeAggregatorProperties({
  name: 'monna(f=1, trusted = 0)',
  run: (u) => monna(u, { f: 1, trusted: new Float32Array(u[0].length) }),
  minClients: 3,
  translationEquivariant: false, // the trusted vector does not move with the clients
});
describeAggregatorProperties({
  name: 'monna(f=1, trustedIndex = 0)',
  run: (u) => monna(u, { f: 1, trustedIndex: 0 }),
  minClients: 3,
  permutationInvariant: false, // the trusted client is named by its position
});

describeOptionReading({
  name: 'monna',
  call: (u, o) => monna(u, o as MonnaOptions),
  updates: gaussianRows(5, 3, 2),
  valid: { f: 1, trustedIndex: 0 },
  getter: { key: 'trustedIndex', values: [0, 99] },
  required: true,
});
