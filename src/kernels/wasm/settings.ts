// The settings of the fast kernels (no imports: every other kernel module may read them).
// config.ts is where the rest of the library gets them from, after environment.ts has applied
// ROBUST_AGG_BACKEND and ROBUST_AGG_THREADS (in Node; the browser build reads no environment).

/** Which kernels run: see `setKernelBackend`. */
export type KernelBackend = 'auto' | 'wasm' | 'js';

/** Every switch of the fast kernels, in one place. @internal */
export const kernelConfig = {
  backend: 'auto' as KernelBackend,
  /** Threads in all (the calling thread included); 'auto': the cores Node reports, at most 8. */
  threads: 'auto' as number | 'auto',
  /** 'auto' uses WebAssembly for a Gram matrix or column selection once n·d reaches this. */
  minWasmWork: 1 << 16,
  /** 'auto' uses WebAssembly for a combination once (rows read)·d reaches this. */
  minCombineWork: 1 << 16,
  /** 'auto' uses WebAssembly for a norm once the vector is this long. */
  minNormLength: 1 << 16,
  /** Worker threads join a Gram matrix once n²·d/2 multiply-adds reach this (about 10 ms). */
  minParallelGram: 1 << 27,
  /** Worker threads join a column selection once n·d values reach this (about 10 ms). */
  minParallelSelect: 1 << 22,
};

/**
 * Most threads the kernels may use, the calling thread included (64 workers): the cap of both
 * `setKernelThreads` and `ROBUST_AGG_THREADS`.
 *
 * @internal
 */
export const MAX_THREADS = 65;

/** Whether `threads` is a valid thread count: 'auto' or an integer in [1, MAX_THREADS]. @internal */
export function validThreads(threads: unknown): threads is number | 'auto' {
  return threads === 'auto' || (typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS);
}

/** What a thread count must be, for error and warning messages. @internal */
export const THREADS_RANGE = `'auto' or an integer in [1, ${MAX_THREADS}]`;

