import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DNC_MAX_ITERATIONS, dnc, dncWithDecision, type DncOptions } from '../../src/aggregators/dnc.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import {
  distanceInHonestRadii,
  expectError,
  expectFinite,
  forEachHostileCase,
  hostileCaseArb,
  onBothBackends,
} from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

describe('dnc', () => {
  it('drops the largest projections on the top singular direction (hand-computed, 1-D)', () => {
    // d = 1: the subsample is the whole vector, v = ±1, sᵢ = (xᵢ − μ)² with μ = 3.25:
    // 10.5625, 5.0625, 1.5625, 45.5625 -> f = 1 drops client 3; mean (0+1+2)/3 = 1.
    const { aggregate, decision } = dncWithDecision(rowsOf([[0], [1], [2], [10]]), { f: 1, seed: 1 });
    expect(Array.from(aggregate)).toEqual([1]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(decision.scores)).toEqual([10.5625, 5.0625, 1.5625, 45.5625].map((v) => expect.closeTo(v, 9)));
    expect(Array.from(decision.timesKept)).toEqual([5, 5, 5, 0]);
  });

  it('looks only along the dominant direction (hand-computed, 2-D)', () => {
    // Rows (0,1), (0,−1), (0,2), (0,−2), (3,0): μ = (0.6, 0); the centred scatter matrix is
    // diag(7.2, 10) (xx: 4·0.36 + 2.4² = 7.2, yy: 1+1+4+4 = 10, xy: 0), so v = (0, ±1) and
    // sᵢ = yᵢ² = 1, 1, 4, 4, 0. f = 1 drops one of the two scores 4 (an exact tie in exact
    // arithmetic, which the eigensolver's last-bit rounding breaks either way): the outlier along x
    // survives. Mean of (0,1), (0,−1), (0,±2), (3,0) = (0.75, ±0.5).
    const rows = rowsOf([
      [0, 1],
      [0, -1],
      [0, 2],
      [0, -2],
      [3, 0],
    ]);
    const { aggregate, decision } = dncWithDecision(rows, { f: 1, seed: 3 });
    const keptTwo = decision.selected.includes(2);
    expect(decision.selected).toEqual(keptTwo ? [0, 1, 2, 4] : [0, 1, 3, 4]);
    expect(Array.from(aggregate)).toEqual([0.75, keptTwo ? 0.5 : -0.5]);
    expect(Array.from(decision.scores)).toEqual([1, 1, 4, 4, 0].map((v) => expect.closeTo(v, 9)));
  });

  it('scores λ₁·uᵢ² equal the squared projections on the top right singular vector (SVD oracle)', () => {
    for (let seed = 0; seed < 10; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.nextInt(8);
      const d = 2 + rng.nextInt(6);
      const rows = gaussianRows(n, d, seed, 3, 2);
      const mean = Array.from({ length: d }, (_, k) => rows.reduce((s, r) => s + r[k], 0) / n);
      const centred = new Matrix(rows.map((r) => Array.from(r, (v, k) => v - mean[k])));
      const v = new SingularValueDecomposition(centred).rightSingularVectors.getColumn(0);
      const expected = centred.to2DArray().map((r) => r.reduce((s, x, k) => s + x * v[k], 0) ** 2);
      const { decision } = dncWithDecision(rows, { f: 0, seed, subsampleDimension: d, iterations: 1 });
      expected.forEach((s, i) => expect(decision.scores[i]).toBeCloseTo(s, 6));
    }
  });

  it('falls back to the clients kept most often when the intersection is empty', () => {
    // Each coordinate makes a different client the outlier; one random coordinate per subsample.
    const rows = rowsOf([
      [10, 0, 0],
      [0, 10, 0],
      [0, 0, 10],
    ]);
    const { aggregate, decision } = dncWithDecision(rows, { f: 1, seed: 5, iterations: 9, subsampleDimension: 1 });
    const kept = Array.from(decision.timesKept);
    const most = Math.max(...kept);
    expect(decision.selected).toEqual(kept.flatMap((t, i) => (t === most ? [i] : [])));
    expect(kept.reduce((a, b) => a + b, 0)).toBe(9 * 2); // each subsample keeps n − f = 2
    expect(Math.min(...kept)).toBeLessThan(9); // nobody survives all nine: the intersection is empty
    const expected = [0, 1, 2].map((k) => decision.selected.reduce((s, i) => s + rows[i][k], 0) / decision.selected.length);
    expected.forEach((v, k) => expect(aggregate[k]).toBeCloseTo(v, 6));
  });

  it('is seeded, validates its options and counts non-finite clients against f', () => {
    const rows = gaussianRows(8, 50, 11);
    const options = { f: 2, subsampleDimension: 5, iterations: 3 };
    expect(Array.from(dnc(rows, { ...options, seed: 9 }))).toEqual(Array.from(dnc(rows, { ...options, seed: 9 })));
    expect(() => dnc(rows, options)).toThrow(/dnc is randomized: pass \{ seed \} or \{ rng \}/);
    expect(() => dnc(rows, { ...options, seed: 1, iterations: 0 })).toThrow(/iterations must be an integer in \[1, 100\]/);
    expect(() => dnc(rows.slice(0, 2), { f: 1, filterFraction: 2, seed: 1 })).toThrow(RobustAggError);
    expect(() => dnc(rows.slice(0, 2), { f: 2, seed: 1 })).toThrow('dnc needs n ≥ f+1, got n=2, f=2');
    const poisoned = [...rows, Float32Array.from(rows[0], (v, k) => (k === 3 ? NaN : v))];
    const { decision } = dncWithDecision(poisoned, { ...options, seed: 2 });
    expect(decision.dropped).toEqual([8]);
    // f' = 1: each subsample keeps n' − ⌈c·f'⌉ = 7 of the 8 finite clients.
    expect(Array.from(decision.timesKept).reduce((a, b) => a + b, 0)).toBe(3 * 7);
    expect(decision.timesKept[8]).toBe(0);
    expect(Number.isNaN(decision.scores[8])).toBe(true);
  });

  it('caps iterations at DNC_MAX_ITERATIONS and reads options once (null, unknown keys, getters)', () => {
    const rows = gaussianRows(6, 8, 4);
    expectError(() => dnc(rows, { f: 1, seed: 1, iterations: 1e12 }), 'INVALID_OPTION', /iterations must be an integer in \[1, 100\], got 1000000000000/);
    expectError(() => dnc(rows, { f: 1, seed: 1, iterations: DNC_MAX_ITERATIONS + 1 }), 'INVALID_OPTION', /iterations/);
    expect(dnc(rows, { f: 1, seed: 1, iterations: DNC_MAX_ITERATIONS, subsampleDimension: 2 })).toHaveLength(8);
    expectError(() => dnc(rows, { seed: 1 } as unknown as DncOptions), 'INVALID_OPTION', /f must be a non-negative integer, got undefined/);
    expectError(() => dnc(rows, { f: 1, seed: 1, filterFraction: 1e308 }), 'TOO_FEW_CLIENTS', /more than ⌈c·f⌉/);
    expectError(() => dnc(rows, { f: 1, rng: 5 as unknown as DncOptions['rng'] }), 'INVALID_OPTION', /dnc/);
    expectError(() => dnc(rows, { f: 1, seed: NaN }), 'INVALID_OPTION', /seed must be a finite number/);
    // A subsample larger than d takes all d coordinates (no n·b allocation).
    expect(Array.from(dnc(rows, { f: 1, seed: 1, subsampleDimension: 2 ** 40 }))).toEqual(
      Array.from(dnc(rows, { f: 1, seed: 1, subsampleDimension: 8 })),
    );
  });

  it('removes f huge or blinding clients wherever they sit, on both kernels: the output is the honest mean', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 31, 1, 0.1);
    forEachHostileCase(honest, f, ({ rows, honestIndex, label }) => {
      const { aggregate, decision } = dncWithDecision(rows, { f, seed: 5 });
      expect(decision.selected, label).toEqual(honestIndex);
      expectFinite(aggregate);
      expectFinite(decision.scores, 'scores');
      expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(1);
    });
  });


  it('property: f colluding clients of magnitude 1e4..3.4e38, dense or strided, anywhere: all removed, both kernels', () => {
    fc.assert(
      fc.property(hostileCaseArb({ minHonest: 3, maxHonest: 8, maxF: 3, minExponent: 4, colluding: true }).filter((c) => c.honest.length > c.f), (c) => {
        onBothBackends(() => {
          const { aggregate, decision } = dncWithDecision(c.rows, { f: c.f, seed: 1, iterations: 2 });
          expectFinite(aggregate);
          expect(decision.selected.filter((i) => c.positions.includes(i))).toEqual([]);
          expect(distanceInHonestRadii(aggregate, c.honest)).toBeLessThanOrEqual(1 + 1e-3);
        });
      }),
      { numRuns: 40 },
    );
  });
  it('pins identical and zero clients: all equal gives that vector with every score 0', () => {
    const x = Float32Array.from({ length: 6 }, (_, k) => k - 2);
    const same = [x, x, x, x].map((r) => Float32Array.from(r));
    const { aggregate, decision } = dncWithDecision(same, { f: 1, seed: 2 });
    expect(Array.from(aggregate)).toEqual(Array.from(x));
    expect(Array.from(decision.scores)).toEqual([0, 0, 0, 0]);
    expect(decision.selected).toEqual([0, 1, 2]); // ties keep the lower indices
    const zeros = [0, 1, 2, 3].map(() => new Float32Array(6));
    expect(Array.from(dnc(zeros, { f: 1, seed: 2 }))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

// Randomness only picks coordinates, so a fixed seed leaves the rule permutation invariant —
// except on exact score ties, which keep the lower index: with n = 2 the two centred rows are
// ±y and always tie, hence minClients 3 here.
describeAggregatorProperties({
  name: 'dnc(f=1, b=3, seed)',
  run: (u) => dnc(u, { f: 1, subsampleDimension: 3, seed: 17 }),
  minClients: 3,
});

describeOptionReading({
  name: 'dnc',
  call: (u, o) => dnc(u, o as DncOptions),
  updates: gaussianRows(6, 8, 4),
  valid: { f: 1, seed: 3 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
