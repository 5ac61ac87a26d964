// The gaussian attack's two centres (issue 21): the honest mean (the Byrd-SAGA seed notebook's
// "white" attack, the default) and a fixed value in every coordinate (ByzFL's Gaussian(mu, sigma),
// which ignores the honest vectors).
import { describe, expect, it } from 'vitest';
import { gaussian } from '../../src/attacks/gaussian.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows } from '../helpers/data.js';
import { expectError } from '../helpers/hostile.js';

describe('gaussian: centre', () => {
  const honest = gaussianRows(5, 40, 2, 3, 0.5);

  it("centres on the honest mean by default ('honest-mean'): b = μ + σξ, ξ drawn in row-major order", () => {
    const byz = gaussian(honest, { f: 2, sigma: 0.5, seed: 11 });
    expect(byz.map((r) => Array.from(r))).toEqual(gaussian(honest, { f: 2, sigma: 0.5, seed: 11, centre: 'honest-mean' }).map((r) => Array.from(r)));
    const rng = createRng(11);
    const mu = Array.from({ length: 40 }, (_, k) => honest.reduce((s, x) => s + x[k], 0) / honest.length);
    for (const row of byz) for (let k = 0; k < 40; k++) expect(row[k]).toBeCloseTo(Math.fround(mu[k] + 0.5 * rng.gaussian()), 5);
  });

  it('with a number c draws N(c, σ²) in every coordinate, whatever the honest vectors (ByzFL)', () => {
    const rng = createRng(5);
    const byz = gaussian(honest, { f: 3, centre: 0, sigma: 1, seed: 5 });
    for (const row of byz) for (let k = 0; k < 40; k++) expect(row[k]).toBe(Math.fround(0 + 1 * rng.gaussian()));
    // Other honest vectors of the same shape: the same draws.
    const other = gaussianRows(7, 40, 9, -100, 20);
    expect(gaussian(other, { f: 3, centre: 0, sigma: 1, seed: 5 }).map((r) => Array.from(r))).toEqual(byz.map((r) => Array.from(r)));
    // A shifted centre shifts every value: mean of 1e5 draws of N(−2, 0.3²) within 0.01 of −2.
    const wide = [new Float32Array(100000)];
    const [b] = gaussian(wide, { f: 1, centre: -2, sigma: 0.3, seed: 1 });
    const m = b.reduce((s, v) => s + v, 0) / b.length;
    expect(Math.abs(m + 2)).toBeLessThan(0.01);
  });

  it('checks the centre, and that centre + 8.6σ stays inside float32', () => {
    expectError(() => gaussian(honest, { f: 1, seed: 1, centre: 'mean' as never }), 'INVALID_OPTION', /centre must be 'honest-mean' or a finite number, got "mean"/);
    expectError(() => gaussian(honest, { f: 1, seed: 1, centre: NaN }), 'INVALID_OPTION', /centre/);
    expectError(() => gaussian(honest, { f: 1, seed: 1, centre: Infinity }), 'INVALID_OPTION', /centre/);
    expectError(() => gaussian(honest, { f: 1, seed: 1, centre: 3e38, sigma: 1e37 }), 'INVALID_OPTION', /sigma = 1e\+37 .*centre 3e\+38 allows sigma ≤/);
    expect(gaussian(honest, { f: 1, seed: 1, centre: -3e38, sigma: 1e36 })[0].every(Number.isFinite)).toBe(true);
  });
});
