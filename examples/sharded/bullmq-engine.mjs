// A ShardEngine on BullMQ (Redis): every shard's statistics and combine become jobs on one queue,
// picked up by any number of worker processes (bullmq-worker.mjs) on any machines that reach the
// Redis server and the shard source. The coordinator (this module, inside runShardedAggregation)
// only adds jobs and reads their small results; it never holds a column.
//
// Robustness comes from BullMQ and from the shard protocol being pure:
// - a worker killed mid-job stops renewing the job's lock; after lockDuration another worker's
//   stalled-job check puts the job back in the wait list and it runs again (the same bytes);
// - a job that throws is retried up to `attempts` times;
// - a duplicate delivery (`deliveries: 2` adds every job twice) returns the same bytes, checked
//   here, and a duplicated combine rewrites its output file with the same bytes (written to a
//   per-job temporary name, then renamed).
//
// BullMQ and its Redis client are this example's dependencies; robust-agg itself never loads them.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { parseShardMessage, shardRanges, stringifyShardMessage } from 'robust-agg/shard';
import { redisConnection } from './redis-connection.mjs';

/**
 * @param {object} o
 * @param {number} o.port - the Redis server's port (host: o.host, default 127.0.0.1).
 * @param {string} [o.queueName] - the queue the workers listen on (default 'robust-agg-shards').
 * @param {object} o.source - a ShardSource every worker can read ({ kind: 'files' } paths must be shared).
 * @param {number} o.n @param {number} o.d @param {number} o.shards
 * @param {string} [o.output] - a shared directory: combine jobs write shard-<s>.f32 there.
 * @param {number} [o.deliveries] - copies of each job (2 tests idempotence).
 * @param {number} [o.attempts] - retries of a job that fails (default 3).
 * @param {number} [o.timeoutMs] - how long to wait for one job (default 10 min).
 */
export async function createBullmqShardEngine(o) {
  const { host = '127.0.0.1', port, queueName = 'robust-agg-shards', source, n, d, output } = o;
  const deliveries = o.deliveries ?? 1;
  const attempts = o.attempts ?? 3;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const runId = o.runId ?? randomUUID();
  const ranges = shardRanges(d, o.shards);
  // BullMQ leaves connections it was handed open: close() below ends them.
  const connections = [await redisConnection({ host, port }), await redisConnection({ host, port })];
  const queue = new Queue(queueName, { connection: connections[0] });
  const events = new QueueEvents(queueName, { connection: connections[1] });
  await events.waitUntilReady();
  const stats = { jobs: 0, duplicatesCompared: 0 };
  let step = 0;

  async function onEveryShard(kind, payload) {
    const tag = `${runId}-${step++}-${kind}`;
    const text = stringifyShardMessage(payload);
    return Promise.all(
      ranges.map(async (range, s) => {
        const data = {
          kind,
          shard: s,
          range,
          source,
          n,
          d,
          payload: text,
          ...(kind === 'combine' && output !== undefined ? { output: join(output, `shard-${s}.f32`) } : {}),
        };
        const jobs = await Promise.all(
          Array.from({ length: deliveries }, (_, c) =>
            queue.add(kind, data, {
              jobId: `${tag}-s${s}-c${c}`,
              attempts,
              backoff: { type: 'fixed', delay: 200 },
              removeOnComplete: { age: 3600 },
              removeOnFail: { age: 3600 },
            }),
          ),
        );
        stats.jobs += jobs.length;
        const results = await Promise.all(jobs.map((job) => job.waitUntilFinished(events, timeoutMs)));
        for (const r of results.slice(1)) {
          if (r !== results[0]) throw new Error(`shard ${s}: two deliveries of one ${kind} job returned different bytes`);
          stats.duplicatesCompared++;
        }
        return parseShardMessage(results[0]);
      }),
    );
  }

  return {
    shards: ranges.length,
    ranges,
    stats,
    statistics: (asks) => onEveryShard('statistics', asks),
    combine: (plan) => onEveryShard('combine', plan),
    async close() {
      await events.close();
      await queue.close();
      for (const c of connections) c.disconnect();
    },
  };
}
