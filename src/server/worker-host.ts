// Starts an aggregation worker: a Node worker thread running the generated script, or (where there
// is no worker_threads) a Web Worker from a Blob URL of it. The browser build replaces this file by
// worker-host.browser.ts, which carries no Node code.
import { nodeBuiltin } from '../kernels/wasm/node-builtin.js';
import type { HostPriority, RunReply, WorkerLike } from './protocol.js';
import { startWebWorker } from './web-worker.js';
import { SERVER_WORKER_SOURCE } from './worker-source.js';

interface NodeWorker {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: 'message' | 'error' | 'exit', listener: (arg: never) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

/** Starts one aggregation worker, or returns null when this platform has none. @internal */
export function startWorker(priority: HostPriority): WorkerLike | null {
  const threads = nodeBuiltin<{ Worker: new (src: string, o: { eval: true; workerData: unknown }) => NodeWorker }>('node:worker_threads');
  if (threads === null) return startWebWorker(SERVER_WORKER_SOURCE);
  const w = new threads.Worker(SERVER_WORKER_SOURCE, { eval: true, workerData: { priority } });
  w.unref();
  const like: WorkerLike = {
    post: (job, transfer) => w.postMessage(job, transfer),
    hold: (busy) => (busy ? w.ref() : w.unref()),
    terminate: () => void w.terminate(),
    onReply: null,
    onFailure: null,
    dead: false,
  };
  w.on('message', (reply: RunReply) => like.onReply?.(reply));
  w.on('error', (e: unknown) => {
    like.dead = true;
    like.onFailure?.(e);
  });
  w.on('exit', (code: number) => {
    like.dead = true;
    like.onFailure?.(new Error(`aggregation worker exited (code ${code})`));
  });
  return like;
}
