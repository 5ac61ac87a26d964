// A shard worker for the BullMQ engine: takes statistics and combine jobs for any shard from the
// queue, loads that shard's columns (cached: a worker that keeps serving the same shard reads it
// once) and answers with robust-agg/shard's pure functions. Start as many as you like, anywhere
// that reaches Redis and the shard source:
//
//   node examples/sharded/bullmq-worker.mjs --port 6379 [--host 127.0.0.1] [--queue robust-agg-shards]
//     [--concurrency 1] [--cache 1] [--lock-ms 30000] [--stalled-ms 30000] [--delay-ms 0]
//
// --lock-ms: how long a job stays locked without renewal (a killed worker's job is taken over
// after it); --delay-ms: sleep before each job (tests use it to kill a worker mid-job).
// Prints "ready" once listening and "active <job id>" when a job starts.
import { renameSync, writeFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { loadShardSlice, parseShardMessage, shardCombine, shardStatistics, stringifyShardMessage } from 'robust-agg/shard';
import { redisConnection } from './redis-connection.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const host = args.host ?? '127.0.0.1';
const port = Number(args.port ?? 6379);
const queueName = args.queue ?? 'robust-agg-shards';
const delayMs = Number(args['delay-ms'] ?? 0);
const cacheSize = Number(args.cache ?? 1);

const cache = new Map(); // key → Promise<ShardSlice>, most recent last
function sliceFor({ source, n, d, range }) {
  const key = JSON.stringify([source, n, d, range]);
  let slice = cache.get(key);
  if (slice === undefined) {
    slice = loadShardSlice(source, n, d, range);
    cache.set(key, slice);
    while (cache.size > cacheSize) cache.delete(cache.keys().next().value);
  } else {
    cache.delete(key);
    cache.set(key, slice);
  }
  return slice;
}

const worker = new Worker(
  queueName,
  async (job) => {
    console.log(`active ${job.id}`);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const slice = await sliceFor(job.data);
    const payload = parseShardMessage(job.data.payload);
    if (job.data.kind === 'statistics') return stringifyShardMessage(shardStatistics(slice, payload));
    const out = shardCombine(slice, payload);
    if (job.data.output === undefined) return stringifyShardMessage(out);
    const partial = `${job.data.output}.${process.pid}.${job.id}.partial`;
    writeFileSync(partial, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    renameSync(partial, job.data.output);
    return stringifyShardMessage(job.data.output);
  },
  {
    connection: await redisConnection({ host, port }),
    concurrency: Number(args.concurrency ?? 1),
    lockDuration: Number(args['lock-ms'] ?? 30_000),
    stalledInterval: Number(args['stalled-ms'] ?? 30_000),
    maxStalledCount: 2,
  },
);
worker.on('error', (err) => console.error(`worker error: ${err.message}`));
await worker.waitUntilReady();
console.log('ready');
const stop = async () => {
  await worker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
