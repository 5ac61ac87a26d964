import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lasa, lasaWithDecision, type LasaOptions } from '../../src/aggregators/lasa.js';
import { createLayout } from '../../src/core/layout.js';
import { rowsOf } from '../helpers/data.js';
import { expectError, expectFinite, hostileCaseArb } from '../helpers/hostile.js';

const f32 = (xs: number[]) => xs.map(Math.fround);
const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0));

describe('lasa', () => {
  it('drops a client whose layer norm z-score is ≥ λₙ (hand-computed)', () => {
    // Norms 5, 5, 5, 0.5: median 5 (nothing clipped); mean 3.875, population std
    // √((3·1.125² + 3.375²)/4) = 1.9486; client 3: |0.5 − 5| / 1.9486 = 2.31 ≥ 2. Purities all 1.
    const rows = rowsOf([[3, 4], [4, 3], [0, 5], [0.3, 0.4]]);
    const { aggregate, decision } = lasaWithDecision(rows, { sparsity: 0 });
    expect(decision.clipNorm).toBe(5);
    expect(decision.layers).toEqual([{ name: 'all', selected: [0, 1, 2], fallback: false }]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(aggregate)).toEqual(f32([7 / 3, 4]));
    // With λₙ = 2.5 client 3 passes: (3 + 4 + 0 + 0.3)/4, (4 + 3 + 5 + 0.4)/4.
    expect(Array.from(lasa(rows, { sparsity: 0, lambdaNorm: 2.5 }))).toEqual(f32([7.3 / 4, 12.4 / 4]));
  });

  it('drops a client whose sign purity z-score is ≥ λₛ, per layer (a bias layer stays dense)', () => {
    // Kernel (4 values, sparsified) and bias (2 values, dense). Client 3 flips its kernel signs:
    // kernel purities 1, 1, 1, 0: median 1, std √(3/16) = 0.433, z = 2.31 ≥ 1. Its bias is honest.
    const layout = createLayout([
      { name: 'k', shape: [4], kind: 'kernel' },
      { name: 'b', shape: [2], kind: 'bias' },
    ]);
    const rows = rowsOf([
      [1, 2, 3, 4, 0.01, 1],
      [1, 2, 3, 4, 0.01, 1],
      [1, 2, 3, 4, 0.01, 1],
      [-1, -2, -3, -4, 0.01, 1],
    ]);
    const { aggregate, decision } = lasaWithDecision(rows, { layout, sparsity: 0.5 });
    expect(decision.layers.map((l) => l.selected)).toEqual([[0, 1, 2], [0, 1, 2, 3]]);
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    // Equal norms, nothing clipped. Kernel: top-2 magnitudes (3, 4) kept; bias: dense, 0.01 kept.
    expect(Array.from(aggregate)).toEqual(f32([0, 0, 3, 4, 0.01, 1]));
  });

  it('top-k keeps the k largest magnitudes with their ties, never zeros', () => {
    // k = ⌊0.5 · 4⌋ = 2. (4, −3, 2, 1) keeps 4 and −3; (2, 2, 2, 1) keeps the three 2s.
    const a = Float32Array.of(4, -3, 2, 1);
    expect(Array.from(lasa([a, a, a], { sparsity: 0.5 }))).toEqual([4, -3, 0, 0]);
    const b = Float32Array.of(2, 2, 2, 1);
    expect(Array.from(lasa([b, b, b], { sparsity: 0.5 }))).toEqual([2, 2, 2, 0]);
    // (0, 0, 0, 5): fewer non-zeros than k: only 5.
    const c = Float32Array.of(0, 0, 0, 5);
    expect(Array.from(lasa([c, c], { sparsity: 0.25 }))).toEqual([0, 0, 0, 5]);
    // s = 0.9 of 4 coordinates: k = 0, everything sparsified away.
    expect(Array.from(lasa([a, a], { sparsity: 0.9 }))).toEqual([0, 0, 0, 0]);
  });

  it('clips every client to the median norm (mean of the two middle values for even n)', () => {
    // Norms 1, 1.1, 1.2, 1.3, 3: median 1.2; clipped norms 1, 1.1, 1.2, 1.2, 1.2.
    // 'std': mean 1.14, std 0.08; z(1) = 2.5 ≥ 2, z(1.1) = 1.25: clients 1–4, mean 1.175.
    // 'mad': deviations 0.2, 0.1, 0, 0, 0, MAD 0: both 1 and 1.1 are dropped, mean 1.2.
    const rows = rowsOf([[1, 0], [1.1, 0], [1.2, 0], [1.3, 0], [3, 0]]);
    const std = lasaWithDecision(rows, { sparsity: 0 });
    expect(std.decision.clipNorm).toBeCloseTo(1.2, 6);
    expect(std.decision.layers[0].selected).toEqual([1, 2, 3, 4]);
    expect(std.aggregate[0]).toBeCloseTo(1.175, 6);
    const mad = lasaWithDecision(rows, { sparsity: 0, zScore: 'mad' });
    expect(mad.decision.layers[0].selected).toEqual([2, 3, 4]);
    expect(mad.aggregate[0]).toBeCloseTo(1.2, 6);
    // Even n: norms √2 and 2√2, M = 1.5√2. Purities 1 and 0: z = 1 each, not < λₛ = 1, so no
    // client passes and the layer falls back to all: mean of (1, 1) and (−1.5, −1.5).
    const two = lasaWithDecision(rowsOf([[1, 1], [-2, -2]]), { sparsity: 0 });
    expect(two.decision.clipNorm).toBeCloseTo(1.5 * Math.SQRT2, 12);
    expect(two.decision.layers[0]).toEqual({ name: 'all', selected: [0, 1], fallback: true });
    expect(Array.from(two.aggregate)).toEqual(f32([-0.25, -0.25]));
  });

  it('checks its options, reads them once, and drops non-finite clients', () => {
    const rows = rowsOf([[1, 2], [2, 1], [1, 1]]);
    expectError(() => lasa(rows, { sparsity: 1 }), 'INVALID_OPTION', /sparsity must be a finite number in \[0, 1\)/);
    expectError(() => lasa(rows, { sparsity: -0.1 }), 'INVALID_OPTION', /sparsity/);
    expectError(() => lasa(rows, { lambdaNorm: 0 }), 'INVALID_OPTION', /lambdaNorm/);
    expectError(() => lasa(rows, { lambdaSign: Infinity }), 'INVALID_OPTION', /lambdaSign/);
    expectError(() => lasa(rows, { zScore: 'iqr' as never }), 'INVALID_OPTION', /zScore must be 'std' or 'mad'/);
    expectError(() => lasa(rows, { layout: createLayout([{ name: 'k', shape: [3] }]) }), 'INVALID_OPTION', /layout covers 3 values, the updates have d=2/);
    expectError(() => lasa(rows, null as unknown as LasaOptions), 'INVALID_OPTION', /options must be an object/);
    expectError(() => lasa(rows, { sparsty: 0.1 } as unknown as LasaOptions), 'UNKNOWN_OPTION', /unknown option 'sparsty'/);
    let reads = 0;
    const tricky = {
      get sparsity() {
        reads++;
        return reads === 1 ? 0.5 : 7;
      },
    } as LasaOptions;
    expect(() => lasa(rows, tricky)).not.toThrow();
    expect(reads).toBe(1);
    const withBad = [...rows, Float32Array.of(NaN, 1)];
    const { decision, aggregate } = lasaWithDecision(withBad, { sparsity: 0 });
    expect(decision.dropped).toEqual([3]);
    expectFinite(aggregate);
    expectError(() => lasa(withBad, { nonFinite: 'throw' }), 'NON_FINITE_UPDATE', /client 3/);
  });

  it('property: any finite hostile clients, anywhere: each output layer has norm ≤ M ≤ the largest honest norm (attackers < n/2), inputs unchanged', () => {
    fc.assert(
      fc.property(
        hostileCaseArb({ minHonest: 3, maxHonest: 9, maxF: 4 }).filter((c) => c.f < c.honest.length),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.constantFrom('std' as const, 'mad' as const),
        (c, layers, sparsity, zScore) => {
          const d = c.rows[0].length;
          const sizes = Array.from({ length: layers }, (_, l) => Math.floor(((l + 1) * d) / layers) - Math.floor((l * d) / layers));
          const layout = createLayout(sizes.map((s, l) => ({ name: `l${l}`, shape: [s], kind: l % 2 === 1 ? ('bias' as const) : ('kernel' as const) })));
          const before = c.rows.map((r) => Float32Array.from(r));
          const { aggregate, decision } = lasaWithDecision(c.rows, { layout, sparsity, zScore });
          c.rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
          expectFinite(aggregate);
          const maxHonest = Math.max(...c.honest.map(norm));
          expect(decision.clipNorm).toBeLessThanOrEqual(maxHonest * (1 + 1e-12));
          for (const seg of layout) {
            const part = aggregate.subarray(seg.offset, seg.offset + seg.size);
            expect(norm(part)).toBeLessThanOrEqual(decision.clipNorm * (1 + 1e-6) + 1e-30);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
