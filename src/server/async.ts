import type { Decision } from '../core/decision.js';
import { RobustAggError, type RobustAggErrorCode } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import type { RowMessage, RunJob, WorkerLike } from './protocol.js';
import { startWorker } from './worker-host.js';
import { checkOptions, registryEntry, type ConfiguredAggregator, type RuleResult } from './registry.js';

/**
 * How an asynchronous aggregation runs.
 *
 * @category Server
 */
export interface AsyncRunOptions {
  /** Aborts the call: the worker running it is stopped and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Scheduling priority of the worker thread (Node on Linux and macOS; ignored elsewhere).
   * `'background'` (default): nice +10, so that on a busy machine the event loop gets a core first
   * (the rule then takes longer when other processes compete for the cores). `'normal'`: the
   * process's own priority, for the shortest latency.
   */
  priority?: WorkerPriority;
}

/**
 * Scheduling priority of an aggregation worker, see {@link AsyncRunOptions.priority}.
 *
 * @category Server
 */
export type WorkerPriority = 'background' | 'normal';

/** Idle workers kept for the next call (each started worker costs a thread and ~10 MB). */
const MAX_IDLE = 2;
const idlePools: Record<WorkerPriority, WorkerLike[]> = { background: [], normal: [] };
let nextId = 1;

/**
 * A worker reserved for one job (a round reserves it at creation so that it has started by the
 * time the round closes).
 *
 * @internal
 */
export class WorkerLease {
  private worker: WorkerLike | null;
  private done = false;
  private readonly idle: WorkerLike[];

  constructor(priority: WorkerPriority = 'background') {
    if (priority !== 'background' && priority !== 'normal') {
      throw new RobustAggError('INVALID_OPTION', `aggregateAsync: priority must be 'background' or 'normal', got ${describeValue(priority)}`);
    }
    this.idle = idlePools[priority];
    let reused = this.idle.pop();
    while (reused?.dead === true) reused = this.idle.pop();
    this.worker = reused ?? startWorker(priority);
    if (this.worker === null) {
      throw new RobustAggError('UNSUPPORTED', 'aggregateAsync: no worker can be started here (neither Node worker threads nor Web Workers)');
    }
  }

  /** Runs one job; resolves with the rule's result or rejects with its RobustAggError or the abort reason. */
  run(job: Omit<RunJob, 'id'>, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<RuleResult> {
    const worker = this.worker;
    if (worker === null || this.done) throw new Error('WorkerLease: already used');
    const id = nextId++;
    return new Promise<RuleResult>((resolve, reject) => {
      const finish = (keep: boolean): void => {
        worker.onReply = null;
        worker.onFailure = null;
        signal?.removeEventListener('abort', onAbort);
        this.release(keep);
      };
      const onAbort = (): void => {
        finish(false);
        reject(signal!.reason);
      };
      worker.onReply = (reply) => {
        if (reply.id !== id) return;
        finish(true);
        if (reply.ok) {
          resolve({ ...reply.extras, aggregate: reply.aggregate, decision: reply.decision } as unknown as RuleResult);
        } else if (reply.code !== null) {
          reject(new RobustAggError(reply.code as RobustAggErrorCode, reply.message));
        } else {
          reject(new Error(reply.message));
        }
      };
      worker.onFailure = (e) => {
        finish(false);
        reject(e instanceof Error ? e : new Error(`aggregation worker failed: ${describeValue(e)}`));
      };
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        worker.hold(true);
        worker.post({ ...job, id }, transfer);
      } catch (e) {
        finish(true);
        reject(
          new RobustAggError(
            'INVALID_OPTION',
            `${job.name}: the options cannot be sent to a worker (${e instanceof Error ? e.message : String(e)}); pass plain data: numbers, arrays, typed arrays, Maps — a seed instead of an rng, rule names instead of functions`,
          ),
        );
      }
    });
  }

  /** Posts a message that needs no answer (a round's arrival) to the reserved worker. */
  send(message: RowMessage): void {
    if (this.worker !== null && !this.done) this.worker.post(message, []);
  }

  /** Gives the worker back (kept idle for the next call when `keep`, stopped otherwise). */
  release(keep = false): void {
    if (this.done) return;
    this.done = true;
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    w.hold(false);
    if (keep && !w.dead && this.idle.length < MAX_IDLE) this.idle.push(w);
    else w.terminate();
  }
}

/** Longest stretch (ms) the calling thread works before it yields to the event loop. */
const SLICE_MS = 2;

/** Floats copied (and checked) between two looks at the clock: 256 KiB. */
export const PIECE = 65_536;

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Yields to the event loop (a macrotask, so timers and I/O run). @internal */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  return new Promise((resolve) => (g.setImmediate !== undefined ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * A time slicer: `await slicer.tick()` yields to the event loop once `SLICE_MS` have passed since
 * the last yield.
 *
 * @internal
 */
export function slicer(): { tick(): Promise<void> | undefined } {
  let since = now();
  return {
    /** Yields (returns a promise) when the slice is used up; undefined otherwise. */
    tick() {
      if (now() - since < SLICE_MS) return undefined;
      return yieldToEventLoop().then(() => {
        since = now();
      });
    },
  };
}

/** True where SharedArrayBuffer can be allocated (Node; cross-origin isolated pages). @internal */
export function sharedMemory(): boolean {
  return typeof SharedArrayBuffer !== 'undefined';
}

/** True for a SharedArrayBuffer of any realm. */
function isShared(buffer: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buffer) === '[object SharedArrayBuffer]';
}

/** Rejects options that cannot cross to a worker (generators, functions) with a message that says what to pass instead. @internal */
export function requireCloneable(rule: string, options: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === 'function' || (key === 'rng' && value !== undefined)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: option ${key} cannot be sent to a worker; pass ${key === 'rng' ? 'seed' : 'plain data'} instead`);
    }
    if (key === 'pool' && Array.isArray(value) && value.some((m) => typeof m === 'function' || typeof (m as { rule?: unknown })?.rule === 'function')) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: pool members must be given by name ({ name, options }) to run in a worker, not as functions`);
    }
  }
}

/**
 * Resolves `rule` (a name or a {@link ConfiguredAggregator}) and `options` to the name and the
 * merged, checked options a worker gets.
 *
 * @internal
 */
export function resolveRule(
  rule: string | ConfiguredAggregator,
  options: Readonly<Record<string, unknown>> | undefined,
  who: string,
): { name: string; options: Record<string, unknown> } {
  const name = typeof rule === 'function' ? rule.ruleName : rule;
  const { info } = registryEntry(name, who);
  if (info.kind === 'preAggregator') {
    throw new RobustAggError('INVALID_OPTION', `${who}: '${name}' is a pre-aggregator; use it in 'pipeline'`);
  }
  const base = typeof rule === 'function' ? rule.options : {};
  const extra = checkOptions(info, options, true);
  const merged = { ...base, ...extra };
  checkOptions(info, merged);
  requireCloneable(info.name, merged);
  return { name: info.name, options: merged };
}

/**
 * Runs a rule off the calling thread and resolves with what `…WithDecision` returns, bit for bit:
 * the aggregate, the decision, and the next round's state for stateful rules. In Node the rule runs
 * in a worker thread (which uses the kernels' own worker threads too) on a copy of the updates in
 * one SharedArrayBuffer; in browsers in a Web Worker, the copy transferred to it. The calling
 * thread only copies, in slices of a few milliseconds between which it yields, so the event loop is
 * never blocked for more than a few milliseconds by this call (test/server/event-loop.test.ts
 * checks ≤ 20 ms at n = 50, d = 10⁶); the caller's arrays are read, never modified or detached.
 * Updates that already live in SharedArrayBuffers are not copied at all: the worker reads them in
 * place (do not modify them until the promise settles).
 *
 * Options must be plain data that can be sent to a worker: pass `seed`, not `rng`; give MixTailor
 * pool members and pipeline stages by name. Errors are the rule's own `RobustAggError`s (same
 * code, same message); the options are checked against the registry's schema before any copying.
 *
 * @param rule - a rule name (see {@link listAggregators}) or an aggregator from {@link createAggregator}.
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 * @param options - the rule's options (merged over a configured aggregator's own).
 * @param run - `signal` to abort the call; `priority` of the worker (default `'background'`).
 * @returns the aggregate, the decision and, for foolsGold / clippedClustering, the state for the next round.
 * @example
 * ```ts
 * import { aggregateAsync, krumWithDecision } from 'robust-agg';
 *
 * const updates = Array.from({ length: 9 }, (_, i) => Float32Array.from({ length: 1000 }, (_, j) => Math.sin(i + j)));
 * updates.push(new Float32Array(1000).fill(100)); // one attacker
 * const { aggregate, decision } = await aggregateAsync('krum', updates, { f: 1 });
 * console.log(decision.selected);                                        // the client Krum picked
 * console.log(aggregate.every((v, j) => v === krumWithDecision(updates, { f: 1 }).aggregate[j])); // true
 * ```
 * @category Server
 */
export async function aggregateAsync(
  rule: string | ConfiguredAggregator,
  updates: Updates,
  options?: Readonly<Record<string, unknown>>,
  run?: AsyncRunOptions,
): Promise<RuleResult<Decision>> {
  const resolved = resolveRule(rule, options, 'aggregateAsync');
  const { n, d } = validateUpdates(updates, resolved.name);
  const signal = run?.signal;
  signal?.throwIfAborted();
  const lease = new WorkerLease(run?.priority);
  try {
    if (sharedMemory() && updates.every((u) => isShared(u.buffer))) {
      // Already in shared memory (e.g. a server that receives into SharedArrayBuffers): the worker
      // reads the caller's rows where they are, no copy. They must not change until the call settles.
      const buffers: SharedArrayBuffer[] = [];
      const index = new Map<ArrayBufferLike, number>();
      const rowBuffer = new Int32Array(n);
      const rowOffset = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const b = updates[i].buffer;
        let k = index.get(b);
        if (k === undefined) {
          k = buffers.push(b as SharedArrayBuffer) - 1;
          index.set(b, k);
        }
        rowBuffer[i] = k;
        rowOffset[i] = updates[i].byteOffset;
      }
      return await lease.run({ name: resolved.name, options: resolved.options, d, buffers, rowBuffer, rowOffset }, [], signal);
    }
    const rowBytes = d * 4;
    const bytes = n * rowBytes;
    const shared = sharedMemory();
    const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const rowBuffer = new Int32Array(n);
    const rowOffset = new Float64Array(n);
    const slice = slicer();
    await yieldToEventLoop(); // starting the worker was this call's synchronous part
    signal?.throwIfAborted();
    // Copy in pieces of PIECE floats, yielding between them once a slice of SLICE_MS is used up.
    for (let i = 0; i < n; i++) {
      rowOffset[i] = i * rowBytes;
      const target = new Float32Array(buffer, i * rowBytes, d);
      const row = updates[i];
      for (let j = 0; j < d; j += PIECE) {
        target.set(j === 0 && d <= PIECE ? row : row.subarray(j, Math.min(d, j + PIECE)), j);
        const wait = slice.tick();
        if (wait !== undefined) {
          await wait;
          signal?.throwIfAborted();
        }
      }
    }
    return await lease.run(
      { name: resolved.name, options: resolved.options, d, buffers: [buffer], rowBuffer, rowOffset },
      shared ? [] : [buffer as ArrayBuffer],
      signal,
    );
  } finally {
    lease.release(true); // no-op when run() already gave the worker back (or stopped it on abort)
  }
}

/**
 * Stops the idle aggregation workers (they never keep a process alive; this frees their memory).
 *
 * @example
 * ```ts
 * import { aggregateAsync, closeAggregationWorkers } from 'robust-agg';
 *
 * await aggregateAsync('mean', [Float32Array.of(1, 2), Float32Array.of(3, 4)]);
 * closeAggregationWorkers(); // the next call starts a fresh worker
 * ```
 * @category Server
 */
export function closeAggregationWorkers(): void {
  for (const pool of Object.values(idlePools)) for (const w of pool.splice(0)) w.terminate();
}
