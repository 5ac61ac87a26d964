// The child process of createProcessShardEngine: loads one shard's columns of every client once,
// then answers statistics and combine requests over IPC (structured clone, so typed arrays pass
// as they are). Started by the engine with fork(); never imported by the library.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setKernelThreads } from '../kernels/backend.js';
import { shardCombine, shardStatistics, type ShardSlice } from './protocol.js';
import { loadShardSlice } from './load.js';
import type { ShardLoadRequest } from './process-engine.js';

let slice: ShardSlice | null = null;

function readStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
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
          slice = await loadShardSlice(m.source, m.n, m.d, { offset: m.offset, width: m.width });
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
          // VmHWM is this process image's own high-water mark; getrusage's maxRSS on Linux also
          // counts the parent's pages that fork() mapped before exec, i.e. the coordinator's RSS.
          const hwm = /VmHWM:\s*(\d+) kB/.exec(readStatus())?.[1];
          const peakRss = hwm === undefined ? process.resourceUsage().maxRSS * 1024 : Number(hwm) * 1024;
          reply({ id, ok: true, memory: { peakRss, rss: process.memoryUsage().rss } });
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
