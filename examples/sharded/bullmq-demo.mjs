// One command for the many-machines driver on one machine: starts Debian's redis-server on a free
// port of 127.0.0.1, two BullMQ shard workers (bullmq-worker.mjs), runs krum and flame on generated
// updates over S shards through the BullMQ engine, checks the result against the in-process sharded
// run, and tears everything down.
//
//   npm run build && node examples/sharded/bullmq-demo.mjs [--n 20] [--d 100000] [--shards 4] [--workers 2]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { aggregateSharded, runShardedAggregation, shardRanges } from 'robust-agg/shard';
import { createBullmqShardEngine } from './bullmq-engine.mjs';
import { loadShard } from './generate.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const n = Number(args.n ?? 20);
const d = Number(args.d ?? 100_000);
const shards = Number(args.shards ?? 4);
const workers = Number(args.workers ?? 2);
const data = { seed: 2, attackers: Math.floor(n / 5) };
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

const port = await new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = srv.address().port;
    srv.close(() => resolve(p));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const children = [redis];
try {
  for (let t = 0; ; t++) {
    const ok = await new Promise((r) => net.createConnection({ port, host: '127.0.0.1' }, function () { this.end(); r(true); }).once('error', () => r(false)));
    if (ok) break;
    if (t > 50) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const ready = [];
  for (let w = 0; w < workers; w++) {
    const child = spawn(process.execPath, [here('./bullmq-worker.mjs'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    ready.push(new Promise((r) => child.stdout.on('data', (b) => String(b).includes('ready') && r())));
  }
  await Promise.all(ready);
  const source = { kind: 'module', url: here('./generate.mjs'), data };
  const engine = await createBullmqShardEngine({ port, source, n, d, shards });
  const slices = shardRanges(d, shards).map(({ offset, width }) => ({ offset, d, rows: loadShard({ n, d, offset, width, data }).rows }));
  try {
    for (const [rule, options] of [['krum', { f: data.attackers }], ['flame', { seed: 1 }]]) {
      const t = performance.now();
      const run = await runShardedAggregation(engine, rule, options, n, d);
      const seconds = ((performance.now() - t) / 1000).toFixed(2);
      const local = await aggregateSharded(rule, slices, options);
      const same = run.shards.every((part, s) => Buffer.from(part.buffer).equals(Buffer.from(local.shards[s].buffer)));
      console.log(`${rule}: selected ${JSON.stringify(run.decision.selected)} in ${seconds} s over ${shards} shards, ${workers} workers; same bytes as in process: ${same}`);
    }
    console.log(`jobs: ${engine.stats.jobs}`);
  } finally {
    await engine.close();
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
}
process.exit(0); // the fallback Redis client may keep a reconnect timer
