// Client weights (issue 18) on the rules that have a weighted form: geometricMedian,
// coordinateMedian, trimmedMean, centeredClipping, flame, multiKrum. Checks: hand-computed cases,
// equal weights = the unweighted rule bit for bit (random and hostile data, both kernel
// backends), the breakdown in terms of Byzantine weight mass, zero weights = absent clients,
// validation, and the error of rules without a weighted form.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulyan } from '../../src/aggregators/bulyan.js';
import { centeredClipping, centeredClippingWithDecision } from '../../src/aggregators/centered-clipping.js';
import { coordinateMedian, coordinateMedianWithDecision } from '../../src/aggregators/coordinate-median.js';
import { flame, flameWithDecision } from '../../src/aggregators/flame.js';
import { geometricMedian, geometricMedianWithDecision } from '../../src/aggregators/geometric-median.js';
import { krum } from '../../src/aggregators/krum.js';
import { meamed } from '../../src/aggregators/meamed.js';
import { multiKrum, multiKrumWithDecision } from '../../src/aggregators/multi-krum.js';
import { trimmedMean, trimmedMeanWithDecision } from '../../src/aggregators/trimmed-mean.js';
import type { Aggregation, Decision } from '../../src/core/decision.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { WEIGHTED_RULES } from '../../src/core/weights.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { expectError, expectFinite, HUGE, hostileCaseArb, onBothBackends } from '../helpers/hostile.js';

type Weights = ArrayLike<number> | undefined;
type Run = (rows: readonly Float32Array[], weights: Weights) => Aggregation<Decision & { clientWeights?: Float64Array }>;

/** Each weighted rule with options that suit n ≥ 5 clients (f = 1 where the rule needs it). */
const RULES: Record<string, Run> = {
  geometricMedian: (rows, weights) => geometricMedianWithDecision(rows, { weights }),
  coordinateMedian: (rows, weights) => coordinateMedianWithDecision(rows, { weights }),
  trimmedMean: (rows, weights) => trimmedMeanWithDecision(rows, { f: 1, weights }),
  centeredClipping: (rows, weights) => centeredClippingWithDecision(rows, { tau: 0.5, iterations: 3, weights }),
  flame: (rows, weights) => flameWithDecision(rows, { lambda: 0.01, seed: 5, weights }),
  multiKrum: (rows, weights) => multiKrumWithDecision(rows, { f: 1, weights }),
};

const bits = (x: ArrayLike<number>): number[] => Array.from(x);

describe('client weights: hand-computed cases', () => {
  const line = [1, 2, 3, 4].map((v) => Float32Array.of(v, -v));

  it('coordinateMedian: the weighted median, midpoint when the cumulative weight is exactly 1/2', () => {
    // Weights 4, 1, 2, 3 (W = 10): C = 4, 5 = W/2 at the value 2 → (2 + 3)/2; second coordinate mirrored.
    expect(bits(coordinateMedian(line, { weights: [4, 1, 2, 3] }))).toEqual([2.5, -2.5]);
    // Weights 6, 1, 2, 1: C = 6 > 5 at the value 1.
    expect(bits(coordinateMedian(line, { weights: [6, 1, 2, 1] }))).toEqual([1, -1]);
    const { decision } = coordinateMedianWithDecision(line, { weights: [6, 1, 2, 1] });
    expect(bits(decision.clientWeights as Float64Array)).toEqual([0.6, 0.1, 0.2, 0.1]);
  });

  it('trimmedMean: trims the weight fraction t/m per tail, partial weights at the cuts', () => {
    // f = 1 of m = 4: β = 1/4 of W = 10, T = 2.5. C = 3, 4, 5, 10. Kept: 1 → [2.5, 3] = 0.5,
    // 2 → 1, 3 → 1, 4 → [5, 7.5] = 2.5: (0.5·1 + 2 + 3 + 2.5·4)/5 = 3.1.
    const out = trimmedMean(line, { f: 1, weights: [3, 1, 1, 5] });
    expect(out[0]).toBeCloseTo(3.1, 6);
    // Values −1..−4 (same weights): sorted −4 (5), −3 (1), −2 (1), −1 (3); kept 2.5, 1, 1, 0.5: −15.5/5.
    expect(out[1]).toBeCloseTo(-3.1, 6);
  });

  it('geometricMedian: on a line it is the weighted median; a point holding more than half the weight is it', () => {
    const rows = rowsOf([[0], [1], [10]]);
    // Weights 2, 1, 2 (W = 5): the weighted median is 1 (C = 2, 3 > 2.5).
    expect(geometricMedian(rows, { weights: [2, 1, 2] })[0]).toBeCloseTo(1, 5);
    // Weights 1, 1, 3: 10 holds 3/5 > 1/2.
    expect(bits(geometricMedian(rows, { weights: [1, 1, 3] }))).toEqual([10]);
    const { decision } = geometricMedianWithDecision(rows, { weights: [1, 1, 3] });
    expect(bits(decision.clientWeights as Float64Array)).toEqual([0.2, 0.2, 0.6]);
  });

  it('centeredClipping: v + Σ wᵢ clip_τ(xᵢ − v)', () => {
    // v₀ = 0, τ = 1, one iteration: (3, 4) is clipped to (0.6, 0.8); the others are inside τ.
    const rows = rowsOf([[0.5, 0], [0, 0.5], [3, 4]]);
    const { aggregate, decision } = centeredClippingWithDecision(rows, { tau: 1, iterations: 1, weights: [1, 1, 2] });
    expect(aggregate[0]).toBeCloseTo(0.25 * 0.5 + 0.5 * 0.6, 6);
    expect(aggregate[1]).toBeCloseTo(0.25 * 0.5 + 0.5 * 0.8, 6);
    expect(bits(decision.clientWeights as Float64Array)).toEqual([0.25, 0.25, 0.5]);
    expect(decision.weights[2]).toBeCloseTo(0.5 * 0.2, 12);
  });

  it('multiKrum: the weighted average of the unweighted selection', () => {
    const rows = rowsOf([[1, 0], [1.1, 0.1], [0.9, -0.1], [1, 0.1], [1.1, 0], [20, 20], [-20, 20]]);
    const plain = multiKrumWithDecision(rows, { f: 2 });
    const { aggregate, decision } = multiKrumWithDecision(rows, { f: 2, weights: [4, 1, 1, 1, 1, 1e6, 1e6] });
    expect(decision.selected).toEqual(plain.decision.selected);
    expect(decision.selected).toEqual([0, 1, 2, 3, 4]);
    expect(bits(decision.weights)).toEqual([0.5, 0.125, 0.125, 0.125, 0.125, 0, 0]);
    expect(aggregate[0]).toBeCloseTo((4 * 1 + 1.1 + 0.9 + 1 + 1.1) / 8, 6);
    expect(aggregate[1]).toBeCloseTo((0 + 0.1 - 0.1 + 0.1 + 0) / 8, 6);
    // The attackers' claimed 10⁶ samples each were never used: they were not selected.
    expect(decision.clientWeights?.[5]).toBeGreaterThan(0.49);
  });

  it('flame: weights enter the average of the admitted, clipped updates only', () => {
    const honest = gaussianRows(8, 30, 3, 0.2, 0.05);
    const attackers = [Float32Array.from({ length: 30 }, (_, k) => (k % 2 === 0 ? 5 : -5)), Float32Array.from({ length: 30 }, (_, k) => (k % 2 === 0 ? 5 : -5.5))];
    const rows = [...honest, ...attackers];
    const counts = [5, 1, 2, 3, 1, 4, 2, 3, 1, 1];
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0, weights: counts });
    const plain = flameWithDecision(rows, { lambda: 0 });
    // Same clustering, same S, same clip factors.
    expect(decision.admitted).toEqual(plain.decision.admitted);
    expect(decision.medianNorm).toBe(plain.decision.medianNorm);
    expect(bits(decision.clipFactors)).toEqual(bits(plain.decision.clipFactors));
    let total = 0;
    for (const b of decision.admitted) total += counts[b];
    for (const b of decision.admitted) expect(decision.weights[b]).toBeCloseTo((decision.clipFactors[b] * counts[b]) / total, 14);
    const expected = new Float64Array(30);
    for (const b of decision.admitted) for (let k = 0; k < 30; k++) expected[k] += decision.weights[b] * rows[b][k];
    for (let k = 0; k < 30; k++) expect(aggregate[k]).toBeCloseTo(expected[k], 6);
    // A rejected client's claimed weight changes nothing.
    const rejected = decision.labels.findIndex((l) => l !== 0);
    expect(rejected).toBeGreaterThanOrEqual(0);
    const lying = counts.slice();
    lying[rejected] = 1e9;
    expect(bits(flame(rows, { lambda: 0, weights: lying }))).toEqual(bits(aggregate));
  });
});

describe('client weights: equal weights give the unweighted rule, bit for bit', () => {
  const weightValues = fc.constantFrom(1, 3, 0.1, 7e-3, 1e300, 5e-324);

  for (const [name, run] of Object.entries(RULES)) {
    it(`${name}: random and hostile rows, both kernel backends`, () => {
      onBothBackends((backend) => {
        fc.assert(
          fc.property(hostileCaseArb({ minHonest: 4, maxHonest: 8, maxF: 2 }), weightValues, fc.boolean(), (c, value, withNaN) => {
            const rows = withNaN ? [...c.rows, Float32Array.from(c.rows[0]).fill(NaN, 0, 1)] : c.rows;
            const plain = run(rows, undefined);
            const weighted = run(rows, new Array(rows.length).fill(value));
            expect(bits(weighted.aggregate), `${name} (${backend})`).toEqual(bits(plain.aggregate));
            if (plain.decision.weights !== undefined) {
              expect(bits(weighted.decision.weights as Float64Array)).toEqual(bits(plain.decision.weights));
            }
            expect(weighted.decision.dropped).toEqual(plain.decision.dropped);
            const applied = weighted.decision.clientWeights as Float64Array;
            for (const i of plain.decision.dropped) expect(applied[i]).toBe(0);
          }),
          { numRuns: 12 },
        );
      });
    });
  }

  it('on Gaussian rows big enough for the WebAssembly kernels (n·d ≥ 2¹⁶)', () => {
    const rows = gaussianRows(9, 8000, 11);
    onBothBackends(() => {
      for (const [name, run] of Object.entries(RULES)) {
        expect(bits(run(rows, new Array(9).fill(2)).aggregate), name).toEqual(bits(run(rows, undefined).aggregate));
      }
    });
  });
});

describe('client weights: one weighted selection path for both backends', () => {
  it('coordinateMedian and trimmedMean with unequal weights give the same bits on the plain and WebAssembly backends', () => {
    fc.assert(
      fc.property(hostileCaseArb({ minHonest: 4, maxHonest: 12, maxF: 3 }), fc.integer({ min: 1, max: 2 ** 30 }), (c, seed) => {
        const rng = createRng(seed);
        const weights = c.rows.map(() => rng.nextInt(6)); // zeros included
        weights[0] += 1;
        const results: number[][] = [];
        onBothBackends(() => {
          results.push(bits(coordinateMedian(c.rows, { weights })), bits(trimmedMean(c.rows, { f: 1, weights })));
        });
        expect(results[2]).toEqual(results[0]);
        expect(results[3]).toEqual(results[1]);
      }),
      { numRuns: 25 },
    );
  });
});

describe('client weights: weight liars and the breakdown in weight mass', () => {
  /** h honest rows near 1 and b hostile rows, with integer weights: Byzantine mass below `limit`·W. */
  const caseArb = (limit: number) =>
    fc
      .record({
        h: fc.integer({ min: 3, max: 8 }),
        b: fc.integer({ min: 1, max: 6 }),
        d: fc.integer({ min: 1, max: 40 }),
        seed: fc.integer(),
        magnitude: fc.constantFrom(10, 1e6, 1e30, HUGE),
        split: fc.boolean(),
      })
      .map(({ h, b, d, seed, magnitude, split }) => {
        const rng = createRng(seed);
        const honest = Array.from({ length: h }, () => Float32Array.from({ length: d }, () => 1 + 0.1 * rng.gaussian()));
        const hostile = Array.from({ length: b }, (_, j) =>
          Float32Array.from({ length: d }, (_, k) => (split && (j + k) % 2 === 1 ? -magnitude : magnitude)),
        );
        const honestWeights = honest.map(() => 1 + rng.nextInt(10));
        const H = honestWeights.reduce((a, x) => a + x, 0);
        // Largest integer Byzantine total B with B < limit·(H + B), i.e. B < limit·H/(1 − limit).
        const room = Math.ceil((limit * H) / (1 - limit)) - 1;
        const share = Math.max(0, Math.floor(room / b));
        const rows: Float32Array[] = [];
        const weights: number[] = [];
        const byzantine: number[] = [];
        let next = 0;
        for (let i = 0; i < h + b; i++) {
          if (i % 2 === 0 && byzantine.length < b) {
            byzantine.push(i);
            rows.push(hostile[byzantine.length - 1]);
            weights.push(share);
          } else if (next < h) {
            rows.push(honest[next]);
            weights.push(honestWeights[next++]);
          } else {
            byzantine.push(i);
            rows.push(hostile[byzantine.length - 1]);
            weights.push(share);
          }
        }
        return { honest, rows, weights, byzantine, honestWeights };
      });

  /** Throws unless every coordinate of x lies within the honest clients' range. */
  function expectInHonestRange(x: Float32Array, honest: readonly Float32Array[], what: string): void {
    for (let k = 0; k < x.length; k++) {
      const col = honest.map((r) => r[k]);
      expect(x[k], `${what} [${k}]`).toBeGreaterThanOrEqual(Math.min(...col));
      expect(x[k], `${what} [${k}]`).toBeLessThanOrEqual(Math.max(...col));
    }
  }

  it('coordinateMedian stays within the honest range while the Byzantine weight mass is < 1/2', () => {
    onBothBackends((backend) => {
      fc.assert(
        fc.property(caseArb(0.5), ({ honest, rows, weights }) => {
          expectInHonestRange(coordinateMedian(rows, { weights }), honest, `coordinateMedian (${backend})`);
        }),
        { numRuns: 60 },
      );
    });
  });

  it('coordinateMedian: one client claiming more than half the weight sets every coordinate', () => {
    fc.assert(
      fc.property(caseArb(0.5), ({ rows, weights, byzantine }) => {
        const liar = byzantine[0];
        const lying = weights.slice();
        lying[liar] = weights.reduce((a, x) => a + x, 0) + 1; // more than all the others together
        expect(bits(coordinateMedian(rows, { weights: lying }))).toEqual(bits(rows[liar]));
      }),
      { numRuns: 40 },
    );
  });

  it('trimmedMean stays within the honest range while the Byzantine weight mass is ≤ the trimmed fraction t/m', () => {
    fc.assert(
      fc.property(caseArb(0.25), ({ honest, rows, weights }) => {
        // t/m ≥ 1/4 (n ≥ 2t + 1 holds: t = ⌈m/4⌉ ≤ (m − 1)/2 for m ≥ 4).
        const t = Math.ceil(rows.length / 4);
        expectInHonestRange(trimmedMean(rows, { f: t, weights }), honest, 'trimmedMean');
      }),
      { numRuns: 60 },
    );
  });

  it('trimmedMean: clients claiming more than the trimmed fraction leave the honest range', () => {
    const honest = gaussianRows(8, 5, 2, 1, 0.1);
    const rows = [...honest, Float32Array.from({ length: 5 }, () => 1e30)];
    // f = 2 of m = 9: β = 2/9 of the weight is trimmed per tail; the liar claims half of it all.
    const out = trimmedMean(rows, { f: 2, weights: [1, 1, 1, 1, 1, 1, 1, 1, 8] });
    for (let k = 0; k < 5; k++) expect(out[k]).toBeGreaterThan(1e29);
  });

  it('geometricMedian stays within its weighted bound while the Byzantine weight mass is < 1/2', () => {
    fc.assert(
      fc.property(caseArb(0.45), ({ honest, rows, weights, byzantine }) => {
        const z = geometricMedian(rows, { weights });
        expectFinite(z);
        // ‖z − x_k‖ ≤ 2·Σ_h α_h‖x_h − x_k‖ / (H − B) for every honest x_k (α normalised; B < H).
        const total = weights.reduce((a, x) => a + x, 0);
        const B = byzantine.reduce((a, i) => a + weights[i], 0) / total;
        const honestIndex = rows.flatMap((_, i) => (byzantine.includes(i) ? [] : [i]));
        const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
          let s = 0;
          for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
          return Math.sqrt(s);
        };
        const xk = honest[0];
        let spread = 0;
        for (const i of honestIndex) spread += (weights[i] / total) * dist(rows[i], xk);
        const bound = (2 * spread) / (1 - 2 * B);
        expect(dist(z, xk)).toBeLessThanOrEqual(bound * 1.01 + 1e-6);
      }),
      { numRuns: 60 },
    );
  });

  it('geometricMedian: a count majority of colluders at 3.4e38 holding less than half the weight cannot blind the Gram', () => {
    // Regression: the Gram's centre and Weiszfeld's scale were unweighted medians, chosen by the
    // four colluders; the honest distances cancelled to noise (~1e30) and the output moved ~1e31.
    const honest = gaussianRows(3, 14, 8, 1, 0.1);
    const huge = Float32Array.from({ length: 14 }, () => HUGE);
    const rows = [huge, honest[0], huge, honest[1], huge, honest[2], huge];
    onBothBackends((backend) => {
      const z = geometricMedian(rows, { weights: [1, 1, 1, 1, 1, 4, 1] });
      for (let k = 0; k < 14; k++) {
        expect(z[k], backend).toBeGreaterThan(0.5);
        expect(z[k], backend).toBeLessThan(1.5);
      }
    });
  });

  it('geometricMedian: one client claiming more than half the weight is the output', () => {
    fc.assert(
      fc.property(caseArb(0.5), ({ rows, weights, byzantine }) => {
        const liar = byzantine[0];
        const lying = weights.slice();
        lying[liar] = weights.reduce((a, x) => a + x, 0) + 1;
        expect(bits(geometricMedian(rows, { weights: lying }))).toEqual(bits(rows[liar]));
      }),
      { numRuns: 40 },
    );
  });

  it('centeredClipping: clients holding the weight fraction b move one iteration by at most b·τ', () => {
    fc.assert(
      fc.property(caseArb(0.5), fc.double({ min: 0.05, max: 2, noNaN: true }), ({ honest, rows, weights, byzantine }, tau) => {
        const total = weights.reduce((a, x) => a + x, 0);
        const b = byzantine.reduce((a, i) => a + weights[i], 0) / total;
        const out = centeredClipping(rows, { tau, iterations: 1, weights });
        // The honest part alone: Σ_h w_h clip_τ(x_h) from v₀ = 0.
        const d = honest[0].length;
        const expected = new Float64Array(d);
        rows.forEach((r, i) => {
          if (byzantine.includes(i)) return;
          let norm = 0;
          for (let k = 0; k < d; k++) norm += r[k] * r[k];
          const c = Math.min(1, tau / Math.sqrt(norm));
          for (let k = 0; k < d; k++) expected[k] += (weights[i] / total) * c * r[k];
        });
        let gap = 0;
        for (let k = 0; k < d; k++) gap += (out[k] - expected[k]) ** 2;
        expect(Math.sqrt(gap)).toBeLessThanOrEqual(b * tau * (1 + 1e-5) + 1e-5);
      }),
      { numRuns: 60 },
    );
  });
});

describe('client weights: zero weights and dropped clients', () => {
  const rows = gaussianRows(7, 12, 4);

  it('a client of weight 0 is the same as an absent one (coordinateMedian, geometricMedian, trimmedMean with f = 0)', () => {
    const weights = [2, 0, 3, 1, 0, 5, 1];
    const kept = rows.filter((_, i) => weights[i] > 0);
    const keptWeights = weights.filter((w) => w > 0);
    onBothBackends(() => {
      expect(bits(coordinateMedian(rows, { weights }))).toEqual(bits(coordinateMedian(kept, { weights: keptWeights })));
      expect(bits(geometricMedian(rows, { weights }))).toEqual(bits(geometricMedian(kept, { weights: keptWeights })));
      expect(bits(trimmedMean(rows, { f: 0, weights }))).toEqual(bits(trimmedMean(kept, { f: 0, weights: keptWeights })));
      const cc = centeredClipping(rows, { tau: 0.3, weights });
      const ccKept = centeredClipping(kept, { tau: 0.3, weights: keptWeights });
      for (let k = 0; k < 12; k++) expect(cc[k]).toBeCloseTo(ccKept[k], 6);
    });
  });

  it('a dropped client loses its weight; the rest are renormalised and reported', () => {
    const withNaN = [...rows.slice(0, 3), Float32Array.from(rows[3]).fill(NaN, 2, 3), ...rows.slice(4)];
    for (const [name, run] of Object.entries(RULES)) {
      const { decision } = run(withNaN, [1, 1, 2, 1000, 1, 2, 3]);
      expect(decision.dropped, name).toEqual([3]);
      expect(bits(decision.clientWeights as Float64Array), name).toEqual([0.1, 0.1, 0.2, 0, 0.1, 0.2, 0.3]);
    }
  });

  it('weights near Number.MAX_VALUE or subnormal give finite outputs', () => {
    for (const weights of [
      [1.7e308, 1e308, 1.7e308, 1e308, 1.7e308, 1e308, 1.7e308],
      [5e-324, 1e-320, 5e-324, 5e-324, 1e-310, 5e-324, 5e-324],
      [Number.MAX_VALUE, 5e-324, 1, 0, 2, 3, 1],
    ]) {
      for (const [name, run] of Object.entries(RULES)) {
        const { aggregate, decision } = run(rows, weights);
        expectFinite(aggregate, `${name} ${weights[0]}`);
        expectFinite(decision.clientWeights as Float64Array, `${name} clientWeights`);
      }
    }
  });

  it('flame and multiKrum throw when every admitted / selected client has weight 0', () => {
    const far = [...rows.slice(0, 6), Float32Array.from({ length: 12 }, () => 50)];
    const onlyFar = [0, 0, 0, 0, 0, 0, 1];
    expectError(() => flame(far, { lambda: 0, weights: onlyFar }), 'INVALID_OPTION', /flame: every admitted client .* has weight 0/);
    expectError(() => multiKrum(far, { f: 1, m: 2, weights: onlyFar }), 'INVALID_OPTION', /multiKrum: every selected client .* has weight 0/);
  });
});

describe('client weights: validation', () => {
  const rows = gaussianRows(5, 4, 9);
  const bad: [unknown, RegExp][] = [
    [[1, 1, 1], /weights has length 3, expected one weight per client \(n=5\)/],
    [[1, 1, -1, 1, 1], /weight of client 2 must be finite and ≥ 0, got -1/],
    [[1, NaN, 1, 1, 1], /weight of client 1 must be finite and ≥ 0, got NaN/],
    [[1, 1, 1, 1, Infinity], /weight of client 4 must be finite and ≥ 0, got Infinity/],
    [[1, '2', 1, 1, 1], /weight of client 1 must be finite and ≥ 0, got "2"/],
    [[0, 0, 0, 0, 0], /every weight is 0/],
    [5, /weights must be an array of n=5 numbers/],
    [null, /weights must be an array of n=5 numbers/],
    ['abcde', /weights must be an array of n=5 numbers/],
  ];

  for (const [name, run] of Object.entries(RULES)) {
    it(`${name}: wrong length, negative, NaN, ±Inf, non-number, all-zero and non-array weights throw INVALID_OPTION`, () => {
      for (const [weights, message] of bad) {
        expectError(() => run(rows, weights as never), 'INVALID_OPTION', new RegExp(`^${name}: ${message.source}`));
      }
      // Only a dropped client has weight: the finite ones sum to 0.
      const withNaN = [...rows.slice(0, 4), Float32Array.of(NaN, 0, 0, 0)];
      expectError(() => run(withNaN, [0, 0, 0, 0, 1]), 'INVALID_OPTION', /weights of the finite clients sum to 0/);
    });
  }

  it('reads each weight once (a getter cannot pass the check with one value and run with another)', () => {
    for (const [name, run] of Object.entries(RULES)) {
      let reads = 0;
      const weights = {
        length: 5,
        get 0() {
          reads++;
          return reads === 1 ? 1 : -5;
        },
        1: 1,
        2: 2,
        3: 1,
        4: 1,
      };
      const { decision } = run(rows, weights);
      expect(reads, name).toBe(1);
      expect(bits(decision.clientWeights as Float64Array), name).toEqual([1 / 6, 1 / 6, 2 / 6, 1 / 6, 1 / 6]);
    }
  });

  it('rules without a weighted form reject weights, saying so and naming the rules that have one', () => {
    const seven = gaussianRows(7, 4, 1);
    const weights = [1, 1, 1, 1, 1, 1, 1];
    const cases: [string, () => unknown][] = [
      ['krum', () => krum(seven, { f: 1, weights } as never)],
      ['bulyan', () => bulyan(seven, { f: 1, weights } as never)],
      ['meamed', () => meamed(seven, { f: 1, weights } as never)],
    ];
    for (const [name, call] of cases) {
      expectError(call, 'UNKNOWN_OPTION', new RegExp(`^${name}: option 'weights' is not accepted: ${name} has no weighted form`));
      expectError(call, 'UNKNOWN_OPTION', new RegExp(WEIGHTED_RULES.join(', ')));
    }
    expect(WEIGHTED_RULES).toEqual([
      'mean',
      'geometricMedian',
      'coordinateMedian',
      'trimmedMean',
      'centeredClipping',
      'flame',
      'multiKrum',
      'crfl',
      'normClippingDp',
    ]);
    // The list cannot drift from the code: exactly the rule files that read a 'weights' option.
    const dir = new URL('../../src/aggregators/', import.meta.url);
    const readers = readdirSync(dir)
      .filter((file) => /readOptions[^;]*'weights'/s.test(readFileSync(new URL(file, dir), 'utf8')))
      .map((file) => file.replace(/\.ts$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()));
    expect([...readers].sort()).toEqual([...WEIGHTED_RULES].sort());
    // Other unknown keys keep their message.
    expectError(() => krum(seven, { f: 1, weight: weights } as never), 'UNKNOWN_OPTION', /krum: unknown option 'weight' \(known: f, nonFinite\)/);
    expect(() => krum(seven, { f: 1, weights } as never)).toThrow(RobustAggError);
  });
});
