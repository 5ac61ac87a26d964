// Applies ROBUST_AGG_BACKEND and ROBUST_AGG_THREADS to the kernel settings when the library loads
// (Node, Deno, Bun). The browser build replaces this file by environment.browser.ts, which reads
// nothing. The settings are re-exported from here so that every module that uses them also loads
// this one (the package is side-effect free for bundlers: a module none of whose exports is used
// may be dropped, with its load-time code).
import { kernelConfig as settings, THREADS_RANGE, validThreads } from './settings.js';

/** The kernel settings, with the environment applied (see config.ts). @internal */
export const kernelConfig = settings;

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
