// The child process of createProcessShardEngine: loads one shard's columns of every client once,
// then answers statistics and combine requests over IPC (structured clone, so typed arrays pass
// as they are). Started by the engine with fork(); never imported by the library.
import { openSync, readSync, closeSync, writeFileSync, renameSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { setKernelThreads } from '../kernels/backend.js';
import { shardCombine, shardStatistics, type ShardSlice } from './protocol.js';
import type { ShardLoadRequest, ShardSource } from './process-engine.js';

let slice: ShardSlice | null = null;

function readColumns(path: string, offset: number, width: number): Float32Array {
  const out = new Float32Array(width);
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const got = readSync(fd, bytes, done, bytes.length - done, offset * 4 + done);
      if (got === 0) throw new Error(`${path} ends before column ${offset + width} (read ${offset + done / 4})`);
      done += got;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

async function load(source: ShardSource, n: number, d: number, offset: number, width: number): Promise<ShardSlice> {
  if (source.kind === 'files') {
    const rows = source.clients.map((p) => readColumns(p, offset, width));
    const vectors: Record<string, Float32Array> = {};
    for (const [name, p] of Object.entries(source.vectors ?? {})) vectors[name] = readColumns(p, offset, width);
    return { offset, d, rows, vectors };
  }
  const url = source.url.startsWith('file:') || source.url.includes('://') ? source.url : pathToFileURL(source.url).href;
  const mod = (await import(url)) as { loadShard?: (a: unknown) => unknown };
  if (typeof mod.loadShard !== 'function') throw new Error(`${source.url} exports no loadShard function`);
  const got = (await mod.loadShard({ n, d, offset, width, data: source.data })) as {
    rows: Float32Array[];
    vectors?: Record<string, Float32Array>;
  };
  return { offset, d, rows: got.rows, vectors: got.vectors ?? {} };
}

function reply(message: unknown): void {
  (process.send as (m: unknown) => void)(message);
}

process.on('message', (raw) => {
  const msg = raw as ShardLoadRequest | { type: 'statistics' | 'combine' | 'memory' | 'exit'; id: number; asks?: never; plan?: never; output?: string };
  const id = msg.id;
  void (async () => {
    try {
      switch (msg.type) {
        case 'load': {
          const m = msg as ShardLoadRequest;
          setKernelThreads(m.kernelThreads);
          slice = await load(m.source, m.n, m.d, m.offset, m.width);
          reply({ id, ok: true });
          return;
        }
        case 'statistics':
          reply({ id, ok: true, parts: shardStatistics(slice as ShardSlice, msg.asks as never) });
          return;
        case 'combine': {
          const out = shardCombine(slice as ShardSlice, msg.plan as never);
          if (msg.output === undefined) {
            reply({ id, ok: true, result: out });
          } else {
            // Written under a temporary name and renamed: a retried combine replaces it whole.
            writeFileSync(`${msg.output}.partial`, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
            renameSync(`${msg.output}.partial`, msg.output);
            reply({ id, ok: true, result: msg.output });
          }
          return;
        }
        case 'memory': {
          const usage = process.resourceUsage();
          reply({ id, ok: true, memory: { peakRss: usage.maxRSS * 1024, rss: process.memoryUsage().rss } });
          return;
        }
        case 'exit':
          process.disconnect?.();
          return;
      }
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      reply({ id, ok: false, error: { code: typeof err.code === 'string' ? err.code : undefined, message: String(err.message ?? e) } });
    }
  })();
});
