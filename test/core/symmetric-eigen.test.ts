// The symmetric eigensolver of the core against ml-matrix (a devDependency oracle) and against
// its defining identities A v = λ v, VᵀV = I.
import fc from 'fast-check';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../../src/core/symmetric-eigen.js';

function symmetric(n: number, values: number[]): Float64Array {
  const a = new Float64Array(n * n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      a[i * n + j] = values[t % values.length];
      a[j * n + i] = values[t % values.length];
      t++;
    }
  }
  return a;
}

function scaleOf(a: Float64Array): number {
  let s = 0;
  for (const v of a) s = Math.max(s, Math.abs(v));
  return s;
}

function expectDecomposes(a: Float64Array, n: number): void {
  const { values, vectors } = symmetricEigen(a, n);
  const tol = 1e-11 * n * scaleOf(a) + 1e-300;
  for (let k = 1; k < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
      expect(Math.abs(av - values[k] * vectors[i * n + k])).toBeLessThanOrEqual(tol);
    }
    for (let l = 0; l < n; l++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
      expect(Math.abs(dot - (k === l ? 1 : 0))).toBeLessThanOrEqual(1e-12 * n);
    }
  }
}

describe('symmetricEigen', () => {
  it('a hand-computed 2×2 case: [[2, 1], [1, 2]] has eigenvalues 1 and 3', () => {
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(vectors[0 * 2 + 1])).toBeCloseTo(Math.SQRT1_2, 14); // (1, 1)/√2 for λ = 3
  });

  it('n = 1 and diagonal matrices', () => {
    expect(Array.from(symmetricEigen(Float64Array.of(-4), 1).values)).toEqual([-4]);
    const { values } = symmetricEigen(Float64Array.of(3, 0, 0, 0, -1, 0, 0, 0, 2), 3);
    expect(Array.from(values)).toEqual([-1, 2, 3]);
  });

  it('equals ml-matrix on random symmetric matrices (values; vectors up to sign)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (n, vals) => {
          const a = symmetric(n, vals);
          const ours = symmetricEigen(a, n);
          const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)));
          const ref = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
          const refValues = [...ref.realEigenvalues].sort((x, y) => x - y);
          const tol = 1e-10 * n * Math.max(1, scaleOf(a));
          for (let k = 0; k < n; k++) expect(Math.abs(ours.values[k] - refValues[k])).toBeLessThanOrEqual(tol);
          expectDecomposes(a, n);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('repeated eigenvalues, rank-deficient Gram matrices and huge or tiny scales', () => {
    const n = 30;
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 7;
    expectDecomposes(eye, n);
    // A rank-2 Gram matrix of 30 points in the plane, scaled by 1e120 and 1e-120.
    for (const scale of [1, 1e120, 1e-120]) {
      const g = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) g[i * n + j] = scale * (Math.cos(i) * Math.cos(j) + 0.5 * Math.sin(i) * Math.sin(j));
      }
      expectDecomposes(g, n);
      const { values } = symmetricEigen(g, n);
      expect(values[n - 3] / values[n - 1]).toBeLessThan(1e-12); // only two non-zero eigenvalues
    }
  });

  it('entries near the ends of float64 (1e300, subnormal) neither overflow nor underflow', () => {
    expectDecomposes(symmetric(6, [1e300, -3e299, 2e300, 7e299]), 6);
    expectDecomposes(symmetric(6, [5e-324, 1e-320, -3e-322]), 6);
  });

  it('a large case (n = 200) decomposes', () => {
    const vals = Array.from({ length: 997 }, (_, k) => Math.sin(k * 1.7) * 10);
    expectDecomposes(symmetric(200, vals), 200);
  });

  it('rejects non-finite entries', () => {
    expect(() => symmetricEigen(Float64Array.of(1, NaN, NaN, 1), 2)).toThrow(/not finite/);
  });
});
