// Messages between the calling thread and an aggregation worker (src/server/worker-main.ts).

/** A rule to run in a worker over rows that live in `buffers`. @internal */
export interface RunJob {
  readonly id: number;
  /** The rule's registry name. */
  readonly name: string;
  /** Its options (structured-cloned). */
  readonly options: Record<string, unknown>;
  /** Length of every row. */
  readonly d: number;
  /** The memory the rows live in: SharedArrayBuffers (no copy) or transferred ArrayBuffers. */
  readonly buffers: readonly ArrayBufferLike[];
  /** Row i is `new Float32Array(buffers[rowBuffer[i]], rowOffset[i], d)`. */
  readonly rowBuffer: Int32Array;
  readonly rowOffset: Float64Array;
}

/** The worker's answer. @internal */
export type RunReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly aggregate: Float32Array;
      readonly decision: Record<string, unknown>;
      /** What the rule returned besides aggregate and decision (history, normHistory, state). */
      readonly extras: Record<string, unknown>;
    }
  | { readonly id: number; readonly ok: false; readonly code: string | null; readonly message: string };

/** Scheduling priority of an aggregation worker (see AsyncRunOptions.priority). @internal */
export type HostPriority = 'background' | 'normal';

/** What the library needs of a worker, in Node (worker_threads) and in browsers (Web Worker). @internal */
export interface WorkerLike {
  post(job: RunJob, transfer: ArrayBuffer[]): void;
  /** Keeps the process alive while a job runs (Node); no-op in browsers. */
  hold(busy: boolean): void;
  terminate(): void;
  onReply: ((reply: RunReply) => void) | null;
  onFailure: ((error: unknown) => void) | null;
  /** Set once the worker has exited or failed (never reused then). */
  dead: boolean;
}

/** Where a worker posts its answers. @internal */
export interface ReplyPort {
  postMessage(message: unknown, transfer?: unknown[]): void;
}
