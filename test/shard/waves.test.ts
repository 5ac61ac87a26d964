// The process engine in waves (maxConcurrent): shard processes re-created per pass, at most W
// alive at once, give the same bytes as the all-at-once engine, and make only the passes the rules
// need (rounds + 1; aggregations started together share them). Runs the built package like
// process-engine.test.ts (shard processes are plain Node).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coordinateMedian, krumWithDecision } from '../../src/index.js';

const root = new URL('../..', import.meta.url).pathname;
const built = existsSync(join(root, 'dist/shard/index.js')) && existsSync(join(root, 'dist/shard/worker.js'));
type ShardModule = typeof import('../../src/shard/index.js');
const load = async (): Promise<ShardModule> => (await import(join(root, 'dist/shard/index.js'))) as ShardModule;
const generator = join(root, 'examples/sharded/generate.mjs');

const dir = mkdtempSync(join(tmpdir(), 'robust-agg-waves-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A shard source that wraps the generator and, independently of the engine's own counters, logs
// how many shard processes are alive whenever one loads: each process holds a marker file from
// its load until it exits.
const counting = join(dir, 'counting.mjs');
writeFileSync(
  counting,
  `import { appendFileSync, readdirSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadShard as generate } from ${JSON.stringify(generator)};
export function loadShard(args) {
  const alive = join(args.data.dir, 'alive');
  mkdirSync(alive, { recursive: true });
  const mine = join(alive, String(process.pid));
  writeFileSync(mine, '');
  process.on('exit', () => unlinkSync(mine));
  appendFileSync(join(args.data.dir, 'log'), readdirSync(alive).length + ' ' + args.offset + '\\n');
  return generate(args);
}
`,
);

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function concat(parts: readonly (Float32Array | string)[]): Float32Array {
  const arrays = parts as Float32Array[];
  const out = new Float32Array(arrays.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const RULES = [
  ['krum', { f: 2 }],
  ['coordinateMedian', {}],
  ['trimmedMean', { f: 2 }],
  ['geometricMedian', {}],
  ['flame', { seed: 3 }],
] as const;

describe.runIf(built)('createProcessShardEngine in waves (maxConcurrent)', () => {
  it('S = 4 (ragged), W = 2: every rule gives the all-at-once bytes and decision; never more than 2 processes alive', async () => {
    const { createProcessShardEngine, runShardedAggregation } = await load();
    const n = 9;
    const d = 1002;
    const logDir = mkdtempSync(join(dir, 'run-'));
    const data = { seed: 5, attackers: 2, dir: logDir };
    const source = { kind: 'module' as const, url: counting, data };
    const allAtOnce = await createProcessShardEngine({ source, n, d, shards: 4 });
    const waves = await createProcessShardEngine({ source, n, d, shards: 4, maxConcurrent: 2 });
    let started = 0;
    try {
      expect(waves.ranges.map((r) => r.width)).toEqual([251, 251, 251, 249]);
      // All five rules at once on each engine (the wave engine serves them in shared passes).
      const a = await Promise.all(RULES.map(([rule, options]) => runShardedAggregation(allAtOnce, rule, options, n, d)));
      const w = await Promise.all(RULES.map(([rule, options]) => runShardedAggregation(waves, rule, options, n, d)));
      for (let r = 0; r < RULES.length; r++) {
        expect(w[r].decision).toEqual(a[r].decision);
        expect(w[r].rounds).toBe(a[r].rounds);
        expect(bytes(concat(w[r].shards)).equals(bytes(concat(a[r].shards)))).toBe(true);
      }
      expect(waves.stats().passes).toBe(Math.max(...w.map((x) => x.rounds)) + 1);
      // One rule alone: one pass per statistics round and one for the combine, no extra trips.
      const before = waves.stats().passes;
      const k = await runShardedAggregation(waves, 'krum', { f: 2 }, n, d);
      expect(k.rounds).toBe(2);
      expect(waves.stats().passes - before).toBe(3);
      expect(bytes(concat(k.shards)).equals(bytes(concat(a[0].shards)))).toBe(true);
      const stats = waves.stats();
      expect(stats.maxAlive).toBeLessThanOrEqual(2);
      expect(stats.maxAlive).toBe(2);
      expect(stats.processesStarted).toBe(stats.passes * 4);
      started = stats.processesStarted;
      const memory = await waves.memory();
      expect(memory).toHaveLength(4);
      for (const m of memory) expect(m.peakRss).toBeGreaterThan(0);
    } finally {
      await Promise.all([allAtOnce.close(), waves.close()]);
    }
    // The marker files: the all-at-once engine's 4 processes are alive throughout (the log counts
    // them too); the wave engine's own never numbered more than 2.
    const log = readFileSync(join(logDir, 'log'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[0]));
    const waveLoads = log.slice(4);
    expect(waveLoads.length).toBe(started);
    expect(Math.max(...waveLoads)).toBeLessThanOrEqual(4 + 2);
  });

  it('W = 1 (one process at a time) against the single call; aggregations started together share passes', async () => {
    const { createProcessShardEngine, runShardedAggregation } = await load();
    const { loadShard } = (await import(generator)) as { loadShard: (a: object) => { rows: Float32Array[] } };
    const n = 8;
    const d = 777;
    const logDir = mkdtempSync(join(dir, 'one-'));
    const data = { seed: 9, attackers: 2, dir: logDir };
    const rows = loadShard({ n, d, offset: 0, width: d, data }).rows;
    const engine = await createProcessShardEngine({ source: { kind: 'module', url: counting, data }, n, d, shards: 3, maxConcurrent: 1 });
    try {
      expect(engine.stats().passes).toBe(0); // nothing runs before the first request
      const [k, med, gm, fl] = await Promise.all([
        runShardedAggregation(engine, 'krum', { f: 2 }, n, d),
        runShardedAggregation(engine, 'coordinateMedian', {}, n, d),
        runShardedAggregation(engine, 'geometricMedian', {}, n, d),
        runShardedAggregation(engine, 'flame', { seed: 1 }, n, d),
      ]);
      // Two statistics rounds at most, then the combines: three passes for all four rules.
      expect(Math.max(k.rounds, med.rounds, gm.rounds, fl.rounds)).toBe(2);
      expect(engine.stats().passes).toBe(3);
      expect(engine.stats().maxAlive).toBe(1);
      const single = krumWithDecision(rows, { f: 2 });
      expect(k.decision.selected).toEqual(single.decision.selected);
      expect(bytes(concat(k.shards)).equals(bytes(single.aggregate))).toBe(true);
      expect(bytes(concat(med.shards)).equals(bytes(coordinateMedian(rows)))).toBe(true);
    } finally {
      await engine.close();
    }
    const log = readFileSync(join(logDir, 'log'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[0]));
    expect(log).toEqual(new Array(9).fill(1));
  });

  it('a failing pass rejects its requests and the engine goes on; output files; options are checked', async () => {
    const { createProcessShardEngine, runShardedAggregation } = await load();
    const n = 6;
    const d = 300;
    const out = mkdtempSync(join(dir, 'out-'));
    const engine = await createProcessShardEngine({
      source: { kind: 'module', url: generator, data: { seed: 2 } },
      n,
      d,
      shards: 3,
      maxConcurrent: 2,
      output: out,
    });
    try {
      // fltrust asks for a side vector the generator does not provide: a RobustAggError from a shard.
      await expect(runShardedAggregation(engine, 'fltrust', { serverUpdate: true }, n, d)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      const med = await runShardedAggregation(engine, 'coordinateMedian', {}, n, d);
      expect(med.shards).toEqual([0, 1, 2].map((s) => join(out, `shard-${s}.f32`)));
      expect(engine.stats().maxAlive).toBeLessThanOrEqual(2);
    } finally {
      await engine.close();
    }
    await expect(runShardedAggregation(engine, 'coordinateMedian', {}, n, d)).rejects.toThrow(/closed/);
    for (const bad of [0, 1.5, 257]) {
      await expect(
        createProcessShardEngine({ source: { kind: 'module', url: generator }, n, d, shards: 3, maxConcurrent: bad }),
      ).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('maxConcurrent') });
    }
  });
});

describe.runIf(built)('shard process memory', () => {
  it("a shard's peak RSS is its own, not the coordinator's pages that fork() mapped before exec", async () => {
    const { createProcessShardEngine, runShardedAggregation } = await load();
    // 512 MiB resident in this (the coordinator's) process while the shard processes start.
    const ballast = new Float64Array(2 ** 26).fill(1);
    const engine = await createProcessShardEngine({ source: { kind: 'module', url: generator }, n: 4, d: 1000, shards: 2, maxConcurrent: 1 });
    try {
      await runShardedAggregation(engine, 'coordinateMedian', {}, 4, 1000);
      for (const m of await engine.memory()) {
        expect(m.peakRss).toBeGreaterThan(0);
        expect(m.peakRss).toBeLessThan(256 * 2 ** 20);
      }
    } finally {
      await engine.close();
    }
    expect(ballast[ballast.length - 1]).toBe(1);
  });
});

it('the built shard entry exists (npm test builds it first)', () => {
  expect(built).toBe(true);
});
