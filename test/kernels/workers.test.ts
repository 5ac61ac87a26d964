// Worker threads: results bit-identical whatever the thread count (fixed chunks, chunk-order
// reduction), workers really take chunks, and the worker script runs from src/ (vitest) as well
// as from the built dist/ (ESM and CJS).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { initKernels, kernelStatus, releaseKernelResources, setKernelBackend, setKernelThreads } from '../../src/kernels/backend.js';
import { columnMedian, meanAroundMedianReducer, reduceColumns, trimmedMeanReducer } from '../../src/kernels/column-select.js';
import { gram } from '../../src/kernels/gram.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';

function randomRows(n: number, d: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.gaussian()));
}

const saved = { ...kernelConfig };
beforeAll(() => {
  setKernelBackend('wasm');
  kernelConfig.minParallelGram = 0;
  kernelConfig.minParallelSelect = 0;
});
afterAll(() => {
  Object.assign(kernelConfig, saved);
  releaseKernelResources();
});

describe('thread-count independence', () => {
  it('gram and column selection give the same bits with 1, 3, 2 and 4 threads', async () => {
    const shapes: [number, number][] = [
      [5, 70_001],
      [23, 40_000],
      [64, 9_000],
    ];
    const results: Float64Array[][] = [];
    const selections: Float32Array[][] = [];
    for (const threads of [1, 3, 2, 4]) { // grow, shrink (terminating a worker), grow again
      setKernelThreads(threads);
      expect(await initKernels()).toBe(true);
      const before = kernelStatus().workerChunks;
      const g: Float64Array[] = [];
      const sel: Float32Array[] = [];
      for (const [n, d] of shapes) {
        const rows = randomRows(n, d, n + d);
        g.push(gram(rows, rows[1]));
        // A blinder at row 0 and a huge row: per-row scales and the robust centre on every chunk.
        const hostile = rows.map((r) => r.slice());
        for (let k = 0; k < d; k += 256) hostile[0][k] = 1e30;
        hostile[n - 1].fill(-3e38, 0, Math.min(d, 5000));
        g.push(gram(hostile, 'robust'));
        g.push(gram(hostile, null));
        sel.push(reduceColumns(rows, columnMedian));
        sel.push(reduceColumns(rows, trimmedMeanReducer(Math.floor(n / 5))));
        sel.push(reduceColumns(rows, meanAroundMedianReducer(n - Math.floor(n / 4))));
      }
      if (threads > 1) expect(kernelStatus().workerChunks).toBeGreaterThan(before);
      results.push(g);
      selections.push(sel);
    }
    for (let t = 1; t < results.length; t++) {
      for (let s = 0; s < results[0].length; s++) expect(results[t][s]).toEqual(results[0][s]);
      for (let s = 0; s < selections[0].length; s++) expect(selections[t][s]).toEqual(selections[0][s]);
    }
  });

  it('a centred value past float32 on a worker is handled like on one thread', async () => {
    setKernelThreads(2);
    await initKernels();
    const rows = randomRows(4, 200_000, 3);
    rows[2][150_000] = 3e38;
    rows[1][150_000] = -3e38;
    const g2 = gram(rows, rows[1]);
    const r2 = gram(rows, 'robust');
    setKernelThreads(1);
    const g1 = gram(rows, rows[1]);
    expect(g2).toEqual(g1);
    expect(gram(rows, 'robust')).toEqual(r2);
    expect(g2.every(Number.isFinite)).toBe(true);
    expect(r2.every(Number.isFinite)).toBe(true);
  });
});

describe('the worker script from the built package', () => {
  const script = (kind: 'esm' | 'cjs'): string => `
    const ra = ${kind === 'esm' ? "await import('./dist/index.js')" : "require('./dist/index.cjs')"};
    const rng = ra.createRng(5);
    const rows = Array.from({ length: 30 }, () => ra.gaussianVector(300000, rng));
    ra.setKernelBackend('wasm');
    ra.setKernelThreads(1);
    const one = ra.krumWithDecision(rows, { f: 3 }).decision.scores;
    const med1 = ra.coordinateMedian(rows);
    ra.setKernelThreads(2);
    await ra.initKernels();
    const two = ra.krumWithDecision(rows, { f: 3 }).decision.scores;
    const med2 = ra.coordinateMedian(rows);
    const same = one.every((v, i) => Object.is(v, two[i])) && med1.every((v, i) => Object.is(v, med2[i]));
    console.log(JSON.stringify({ same, workers: ra.kernelStatus().workerChunks }));
  `;
  const run = (kind: 'esm' | 'cjs'): { same: boolean; workers: number } => {
    const code = kind === 'esm' ? script(kind) : `(async () => { ${script(kind)} })()`;
    const args = kind === 'esm' ? ['--input-type=module', '-e', code] : ['-e', code];
    return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 }).trim()) as {
      same: boolean;
      workers: number;
    };
  };

  it.skipIf(!existsSync('dist/index.js'))('ESM build: workers start, take chunks, same bits; the process exits', () => {
    const r = run('esm');
    expect(r.same).toBe(true);
    expect(r.workers).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync('dist/index.cjs'))('CJS build: the same', () => {
    const r = run('cjs');
    expect(r.same).toBe(true);
    expect(r.workers).toBeGreaterThan(0);
  });
});
