import { RobustAggError } from '../../core/errors.js';
import { mainWorkspace, wasmFailure } from './instance.js';
import { nodeBuiltin } from './node-builtin.js';
import type { Workspace } from './workspace.js';

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

/** Where a warning about the environment goes: Node's process warnings, else the console. */
function warnOnce(message: string, code: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: { code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code });
  else if (typeof console !== 'undefined') console.warn(message);
}

/**
 * Reads ROBUST_AGG_BACKEND ('auto', 'wasm' or 'js') and ROBUST_AGG_THREADS ('auto' or an integer
 * in [1, 65], the range `setKernelThreads` accepts) into the configuration. Runs once, when the
 * library loads. An unset or empty variable keeps the default; any other value outside its range
 * keeps the default too and emits one process warning (code ROBUST_AGG_BACKEND or
 * ROBUST_AGG_THREADS) naming the variable, the value and the accepted range — a typo never stops
 * the import, and never starts an unbounded number of threads.
 *
 * @internal
 */
export function readEnvironment(
  env: Record<string, string | undefined> | undefined,
  warn: (message: string, code: string) => void = warnOnce,
): void {
  if (env === undefined) return;
  const backend = env.ROBUST_AGG_BACKEND;
  if (backend === 'auto' || backend === 'wasm' || backend === 'js') kernelConfig.backend = backend;
  else if (backend !== undefined && backend !== '') {
    warn(`robust-agg: ignoring ROBUST_AGG_BACKEND=${JSON.stringify(backend)}: expected 'auto', 'wasm' or 'js'; using 'auto'`, 'ROBUST_AGG_BACKEND');
  }
  const raw = env.ROBUST_AGG_THREADS;
  if (raw === undefined || raw.trim() === '') return;
  const threads = raw.trim() === 'auto' ? 'auto' : /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (validThreads(threads)) kernelConfig.threads = threads;
  else {
    warn(`robust-agg: ignoring ROBUST_AGG_THREADS=${JSON.stringify(raw)}: expected ${THREADS_RANGE}; using 'auto'`, 'ROBUST_AGG_THREADS');
  }
}
readEnvironment((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env);

/**
 * The WebAssembly instance to use for a kernel call with the given amount of work, or null for
 * the plain TypeScript kernel. Backend 'wasm' throws when WebAssembly SIMD cannot load.
 *
 * @internal
 */
export function pickWorkspace(work: number, threshold: number): Workspace | null {
  const backend = kernelConfig.backend;
  if (backend === 'js') return null;
  if (backend === 'auto' && work < threshold) return null;
  const ws = mainWorkspace();
  if (ws === null && backend === 'wasm') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `kernel backend 'wasm' was requested but WebAssembly SIMD is unavailable here: ${String(wasmFailure())}`,
    );
  }
  return ws;
}

/** The number of threads (calling thread included) the configuration asks for. @internal */
export function configuredThreads(): number {
  if (kernelConfig.threads !== 'auto') return kernelConfig.threads;
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os === null) return 1;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores));
}
