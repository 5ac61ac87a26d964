import { describe, expect, it } from 'vitest';
import { adaptiveSearch } from '../../src/attacks/index.js';
import { bulyan, bulyanWithDecision } from '../../src/aggregators/bulyan.js';
import { bulyanVariant, bulyanVariantWithDecision } from '../../src/aggregators/bulyan-variants.js';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { geometricMedian } from '../../src/aggregators/geometric-median.js';
import { krum, krumWithDecision } from '../../src/aggregators/krum.js';
import { krumLp, krumLpWithDecision } from '../../src/aggregators/krum-lp.js';
import { mean } from '../../src/aggregators/mean.js';
import {
  mixTailor,
  mixTailorPool,
  mixTailorWithDecision,
  resolveMixTailorPool,
} from '../../src/aggregators/mix-tailor.js';
import type { Aggregator } from '../../src/core/decision.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { describeOptionReading } from '../helpers/option-checks.js';
import { lpDistances } from '../../src/kernels/lp-distances.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { cloneRows, gaussianRows, rowsOf } from '../helpers/data.js';

const constant = (k: number): Aggregator => (u) => new Float32Array(u[0].length).fill(k);

describe('lpDistances', () => {
  /** Direct definition: (Σ|Δ|^p)^(1/p) with Math.pow, no blocking, no scaling. */
  const naive = (a: Float32Array, b: Float32Array, p: number) => {
    if (p === Infinity) return Math.max(...Array.from(a, (v, k) => Math.abs(v - b[k])));
    let s = 0;
    for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]) ** p;
    return s ** (1 / p);
  };

  it('matches the definition for p = 1, 1.5, 2, 3, 7, 16, ∞ across block boundaries', () => {
    for (const d of [1, 3, 511, 512, 513, 1300]) {
      const rows = gaussianRows(5, d, d, 0, 1);
      for (const p of [1, 1.5, 2, 3, 7, 16, Infinity]) {
        const got = lpDistances(rows, p);
        for (let i = 0; i < 5; i++) {
          expect(got[i * 5 + i]).toBe(0);
          for (let j = 0; j < 5; j++) {
            const want = naive(rows[i], rows[j], p);
            expect(Math.abs(got[i * 5 + j] - want) / Math.max(want, 1e-300), `d=${d} p=${p}`).toBeLessThan(1e-12);
            expect(got[i * 5 + j]).toBe(got[j * 5 + i]);
          }
        }
      }
    }
  });

  it('neither overflows nor underflows where |Δ|^p would', () => {
    // Two rows differing by 1e20 in 4 of 600 coordinates (spread over two blocks): ‖Δ‖₁₆ = 1e20·4^(1/16).
    // A plain Σ|Δ|¹⁶ would be 4e320 = ∞. Likewise 1e-30: Σ|Δ|¹⁶ = 4e-480 underflows to 0.
    for (const scale of [1e20, 1e-30]) {
      const a = new Float32Array(600);
      const b = new Float32Array(600);
      for (const k of [3, 100, 520, 599]) b[k] = scale;
      const got = lpDistances([a, b], 16)[1];
      const want = Math.fround(scale) * 4 ** (1 / 16);
      expect(Math.abs(got - want) / want).toBeLessThan(1e-12);
    }
    // Unequal block maxima merge correctly: 1 and 1e10 in different blocks, p = 2.
    const a = new Float32Array(1100);
    const b = new Float32Array(1100);
    b[10] = 1;
    b[1050] = 1e10;
    expect(lpDistances([a, b], 2)[1]).toBeCloseTo(Math.hypot(1, 1e10), 0);
  });
});

describe('krumLp', () => {
  it('is Krum at p = 2 and returns an input row for other p', () => {
    for (let seed = 0; seed < 10; seed++) {
      const rows = gaussianRows(9, 6, seed, 0, 1);
      expect(Array.from(krumLp(rows, { f: 2 }))).toEqual(Array.from(krum(rows, { f: 2 })));
      for (const p of [1, 3, 16, Infinity]) {
        const { aggregate, decision } = krumLpWithDecision(rows, { f: 2, p });
        expect(Array.from(aggregate)).toEqual(Array.from(rows[decision.selected[0]]));
        expect(decision.p).toBe(p);
      }
    }
  });

  it('the norm changes the pick: a hand-made case where ℓ1 and ℓ∞ disagree', () => {
    // Clients A = (0,0), B = (3,0), C = (2,2), D = (−2,2), E = (0,−3); f = 1, n = 5 → 2 neighbours.
    // Squared ℓ1: A: {B 9, C 16, D 16, E 9} → 9 + 9 = 18; B: {A 9, C 9, D 49, E 36} → 18;
    //   C: {A 16, B 9, D 16, E 49} → 25; D: {A 16, B 49, C 16, E 49} → 32; E: {A 9, B 36, C 49, D 49} → 45.
    //   Tie A/B at 18 → the lower index, A (0).
    // Squared ℓ∞: A: {B 9, C 4, D 4, E 9} → 8; B: {A 9, C 4, D 25, E 9} → 13; C: {A 4, B 4, D 16, E 25} → 8;
    //   D: {A 4, B 25, C 16, E 25} → 20; E: {A 9, B 9, C 25, D 25} → 18. Tie A/C at 8 → A.
    // Squared ℓ2: A: {B 9, C 8, D 8, E 9} → 16; B: {A 9, C 5, D 29, E 18} → 14; C: {A 8, B 5, D 16, E 29} → 13;
    //   D: {A 8, B 29, C 16, E 29} → 24; E: {A 9, B 18, C 29, D 29} → 27. C (2) wins.
    const rows = rowsOf([
      [0, 0],
      [3, 0],
      [2, 2],
      [-2, 2],
      [0, -3],
    ]);
    expect(Array.from(krumLpWithDecision(rows, { f: 1, p: 1 }).decision.scores)).toEqual([18, 18, 25, 32, 45]);
    expect(Array.from(krumLpWithDecision(rows, { f: 1, p: Infinity }).decision.scores)).toEqual([8, 13, 8, 20, 18]);
    expect(krumLpWithDecision(rows, { f: 1, p: 1 }).decision.selected).toEqual([0]);
    expect(krumLpWithDecision(rows, { f: 1, p: 2 }).decision.selected).toEqual([2]);
    expect(krumWithDecision(rows, { f: 1 }).decision.selected).toEqual([2]);
  });

  it('rejects p < 1', () => {
    expect(() => krumLp(gaussianRows(5, 2, 1), { f: 1, p: 0.5 })).toThrow(/p must be/);
  });

  describeAggregatorProperties({ name: 'krumLp(p=3)', run: (u) => krumLp(u, { f: 1, p: 3 }), minClients: 5, returnsInputRow: true });
});

describe('bulyanVariant', () => {
  it("(krum, meamed) is exactly bulyan", () => {
    for (let seed = 0; seed < 8; seed++) {
      const rows = gaussianRows(11, 7, seed, 0, 1);
      const a = bulyanVariantWithDecision(rows, { f: 2 });
      const b = bulyanWithDecision(rows, { f: 2 });
      expect(Array.from(a.aggregate)).toEqual(Array.from(b.aggregate));
      expect(a.decision.selectionOrder).toEqual(b.decision.selectionOrder);
    }
  });

  it('selection by the mean peels off the client farthest from the running mean last (hand case)', () => {
    // 1-D, f = 1, n = 7: θ = 5 picks, β = 3. Values 0, 1, 2, 3, 4, 5, 100.
    // Round 1: mean 115/7 ≈ 16.43 → closest 5. Round 2: mean of {0,1,2,3,4,100} = 110/6 ≈ 18.33 → 4.
    // Round 3: {0,1,2,3,100}: 21.2 → 3. Round 4: {0,1,2,100}: 25.75 → 2. Round 5: {0,1,100}: 33.67 → 1.
    const rows = rowsOf([[0], [1], [2], [3], [4], [5], [100]]);
    const { aggregate, decision } = bulyanVariantWithDecision(rows, { f: 1, selection: 'mean', aggregation: 'mean' });
    expect(decision.selectionOrder).toEqual([5, 4, 3, 2, 1]);
    expect(Array.from(aggregate)).toEqual([3]); // mean of 1..5
    // aggregation 'meamed': the β = 3 values closest to the median 3 of {1..5}: 2, 3, 4 → 3
    expect(Array.from(bulyanVariant(rows, { f: 1, selection: 'mean' }))).toEqual([3]);
    // Coordinate-median selection: median 3 → 3; {0,1,2,4,5,100}: (2+4)/2 = 3 → 2 and 4 tie, the
    // lower index 2; {0,1,4,5,100}: 4 → 4; {0,1,5,100}: 3 → 1 and 5 tie → 1; {0,5,100}: 5 → 5.
    const cm = bulyanVariantWithDecision(rows, { f: 1, selection: 'coordinateMedian', aggregation: 'coordinateMedian' });
    expect(cm.decision.selectionOrder).toEqual([3, 2, 4, 1, 5]);
    expect(Array.from(cm.aggregate)).toEqual([3]); // median of 1..5
  });

  it('every pair stays inside the honest range per coordinate with f outliers', () => {
    const honest = gaussianRows(9, 5, 3, 0, 1);
    const byz = [Float32Array.of(50, -50, 50, -50, 50), Float32Array.of(-40, 40, 40, -40, 40)];
    const rules = ['krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const;
    for (const selection of rules) {
      for (const aggregation of [...rules, 'meamed'] as const) {
        const out = bulyanVariant([...honest, ...byz], { f: 2, selection, aggregation });
        for (let k = 0; k < 5; k++) {
          const col = honest.map((r) => r[k]);
          expect(out[k], `${selection},${aggregation}`).toBeGreaterThanOrEqual(Math.min(...col) - 1e-6);
          expect(out[k], `${selection},${aggregation}`).toBeLessThanOrEqual(Math.max(...col) + 1e-6);
        }
      }
    }
  });

  it('checks n ≥ 4f+3 and its rule names', () => {
    expect(() => bulyanVariant(gaussianRows(10, 2, 1), { f: 2 })).toThrow(/needs n ≥ 4f\+3/);
    // @ts-expect-error unknown rule
    expect(() => bulyanVariant(gaussianRows(7, 2, 1), { f: 1, selection: 'trimmedMean' })).toThrow(/selection must be/);
  });

  describeAggregatorProperties({
    name: 'bulyanVariant(geometricMedian, coordinateMedian)',
    run: (u) => bulyanVariant(u, { f: 1, selection: 'geometricMedian', aggregation: 'coordinateMedian' }),
    minClients: 7,
    tolerance: 1e-3,
  });
});

describe('mixTailor', () => {
  it('draws members with the configured probabilities (20 000 draws, within 4 standard errors)', () => {
    const probabilities = [0.1, 0.2, 0.3, 0.4];
    const pool = [0, 1, 2, 3].map(constant);
    const rng = createRng(11);
    const counts = [0, 0, 0, 0];
    const rows = gaussianRows(3, 1, 1);
    const draws = 20000;
    for (let t = 0; t < draws; t++) {
      const { aggregate, decision } = mixTailorWithDecision(rows, { pool, probabilities, rng });
      expect(aggregate[0]).toBe(decision.drawn); // the output is the drawn member's
      counts[decision.drawn]++;
    }
    // |count/N − p| ≤ 4·√(p(1−p)/N): a correct sampler fails this with probability < 1e-4 per member.
    let chi2 = 0;
    probabilities.forEach((p, k) => {
      expect(Math.abs(counts[k] / draws - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / draws));
      chi2 += (counts[k] - draws * p) ** 2 / (draws * p);
    });
    expect(chi2).toBeLessThan(16.27); // χ² with 3 degrees of freedom, p = 0.001
  });

  it('default pool: 34 members in four families with ¼ each, and draws that follow it', () => {
    const { members, probabilities } = resolveMixTailorPool(mixTailorPool(1));
    expect(members).toHaveLength(34);
    const byFamily = new Map<string, number>();
    members.forEach((m, k) => byFamily.set(m.family as string, (byFamily.get(m.family as string) ?? 0) + probabilities[k]));
    for (const fam of ['krum', 'coordinateMedian', 'geometricMedian', 'bulyan']) expect(byFamily.get(fam)).toBeCloseTo(0.25, 14);
    expect(probabilities[0]).toBeCloseTo(1 / 64, 14); // krum-l1: ¼ shared by 16 norms
    expect(members.map((m) => m.name)).toContain('bulyan(geometricMedian,mean)');

    const rows = gaussianRows(7, 3, 2); // n = 7 = 4f+3 for f = 1
    const rng = createRng(5);
    const draws = 2000;
    const seen = new Map<string, number>();
    for (let t = 0; t < draws; t++) {
      const { decision } = mixTailorWithDecision(rows, { f: 1, rng });
      seen.set(decision.family as string, (seen.get(decision.family as string) ?? 0) + 1);
    }
    const se = Math.sqrt((0.25 * 0.75) / draws);
    for (const fam of ['krum', 'coordinateMedian', 'geometricMedian', 'bulyan']) {
      expect(Math.abs((seen.get(fam) ?? 0) / draws - 0.25)).toBeLessThanOrEqual(4 * se);
    }
  });

  it('identical seeds give identical draws; an rng advances between calls', () => {
    const rows = gaussianRows(11, 4, 3);
    const run = (seed: number) => Array.from({ length: 30 }, (_, t) => mixTailorWithDecision(rows, { f: 2, seed: seed * 100 + t }));
    const a = run(1);
    const b = run(1);
    a.forEach((x, t) => {
      expect(x.decision.member).toBe(b[t].decision.member);
      expect(Array.from(x.aggregate)).toEqual(Array.from(b[t].aggregate));
    });
    expect(new Set(a.map((x) => x.decision.member)).size).toBeGreaterThan(5);
    const rng1 = createRng(9);
    const rng2 = createRng(9);
    const s1 = Array.from({ length: 20 }, () => mixTailorWithDecision(rows, { f: 2, rng: rng1 }).decision.drawn);
    const s2 = Array.from({ length: 20 }, () => mixTailorWithDecision(rows, { f: 2, rng: rng2 }).decision.drawn);
    expect(s1).toEqual(s2);
    expect(new Set(s1).size).toBeGreaterThan(3);
  });

  it('reports the decision, drops non-finite rows through its member and never mutates its input', () => {
    const rows = [...gaussianRows(10, 3, 4), Float32Array.of(NaN, 0, 0)];
    const before = cloneRows(rows);
    const { aggregate, decision } = mixTailorWithDecision(rows, { f: 2, seed: 3 });
    expect(decision.rule).toBe('mixTailor');
    expect(decision.n).toBe(11);
    expect(decision.dropped).toEqual([10]);
    expect(decision.poolSize).toBe(34);
    expect(decision.probability).toBeGreaterThan(0);
    expect(aggregate.every(Number.isFinite)).toBe(true);
    rows.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(before[i])));
    expect(() => mixTailor(rows, { f: 2, seed: 3, nonFinite: 'throw' })).toThrow(expect.objectContaining({ code: 'NON_FINITE_UPDATE' }));
  });

  it('takes any list of aggregators and checks its options', () => {
    const rows = gaussianRows(5, 2, 6);
    const out = mixTailor(rows, { pool: [(u) => mean(u), (u) => coordinateMedian(u)], probabilities: [0, 1], seed: 1 });
    expect(Array.from(out)).toEqual(Array.from(coordinateMedian(rows)));
    expect(mixTailorWithDecision(rows, { pool: [{ name: 'gm', rule: (u) => geometricMedian(u) }], seed: 1 }).decision.member).toBe('gm');
    expect(() => mixTailor(rows, { seed: 1 })).toThrow(/needs \{ f \}/);
    expect(() => mixTailor(rows, { f: 1, seed: 1 })).toThrow(/needs n ≥ 4f\+3/);
    expect(() => mixTailor(gaussianRows(7, 2, 6), { f: 1 })).toThrow(/seed/);
    expect(() => mixTailor(rows, { pool: [], seed: 1 })).toThrow(/non-empty/);
    expect(() => mixTailor(rows, { pool: [constant(0)], probabilities: [1, 2], seed: 1 })).toThrow(/length 2/);
    expect(() => mixTailor(rows, { pool: [constant(0)], probabilities: [-1], seed: 1 })).toThrow(/≥ 0/);
    const small = mixTailorPool(1, { families: ['krum', 'geometricMedian'], norms: [1, 2] });
    expect(small.map((m) => m.name)).toEqual(['krum-l1', 'krum-l2', 'geometricMedian']);
    expect(Array.from(mixTailor(rows, { pool: small, probabilities: [0, 1, 0], seed: 2 }))).toEqual(Array.from(krum(rows, { f: 1 })));
  });

  describeAggregatorProperties({
    name: 'mixTailor (seeded)',
    run: (u) => mixTailor(u, { f: 1, seed: 42 }),
    minClients: 7,
    permutationInvariant: false, // the drawn member is, but Krum-ℓp ties break by index
    translationEquivariant: false, // ditto under rounding
    tolerance: 1e-3,
  });
});

describe('mixTailor: hostile members, numbers and options', () => {
  const rows = gaussianRows(7, 3, 8);

  // Regression (issue 14, item 13): a custom member's NaN or wrong-length output passed through.
  it('never passes on a member output that is non-finite, of the wrong length or not a Float32Array', () => {
    const cases: [Aggregator, RegExp][] = [
      [(u) => new Float32Array(u[0].length).fill(NaN), /pool member 0 \('nan'\) returned NaN or ±Infinity/],
      [(u) => new Float32Array(u[0].length).fill(-Infinity), /pool member 0 \('nan'\) returned NaN or ±Infinity/],
      [() => new Float32Array(2), /pool member 0 \('nan'\) returned a vector of length 2, expected d=3/],
      [() => [1, 2, 3] as never, /pool member 0 \('nan'\) returned an array, expected a Float32Array of length d=3/],
      [() => undefined as never, /returned undefined/],
    ];
    for (const [rule, message] of cases) {
      expect(() => mixTailor(rows, { pool: [{ name: 'nan', rule }], seed: 1 })).toThrow(message);
      try {
        mixTailor(rows, { pool: [{ name: 'nan', rule }], seed: 1 });
      } catch (e) {
        expect((e as RobustAggError).code).toBe('INVALID_OPTION');
      }
    }
  });

  it('copies a member output that is one of the inputs', () => {
    const out = mixTailor(rows, { pool: [(u) => u[0]], seed: 1 });
    expect(out).not.toBe(rows[0]);
    expect(Array.from(out)).toEqual(Array.from(rows[0]));
  });

  it('rejects an invalid rng or seed with a RobustAggError, never a TypeError', () => {
    for (const rng of [{}, null, 3, { next: () => 0.5 }]) {
      expect(() => mixTailor(rows, { f: 1, rng: rng as never }), JSON.stringify(rng)).toThrow(RobustAggError);
    }
    const outOfRange = { ...createRng(1), next: () => 1.5 };
    expect(() => mixTailor(rows, { f: 1, rng: outOfRange })).toThrow(/rng\.next\(\) must return a number in \[0, 1\)/);
    expect(() => mixTailor(rows, { f: 1, seed: NaN })).toThrow(/seed must be a finite number/);
  });

  it('checks the pool’s members and probabilities, reading each once', () => {
    expect(() => mixTailor(rows, { pool: [{ name: 3, rule: mean } as never], seed: 1 })).toThrow(/needs a string name/);
    expect(() => mixTailor(rows, { pool: [null as never], seed: 1 })).toThrow(/pool member 0 is neither/);
    expect(() => mixTailor(rows, { pool: 'krum' as never, seed: 1 })).toThrow(/pool must be a non-empty array/);
    expect(() => mixTailor(rows, { pool: [mean], probabilities: [NaN], seed: 1 })).toThrow(/probability of member 0/);
    expect(Array.from(mixTailor(rows, { pool: [constant(1), constant(2)], probabilities: [Number.MAX_VALUE, 0], seed: 1 }))).toEqual([1, 1, 1]);
    let reads = 0;
    const member = {
      name: 'm',
      get rule(): Aggregator {
        reads++;
        return reads === 1 ? constant(4) : () => new Float32Array(3).fill(NaN);
      },
    };
    expect(Array.from(mixTailor(rows, { pool: [member], seed: 1 }))).toEqual([4, 4, 4]);
    expect(reads).toBe(1);
  });

  it('its geometric-median member keeps breakdown point ½ against clients up to 3.4e38', () => {
    const honest = gaussianRows(7, 4, 9);
    const pool = mixTailorPool(2, { families: ['geometricMedian'] });
    for (const magnitude of [1e10, 1e30, 3.4e38]) {
      const hostile = [new Float32Array(4).fill(magnitude), Float32Array.of(-magnitude, 0, magnitude, 0)];
      const out = mixTailor([hostile[0], ...honest, hostile[1]], { pool, seed: 1 });
      for (const v of out) expect(Math.abs(v)).toBeLessThan(4);
    }
  });

  it('mixTailorPool checks its options: families once each, 1 to 64 norms, no unknown keys', () => {
    expect(() => mixTailorPool(1, null as never)).toThrow('mixTailorPool: options must be an object, got null');
    expect(() => mixTailorPool(1, { family: ['krum'] } as never)).toThrow(/unknown option 'family'/);
    expect(() => mixTailorPool(1, { families: ['krum', 'krum'] })).toThrow(/listed twice/);
    expect(() => mixTailorPool(1, { norms: Array.from({ length: 65 }, (_, i) => i + 1) })).toThrow(/1 to 64 entries/);
    expect(() => mixTailorPool(1, { norms: [] })).toThrow(/1 to 64 entries/);
    expect(() => mixTailorPool(1, { norms: [0.5] })).toThrow(/every norm must be/);
    expect(() => mixTailorPool(1, { nonFinite: 'keep' as never })).toThrow(/nonFinite must be/);
    expect(mixTailorPool(1, { norms: [1, Infinity], families: ['krum'] }).map((m) => m.name)).toEqual(['krum-l1', 'krum-lInfinity']);
  });
});

describe('bulyanVariant and krumLp: huge finite clients', () => {
  it('every (selection, aggregation) pair stays inside the honest range with f clients up to ±3.4e38', () => {
    const honest = gaussianRows(9, 5, 13, 0, 1);
    const rules = ['krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const;
    for (const magnitude of [1e10, 1e30, 3.4e38]) {
      const byz = [Float32Array.of(magnitude, -magnitude, magnitude, 0, 0), new Float32Array(5).fill(-magnitude)];
      for (const selection of rules) {
        for (const aggregation of [...rules, 'meamed'] as const) {
          const out = bulyanVariant([byz[0], ...honest, byz[1]], { f: 2, selection, aggregation });
          for (let k = 0; k < 5; k++) {
            const col = honest.map((r) => r[k]);
            const label = `${magnitude} ${selection},${aggregation}`;
            expect(out[k], label).toBeGreaterThanOrEqual(Math.min(...col) - 1e-6);
            expect(out[k], label).toBeLessThanOrEqual(Math.max(...col) + 1e-6);
          }
        }
      }
      for (const p of [1, 2, 3, 16, Infinity]) {
        const { decision } = krumLpWithDecision([byz[0], ...honest, byz[1]], { f: 2, p });
        expect(decision.selected[0], `p=${p}`).toBeGreaterThan(0);
        expect(decision.selected[0], `p=${p}`).toBeLessThan(10);
      }
    }
  });
});

describeOptionReading({
  name: 'mixTailor',
  call: (u, o) => mixTailor(u, o as never),
  updates: gaussianRows(7, 2, 1),
  valid: { f: 1, seed: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
describeOptionReading({
  name: 'krumLp',
  call: (u, o) => krumLp(u, o as never),
  updates: gaussianRows(5, 2, 1),
  valid: { f: 1, p: 3 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});
describeOptionReading({
  name: 'bulyanVariant',
  call: (u, o) => bulyanVariant(u, o as never),
  updates: gaussianRows(7, 2, 1),
  valid: { f: 1, selection: 'mean' },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});

describe('the adaptive attack hurts a fixed rule more than the MixTailor pool', () => {
  it('ε-reverse tuned against Krum turns its inner product negative; tuned against the pool it cannot', () => {
    // Noisy honest gradients (SGD-like): μ = 0.2 per coordinate, N(0, 1) noise, h = 15, f = 3, d = 20.
    const h = 15;
    const f = 3;
    const honest = gaussianRows(h, 20, 77, 0.2, 1);
    const xbar = honest[0].map((_, k) => honest.reduce((s, r) => s + r[k], 0) / h);
    const dot = (v: Float32Array) => v.reduce((s, x, k) => s + x * xbar[k], 0);
    const krumRule: Aggregator = (u) => krum(u, { f });
    const pool = mixTailorPool(f);
    const { members, probabilities } = resolveMixTailorPool(pool);
    const expected = (all: Float32Array[]) => members.reduce((s, m, k) => s + probabilities[k] * dot(m.rule(all)), 0);

    const vsKrum = adaptiveSearch(honest, { f, target: krumRule });
    const vsPool = adaptiveSearch(honest, { f, target: pool });
    const honestDot = dot(Float32Array.from(xbar)); // ‖x̄‖² ≈ 3.74
    // Against Krum the best ε is 0.2: the three copies of −0.2·Σ/3 = −(5·0.2)·x̄ = −x̄ sit close to
    // the origin, inside the noisy honest cloud, so Krum picks one and ⟨krum, x̄⟩ = −‖x̄‖².
    expect(vsKrum.epsilon).toBe(0.2);
    expect(vsKrum.objective).toBeCloseTo(-honestDot, 4);
    expect(vsKrum.objective).toBeCloseTo(dot(krum([...honest, ...vsKrum.byzantine], { f })), 6);
    // Against the pool the attacker minimises the expected ⟨agg, x̄⟩ over the draw and still cannot
    // make it negative (≈ 0.84 here: the median, geometric-median and most Bulyan members resist).
    expect(vsPool.objective).toBeCloseTo(expected([...honest, ...vsPool.byzantine]), 6);
    expect(vsPool.objective).toBeGreaterThan(0.1 * honestDot);
    expect(vsKrum.objective).toBeLessThan(vsPool.objective - honestDot);
    // The Krum-tailored vectors hurt the pool even less (≈ 2.2).
    expect(expected([...honest, ...vsKrum.byzantine])).toBeGreaterThan(vsPool.objective);
    // And MixTailor's realised draws agree with the expectation: the average over 400 seeded rounds
    // is within 4 standard errors of it.
    const all = [...honest, ...vsPool.byzantine];
    const perMember = members.map((m) => dot(m.rule(all)));
    const variance = members.reduce((s, _, k) => s + probabilities[k] * (perMember[k] - vsPool.objective) ** 2, 0);
    const rng = createRng(21);
    let total = 0;
    for (let t = 0; t < 400; t++) total += perMember[mixTailorWithDecision(all, { f, rng }).decision.drawn];
    expect(Math.abs(total / 400 - vsPool.objective)).toBeLessThan(4 * Math.sqrt(variance / 400));
  });
});
