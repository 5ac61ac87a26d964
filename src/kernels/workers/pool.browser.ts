// The worker pool of the browser build (tsup.config.ts maps ./pool.js to this file there): the
// kernels' worker threads are Node's worker_threads, which no browser has, so this build never
// starts one and carries neither the pool nor the worker script. Same exports as pool.ts.
import type { WorkerModules } from './protocol.js';
import type { WorkerPool } from './pool.js';

export type { ChunkTask, WorkerPool } from './pool.js';

/** Always null: no worker threads in a browser (the kernels run on the calling thread). @internal */
export function workerPool(_workers: number, _modules: WorkerModules): WorkerPool | null {
  return null;
}

/** Nothing to stop. @internal */
export function shrinkWorkerPool(_workers: number): void {}

/** Always 0. @internal */
export function workersStarted(): number {
  return 0;
}

/** Always null. @internal */
export function existingPool(): WorkerPool | null {
  return null;
}

/** Nothing to stop. @internal */
export function closeWorkerPool(): void {}
