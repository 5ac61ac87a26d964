// The browser build's worker-port.ts (tsup.config.ts and scripts/build-server-worker.mjs swap it
// in): a Web Worker's global scope, and no Node code.
import type { ReplyPort, WorkerMessage } from './protocol.js';

/** Subscribes `handler` to the jobs the page posts; returns the scope to answer on. @internal */
export function connect(handler: (message: WorkerMessage) => void): ReplyPort {
  const scope = globalThis as unknown as ReplyPort & { onmessage: ((e: { data: WorkerMessage }) => void) | null };
  scope.onmessage = (e) => handler(e.data);
  return scope;
}
