// The many-machines driver against a real Redis (Debian's redis-server, started here on a free
// port of 127.0.0.1 and stopped after): BullMQ worker processes pick up shard jobs; the result
// equals the in-process sharded run (and so the single call) when every job is delivered twice,
// and when a worker is killed (SIGKILL) in the middle of a job, which another worker then retries.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateSharded, runShardedAggregation, shardRanges } from '../../src/shard/index.js';

const root = new URL('../..', import.meta.url).pathname;
const REDIS = '/usr/bin/redis-server';
const ready = existsSync(REDIS) && existsSync(join(root, 'dist/shard/index.js'));
const generator = join(root, 'examples/sharded/generate.mjs');
const workerScript = join(root, 'examples/sharded/bullmq-worker.mjs');

interface Engine {
  shards: number;
  stats: { jobs: number; duplicatesCompared: number };
  statistics: (asks: never, round: number) => Promise<Float64Array[][]>;
  combine: (plan: never) => Promise<unknown[]>;
  close(): Promise<void>;
}
type EngineFactory = (o: Record<string, unknown>) => Promise<Engine>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let t = 0; t < 100; t++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createConnection({ host: '127.0.0.1', port }, () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves when the worker printed a line that matches. */
  waitFor(pattern: RegExp): Promise<string>;
}

function startWorker(port: number, queue: string, extra: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [workerScript, '--port', String(port), '--queue', queue, '--lock-ms', '1500', '--stalled-ms', '500', ...extra], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      for (const w of waiters.splice(0)) {
        if (w.pattern.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => output.push(`stderr: ${chunk.toString()}`));
  const proc: WorkerProcess = {
    child,
    output,
    waitFor: (pattern) => {
      const seen = output.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
  return proc.waitFor(/^ready$/).then(() => proc);
}

function stop(w: WorkerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
    w.child.once('exit', () => resolve());
    w.child.kill(signal);
  });
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const readF32 = (p: string): Float32Array => new Float32Array(Uint8Array.from(readFileSync(p)).buffer);

describe.runIf(ready)('BullMQ engine on a local redis-server', () => {
  let redis: ChildProcess;
  let port = 0;
  let createBullmqShardEngine: EngineFactory;
  const dir = mkdtempSync(join(tmpdir(), 'robust-agg-bullmq-'));
  const n = 9;
  const d = 3001;
  const data = { seed: 4, attackers: 2 };
  let reference: { selected: readonly number[] | undefined; aggregate: Float32Array };

  beforeAll(async () => {
    port = await freePort();
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(port);
    ({ createBullmqShardEngine } = (await import(join(root, 'examples/sharded/bullmq-engine.mjs'))) as { createBullmqShardEngine: EngineFactory });
    const { loadShard } = (await import(generator)) as { loadShard: (a: object) => { rows: Float32Array[] } };
    const slices = shardRanges(d, 3).map(({ offset, width }) => ({ offset, d, rows: loadShard({ n, d, offset, width, data }).rows }));
    const local = await aggregateSharded('multiKrum', slices, { f: 2 });
    reference = { selected: local.decision.selected, aggregate: concat(local.shards) };
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      if (redis.exitCode !== null) return resolve();
      redis.once('exit', () => resolve());
      redis.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('two workers, every job delivered twice: the same bytes as the in-process run', async () => {
    const queue = 'dup';
    const workers = await Promise.all([startWorker(port, queue), startWorker(port, queue)]);
    const engine = await createBullmqShardEngine({ port, queueName: queue, source: { kind: 'module', url: generator, data }, n, d, shards: 3, deliveries: 2, output: dir });
    try {
      const run = await runShardedAggregation(engine as never, 'multiKrum', { f: 2 }, n, d);
      expect(run.decision.selected).toEqual(reference.selected);
      const out = concat((run.shards as string[]).map(readF32));
      expect(Buffer.from(out.buffer).equals(Buffer.from(reference.aggregate.buffer))).toBe(true);
      // 3 rounds (non-finite, Gram, combine) × 3 shards × 2 copies, each pair compared.
      expect(engine.stats.jobs).toBe(18);
      expect(engine.stats.duplicatesCompared).toBe(9);
    } finally {
      await engine.close();
      await Promise.all(workers.map((w) => stop(w)));
    }
  });

  it('a worker killed mid-job: the job is taken over by another worker; the result is unchanged', async () => {
    const queue = 'kill';
    const slow = await startWorker(port, queue, ['--delay-ms', '60000']);
    const engine = await createBullmqShardEngine({ port, queueName: queue, source: { kind: 'module', url: generator, data }, n, d, shards: 3 });
    try {
      const running = runShardedAggregation(engine as never, 'multiKrum', { f: 2 }, n, d);
      const line = await slow.waitFor(/^active /);
      const jobId = line.slice('active '.length);
      await stop(slow, 'SIGKILL'); // mid-job: it holds the job's lock and never finishes it
      const rescuer = await startWorker(port, queue);
      try {
        const run = await running;
        expect(run.decision.selected).toEqual(reference.selected);
        const out = concat(run.shards as Float32Array[]);
        expect(Buffer.from(out.buffer).equals(Buffer.from(reference.aggregate.buffer))).toBe(true);
        // The killed worker's job ran again on the rescuer.
        expect(rescuer.output).toContain(`active ${jobId}`);
      } finally {
        await stop(rescuer);
      }
    } finally {
      await engine.close();
    }
  });
});

it('redis-server and the built shard entry are present (.ci/run installs redis-server)', () => {
  expect(ready).toBe(true);
});
