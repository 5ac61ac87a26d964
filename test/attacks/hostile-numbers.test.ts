/**
 * Issue 14, items 8, 10 and 13 for the attacks: finite honest vectors of any float32 magnitude
 * (up to ±3.4e38, subnormals, ±0) give finite Byzantine vectors or a RobustAggError that names the
 * option out of range — never ±Infinity/NaN, never another error type; caller-set counts are
 * capped before anything is allocated; options are read once, null options and unknown keys are
 * RobustAggErrors; a wrong rng or seed is a RobustAggError, not a TypeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adaptive,
  adaptiveSearch,
  alie,
  epsilonReverse,
  fang,
  fangLambda,
  gaussian,
  ipm,
  labelFlip,
  maxValue,
  mimic,
  minMax,
  minMaxGamma,
  minSum,
  modelReplacement,
  noise,
  nonFinite,
  optimal,
  optimalSearch,
  reverse,
  signFlip,
  stampTrigger,
  zeroGradient,
} from '../../src/attacks/index.js';
import { fangLambdaBound } from '../../src/attacks/fang.js';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { mean } from '../../src/aggregators/mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/random.js';
import { cloneRows, gaussianRows, rowsOf } from '../helpers/data.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** Runs `fn`; returns its value, or the RobustAggError it threw. Any other throw fails the test. */
function outcome<T>(fn: () => T): T | RobustAggError {
  try {
    return fn();
  } catch (e) {
    expect(e, `threw ${String(e)}`).toBeInstanceOf(RobustAggError);
    return e as RobustAggError;
  }
}

function expectFiniteRows(rows: readonly Float32Array[], f: number, d: number): void {
  expect(rows).toHaveLength(f);
  for (const v of rows) {
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(d);
    for (let k = 0; k < d; k++) expect(Number.isFinite(v[k]), `value ${v[k]} at ${k}`).toBe(true);
  }
}

function codeOf(fn: () => unknown): string {
  const r = outcome(fn);
  if (!(r instanceof RobustAggError)) throw new Error('expected a RobustAggError, got a result');
  return r.code;
}

// Honest values: any finite float32 (fast-check's float() covers ±0, subnormals and ±3.4e38), the
// extremes themselves, and ordinary small numbers.
const value = fc.oneof(
  { weight: 3, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.constantFrom(FLOAT32_MAX, -FLOAT32_MAX, 3e38, -3e38, 1e38, 1.4e-45, -1.4e-45, 0, -0) },
  { weight: 2, arbitrary: fc.integer({ min: -100, max: 100 }).map((x) => x / 10) },
);

const hostileArb = fc
  .record({ h: fc.integer({ min: 5, max: 8 }), d: fc.integer({ min: 1, max: 5 }), f: fc.integer({ min: 1, max: 2 }) })
  .chain(({ h, d, f }) =>
    fc.record({
      rows: fc.array(fc.array(value, { minLength: d, maxLength: d }), { minLength: h, maxLength: h }).map(rowsOf),
      f: fc.constant(f),
    }),
  );

type Craft = (h: Float32Array[], f: number) => Float32Array[];
const crafts: Record<string, Craft> = {
  signFlip: (h, f) => signFlip(h, { f }),
  'signFlip scale −1e30': (h, f) => signFlip(h, { f, scale: -1e30 }),
  maxValue: (h, f) => maxValue(h, { f }),
  zeroGradient: (h, f) => zeroGradient(h, { f }),
  ipm: (h, f) => ipm(h, { f }),
  'ipm ε = 100': (h, f) => ipm(h, { f, epsilon: 100 }),
  alie: (h, f) => alie(h, { f }),
  'alie z = 50': (h, f) => alie(h, { f, z: 50 }),
  minMax: (h, f) => minMax(h, { f }),
  'minMax exact sign': (h, f) => minMax(h, { f, search: 'exact', direction: 'sign' }),
  'minMax exact unit': (h, f) => minMax(h, { f, search: 'exact', direction: 'unit' }),
  minSum: (h, f) => minSum(h, { f }),
  'minSum exact sign': (h, f) => minSum(h, { f, search: 'exact', direction: 'sign' }),
  mimic: (h, f) => mimic(h, { f, index: 1 }),
  reverse: (h, f) => reverse(h, { f }),
  'epsilonReverse ε = 3': (h, f) => epsilonReverse(h, { f, epsilon: 3 }),
  gaussian: (h, f) => gaussian(h, { f, seed: 1 }),
  'gaussian σ = 1e37': (h, f) => gaussian(h, { f, seed: 1, sigma: 1e37 }),
  noise: (h, f) => noise(h, { f, seed: 2 }),
  fangKrum: (h, f) => fang(h, { f }),
  fangMedian: (h, f) => fang(h, { f, target: 'median', seed: 3 }),
  'fangTrimmedMean b = 1e30': (h, f) => fang(h, { f, target: 'trimmedMean', seed: 3, b: 1e30 }),
  optimal: (h, f) => optimal('ipm', (u) => coordinateMedian(u), { evaluations: 6 })(h, { f }),
  'optimal signFlip vs mean': (h, f) => optimal('signFlip', (u) => mean(u), { evaluations: 8 })(h, { f }),
  adaptive: (h, f) => adaptive(h, { f, target: (u) => coordinateMedian(u), epsilons: [0.5, 2] }),
  'adaptive default ε': (h, f) => adaptive(h, { f, target: (u) => mean(u) }),
};

describe('hostile honest magnitudes: finite output or a RobustAggError naming the option', () => {
  for (const [name, craft] of Object.entries(crafts)) {
    it(`${name}`, () => {
      fc.assert(
        fc.property(hostileArb, ({ rows, f }) => {
          const before = cloneRows(rows);
          const r = outcome(() => craft(rows, f));
          if (r instanceof RobustAggError) {
            expect(['INVALID_OPTION', 'TOO_FEW_CLIENTS']).toContain(r.code);
            expect(r.message).toMatch(/overflows|too large|allow|must be|needs/);
          } else {
            expectFiniteRows(r, f, rows[0].length);
          }
          rows.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(before[i])));
        }),
        { numRuns: name.startsWith('fangKrum') ? 25 : 60 },
      );
    });
  }

  it('signFlip throws exactly when u·μ leaves float32, naming the coordinate and the largest |scale|', () => {
    fc.assert(
      fc.property(hostileArb, fc.double({ min: -1e6, max: 1e6, noNaN: true }), ({ rows, f }, u) => {
        const d = rows[0].length;
        const mu = Array.from({ length: d }, (_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
        const bad = mu.findIndex((m) => !Number.isFinite(Math.fround(m * u)));
        const r = outcome(() => signFlip(rows, { f, scale: u }));
        if (bad < 0) {
          expectFiniteRows(r as Float32Array[], f, d);
          (r as Float32Array[]).forEach((v) => v.forEach((x, k) => expect(x).toBe(Math.fround(mu[k] * u))));
        } else {
          expect(r).toBeInstanceOf(RobustAggError);
          expect((r as RobustAggError).code).toBe('INVALID_OPTION');
          expect((r as RobustAggError).message).toContain(`coordinate ${bad}`);
          expect((r as RobustAggError).message).toMatch(/signFlip: .*allow \|scale\| ≤/);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('minMax and minSum never throw for overflow: γ keeps every value of μ − γp a float32', () => {
    fc.assert(
      fc.property(hostileArb, fc.constantFrom('unit', 'sign', 'std' as const), fc.boolean(), ({ rows, f }, direction, exact) => {
        const search = exact ? 'exact' : 'bisection';
        expectFiniteRows(minMax(rows, { f, direction, search }), f, rows[0].length);
        expectFiniteRows(minSum(rows, { f, direction, search }), f, rows[0].length);
        expect(Number.isFinite(minMaxGamma(rows, { f, direction, search }))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('fang against Krum is finite for any finite honest set (λ̄ capped at the largest float32)', () => {
    fc.assert(
      fc.property(hostileArb, ({ rows, f }) => {
        expectFiniteRows(fang(rows, { f }), f, rows[0].length);
        const lambda = fangLambda(rows, { f });
        expect(Number.isFinite(lambda)).toBe(true);
        expect(lambda).toBeLessThanOrEqual(FLOAT32_MAX);
      }),
      { numRuns: 20 },
    );
  });
});

describe('issue 14 item 8 regressions: finite inputs that gave ±Infinity', () => {
  // μ = (3.1e38, −3.15e38, 1): within float32, but 10·μ is not.
  const huge = rowsOf([
    [3e38, -3e38, 1],
    [3.2e38, -3.3e38, 2],
    [3.1e38, -3.15e38, 0],
  ]);

  it('maxValue and ipm name the option and the coordinate', () => {
    expect(() => maxValue(huge, { f: 1 })).toThrow(/maxValue: scale·μ = .* overflows float32 at coordinate 0 \(scale = -10; these honest vectors allow \|scale\| ≤ 1\.0/);
    expect(() => ipm(huge, { f: 1, epsilon: 100 })).toThrow(/ipm: .*coordinate 0 \(epsilon = 100; these honest vectors allow epsilon ≤ 1\.0/);
    expect(() => signFlip(huge, { f: 1 })).toThrow(RobustAggError);
    expectFiniteRows(signFlip(huge, { f: 2, scale: -1 }), 2, 3);
  });

  it('zeroGradient / reverse say the least f that keeps −Σ/f a float32', () => {
    // Σ coordinate 1 = −9.45e38: f = 1 and 2 overflow, f = 3 fits.
    expect(() => zeroGradient(huge, { f: 1 })).toThrow(/zeroGradient: .*f must be ≥ 3 for these honest vectors, got 1/);
    expect(() => reverse(huge, { f: 2 })).toThrow(/reverse: .*f must be ≥ 3/);
    expectFiniteRows(zeroGradient(huge, { f: 3 }), 3, 3);
  });

  it('alie, gaussian, noise, fang and modelReplacement name their option', () => {
    const spread = rowsOf([
      [3e38, 0],
      [-3e38, 1],
      [0, 2],
    ]);
    expect(() => alie(spread, { f: 1, z: 2 })).toThrow(/alie: μ ± z·σ = .* overflows float32 at coordinate 0 \(z = 2/);
    expect(() => gaussian(huge, { f: 1, seed: 1, sigma: 1e37 })).toThrow(/gaussian: sigma = 1e\+37 .*allow sigma ≤/);
    expect(() => noise(huge, { f: 1, seed: 1, sigma: 1e38 })).toThrow(/noise: sigma must be a finite number in \[0, 3\.9/);
    // μ₀ = 1e38 > 0 with w_min = −3e38: the interval [b·w_min, w_min] starts at −9e38.
    const tilted = rowsOf([
      [3e38, 1],
      [3e38, 2],
      [-3e38, 0],
    ]);
    expect(() => fang(tilted, { f: 1, target: 'median', seed: 1, b: 3 })).toThrow(/fang: b·w = .* overflows float32 at coordinate 0 \(b = 3/);
    const x = Float32Array.of(3e38, 1);
    const g = Float32Array.of(-3e38, 0);
    expect(() => modelReplacement(x, g, { n: 10 })).toThrow(/modelReplacement: γ·\(X − G\) \+ G = .* overflows float32 at coordinate 0 \(γ = 10\)/);
    expect(Array.from(modelReplacement(x, g, { gamma: 0.5 }))).toEqual([0, 0.5]);
  });

  it('minMax: the old code sent −Infinity here; now γ stops at the float32 edge', () => {
    const edge = rowsOf([
      [3.4e38, 0],
      [3.4e38, 1],
      [-3.4e38, 0.5],
    ]);
    // The exact γ along sign(μ) = (1, 1) is ≈ 6.4e38: μ₁ − γ = −Infinity in float32.
    const exact = minMax(edge, { f: 1, search: 'exact', direction: 'sign' });
    expectFiniteRows(exact, 1, 2);
    expect(exact[0][1]).toBeLessThan(-3.4e38); // pushed to the edge, not short of it
    expectFiniteRows(minMax(huge, { f: 1 }), 1, 3);
  });

  it('fang against the median: b·w_min overflowed to ±Infinity', () => {
    // Coordinate 1: μ < 0 with w_max = 3e38 > 0, so the interval is [w_max, 2·w_max] = [3e38, 6e38].
    const mixed = rowsOf([
      [1, -3e38],
      [2, -3e38],
      [0, 3e38],
    ]);
    expect(() => fang(mixed, { f: 2, target: 'median', seed: 1 })).toThrow(/fang: b·w = 6\.0+\d*e\+38 overflows float32 at coordinate 1 \(b = 2/);
  });

  it('optimal: a scale that would overflow counts as no improvement, the vectors stay finite', () => {
    // Against the mean every larger ε deviates more, so the old search kept −Inf vectors.
    const r = optimalSearch(huge, { f: 1, attack: 'ipm', aggregator: (u) => mean(u), evaluations: 12 });
    expectFiniteRows(r.byzantine, 1, 3);
    expect(Number.isFinite(r.deviation)).toBe(true);
    expect(r.scale).toBeLessThanOrEqual(1.1);
    expect(r.evaluations).toBe(12);
    // A start that cannot be crafted is an error naming the attack's option.
    expect(() => optimalSearch(huge, { f: 1, attack: 'ipm', aggregator: (u) => mean(u), start: 5 })).toThrow(/ipm: .*epsilon = 5/);
  });

  it('adaptive: an ε too large for the honest vectors is named', () => {
    expect(() => adaptive(huge, { f: 1, target: (u) => mean(u) })).toThrow(/adaptive: epsilons\[2\] = 0\.5 is too large for these honest vectors \(epsilonReverse: /);
    expect(adaptiveSearch(huge, { f: 3, target: (u) => mean(u), epsilons: [0, 1] }).epsilon).toBe(1);
  });

  it('labelFlip and stampTrigger refuse values their array type cannot hold', () => {
    // The old code wrapped 299 − 0 into a Uint8Array as 43, and stored 1e300 as Infinity.
    expect(() => labelFlip(Uint8Array.of(0, 1), { numClasses: 300 })).toThrow(/labelFlip: the flipped label 299 of position 0 does not fit a Uint8Array/);
    expect(Array.from(labelFlip(Uint16Array.of(0, 1), { numClasses: 300 }))).toEqual([299, 298]);
    const img = new Float32Array(16);
    expect(() => stampTrigger(img, { height: 4, width: 4, value: 1e300 })).toThrow(/stampTrigger: patch value 1e\+300 does not fit a Float32Array/);
    expect(() => stampTrigger(new Uint8Array(16), { height: 4, width: 4, value: 300 })).toThrow(/does not fit a Uint8Array/);
    expect(Array.from(stampTrigger(new Uint8Array(16), { height: 4, width: 4, size: 1, value: 255 })).at(-1)).toBe(255);
  });

  it('a custom scaled attack or aggregator that returns non-finite values is named', () => {
    const honest = gaussianRows(5, 3, 1);
    const nan = (h: readonly Float32Array[], o: { f: number }) => Array.from({ length: o.f }, () => new Float32Array(h[0].length).fill(NaN));
    expect(() => optimalSearch(honest, { f: 1, attack: nan, aggregator: (u) => mean(u) })).toThrow(/optimal: the attack's vector 0 holds NaN/);
    const bad = () => new Float32Array(3).fill(Infinity);
    expect(() => optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: bad })).toThrow(/optimal: aggregator returned Infinity/);
    expect(() => adaptive(honest, { f: 1, target: bad, epsilons: [1] })).toThrow(/adaptive: pool member 0 .*returned Infinity/);
    expect(() => optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: () => new Float32Array(2) })).toThrow(/length 3/);
  });

  it('nonFinite stays the one attack that sends NaN/±∞ by design', () => {
    const v = nonFinite(huge, { f: 1, coordinate: 2 });
    expect(Number.isNaN(v[0][2])).toBe(true);
    expect(Number.isFinite(v[0][0])).toBe(true);
  });
});

describe('issue 14 item 10: caller-set counts fail fast, before allocating', () => {
  const honest = gaussianRows(6, 4, 5);

  it('f above 2²⁰ (the old code aborted Node with f = 5e7 and hung with f = 1e9)', () => {
    const wide = gaussianRows(3, 1000, 6);
    expect(() => signFlip(wide, { f: 5e7 })).toThrow(/signFlip: f must be an integer in \[0, 1048576\], got 50000000/);
    expect(() => gaussian(wide, { f: 1e9, seed: 1 })).toThrow(/gaussian: f must be an integer in \[0, 1048576\]/);
    for (const attack of [maxValue, zeroGradient, ipm, reverse, mimic, minMax, minSum, alie]) {
      expect(codeOf(() => attack(wide, { f: 5e7 }))).toBe('INVALID_OPTION');
    }
    expect(codeOf(() => noise(wide, { f: 5e7, seed: 1 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => fang(wide, { f: 5e7 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => nonFinite(wide, { f: 5e7 }))).toBe('INVALID_OPTION');
  });

  it('f·d above 2³⁰ output values', () => {
    const wide = [new Float32Array(1 << 20), new Float32Array(1 << 20)];
    // f = 1025 ≤ 2²⁰, but 1025 · 2²⁰ > 2³⁰: 4 GiB of vectors, refused up front.
    expect(() => signFlip(wide, { f: 1025 })).toThrow(/signFlip: f·d = 1025·1048576 exceeds 1073741824 output values \(f ≤ 1024 for d=1048576\)/);
    expect(() => gaussian(wide, { f: 1025, seed: 1 })).toThrow(/exceeds 1073741824/);
  });

  it('optimal: at most 256 evaluations; adaptive: at most 256 ε and 4096 evaluations', () => {
    const agg = (u: readonly Float32Array[]) => mean(u);
    expect(() => optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: agg, evaluations: 1e9 })).toThrow(
      /optimal: evaluations must be an integer in \[1, 256\], got 1000000000/,
    );
    expect(() => optimal('ipm', agg, { evaluations: 1e6 })).toThrow(/evaluations must be an integer in \[1, 256\]/);
    const many = Array.from({ length: 1e5 }, (_, i) => i / 1e5);
    expect(() => adaptive(honest, { f: 1, target: agg, epsilons: many })).toThrow(/adaptive: epsilons must be a non-empty array of at most 256 numbers, got 100000 values/);
    const pool = Array.from({ length: 20 }, () => agg);
    expect(() => adaptive(honest, { f: 1, target: pool, epsilons: many.slice(0, 250) })).toThrow(/250 epsilons × 20 pool members = 5000 evaluations exceed 4096/);
  });

  it('fang against Krum halves λ at most 64 times whatever the threshold', () => {
    // Honest vectors tight around (100, …): a vector near 0 is never Krum's pick, so the search runs
    // until its limit. The old code halved ~1000 times down to λ < 1e-300.
    const tight = gaussianRows(6, 3, 7, 100, 0.01);
    const bound = fangLambdaBound(tight, 1);
    const lambda = fangLambda(tight, { f: 1, threshold: 1e-300 });
    expect(lambda).toBe(bound / 2 ** 64);
  });
});

describe('issue 14 item 13 and DESIGN §5: options read once, null and unknown keys, rng', () => {
  const honest = gaussianRows(7, 3, 9);
  type Call = (options: never) => unknown;
  const calls: Record<string, [Call, Record<string, unknown>]> = {
    signFlip: [(o) => signFlip(honest, o), { f: 1, scale: -2 }],
    maxValue: [(o) => maxValue(honest, o), { f: 1 }],
    zeroGradient: [(o) => zeroGradient(honest, o), { f: 1 }],
    ipm: [(o) => ipm(honest, o), { f: 1, epsilon: 0.5 }],
    alie: [(o) => alie(honest, o), { f: 1, z: 1, sign: -1, variant: 'code' }],
    minMax: [(o) => minMax(honest, o), { f: 1, direction: 'unit', search: 'bisection', gammaInit: 5, tolerance: 1e-3 }],
    minSum: [(o) => minSum(honest, o), { f: 1 }],
    mimic: [(o) => mimic(honest, o), { f: 1, index: 2 }],
    reverse: [(o) => reverse(honest, o), { f: 1 }],
    epsilonReverse: [(o) => epsilonReverse(honest, o), { f: 1, epsilon: 2 }],
    gaussian: [(o) => gaussian(honest, o), { f: 1, seed: 3, sigma: 2 }],
    noise: [(o) => noise(honest, o), { f: 1, seed: 3, sigma: 2 }],
    nonFinite: [(o) => nonFinite(honest, o), { f: 1, value: 'inf', coordinate: 1 }],
    fang: [(o) => fang(honest, o), { f: 1, target: 'krum', threshold: 1e-3 }],
    fangMedian: [(o) => fang(honest, o), { f: 1, target: 'median', b: 3, seed: 2 }],
    optimalSearch: [
      (o) => optimalSearch(honest, o),
      { f: 1, attack: 'ipm', aggregator: (u: readonly Float32Array[]) => mean(u), evaluations: 4, start: 0, step: 1, ratio: 0.8 },
    ],
    optimalAttack: [(o) => optimal('alie', (u) => mean(u), { evaluations: 3 })(honest, o), { f: 1, step: 4 }],
    adaptive: [(o) => adaptive(honest, o), { f: 1, target: (u: readonly Float32Array[]) => mean(u), epsilons: [1, 2], attack: 'ipm' }],
    labelFlip: [(o) => labelFlip(Int32Array.of(0, 1, 2), o), { numClasses: 3, indices: [0, 2] }],
    modelReplacement: [(o) => modelReplacement(Float32Array.of(1, 2), Float32Array.of(0, 1), o), { gamma: 3 }],
    modelReplacementN: [(o) => modelReplacement(Float32Array.of(1, 2), Float32Array.of(0, 1), o), { n: 4, eta: 2 }],
    stampTrigger: [
      (o) => stampTrigger(new Float32Array(32), o),
      { height: 4, width: 4, channels: 2, layout: 'NCHW', size: 2, corner: 'top-left', margin: 1, pattern: 'checkerboard', value: 2, off: -1, images: [0] },
    ],
  };

  for (const [name, [call, options]] of Object.entries(calls)) {
    it(`${name}: each key read once, null is INVALID_OPTION, an unknown key is UNKNOWN_OPTION`, () => {
      const reads = new Map<string, number>();
      const counted = new Proxy(options, {
        get(target, key, receiver) {
          if (typeof key === 'string') reads.set(key, (reads.get(key) ?? 0) + 1);
          return Reflect.get(target, key, receiver);
        },
      });
      const plain = call({ ...options } as never);
      expect(call(counted as never)).toEqual(plain);
      for (const [key, count] of reads) expect(count, `option ${key} read ${count} times`).toBe(1);
      expect(codeOf(() => call(null as never))).toBe('INVALID_OPTION');
      expect(codeOf(() => call({ ...options, tol: 1 } as never))).toBe('UNKNOWN_OPTION');
      expect(outcome(() => call({ ...options, tol: 1 } as never))).toHaveProperty('message', expect.stringMatching(/unknown option 'tol'/));
    });
  }

  it('a getter cannot pass validation as 1 and run as −3', () => {
    let n = 0;
    const sneaky = {
      get f() {
        n++;
        return n === 1 ? 1 : -3;
      },
    };
    expect(signFlip(honest, sneaky)).toHaveLength(1);
    let z = 0;
    const zGetter = {
      f: 1,
      get z() {
        z++;
        return z === 1 ? 1 : NaN;
      },
    };
    expectFiniteRows(alie(honest, zGetter), 1, 3); // the old code read z twice: NaN output
    let g = 0;
    const gamma = {
      get gamma() {
        g++;
        return g === 1 ? 2 : Infinity;
      },
    };
    expect(Array.from(modelReplacement(Float32Array.of(1), Float32Array.of(0), gamma))).toEqual([2]);
  });

  it("every attack takes trainRobust's context { f, rng, step } as is", () => {
    const context = { f: 2, rng: createRng(1), step: 7 };
    for (const attack of [signFlip, maxValue, zeroGradient, ipm, reverse, mimic, minMax, minSum, alie, gaussian, noise, fang]) {
      expectFiniteRows(attack(honest, context), 2, 3);
    }
    expectFiniteRows(optimal('ipm', (u) => mean(u))(honest, context), 2, 3);
    expect(() => signFlip(honest, { f: 1, step: -1 })).toThrow(/signFlip: step must be an integer ≥ 0/);
  });

  it('a wrong rng or seed is a RobustAggError, never a TypeError', () => {
    const bad: unknown[] = [
      5,
      null,
      'rng',
      {},
      { next: () => 0.5 },
      { nextUint32: 1, next: () => 0.5, nextInt: () => 0, gaussian: () => 0 },
    ];
    for (const rng of bad) {
      for (const call of [
        () => gaussian(honest, { f: 1, rng: rng as Rng }),
        () => noise(honest, { f: 1, rng: rng as Rng }),
        () => fang(honest, { f: 1, target: 'median', rng: rng as Rng }),
        () => signFlip(honest, { f: 1, rng: rng as Rng }),
      ]) {
        expect(codeOf(call)).toBe('INVALID_OPTION');
      }
    }
    expect(() => gaussian(honest, { f: 1, rng: {} as Rng })).toThrow(/gaussian: rng.nextUint32 must be a function/);
    // Wrong returns: the old code sent NaN (gaussian) or values outside the fang interval (next).
    const liar = (over: Partial<Rng>): Rng => ({ ...createRng(1), ...over });
    expect(() => gaussian(honest, { f: 1, rng: liar({ gaussian: () => NaN }) })).toThrow(/gaussian: rng.gaussian\(\) must return a finite number, got NaN/);
    expect(() => gaussian(honest, { f: 1, rng: liar({ gaussian: () => 1e300 }) })).toThrow(/gaussian: μ \+ σ·ξ = .* overflows float32/);
    expect(() => fang(honest, { f: 1, target: 'median', rng: liar({ next: () => 7 }) })).toThrow(/fang: rng.next\(\) must return a number in \[0, 1\), got 7/);
    expect(() => noise(honest, { f: 1, rng: liar({ gaussian: () => '0' as unknown as number }) })).toThrow(/must return a finite number, got string/);
    for (const seed of [NaN, Infinity, '1', {}]) {
      expect(codeOf(() => gaussian(honest, { f: 1, seed: seed as number }))).toBe('INVALID_OPTION');
    }
    expect(() => gaussian(honest, { f: 1, seed: NaN })).toThrow(/gaussian: seed must be a finite number/);
    // A valid custom generator (same draws as the library's) works and gives the same vectors.
    const own = createRng(4);
    const custom: Rng = { nextUint32: () => own.nextUint32(), next: () => own.next(), nextInt: (b) => own.nextInt(b), gaussian: () => own.gaussian() };
    expect(gaussian(honest, { f: 1, rng: custom })).toEqual(gaussian(honest, { f: 1, seed: 4 }));
  });
});
