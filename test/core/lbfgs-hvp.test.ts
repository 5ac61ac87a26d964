// The compact L-BFGS Hessian-vector product FLDetector uses (src/core/lbfgs-hvp.ts), against hand
// computations and against the BFGS recursion written out with dense matrices.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lbfgsHvp } from '../../src/core/lbfgs-hvp.js';
import { createRng } from '../../src/core/random.js';

const matVec = (h: number[][], v: ArrayLike<number>) => h.map((row) => row.reduce((s, x, k) => s + x * v[k], 0));

/** B₀ = σI (σ from the newest pair), then one BFGS update per pair, oldest first, dense. */
function denseBfgs(s: number[][], y: number[][]): number[][] {
  const d = s[0].length;
  const m = s.length;
  const dot = (a: number[], b: number[]) => a.reduce((t, x, k) => t + x * b[k], 0);
  const sigma = dot(y[m - 1], s[m - 1]) / dot(s[m - 1], s[m - 1]);
  let b = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? sigma : 0)));
  for (let j = 0; j < m; j++) {
    const bs = matVec(b, s[j]);
    const sbs = dot(s[j], bs);
    const ys = dot(y[j], s[j]);
    b = b.map((row, r) => row.map((x, c) => x - (bs[r] * bs[c]) / sbs + (y[j][r] * y[j][c]) / ys));
  }
  return b;
}

describe('lbfgsHvp', () => {
  it('equals H·v on a quadratic whose pairs are H’s eigenvectors (hand-computed, H = diag(2, 5))', () => {
    // s₁ = e₁, y₁ = H s₁ = (2, 0); s₂ = e₂, y₂ = (0, 5). σ = y₂ᵀs₂/s₂ᵀs₂ = 5; SᵀS = I, SᵀY = diag(2, 5),
    // L = 0, D = diag(2, 5); M = [[5I, 0], [0, −D]]; p = [5v; 2v₁, 5v₂]; M⁻¹p = [v; −v];
    // Bv = 5v − 5(v₁e₁ + v₂e₂) + (v₁y₁ + v₂y₂) = (2v₁, 5v₂) = Hv.
    const out = lbfgsHvp([[1, 0], [0, 1]], [[2, 0], [0, 5]], [3, -7]);
    expect(Array.from(out!)).toEqual([6, -35]);
  });

  it('equals c·v when H = cI (σ = c and every correction term vanishes)', () => {
    const s = [[1, 2, 3], [0, 1, -1]];
    const y = s.map((x) => x.map((t) => 4 * t));
    const out = lbfgsHvp(s, y, [1, -2, 0.5])!;
    [4, -8, 2].forEach((v, k) => expect(out[k]).toBeCloseTo(v, 12));
  });

  it('equals H·v for any v when d pairs are H-conjugate (BFGS is exact on a quadratic then)', () => {
    // H = [[4, 1], [1, 3]]; s₁ = (1, 0), s₂ ⟂_H s₁: s₁ᵀH s₂ = 4a + b = 0 → s₂ = (1, −4).
    const h = [[4, 1], [1, 3]];
    const s = [[1, 0], [1, -4]];
    const y = s.map((x) => matVec(h, x));
    for (const v of [[1, 0], [0, 1], [2.5, -1]]) {
      const out = lbfgsHvp(s, y, v)!;
      matVec(h, v).forEach((e, k) => expect(out[k]).toBeCloseTo(e, 10));
    }
  });

  it('equals the dense BFGS recursion from σI, satisfies the newest secant condition and is odd in y', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (d, m0, seed) => {
        const rng = createRng(seed);
        const m = Math.min(m0, d);
        // A random SPD H = AᵀA + I and random pairs y = H s.
        const a = Array.from({ length: d }, () => Array.from({ length: d }, () => rng.gaussian()));
        const h = a.map((_, i) => a.map((_, j) => a.reduce((t, row) => t + row[i] * row[j], 0) + (i === j ? 1 : 0)));
        const s = Array.from({ length: m }, () => Array.from({ length: d }, () => rng.gaussian()));
        const y = s.map((x) => matVec(h, x));
        const v = Array.from({ length: d }, () => rng.gaussian());
        const out = lbfgsHvp(s, y, v);
        expect(out).not.toBeNull();
        const expected = matVec(denseBfgs(s, y), v);
        const scale = Math.max(1, ...expected.map(Math.abs));
        expected.forEach((e, k) => expect(Math.abs(out![k] - e)).toBeLessThan(1e-6 * scale));
        const secant = lbfgsHvp(s, y, s[m - 1])!;
        y[m - 1].forEach((e, k) => expect(Math.abs(secant[k] - e)).toBeLessThan(1e-6 * Math.max(1, ...y[m - 1].map(Math.abs))));
        const negated = lbfgsHvp(s, y.map((x) => x.map((t) => -t)), v)!;
        out!.forEach((e, k) => expect(Math.abs(negated[k] + e)).toBeLessThan(1e-9 * scale));
      }),
      { numRuns: 60 },
    );
  });

  it('returns null when the product is undefined: no pairs, a zero newest s, zero curvature', () => {
    expect(lbfgsHvp([], [], [1, 2])).toBeNull();
    expect(lbfgsHvp([[0, 0]], [[1, 1]], [1, 2])).toBeNull();
    expect(lbfgsHvp([[1, 0]], [[0, 1]], [1, 2])).toBeNull(); // sᵀy = 0: σ = 0
    // A repeated pair is harmless: M stays invertible and the product is the secant's 2v.
    expect(Array.from(lbfgsHvp([[1, 1], [1, 1]], [[2, 2], [2, 2]], [1, 2])!)).toEqual([2, 4]);
  });

  it('stays finite (or null) for float32-extreme pairs', () => {
    const big = 3.4e38;
    const out = lbfgsHvp([[big, 0], [0, big]], [[big, 0], [0, -big]], [big, big]);
    if (out !== null) expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });
});
