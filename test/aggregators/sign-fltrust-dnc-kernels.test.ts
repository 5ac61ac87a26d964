// signMajority, fltrust and dnc moved their hot loops (issue 17): signMajority votes row by row
// over blocks of columns instead of copying columns transposed, fltrust's inner products and norms
// run on a WebAssembly f64x2 kernel, dnc gathers its subsamples in groups. Each must give what the
// previous loop gave: signMajority and dnc the same bits, fltrust its statistics within float64
// summation-order rounding (and the same bits on both kernels).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dncWithDecision, doubleCentre, largestEigenpair } from '../../src/aggregators/dnc.js';
import { sampleIndices } from '../../src/aggregators/catalogue-similarity.js';
import { fltrustWeights, fltrustWithDecision } from '../../src/aggregators/fltrust.js';
import { requireVector } from '../../src/core/options.js';
import { RobustAggError } from '../../src/core/errors.js';
import { squaredNorm } from '../../src/kernels/norms.js';
import { indicesOverInput, weightsOverInput } from '../../src/core/finite-clients.js';
import { lowestScores } from '../../src/aggregators/krum-scores.js';
import { signMajorityWithDecision } from '../../src/aggregators/sign-majority.js';
import { finiteClients, remainingByzantine } from '../../src/core/finite-clients.js';
import { createRng } from '../../src/core/random.js';
import { setKernelBackend } from '../../src/kernels/backend.js';
import { combine } from '../../src/kernels/combine.js';
import { reduceColumnsPlain } from '../../src/kernels/column-select.js';
import { gram } from '../../src/kernels/gram.js';
import { dotsAndSquaredNorms, dotsAndSquaredNormsPlain } from '../../src/kernels/lp-distances.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, HUGE, hugeRow, onBothBackends, outcome } from '../helpers/hostile.js';

const SUBNORMAL = 1.4e-45;

/** Gaussian rows with hostile, sparse, signed-zero, subnormal, quantized and non-finite clients. */
function mixedRows(n: number, d: number, seed: number, kinds: readonly string[]): Float32Array[] {
  const rows = gaussianRows(n, d, seed, 0, 1);
  kinds.slice(0, n).forEach((kind, i) => {
    if (kind === 'huge') rows[i] = hugeRow(d, i % 2 === 0 ? 1 : -1);
    if (kind === 'blinder') rows[i] = blinderRow(d);
    if (kind === 'zeros') rows[i] = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? 0 : -0));
    if (kind === 'subnormal') rows[i] = Float32Array.from({ length: d }, (_, k) => (k % 3 === 0 ? -SUBNORMAL : SUBNORMAL));
    if (kind === 'quantized') rows[i] = Float32Array.from({ length: d }, (_, k) => ((k * (i + 2)) % 3) - 1);
    if (kind === 'max') rows[i] = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? HUGE : -HUGE));
    if (kind === 'nan') rows[i][(seed >>> 0) % d] = NaN;
  });
  return rows;
}

const kindsArb = fc.array(fc.constantFrom('none', 'huge', 'blinder', 'zeros', 'subnormal', 'quantized', 'max', 'nan', 'inf'), {
  maxLength: 9,
});

/** The previous signMajority: columns copied transposed, one count per column. */
function signMajorityBefore(rows: Float32Array[], nonFinite?: 'drop' | 'throw'): { aggregate: Float32Array; ties: number; dropped: readonly number[] } {
  const clients = finiteClients(rows, 'signMajority', nonFinite);
  let ties = 0;
  const aggregate = reduceColumnsPlain(clients.rows, (col, lo, m) => {
    let vote = 0;
    for (let i = lo; i < lo + m; i++) {
      if (col[i] > 0) vote++;
      else if (col[i] < 0) vote--;
    }
    if (vote === 0) {
      ties++;
      return 0;
    }
    return vote > 0 ? 1 : -1;
  });
  return { aggregate, ties, dropped: clients.dropped };
}

/** The previous dnc loop: one subsample at a time (same draws, same Gram, same scores). */
function dncBefore(rows: Float32Array[], f: number, iterations: number, b: number, seed: number) {
  const clients = finiteClients(rows, 'dnc');
  const m = clients.rows.length;
  const d = clients.d;
  const rng = createRng(seed);
  const keep = m - Math.ceil(remainingByzantine(f, clients) - 1e-12);
  const timesKept = new Int32Array(m);
  const sub = clients.rows.map(() => new Float32Array(Math.min(b, d)));
  let scores = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    const columns = sampleIndices(d, Math.min(b, d), rng);
    for (let k = 0; k < m; k++) for (let t = 0; t < columns.length; t++) sub[k][t] = clients.rows[k][columns[t]];
    const centred = doubleCentre(gram(sub, 'robust'), m);
    const { value, vector } = largestEigenpair(centred, m);
    scores = new Float64Array(m);
    if (value > 0) for (let i = 0; i < m; i++) scores[i] = value * vector[i] * vector[i];
    for (const k of lowestScores(scores, keep)) timesKept[k]++;
  }
  const most = Math.max(...timesKept);
  const w = new Float64Array(m);
  const chosen = [...timesKept.keys()].filter((k) => timesKept[k] === most);
  for (const k of chosen) w[k] = 1 / chosen.length;
  return { aggregate: combine(clients.rows, w), timesKept, scores, selected: chosen.map((k) => clients.index[k]) };
}

describe('signMajority: row-major votes', () => {
  it('the same bits, tie count and errors as the transposed column vote, any d, hostile, signed-zero and non-finite rows, both backends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer(),
        kindsArb,
        fc.constantFrom<'drop' | 'throw' | undefined>(undefined, 'drop', 'throw'),
        (n, d, seed, kinds, nonFinite) => {
          const rows = mixedRows(n, d, seed, kinds);
          if (kinds.includes('inf') && n > 1) rows[n - 1][d - 1] = -Infinity;
          onBothBackends(() => {
            const want = outcome(() => signMajorityBefore(rows, nonFinite));
            const got = outcome(() => signMajorityWithDecision(rows, { nonFinite }));
            if ('code' in want) {
              expect(got).toEqual(want);
              return;
            }
            const a = (got as { value: ReturnType<typeof signMajorityWithDecision> }).value;
            expect(Array.from(a.aggregate)).toEqual(Array.from(want.value.aggregate));
            expect(a.aggregate.every((v, k) => Object.is(v, want.value.aggregate[k]))).toBe(true); // +0, never −0
            expect(a.decision.ties).toBe(want.value.ties);
            expect(a.decision.dropped).toEqual(want.value.dropped);
            expect(a.decision.n).toBe(n);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('fltrust: float64 statistics on the WebAssembly kernel', () => {
  it('WebAssembly = plain bit for bit, and both within float64 rounding of a sequential sum, hostile rows, any d', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 40000 }), fc.integer(), kindsArb, (n, d, seed, kinds) => {
        const rows = mixedRows(n, d, seed, kinds.filter((k) => k !== 'nan'));
        const g = gaussianRows(1, d, seed + 1)[0];
        const plain = dotsAndSquaredNormsPlain(rows, g);
        try {
          setKernelBackend('wasm');
          expect(Array.from(dotsAndSquaredNorms(rows, g))).toEqual(Array.from(plain));
        } finally {
          setKernelBackend('auto');
        }
        rows.forEach((x, k) => {
          let dot = 0;
          let norm2 = 0;
          let absDot = 0;
          for (let c = 0; c < d; c++) {
            dot += x[c] * g[c];
            absDot += Math.abs(x[c] * g[c]);
            norm2 += x[c] * x[c];
          }
          expect(Math.abs(plain[k] - dot)).toBeLessThanOrEqual(d * 2 ** -52 * absDot);
          expect(Math.abs(plain[n + k] - norm2)).toBeLessThanOrEqual(d * 2 ** -52 * norm2);
          expect(Number.isFinite(plain[n + k])).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('the same decision on both backends (trust scores, weights, selection), with hostile and non-finite clients', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 20000 }), fc.integer(), kindsArb, (n, d, seed, kinds) => {
        const rows = mixedRows(n, d, seed, kinds);
        if (!rows.some((r) => r.every(Number.isFinite))) return;
        const serverUpdate = gaussianRows(1, d, seed + 2)[0];
        const run = (backend: 'js' | 'wasm') => {
          try {
            setKernelBackend(backend);
            return fltrustWithDecision(rows, { serverUpdate }).decision;
          } finally {
            setKernelBackend('auto');
          }
        };
        const a = run('js');
        const b = run('wasm');
        expect(Array.from(b.trustScores)).toEqual(Array.from(a.trustScores));
        expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
        expect(b.selected).toEqual(a.selected);
        expect(b.dropped).toEqual(a.dropped);
      }),
      { numRuns: 40 },
    );
  });
});

/** fltrust before the fused finiteness check: finiteClients, the option checks, then the statistics. */
function fltrustBefore(rows: Float32Array[], serverUpdate: unknown, nonFinite?: 'drop' | 'throw') {
  const clients = finiteClients(rows, 'fltrust', nonFinite);
  const g0 = requireVector('fltrust', 'serverUpdate', serverUpdate, clients.d);
  const m = clients.rows.length;
  const g0Norm = Math.sqrt(squaredNorm(g0));
  if (g0Norm > 3.4028234663852886e38) throw new RobustAggError('INVALID_OPTION', 'norm');
  const { trust, w, chosen, totalTrust } = fltrustWeights(dotsAndSquaredNorms(clients.rows, g0), m, g0Norm);
  return {
    aggregate: combine(clients.rows, w),
    decision: {
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      trustScores: weightsOverInput(trust, clients),
      totalTrust,
    },
  };
}

describe('fltrust: the statistics pass doubles as the finiteness check', () => {
  it('same output bits, decision and errors as the separate pass, with non-finite clients and bad server updates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 20000 }),
        fc.integer(),
        kindsArb,
        fc.constantFrom('ok', 'short', 'nan', 'huge', 'array'),
        fc.constantFrom<'drop' | 'throw' | undefined>(undefined, 'drop', 'throw'),
        (n, d, seed, kinds, server, nonFinite) => {
          const rows = mixedRows(n, d, seed, kinds);
          const g = gaussianRows(1, d, seed + 3)[0];
          const serverUpdate =
            server === 'short' ? g.subarray(1) : server === 'nan' ? Float32Array.from(g, (v, k) => (k === 0 ? NaN : v)) : server === 'huge' ? hugeRow(d) : server === 'array' ? Array.from(g) : g;
          onBothBackends(() => {
            const want = outcome(() => fltrustBefore(rows, serverUpdate, nonFinite));
            const got = outcome(() => fltrustWithDecision(rows, { serverUpdate: serverUpdate as Float32Array, nonFinite }));
            if ('code' in want) {
              expect(got).toEqual(want);
              return;
            }
            expect('value' in got).toBe(true);
            const a = (got as { value: ReturnType<typeof fltrustWithDecision> }).value;
            expect(Array.from(a.aggregate)).toEqual(Array.from(want.value.aggregate));
            expect(a.decision.dropped).toEqual(want.value.decision.dropped);
            expect(a.decision.selected).toEqual(want.value.decision.selected);
            expect(Array.from(a.decision.weights)).toEqual(Array.from(want.value.decision.weights));
            expect(Array.from(a.decision.trustScores)).toEqual(Array.from(want.value.decision.trustScores));
            expect(a.decision.totalTrust).toBe(want.value.decision.totalTrust);
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('dnc: subsamples gathered in groups', () => {
  it('the same bits as one subsample at a time (aggregate, selection, counts, last scores), both backends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer(),
        kindsArb,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 700 }),
        (n, d, seed, kinds, iterations, b) => {
          const rows = mixedRows(n, d, seed, kinds);
          if (rows.filter((r) => r.every(Number.isFinite)).length < 2) return;
          const f = 1;
          onBothBackends(() => {
            const want = dncBefore(rows, f, iterations, b, seed);
            const got = dncWithDecision(rows, { f, iterations, subsampleDimension: b, seed });
            expect(Array.from(got.aggregate)).toEqual(Array.from(want.aggregate));
            expect(got.decision.selected).toEqual(want.selected);
            expect(Array.from(got.decision.timesKept).filter((_, i) => !got.decision.dropped.includes(i))).toEqual(Array.from(want.timesKept));
            expect(Array.from(got.decision.scores).filter((_, i) => !got.decision.dropped.includes(i))).toEqual(Array.from(want.scores));
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
