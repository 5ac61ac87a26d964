import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RobustAggError, type RobustAggErrorCode } from '../core/errors.js';
import { describeValue, requireInteger } from '../core/options.js';
import type { ShardAsk, ShardCombinePlan, ShardSlice } from './protocol.js';
import { shardRanges, type ShardEngine, type ShardRange } from './run.js';

/**
 * Where a shard process reads its columns from. Each process reads only columns
 * [offset, offset + width) of each client.
 *
 * - `files`: one file per client of d little-endian float32 values (raw, no header), read at the
 *   shard's byte range; `vectors` names side-vector files of the same format.
 * - `module`: an ES module (a path or URL) exporting
 *   `loadShard({ n, d, offset, width, data })` that returns (or resolves to)
 *   `{ rows, vectors? }`: the n rows of `width` columns (generated from a seed, fetched, …).
 *
 * @category Sharding
 */
export type ShardSource =
  | { readonly kind: 'files'; readonly clients: readonly string[]; readonly vectors?: Readonly<Record<string, string>> }
  | { readonly kind: 'module'; readonly url: string; readonly data?: unknown };

function readColumns(path: string, offset: number, width: number): Float32Array {
  const out = new Float32Array(width);
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const got = readSync(fd, bytes, done, bytes.length - done, offset * 4 + done);
      if (got === 0) {
        throw new RobustAggError('LENGTH_MISMATCH', `loadShardSlice: ${path} ends before column ${offset + width} (it holds ${offset + done / 4})`);
      }
      done += got;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Loads one shard's columns [offset, offset + width) of every client from a {@link ShardSource}:
 * what a shard process (or a job-queue worker) does once before answering statistics and combine
 * requests. Reads nothing outside the range.
 *
 * @param source - per-client files, or a module exporting `loadShard`.
 * @param n - number of clients.
 * @param d - length of the updates.
 * @param range - the shard's columns.
 * @returns the shard's slice.
 * @example
 * ```ts
 * import { mkdtempSync, writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { loadShardSlice } from 'robust-agg/shard';
 *
 * const file = join(mkdtempSync(join(tmpdir(), 'slice-')), 'client-0.f32');
 * writeFileSync(file, Float32Array.of(1, 2, 3, 4, 5));
 * const slice = await loadShardSlice({ kind: 'files', clients: [file] }, 1, 5, { offset: 3, width: 2 });
 * console.log(slice.rows[0]); // Float32Array [4, 5]
 * ```
 * @category Sharding
 */
export async function loadShardSlice(source: ShardSource, n: number, d: number, range: ShardRange): Promise<ShardSlice> {
  const { offset, width } = range;
  if (source?.kind === 'files') {
    if (source.clients.length !== n) {
      throw new RobustAggError('INVALID_OPTION', `loadShardSlice: source.clients lists ${source.clients.length} files, not n=${n}`);
    }
    const rows = source.clients.map((p) => readColumns(p, offset, width));
    const vectors: Record<string, Float32Array> = {};
    for (const [name, p] of Object.entries(source.vectors ?? {})) vectors[name] = readColumns(p, offset, width);
    return { offset, d, rows, vectors };
  }
  if (source?.kind !== 'module' || typeof source.url !== 'string') {
    throw new RobustAggError('INVALID_OPTION', `loadShardSlice: source must be { kind: 'files', clients } or { kind: 'module', url }, got ${describeValue(source)}`);
  }
  const url = source.url.startsWith('file:') || source.url.includes('://') ? source.url : pathToFileURL(source.url).href;
  const mod = (await import(url)) as { loadShard?: (a: unknown) => unknown };
  if (typeof mod.loadShard !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `loadShardSlice: ${source.url} exports no loadShard function`);
  }
  const got = (await mod.loadShard({ n, d, offset, width, data: source.data })) as { rows?: unknown; vectors?: Record<string, Float32Array> };
  const rows = got?.rows;
  if (!Array.isArray(rows) || rows.length !== n || rows.some((r) => !(r instanceof Float32Array) || r.length !== width)) {
    throw new RobustAggError('LENGTH_MISMATCH', `loadShardSlice: ${source.url}'s loadShard must return n=${n} Float32Array rows of ${width} values`);
  }
  return { offset, d, rows: rows as Float32Array[], vectors: got.vectors ?? {} };
}

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
}

/**
 * Memory of one shard process, in bytes.
 *
 * @category Sharding
 */
export interface ShardProcessMemory {
  /** Peak resident set size of the process so far (`process.resourceUsage().maxRSS`). */
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
  /** Peak and current RSS of every shard process. */
  memory(): Promise<ShardProcessMemory[]>;
  /** Ends the shard processes. */
  close(): Promise<void>;
}

const MAX_PROCESSES = 256;

function defaultWorkerUrl(): URL {
  // The ESM build resolves it from import.meta.url, the CommonJS build from __filename.
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  return new URL(here.endsWith('.cjs') ? './worker.cjs' : './worker.js', here);
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
  const ranges = shardRanges(d, shards);
  const children: ChildProcess[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;

  const request = (s: number, message: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      children[s].send({ ...message, id }, (err) => {
        if (err !== null && err !== undefined) {
          pending.delete(id);
          reject(err);
        }
      });
    });

  for (let s = 0; s < ranges.length; s++) {
    const child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...(options.execArgv ?? [])],
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
    child.on('exit', (code) => {
      if (closed) return;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new Error(`shard process ${s} exited (code ${String(code)})`));
      }
    });
    children.push(child);
  }
  const all = <T>(f: (s: number) => Promise<T>): Promise<T[]> => Promise.all(ranges.map((_, s) => f(s)));
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill();
          }),
      ),
    );
  };
  try {
    await all((s) => request(s, { type: 'load', source, n, d, offset: ranges[s].offset, width: ranges[s].width, kernelThreads }));
  } catch (e) {
    await close();
    throw e;
  }
  return {
    shards: ranges.length,
    ranges,
    statistics: (asks: readonly ShardAsk[]) => all(async (s) => (await request(s, { type: 'statistics', asks })).parts as Float64Array[]),
    combine: (plan: ShardCombinePlan) =>
      all(
        async (s) =>
          (await request(s, { type: 'combine', plan, ...(output === undefined ? {} : { output: join(output, `shard-${s}.f32`) }) }))
            .result as Float32Array | string,
      ),
    memory: () => all(async (s) => (await request(s, { type: 'memory' })).memory as ShardProcessMemory),
    close,
  };
}
