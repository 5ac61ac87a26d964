// Every WebAssembly kernel against the plain TypeScript kernel (the oracle), on random shapes:
// n = 1, d = 1, d not a multiple of 4, blocks and chunks with ragged ends, large d.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { setKernelBackend, setKernelThreads } from '../../src/kernels/backend.js';
import {
  columnMedian,
  meanAroundMedianReducer,
  reduceColumns,
  reduceColumnsPlain,
  trimmedMeanReducer,
} from '../../src/kernels/column-select.js';
import { combine, combineIfFinite, combinePlain } from '../../src/kernels/combine.js';
import { isFiniteVector, isFiniteVectorPlain } from '../../src/kernels/finite.js';
import { isFiniteVectorWasm } from '../../src/kernels/wasm/finite.js';
import { gram, gramPlain, squaredDistancesFromGram } from '../../src/kernels/gram.js';
import { rowNorms, rowNormsPlain, squaredDistance, squaredDistancePlain, squaredNorm, squaredNormPlain } from '../../src/kernels/norms.js';
import { mainWorkspace } from '../../src/kernels/wasm/instance.js';

/** Shapes (n, d): single row, single column, odd widths, ragged blocks (256/1024/2048), chunks. */
const SHAPES: [number, number][] = [
  [1, 1],
  [1, 7],
  [2, 1],
  [3, 3],
  [5, 5],
  [4, 17],
  [7, 255],
  [9, 1023],
  [13, 1301],
  [6, 4097],
  [31, 2050],
  [64, 300],
  [101, 257],
  [192, 40], // the largest sorting network
  [193, 33], // quickselect from here on
  [300, 21],
];

function randomRows(n: number, d: number, seed: number, scale = 1, shift = 0): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const x = new Float32Array(d);
    for (let k = 0; k < d; k++) x[k] = shift + scale * rng.gaussian();
    return x;
  });
}

/** |a − b| ≤ tol · sqrt(Gᵢᵢ Gⱼⱼ) entry-wise: the scale-aware accuracy of a float32-product Gram. */
function expectGramClose(fast: Float64Array, plain: Float64Array, n: number, tol: number): void {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const scale = Math.sqrt(plain[i * n + i] * plain[j * n + j]) || 1;
      worst = Math.max(worst, Math.abs(fast[i * n + j] - plain[i * n + j]) / scale);
    }
  }
  expect(worst).toBeLessThanOrEqual(tol);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(fast[i * n + j]).toBe(fast[j * n + i]);
}

/** Largest |a − b| in units of the float32 spacing at max(|b|, floor). */
function ulpError(a: Float32Array, b: Float32Array, floor: number): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    const mag = Math.max(Math.abs(b[k]), floor);
    worst = Math.max(worst, Math.abs(a[k] - b[k]) / (mag * 2 ** -23));
  }
  return worst;
}

beforeAll(() => {
  setKernelThreads(1);
  setKernelBackend('wasm');
});
afterAll(() => {
  setKernelBackend('auto');
  setKernelThreads('auto');
});

describe('wasm kernels load', () => {
  it('compiles and instantiates synchronously in Node', () => {
    expect(mainWorkspace()).not.toBeNull();
  });
});

describe('gram (f32x4, float64 flushes) equals the float64 kernel', () => {
  it.each(SHAPES)('n=%i d=%i, centred and not', (n, d) => {
    const rows = randomRows(n, d, n * 1000 + d);
    for (const ref of [null, rows[0], randomRows(1, d, 7)[0]]) {
      expectGramClose(gram(rows, ref), gramPlain(rows, ref), n, 2e-6);
    }
    // The robust centre: a different row per block (and other blocks than the plain kernel's),
    // so the entries differ; the distances agree.
    const fast = squaredDistancesFromGram(gram(rows, 'robust'), n);
    const plain = squaredDistancesFromGram(gramPlain(rows, 'robust'), n);
    const top = plain.reduce((a, b) => Math.max(a, b), 0) || 1;
    for (let k = 0; k < n * n; k++) expect(Math.abs(fast[k] - plain[k])).toBeLessThanOrEqual(1e-5 * top);
  });

  it('keeps its relative accuracy at large d (no growth with d)', () => {
    const rows = randomRows(4, 300_001, 5);
    expectGramClose(gram(rows, rows[1]), gramPlain(rows, rows[1]), 4, 1e-6);
  });

  it('distances of close clients with large norms survive (centring)', () => {
    const base = randomRows(1, 5000, 1, 1000)[0];
    const rows = randomRows(6, 5000, 2, 1e-3).map((r) => r.map((v, k) => base[k] + v));
    const fast = gram(rows, rows[0]);
    const plain = gramPlain(rows, rows[0]);
    expectGramClose(fast, plain, 6, 1e-5);
  });

  it('handles huge and tiny magnitudes without overflow or underflow (per-block scaling)', () => {
    for (const scale of [1e30, 1e-30, 3e37]) {
      const rows = randomRows(5, 999, 3, scale);
      const fast = gram(rows, null);
      const plain = gramPlain(rows, null);
      expect(fast.every(Number.isFinite)).toBe(true);
      expectGramClose(fast, plain, 5, 2e-6);
    }
  });

  it('centres in float64 (and scales) a row whose float32 difference overflows', () => {
    const rows = [new Float32Array([3e38, 1]), new Float32Array([-3e38, 2])];
    for (const centre of [rows[1], 'robust'] as const) {
      const fast = gram(rows, centre);
      const plain = gramPlain(rows, centre);
      expect(fast.every(Number.isFinite)).toBe(true);
      expectGramClose(fast, plain, 2, 2e-7);
    }
  });

  it('falls back to float64 on NaN or ±Infinity (the plain kernel then decides)', () => {
    const rows = randomRows(5, 300, 4);
    rows[3][7] = Infinity;
    expect(Array.from(gram(rows, 'robust'))).toEqual(Array.from(gramPlain(rows, 'robust')));
    rows[3][7] = NaN;
    expect(Array.from(gram(rows, null))).toEqual(Array.from(gramPlain(rows, null)));
  });

  it('is exact on small integers', () => {
    const rows = Array.from({ length: 5 }, (_, i) => Float32Array.from({ length: 33 }, (_, k) => ((i * 7 + k * 3) % 11) - 5));
    expect(Array.from(gram(rows, rows[2]))).toEqual(Array.from(gramPlain(rows, rows[2])));
  });
});

describe('combine gives the plain kernel bits', () => {
  it.each(SHAPES)('n=%i d=%i', (n, d) => {
    const rows = randomRows(n, d, n + d);
    const rng = createRng(d);
    const w = Float64Array.from({ length: n }, (_, i) => (i % 3 === 1 ? 0 : rng.gaussian()));
    expect(combine(rows, w)).toEqual(combinePlain(rows, w));
    const offset = randomRows(1, d, 9)[0];
    expect(combine(rows, w, offset, 0.37)).toEqual(combinePlain(rows, w, offset, 0.37));
    expect(combine(rows, w, offset, 0)).toEqual(combinePlain(rows, w, offset, 0));
  });

  it('with no rows, only the offset', () => {
    const offset = randomRows(1, 101, 9)[0];
    expect(combine([], [], offset, 2)).toEqual(combinePlain([], [], offset, 2));
  });

  it('large d, 40 rows', () => {
    const rows = randomRows(40, 70_001, 11);
    const w = new Float64Array(40).fill(1 / 40);
    expect(combine(rows, w)).toEqual(combinePlain(rows, w));
  });
});

describe('finiteness checks', () => {
  it.each([1, 3, 4, 15, 16, 17, 16384, 20_001])('isFiniteVectorWasm agrees with the plain check, d=%i', (d) => {
    const x = randomRows(1, d, d)[0];
    expect(isFiniteVectorWasm(x)).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, d >> 1, d - 1]) {
        const y = Float32Array.from(x);
        y[at] = bad;
        expect(isFiniteVectorWasm(y)).toBe(false);
        expect(isFiniteVector(y)).toBe(false);
        expect(isFiniteVectorPlain(y)).toBe(false);
      }
    }
    const huge = Float32Array.from(x, () => 3.4e38);
    expect(isFiniteVectorWasm(huge)).toBe(true);
  });

  it.each(SHAPES)('combineIfFinite: the combine bits when all rows are finite, null otherwise, n=%i d=%i', (n, d) => {
    const rows = randomRows(n, d, 2 * n + d);
    const w = Float64Array.from({ length: n }, (_, i) => (i === 1 ? 0 : 1 / n));
    expect(combineIfFinite(rows, w)).toEqual(combinePlain(rows, w));
    for (const i of [0, n - 1]) {
      const bad = rows.map((r) => Float32Array.from(r));
      bad[i][d - 1] = NaN;
      expect(combineIfFinite(bad, w)).toBeNull();
    }
    if (n > 1) {
      const zeroWeightBad = rows.map((r) => Float32Array.from(r));
      zeroWeightBad[1][0] = Infinity; // weight 0, still checked
      expect(combineIfFinite(zeroWeightBad, w)).toBeNull();
    }
  });
});

describe('norms give the plain kernel bits', () => {
  it.each([1, 2, 3, 4, 5, 17, 16384, 16385, 40_001])('d=%i', (d) => {
    const [a, b] = randomRows(2, d, d, 3);
    expect(squaredNorm(a)).toBe(squaredNormPlain(a));
    expect(squaredDistance(a, b)).toBe(squaredDistancePlain(a, b));
    expect(rowNorms([a, b])).toEqual(rowNormsPlain([a, b]));
  });
});

describe('column selection', () => {
  it.each(SHAPES)('median: same bits, n=%i d=%i', (n, d) => {
    const rows = randomRows(n, d, 3 * n + d);
    expect(reduceColumns(rows, columnMedian)).toEqual(reduceColumnsPlain(rows, columnMedian));
  });

  it('median with many ties and negative zeros', () => {
    const rng = createRng(4);
    const rows = Array.from({ length: 10 }, () => Float32Array.from({ length: 999 }, () => rng.nextInt(3) - 1));
    expect(reduceColumns(rows, columnMedian)).toEqual(reduceColumnsPlain(rows, columnMedian));
  });

  it.each(SHAPES)('trimmed mean: within 1 float32 ulp, n=%i d=%i', (n, d) => {
    const rows = randomRows(n, d, 5 * n + d, 2, 1);
    for (const trim of [0, Math.floor((n - 1) / 2), Math.floor(n / 4)]) {
      const fast = reduceColumns(rows, trimmedMeanReducer(trim));
      const plain = reduceColumnsPlain(rows, trimmedMeanReducer(trim));
      expect(ulpError(fast, plain, 1e-3)).toBeLessThanOrEqual(1);
    }
  });

  it.each(SHAPES)('mean around the median: within 1 float32 ulp, n=%i d=%i', (n, d) => {
    const rows = randomRows(n, d, 7 * n + d, 2, -1);
    for (const keep of [1, n, Math.max(1, n - Math.floor(n / 3))]) {
      const fast = reduceColumns(rows, meanAroundMedianReducer(keep));
      const plain = reduceColumnsPlain(rows, meanAroundMedianReducer(keep));
      expect(ulpError(fast, plain, 1e-3)).toBeLessThanOrEqual(1);
    }
  });

  it('mean around the median with ties at the boundary', () => {
    const rng = createRng(8);
    const rows = Array.from({ length: 9 }, () => Float32Array.from({ length: 500 }, () => rng.nextInt(5)));
    for (const keep of [2, 4, 6]) {
      const fast = reduceColumns(rows, meanAroundMedianReducer(keep));
      const plain = reduceColumnsPlain(rows, meanAroundMedianReducer(keep));
      expect(ulpError(fast, plain, 1)).toBeLessThanOrEqual(1);
    }
  });

  it('an arbitrary reducer still runs on the plain path', () => {
    const rows = randomRows(5, 100, 1);
    const maxReducer = (col: Float32Array, lo: number, m: number): number => Math.max(...col.subarray(lo, lo + m));
    expect(reduceColumns(rows, maxReducer)).toEqual(reduceColumnsPlain(rows, maxReducer));
  });
});
