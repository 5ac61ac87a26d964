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
  /**
   * A round's precompute: row i is the round's arrival `arrivals[i]`, whose pair statistics the
   * worker built from the {@link RowMessage}s before this job (absent: nothing precomputed).
   */
  readonly arrivals?: Int32Array;
}

/**
 * A round's arrival, sent to its worker as soon as the update is in the arena: the worker pairs it
 * with the rows it already holds (src/server/pair-table.ts). A new `round` number starts a new
 * table. No reply. @internal
 */
export interface RowMessage {
  readonly kind: 'row';
  /** The round's number (unique per process). */
  readonly round: number;
  /** The client's position in arrival order (copies can finish out of order). */
  readonly arrival: number;
  readonly d: number;
  readonly buffer: SharedArrayBuffer;
  readonly offset: number;
  /** False for an update holding NaN or ±Infinity (held for the rule, never paired). */
  readonly finite: boolean;
  /** For `mean` with a known client count: sum the rows as they arrive, each weighing 1/meanOf. */
  readonly meanOf?: number;
  /** For `flame` with a `seed`: draw its noise's Gaussians from this seed while waiting. */
  readonly noiseSeed?: number;
}

/** What the calling thread posts to an aggregation worker. @internal */
export type WorkerMessage = RunJob | RowMessage;

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
  post(message: WorkerMessage, transfer: ArrayBuffer[]): void;
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
