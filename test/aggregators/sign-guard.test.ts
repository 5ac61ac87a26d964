import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signGuard, signGuardWithDecision, type SignGuardOptions } from '../../src/aggregators/sign-guard.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import {
  attackerPositions,
  distanceInHonestRadii,
  expectError,
  expectFinite,
  hostileKinds,
  insertAt,
  onBothBackends,
} from '../helpers/hostile.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

// Three honest clients with signs (+,+,+,−), a sign-flipper (−,−,−,+) and a huge update with the
// honest signs. Norms 2, √7, √12, 2, 20: the median M = √7.
const rows = rowsOf([
  [1, 1, 1, -1],
  [2, 1, 1, -1],
  [1, 3, 1, -1],
  [-1, -1, -1, 1],
  [10, 10, 10, -10],
]);

describe('signGuard', () => {
  it('filters by norm, keeps the largest sign cluster and clips to the median norm (hand-computed)', () => {
    // Norm filter 0.1·M < ‖x‖ < 3·M = 7.94 drops client 4 (20).
    // Signs over all 4 coordinates (coordinateFraction 1): positive fractions 3/4 ×4 and 1/4,
    // zero fractions 0, negative 1/4 ×4 and 3/4; divided by their maxima (+1e-8): points
    // A ≈ (1, 0, 1/3) for clients 0, 1, 2, 4 and B ≈ (1/3, 0, 1) for client 3, |A − B| = √(8/9).
    // Bandwidth (quantile 0.5, k = ⌊5·0.5⌋ = 2): the 2nd nearest (self first) is 0 for A points
    // and √(8/9) for B, mean h = √(8/9)/5 ≈ 0.189. Modes A (4 points) and B (1) are farther than h
    // apart: two clusters, the largest is {0, 1, 2, 4}. Both filters: {0, 1, 2}.
    // Clipping to M = √7: factors 1, 1, √7/√12. out = (x0 + x1 + (√7/√12)·x2)/3.
    const { aggregate, decision } = signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1 });
    const c = Math.sqrt(7) / Math.sqrt(12);
    const expected = [(1 + 2 + c) / 3, (1 + 1 + 3 * c) / 3, (2 + c) / 3, -(2 + c) / 3];
    expected.forEach((v, k) => expect(aggregate[k]).toBeCloseTo(v, 6));
    expect(decision.medianNorm).toBeCloseTo(Math.sqrt(7), 12);
    expect(decision.normFiltered).toEqual([0, 1, 2, 3]);
    expect(decision.largestCluster).toEqual([0, 1, 2, 4]);
    expect(decision.selected).toEqual([0, 1, 2]);
    expect(Array.from(decision.labels)).toEqual([0, 0, 0, 1, 0]);
    expect(decision.window).toEqual({ start: 0, length: 4 });
    expect(decision.weights[2]).toBeCloseTo(c / 3, 12);
  });

  it('clusters with DBSCAN (FLPoison’s default) and k-means, keeping the largest cluster (hand-computed)', () => {
    // The points of the first test: A ≈ (1, 0, 1/3) for clients 0, 1, 2, 4 and B ≈ (1/3, 0, 1)
    // for client 3, |A − B| = √(8/9) ≈ 0.94. DBSCAN(eps 0.05, minSamples 3): every A point has 4
    // neighbours (itself included) ≥ 3, so A is one cluster; B has 1 and is an outlier (−1).
    // k-means (k = 2) puts A and B in two clusters, the larger (A) numbered 0.
    const meanShift = signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1 });
    const dbscan = signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1, clustering: 'dbscan' });
    const kmeans = signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1, clustering: 'kmeans' });
    expect(Array.from(dbscan.decision.labels)).toEqual([0, 0, 0, -1, 0]);
    expect(Array.from(kmeans.decision.labels)).toEqual([0, 0, 0, 1, 0]);
    for (const r of [dbscan, kmeans]) {
      expect(r.decision.largestCluster).toEqual([0, 1, 2, 4]);
      expect(r.decision.selected).toEqual([0, 1, 2]);
      expect(Array.from(r.aggregate)).toEqual(Array.from(meanShift.aggregate));
    }
    expect(meanShift.decision.clustering).toBe('meanShift');
    expect(dbscan.decision.clustering).toBe('dbscan');
    // minSamples 5: no point has 5 neighbours, nobody is a core point, no cluster: the zero vector.
    const none = signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1, clustering: 'dbscan', minSamples: 5 });
    expect(Array.from(none.decision.labels)).toEqual([-1, -1, -1, -1, -1]);
    expect(Array.from(none.aggregate)).toEqual([0, 0, 0, 0]);
    // A radius past √(8/9) joins B to A's cluster.
    expect(Array.from(signGuardWithDecision(rows, { seed: 1, coordinateFraction: 1, clustering: 'dbscan', eps: 1 }).decision.labels)).toEqual([0, 0, 0, 0, 0]);
  });

  it('DBSCAN labels match the definition: clusters are the eps-connected components of core points plus their border points', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 14 }), fc.integer(), fc.double({ min: 0.01, max: 0.6, noNaN: true }), fc.integer({ min: 1, max: 4 }), (n, seed, eps, minSamples) => {
        const rng = createRng(seed);
        // Signs drawn per client with one of three sign profiles, so that clusters form.
        const profiles = [0.9, 0.5, 0.1];
        const updates = Array.from({ length: n }, () => {
          const p = profiles[rng.nextInt(3)];
          return Float32Array.from({ length: 40 }, () => (rng.next() < p ? 1 : -1));
        });
        const { decision } = signGuardWithDecision(updates, { seed: 1, coordinateFraction: 1, clustering: 'dbscan', eps, minSamples });
        // Rebuild the 3-D features as the rule does and check the labels against the definition.
        const f = updates.map((x) => {
          const pos = x.filter((v) => v > 0).length / 40;
          const neg = x.filter((v) => v < 0).length / 40;
          return [pos, 0, neg];
        });
        const max = [0, 1, 2].map((t) => Math.max(...f.map((p) => p[t])));
        const pts = f.map((p) => p.map((v, t) => v / (max[t] + 1e-8)));
        const near = (i: number, j: number) => Math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1], pts[i][2] - pts[j][2]) <= eps;
        const core = pts.map((_, i) => pts.filter((__, j) => near(i, j)).length >= minSamples);
        const labels = decision.labels;
        for (let i = 0; i < n; i++) {
          if (core[i]) {
            expect(labels[i]).toBeGreaterThanOrEqual(0);
            for (let j = 0; j < n; j++) if (core[j] && near(i, j)) expect(labels[j]).toBe(labels[i]);
          } else {
            const coreNeighbours = pts.map((_, j) => j).filter((j) => core[j] && near(i, j));
            if (coreNeighbours.length === 0) expect(labels[i]).toBe(-1);
            else expect(coreNeighbours.map((j) => labels[j])).toContain(labels[i]);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every clustering keeps huge or blinding clients out and stays near the honest ones', () => {
    const d = 256;
    const honest = gaussianRows(8, d, 71, 1, 0.1);
    for (const clustering of ['dbscan', 'kmeans'] as const) {
      for (const { name, row } of hostileKinds(d)) {
        const rows2 = insertAt(honest, row, [0, 5]);
        const { aggregate, decision } = signGuardWithDecision(rows2, { seed: 4, coordinateFraction: 1, clustering, eps: 0.2 });
        expect(decision.selected, `${clustering} ${name}`).not.toContain(0);
        expectFinite(aggregate);
        expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(2);
      }
    }
  });

  it('rejects bad clustering options, naming them', () => {
    expectError(() => signGuard(rows, { seed: 1, clustering: 'hdbscan' as never }), 'INVALID_OPTION', /clustering must be/);
    expectError(() => signGuard(rows, { seed: 1, clustering: 'dbscan', eps: 0 }), 'INVALID_OPTION', /eps/);
    expectError(() => signGuard(rows, { seed: 1, clustering: 'dbscan', eps: NaN }), 'INVALID_OPTION', /eps/);
    expectError(() => signGuard(rows, { seed: 1, clustering: 'dbscan', minSamples: 0 }), 'INVALID_OPTION', /minSamples/);
    expectError(() => signGuard(rows, { seed: 1, clustering: 'dbscan', minSamples: 2.5 }), 'INVALID_OPTION', /minSamples/);
  });

  it('returns the zero vector when no client passes both filters', () => {
    // upperRatio 0.5 < 1: nobody is within (0.1·M, 0.5·M) here.
    const { aggregate, decision } = signGuardWithDecision(rows, { seed: 1, lowerRatio: 0.1, upperRatio: 0.5 });
    expect(Array.from(aggregate)).toEqual([0, 0, 0, 0]);
    expect(decision.selected).toEqual([]);
  });

  it('draws a seeded contiguous window of ⌊fraction·d⌋ coordinates', () => {
    const many = gaussianRows(7, 200, 4);
    const a = signGuardWithDecision(many, { seed: 5 });
    const b = signGuardWithDecision(many, { rng: createRng(5) });
    expect(a.decision.window.length).toBe(20);
    expect(a.decision.window.start).toBeGreaterThanOrEqual(0);
    expect(a.decision.window.start).toBeLessThanOrEqual(180);
    expect(b.decision.window).toEqual(a.decision.window);
    expect(Array.from(b.aggregate)).toEqual(Array.from(a.aggregate));
    expect(signGuardWithDecision(gaussianRows(3, 5, 1), { seed: 1 }).decision.window.length).toBe(1);
  });

  it('validates options and drops non-finite clients', () => {
    expect(() => signGuard(rows, {})).toThrow(/signGuard is randomized/);
    expect(() => signGuard(rows, { seed: 1, lowerRatio: 2, upperRatio: 1 })).toThrow(RobustAggError);
    expect(() => signGuard(rows, { seed: 1, coordinateFraction: 0 })).toThrow(/coordinateFraction/);
    expect(() => signGuard(rows, { seed: 1, coordinateFraction: 1.5 })).toThrow(/coordinateFraction/);
    const { decision } = signGuardWithDecision([...rows, Float32Array.of(NaN, 0, 0, 0)], { seed: 1 });
    expect(decision.dropped).toEqual([5]);
    expect(decision.labels[5]).toBe(-1);
  });

  it('reads options once and rejects null and unknown keys', () => {
    const rows4 = gaussianRows(5, 6, 2);
    expectError(() => signGuard(rows4, null as unknown as SignGuardOptions), 'INVALID_OPTION', /options must be an object, got null/);
    expectError(() => signGuard(rows4, { seed: 1, upperRatios: 2 } as unknown as SignGuardOptions), 'UNKNOWN_OPTION', /unknown option 'upperRatios'/);
    expectError(() => signGuard(rows4, { seed: 1, lowerRatio: Infinity }), 'INVALID_OPTION', /lowerRatio/);
    expectError(() => signGuard(rows4, { seed: 1, coordinateFraction: 2 }), 'INVALID_OPTION', /coordinateFraction/);
    expectError(() => signGuard(rows4, { rng: {} as SignGuardOptions['rng'] }), 'INVALID_OPTION', /signGuard/);
    let reads = 0;
    const tricky = {
      seed: 1,
      get upperRatio() {
        reads++;
        return reads === 1 ? 3 : -1;
      },
    } as SignGuardOptions;
    expect(() => signGuard(rows4, tricky)).not.toThrow();
    expect(reads).toBe(1);
  });

  it('norm-filters f huge or blinding clients wherever they sit, on both kernels; the output stays near the honest ones', () => {
    const d = 1024;
    const f = 3;
    const honest = gaussianRows(8, d, 71, 1, 0.1);
    onBothBackends((backend) => {
      for (const { name, row } of hostileKinds(d)) {
        for (const positions of attackerPositions(honest.length + f, f)) {
          const rows = insertAt(honest, row, positions);
          const { aggregate, decision } = signGuardWithDecision(rows, { seed: 4, coordinateFraction: 1 });
          for (const p of positions) expect(decision.normFiltered, `${backend} ${name} at ${positions.join(',')}`).not.toContain(p);
          expect(decision.selected.length).toBeGreaterThan(0);
          expectFinite(aggregate);
          expect(distanceInHonestRadii(aggregate, honest)).toBeLessThanOrEqual(2);
        }
      }
    });
  });

  it('pins zero clients: they never pass the norm filter, and a zero median norm gives the zero vector', () => {
    const honest = gaussianRows(5, 8, 9, 1, 0.1);
    const withZeros = insertAt(honest, new Float32Array(8), [0, 3]);
    const { decision } = signGuardWithDecision(withZeros, { seed: 2 });
    expect(decision.normFiltered).not.toContain(0);
    expect(decision.normFiltered).not.toContain(3);
    const mostlyZero = insertAt(honest.slice(0, 2), new Float32Array(8), [0, 1, 2]);
    const result = signGuardWithDecision(mostlyZero, { seed: 2 });
    expect(result.decision.medianNorm).toBe(0);
    expect(result.decision.selected).toEqual([]);
    expect(Array.from(result.aggregate)).toEqual(new Array(8).fill(0));
  });
});

// The window depends on the seed only and mean shift on the values only: permutation invariant.
describeAggregatorProperties({
  name: 'signGuard(seed)',
  run: (u) => signGuard(u, { seed: 3 }),
  minClients: 1,
  translationEquivariant: false, // signs and norms change under translation
});

// DBSCAN's border points and k-means' starts depend on the clients' order: not permutation invariant.
describeAggregatorProperties({
  name: 'signGuard(seed, dbscan)',
  run: (u) => signGuard(u, { seed: 3, clustering: 'dbscan' }),
  minClients: 1,
  translationEquivariant: false,
  permutationInvariant: false,
});

describeAggregatorProperties({
  name: 'signGuard(seed, kmeans)',
  run: (u) => signGuard(u, { seed: 3, clustering: 'kmeans' }),
  minClients: 1,
  translationEquivariant: false,
  permutationInvariant: false,
});
