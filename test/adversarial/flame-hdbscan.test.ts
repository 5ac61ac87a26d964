// Red-team properties of FLAME, HDBSCAN and cosineDistances (issue 14, items 1, 8, 9): hostile
// clients must not blind the norms or cosines FLAME decides on, get admitted when they point
// elsewhere, or push the output past the clipping bound; hostile distance matrices are refused.
//
// Guarantees asserted (b attackers, h honest):
// - b < n/2: the clipping bound S = median ‖Δᵢ‖ lies between the smallest and the largest honest
//   norm, and with λ = 0, ‖out‖ ≤ S (a mean of updates clipped to S).
// - An attacker whose cosine distance to every honest client exceeds the largest honest–honest
//   cosine distance joins the single-linkage tree after all honest clients have merged, in a
//   group smaller than minClusterSize = ⌊n/2⌋+1: it leaves the root first and is never admitted.
// - HDBSCAN with FLAME's parameters admits at least ⌊n/2⌋+1 points of any finite matrix.
// - 'js' and 'wasm' give the same admitted set and S within float32 tolerance; same seed, same bits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosineDistances, flame, flameWithDecision, hdbscan, RobustAggError } from '../../src/index.js';
import {
  buildCase,
  caseArb,
  expectFinite,
  expectSameBits,
  expectUnchanged,
  honestStats,
  norm,
  onBackends,
  robustOrNull,
  roundingSlack,
  RUNS,
  snapshot,
  type HostileCase,
} from './hostile-data.js';

/** Exact cosine distance 1 − cos (1 for a zero vector), clamped to [0, 2]. */
function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return 1;
  return Math.min(2, Math.max(0, 1 - dot / (na * nb)));
}

/** Whether every attacker is farther (in cosine) from every honest client than any two honest ones are. */
function cosineSeparated(c: HostileCase): boolean {
  let honestWidth = 0;
  for (let i = 0; i < c.honest.length; i++) for (let j = 0; j < i; j++) honestWidth = Math.max(honestWidth, cosineDistance(c.honest[i], c.honest[j]));
  let gap = Infinity;
  for (const a of c.attackerIdx) for (const x of c.honest) gap = Math.min(gap, cosineDistance(c.rows[a], x));
  return gap > honestWidth * (1 + 1e-3) + 1e-4;
}

describe('flame under hostile clients', () => {
  it('keeps S within the honest norms and ‖out‖ ≤ S (λ = 0, b < n/2), admits no cosine-separated attacker, on both backends', () => {
    fc.assert(
      fc.property(
        caseArb({ n: [3, 31], maxAttackers: (n) => Math.ceil(n / 2) - 1, centres: [0, 1, 30, 30] }),
        (spec) => {
          const c = buildCase(spec);
          const s = honestStats(c.honest);
          const before = snapshot(c.rows);
          const { js, wasm } = onBackends(() => flameWithDecision(c.rows, { lambda: 0 }));
          expectUnchanged(c.rows, before, 'flame');
          const separated = cosineSeparated(c);
          for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
            const what = `flame (${backend})`;
            expectFinite(r.aggregate, what);
            const S = r.decision.medianNorm;
            if (!(S >= s.minNorm * (1 - 1e-5) && S <= s.maxNorm * (1 + 1e-5))) {
              throw new Error(`${what}: S = ${S} outside the honest norms [${s.minNorm}, ${s.maxNorm}]`);
            }
            for (const i of c.honestIdx) {
              const exact = norm(c.rows[i]);
              if (!(Math.abs(r.decision.norms[i] - exact) <= 1e-5 * exact)) throw new Error(`${what}: norm of honest client ${i} is ${r.decision.norms[i]}, exact ${exact}`);
            }
            const o = norm(r.aggregate);
            if (!(o <= S * (1 + 1e-5) + roundingSlack(c.d, s.maxAbs, 8))) throw new Error(`${what}: ‖out‖ = ${o} > S = ${S}`);
            expect(r.decision.admitted.length).toBeGreaterThanOrEqual(Math.floor(c.n / 2) + 1);
            if (separated) {
              const bad = r.decision.admitted.filter((i) => c.attackerIdx.includes(i));
              if (bad.length > 0) throw new Error(`${what} admitted cosine-separated attacker(s) ${bad}`);
            }
          }
          // Which honest clients are admitted hinges on their mutual cosine distances, which can be
          // below float32 resolution (honest clients 1e-7 apart): only the attackers' exclusion and
          // S are compared across backends.
          expect(Math.abs(wasm.decision.medianNorm - js.decision.medianNorm)).toBeLessThanOrEqual(1e-5 * js.decision.medianNorm);
        },
      ),
      RUNS(25),
    );
  });

  it('is finite with noise (λ = 0.001, seeded), gives the same bits for the same seed, and refuses λ = 1e300 (issue 14, item 8)', () => {
    fc.assert(
      fc.property(caseArb({ n: [2, 20], maxAttackers: (n) => n - 1 }), (spec) => {
        const c = buildCase(spec);
        const a = robustOrNull(() => flame(c.rows, { seed: spec.seed }), 'flame');
        const b = robustOrNull(() => flame(c.rows, { seed: spec.seed }), 'flame');
        if (a === null || b === null) {
          expect(a).toBe(b);
          return;
        }
        expectFinite(a, 'flame with noise');
        expectSameBits(a, b, 'flame twice with one seed');
      }),
      RUNS(15),
    );
    const rows = [Float32Array.of(1, 2), Float32Array.of(2, 1), Float32Array.of(1, 1)];
    const out = robustOrNull(() => flame(rows, { lambda: 1e300, seed: 1 }), 'flame');
    if (out !== null) expectFinite(out, 'flame with λ = 1e300');
  });
});

describe('cosineDistances and hdbscan under hostile input', () => {
  it('cosineDistances of hostile clients is symmetric, zero on the diagonal, finite in [0, 2], the same on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [1, 24], maxAttackers: (n) => n - 1 }), (spec) => {
        const c = buildCase(spec);
        const { js, wasm } = onBackends(() => cosineDistances(c.rows));
        for (const [m, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          for (let i = 0; i < c.n; i++) {
            if (m[i * c.n + i] !== 0) throw new Error(`cosineDistances (${backend}): diagonal ${i} is ${m[i * c.n + i]}`);
            for (let j = 0; j < c.n; j++) {
              const v = m[i * c.n + j];
              if (!(v >= 0 && v <= 2) || v !== m[j * c.n + i]) throw new Error(`cosineDistances (${backend}): entry (${i}, ${j}) = ${v}, (${j}, ${i}) = ${m[j * c.n + i]}`);
            }
          }
        }
        for (let t = 0; t < js.length; t++) {
          if (!(Math.abs(js[t] - wasm[t]) <= 1e-5)) throw new Error(`cosineDistances: entry ${t} is ${wasm[t]} on wasm, ${js[t]} on js`);
        }
        // FLAME's clustering of hostile clients admits a majority.
        if (c.n > 1) {
          const { labels } = hdbscan(js, { n: c.n, minClusterSize: Math.floor(c.n / 2) + 1, minSamples: 1, allowSingleCluster: true });
          expect(labels.filter((l) => l === 0).length).toBeGreaterThanOrEqual(Math.floor(c.n / 2) + 1);
        }
      }),
      RUNS(20),
    );
  });

  it('hdbscan on finite hostile matrices (1e308, 0, ties, +∞) gives labels in {−1, 0, …} and finite core distances', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.oneof(fc.constantFrom(0, 1e-300, 1, 1e308, Number.MAX_VALUE, Infinity), fc.double({ min: 0, max: 1e308, noNaN: true })), {
              minLength: (n * (n - 1)) / 2,
              maxLength: (n * (n - 1)) / 2,
            }),
            fc.integer({ min: 2, max: 8 }),
          ),
        ),
        ([n, upper, minClusterSize]) => {
          const m = new Float64Array(n * n);
          let t = 0;
          for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = upper[t++];
          const finite = upper.every(Number.isFinite);
          const r = robustOrNull(() => hdbscan(m, { n, minClusterSize, minSamples: 1 }), 'hdbscan');
          if (r === null) return;
          expect(r.labels.length).toBe(n);
          for (const l of r.labels) expect(l).toBeGreaterThanOrEqual(-1);
          if (finite) expectFinite(r.coreDistances, 'hdbscan core distances');
          for (const v of r.lambdas) expect(v >= 0).toBe(true);
        },
      ),
      RUNS(40),
    );
  });

  it('rejects asymmetric matrices, a non-zero diagonal, NaN and strings with a RobustAggError (issue 14, item 9)', () => {
    const base = [
      [0, 1, 2],
      [1, 0, 3],
      [2, 3, 0],
    ];
    const bad: unknown[] = [
      [[0, 1, 2], [1.5, 0, 3], [2, 3, 0]],
      [[1, 1, 2], [1, 0, 3], [2, 3, 0]],
      [[0, NaN, 2], [NaN, 0, 3], [2, 3, 0]],
      [[0, '1', 2], ['1', 0, 3], [2, 3, 0]],
      [[0, -1, 2], [-1, 0, 3], [2, 3, 0]],
      Float64Array.of(0, 1, 2, 1, 0, 3, 2, 1e300, 0),
    ];
    expect(hdbscan(base, { minClusterSize: 2 }).labels.length).toBe(3);
    for (const m of bad) expect(() => hdbscan(m as number[][], { minClusterSize: 2 })).toThrow(RobustAggError);
  });
});
