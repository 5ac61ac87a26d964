// The WebAssembly column kernel above the sorting networks (median: m > NETWORK_MAX_ROWS = 512
// rows; trimmed mean and mean around the median: m > 1 024 — assembly/select.ts, selectColumns:
// a branch-free out-of-place three-way partition with SIMD packing, then a branch-free binned
// sum) and the networks below it, against the plain TypeScript kernel, reduceColumnsPlain, the
// oracle: the same bits for every op, even and odd m, around the old threshold (190–200) and the
// new ones (510–520, 1 022–1 064), at 255–257 and up to 1 100 rows, on random, tie-heavy and
// hostile values (±0, subnormals, ±3.4e38, exponents too far apart for the exact float64 sum),
// sorted and adversarial column orders (one built to exhaust the partition's round budget, so the
// heapsort fallback runs), identical rows, and on worker threads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import { meamed } from '../../src/aggregators/meamed.js';
import { trimmedMean } from '../../src/aggregators/trimmed-mean.js';
import { createRng, type Rng } from '../../src/core/random.js';
import { setKernelBackend } from '../../src/kernels/backend.js';
import {
  columnMedian,
  meanAroundMedianReducer,
  reduceColumns,
  reduceColumnsPlain,
  trimmedMeanReducer,
  type ColumnReducer,
} from '../../src/kernels/column-select.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';
import { F32_MAX, opArb, restoreKernelConfig, TINY, type Op } from '../helpers/selection-ops.js';
import { NETWORK_MAX_ROWS } from '../../src/kernels/wasm/workspace.js';

restoreKernelConfig();

function reducerOf(op: Op): ColumnReducer {
  if (op.kind === 'median') return columnMedian;
  return op.kind === 'trimmed' ? trimmedMeanReducer(op.trim) : meanAroundMedianReducer(op.keep);
}

function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** The WebAssembly kernel's result equals the plain kernel's, bit for bit; inputs untouched. */
function expectSameAsPlain(rows: readonly Float32Array[], op: Op, what: string): void {
  const before = rows.map((r) => r.slice());
  const plain = reduceColumnsPlain(rows, reducerOf(op));
  setKernelBackend('wasm');
  const fast = reduceColumns(rows, reducerOf(op));
  for (let i = 0; i < rows.length; i++) {
    if (bits(rows[i]).some((v, k) => v !== bits(before[i])[k])) expect.fail(`${what}: input row ${i} was changed`);
  }
  const a = bits(fast);
  const b = bits(plain);
  const c = a.findIndex((v, k) => v !== b[k]);
  if (c >= 0) {
    expect(`${what} ${JSON.stringify(op)} column ${c}: ${fast[c]}`).toBe(`${what} ${JSON.stringify(op)} column ${c}: ${plain[c]}`);
  }
  expect(fast.length).toBe(plain.length);
}

const KINDS = ['gaussian', 'integer', 'sparse', 'sign0', 'equal', 'hostile', 'wide', 'subnormal', 'huge'] as const;
type Kind = (typeof KINDS)[number];

const HOSTILE = [0, -0, 1, -1, 0.5, F32_MAX, -F32_MAX, 3.4e38, -3.4e38, 1e30, -1e30, TINY, -TINY, 2 ** -126, 1e-30, -1e-30];

function value(kind: Kind, rng: Rng, column: number): number {
  const g = rng.gaussian();
  switch (kind) {
    case 'gaussian':
      return g;
    case 'integer':
      return Math.round(3 * g); // a handful of values, many ties
    case 'sparse':
      return rng.next() < 0.7 ? (rng.next() < 0.5 ? 0 : -0) : g;
    case 'sign0':
      return rng.next() < 0.5 ? -0 : 0; // only zeros of both signs
    case 'equal':
      return column * 0.25 - 1; // every row the same value
    case 'hostile':
      return HOSTILE[rng.nextInt(HOSTILE.length)];
    case 'wide':
      return g * 2 ** (rng.nextInt(200) - 100); // exponents far apart: the binned sums
    case 'subnormal':
      return (rng.nextInt(9) - 4) * TINY;
    case 'huge':
      return rng.next() < 0.5 ? F32_MAX * (rng.next() < 0.5 ? 1 : -1) : Math.max(-F32_MAX, Math.min(F32_MAX, g * 1e38)); // finite
  }
}

function rowsOf(kind: Kind, m: number, d: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: m }, () => {
    const r = new Float32Array(d);
    for (let c = 0; c < d; c++) r[c] = value(kind, rng, c);
    return r;
  });
}

const mArb = fc.oneof(
  fc.integer({ min: 190, max: 200 }),
  fc.constantFrom(255, 256, 257),
  fc.integer({ min: NETWORK_MAX_ROWS - 2, max: NETWORK_MAX_ROWS + 8 }),
  fc.integer({ min: NETWORK_MAX_ROWS + 1, max: 1000 }),
  fc.integer({ min: 2 * NETWORK_MAX_ROWS - 2, max: 2 * NETWORK_MAX_ROWS + 40 }),
  fc.integer({ min: 193, max: 1100 }),
);

describe('WebAssembly selection from 190 to 1 000 rows equals the plain kernel, bit for bit', () => {
  it('the column kernel takes over above 512 rows for the median, 1 024 for the means (the tests below cover both sides)', () => {
    expect(NETWORK_MAX_ROWS).toBe(512);
  });

  it('random m (190–1000), kinds, ops and column counts', () => {
    kernelConfig.threads = 1;
    fc.assert(
      fc.property(
        mArb.chain((m) => fc.tuple(fc.constant(m), opArb(m), fc.constantFrom(...KINDS), fc.integer({ min: 1, max: 9 }), fc.nat())),
        ([m, op, kind, d, seed]) => expectSameAsPlain(rowsOf(kind, m, d, seed), op, `${kind} m=${m} d=${d}`),
      ),
      { numRuns: 120, seed: 17 },
    );
  });

  it('every kind at 192, 193, 512, 513, 514, 1 000, 1 024, 1 025 and 1 026 rows, the edge trims and keeps', () => {
    kernelConfig.threads = 1;
    for (const m of [192, 193, 512, 513, 514, 1000, 1024, 1025, 1026]) {
      const k = m >>> 1;
      const ops: Op[] = [
        { kind: 'median' },
        { kind: 'trimmed', trim: 0 },
        { kind: 'trimmed', trim: 1 },
        { kind: 'trimmed', trim: Math.floor(m / 10) },
        { kind: 'trimmed', trim: (m - 1) >>> 1 },
        { kind: 'meamed', keep: 1 },
        { kind: 'meamed', keep: k },
        { kind: 'meamed', keep: m - 1 },
        { kind: 'meamed', keep: m },
      ];
      for (const kind of KINDS) {
        const rows = rowsOf(kind, m, 5, m);
        for (const op of ops) expectSameAsPlain(rows, op, `${kind} m=${m}`);
      }
    }
  });

  it('sorted, reversed, organ-pipe, two-valued and shuffled-duplicate columns', () => {
    kernelConfig.threads = 1;
    for (const m of [193, 513, 999, 1000, 1025, 1100]) {
      const rng = createRng(m);
      const columns: number[][] = [
        Array.from({ length: m }, (_, i) => i),
        Array.from({ length: m }, (_, i) => m - i),
        Array.from({ length: m }, (_, i) => Math.min(i, m - 1 - i)),
        Array.from({ length: m }, (_, i) => i % 2),
        Array.from({ length: m }, (_, i) => (i < m / 2 ? -1 : 1)),
        Array.from({ length: m }, () => rng.nextInt(3) - 1),
        Array.from({ length: m }, (_, i) => (i === m >>> 1 ? 5 : 0)),
      ];
      const rows = Array.from({ length: m }, (_, i) => Float32Array.from(columns, (col) => col[i]));
      for (const op of [{ kind: 'median' }, { kind: 'trimmed', trim: 7 }, { kind: 'meamed', keep: m >>> 1 }] as Op[]) {
        expectSameAsPlain(rows, op, `structured m=${m}`);
      }
    }
  });

  it('one row object sent by many clients (Sybils) and identical columns', () => {
    kernelConfig.threads = 1;
    const m = 1101;
    const honest = rowsOf('gaussian', 550, 12, 3);
    const sybil = Float32Array.from({ length: 12 }, (_, c) => (c % 2 === 0 ? 1e6 : -0));
    const rows = [...honest, ...Array.from({ length: m - 550 }, () => sybil)];
    for (const op of [{ kind: 'median' }, { kind: 'trimmed', trim: 400 }, { kind: 'meamed', keep: 551 }] as Op[]) {
      expectSameAsPlain(rows, op, 'sybils');
    }
    const same = rowsOf('integer', 700, 1, 9).map((r) => Float32Array.from({ length: 6 }, () => r[0]));
    expectSameAsPlain(same, { kind: 'median' }, 'identical columns');
  });

  it('a column built to exhaust the partition rounds: the heapsort fallback gives the same bits', () => {
    kernelConfig.threads = 1;
    for (const m of [999, 1000]) {
      const { values, rounds } = pivotKiller(m);
      expect(rounds).toBe(48); // the simulation reached the kernel's round budget (MAX_ROUNDS)
      const rows = values.map((v, i) => Float32Array.of(v, -v, i % 3 === 0 ? v : 0));
      expectSameAsPlain(rows, { kind: 'median' }, `killer m=${m}`);
      expectSameAsPlain(rows, { kind: 'meamed', keep: 100 }, `killer m=${m}`);
    }
  });

  it('worker threads give the same bits', () => {
    kernelConfig.threads = 3;
    kernelConfig.minParallelSelect = 0;
    for (const [m, kind] of [[257, 'hostile'], [600, 'hostile'], [1100, 'wide']] as const) {
      const rows = rowsOf(kind, m, 1200, m);
      expectSameAsPlain(rows, { kind: 'median' }, `threads ${kind} m=${m}`);
      expectSameAsPlain(rows, { kind: 'trimmed', trim: 20 }, `threads ${kind} m=${m}`);
    }
  });

  it('the rules: coordinateMedian, trimmedMean and meamed on hostile clients, wasm = js', () => {
    const rows = rowsOf('hostile', 1100, 30, 5);
    const run = (backend: 'wasm' | 'js'): Float32Array[] => {
      setKernelBackend(backend);
      return [coordinateMedian(rows), trimmedMean(rows, { f: 200 }), meamed(rows, { f: 300 })];
    };
    const fast = run('wasm');
    const plain = run('js');
    for (let r = 0; r < fast.length; r++) expect(Array.from(bits(fast[r]))).toEqual(Array.from(bits(plain[r])));
  });
});

/**
 * Values for a column of m rows on which the kernel's median selection (assembly/select.ts,
 * selectRank: pivot = median of three values at xorshift32-drawn indices, three-way partition
 * with four-lane SIMD packing, then a scalar tail) drops only two values per round: McIlroy's
 * adversary ("A killer adversary for quicksort", 1999) — values are fixed lazily, each pivot
 * candidate gets the next smallest value when first read, every value not yet fixed compares above
 * all fixed ones. Simulates the kernel's sampler and memory layout exactly; stops after the
 * kernel's 48 rounds (the kernel then heapsorts what is left).
 */
function pivotKiller(m: number): { values: number[]; rounds: number } {
  const val: (number | undefined)[] = new Array(m).fill(undefined);
  let next = 0;
  let a = Array.from({ length: m }, (_, i) => i);
  let k = m >>> 1;
  let rounds = 0;
  let s = 0x9e3779b9;
  const draw = (n: number): number => {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    return Number((BigInt(s) * BigInt(n)) >> 32n);
  };
  const fix = (i: number): number => (val[i] ??= next++);
  const median3 = (x: number, y: number, z: number): number => Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
  while (a.length > 16 && rounds < 48) {
    rounds++;
    const n = a.length;
    const p = median3(fix(a[draw(n)]), fix(a[draw(n)]), fix(a[draw(n)]));
    const less = (i: number): boolean => val[i] !== undefined && (val[i] as number) < p;
    const greater = (i: number): boolean => val[i] === undefined || (val[i] as number) > p;
    const w: number[] = new Array(n);
    let lt = 0;
    let gt = n - 1;
    let i = 0;
    for (; i + 8 <= n; i += 4) {
      const lanes = a.slice(i, i + 4);
      const lo = lanes.filter(less);
      const hi = lanes.filter(greater);
      lo.forEach((v, j) => (w[lt + j] = v));
      hi.forEach((v, j) => (w[gt - hi.length + 1 + j] = v));
      lt += lo.length;
      gt -= hi.length;
    }
    for (; i < n; i++) {
      if (less(a[i])) w[lt++] = a[i];
      else if (greater(a[i])) w[gt--] = a[i];
    }
    if (k < lt) a = w.slice(0, lt);
    else if (k > gt) {
      k -= gt + 1;
      a = w.slice(gt + 1);
    } else break;
  }
  return { values: val.map((v) => v ?? next++), rounds };
}
