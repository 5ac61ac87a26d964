// Rows that are the same array object (Sybil clients sending one message; the Byrd-SAGA
// experiment's 20 Byzantine workers, issue 16) are computed once by the WebAssembly Gram kernel
// (GramWorkspace.gramChunk, src/kernels/wasm/workspace.ts). The result must be the bits of the
// same rows passed as distinct copies — on random and hostile data, for every centre, wherever
// the duplicates sit, when the duplicated row is the robust centre, on one thread and when worker
// threads (which receive copies, so no identity) compute some of the chunks — and the decisions of
// the rules built on the Gram matrix must not change.
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { geometricMedianWithDecision } from '../../src/aggregators/geometric-median.js';
import { krumWithDecision } from '../../src/aggregators/krum.js';
import { multiKrumWithDecision } from '../../src/aggregators/multi-krum.js';
import { createRng, gaussianVector, type Rng } from '../../src/core/random.js';
import { initKernels, kernelStatus, releaseKernelResources, setKernelBackend, setKernelThreads } from '../../src/kernels/backend.js';
import { gram, gramPlain, medianMagnitudeRow, type GramCentre } from '../../src/kernels/gram.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';
import { gramPlan } from '../../src/kernels/wasm/drivers.js';
import { gramKernels, kernelWorkspace } from '../../src/kernels/wasm/instance.js';
import { attackerPositions, blinderRow, hugeRow } from '../helpers/hostile.js';

const saved = { ...kernelConfig };

afterEach(() => {
  Object.assign(kernelConfig, saved);
  setKernelThreads(1);
});

afterAll(() => {
  Object.assign(kernelConfig, saved);
  releaseKernelResources();
  setKernelBackend('auto');
  setKernelThreads('auto');
});

/** Index of the first entry whose bits differ (−1: none; NaN equals NaN, 0 differs from −0). */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return k;
  return -1;
}

function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const k = firstDifference(a, b);
  expect(k, `${what}: entry ${k} differs (${a[k]} vs ${b[k]})`).toBe(-1);
}

/** The same rows as distinct arrays (same values, no two rows the same object). */
const copies = (rows: readonly Float32Array[]): Float32Array[] => rows.map((r) => Float32Array.from(r));

const distinctCount = (rows: readonly Float32Array[]): number => new Set(rows).size;

function gaussian(d: number, rng: Rng, scale = 1, centre = 0): Float32Array {
  return gaussianVector(d, rng, centre, scale);
}

/** `honest` with one array object inserted (not copied) at each of `positions`. */
function withSybils(honest: readonly Float32Array[], sybil: Float32Array, positions: readonly number[]): Float32Array[] {
  const out = [...honest];
  for (const p of [...positions].sort((a, b) => a - b)) out.splice(p, 0, sybil);
  return out;
}

/** The Gram matrix of `rows` (with repeats) and of their copies, on the WebAssembly kernel. */
function expectGramUnchanged(rows: readonly Float32Array[], centre: GramCentre, what: string): void {
  expect(distinctCount(rows)).toBeLessThan(rows.length);
  setKernelBackend('wasm');
  const withRepeats = gram(rows, centre);
  const asCopies = gram(copies(rows), centre);
  expectSameBits(withRepeats, asCopies, what);
}

const CENTRES: [string, (d: number) => GramCentre][] = [
  ['robust', () => 'robust'],
  ['null', () => null],
  ['a vector', (d) => gaussian(d, createRng(99), 3)],
];

describe('the Gram kernel with rows that are the same array', () => {
  it('gramChunk: the n×n lower triangle of the distinct rows’ matrix, the upper triangle 0', () => {
    setKernelBackend('wasm');
    const ws = kernelWorkspace(gramKernels)!;
    expect(ws).not.toBeNull();
    const rng = createRng(1);
    const a = gaussian(700, rng);
    const b = gaussian(700, rng, 1e30); // scaled by its own power of two
    const c = gaussian(700, rng, 1e-30);
    const rows = [b, a, b, c, a, a, b];
    for (const centre of ['robust', null] as const) {
      const n = rows.length;
      const out = new Float64Array(n * n).fill(Number.NaN);
      const ref = new Float64Array(n * n).fill(Number.NaN);
      expect(ws.gramChunk(rows, centre, 0, 700, 256, out)).toBe(true);
      expect(ws.gramChunk(copies(rows), centre, 0, 700, 256, ref)).toBe(true);
      expectSameBits(out, ref, `gramChunk, centre ${centre}`);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(out[i * n + j]).toBe(0);
      // Same array, same entries: row 5 (a) repeats row 1's products.
      for (let j = 0; j <= 1; j++) expect(Object.is(out[5 * n + j], out[Math.max(1, j) * n + Math.min(1, j)])).toBe(true);
    }
  });

  it('random rows and repeat patterns: same bits as distinct copies, every centre (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 1, max: 2500 }),
        fc.array(fc.integer({ min: -1, max: 39 }), { minLength: 40, maxLength: 40 }),
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 1e9 }),
        (n, d, picks, logScales, centreKind, seed) => {
          const rng = createRng(seed);
          const rows: Float32Array[] = [];
          for (let i = 0; i < n; i++) {
            // picks[i] ≥ 0: repeat an earlier row (the same object); otherwise a new one.
            const p = picks[i];
            rows.push(i > 0 && p >= 0 ? rows[p % i] : gaussian(d, rng, Math.exp(logScales[i] * 4)));
          }
          if (distinctCount(rows) === n) rows[n - 1] = rows[0];
          expectGramUnchanged(rows, CENTRES[centreKind][1](d), `n ${n}, d ${d}, centre ${CENTRES[centreKind][0]}`);
        },
      ),
      { numRuns: 60, seed: 16 },
    );
  });

  describe.each(CENTRES)('hostile rows, centre %s', (_name, makeCentre) => {
    const n = 17;
    const f = 5;
    const d = 20_000; // 3 blocks (kernel calls) of 8192 columns for n = 17
    const rng = createRng(7);
    const honest = Array.from({ length: n - f }, () => gaussian(d, rng, 0.1, 1));
    const subnormal = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? 1e-45 : -3e-42));
    const mixed = Float32Array.from({ length: d }, (_, k) => (k % 7 === 0 ? 3.4e38 : k % 7 === 1 ? 1e-40 : 0));
    const sybils: [string, Float32Array][] = [
      ['huge (±3.4e38)', hugeRow(d)],
      ['-huge', hugeRow(d, -1)],
      ['blinder (1e30 every 256th)', blinderRow(d)],
      ['subnormal', subnormal],
      ['huge and subnormal', mixed],
      ['zero', new Float32Array(d)],
      ['honest-looking', gaussian(d, rng, 0.1, 1)],
    ];
    it.each(sybils)('%s, repeated at the front, spread and at the end', (_kind, sybil) => {
      const centre = makeCentre(d);
      for (const positions of attackerPositions(n, f)) {
        expectGramUnchanged(withSybils(honest, sybil, positions), centre, `positions ${positions.join(',')}`);
      }
      // Two groups of repeats, interleaved (the later distinct rows' indices cross the earlier).
      const other = honest[3];
      const rows = [sybil, other, ...honest.slice(0, 4), other, sybil, other, ...honest.slice(4), sybil];
      expectGramUnchanged(rows, centre, 'two interleaved groups');
    });
  });

  it('the duplicated row is the robust centre (its index among all n rows, duplicates counted)', () => {
    const d = 2048;
    const rng = createRng(11);
    // Honest rows of magnitudes 1 … 9; the sybil's magnitude 4.5 sits in the middle, and with its
    // four copies counted it is the lower median of all 13 rows (it would not be among 10).
    const honest = Array.from({ length: 9 }, (_, i) => gaussian(d, rng, 0.2 * (i + 1)));
    const sybil = gaussian(d, rng, 0.9);
    for (const positions of [[0, 1, 2, 3], [2, 5, 8, 11], [9, 10, 11, 12]]) {
      const rows = withSybils(honest, sybil, positions);
      const block = gramPlan(rows.length, d).block;
      for (let c0 = 0; c0 < d; c0 += block) {
        expect(rows[medianMagnitudeRow(rows, c0, Math.min(d, c0 + block))]).toBe(sybil);
      }
      expectGramUnchanged(rows, 'robust', `sybil at ${positions.join(',')}`);
    }
    // A row that is the centre only because its copies are counted: among the distinct rows alone
    // the median is another row, so a kernel that chose the centre over distinct rows would differ.
    const few = [honest[0], honest[1], honest[8], sybil, sybil, sybil];
    expect(few[medianMagnitudeRow(few, 0, d)]).toBe(sybil);
    expect([honest[0], honest[1], honest[8], sybil][medianMagnitudeRow([honest[0], honest[1], honest[8], sybil], 0, d)]).not.toBe(sybil);
    expectGramUnchanged(few, 'robust', 'centre only with copies counted');
  });

  it('a repeated row holding NaN or ±∞: the call falls back, same bits as distinct copies', () => {
    const rng = createRng(5);
    const honest = Array.from({ length: 8 }, () => gaussian(900, rng));
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const sybil = gaussian(900, rng);
      sybil[417] = bad;
      for (const centre of ['robust', null] as const) {
        const rows = withSybils(honest, sybil, [0, 4, 9]);
        expectGramUnchanged(rows, centre, `${bad}, centre ${centre}`);
        expectSameBits(gram(rows, centre), gramPlain(copies(rows), centre), 'falls back to the plain kernel');
      }
    }
  });

  it('the plain kernel: same bits with repeats as with copies', () => {
    const rng = createRng(3);
    const honest = Array.from({ length: 6 }, () => gaussian(1500, rng));
    const rows = withSybils(honest, hugeRow(1500), [0, 3, 7]);
    for (const centre of ['robust', null] as const) expectSameBits(gramPlain(rows, centre), gramPlain(copies(rows), centre), `plain, ${centre}`);
  });
});

describe('worker threads (they receive copies of the rows: identity is lost there)', () => {
  it('same bits on 1 and 2 threads, with repeats and as copies (thresholds lowered)', async () => {
    setKernelBackend('wasm');
    kernelConfig.minParallelGram = 0;
    const rng = createRng(21);
    const d = 40_000; // 5 blocks of 8192 for n = 12: 5 chunks
    expect(gramPlan(12, d).chunks).toBeGreaterThan(1);
    const honest = Array.from({ length: 8 }, () => gaussian(d, rng, 0.1, 1));
    const cases = [gaussian(d, rng, 0.1, 1), hugeRow(d), blinderRow(d)].flatMap((sybil) =>
      (['robust', null] as const).map((centre) => ({ rows: withSybils(honest, sybil, [0, 5, 10, 11]), centre })),
    );
    setKernelThreads(1);
    const one = cases.map(({ rows, centre }) => gram(rows, centre));
    setKernelThreads(2);
    expect(await initKernels()).toBe(true);
    const before = kernelStatus().workerChunks;
    cases.forEach(({ rows, centre }, t) => {
      expectSameBits(gram(rows, centre), one[t], `2 threads vs 1, centre ${centre}`);
      expectSameBits(gram(copies(rows), centre), one[t], `copies on 2 threads vs repeats on 1, centre ${centre}`);
    });
    // Some chunks ran on the worker (which chunks the calling thread takes depends on timing).
    expect(kernelStatus().workerChunks).toBeGreaterThan(before);
  });

  it('at the default threshold (n²d/2 ≥ 2²⁷): krum unchanged', async () => {
    setKernelBackend('auto');
    setKernelThreads(2);
    expect(await initKernels()).toBe(true);
    const rng = createRng(31);
    const n = 24;
    const d = 480_000; // n²d/2 = 1.38e8 ≥ 2²⁷
    expect((n * n * d) / 2).toBeGreaterThanOrEqual(2 ** 27);
    const honest = Array.from({ length: n - 6 }, () => gaussian(d, rng, 0.1, 1));
    const sybil = gaussian(d, rng, 0.1, -1);
    const rows = withSybils(honest, sybil, [0, 4, 9, 13, 20, 23]);
    const twin = copies(rows);
    const before = kernelStatus().workerChunks;
    expectSameBits(gram(rows, 'robust'), gram(twin, 'robust'), 'gram');
    expect(kernelStatus().workerChunks).toBeGreaterThan(before);
    const k1 = krumWithDecision(rows, { f: 6 });
    const k2 = krumWithDecision(twin, { f: 6 });
    expectSameBits(k1.aggregate, k2.aggregate, 'krum');
    expectSameBits(k1.decision.scores, k2.decision.scores, 'krum scores');
  }, 60_000);
});

describe('rules on the Gram matrix: the same decisions and aggregates', () => {
  const rng = createRng(41);
  const d = 39_760; // the Byrd-SAGA model's size
  const honest = Array.from({ length: 50 }, () => gaussian(d, rng, 0.05, 0.01));
  const attacks: [string, Float32Array][] = [
    ['sign-flip-like', gaussian(d, rng, 0.05, -0.03)],
    ['huge', hugeRow(d)],
    ['blinder', blinderRow(d)],
  ];
  it.each(attacks)('%s: 20 workers send one array (krum, multiKrum, geometricMedian)', (_name, sybil) => {
    setKernelBackend('auto');
    const rows = withSybils(honest, sybil, Array.from({ length: 20 }, (_, k) => 50 + k));
    const spread = withSybils(honest, sybil, attackerPositions(70, 20)[1]);
    for (const r of [rows, spread]) {
      const twin = copies(r);
      const k1 = krumWithDecision(r, { f: 20 });
      const k2 = krumWithDecision(twin, { f: 20 });
      expectSameBits(k1.aggregate, k2.aggregate, 'krum');
      expect(k1.decision.selected).toEqual(k2.decision.selected);
      expectSameBits(k1.decision.scores, k2.decision.scores, 'krum scores');
      const m1 = multiKrumWithDecision(r, { f: 20, m: 10 });
      const m2 = multiKrumWithDecision(twin, { f: 20, m: 10 });
      expectSameBits(m1.aggregate, m2.aggregate, 'multiKrum');
      expect(m1.decision.selected).toEqual(m2.decision.selected);
      const g1 = geometricMedianWithDecision(r);
      const g2 = geometricMedianWithDecision(twin);
      expectSameBits(g1.aggregate, g2.aggregate, 'geometricMedian');
      expectSameBits(g1.decision.weights, g2.decision.weights, 'geometricMedian weights');
      expect(g1.decision.iterations).toBe(g2.decision.iterations);
    }
  });
});
