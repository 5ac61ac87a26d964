import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RobustAggError, type RobustAggErrorCode } from '../core/errors.js';
import { describeValue, requireInteger } from '../core/options.js';
import type { ShardSource } from './load.js';
import type { ShardAsk, ShardCombinePlan } from './protocol.js';
import { shardRanges, type ShardEngine, type ShardRange } from './run.js';

/** The message that makes a shard process load its columns (internal). */
export interface ShardLoadRequest {
  readonly type: 'load';
  readonly id: number;
  readonly source: ShardSource;
  readonly n: number;
  readonly d: number;
  readonly offset: number;
  readonly width: number;
  readonly kernelThreads: number;
}

/**
 * Options of {@link createProcessShardEngine}.
 *
 * @category Sharding
 */
export interface ProcessShardEngineOptions {
  /** Where the shard processes read their columns. */
  readonly source: ShardSource;
  /** Number of clients, an integer ≥ 1. */
  readonly n: number;
  /** Length of the updates, an integer ≥ 1. */
  readonly d: number;
  /** Number of shard processes, an integer in [1, min(d, 256)]; the columns split as {@link shardRanges}. */
  readonly shards: number;
  /**
   * A directory: each shard's combine writes its columns to `shard-<s>.f32` there (raw float32) and
   * resolves with that path, so the full aggregate never sits in one process. Default: the columns
   * come back to this process as `Float32Array`s.
   */
  readonly output?: string;
  /** Kernel worker threads inside each shard process (default 1: the processes are the parallelism). */
  readonly kernelThreads?: number;
  /** The shard process script (default: `worker.js` / `worker.cjs` next to this module in the built package). */
  readonly workerUrl?: string | URL;
  /** Extra Node flags of the shard processes (e.g. `['--max-old-space-size=512']`). */
  readonly execArgv?: readonly string[];
  /**
   * Run the shards in waves of at most this many processes, an integer in [1, 256]; for data that
   * does not fit in memory all at once (S·n·w·4 bytes > RAM). Default: unset, every shard process
   * starts at once and keeps its columns for the engine's life.
   *
   * When set, a shard process lives for one pass: it loads its columns, answers every request
   * queued for the pass, reports its memory and exits, and the next shard's process starts in its
   * place; a later round loads the columns again (regenerates them, or reads its byte range of the
   * files). At most `maxConcurrent` processes are alive at any moment, so peak memory is about
   * `maxConcurrent`·n·⌈d/S⌉·4 bytes. Requests made while a pass runs (or in the same event-loop
   * turn) share the next pass: several aggregations started together (`Promise.all` of
   * {@link runShardedAggregation}) load each shard once per round, not once per rule and round.
   * With `output` set, a pass holds at most one combine (the output files are named by shard).
   */
  readonly maxConcurrent?: number;
}

/**
 * Counters of a {@link ProcessShardEngine}.
 *
 * @category Sharding
 */
export interface ProcessShardEngineStats {
  /** Passes over the shards so far (wave mode; 1 for the load of the all-at-once engine). */
  readonly passes: number;
  /** Shard processes started so far. */
  readonly processesStarted: number;
  /** The most shard processes alive at one moment so far. */
  readonly maxAlive: number;
  /** Seconds the shard processes spent loading their columns, summed over processes. */
  readonly loadSeconds: number;
  /** Wave mode: one entry per pass over the shards. Empty for the all-at-once engine. */
  readonly passLog: readonly ShardPassRecord[];
}

/**
 * One pass over the shards in wave mode (see {@link ProcessShardEngineStats.passLog}).
 *
 * @category Sharding
 */
export interface ShardPassRecord {
  /** Wall seconds of the pass. */
  readonly seconds: number;
  /** Seconds its shard processes spent loading their columns, summed over the shards. */
  readonly loadSeconds: number;
  /** The requests the pass answered, in order. */
  readonly requests: readonly ShardPassRequest[];
}

/**
 * One request answered in a pass (see {@link ShardPassRecord}).
 *
 * @category Sharding
 */
export interface ShardPassRequest {
  /** What it was: the asks' kinds (e.g. `gram`), or `combine:` and the plan's kind. */
  readonly what: string;
  /** Seconds the shard processes spent on it, summed over the shards. */
  readonly seconds: number;
}

/**
 * Memory of one shard process, in bytes.
 *
 * @category Sharding
 */
export interface ShardProcessMemory {
  /** Peak resident set size of the process so far (VmHWM of /proc/self/status on Linux, else `process.resourceUsage().maxRSS`). */
  readonly peakRss: number;
  /** Resident set size now. */
  readonly rss: number;
}

/**
 * A {@link ShardEngine} of child processes on this machine; close it when done.
 *
 * @category Sharding
 */
export interface ProcessShardEngine extends ShardEngine<Float32Array | string> {
  /** The column range of each shard process. */
  readonly ranges: readonly ShardRange[];
  /**
   * Peak and current RSS of every shard process. In wave mode (`maxConcurrent`), the peak is the
   * largest of the shard's processes so far and `rss` is 0 (none is alive between passes).
   */
  memory(): Promise<ShardProcessMemory[]>;
  /** How many passes and processes the engine has run, and the most alive at once. */
  stats(): ProcessShardEngineStats;
  /** Ends the shard processes. */
  close(): Promise<void>;
}

const MAX_PROCESSES = 256;

function defaultWorkerUrl(): URL {
  // The ESM build resolves it from import.meta.url, the CommonJS build from __filename; this code
  // sits in dist/shard/ or, if the bundler moved it to a shared chunk, in dist/.
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  const name = here.endsWith('.cjs') ? 'worker.cjs' : 'worker.js';
  const candidates = [new URL(`./${name}`, here), new URL(`./shard/${name}`, here)];
  return candidates.find((u) => existsSync(fileURLToPath(u))) ?? candidates[0];
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

/**
 * Starts S shard processes on this machine, each holding only its range of columns of every
 * client (read from per-client files or generated by a module), and returns a {@link ShardEngine}
 * over them for {@link runShardedAggregation}. A process's memory is its n × d/S float32 columns
 * (n·d/S·4 bytes) plus the n×n statistics and the kernels' blocks; the columns are loaded once and
 * serve any number of aggregations. The statistics and plans cross as structured clones (O(n²)
 * numbers), never columns; with `output` set, neither does the aggregate.
 *
 * When S shards do not fit in memory together, `maxConcurrent: W` runs them in waves of at most W
 * processes, each re-created (and its columns reloaded) for every pass over the shards: a rule of r
 * statistics rounds costs r + 1 loads of the data, and aggregations started together share them.
 *
 * @param options - see {@link ProcessShardEngineOptions}.
 * @returns the engine, once every process holds its columns.
 * @example
 * ```ts
 * import { mkdtempSync, writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { createProcessShardEngine, runShardedAggregation } from 'robust-agg/shard';
 *
 * // Six clients of d = 10 in one file each; two shard processes of five columns.
 * const dir = mkdtempSync(join(tmpdir(), 'shards-'));
 * const clients = [0, 1, 2, 3, 4, 5].map((i) => {
 *   const path = join(dir, `client-${i}.f32`);
 *   writeFileSync(path, new Float32Array(10).fill(i === 5 ? 100 : 1 + i / 10));
 *   return path;
 * });
 * const engine = await createProcessShardEngine({ source: { kind: 'files', clients }, n: 6, d: 10, shards: 2 });
 * try {
 *   const { decision, shards } = await runShardedAggregation(engine, 'krum', { f: 1 }, 6, 10);
 *   console.log(decision.selected, shards); // one honest client, its two halves
 * } finally {
 *   await engine.close();
 * }
 * ```
 * @category Sharding
 */
export async function createProcessShardEngine(options: ProcessShardEngineOptions): Promise<ProcessShardEngine> {
  const what = 'createProcessShardEngine';
  if (options === null || typeof options !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${what}: options must be an object, got ${describeValue(options)}`);
  }
  const { source, n, d, shards, output } = options;
  requireInteger(what, 'n', n, 1);
  if (!Number.isSafeInteger(d) || d < 1) throw new RobustAggError('INVALID_OPTION', `${what}: d must be an integer ≥ 1, got ${describeValue(d)}`);
  requireInteger(what, 'shards', shards, 1, Math.min(d, MAX_PROCESSES));
  const kernelThreads = requireInteger(what, 'kernelThreads', options.kernelThreads ?? 1, 1, 64);
  if (source?.kind === 'files') {
    if (!Array.isArray(source.clients) || source.clients.length !== n) {
      throw new RobustAggError('INVALID_OPTION', `${what}: source.clients must list n=${n} files, got ${describeValue(source.clients)}`);
    }
  } else if (source?.kind !== 'module' || typeof source.url !== 'string') {
    throw new RobustAggError('INVALID_OPTION', `${what}: source must be { kind: 'files', clients } or { kind: 'module', url }, got ${describeValue(source)}`);
  }
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const workerPath = workerUrl instanceof URL || String(workerUrl).startsWith('file:') ? fileURLToPath(workerUrl) : String(workerUrl);
  if (!existsSync(workerPath)) {
    throw new RobustAggError('UNSUPPORTED', `${what}: the shard process script ${workerPath} does not exist (build the package, or pass workerUrl)`);
  }
  const maxConcurrent =
    options.maxConcurrent === undefined ? undefined : requireInteger(what, 'maxConcurrent', options.maxConcurrent, 1, MAX_PROCESSES);
  const ranges = shardRanges(d, shards);
  const execArgv = [...(options.execArgv ?? [])];
  const loadMessage = (s: number): Record<string, unknown> => ({
    type: 'load',
    source,
    n,
    d,
    offset: ranges[s].offset,
    width: ranges[s].width,
    kernelThreads,
  });
  const combineMessage = (s: number, plan: ShardCombinePlan): Record<string, unknown> => ({
    type: 'combine',
    plan,
    ...(output === undefined ? {} : { output: join(output, `shard-${s}.f32`) }),
  });
  const counters = { passes: 0, processesStarted: 0, alive: 0, maxAlive: 0, loadSeconds: 0 };
  const passLog: PassLogEntry[] = [];
  const stats = (): ProcessShardEngineStats => ({
    passes: counters.passes,
    processesStarted: counters.processesStarted,
    maxAlive: counters.maxAlive,
    loadSeconds: counters.loadSeconds,
    passLog: passLog.map((p) => ({ ...p, requests: p.requests.map((r) => ({ ...r })) })),
  });
  const spawn = (s: number): ShardProcess => {
    const p = startShardProcess(workerPath, execArgv, s, () => {
      counters.alive--;
    });
    counters.processesStarted++;
    counters.alive++;
    counters.maxAlive = Math.max(counters.maxAlive, counters.alive);
    return p;
  };
  const load = async (p: ShardProcess, s: number): Promise<number> => {
    const t = performance.now();
    await p.request(loadMessage(s));
    const seconds = (performance.now() - t) / 1000;
    counters.loadSeconds += seconds;
    return seconds;
  };

  if (maxConcurrent !== undefined) return waveEngine(ranges, maxConcurrent, output !== undefined, spawn, load, combineMessage, counters, stats, passLog);

  const children = ranges.map((_, s) => spawn(s));
  const all = <T>(f: (s: number) => Promise<T>): Promise<T[]> => Promise.all(ranges.map((_, s) => f(s)));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(children.map((c) => c.kill()));
  };
  try {
    counters.passes++;
    await all((s) => load(children[s], s));
  } catch (e) {
    await close();
    throw e;
  }
  return {
    shards: ranges.length,
    ranges,
    statistics: (asks: readonly ShardAsk[]) => all(async (s) => (await children[s].request({ type: 'statistics', asks })).parts as Float64Array[]),
    combine: (plan: ShardCombinePlan) => all(async (s) => (await children[s].request(combineMessage(s, plan))).result as Float32Array | string),
    memory: () => all(async (s) => (await children[s].request({ type: 'memory' })).memory as ShardProcessMemory),
    stats,
    close,
  };
}

/** One shard child process: requests by id, an orderly end, a kill. */
interface ShardProcess {
  request(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Asks the process to exit (it disconnects), kills it if it has not within 5 s; resolves on exit. */
  end(): Promise<void>;
  /** Kills the process; resolves on exit. */
  kill(): Promise<void>;
}

function startShardProcess(workerPath: string, execArgv: string[], s: number, onExit: () => void): ShardProcess {
  const child = fork(workerPath, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let ending = false;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      onExit();
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new Error(`shard process ${s} exited (code ${String(code)}${signal === null ? '' : `, ${signal}`})`));
      }
      resolve();
    });
  });
  child.on('error', () => {
    // A failed send or spawn also ends in 'exit' (or rejects the request that sent it).
  });
  child.on('message', (raw) => {
    const msg = raw as { id: number; ok: boolean; error?: { code?: RobustAggErrorCode; message: string } };
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg as unknown as Record<string, unknown>);
    else if (msg.error?.code !== undefined) p.reject(new RobustAggError(msg.error.code, msg.error.message));
    else p.reject(new Error(`shard ${s}: ${msg.error?.message ?? 'failed'}`));
  });
  const done = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    request: (message) =>
      new Promise((resolve, reject) => {
        if (done() || ending) return reject(new Error(`shard process ${s} has exited`));
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ ...message, id }, (err) => {
          if (err !== null && err !== undefined) {
            pending.delete(id);
            reject(err);
          }
        });
      }),
    end: async () => {
      if (done()) return exited;
      ending = true;
      const timer = setTimeout(() => child.kill(), 5000);
      child.send({ type: 'exit', id: 0 }, () => undefined);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      ending = true;
      if (!done()) child.kill();
      await exited;
    },
  };
}

interface PassLogEntry {
  seconds: number;
  loadSeconds: number;
  requests: { what: string; seconds: number }[];
}

type WaveTask = { readonly kind: 'statistics'; readonly asks: readonly ShardAsk[] } | { readonly kind: 'combine'; readonly plan: ShardCombinePlan };

interface Queued {
  readonly task: WaveTask;
  resolve(v: unknown[]): void;
  reject(e: unknown): void;
}

/** The wave-mode engine: a queue of requests served by passes of ≤ maxConcurrent processes. */
function waveEngine(
  ranges: ShardRange[],
  maxConcurrent: number,
  oneCombinePerPass: boolean,
  spawn: (s: number) => ShardProcess,
  load: (p: ShardProcess, s: number) => Promise<number>,
  combineMessage: (s: number, plan: ShardCombinePlan) => Record<string, unknown>,
  counters: { passes: number },
  stats: () => ProcessShardEngineStats,
  passLog: PassLogEntry[],
): ProcessShardEngine {
  const S = ranges.length;
  const peaks = new Array<number>(S).fill(0);
  const live = new Set<ShardProcess>();
  let queue: Queued[] = [];
  let running = false;
  let scheduled = false;
  let closed = false;

  const runShard = async (s: number, batch: readonly Queued[], answers: unknown[][], log: PassLogEntry): Promise<void> => {
    const p = spawn(s);
    live.add(p);
    try {
      const loaded = await load(p, s); // not `+= await`: that would read the sum before another lane adds to it
      log.loadSeconds += loaded;
      for (let t = 0; t < batch.length; t++) {
        const task = batch[t].task;
        const start = performance.now();
        answers[t][s] =
          task.kind === 'statistics'
            ? (await p.request({ type: 'statistics', asks: task.asks })).parts
            : (await p.request(combineMessage(s, task.plan))).result;
        log.requests[t].seconds += (performance.now() - start) / 1000;
      }
      const memory = (await p.request({ type: 'memory' })).memory as ShardProcessMemory;
      peaks[s] = Math.max(peaks[s], memory.peakRss);
    } finally {
      await p.end();
      live.delete(p);
    }
  };

  const pass = async (): Promise<void> => {
    scheduled = false;
    if (closed || queue.length === 0) return;
    running = true;
    // Every queued request, except that with output files only the first combine goes.
    let batch: Queued[];
    if (oneCombinePerPass) {
      batch = [];
      const rest: Queued[] = [];
      let combines = 0;
      for (const q of queue) {
        if (q.task.kind === 'combine' && combines++ > 0) rest.push(q);
        else batch.push(q);
      }
      queue = rest;
    } else {
      batch = queue;
      queue = [];
    }
    counters.passes++;
    const started = performance.now();
    const log: PassLogEntry = {
      seconds: 0,
      loadSeconds: 0,
      requests: batch.map(({ task }) => ({
        what: task.kind === 'statistics' ? task.asks.map((a) => a.kind).join('+') : `combine:${task.plan.kind}`,
        seconds: 0,
      })),
    };
    const answers = batch.map(() => new Array<unknown>(S));
    let next = 0;
    let failure: { error: unknown } | null = null;
    const lane = async (): Promise<void> => {
      while (failure === null && !closed && next < S) {
        const s = next++;
        try {
          await runShard(s, batch, answers, log);
        } catch (e) {
          failure ??= { error: e };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxConcurrent, S) }, lane));
    log.seconds = (performance.now() - started) / 1000;
    passLog.push(log);
    if (failure === null && closed) failure = { error: new Error('createProcessShardEngine: the engine was closed') };
    for (let t = 0; t < batch.length; t++) {
      if (failure === null) batch[t].resolve(answers[t]);
      else batch[t].reject(failure.error);
    }
    running = false;
    schedule();
  };

  function schedule(): void {
    if (running || scheduled || queue.length === 0) return;
    scheduled = true;
    // After the current turn: requests made together share the pass.
    setImmediate(() => void pass());
  }

  const enqueue = (task: WaveTask): Promise<unknown[]> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new Error('createProcessShardEngine: the engine is closed'));
      queue.push({ task, resolve, reject });
      schedule();
    });

  return {
    shards: S,
    ranges,
    statistics: async (asks: readonly ShardAsk[]) => (await enqueue({ kind: 'statistics', asks })) as Float64Array[][],
    combine: async (plan: ShardCombinePlan) => (await enqueue({ kind: 'combine', plan })) as (Float32Array | string)[],
    memory: async () => peaks.map((peakRss) => ({ peakRss, rss: 0 })),
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const q of queue.splice(0)) q.reject(new Error('createProcessShardEngine: the engine was closed'));
      await Promise.all([...live].map((p) => p.kill()));
    },
  };
}
