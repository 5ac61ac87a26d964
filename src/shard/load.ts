import { closeSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import type { ShardSlice } from './protocol.js';
import type { ShardRange } from './run.js';

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
  | {
      /** Per-client raw float32 files. */
      readonly kind: 'files';
      /** One path per client, in client order. */
      readonly clients: readonly string[];
      /** Side vectors' files by name (e.g. `{ serverUpdate: 'g0.f32' }`). */
      readonly vectors?: Readonly<Record<string, string>>;
    }
  | {
      /** A module that produces the columns. */
      readonly kind: 'module';
      /** Its path or URL. */
      readonly url: string;
      /** Passed to its `loadShard` as `data` (structured-clone safe). */
      readonly data?: unknown;
    };

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

