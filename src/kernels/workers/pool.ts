import { nodeBuiltin } from '../wasm/node-builtin.js';
import {
  DONE,
  MAX_WORKERS,
  POSTED,
  READY,
  SLOT,
  SLOTS,
  SlotState,
  WORKER_WORDS,
  type JobMessage,
  type ModuleMessage,
  type WorkerInit,
  type WorkerKernel,
  type WorkerModules,
} from './protocol.js';
import { WORKER_SOURCE } from './worker-source.js';

/** The part of node:worker_threads the pool uses. */
interface WorkerThreads {
  Worker: new (
    source: string,
    options: { eval: boolean; workerData: WorkerInit; transferList: unknown[] },
  ) => NodeWorker;
  MessageChannel: new () => { port1: NodePort; port2: unknown };
}
interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error' | 'exit', listener: (arg: unknown) => void): void;
}
interface NodePort {
  postMessage(message: unknown): void;
  unref?(): void;
  close(): void;
}

/** One input/result slot of a worker, as the calling thread sees it. */
interface Slot {
  data: SharedArrayBuffer | null;
  result: SharedArrayBuffer | null;
  /** The call and chunk whose job the slot holds (meaningful while not FREE). */
  call: number;
  chunk: number;
  postedAt: number;
}

interface WorkerHandle {
  readonly worker: NodeWorker;
  readonly port: NodePort;
  /** The worker's own control words (READY, POSTED, slot states). */
  readonly ctl: Int32Array;
  readonly slots: Slot[];
  /** The kernel modules the worker has (or has been posted). */
  readonly kernels: Set<WorkerKernel>;
  dead: boolean;
}

/**
 * A parallel loop over the chunks of one kernel call. Chunks are fixed by the call's shape alone,
 * never by the number of threads, and each chunk's result is computed the same way wherever it
 * runs, so the caller gets the same bits whatever the thread count.
 *
 * @internal
 */
export interface ChunkTask {
  readonly chunks: number;
  /** Bytes of input and of result a worker slot needs for one chunk. */
  readonly dataBytes: number;
  readonly resultBytes: number;
  /** Runs chunk c on the calling thread. */
  runLocal(c: number): void;
  /** Copies chunk c's input into `data` and returns the job (without slot, data and result). */
  pack(c: number, data: SharedArrayBuffer): Omit<JobMessage, 'slot' | 'data' | 'result'>;
  /** Takes chunk c's result from a worker's result buffer. */
  unpack(c: number, result: SharedArrayBuffer): void;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * A pool of Node worker threads running the WebAssembly kernels on chunks of columns copied into
 * SharedArrayBuffer slots (two per worker: one running, one queued). A worker starts with the
 * kernel modules compiled so far and gets any other one just before its first job that needs it. The calling thread stays
 * synchronous: it fills slots, runs chunks itself meanwhile, and blocks with Atomics.wait only when
 * nothing is left but other threads' chunks. Workers are unref'd (they never keep a process alive)
 * and join a call as soon as they are ready, so the first call does not wait for them to start.
 *
 * @internal
 */
export class WorkerPool {
  /** The DONE word every worker bumps after a job. */
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly handles: WorkerHandle[] = [];
  private calls = 0;
  /** Chunks finished by workers and by the calling thread since the pool started. */
  readonly stats = { workerChunks: 0, localChunks: 0 };
  /** Mean time of a chunk run on the calling thread (for deciding when a worker is stalled). */
  private localChunkMs = 5;

  /** The compiled kernel modules workers get (all that calls have needed so far). */
  private readonly modules: WorkerModules = {};

  constructor(private readonly wt: WorkerThreads) {}

  /** Adds kernel modules for the workers (a worker gets each before its first job using it). */
  provide(modules: WorkerModules): void {
    Object.assign(this.modules, modules);
  }

  /** Workers started (ready or not). */
  get size(): number {
    return this.handles.length;
  }

  /** Workers that have instantiated their kernels and are alive. */
  get ready(): number {
    let k = 0;
    for (const h of this.handles) if (!h.dead && Atomics.load(h.ctl, READY) === 1) k++;
    return k;
  }

  /** Starts or stops workers until `count` are held (dead ones are dropped first). */
  resize(count: number): void {
    count = Math.max(0, Math.min(MAX_WORKERS, count));
    this.dropDead();
    while (this.handles.length > count) {
      const h = this.handles.pop()!;
      h.dead = true;
      h.port.close();
      void h.worker.terminate();
    }
    while (this.handles.length < count) this.start();
  }

  /**
   * Starts workers until at least `count` live ones are held; never stops one. A call that needs
   * fewer workers than the pool holds uses a subset of them (see {@link WorkerPool.run}), so calls
   * of alternating shapes start no thread after the largest has been seen.
   */
  grow(count: number): void {
    count = Math.max(0, Math.min(MAX_WORKERS, count));
    this.dropDead();
    while (this.handles.length < count) this.start();
  }

  /** Forgets workers that exited or failed (their slots are never used again). */
  private dropDead(): void {
    for (let k = this.handles.length - 1; k >= 0; k--) {
      const h = this.handles[k];
      if (!h.dead) continue;
      this.handles.splice(k, 1);
      h.port.close();
      void h.worker.terminate();
    }
  }

  private start(): void {
    startedWorkers++;
    const ctl = new Int32Array(new SharedArrayBuffer(WORKER_WORDS * 4));
    const { port1, port2 } = new this.wt.MessageChannel();
    const worker = new this.wt.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        modules: { ...this.modules },
        control: ctl.buffer as SharedArrayBuffer,
        done: this.done.buffer as SharedArrayBuffer,
        port: port2,
      },
      transferList: [port2],
    });
    worker.unref();
    port1.unref?.();
    const handle: WorkerHandle = {
      worker,
      port: port1,
      ctl,
      slots: Array.from({ length: SLOTS }, () => ({ data: null, result: null, call: -1, chunk: -1, postedAt: 0 })),
      kernels: new Set(Object.keys(this.modules) as WorkerKernel[]),
      dead: false,
    };
    worker.on('error', () => {
      handle.dead = true;
    });
    worker.on('exit', () => {
      handle.dead = true;
    });
    this.handles.push(handle);
  }

  /** Resolves once every worker is ready (or `timeoutMs` passed); true when all are. */
  async whenReady(timeoutMs = 10_000): Promise<boolean> {
    const until = now() + timeoutMs;
    while (this.ready < this.handles.filter((h) => !h.dead).length) {
      if (now() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return true;
  }

  /** Stops every worker. */
  close(): void {
    this.resize(0);
  }

  /**
   * Runs every chunk of `task` once, on this thread or on up to `maxWorkers` ready workers, and
   * returns when all results were handed to the task.
   */
  run(task: ChunkTask, maxWorkers: number): void {
    const call = ++this.calls;
    const done = this.done;
    // Results of earlier calls nobody waited for (a stalled worker finished late): free the slots.
    for (const h of this.handles) {
      for (let s = 0; s < SLOTS; s++) {
        const st = Atomics.load(h.ctl, SLOT + s);
        if (h.slots[s].call !== call && (st === SlotState.DONE || st === SlotState.FAILED)) {
          Atomics.store(h.ctl, SLOT + s, SlotState.FREE);
        }
      }
    }
    const usable = this.handles
      .filter((h) => !h.dead && Atomics.load(h.ctl, READY) === 1)
      .slice(0, Math.max(0, maxWorkers));
    const finished = new Uint8Array(task.chunks);
    let remaining = task.chunks;
    let next = 0;
    const inflight: { h: WorkerHandle; s: number }[] = [];

    const finishLocally = (c: number): void => {
      const t0 = now();
      task.runLocal(c);
      this.stats.localChunks++;
      this.localChunkMs = 0.8 * this.localChunkMs + 0.2 * (now() - t0);
      finished[c] = 1;
      remaining--;
    };

    while (remaining > 0) {
      const seen = Atomics.load(done, DONE);
      // Collect finished jobs.
      for (let k = inflight.length - 1; k >= 0; k--) {
        const { h, s } = inflight[k];
        const st = Atomics.load(h.ctl, SLOT + s);
        if (st !== SlotState.DONE && st !== SlotState.FAILED) continue;
        const c = h.slots[s].chunk;
        if (finished[c] === 0) {
          if (st === SlotState.DONE) {
            task.unpack(c, h.slots[s].result!);
            this.stats.workerChunks++;
            finished[c] = 1;
            remaining--;
          } else {
            finishLocally(c);
          }
        }
        Atomics.store(h.ctl, SLOT + s, SlotState.FREE);
        inflight.splice(k, 1);
      }
      if (remaining === 0) break;
      if (next < task.chunks) {
        const target = this.freeSlot(usable, inflight);
        if (target !== null) {
          this.post(task, target.h, target.s, next, call);
          inflight.push(target);
          next++;
        } else {
          finishLocally(next);
          next++;
        }
        continue;
      }
      // No chunk left to hand out: take back a job no worker has started yet.
      let stolen = false;
      for (let k = 0; k < inflight.length; k++) {
        const { h, s } = inflight[k];
        if (Atomics.compareExchange(h.ctl, SLOT + s, SlotState.POSTED, SlotState.STOLEN) === SlotState.POSTED) {
          const c = h.slots[s].chunk;
          inflight.splice(k, 1);
          if (finished[c] === 0) finishLocally(c);
          stolen = true;
          break;
        }
      }
      if (stolen) continue;
      // Wait for a worker; if one has held a chunk far longer than a chunk takes here (a starved
      // or dead thread), compute that chunk here too and forget the worker's copy.
      Atomics.wait(done, DONE, seen, Math.max(2, this.localChunkMs));
      const stall = 4 * this.localChunkMs + 50;
      for (let k = 0; k < inflight.length; k++) {
        const { h, s } = inflight[k];
        if (h.dead || now() - h.slots[s].postedAt > stall) {
          const c = h.slots[s].chunk;
          inflight.splice(k, 1);
          if (finished[c] === 0) finishLocally(c);
          break;
        }
      }
    }
  }

  /** A FREE slot of the usable worker with the fewest jobs in flight, or null. */
  private freeSlot(usable: WorkerHandle[], inflight: { h: WorkerHandle; s: number }[]): { h: WorkerHandle; s: number } | null {
    let best: { h: WorkerHandle; s: number } | null = null;
    let bestLoad = Infinity;
    for (const h of usable) {
      if (h.dead) continue;
      let load = 0;
      for (const f of inflight) if (f.h === h) load++;
      if (load >= bestLoad) continue;
      for (let s = 0; s < SLOTS; s++) {
        if (Atomics.load(h.ctl, SLOT + s) === SlotState.FREE) {
          best = { h, s };
          bestLoad = load;
          break;
        }
      }
    }
    return best;
  }

  private post(task: ChunkTask, h: WorkerHandle, s: number, c: number, call: number): void {
    const slot = h.slots[s];
    if (slot.data === null || slot.data.byteLength < task.dataBytes) slot.data = new SharedArrayBuffer(task.dataBytes);
    if (slot.result === null || slot.result.byteLength < task.resultBytes) {
      slot.result = new SharedArrayBuffer(task.resultBytes);
    }
    const job: JobMessage = { ...task.pack(c, slot.data), slot: s, data: slot.data, result: slot.result };
    const module = this.modules[job.kind];
    if (!h.kernels.has(job.kind) && module !== undefined) {
      // A worker without a module fails the job (the caller then runs it): never the case here.
      h.port.postMessage({ load: job.kind, module } satisfies ModuleMessage);
      h.kernels.add(job.kind);
    }
    slot.call = call;
    slot.chunk = c;
    slot.postedAt = now();
    Atomics.store(h.ctl, SLOT + s, SlotState.POSTED);
    h.port.postMessage(job);
    Atomics.add(h.ctl, POSTED, 1);
    Atomics.notify(h.ctl, POSTED);
  }
}

let pool: WorkerPool | null = null;
/** Worker threads started by this process so far (all pools). */
let startedWorkers = 0;

/**
 * The process's worker pool holding at least `workers` workers (started on first use, grown when
 * a call needs more, never shrunk here: a call that needs fewer runs on a subset), with the
 * compiled kernel `modules` the call needs, or null where worker threads are unavailable
 * (browsers, Node < 20.16) or `workers` is 0. The caller bounds `workers` by the configured thread
 * count; `setKernelThreads` with a lower count shrinks the pool. (Browser builds replace this file
 * by pool.browser.ts, which never starts a worker.)
 *
 * @internal
 */
export function workerPool(workers: number, modules: WorkerModules): WorkerPool | null {
  if (workers <= 0) return null;
  if (pool === null) {
    const wt = nodeBuiltin<WorkerThreads>('node:worker_threads');
    if (wt === null || typeof SharedArrayBuffer === 'undefined') return null;
    pool = new WorkerPool(wt);
  }
  pool.provide(modules);
  pool.grow(workers);
  return pool;
}

/** Stops workers beyond `workers` (the thread setting went down). @internal */
export function shrinkWorkerPool(workers: number): void {
  if (pool !== null && pool.size > workers) pool.resize(workers);
}

/** Worker threads started by this process so far, across pools and releases. @internal */
export function workersStarted(): number {
  return startedWorkers;
}

/** The pool if one was started. @internal */
export function existingPool(): WorkerPool | null {
  return pool;
}

/** Stops the pool's workers and forgets it. @internal */
export function closeWorkerPool(): void {
  if (pool !== null) pool.close();
  pool = null;
}
