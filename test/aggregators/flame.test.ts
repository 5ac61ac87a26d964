import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flame, flameWithDecision } from '../../src/aggregators/flame.js';
import { mean } from '../../src/aggregators/mean.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createLayout } from '../../src/core/layout.js';
import { createRng } from '../../src/core/random.js';
import { cosineDistancesFromGram, shiftedGram } from '../../src/kernels/cosine-distances.js';
import { gram } from '../../src/kernels/gram.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

/** Cosine distance of two vectors in float64, straight from the definition (zero vector: 1). */
function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  return aa === 0 || bb === 0 ? 1 : Math.min(2, Math.max(0, 1 - ab / Math.sqrt(aa * bb)));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function sampleStd(x: ArrayLike<number>): number {
  let mu = 0;
  for (let k = 0; k < x.length; k++) mu += x[k];
  mu /= x.length;
  let s = 0;
  for (let k = 0; k < x.length; k++) s += (x[k] - mu) ** 2;
  return Math.sqrt(s / (x.length - 1));
}

// Five 2-D updates, by hand. Directions: c0 = (5,0), c1 = (4,3), c2 = (3,4) have norm 5; c3 = (0,10)
// norm 10; c4 = (−30,−40) norm 50, opposite to c2. Cosine distances 1 − cos: c1–c2 = 1 − 24/25
// = 0.04; c0–c1 = 1 − 20/25 = 0.2; c2–c3 = 1 − 40/50 = 0.2; c0–c2 = c1–c3 = 0.4; c0–c3 = 1;
// c4–c0 = 1.6, c4–c3 = 1.8, c4–c1 = 1.96, c4–c2 = 2. minClusterSize ⌊5/2⌋+1 = 3, minSamples 1
// (mutual reachability = distance). Single linkage: {1,2} at 0.04, then 0 and 3 at 0.2, then c4
// at 1.6. Condensed: c4 leaves the root at λ = 1/1.6; every other point leaves at λ = 1/0.2 = 5,
// the root's largest λ → labels [0,0,0,0,−1]. S = median(5,5,5,10,50) = 5; c3 is clipped by 5/10.
// Output = ((5,0) + (4,3) + (3,4) + (0,5)) / 4 = (3, 3). The plain mean is (−3.6, −4.6).
const hand = rowsOf([
  [5, 0],
  [4, 3],
  [3, 4],
  [0, 10],
  [-30, -40],
]);

describe('flame: hand-computed case', () => {
  it('admits the four aligned clients, clips the long one to S and rejects the opposite one', () => {
    const { aggregate, decision } = flameWithDecision(hand, { lambda: 0 });
    expect(Array.from(aggregate)).toEqual([3, 3]);
    expect(mean(hand)[0]).toBeCloseTo(-3.6, 6);
    expect(mean(hand)[1]).toBeCloseTo(-4.6, 6);
    expect(Array.from(decision.labels)).toEqual([0, 0, 0, 0, -1]);
    expect(decision.admitted).toEqual([0, 1, 2, 3]);
    expect(decision.selected).toEqual([0, 1, 2, 3]);
    expect(decision.medianNorm).toBe(5);
    expect(Array.from(decision.norms)).toEqual([5, 5, 5, 10, 50]);
    expect(Array.from(decision.clipFactors)).toEqual([1, 1, 1, 0.5, 0]);
    expect(Array.from(decision.weights)).toEqual([0.25, 0.25, 0.25, 0.125, 0]);
    expect(decision.sigma).toBe(0);
    expect(decision.rule).toBe('flame');
    expect(decision.n).toBe(5);
    expect(decision.dropped).toEqual([]);
    expect(decision.cosineDistances[0 * 5 + 1]).toBeCloseTo(0.2, 14);
    expect(decision.cosineDistances[1 * 5 + 2]).toBeCloseTo(0.04, 14);
    expect(decision.cosineDistances[2 * 5 + 4]).toBe(2);
    expect(decision.clustering?.lambdas[0]).toBeCloseTo(5, 12);
    expect(decision.clustering?.lambdas[4]).toBeCloseTo(1 / 1.6, 12);
  });

  it('takes S over all clients with numpy’s even-count median, not over the admitted ones', () => {
    // (1,0), (2,0), (3,0), (4,0) are parallel (cosine distance 0, λ = +∞); two copies of (−100,0)
    // sit at distance 2. minClusterSize ⌊6/2⌋+1 = 4: the four parallel ones are admitted.
    // S = median(1, 2, 3, 4, 100, 100) = (3 + 4)/2 = 3.5, so 4 is clipped to 3.5 and the output is
    // (1 + 2 + 3 + 3.5)/4 = 2.375. S over the admitted only would be 2.5 (output 2); the lower
    // middle value (torch's median) would be 3 (output 2.25).
    const rows = rowsOf([[1, 0], [2, 0], [3, 0], [4, 0], [-100, 0], [-100, 0]]);
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0 });
    expect(decision.admitted).toEqual([0, 1, 2, 3]);
    expect(decision.medianNorm).toBe(3.5);
    expect(Array.from(aggregate)).toEqual([2.375, 0]);
  });

  it('adds N(0, (λS)²) noise with λ = 0.001 by default, reproducibly from the seed', () => {
    const a = flameWithDecision(hand, { seed: 3 });
    expect(a.decision.lambda).toBe(0.001);
    expect(a.decision.sigma).toBe(0.005); // λ·S = 0.001·5
    expect(Array.from(a.aggregate)).not.toEqual([3, 3]);
    expect(Math.abs(a.aggregate[0] - 3)).toBeLessThan(0.05); // 10σ
    expect(Array.from(flame(hand, { seed: 3 }))).toEqual(Array.from(a.aggregate));
    expect(Array.from(flame(hand, { seed: 4 }))).not.toEqual(Array.from(a.aggregate));
    expect(Array.from(flame(hand, { rng: createRng(3) }))).toEqual(Array.from(a.aggregate));
  });
});

describe('flame: backdoor shape', () => {
  it('excludes a colluding scaled minority that the mean lets through, admitting ≥ ⌊n/2⌋+1 honest clients', () => {
    // 7 honest updates: a shared direction plus client noise; 3 attackers: one backdoor direction
    // scaled ×20 (model replacement: Δ = γ(X − G)), each with a little noise of its own.
    const d = 400;
    const rng = createRng(11);
    const base = Float32Array.from({ length: d }, () => rng.gaussian());
    const backdoor = Float32Array.from({ length: d }, () => rng.gaussian());
    const honest = Array.from({ length: 7 }, () => base.map((v) => v + 0.8 * rng.gaussian()));
    const attackers = Array.from({ length: 3 }, () => backdoor.map((v) => 20 * (v + 0.05 * rng.gaussian())));
    const updates = [...honest, ...attackers];
    const n = updates.length;
    const { aggregate, decision } = flameWithDecision(updates, { seed: 5 });
    expect(decision.admitted.length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
    expect(decision.admitted.every((i) => i < 7)).toBe(true);
    expect([7, 8, 9].map((i) => decision.labels[i])).toEqual([-1, -1, -1]);
    // Projection on the backdoor direction: the mean carries 3/10 of the scaled attack, FLAME none.
    const bb = dot(backdoor, backdoor);
    const plain = dot(mean(updates), backdoor) / bb;
    const ours = dot(aggregate, backdoor) / bb;
    expect(plain).toBeGreaterThan(5); // ≈ 20 · 3/10 = 6
    expect(Math.abs(ours)).toBeLessThan(0.1);
    // And the honest direction survives: FLAME's output points along `base`.
    expect(cosineDistance(aggregate, base)).toBeLessThan(0.1);
    // S is the median norm over all 10 clients: honest norms ≈ 1.28·√400 ≈ 25.6, attackers ≈ 400.
    expect(decision.medianNorm).toBeLessThan(40);
  });

  it('admits ⌊m/2⌋+1 or more clients on arbitrary data (seeded sweep)', () => {
    for (let seed = 0; seed < 40; seed++) {
      const rng = createRng(seed);
      const n = 3 + rng.nextInt(20);
      const rows = gaussianRows(n, 1 + rng.nextInt(30), seed, rng.gaussian(), 1);
      const { decision } = flameWithDecision(rows, { lambda: 0 });
      expect(decision.admitted.length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
    }
  });
});

describe('flame: small n and degenerate input', () => {
  it('n = 1: admits the client unclipped (S is its own norm)', () => {
    const { aggregate, decision } = flameWithDecision(rowsOf([[3, 4]]), { lambda: 0 });
    expect(Array.from(aggregate)).toEqual([3, 4]);
    expect(decision.admitted).toEqual([0]);
    expect(Array.from(decision.labels)).toEqual([0]);
    expect(decision.medianNorm).toBe(5);
    expect(decision.clustering).toBeNull();
  });

  it('n = 2: admits both and clips the larger to the mean of the two norms', () => {
    // Norms 1 and 3 → S = (1 + 3)/2 = 2; (0,3) becomes (0,2); mean of (1,0) and (0,2) = (0.5, 1).
    const { aggregate, decision } = flameWithDecision(rowsOf([[1, 0], [0, 3]]), { lambda: 0 });
    expect(Array.from(aggregate)).toEqual([0.5, 1]);
    expect(decision.admitted).toEqual([0, 1]);
    expect(decision.medianNorm).toBe(2);
    expect(Array.from(decision.clipFactors)).toEqual([1, 2 / 3]);
    // Even opposite directions: with two clients HDBSCAN always keeps both.
    expect(flameWithDecision(rowsOf([[1, 0], [-5, 0]]), { lambda: 0 }).decision.admitted).toEqual([0, 1]);
  });

  it('all-zero updates: output 0, S = 0, σ = 0, never a division by zero', () => {
    const zeros = Array.from({ length: 5 }, () => new Float32Array(4));
    const { aggregate, decision } = flameWithDecision(zeros, { seed: 1 });
    expect(Array.from(aggregate)).toEqual([0, 0, 0, 0]);
    expect(decision.medianNorm).toBe(0);
    expect(decision.sigma).toBe(0);
    expect(Array.from(decision.clipFactors)).toEqual([1, 1, 1, 1, 1]);
    expect(decision.cosineDistances.every((v, k) => v === (k % 6 === 0 ? 0 : 1))).toBe(true);
  });

  it('a zero update is at cosine distance 1 from every other one', () => {
    const rows = rowsOf([[1, 0], [1, 0.1], [1, -0.1], [0, 0]]);
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0 });
    expect(decision.cosineDistances[3 * 4 + 0]).toBe(1);
    expect(decision.cosineDistances[3 * 4 + 1]).toBe(1);
    expect(decision.labels[3]).toBe(-1);
    expect(aggregate.every(Number.isFinite)).toBe(true);
  });

  it('drops non-finite clients, reports them and clusters the rest', () => {
    const rows = [...hand.slice(0, 4), Float32Array.of(NaN, 1), hand[4]];
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0 });
    expect(decision.dropped).toEqual([4]);
    expect(decision.labels[4]).toBe(-1);
    expect(decision.norms[4]).toBe(Infinity);
    expect(decision.clipFactors[4]).toBe(0);
    expect(decision.clustered).toEqual([0, 1, 2, 3, 5]);
    expect(decision.admitted).toEqual([0, 1, 2, 3]);
    expect(Array.from(aggregate)).toEqual([3, 3]); // the hand case, untouched by the NaN client
    expect(() => flame(rows, { lambda: 0, nonFinite: 'throw' })).toThrow(/client 4 sent NaN/);
  });
});

describe('flame: clusterOn defaults to the models when the global model is given (issue 16)', () => {
  // Honest clients: a shared direction μ plus noise of the same size; attackers: boosted
  // γ·(μ + b + small noise), b a backdoor direction with ‖b‖² = ‖μ‖²/2, γ = n/k (model replacement
  // split over k colluders). Cosines of the updates: honest–honest ≈ 1/2, attacker–honest ≈ 1/√3,
  // attacker–attacker ≈ 1, so the attackers are the tightest group AND closer to every honest client
  // than the honest clients are to each other: clustering the updates admits them. Clustering the
  // models G + Δᵢ (‖Δ‖ ≪ ‖G‖) sees ≈ ‖P(Δᵢ − Δⱼ)‖²/(2‖G‖²), and the boost puts the attackers ≈ 3.9×
  // the honest–honest distance away from everyone: rejected.
  const d = 2000;
  const n = 10;
  const k = 3;
  const rng = createRng(16);
  const mu = Float32Array.from({ length: d }, () => 0.01 * rng.gaussian());
  const b = Float32Array.from({ length: d }, () => 0.01 * Math.SQRT1_2 * rng.gaussian());
  const honest = Array.from({ length: n - k }, () => mu.map((v) => v + 0.01 * rng.gaussian()));
  const gamma = n / k;
  const attackers = Array.from({ length: k }, () => mu.map((v, j) => gamma * (v + b[j] + 0.001 * rng.gaussian())));
  // Attackers at positions 1, 4 and 8.
  const updates = [
    honest[0], attackers[0], honest[1], honest[2], attackers[1],
    honest[3], honest[4], honest[5], attackers[2], honest[6],
  ];
  const bad = [1, 4, 8];
  const global = Float32Array.from({ length: d }, () => rng.gaussian());

  it("without global: clusters the updates Δᵢ (decision.clusterOn 'updates')", () => {
    const { aggregate, decision } = flameWithDecision(updates, { lambda: 0 });
    expect(decision.clusterOn).toBe('updates');
    for (const [i, j] of [[0, 1], [1, 4], [2, 9]]) {
      expect(decision.cosineDistances[i * n + j]).toBeCloseTo(cosineDistance(updates[i], updates[j]), 9);
    }
    const explicit = flameWithDecision(updates, { lambda: 0, clusterOn: 'updates' });
    expect(Array.from(aggregate)).toEqual(Array.from(explicit.aggregate));
    expect(Array.from(decision.labels)).toEqual(Array.from(explicit.decision.labels));
  });

  it("with global: clusters the local models G + Δᵢ (decision.clusterOn 'models'), bit for bit as the explicit option", () => {
    const { aggregate, decision } = flameWithDecision(updates, { seed: 3, global });
    expect(decision.clusterOn).toBe('models');
    const model = (i: number) => Float64Array.from(updates[i], (v, j) => v + global[j]);
    for (const [i, j] of [[0, 1], [1, 4], [2, 9]]) {
      expect(decision.cosineDistances[i * n + j]).toBeCloseTo(cosineDistance(model(i), model(j)), 12);
    }
    const explicit = flameWithDecision(updates, { seed: 3, global, clusterOn: 'models' });
    expect(Array.from(aggregate)).toEqual(Array.from(explicit.aggregate));
    expect(Array.from(decision.cosineDistances)).toEqual(Array.from(explicit.decision.cosineDistances));
    expect(decision.admitted).toEqual(explicit.decision.admitted);
  });

  it("an explicit clusterOn wins: 'updates' with global is the call without global", () => {
    const withG = flameWithDecision(updates, { seed: 3, global, clusterOn: 'updates' });
    const withoutG = flameWithDecision(updates, { seed: 3 });
    expect(withG.decision.clusterOn).toBe('updates');
    expect(Array.from(withG.decision.cosineDistances)).toEqual(Array.from(withoutG.decision.cosineDistances));
    expect(withG.decision.admitted).toEqual(withoutG.decision.admitted);
    expect(Array.from(withG.aggregate)).toEqual(Array.from(withoutG.aggregate));
    // And 'models' without global still throws.
    expect(() => flame(updates, { lambda: 0, clusterOn: 'models' })).toThrow(/needs the global model/);
  });

  it('the two settings admit different clients: the boosted colluders get in on the updates, not on the models', () => {
    const byUpdates = flameWithDecision(updates, { lambda: 0, global, clusterOn: 'updates' }).decision;
    const byDefault = flameWithDecision(updates, { lambda: 0, global });
    // Clustering the updates: every attacker is in the first majority single linkage assembles.
    expect(bad.map((i) => byUpdates.labels[i])).toEqual([0, 0, 0]);
    // The default with global (failed before issue 16, when it clustered the updates): none admitted,
    // and at least ⌊n/2⌋+1 honest clients are.
    expect(bad.map((i) => byDefault.decision.labels[i])).toEqual([-1, -1, -1]);
    expect(byDefault.decision.admitted.length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
    // Same norms and S either way: only the admitted set differs.
    expect(byDefault.decision.medianNorm).toBe(byUpdates.medianNorm);
    // The backdoor component of the output, against that of the honest mean (μ and the honest
    // noise have a small random component along b): clipped but present when clustering the
    // updates, absent when clustering the models.
    const bb = dot(b, b);
    const honestPart = dot(mean(honest), b) / bb;
    const onModels = dot(byDefault.aggregate, b) / bb;
    const onUpdates = dot(flame(updates, { lambda: 0, global, clusterOn: 'updates' }), b) / bb;
    expect(onUpdates - honestPart).toBeGreaterThan(0.2);
    expect(Math.abs(onModels - honestPart)).toBeLessThan(0.05);
  });
});

describe('flame: options', () => {
  it("clusterOn 'models' clusters G + Δᵢ (cosine distances as brute force) and still clips Δ", () => {
    const d = 30;
    const rows = gaussianRows(8, d, 21, 0.2, 1);
    const global = Float32Array.from(gaussianRows(1, d, 22, 0, 3)[0]);
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0, clusterOn: 'models', global });
    for (let i = 0; i < 8; i++) {
      // The models in float64 (flame never rounds G + Δ to float32).
      const mi = Float64Array.from(rows[i], (v, k) => v + global[k]);
      for (let j = 0; j < 8; j++) {
        const mj = Float64Array.from(rows[j], (v, k) => v + global[k]);
        const want = i === j ? 0 : cosineDistance(mi, mj);
        expect(decision.cosineDistances[i * 8 + j]).toBeCloseTo(want, 9);
      }
    }
    // Norms are those of the updates, not of the models.
    expect(decision.norms[0]).toBeCloseTo(Math.sqrt(dot(rows[0], rows[0])), 9);
    // With G = 0 the models are the updates: same output as the default.
    const zero = new Float32Array(d);
    expect(Array.from(flame(rows, { lambda: 0, clusterOn: 'models', global: zero }))).toEqual(
      Array.from(flame(rows, { lambda: 0 })),
    );
    expect(aggregate.length).toBe(d);
  });

  it('per-segment noise: λ·S·std_s on kernels, none on biases and batch norm', () => {
    const layout = createLayout([
      { name: 'dense/kernel', shape: [40, 50], kind: 'kernel' },
      { name: 'dense/bias', shape: [50], kind: 'bias' },
      { name: 'bn/gamma', shape: [50], kind: 'batchnorm-gamma' },
      { name: 'bn/moving_mean', shape: [50], kind: 'batchnorm-statistic', trainable: false },
      { name: 'out/kernel', shape: [50, 30], kind: 'kernel' },
    ]);
    const d = 2000 + 50 * 3 + 1500;
    const rows = gaussianRows(6, d, 31, 0.5, 1);
    const lambda = 0.5; // large, so the noise is measurable against the aggregate
    const clean = flameWithDecision(rows, { lambda: 0 });
    const { aggregate, decision } = flameWithDecision(rows, { lambda, seed: 9, layout });
    const S = decision.medianNorm;
    expect(decision.sigma).toBeCloseTo(lambda * S, 12);
    const sig = decision.segmentSigmas as Float64Array;
    for (const [s, seg] of layout.entries()) {
      const cleanSeg = clean.aggregate.subarray(seg.offset, seg.offset + seg.size);
      const noisySeg = aggregate.subarray(seg.offset, seg.offset + seg.size);
      if (seg.kind !== 'kernel') {
        expect(sig[s]).toBe(0);
        expect(Array.from(noisySeg)).toEqual(Array.from(cleanSeg));
      } else {
        // σ_s = λ·S·std of that segment of the (noiseless) aggregate.
        expect(sig[s]).toBeCloseTo(lambda * S * sampleStd(cleanSeg), 5);
        const diff = noisySeg.map((v, k) => v - cleanSeg[k]);
        expect(sampleStd(diff) / sig[s]).toBeGreaterThan(0.9);
        expect(sampleStd(diff) / sig[s]).toBeLessThan(1.1);
      }
    }
    // With `global`, std_s is that of G + aggregate (the noiseless aggregate of the same call:
    // with `global` the default clusters the models, which may admit other clients).
    const global = Float32Array.from(gaussianRows(1, d, 32, 0, 2)[0]);
    const withGlobal = flameWithDecision(rows, { lambda, seed: 9, layout, global });
    const cleanWithGlobal = flameWithDecision(rows, { lambda: 0, global }).aggregate;
    const seg0 = layout[0];
    const params = Float64Array.from(
      { length: seg0.size },
      (_, k) => global[seg0.offset + k] + cleanWithGlobal[seg0.offset + k],
    );
    expect((withGlobal.decision.segmentSigmas as Float64Array)[0]).toBeCloseTo(lambda * S * sampleStd(params), 5);
  });

  it('global noise has standard deviation λS on every coordinate', () => {
    const rows = gaussianRows(5, 20000, 41, 0.3, 1);
    const clean = flame(rows, { lambda: 0 });
    const { aggregate, decision } = flameWithDecision(rows, { lambda: 0.01, seed: 2 });
    const diff = aggregate.map((v, k) => v - clean[k]);
    expect(sampleStd(diff) / decision.sigma).toBeGreaterThan(0.97);
    expect(sampleStd(diff) / decision.sigma).toBeLessThan(1.03);
  });

  it('rejects bad options with RobustAggError', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(RobustAggError);
      expect(f).toThrow(re);
    };
    bad(() => flame(hand), /flame is randomized: pass \{ seed \} or \{ rng \}/);
    bad(() => flame(hand, { lambda: -1 }), /lambda must be a finite number/);
    bad(() => flame(hand, { lambda: 0, clusterOn: 'weights' as 'models' }), /clusterOn must be/);
    bad(() => flame(hand, { lambda: 0, clusterOn: 'models' }), /needs the global model/);
    bad(() => flame(hand, { lambda: 0, global: new Float32Array(3) }), /global must be a finite Float32Array of length d=2/);
    bad(() => flame(hand, { lambda: 0, global: Float32Array.of(1, NaN) }), /global must be a finite/);
    bad(
      () => flame(hand, { lambda: 0, layout: createLayout([{ name: 'w', shape: [3] }]) }),
      /layout covers 3 values, the updates have d=2/,
    );
  });
});

describe('flame: hostile numbers and options', () => {
  // Regression (issue 14, item 8): λ = 1e300 turned finite updates into a ±Infinity aggregate.
  it('rejects λ outside [0, 1] (λ = 1e300 gave ±Infinity)', () => {
    for (const lambda of [1e300, 1.5, Infinity, NaN, -0.1]) {
      expect(() => flame(hand, { lambda, seed: 1 }), String(lambda)).toThrow(/lambda must be a finite number in \[0, 1\]/);
    }
    const out = flame(hand, { lambda: 1, seed: 1 });
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('throws INVALID_OPTION naming λ and S when the noise would overflow float32', () => {
    const huge = gaussianRows(7, 4, 3).map((r) => r.map((v) => Math.sign(v) * 3e38 + v));
    let error: unknown;
    try {
      flame(huge, { lambda: 1, seed: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RobustAggError);
    expect((error as RobustAggError).code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(/noise .*overflowed float32.*lower lambda/);
    // Without noise the same updates give a finite aggregate (a convex combination of them).
    for (const v of flame(huge, { lambda: 0 })) expect(Number.isFinite(v)).toBe(true);
  });

  it('keeps every output finite with clients up to ±3.4e38 and the default λ', () => {
    const rows = [...gaussianRows(6, 5, 4), new Float32Array(5).fill(3.4e38), new Float32Array(5).fill(-3.4e38)];
    for (const v of flame(rows, { seed: 3 })) expect(Number.isFinite(v)).toBe(true);
  });

  it('rejects null options and unknown keys, and reads each option once', () => {
    expect(() => flame(hand, null as never)).toThrow('flame: options must be an object, got null');
    expect(() => flame(hand, { lamda: 0 } as never)).toThrow(/unknown option 'lamda'/);
    let reads = 0;
    const layout = createLayout([{ name: 'w', shape: [2], kind: 'kernel' }]);
    const options = {
      seed: 1,
      get layout() {
        reads++;
        return reads === 1 ? layout : (null as never);
      },
    };
    expect(flameWithDecision(hand, options).decision.segmentSigmas).toHaveLength(1);
    expect(reads).toBe(1);
  });

  it('rejects an invalid rng with a RobustAggError (not a TypeError)', () => {
    for (const rng of [{}, null, 5, { nextUint32: () => 0, next: () => 0, nextInt: () => 0 }]) {
      expect(() => flame(hand, { rng: rng as never }), JSON.stringify(rng)).toThrow(RobustAggError);
    }
    const nanRng = { ...createRng(1), gaussian: () => NaN };
    expect(() => flame(hand, { rng: nanRng })).toThrow(/rng\.gaussian\(\) must return a finite number/);
    expect(() => flame(hand, { seed: 'x' as never })).toThrow(/seed must be a finite number/);
  });

  it('rejects malformed layout segments with a RobustAggError and reads each segment once', () => {
    expect(() => flame(hand, { lambda: 0, layout: [null] as never })).toThrow(/layout segment 0 must be an object/);
    expect(() => flame(hand, { lambda: 0, layout: 'w' as never })).toThrow(RobustAggError);
    const kinds = createLayout([{ name: 'w', shape: [2], kind: 'kernel' }]);
    expect(() => flame(hand, { lambda: 0, layout: [{ ...kinds[0], kind: 'weights' as never }] })).toThrow(/unknown kind/);
    let reads = 0;
    const segment = {
      ...kinds[0],
      get size() {
        reads++;
        return reads === 1 ? 2 : 1e9;
      },
    };
    const { decision } = flameWithDecision(hand, { seed: 1, layout: [segment] });
    expect(decision.segmentSigmas).toHaveLength(1);
    expect(reads).toBe(1);
  });
});

describe('flame: agrees with the reference on the FLAME-style fixture cases', () => {
  // The fixture's FLAME-style cases were clustered by the hdbscan package on sklearn's cosine
  // distances of `points`; flame recomputes the cosine distances itself (float32 updates, float64
  // Gram) and must reach the same labels.
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/hdbscan/reference-cases.json', import.meta.url), 'utf8'),
  ) as {
    cases: {
      n: number;
      metric: string;
      minClusterSize: number;
      minSamples: number;
      allowSingleCluster: boolean;
      points: number[][];
      labels: number[];
    }[];
  };
  const flameCases = fixture.cases.filter(
    (c) => c.metric === 'cosine' && c.minSamples === 1 && c.allowSingleCluster && c.minClusterSize === Math.floor(c.n / 2) + 1,
  );

  it('gives the reference labels from the raw points', () => {
    expect(flameCases.length).toBe(61);
    const mismatches: number[] = [];
    flameCases.forEach((c, k) => {
      const { decision } = flameWithDecision(rowsOf(c.points), { lambda: 0 });
      if (Array.from(decision.labels).join(',') !== c.labels.join(',')) mismatches.push(k);
    });
    expect(mismatches).toEqual([]);
  });
});

describe('cosine-distance kernel', () => {
  it('matches the definition, puts zero rows at distance 1 and has a zero diagonal', () => {
    const rows = [...gaussianRows(5, 7, 51), new Float32Array(7), new Float32Array(7)];
    const dist = cosineDistancesFromGram(gram(rows, null), rows.length);
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < rows.length; j++) {
        const want = i === j ? 0 : cosineDistance(rows[i], rows[j]);
        expect(dist[i * rows.length + j]).toBeCloseTo(want, 12);
      }
    }
    expect(dist[5 * 7 + 6]).toBe(1); // two zero rows: distance 1 (similarity 0), as sklearn
  });

  it('shiftedGram is the Gram matrix of the shifted rows', () => {
    const rows = gaussianRows(4, 9, 52);
    const y = gaussianRows(1, 9, 53)[0];
    const shifted = shiftedGram(gram([...rows, y], null), 4);
    const direct = gram(
      rows.map((r) => r.map((v, k) => v + y[k])),
      null,
    );
    for (let k = 0; k < 16; k++) expect(shifted[k]).toBeCloseTo(direct[k], 4);
  });
});

describeAggregatorProperties({
  name: 'flame(λ=0)',
  run: (u) => flame(u, { lambda: 0 }),
  minClients: 1,
  translationEquivariant: false,
});
describeAggregatorProperties({
  name: 'flame(λ=0.001, seed)',
  run: (u) => flame(u, { seed: 17 }),
  minClients: 1,
  translationEquivariant: false,
});

describeOptionReading({
  name: 'flame',
  call: (u, o) => flame(u, o as never),
  updates: hand,
  valid: { seed: 1 },
  getter: { key: 'lambda', values: [0.01, 1e300] },
});
