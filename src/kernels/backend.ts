import { RobustAggError } from '../core/errors.js';
import { configuredThreads, kernelConfig, THREADS_RANGE, validThreads, type KernelBackend } from './wasm/config.js';
import { allKernelFamilies, gramKernels, kernelModule, loadKernels, selectKernels } from './wasm/instance.js';
import { closeWorkerPool, existingPool, shrinkWorkerPool, workerPool, workersStarted } from './workers/pool.js';
import { webgpuState } from './webgpu/state.js';

export type { KernelBackend };

/**
 * Chooses the kernels behind every aggregator's hot loops (the Gram matrix, the weighted
 * combination, norms and column-wise selection):
 *
 * - `'auto'` (default): the WebAssembly SIMD kernels once a call is big enough to gain from them
 *   (n·d ≥ 2¹⁶), with worker threads in Node for the biggest ones; the plain TypeScript kernels
 *   otherwise and wherever WebAssembly SIMD is unavailable.
 * - `'wasm'`: the WebAssembly kernels for every size; throws a `RobustAggError` when they cannot
 *   load.
 * - `'js'`: the plain TypeScript kernels only (float64 throughout; the reference the fast kernels
 *   are tested against).
 * - `'webgpu'`: the asynchronous `gpu…` rules (`gpuKrum`, `gpuCoordinateMedian`, …) run their
 *   kernels in WGSL on the device `initWebGPU` set up (call it first, or this throws
 *   `INVALID_OPTION`); the synchronous rules keep the `'auto'` kernels. See docs/webgpu.md.
 *
 * The environment variable `ROBUST_AGG_BACKEND` sets the initial value in Node (another value
 * than those three is ignored with one process warning).
 *
 * @param backend - `'auto'`, `'wasm'`, `'js'` or `'webgpu'`; anything else throws `INVALID_OPTION`.
 * @example
 * ```ts
 * import { krum, setKernelBackend } from 'robust-agg';
 *
 * const updates = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v));
 * setKernelBackend('js'); // exact float64 Gram matrix, no WebAssembly
 * console.log(krum(updates, { f: 2 })); // Float32Array [1, -1] (clients 1 and 2 tie; the lower index wins)
 * setKernelBackend('auto');
 * ```
 */
export function setKernelBackend(backend: KernelBackend | 'webgpu'): void {
  if (backend === 'webgpu') {
    if (webgpuState.device === null) {
      throw new RobustAggError('INVALID_OPTION', "setKernelBackend: 'webgpu' needs a device: await initWebGPU() first (it resolves to null where no adapter exists)");
    }
    kernelConfig.backend = 'auto';
    webgpuState.selected = true;
    return;
  }
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'js') {
    throw new RobustAggError('INVALID_OPTION', `setKernelBackend: expected 'auto', 'wasm', 'js' or 'webgpu', got ${String(backend)}`);
  }
  kernelConfig.backend = backend;
  webgpuState.selected = false;
}

/**
 * The kernel backend in use (see {@link setKernelBackend}).
 *
 * @example
 * ```ts
 * import { getKernelBackend } from 'robust-agg';
 * console.log(getKernelBackend()); // 'auto'
 * ```
 */
export function getKernelBackend(): KernelBackend | 'webgpu' {
  return webgpuState.selected ? 'webgpu' : kernelConfig.backend;
}

/**
 * Sets how many threads the WebAssembly kernels may use in Node, the calling thread included:
 * `threads − 1` worker threads split the columns of big Gram matrices (n²d/2 ≥ 2²⁷) and column
 * selections (n·d ≥ 2²²). `'auto'` (default): the cores `os.availableParallelism()` reports, at
 * most 8. `1` turns the workers off. Results are bit-identical whatever the count: the columns
 * are cut into chunks by the data's shape alone and the chunks' partial sums are added in chunk
 * order. Browsers and Node < 20.16 always use one thread. The environment variable
 * `ROBUST_AGG_THREADS` sets the initial value in Node, with the same range: a value outside it
 * (`0`, `1e9`, `2.5`, `eight`) is ignored with one process warning (code `ROBUST_AGG_THREADS`) and
 * the default `'auto'` is used.
 *
 * Workers start on the first call that needs them and stay alive (unref'd: they never keep the
 * process running) for the next calls. The pool only grows, up to `threads − 1`: a call cut into
 * fewer chunks uses a subset of the workers, so calls of alternating shapes start no new thread.
 * Lowering the count here stops the workers beyond it; {@link releaseKernelResources} stops all.
 *
 * @param threads - `'auto'` or an integer in [1, 65] (at most 64 workers).
 *
 * @example
 * ```ts
 * import { getKernelThreads, setKernelThreads } from 'robust-agg';
 * setKernelThreads(4); // the calling thread and 3 workers
 * console.log(getKernelThreads()); // 4
 * setKernelThreads('auto');
 * ```
 */
export function setKernelThreads(threads: number | 'auto'): void {
  if (!validThreads(threads)) {
    throw new RobustAggError('INVALID_OPTION', `setKernelThreads: expected ${THREADS_RANGE}, got ${String(threads)}`);
  }
  kernelConfig.threads = threads;
  shrinkWorkerPool(configuredThreads() - 1);
}

/**
 * The number of threads the kernels may use (the resolved value of {@link setKernelThreads}).
 *
 * @example
 * ```ts
 * import { getKernelThreads } from 'robust-agg';
 * console.log(getKernelThreads()); // e.g. 2 on a two-core machine
 * ```
 */
export function getKernelThreads(): number {
  return configuredThreads();
}

/**
 * Prepares the fast kernels ahead of the first big call: compiles every WebAssembly kernel module
 * (combine, gram, select) asynchronously (required once on a browser's main thread, which refuses
 * to compile modules over 4 KiB synchronously; elsewhere each module is compiled on its first use
 * anyway) and, in Node, starts the worker threads with the modules they run and waits until they
 * are ready, so that even the first call uses them. Resolves to whether WebAssembly SIMD is
 * available. Importing it brings every kernel module into a bundle (about 12 KB of WebAssembly);
 * a bundle of rules alone carries only the modules those rules use.
 *
 * @example
 * ```ts
 * import { initKernels, krum } from 'robust-agg';
 *
 * console.log(await initKernels()); // true where WebAssembly SIMD is available
 * const updates = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v));
 * console.log(krum(updates, { f: 2 })); // Float32Array [1, -1] (clients 1 and 2 tie; the lower index wins)
 * ```
 */
export async function initKernels(): Promise<boolean> {
  const loaded = await Promise.all(allKernelFamilies().map(loadKernels));
  if (loaded.includes(false)) return false;
  const gram = kernelModule(gramKernels);
  const select = kernelModule(selectKernels);
  const workers = configuredThreads() - 1;
  if (gram !== null && select !== null && workers > 0) {
    const pool = workerPool(workers, { gram, select });
    if (pool !== null) await pool.whenReady();
  }
  return true;
}

/** What {@link kernelStatus} reports. */
export interface KernelStatus {
  /** The backend setting. */
  readonly backend: KernelBackend;
  /** Whether the WebAssembly SIMD kernels (every kernel module) loaded on this thread. */
  readonly wasm: boolean;
  /** Threads the kernels may use (calling thread included). */
  readonly threads: number;
  /** Worker threads started and ready. */
  readonly workersReady: number;
  /** Bytes of WebAssembly memory held by this thread's kernel instances (all modules). */
  readonly wasmMemoryBytes: number;
  /** Chunks of work finished by worker threads so far (0 when none ever joined). */
  readonly workerChunks: number;
  /**
   * Worker threads started by this process so far, including ones stopped since (by a lower
   * {@link setKernelThreads} or {@link releaseKernelResources}): stays put once the pool has
   * grown to the largest call's needs.
   */
  readonly workersStarted: number;
  /**
   * Why the WebAssembly kernels could not load here (for example a Content-Security-Policy
   * without 'wasm-unsafe-eval'), or null when they loaded or were not needed. The first failure
   * is also reported once with `console.warn`.
   */
  readonly wasmError: string | null;
}

/**
 * Where the kernels stand: backend, whether WebAssembly loaded, threads, workers ready and the
 * WebAssembly memory held (the high-water mark of the blocks used so far; see
 * {@link releaseKernelResources}).
 *
 * @example
 * ```ts
 * import { kernelStatus } from 'robust-agg';
 * console.log(kernelStatus()); // { backend: 'auto', wasm: true, threads: 2, ... }
 * ```
 */
export function kernelStatus(): KernelStatus {
  const pool = existingPool();
  const families = allKernelFamilies();
  const compiled = kernelConfig.backend !== 'js' && families.every((family) => kernelModule(family) !== null);
  return {
    backend: kernelConfig.backend,
    wasm: compiled,
    threads: configuredThreads(),
    workersReady: pool === null ? 0 : pool.ready,
    wasmMemoryBytes: families.reduce((sum, family) => sum + (family.main?.memoryBytes ?? 0), 0),
    workerChunks: pool === null ? 0 : pool.stats.workerChunks,
    workersStarted: workersStarted(),
    wasmError: describeFailure(families.find((family) => family.failure !== null)?.failure ?? null),
  };
}

function describeFailure(error: unknown): string | null {
  if (error === null || error === undefined) return null;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Stops the worker threads and drops this thread's WebAssembly instance with its memory; the next
 * big call starts them again. WebAssembly memory never shrinks, so this is the way to give back
 * the blocks of an unusually large call.
 *
 * @example
 * ```ts
 * import { coordinateMedian, kernelStatus, releaseKernelResources } from 'robust-agg';
 *
 * const updates = Array.from({ length: 50 }, (_, i) => new Float32Array(4096).fill(i));
 * coordinateMedian(updates); // n·d ≥ 2¹⁶: runs on the WebAssembly kernels
 * releaseKernelResources();
 * console.log(kernelStatus().wasmMemoryBytes); // 0: the memory is given back
 * ```
 */
export function releaseKernelResources(): void {
  closeWorkerPool();
  for (const family of allKernelFamilies()) family.main = null;
}
