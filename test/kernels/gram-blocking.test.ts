// The WebAssembly Gram kernel's blocking (issue 17): blocks of about 1 MiB of rows (512–8192
// columns) and groups of column rows that stay in L2. The hostile-input tests use up to ~20 rows
// and ~4300 columns, a single block and a single group under this plan; here the shapes span
// several blocks per chunk, several groups per block, partial last blocks and padded panels, with
// hostile rows, and every pair is held to the documented per-pair bound (GRAM_PAIR_EPSILON)
// against float64 on the two rows alone; the robust centre is the same bits as centring on the
// per-block median row, and the result does not depend on the thread count.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { initKernels, setKernelBackend, setKernelThreads } from '../../src/kernels/backend.js';
import { GRAM_PAIR_EPSILON, gram, medianMagnitudeRow, squaredDistancesFromGram } from '../../src/kernels/gram.js';
import { gramPlan } from '../../src/kernels/wasm/drivers.js';
import { gramGroup } from '../../src/kernels/wasm/workspace.js';

const EPS = GRAM_PAIR_EPSILON;

afterAll(() => {
  setKernelBackend('auto');
  setKernelThreads('auto');
});

/** The robust centre the WebAssembly kernel uses: per plan block, the row of median largest magnitude. */
function robustCentre(rows: readonly Float32Array[], block: number): Float32Array {
  const d = rows[0].length;
  const r = new Float32Array(d);
  for (let c0 = 0; c0 < d; c0 += block) {
    const c1 = Math.min(d, c0 + block);
    r.set(rows[medianMagnitudeRow(rows, c0, c1)].subarray(c0, c1), c0);
  }
  return r;
}

/** ‖a − c‖ in float64, scaled so that nothing overflows or underflows. */
function norm(a: Float32Array, c: Float32Array): number {
  let big = 0;
  for (let k = 0; k < a.length; k++) big = Math.max(big, Math.abs(a[k] - c[k]));
  if (big === 0) return 0;
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const v = (a[k] - c[k]) / big;
    s += v * v;
  }
  return big * Math.sqrt(s);
}

/** ‖a − b‖² in float64 from the two rows alone. */
function exactSquaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const v = a[k] - b[k];
    s += v * v;
  }
  return s;
}

type Hostile = 'none' | 'spikes' | 'max' | 'subnormal' | 'zero' | 'copy';

/** n rows of length d: Gaussian honest rows around a common offset, a few hostile ones at given slots. */
function rowsFor(n: number, d: number, seed: number, hostile: readonly Hostile[], first: boolean): Float32Array[] {
  const rng = createRng(seed);
  const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => 100 + rng.gaussian()));
  hostile.forEach((kind, h) => {
    const i = first ? h : n - 1 - h;
    const x = rows[i];
    if (kind === 'spikes') for (let k = h % 256; k < d; k += 256) x[k] = 1e30;
    else if (kind === 'max') for (let k = 0; k < d; k += 97) x[k] = k % 2 === 0 ? 3.4028234663852886e38 : -3.4028234663852886e38;
    else if (kind === 'subnormal') x.forEach((_, k) => (x[k] = (k % 3) * 1e-45));
    else if (kind === 'zero') x.fill(0);
    else if (kind === 'copy') x.set(rows[(i + 1) % n]);
  });
  return rows;
}

describe('the plan', () => {
  it('cuts blocks of about 1 MiB of rows: 512–8192 columns, a multiple of 64; groups of at least 4 rows within 512 KiB', () => {
    for (const n of [1, 2, 3, 10, 31, 32, 33, 100, 128, 500, 1000, 5000]) {
      const { block } = gramPlan(n, 1e6);
      expect(block % 64).toBe(0);
      expect(block).toBeGreaterThanOrEqual(512);
      expect(block).toBeLessThanOrEqual(8192);
      if (block > 512 && block < 8192) expect(n * block * 4).toBeLessThanOrEqual(1 << 20);
      const jg = gramGroup(block);
      expect(jg % 4).toBe(0);
      expect(jg).toBeGreaterThanOrEqual(4);
      expect(jg * block * 4).toBeLessThanOrEqual(512 * 1024);
    }
  });
});

describe('several blocks and groups', () => {
  const shapeArb = fc.record({
    // n from 33 on: with blocks of 4096–7936 columns the groups hold 16–32 rows, so 2–5 groups.
    n: fc.integer({ min: 33, max: 90 }),
    d: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 3000, max: 17000 })),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    hostile: fc.array(fc.constantFrom<Hostile>('none', 'spikes', 'max', 'subnormal', 'zero', 'copy'), { maxLength: 6 }),
    first: fc.boolean(),
  });

  it('every pair of the robust-centred Gram is within the per-pair bound of float64 on the two rows', () => {
    setKernelBackend('wasm');
    setKernelThreads(1);
    fc.assert(
      fc.property(shapeArb, ({ n, d, seed, hostile, first }) => {
        const rows = rowsFor(n, d, seed, hostile, first);
        const { block } = gramPlan(n, d);
        const centre = robustCentre(rows, block);
        const dist = squaredDistancesFromGram(gram(rows, 'robust'), n);
        const norms = rows.map((x) => norm(x, centre));
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < i; j++) {
            const exact = exactSquaredDistance(rows[i], rows[j]);
            const bound = EPS * (norms[i] + norms[j]) ** 2;
            expect(Math.abs(dist[i * n + j] - exact)).toBeLessThanOrEqual(bound);
          }
        }
      }),
      { numRuns: 8 },
    );
  });

  it("'robust' is the same bits as centring on the per-block median row, and the uncentred Gram is within the bound", () => {
    setKernelBackend('wasm');
    setKernelThreads(1);
    fc.assert(
      fc.property(shapeArb, ({ n, d, seed, hostile, first }) => {
        const rows = rowsFor(n, d, seed, hostile, first);
        expect(gram(rows, 'robust')).toEqual(gram(rows, robustCentre(rows, gramPlan(n, d).block)));
        const g = gram(rows, null);
        const zero = new Float32Array(d);
        const norms = rows.map((x) => norm(x, zero));
        for (let i = 0; i < n; i += 7) {
          for (let j = 0; j <= i; j += 3) {
            let dot = 0;
            for (let k = 0; k < d; k++) dot += rows[i][k] * rows[j][k];
            if (!Number.isFinite(dot)) continue;
            expect(Math.abs(g[i * n + j] - dot)).toBeLessThanOrEqual(EPS * norms[i] * norms[j]);
          }
        }
      }),
      { numRuns: 6 },
    );
  });

  it('gives the same bits on 1 and 2 threads over several chunks, blocks and groups', async () => {
    setKernelBackend('wasm');
    // n = 64: blocks of 4096 columns, groups of 32 rows; d = 150 000: 37 blocks, 37 chunks.
    const rows = rowsFor(64, 150_000, 7, ['spikes', 'max', 'subnormal'], true);
    setKernelThreads(1);
    const one = gram(rows, 'robust');
    setKernelThreads(2);
    expect(await initKernels()).toBe(true);
    expect(gram(rows, 'robust')).toEqual(one);
  });
});
