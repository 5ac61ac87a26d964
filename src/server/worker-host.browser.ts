// The browser build's worker-host.ts (tsup.config.ts swaps it in): a Web Worker from a Blob URL of
// the browser worker script (worker-source.browser.ts, swapped in the same way), no Node code.
import type { HostPriority, WorkerLike } from './protocol.js';
import { startWebWorker } from './web-worker.js';
import { SERVER_WORKER_SOURCE } from './worker-source.js';

/** Starts one Web Worker, or returns null without Web Workers (priority does not apply). @internal */
export function startWorker(_priority: HostPriority): WorkerLike | null {
  return startWebWorker(SERVER_WORKER_SOURCE);
}
