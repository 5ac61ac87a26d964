import type { WasmModule } from '../wasm/wasm-api.js';

// The shared-memory protocol between the calling thread and the kernel worker threads.
// One word shared by the pool (Int32Array over its own SharedArrayBuffer):
//   [DONE]           incremented (and notified) by any worker after every job it finishes
// Words of one worker (Int32Array over a SharedArrayBuffer of its own, never reused, so a
// terminated worker still finishing a job cannot touch the words of its successor):
//   [READY]          1 once the worker has instantiated the kernel modules it started with
//   [POSTED]         number of job messages posted to the worker (notified on each post)
//   [SLOT + s]       state of the worker's input/result slot s (SlotState)

/** @internal */
export const DONE = 0;
/** @internal */
export const READY = 0;
/** @internal */
export const POSTED = 1;
/** @internal */
export const SLOT = 2;
/** Slots per worker: one job running, one queued behind it. @internal */
export const SLOTS = 2;
/** Most workers a pool holds. @internal */
export const MAX_WORKERS = 64;
/** Control words of one worker. @internal */
export const WORKER_WORDS = SLOT + SLOTS;

/**
 * Life of a slot: the caller fills a FREE slot and posts a job (POSTED); the worker claims it
 * (RUNNING, by compare-and-swap) and ends it DONE or FAILED; the caller reads the result and frees
 * it. A POSTED job the caller takes back to run itself becomes STOLEN, and the worker frees that
 * slot when its message arrives.
 *
 * @internal
 */
export const SlotState = {
  FREE: 0,
  POSTED: 1,
  RUNNING: 2,
  DONE: 3,
  FAILED: 4,
  STOLEN: 5,
} as const;

/** The kernel modules a worker runs (each compiled once by the calling thread). @internal */
export type WorkerKernel = 'gram' | 'select';

/** The compiled kernel modules a worker has or gets. @internal */
export type WorkerModules = Partial<Record<WorkerKernel, WasmModule>>;

/**
 * A kernel module for a worker that started without it, posted just before the first job that
 * needs it (messages on a port arrive in order). @internal
 */
export interface ModuleMessage {
  readonly load: WorkerKernel;
  readonly module: WasmModule;
}

/** One chunk of work posted to a worker. @internal */
export interface JobMessage {
  readonly slot: number;
  /** Which kernel module runs it. */
  readonly kind: WorkerKernel;
  /** Rows in `data` (for 'gram', the reference row, if any, follows them). */
  readonly n: number;
  /** Values per row in `data` (the chunk's width). */
  readonly cw: number;
  /** Columns per kernel block. */
  readonly block: number;
  readonly hasRef: boolean;
  /** For 'gram': centre each block on its row of median largest magnitude (the 'robust' centre). */
  readonly robust?: boolean;
  readonly op: number;
  readonly param: number;
  readonly data: SharedArrayBuffer;
  readonly result: SharedArrayBuffer;
}

/** What the worker receives at start. @internal */
export interface WorkerInit {
  /** The kernel modules compiled so far; later ones come as a {@link ModuleMessage}. */
  readonly modules: WorkerModules;
  /** The worker's own control words. */
  readonly control: SharedArrayBuffer;
  /** The pool's DONE word. */
  readonly done: SharedArrayBuffer;
  readonly port: unknown;
}
