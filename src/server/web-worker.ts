// Starts a Web Worker from a Blob URL of a worker script (browsers; Deno and Bun as well).
import type { RunReply, WorkerLike } from './protocol.js';

interface BrowserWorker {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): void;
  onmessage: ((e: { data: RunReply }) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

/** Starts a Web Worker from a Blob URL of `source`, or returns null without Web Workers. @internal */
export function startWebWorker(source: string): WorkerLike | null {
  const g = globalThis as unknown as {
    Worker?: new (url: string) => BrowserWorker;
    Blob?: new (parts: string[], o: { type: string }) => unknown;
    URL?: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void };
  };
  if (g.Worker === undefined || g.Blob === undefined || g.URL === undefined) return null;
  const url = g.URL.createObjectURL(new g.Blob([source], { type: 'text/javascript' }));
  let w: BrowserWorker;
  try {
    w = new g.Worker(url);
  } finally {
    g.URL.revokeObjectURL(url);
  }
  const like: WorkerLike = {
    post: (job, transfer) => w.postMessage(job, transfer),
    hold: () => {},
    terminate: () => w.terminate(),
    onReply: null,
    onFailure: null,
    dead: false,
  };
  w.onmessage = (e) => like.onReply?.(e.data);
  w.onerror = (e) => {
    like.dead = true;
    like.onFailure?.(e);
  };
  return like;
}
