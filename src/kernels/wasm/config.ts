import { RobustAggError } from '../../core/errors.js';
import { kernelConfig } from './environment.js';
import { kernelWorkspace, type KernelFamily } from './instance.js';
import { nodeBuiltin } from './node-builtin.js';

export { kernelConfig, readEnvironment } from './environment.js';
export { MAX_THREADS, THREADS_RANGE, validThreads, type KernelBackend } from './settings.js';

/**
 * The instance of the kernel module `family` (compiled and instantiated on first use) to use for
 * a kernel call with the given amount of work, or null for the plain TypeScript kernel. Backend
 * 'wasm' throws when WebAssembly SIMD cannot load.
 *
 * @internal
 */
export function pickWorkspace<W extends { readonly memoryBytes: number }>(
  family: KernelFamily<W>,
  work: number,
  threshold: number,
): W | null {
  const backend = kernelConfig.backend;
  if (backend === 'js') return null;
  if (backend === 'auto' && work < threshold) return null;
  const ws = kernelWorkspace(family);
  if (ws === null && backend === 'wasm') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `kernel backend 'wasm' was requested but WebAssembly SIMD is unavailable here: ${String(family.failure)}`,
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
