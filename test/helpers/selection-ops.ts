// The column-selection operations the selection tests draw (test/kernels/selection-ties.test.ts,
// column-select-large.test.ts): the median, a trimmed mean, or the mean around the median.
import fc from 'fast-check';
import { afterAll, afterEach } from 'vitest';
import { releaseKernelResources } from '../../src/kernels/backend.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';

/** The largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;
/** The smallest subnormal float32. */
export const TINY = 2 ** -149;

/**
 * Restores the kernel settings a selection test changes (backend, threads, the parallel
 * threshold) after each test, and releases the kernels' memory and workers after the file.
 */
export function restoreKernelConfig(): void {
  const saved = { ...kernelConfig };
  afterEach(() => {
    kernelConfig.backend = saved.backend;
    kernelConfig.threads = saved.threads;
    kernelConfig.minParallelSelect = saved.minParallelSelect;
  });
  afterAll(() => releaseKernelResources());
}

/** One column-selection operation over m rows. */
export type Op = { kind: 'median' } | { kind: 'trimmed'; trim: number } | { kind: 'meamed'; keep: number };

/** Any valid operation over m rows: the median, trim ∈ [0, (m − 1)/2], keep ∈ [1, m]. */
export const opArb = (m: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.constant<Op>({ kind: 'median' }),
    fc.integer({ min: 0, max: (m - 1) >>> 1 }).map((trim): Op => ({ kind: 'trimmed', trim })),
    fc.integer({ min: 1, max: m }).map((keep): Op => ({ kind: 'meamed', keep })),
  );
