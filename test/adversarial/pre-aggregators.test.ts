// Red-team properties of the pre-aggregators and the pipeline (issue 14): nnm, bucketing, clipping,
// arc, and the compositions a server would use, with hostile clients on both backends.
//
// Guarantees asserted (b ≤ f attackers, δ the honest diameter, r the honest radius, μ the mean):
// - nnm, n ≥ f+1: each honest client's mixed vector is within δ of it (its n − f nearest, itself
//   included, are all within δ: at least n − f − 1 other honest clients are).
// - pipeline(nnm, krum), n ≥ 2f+3: the mixed honest vectors have diameter ≤ 3δ, so the output is
//   within √(n−f−2)·3δ + δ of an honest client.
// - pipeline(nnm, geometricMedian), b < n/2: ‖out − μ‖ ≤ 2h(r + δ)/(h − b) (+ Weiszfeld's stop).
// - pipeline(bucketing(s), coordinateMedian), b < ⌈n/s⌉/2: inside the honest range per coordinate
//   (a bucket without an attacker averages honest clients; fewer than half the buckets are spoiled).
// - clipping(τ): every output norm ≤ τ; pipeline(clipping, mean): ‖out‖ ≤ τ.
// - arc, n ≥ 2f: k = ⌊2f(n−f)/n⌋ ≥ f ≥ b, so every output norm ≤ the largest honest norm, and an
//   update no larger than the (k+1)-th largest norm passes bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arc,
  bucketing,
  clipping,
  coordinateMedian,
  geometricMedian,
  krum,
  mean,
  nnm,
  pipeline,
  RobustAggError,
} from '../../src/index.js';
import {
  buildCase,
  caseArb,
  dist,
  expectFinite,
  expectInBox,
  expectSameBits,
  expectUnchanged,
  expectWithin,
  honestStats,
  norm,
  onBackends,
  roundingSlack,
  RUNS,
  snapshot,
  type CaseSpec,
} from './hostile-data.js';

function declaredF(spec: CaseSpec, fMax: number): number {
  return spec.b + (Math.abs(spec.seed) % (fMax - spec.b + 1));
}

describe('nnm under hostile clients', () => {
  it('keeps each honest mixed vector within δ of its client (honest majority), on both backends; finite; inputs unchanged', () => {
    // nnm needs an honest majority, n ≥ 2f+1 (a Byzantine majority is refused: the Gram's robust
    // centre would be an attacker's row); the bound holds for any b ≤ f.
    fc.assert(
      fc.property(caseArb({ n: [2, 25], maxAttackers: (n) => Math.ceil(n / 2) - 1 }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const before = snapshot(c.rows);
        const { js, wasm } = onBackends(() => nnm(c.rows, { f }));
        expectUnchanged(c.rows, before, 'nnm');
        const slack = roundingSlack(c.d, s.maxAbs, 8);
        for (const [out, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          expect(out.length).toBe(c.n);
          out.forEach((y, i) => expectFinite(y, `nnm (${backend}) row ${i}`));
          for (const i of c.honestIdx) expectWithin(out[i], c.rows[i], s.diameter * (1 + 1e-5) + slack, `nnm (${backend}) honest row ${i}`);
        }
      }),
      RUNS(20),
    );
  });

  it('pipeline(nnm, krum) and pipeline(nnm, geometricMedian) stay near the honest clients', () => {
    fc.assert(
      fc.property(caseArb({ n: [5, 25], maxAttackers: (n) => Math.floor((n - 3) / 2) }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 3) / 2));
        const s = honestStats(c.honest);
        const h = c.honest.length;
        const slack = roundingSlack(c.d, s.maxAbs, 16);
        const withKrum = pipeline((u) => nnm(u, { f }), (u) => krum(u, { f }));
        const withGm = pipeline((u) => nnm(u, { f }), (u) => geometricMedian(u));
        const k = onBackends(() => withKrum(c.rows));
        const g = onBackends(() => withGm(c.rows));
        const reach = Math.sqrt(c.n - f - 2) * 3 * s.diameter + s.diameter;
        for (const backend of ['js', 'wasm'] as const) {
          expectFinite(k[backend], `nnm→krum (${backend})`);
          const near = Math.min(...c.honest.map((x) => dist(k[backend], x)));
          if (!(near <= reach * (1 + 1e-5) + slack)) throw new Error(`nnm→krum (${backend}): ${near} from the nearest honest client > ${reach}`);
          expectFinite(g[backend], `nnm→geometricMedian (${backend})`);
          expectWithin(g[backend], s.mean, (2 * h * (s.radius + s.diameter)) / (h - spec.b) + c.n * 1e-5 + slack, `nnm→geometricMedian (${backend})`);
        }
      }),
      RUNS(20),
    );
  });
});

describe('bucketing under hostile clients', () => {
  it('pipeline(bucketing, coordinateMedian) stays in the honest range when fewer than half the buckets can be spoiled; same seed, same bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((size) =>
          fc.tuple(fc.constant(size), caseArb({ n: [2, 30], maxAttackers: (n) => Math.ceil(Math.ceil(n / size) / 2) - 1 })),
        ),
        ([bucketSize, spec]) => {
          const c = buildCase(spec);
          const s = honestStats(c.honest);
          const run = () => pipeline((u) => bucketing(u, { bucketSize, seed: spec.seed }), (u) => coordinateMedian(u))(c.rows);
          const before = snapshot(c.rows);
          const { js, wasm } = onBackends(run);
          expectUnchanged(c.rows, before, 'bucketing');
          expectSameBits(run(), run(), 'bucketing twice with one seed');
          for (const [out, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
            expectFinite(out, `bucketing→median (${backend})`);
            // Bucket means round to float32 (one rounding of a float64 mean).
            expectInBox(out, s.lo, s.hi, (k) => 2 * 2 ** -23 * Math.max(Math.abs(s.lo[k]), Math.abs(s.hi[k])) + 2 ** -149, `bucketing→median (${backend})`);
          }
        },
      ),
      RUNS(20),
    );
  });
});

describe('clipping and arc under hostile clients', () => {
  it('clipping(τ) bounds every norm by τ, and pipeline(clipping, mean) its output, on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [1, 25], maxAttackers: (n) => n - 1 }), fc.constantFrom(1e-30, 1e-3, 1, 1e3, 1e30), (spec, tauRaw) => {
        const c = buildCase(spec);
        const tau = tauRaw;
        const { js, wasm } = onBackends(() => ({ rows: clipping(c.rows, { tau }), avg: pipeline((u) => clipping(u, { tau }), (u) => mean(u))(c.rows) }));
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const slack = roundingSlack(c.d, tau, 8);
          r.rows.forEach((y, i) => {
            expectFinite(y, `clipping (${backend}) row ${i}`);
            const ny = norm(y);
            if (!(ny <= tau * (1 + 1e-6) + slack)) throw new Error(`clipping (${backend}): row ${i} has norm ${ny} > τ = ${tau}`);
          });
          expectFinite(r.avg, `clipping→mean (${backend})`);
          expect(norm(r.avg)).toBeLessThanOrEqual(tau * (1 + 1e-6) + slack);
        }
      }),
      RUNS(20),
    );
  });

  it('arc bounds every norm by the largest honest norm (n ≥ 2f+1, b ≤ f) and passes small updates bit for bit', () => {
    fc.assert(
      fc.property(caseArb({ n: [2, 31], maxAttackers: (n) => Math.floor((n - 1) / 2) }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const { js, wasm } = onBackends(() => arc(c.rows, { f }));
        const norms = c.rows.map(norm).sort((a, b) => b - a);
        const k = Math.min(c.n - 1, Math.floor((2 * f * (c.n - f)) / c.n));
        for (const [out, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          expect(out.length).toBe(c.n);
          out.forEach((y, i) => {
            expectFinite(y, `arc (${backend}) row ${i}`);
            const ny = norm(y);
            if (!(ny <= s.maxNorm * (1 + 1e-6) + roundingSlack(c.d, s.maxAbs, 8))) {
              throw new Error(`arc (${backend}): row ${i} has norm ${ny} > largest honest norm ${s.maxNorm}`);
            }
            if (norm(c.rows[i]) < norms[k] * (1 - 1e-5)) expectSameBits(y, c.rows[i], `arc (${backend}) row ${i} below the bound`);
          });
        }
      }),
      RUNS(20),
    );
  });

  it('pipeline() without stages is a RobustAggError, not a TypeError (issue 14, item 13)', () => {
    const empty = pipeline as unknown as () => (u: Float32Array[]) => Float32Array;
    expect(() => empty()([new Float32Array(3)])).toThrow(RobustAggError);
  });
});
