import { describe, expect, it } from 'vitest';
import { adaptive, adaptiveSearch, alie, optimal, optimalSearch } from '../../src/attacks/index.js';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { mean } from '../../src/aggregators/mean.js';
import type { Aggregator } from '../../src/core/decision.js';
import { gaussianRows } from '../helpers/data.js';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const meanOf = (rows: Float32Array[]) => rows[0].map((_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);

describe('optimal: line search over the scale', () => {
  const honest = gaussianRows(6, 8, 3, 1, 0.1);
  const mu = meanOf(honest);

  it('keeps expanding while the deviation grows: 16 evaluations from 0 with step 1 reach 2¹⁵ − 1', () => {
    // Against the mean, IPM's deviation (f/n)(1 + ε)‖μ‖ grows with ε, so every expansion succeeds:
    // x = 0, 1, 3, 7, …, 2^(k−1) − 1 after k evaluations.
    const r = optimalSearch(honest, { f: 2, attack: 'ipm', aggregator: (u) => mean(u) });
    expect(r.evaluations).toBe(16);
    expect(r.scale).toBe(2 ** 15 - 1);
    expect(r.deviation).toBeCloseTo((2 / 8) * (1 + r.scale) * norm(mu), 0);
  });

  it('contracts onto the edge of a filter', () => {
    // A toy rule that accepts the Byzantine vector only while its norm is < 5·‖μ‖: the deviation is
    // (1 + ε)‖μ‖ for ε < 5, then 0. Expansion reaches 3 (7 is filtered), contraction climbs to 5⁻.
    const filter: Aggregator = (u) => {
      const byz = u[u.length - 1];
      return norm(byz) < 5 * norm(mu) ? Float32Array.from(byz) : Float32Array.from(mu);
    };
    const r = optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: filter });
    expect(r.evaluations).toBe(16);
    expect(r.scale).toBeGreaterThan(4.5);
    expect(r.scale).toBeLessThan(5);
    expect(r.deviation).toBeCloseTo((1 + r.scale) * norm(mu), 4);
  });

  it('returns an Attack bound to the rule; the result is never worse than the first two probes', () => {
    const median: Aggregator = (u) => coordinateMedian(u);
    const attack = optimal('alie', median);
    const byz = attack(honest, { f: 3 });
    expect(byz).toHaveLength(3);
    const dev = (b: Float32Array[]) => norm(median([...honest, ...b]).map((v, k) => v - mu[k]));
    const found = optimalSearch(honest, { f: 3, attack: 'alie', aggregator: median });
    expect(dev(byz)).toBeCloseTo(found.deviation, 6);
    expect(found.deviation).toBeGreaterThanOrEqual(dev(alie(honest, { f: 3, z: 0 })) - 1e-6); // float32 vs float64 honest mean
    expect(found.deviation).toBeGreaterThanOrEqual(dev(alie(honest, { f: 3, z: 1 })) - 1e-6); // float32 vs float64 honest mean
  });

  it('takes a custom scaled attack and validates its settings', () => {
    const shift = (h: readonly Float32Array[], o: { f: number; scale: number }) =>
      Array.from({ length: o.f }, () => h[0].map((v) => v + o.scale));
    const r = optimalSearch(honest, { f: 1, attack: shift, aggregator: (u) => mean(u), evaluations: 3 });
    expect(r.evaluations).toBe(3);
    expect(r.scale).toBe(3); // 0 → 1 → 3
    // @ts-expect-error unknown name
    expect(() => optimal('nope', (u) => mean(u))).toThrow(/attack must be/);
    expect(() => optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: (u) => mean(u), ratio: 0.4 })).toThrow(/ratio/);
  });
});

describe('optimal: the contraction phase, ours and ByzFL\'s (issue 21)', () => {
  /** A scaled attack whose deviation is |D(scale)| against an aggregator that returns the last row; it records the scales probed. */
  const traced = (D: (s: number) => number) => {
    const probes: number[] = [];
    const attack = (_h: readonly Float32Array[], o: { f: number; scale: number }) => {
      probes.push(o.scale);
      return [Float64Array.of(D(o.scale))].map((v) => Float32Array.from(v));
    };
    const aggregator = (u: readonly Float32Array[]) => Float32Array.from(u[u.length - 1]);
    return { probes, attack, aggregator };
  };
  /** ByzFL's LineMaximize, transcribed from its description: the scales it evaluates, and its answer. */
  function byzflTrace(D: (s: number) => number, evals: number, start = 0, delta0 = 1, ratio = 0.8): { probes: number[]; best: number } {
    const f = (s: number) => Math.abs(Math.fround(D(s)));
    const probes = [start];
    let left = evals - 1;
    let bestX = start;
    let bestY = f(start);
    let delta = delta0;
    let prop = start;
    while (left > 0) {
      prop = bestX + delta;
      probes.push(prop);
      const y = f(prop);
      left--;
      if (y > bestY) {
        bestY = y;
        bestX = prop;
        delta *= 2;
      } else {
        delta *= ratio;
        break;
      }
    }
    while (left > 0) {
      if (prop < bestX) prop += delta;
      else {
        let x = prop - delta;
        while (x < 0) x = (x + prop) / 2;
        prop = x;
      }
      probes.push(prop);
      const y = f(prop);
      left--;
      if (y > bestY) {
        bestY = y;
        bestX = prop;
      }
      delta *= ratio;
    }
    return { probes, best: bestX };
  }
  const zero = [Float32Array.of(0)];

  it("'from-last-probe' evaluates exactly ByzFL's scales; 'around-best' probes both sides of the best (hand-traced)", () => {
    const D = (s: number) => 10 - Math.abs(s - 2.7);
    // ByzFL: 0, 1, 3 improve (step 1, 2), 7 fails (step 4 → 3.2); then 7 − 3.2 = 3.8, 3.8 − 2.56 =
    // 1.24, 1.24 + 2.048 = 3.288, 3.288 − 1.6384 = 1.6496: best 3.
    const byzfl = traced(D);
    const r = optimalSearch(zero, { f: 1, attack: byzfl.attack, aggregator: byzfl.aggregator, evaluations: 8, contraction: 'from-last-probe' });
    expect(byzfl.probes.map((p) => +p.toFixed(10))).toEqual([0, 1, 3, 7, 3.8, 1.24, 3.288, 1.6496]);
    expect(r.scale).toBe(3);
    expect(r.evaluations).toBe(8);
    // Ours: 0, 1, 3, 7, then best ± 3.2 (6.2; −0.2 < 0 is skipped), ± 2.56 (5.56, 0.44), + 2.048.
    const ours = traced(D);
    const o = optimalSearch(zero, { f: 1, attack: ours.attack, aggregator: ours.aggregator, evaluations: 8 });
    expect(ours.probes.map((p) => +p.toFixed(10))).toEqual([0, 1, 3, 7, 6.2, 5.56, 0.44, 5.048]);
    expect(o.scale).toBe(3);
  });

  it("'from-last-probe' matches the transcription of ByzFL's loop on random peaked deviations", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const peak = (seed * 0.37) % 9;
      const width = 0.5 + (seed % 5);
      const D = (s: number) => 100 * Math.exp(-(((s - peak) / width) ** 2));
      const evals = 2 + (seed % 15);
      const t = traced(D);
      const r = optimalSearch(zero, { f: 1, attack: t.attack, aggregator: t.aggregator, evaluations: evals, contraction: 'from-last-probe' });
      const expected = byzflTrace(D, evals);
      expect(t.probes, `seed ${seed}`).toEqual(expected.probes);
      expect(r.scale).toBe(expected.best);
    }
  });

  it('refuses an unknown contraction, in optimalSearch and when optimal binds its settings', () => {
    const honest = gaussianRows(6, 8, 3, 1, 0.1);
    expect(() => optimalSearch(honest, { f: 1, attack: 'ipm', aggregator: (u) => mean(u), contraction: 'both' as never })).toThrow(
      /contraction must be 'around-best' or 'from-last-probe', got "both"/,
    );
    expect(() => optimal('ipm', (u) => mean(u), { contraction: 'one-sided' as never })).toThrow(/contraction/);
    expect(optimal('ipm', (u) => mean(u), { contraction: 'from-last-probe' })(honest, { f: 2 })).toHaveLength(2);
  });
});

describe('adaptive (MixTailor)', () => {
  const honest = gaussianRows(6, 8, 4, 1, 0.1);
  const xbar = meanOf(honest);
  const sq = xbar.reduce((s, v) => s + v * v, 0);

  it('against the mean: J(ε) = (1 − ε)(h/n)‖μ‖², minimised by the largest ε', () => {
    // The messages sum to (1 − ε)Σ honest, so mean = (1 − ε)(h/n)·μ and ⟨mean, μ⟩ = (1 − ε)(6/8)‖μ‖².
    const eps = [0.5, 1, 3];
    const r = adaptiveSearch(honest, { f: 2, target: (u) => mean(u), epsilons: eps });
    eps.forEach((e, c) => expect(r.objectives[c]).toBeCloseTo((1 - e) * (6 / 8) * sq, 4));
    expect(r.epsilon).toBe(3);
    expect(r.objective).toBe(r.objectives[2]);
    expect(r.byzantine).toHaveLength(2);
  });

  it('against a pool it minimises the probability-weighted objective', () => {
    // Pool: the mean (weight 0.25) and a rule that ignores the Byzantine vectors (weight 0.75):
    // J(ε) = 0.25·(1 − ε)(6/8)‖μ‖² + 0.75·‖μ‖².
    const honestOnly: Aggregator = (u) => Float32Array.from(meanOf(u.slice(0, 6) as Float32Array[]));
    const r = adaptiveSearch(honest, {
      f: 2,
      target: [(u) => mean(u), honestOnly],
      probabilities: [1, 3],
      epsilons: [0, 2],
    });
    expect(r.objectives[0]).toBeCloseTo(0.25 * 0.75 * sq + 0.75 * sq, 4);
    expect(r.objectives[1]).toBeCloseTo(0.25 * -0.75 * sq + 0.75 * sq, 4);
    expect(r.epsilon).toBe(2);
    expect(adaptive(honest, { f: 2, target: (u) => mean(u), epsilons: [2] })[0]).toEqual(r.byzantine[0]);
    expect(() => adaptive(honest, { f: 1, target: (u) => mean(u), epsilons: [] })).toThrow(/epsilons/);
  });
});
