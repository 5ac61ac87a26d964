// The worker pool keeps its workers (issue 14, item 11): it grows to the largest call's needs and
// never thrashes — a call cut into fewer chunks uses a subset — and ROBUST_AGG_THREADS is bounded
// like setKernelThreads (the same range; a bad value warns once and keeps the default).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import {
  kernelStatus,
  releaseKernelResources,
  setKernelBackend,
  setKernelThreads,
} from '../../src/kernels/backend.js';
import { columnMedian, reduceColumns, reduceColumnsPlain } from '../../src/kernels/column-select.js';
import { kernelConfig, readEnvironment } from '../../src/kernels/wasm/config.js';
import { selectPlan } from '../../src/kernels/wasm/drivers.js';

const saved = { ...kernelConfig };
afterEach(() => Object.assign(kernelConfig, saved));
afterAll(() => releaseKernelResources());

function rows(m: number, d: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: m }, () => Float32Array.from({ length: d }, () => Math.round(rng.gaussian() * 4) / 4));
}

describe('worker pool: grow, never thrash', () => {
  // m = 8: 1024 columns per chunk, so d = 2048 needs 1 worker and d = 8192 needs 7.
  const small = rows(8, 2048, 1);
  const large = rows(8, 8192, 2);

  it('the two shapes really ask for different worker counts', () => {
    expect(selectPlan(8, 2048).chunks).toBe(2);
    expect(selectPlan(8, 8192).chunks).toBeGreaterThanOrEqual(8);
  });

  it('40 calls of alternating shapes with 8 threads start at most 7 workers, same bits as js', () => {
    setKernelBackend('wasm');
    kernelConfig.minParallelSelect = 0;
    releaseKernelResources();
    setKernelThreads(8);
    const before = kernelStatus().workersStarted;
    const expected = [reduceColumnsPlain(small, columnMedian), reduceColumnsPlain(large, columnMedian)];
    for (let call = 0; call < 40; call++) {
      const out = reduceColumns(call % 2 === 0 ? small : large, columnMedian);
      expect(out).toEqual(expected[call % 2]);
    }
    // The old pool resized to each call's count: 1, 7, 1, 7, … started about 120 threads.
    expect(kernelStatus().workersStarted - before).toBeLessThanOrEqual(7);
    expect(kernelStatus().workersStarted - before).toBeGreaterThan(0);
  });

  it('a lower thread setting stops the extra workers; calls then start none; raising it grows once', () => {
    setKernelBackend('wasm');
    kernelConfig.minParallelSelect = 0;
    setKernelThreads(8);
    reduceColumns(large, columnMedian); // 7 workers held
    setKernelThreads(3); // keeps 2
    expect(kernelStatus().workersReady).toBeLessThanOrEqual(2);
    let before = kernelStatus().workersStarted;
    for (let call = 0; call < 10; call++) reduceColumns(call % 2 === 0 ? small : large, columnMedian);
    expect(kernelStatus().workersStarted).toBe(before);
    setKernelThreads(5);
    before = kernelStatus().workersStarted;
    for (let call = 0; call < 10; call++) reduceColumns(call % 2 === 0 ? small : large, columnMedian);
    expect(kernelStatus().workersStarted - before).toBe(2);
    setKernelThreads(1); // no workers at all
    before = kernelStatus().workersStarted;
    expect(reduceColumns(large, columnMedian)).toEqual(reduceColumnsPlain(large, columnMedian));
    expect(kernelStatus().workersStarted).toBe(before);
    expect(kernelStatus().workersReady).toBe(0);
  });
});

describe('ROBUST_AGG_THREADS is bounded like setKernelThreads', () => {
  const read = (env: Record<string, string>): { threads: number | 'auto'; backend: string; warnings: string[] } => {
    const warnings: string[] = [];
    kernelConfig.threads = 'auto';
    kernelConfig.backend = 'auto';
    readEnvironment(env, (message, code) => warnings.push(`${code}: ${message}`));
    return { threads: kernelConfig.threads, backend: kernelConfig.backend, warnings };
  };

  it.each([
    ['1', 1],
    ['4', 4],
    [' 8 ', 8],
    ['65', 65],
    ['auto', 'auto'],
  ] as const)('accepts %j', (value, threads) => {
    expect(read({ ROBUST_AGG_THREADS: value })).toEqual({ threads, backend: 'auto', warnings: [] });
  });

  it('an unset or empty variable keeps the default silently', () => {
    expect(read({})).toEqual({ threads: 'auto', backend: 'auto', warnings: [] });
    expect(read({ ROBUST_AGG_THREADS: '' })).toEqual({ threads: 'auto', backend: 'auto', warnings: [] });
  });

  it.each(['0', '66', '1000000000', '1e9', '2.5', '-1', 'eight', '0x10', '4 threads', 'Infinity'])(
    'rejects %j: one warning naming the variable and the range, default kept',
    (value) => {
      const r = read({ ROBUST_AGG_THREADS: value });
      expect(r.threads).toBe('auto');
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toContain('ROBUST_AGG_THREADS');
      expect(r.warnings[0]).toContain(JSON.stringify(value));
      expect(r.warnings[0]).toContain("'auto' or an integer in [1, 65]");
    },
  );

  it('the same numbers are refused by setKernelThreads', () => {
    for (const value of [0, 66, 1e9, 2.5, -1, Infinity, NaN]) {
      expect(() => setKernelThreads(value)).toThrow(RobustAggError);
      expect(() => setKernelThreads(value)).toThrow("'auto' or an integer in [1, 65]");
    }
  });

  it('a bad ROBUST_AGG_BACKEND warns too and keeps auto', () => {
    const r = read({ ROBUST_AGG_BACKEND: 'gpu', ROBUST_AGG_THREADS: '2' });
    expect(r).toMatchObject({ threads: 2, backend: 'auto' });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('ROBUST_AGG_BACKEND');
    expect(read({ ROBUST_AGG_BACKEND: 'js' })).toEqual({ threads: 'auto', backend: 'js', warnings: [] });
  });
});
