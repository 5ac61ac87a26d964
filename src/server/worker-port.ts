// How an aggregation worker receives jobs and answers (Node: worker_threads' parentPort, at a lower
// scheduling priority unless asked otherwise; a browser's Web Worker: its global scope). The
// browser build replaces this file by worker-port.browser.ts.
import { nodeBuiltin } from '../kernels/wasm/node-builtin.js';
import type { ReplyPort, WorkerMessage } from './protocol.js';

/** Subscribes `handler` to the jobs the calling thread posts; returns the port to answer on. @internal */
export function connect(handler: (message: WorkerMessage) => void): ReplyPort {
  const threads = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads');
  const nodePort = threads?.parentPort ?? null;
  if (nodePort !== null) {
    // Priority 'background' (the default): nice +10 for this thread, inherited by the kernel
    // threads it starts, so that on a busy machine the calling thread's event loop wins the CPU.
    // Raising it back would need privileges, so a worker keeps its priority for its whole life.
    if ((threads?.workerData as { priority?: string } | undefined)?.priority !== 'normal') {
      try {
        nodeBuiltin<typeof import('node:os')>('node:os')?.setPriority(10);
      } catch {
        // not permitted here: run at the normal priority
      }
    }
    nodePort.on('message', handler);
    return nodePort as unknown as ReplyPort;
  }
  const scope = globalThis as unknown as ReplyPort & { onmessage: ((e: { data: WorkerMessage }) => void) | null };
  scope.onmessage = (e) => handler(e.data);
  return scope;
}
