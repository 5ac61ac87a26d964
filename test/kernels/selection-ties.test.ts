// Selection kernels on tie-heavy data (issue 14, items 3 and 12): every kernel — the plain
// TypeScript one, the WebAssembly sorting networks (m ≤ 192), the WebAssembly quickselect (m > 192),
// with and without worker threads — returns the same bits, and those bits are the pinned
// conventions computed by brute force (sort each column):
//   median      middle value; even m: (lower + upper) / 2 in float64;
//   trimmed     the values at sorted ranks [trim, m − trim);
//   meamed      the window x[a .. a+keep) with a the smallest start in [0, m − keep] such that
//               med − x[a] ≤ x[a+keep] − med (equidistant pair: the smaller value is kept);
//   sums        binned: 32 float64 bins by float32 exponent bits >> 3 (each computed exactly here
//               with BigInt, which also checks that a bin never rounds), added from bin 0 up;
//   result      rounded to float32 once, a zero result is +0.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulyan } from '../../src/aggregators/bulyan.js';
import { bulyanVariant } from '../../src/aggregators/bulyan-variants.js';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { meamed } from '../../src/aggregators/meamed.js';
import { trimmedMean } from '../../src/aggregators/trimmed-mean.js';
import { createRng, type Rng } from '../../src/core/random.js';
import {
  initKernels,
  kernelStatus,
  setKernelBackend,
  setKernelThreads,
  type KernelBackend,
} from '../../src/kernels/backend.js';
import {
  binnedSum,
  columnMeanAroundMedian,
  columnMedian,
  columnTrimmedMean,
  meanAroundMedianReducer,
  reduceColumns,
  trimmedMeanReducer,
  type ColumnReducer,
} from '../../src/kernels/column-select.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';
import { F32_MAX, opArb, restoreKernelConfig, TINY, type Op } from '../helpers/selection-ops.js';

restoreKernelConfig();

// ---------------------------------------------------------------------------------------------
// Tie-heavy data.

const KINDS = [
  'sparse60',
  'sparse90',
  'sparse99',
  'quarter',
  'integer',
  'sign',
  'sign0',
  'equal',
  'zeros',
  'huge',
  'subnormal',
  'hostile',
  'gaussian',
  'wide',
] as const;
type Kind = (typeof KINDS)[number];

const HOSTILE = [0, -0, 0.25, -0.25, 1, -1, 2, F32_MAX, -F32_MAX, 3.4e38, -3.4e38, 1e30, -1e30, TINY, -TINY, 3 * TINY, 2 ** -126, 1e-30];

function value(kind: Kind, rng: Rng, column: number): number {
  const g = rng.gaussian();
  switch (kind) {
    case 'sparse60':
      return rng.next() < 0.6 ? 0 : g;
    case 'sparse90':
      return rng.next() < 0.9 ? 0 : g;
    case 'sparse99':
      return rng.next() < 0.99 ? 0 : g;
    case 'quarter':
      return Math.round(g * 4) / 4;
    case 'integer':
      return Math.round(g * 2);
    case 'sign':
      return g < 0 ? -1 : 1;
    case 'sign0':
      return rng.nextInt(3) - 1;
    case 'equal':
      return HOSTILE[column % HOSTILE.length];
    case 'zeros':
      return rng.next() < 0.1 ? (rng.nextInt(5) - 2) * TINY : rng.next() < 0.5 ? -0 : 0;
    case 'huge':
      return [F32_MAX, -F32_MAX, 3.4e38, -3.4e38, 0, 1, -1, g][rng.nextInt(8)];
    case 'subnormal':
      return rng.next() < 0.8 ? (rng.nextInt(17) - 8) * TINY : g * 2 ** -120;
    case 'hostile':
      return HOSTILE[rng.nextInt(HOSTILE.length)];
    case 'gaussian':
      return g;
    case 'wide':
      return g * 2 ** (rng.nextInt(260) - 140);
  }
}

function tieRows(kind: Kind, m: number, d: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  const rows = Array.from({ length: m }, () => {
    const row = new Float32Array(d);
    for (let c = 0; c < d; c++) row[c] = value(kind, rng, c);
    return row;
  });
  // Duplicated clients (a copied update, a Sybil) on top of the ties inside each column.
  if (m > 3 && rng.next() < 0.5) rows[m - 1] = rows[0].slice();
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Brute force: sort each column.

const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);

/** The binned sum, each bin summed exactly in BigInt units of 2⁻¹⁴⁹ (checked to fit 53 bits). */
function refSum(values: readonly number[]): number {
  const bins = new Array<bigint>(32).fill(0n);
  for (const v of values) {
    bitsF32[0] = v;
    bins[(bitsU32[0] >>> 26) & 31] += BigInt(v * 2 ** 149);
  }
  let s = 0;
  for (const b of bins) {
    const x = Number(b);
    expect(BigInt(x)).toBe(b); // the bin is exact in float64
    s += x * TINY;
  }
  return s;
}

const toF32 = (x: number): number => {
  const f = Math.fround(x);
  return f === 0 ? 0 : f;
};

function sortedColumn(rows: readonly Float32Array[], c: number): number[] {
  return rows.map((r) => r[c]).sort((a, b) => a - b);
}

function refMedianF64(x: readonly number[]): number {
  const m = x.length;
  const k = m >>> 1;
  return (m & 1) === 1 ? x[k] : (x[k - 1] + x[k]) / 2;
}

function refMedian(x: readonly number[]): number {
  return toF32(refMedianF64(x));
}

function refTrimmed(x: readonly number[], trim: number): number {
  return toF32(refSum(x.slice(trim, x.length - trim)) / (x.length - 2 * trim));
}

/** The window start by the unclamped definition: the smallest a in [0, m − keep]. */
function refWindowStart(x: readonly number[], keep: number): number {
  const med = refMedianF64(x);
  for (let a = 0; a < x.length - keep; a++) if (med - x[a] <= x[a + keep] - med) return a;
  return x.length - keep;
}

function refMeamed(x: readonly number[], keep: number): number {
  const a = refWindowStart(x, keep);
  return toF32(refSum(x.slice(a, a + keep)) / keep);
}

function reducerOf(op: Op): ColumnReducer {
  if (op.kind === 'median') return columnMedian;
  return op.kind === 'trimmed' ? trimmedMeanReducer(op.trim) : meanAroundMedianReducer(op.keep);
}

function reference(rows: readonly Float32Array[], op: Op): Float32Array {
  const d = rows[0].length;
  const out = new Float32Array(d);
  for (let c = 0; c < d; c++) {
    const x = sortedColumn(rows, c);
    out[c] = op.kind === 'median' ? refMedian(x) : op.kind === 'trimmed' ? refTrimmed(x, op.trim) : refMeamed(x, op.keep);
  }
  return out;
}

function runOn(backend: KernelBackend, rows: readonly Float32Array[], op: Op): Float32Array {
  setKernelBackend(backend);
  const copy = rows.map((r) => r.slice());
  const out = reduceColumns(copy, reducerOf(op));
  for (let i = 0; i < rows.length; i++) {
    if (!sameBits(copy[i], rows[i])) expect.fail(`${backend}: input row ${i} was changed`); // inputs untouched
  }
  return out;
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bitwise equality (−0 ≠ +0), reporting the first differing coordinate. */
function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  if (sameBits(actual, expected)) return;
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const i = a.findIndex((v, k) => v !== b[k]);
  expect(`${what}[${i}] = ${actual[i]}`).toBe(`${what}[${i}] = ${expected[i]}`);
}

// m over the sorting networks (every m here; the column kernel above NETWORK_MAX_ROWS is
// column-select-large.test.ts's) and the plain kernels.
const mArb = fc.oneof(
  fc.integer({ min: 1, max: 300 }),
  fc.constantFrom(1, 2, 3, 4, 63, 191, 192, 193, 194, 255),
);
const dArb = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 8, 9), fc.integer({ min: 1, max: 24 }));

const caseArb = mArb.chain((m) =>
  fc.record({
    m: fc.constant(m),
    d: dArb,
    kind: fc.constantFrom(...KINDS),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    op: opArb(m),
  }),
);

// ---------------------------------------------------------------------------------------------

describe('selection kernels on tie-heavy data: js = wasm = brute force, bit for bit', () => {
  it('every op, m from 1 to 300 (networks and quickselect), d from 1, fourteen kinds of data', () => {
    fc.assert(
      fc.property(caseArb, ({ m, d, kind, seed, op }) => {
        const rows = tieRows(kind, m, d, seed);
        const ref = reference(rows, op);
        expectSameBits(runOn('js', rows, op), ref, `js ${kind} ${op.kind}`);
        expectSameBits(runOn('wasm', rows, op), ref, `wasm ${kind} ${op.kind}`);
      }),
      { numRuns: 200 },
    );
  });

  it('every kind at the boundary sizes of the two engines, every trim and keep', () => {
    for (const kind of KINDS) {
      for (const m of [1, 2, 5, 33, 192, 193]) {
        const rows = tieRows(kind, m, 9, m * 31 + kind.length);
        const ops: Op[] = [{ kind: 'median' }];
        for (let t = 0; 2 * t < m; t += Math.max(1, m >>> 2)) ops.push({ kind: 'trimmed', trim: t });
        for (let keep = 1; keep <= m; keep += Math.max(1, m >>> 2)) ops.push({ kind: 'meamed', keep });
        ops.push({ kind: 'meamed', keep: m });
        for (const op of ops) {
          const ref = reference(rows, op);
          expectSameBits(runOn('js', rows, op), ref, `js ${kind} m=${m} ${JSON.stringify(op)}`);
          expectSameBits(runOn('wasm', rows, op), ref, `wasm ${kind} m=${m} ${JSON.stringify(op)}`);
        }
      }
    }
  });

  it('worker threads give the same bits (chunks on 1 and 3 threads, both engines)', async () => {
    kernelConfig.minParallelSelect = 0;
    let workerChunks = 0;
    for (const [m, d] of [
      [40, 20_001],
      [250, 4_001],
    ] as const) {
      for (const kind of ['sparse60', 'quarter', 'huge', 'wide'] as const) {
        const rows = tieRows(kind, m, d, m + d);
        const ops: Op[] = [{ kind: 'median' }, { kind: 'trimmed', trim: m >>> 2 }, { kind: 'meamed', keep: m - (m >>> 2) }];
        for (const op of ops) {
          const plain = runOn('js', rows, op);
          setKernelThreads(1);
          expectSameBits(runOn('wasm', rows, op), plain, `1 thread ${kind}`);
          setKernelThreads(3);
          expect(await initKernels()).toBe(true);
          const before = kernelStatus().workerChunks;
          expectSameBits(runOn('wasm', rows, op), plain, `3 threads ${kind}`);
          workerChunks += kernelStatus().workerChunks - before;
        }
      }
    }
    expect(workerChunks).toBeGreaterThan(0); // the workers did take chunks
  });
});

describe('pinned conventions, by hand', () => {
  const col = (...v: number[]): Float32Array => Float32Array.from(v);

  it('median of an even count is the mean of the two middle values (numpy)', () => {
    expect(columnMedian(col(4, 1, 3, 2), 0, 4)).toBe(2.5);
    expect(columnMedian(col(0, 0, 1, 1), 0, 4)).toBe(0.5);
  });

  it('meamed keeps the smaller of two equidistant values', () => {
    // Sorted 0 1 2 3 4, median 2: keep 2 = {2, 1} (1 and 3 tie), keep 4 = {1, 2, 3, 0}.
    expect(columnMeanAroundMedian(col(4, 3, 2, 1, 0), 0, 5, 2, new Float64Array(5))).toBe(1.5);
    expect(columnMeanAroundMedian(col(4, 3, 2, 1, 0), 0, 5, 4, new Float64Array(5))).toBe(1.5);
    // Even m: median 0.5 of 0 0 1 1: keep 1 takes a 0.
    expect(columnMeanAroundMedian(col(1, 0, 1, 0), 0, 4, 1, new Float64Array(4))).toBe(0);
    expect(columnMeanAroundMedian(col(1, 0, 1, 0), 0, 4, 3, new Float64Array(4))).toBe(1 / 3);
  });

  it('meamed on 60 % zeros: the window sits in the run of zeros, not below it', () => {
    // The WebAssembly network used to binary-search starts outside the ranks it had sorted.
    const rows = [-3, -2, -1, 0, 0, 0, 0, 0, 0, 1, 2].map((v) => col(v, v, v, v));
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(3)))).toEqual([0, 0, 0, 0]);
      // keep 7: the six zeros, then −1 and 1 tie at distance 1 and the smaller is kept.
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(7)))).toEqual(new Array(4).fill(Math.fround(-1 / 7)));
      // keep 8: both; keep 9: then −2 and 2 tie and −2 is kept.
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(8)))).toEqual([0, 0, 0, 0]);
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(9)))).toEqual(new Array(4).fill(Math.fround(-2 / 9)));
    }
  });

  it('distinct values whose distances round to the same float64 (the rare tie path)', () => {
    // med = 1e30: 1 and 2 are both at distance 1e30 in float64; below the median the larger one
    // (nearer in sorted order) is kept. Such values are below the median's rounding, so the sum
    // cannot show which one was taken; the path must still agree everywhere.
    const x = col(1e30, 1e30, 1e30, 2, 1, 3e30, 3e30);
    const ref = refMeamed([...x].sort((a, b) => a - b), 4);
    expect(toF32(columnMeanAroundMedian(x.slice(), 0, 7, 4, new Float64Array(7)))).toBe(ref);
    const rows = Array.from(x, (v) => col(v, v, v, v, v));
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(4)))).toEqual(new Array(5).fill(ref));
    }
  });

  it('sums never overflow, are order-free, and keep subnormals next to ±3.4e38', () => {
    expect(columnTrimmedMean(col(F32_MAX, F32_MAX, F32_MAX), 0, 3, 0)).toBe(F32_MAX);
    expect(binnedSum(col(3e38, TINY, -3e38), 0, 3)).toBe(TINY);
    expect(binnedSum(col(-3e38, 3e38, TINY), 0, 3)).toBe(TINY);
    expect(binnedSum(col(TINY, -3e38, 3e38), 0, 3)).toBe(TINY);
    const rows = [F32_MAX, F32_MAX, -F32_MAX, F32_MAX].map((v) => col(v, v, v, v, v));
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      expect(Array.from(reduceColumns(rows, trimmedMeanReducer(0)))).toEqual(new Array(5).fill(Math.fround(F32_MAX / 2)));
      expect(Array.from(reduceColumns(rows, meanAroundMedianReducer(3))).every((v) => v === F32_MAX)).toBe(true);
    }
  });
});

describe('signed zeros (item 12): every kernel writes a zero result as +0', () => {
  const zeroRows = (pattern: number[], d: number): Float32Array[] => pattern.map((v) => new Float32Array(d).fill(v));

  it.each([
    ['odd, mixed', [-0, 0, -0]],
    ['odd, all −0', [-0, -0, -0]],
    ['even, all −0', [-0, -0]],
    ['even, mixed', [0, -0, -0, 0]],
    ['with a tiny negative mean', [-TINY, -0, 0, TINY, -TINY]],
  ])('%s', (_, pattern) => {
    for (const d of [1, 5, 300]) {
      const rows = zeroRows(pattern, d);
      for (const backend of ['js', 'wasm'] as const) {
        setKernelBackend(backend);
        for (const out of [
          coordinateMedian(rows),
          reduceColumns(rows, trimmedMeanReducer(0)),
          reduceColumns(rows, meanAroundMedianReducer(1)),
        ]) {
          for (const v of out) if (v === 0) expect(Object.is(v, 0)).toBe(true);
        }
      }
    }
  });

  it('an even count of −3e-45 and +1.4e-45 has median −1.4e-45 / 2 → −0 in float32 → +0', () => {
    const rows = [col1(-2 * TINY), col1(TINY)];
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      expect(Object.is(coordinateMedian(rows)[0], 0)).toBe(true);
    }
  });
});

function col1(v: number): Float32Array {
  return Float32Array.of(v);
}

describe('the aggregators agree across backends on tie-heavy data', () => {
  const backends: KernelBackend[] = ['js', 'auto', 'wasm'];
  const rules: [string, (rows: Float32Array[], f: number) => Float32Array][] = [
    ['coordinateMedian', (r) => coordinateMedian(r)],
    ['trimmedMean', (r, f) => trimmedMean(r, { f })],
    ['meamed', (r, f) => meamed(r, { f })],
    ['bulyan', (r, f) => bulyan(r, { f })],
    ['bulyanVariant meamed', (r, f) => bulyanVariant(r, { f })],
    ['bulyanVariant median', (r, f) => bulyanVariant(r, { f, aggregation: 'coordinateMedian' })],
  ];

  it.each(['sparse60', 'quarter'] as const)('the issue case: n=63, f=15, d=2048, %s', (kind) => {
    const rows = tieRows(kind, 63, 2048, 14);
    for (const [name, rule] of rules) {
      const outs = backends.map((b) => {
        setKernelBackend(b);
        return rule(rows, 15);
      });
      expectSameBits(outs[1], outs[0], `${name} auto`);
      expectSameBits(outs[2], outs[0], `${name} wasm`);
    }
  });

  it('random shapes and kinds', () => {
    const tieKinds: Kind[] = ['sparse60', 'sparse90', 'quarter', 'integer', 'sign', 'sign0', 'zeros', 'subnormal', 'equal'];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom(1, 3, 17, 1200),
        fc.constantFrom(...tieKinds),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (f, extra, d, kind, seed) => {
          const n = 4 * f + 3 + extra;
          const rows = tieRows(kind, n, d, seed);
          for (const [name, rule] of rules) {
            setKernelBackend('js');
            const plain = rule(rows, f);
            setKernelBackend('wasm');
            expectSameBits(rule(rows, f), plain, `${name} n=${n} f=${f} ${kind}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
