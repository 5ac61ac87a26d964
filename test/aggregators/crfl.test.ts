import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crfl, crflCertifiedRadius, crflWithDecision, type CrflCertificateOptions, type CrflOptions } from '../../src/aggregators/crfl.js';
import { createRng } from '../../src/core/random.js';
import { rowsOf } from '../helpers/data.js';
import { expectError, expectFinite, hostileCaseArb } from '../helpers/hostile.js';

const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0));

describe('crfl', () => {
  it('clips the new model to ρ and adds nothing when σ = 0 (hand-computed)', () => {
    // Full models (no global): mean (3, 4), norm 5, clipped to 1: (0.6, 0.8).
    const { aggregate, decision } = crflWithDecision(rowsOf([[2, 4], [4, 4]]), { clipNorm: 1, sigma: 0 });
    expect(Array.from(aggregate)).toEqual([0.6, 0.8].map(Math.fround));
    expect(decision.normBefore).toBe(5);
    expect(decision.clipFactor).toBe(0.2);
    expect(Array.from(decision.weights)).toEqual([0.5, 0.5]);
    // With a global model: (1, 1) + mean (0.5, −0.5) = (1.5, 0.5), norm 1.58 ≤ 2: unchanged.
    const global = Float32Array.of(1, 1);
    expect(Array.from(crfl(rowsOf([[1, 0], [0, -1]]), { global, clipNorm: 2, sigma: 0 }))).toEqual([1.5, 0.5]);
    // Weights 1 and 3: (1, 1) + 0.25·(4, 0) + 0.75·(0, −4) = (2, −2), norm 2√2 > 2: factor 1/√2.
    const w = crflWithDecision(rowsOf([[4, 0], [0, -4]]), { global, clipNorm: 2, sigma: 0, weights: [1, 3] });
    expect(Array.from(w.decision.weights)).toEqual([0.25, 0.75]);
    expect(Array.from(w.decision.clientWeights ?? [])).toEqual([0.25, 0.75]);
    expect(decision.clientWeights).toBeUndefined();
    expect(w.decision.clipFactor).toBeCloseTo(Math.SQRT1_2, 15);
    expect(Array.from(w.aggregate)).toEqual([Math.SQRT2, -Math.SQRT2].map(Math.fround));
  });

  it('adds N(0, σ²) from a seeded generator: same seed, same bits; refuses to run unseeded', () => {
    const d = 20000;
    const rows = [new Float32Array(d), new Float32Array(d)];
    const a = crfl(rows, { clipNorm: 1, sigma: 0.5, seed: 9 });
    const b = crfl(rows, { clipNorm: 1, sigma: 0.5, seed: 9 });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(crfl(rows, { clipNorm: 1, sigma: 0.5, seed: 10 }))).not.toEqual(Array.from(a));
    const rms = norm(a) / Math.sqrt(d);
    expect(rms).toBeGreaterThan(0.49);
    expect(rms).toBeLessThan(0.51);
    expect(Array.from(crfl(rows, { clipNorm: 1, sigma: 0.5, rng: createRng(9) }))).toEqual(Array.from(a));
    expectError(() => crfl(rows, { clipNorm: 1, sigma: 0.5 }), 'INVALID_OPTION', /crfl is randomized: pass \{ seed \} or \{ rng \}/);
  });

  it('checks its options and drops non-finite clients with their weight', () => {
    const rows = rowsOf([[1, 2], [3, 4]]);
    expectError(() => crfl(rows, { clipNorm: 0, sigma: 0 }), 'INVALID_OPTION', /clipNorm must be a finite number in \(0, 1e\+30\]/);
    expectError(() => crfl(rows, { clipNorm: 1e31, sigma: 0 }), 'INVALID_OPTION', /clipNorm/);
    expectError(() => crfl(rows, { clipNorm: 1, sigma: -1 }), 'INVALID_OPTION', /sigma/);
    expectError(() => crfl(rows, { clipNorm: 1 } as CrflOptions), 'INVALID_OPTION', /sigma/);
    expectError(() => crfl(rows, { clipNorm: 1, sigma: 0, global: new Float32Array(3) }), 'INVALID_OPTION', /global must be a finite Float32Array of length d=2/);
    expectError(() => crfl(rows, { clipNorm: 1, sigma: 0, weights: [1] }), 'INVALID_OPTION', /weights/);
    expectError(() => crfl(rows, { clipNorm: 1, sigma: 0, noise: 1 } as unknown as CrflOptions), 'UNKNOWN_OPTION', /unknown option 'noise'/);
    const { aggregate, decision } = crflWithDecision([...rows, Float32Array.of(Infinity, 0)], { clipNorm: 100, sigma: 0, weights: [1, 1, 5] });
    expect(decision.dropped).toEqual([2]);
    expect(Array.from(decision.weights)).toEqual([0.5, 0.5, 0]);
    expect(Array.from(aggregate)).toEqual([2, 3]);
  });

  it('property: any finite clients, anywhere: ‖model‖ ≤ ρ without noise, finite with noise; inputs unchanged', () => {
    fc.assert(
      fc.property(
        hostileCaseArb({ minHonest: 1, maxHonest: 8, maxF: 4 }),
        fc.double({ min: 1e-3, max: 1e30, noNaN: true }),
        fc.double({ min: 0, max: 1e30, noNaN: true }),
        fc.integer(),
        (c, clipNorm, sigma, seed) => {
          const before = c.rows.map((r) => Float32Array.from(r));
          const clean = crfl(c.rows, { clipNorm, sigma: 0 });
          expectFinite(clean);
          expect(norm(clean)).toBeLessThanOrEqual(clipNorm * (1 + 1e-6));
          const noisy = crfl(c.rows, { clipNorm, sigma, seed, global: c.honest[0] });
          expectFinite(noisy);
          c.rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('crflCertifiedRadius', () => {
  const base: CrflCertificateOptions = {
    pA: 0.9,
    pB: 0.05,
    sigma: 0.01,
    rounds: Array.from({ length: 90 }, (_, i) => ({ clipNorm: 0.1 * (11 + i) + 2, sigma: 0.01 })),
    attackerWeights: [1 / 20],
    localIterations: 60000 / 20 / 64,
    lipschitz: Math.sqrt(17),
    scaleFactor: 10,
    learningRate: 0.01,
    poisonedFraction: 5 / 64,
  };

  it('matches the formula evaluated independently (Python math.erf, math.log)', () => {
    // Reference values from Python 3: sqrt(-log(1-(sqrt(pA)-sqrt(pB))**2)*sigma**2 /
    // (2*R*tau**2*lz**2*sum(p**2)*g**2*eta**2*q**2*prod(erf(rho/s/sqrt(2))))).
    expect(crflCertifiedRadius(base)).toBeCloseTo(0.0808958088287818, 14);
    // A contraction far from 1 (erf(0.001/√2) ≈ 8e-4): the series keeps its relative accuracy.
    const small = crflCertifiedRadius({
      pA: 0.7, pB: 0.2, sigma: 0.5, rounds: [{ clipNorm: 0.001, sigma: 1 }, { clipNorm: 2, sigma: 1 }, { clipNorm: 4, sigma: 3 }],
      attackerWeights: [0.1, 0.2], localIterations: 10, lipschitz: 2, scaleFactor: 5, learningRate: 0.1, poisonedFraction: 0.5,
    });
    expect(small / 3.6343288364881037 - 1).toBeLessThan(1e-12);
    expect(3.6343288364881037 / small - 1).toBeLessThan(1e-12);
    // ρ/σ = 100: erf through the continued fraction (= 1 to double precision).
    const one = crflCertifiedRadius({
      pA: 0.6, pB: 0.4, sigma: 1, rounds: [{ clipNorm: 50, sigma: 0.5 }], attackerWeights: [1],
      localIterations: 1, lipschitz: 1, scaleFactor: 1, learningRate: 1, poisonedFraction: 1,
    });
    expect(one).toBeCloseTo(0.10102226799109097, 15);
  });

  it('grows with the gap between pA and pB and shrinks with more attackers', () => {
    expect(crflCertifiedRadius({ ...base, pA: 0.95 })).toBeGreaterThan(crflCertifiedRadius(base));
    expect(crflCertifiedRadius({ ...base, attackerWeights: [1 / 20, 1 / 20] })).toBeLessThan(crflCertifiedRadius(base));
  });

  it('checks its options', () => {
    expectError(() => crflCertifiedRadius({ ...base, pA: 1 }), 'INVALID_OPTION', /pA must be a finite number in \(0, 1\)/);
    expectError(() => crflCertifiedRadius({ ...base, pB: 0.95 }), 'INVALID_OPTION', /pB must be below pA/);
    expectError(() => crflCertifiedRadius({ ...base, attackerWeights: [] }), 'INVALID_OPTION', /attackerWeights must be an array of 1 to/);
    expectError(() => crflCertifiedRadius({ ...base, attackerWeights: [0] }), 'INVALID_OPTION', /attackerWeights\[0\] must be a finite number > 0/);
    expectError(() => crflCertifiedRadius({ ...base, rounds: [] }), 'INVALID_OPTION', /rounds must be an array/);
    expectError(() => crflCertifiedRadius({ ...base, rounds: [{ clipNorm: 1, sigma: 0 }] }), 'INVALID_OPTION', /rounds\[0\]\.sigma/);
    expectError(() => crflCertifiedRadius({ ...base, poisonedFraction: 2 }), 'INVALID_OPTION', /poisonedFraction must be in \(0, 1\]/);
    expectError(() => crflCertifiedRadius({ ...base, lr: 1 } as unknown as CrflCertificateOptions), 'UNKNOWN_OPTION', /unknown option 'lr'/);
    // A denominator that underflows to 0 (a contraction of 1e-320) would give an infinite radius.
    expectError(
      () => crflCertifiedRadius({ ...base, rounds: Array.from({ length: 60 }, () => ({ clipNorm: 1e-6, sigma: 1 })) }),
      'UNSUPPORTED',
      /radius overflows/,
    );
  });
});
