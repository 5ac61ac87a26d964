// Red-team properties of the attacks (issue 14, items 8 and 10): fed hostile but finite honest
// vectors — near ±3.4e38, subnormal, sparse with −0, quantized, duplicated — every attack returns
// exactly f finite Float32Arrays of length d or throws a RobustAggError naming what is out of range;
// it never returns ±Infinity/NaN, never mutates its input, and is deterministic for a seed.
// (nonFinite is excluded from the finiteness check: sending NaN/±Infinity is its purpose.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adaptive,
  alie,
  coordinateMedian,
  epsilonReverse,
  fang,
  gaussian,
  ipm,
  krum,
  maxValue,
  mimic,
  minMax,
  minSum,
  modelReplacement,
  noise,
  nonFinite,
  optimal,
  reverse,
  signFlip,
  zeroGradient,
} from '../../src/index.js';
import {
  buildCase,
  caseArb,
  expectFinite,
  expectSameBits,
  expectUnchanged,
  robustOrNull,
  RUNS,
  snapshot,
} from './hostile-data.js';

type Crafted = (honest: Float32Array[], f: number, seed: number) => Float32Array[];

/** Every vector attack, bound to hostile-but-legal options. */
const ATTACKS: Record<string, Crafted> = {
  gaussian: (h, f, seed) => gaussian(h, { f, seed }),
  signFlip: (h, f) => signFlip(h, { f }),
  'signFlip scale −1e30': (h, f) => signFlip(h, { f, scale: -1e30 }),
  maxValue: (h, f) => maxValue(h, { f }),
  zeroGradient: (h, f) => zeroGradient(h, { f }),
  ipm: (h, f) => ipm(h, { f }),
  'ipm ε=100': (h, f) => ipm(h, { f, epsilon: 100 }),
  alie: (h, f) => alie(h, { f }),
  'alie z=1e30': (h, f) => alie(h, { f, z: 1e30 }),
  minMax: (h, f) => minMax(h, { f }),
  'minMax unit exact': (h, f) => minMax(h, { f, direction: 'unit', search: 'exact' }),
  minSum: (h, f) => minSum(h, { f, direction: 'sign' }),
  mimic: (h, f) => mimic(h, { f }),
  'epsilonReverse ε=2': (h, f) => epsilonReverse(h, { f, epsilon: 2 }),
  reverse: (h, f) => reverse(h, { f }),
  noise: (h, f, seed) => noise(h, { f, seed }),
  'fang krum': (h, f) => fang(h, { f, target: 'krum' }),
  'fang trimmedMean': (h, f, seed) => fang(h, { f, target: 'trimmedMean', seed }),
  'fang median': (h, f, seed) => fang(h, { f, target: 'median', seed }),
  'optimal ipm vs median': (h, f) => optimal('ipm', (u) => coordinateMedian(u), { evaluations: 4 })(h, { f }),
  'adaptive vs krum': (h, f) => adaptive(h, { f, target: (u) => krum(u, { f }), epsilons: [0.5, 2, 1e30] }),
};

const RANDOMIZED = new Set(['gaussian', 'noise', 'fang trimmedMean', 'fang median']);

describe('attacks on hostile honest vectors', () => {
  it.each(Object.keys(ATTACKS))('%s returns f finite vectors of length d, or a RobustAggError', (name) => {
    const attack = ATTACKS[name];
    let produced = 0;
    fc.assert(
      fc.property(
        caseArb({
          n: [2, 12],
          maxAttackers: () => 0,
          d: () => 40,
          extraD: 300,
          scaleExps: [-44, -38, -20, 0, 20, 36, 37, 38],
          centres: [0, 1, 30],
        }),
        fc.integer({ min: 0, max: 4 }),
        (spec, f) => {
          const honest = buildCase(spec).rows;
          const before = snapshot(honest);
          const out = robustOrNull(() => attack(honest, f, spec.seed), name);
          expectUnchanged(honest, before, name);
          if (out === null) return;
          produced++;
          expect(out.length, `${name} returned ${out.length} vectors for f=${f}`).toBe(f);
          out.forEach((x, j) => {
            expect(x).toBeInstanceOf(Float32Array);
            expect(x.length).toBe(spec.d);
            expectFinite(x, `${name} vector ${j}`);
          });
          if (RANDOMIZED.has(name)) {
            const again = attack(honest, f, spec.seed);
            out.forEach((x, j) => expectSameBits(again[j], x, `${name} twice with one seed, vector ${j}`));
          }
        },
      ),
      RUNS(name.startsWith('optimal') || name.startsWith('adaptive') || name.startsWith('fang krum') ? 10 : 25),
    );
    // Not vacuous: ordinary cases among the hostile ones are answered.
    expect(produced, `${name} refused every case`).toBeGreaterThan(0);
  });

  it('modelReplacement keeps a finite boost of finite models finite or refuses it', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 1, maxLength: 64, noDefaultInfinity: true, noNaN: true }),
        fc.double({ min: -1e30, max: 1e30, noNaN: true }),
        (local, gamma) => {
          const global = Float32Array.from(local, (v) => -v);
          const out = robustOrNull(() => modelReplacement(local, global, { gamma }), 'modelReplacement');
          if (out !== null) expectFinite(out, 'modelReplacement');
        },
      ),
      RUNS(30),
    );
  });

  it('nonFinite sends exactly the non-finite values it promises (the one attack allowed to)', () => {
    const honest = [Float32Array.of(1, 2, 3), Float32Array.of(3, 2, 1)];
    const [a] = nonFinite(honest, { f: 1 });
    expect(Array.from(a).every(Number.isNaN)).toBe(true);
  });
});
