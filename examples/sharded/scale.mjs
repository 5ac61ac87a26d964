// Scale run of coordinate-sharded aggregation on one machine: n clients × d coordinates generated
// per shard from a seeded counter-based generator (generate.mjs: no process ever holds another
// shard's columns), aggregated by krum, coordinateMedian, geometricMedian and flame over S shard
// processes, for several S. Reports wall time per rule, the load time, the peak RSS of every shard
// process and of the coordinator, the load average while it ran, and (with --check-d) the sharded
// result against the unsharded single call at a d that fits one process.
//
//   node examples/sharded/scale.mjs [--n 100] [--d 1e7] [--shards 1,2,4] [--waves W]
//     [--together] [--together-rules …] [--rules krum,coordinateMedian,geometricMedian,flame] [--check-d 1e6]
//     [--out results.json]
//
// --waves W: at most W shard processes alive at once, each re-created (its columns regenerated)
// for every pass, for d whose S shards do not fit in memory together (d = 1e8: 37 GiB).
// --together: all rules at once in shared passes (wave mode: rounds + 1 passes in all, instead of
// per rule), before the per-rule runs (--rules '' for none).
// With --out, the results file is rewritten after every rule (partial results survive a stop).
//
// Needs the built package (npm run build). Progress goes to stderr, the summary to stdout.
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as robust from 'robust-agg';
import { aggregateSharded, createProcessShardEngine, runShardedAggregation, shardRanges } from 'robust-agg/shard';
import { loadShard } from './generate.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const n = Number(args.n ?? 100);
const d = Number(args.d ?? 1e7);
const shardCounts = String(args.shards ?? '1,2,4').split(',').filter((x) => x !== '').map(Number);
const rules = String(args.rules ?? 'krum,coordinateMedian,geometricMedian,flame').split(',').filter((r) => r !== '');
const waves = args.waves === undefined ? undefined : Number(args.waves);
const together = 'together' in args;
const togetherRules = String(args['together-rules'] ?? 'krum,coordinateMedian,geometricMedian,flame').split(',');
const checkD = Number(args['check-d'] ?? 1e6);
const data = { seed: 11, attackers: Math.floor(n / 5), shift: 3 };
const generator = fileURLToPath(new URL('./generate.mjs', import.meta.url));
const OPTIONS = {
  krum: { f: Math.floor(n / 5) },
  multiKrum: { f: Math.floor(n / 5) },
  coordinateMedian: {},
  trimmedMean: { f: Math.floor(n / 5) },
  geometricMedian: {},
  flame: { seed: 1 },
  bulyan: { f: Math.floor((n - 3) / 4) },
};
const SINGLE = {
  krum: robust.krumWithDecision,
  multiKrum: robust.multiKrumWithDecision,
  coordinateMedian: robust.coordinateMedianWithDecision,
  trimmedMean: robust.trimmedMeanWithDecision,
  geometricMedian: robust.geometricMedianWithDecision,
  flame: robust.flameWithDecision,
  bulyan: robust.bulyanWithDecision,
};

const total = shardCounts.length * (rules.length + 1 + (together ? 1 : 0)) + (checkD > 0 ? rules.length * 2 : 0);
let done = 0;
const t0 = Date.now();
function progress(what) {
  done++;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${((Date.now() - t0) / 1000).toFixed(0)} s  ${what.padEnd(40)}`,
  );
}
const gib = (b) => b / 2 ** 30;
const seconds = (t) => (performance.now() - t) / 1000;

const results = {
  n,
  d,
  bytes: n * d * 4,
  data,
  waves: waves ?? null,
  machine: { cpus: cpus().length, totalMemGiB: gib(totalmem()), node: process.version },
  startedAt: new Date().toISOString(),
  runs: [],
  check: [],
};
const save = () => {
  results.coordinatorPeakRssGiB = gib(process.resourceUsage().maxRSS * 1024);
  results.wallSeconds = (Date.now() - t0) / 1000;
  if (args.out !== undefined) writeFileSync(args.out, JSON.stringify(results, null, 2));
};

// The 1-minute load average, sampled every 10 s (the machine is shared).
const loadSamples = [];
const sampler = setInterval(() => loadSamples.push({ t: (Date.now() - t0) / 1000, load1: loadavg()[0], freeGiB: gib(freemem()) }), 10_000);
sampler.unref();
const loadDuring = (from) => {
  const xs = loadSamples.filter((x) => x.t >= from).map((x) => x.load1);
  xs.push(loadavg()[0]);
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) };
};

/** What a rule's run reports: time, rounds, passes, the decision in brief, the output's sum. */
function summary(out, seconds, before, after, from) {
  let sum = 0;
  let count = 0;
  for (const part of out.shards) {
    for (let k = 0; k < part.length; k++) sum += part[k];
    count += part.length;
  }
  return {
    seconds,
    rounds: out.rounds,
    selected: out.decision.selected?.length,
    selectedAttackers: out.decision.selected?.filter((i) => i < data.attackers).length,
    outputColumns: count,
    outputMean: sum / count,
    passes: after.passes - before.passes,
    processesStarted: after.processesStarted - before.processesStarted,
    loadSecondsSummed: after.loadSeconds - before.loadSeconds,
    passLog: after.passLog.slice(before.passLog.length),
    loadAverage: loadDuring(from),
  };
}

for (const S of shardCounts) {
  const start = performance.now();
  const engine = await createProcessShardEngine({
    source: { kind: 'module', url: generator, data },
    n,
    d,
    shards: S,
    ...(waves === undefined ? {} : { maxConcurrent: waves }),
  });
  const run = {
    shards: S,
    maxConcurrent: waves ?? S,
    widths: engine.ranges.map((r) => r.width),
    sliceGiB: engine.ranges.map((r) => gib(n * r.width * 4)),
    loadSeconds: waves === undefined ? seconds(start) : null,
    rules: {},
  };
  results.runs.push(run);
  progress(`S=${S} ${waves === undefined ? 'loaded' : 'started'}`);
  try {
    if (together) {
      const before = engine.stats();
      const from = (Date.now() - t0) / 1000;
      const t = performance.now();
      const outs = await Promise.all(togetherRules.map((rule) => runShardedAggregation(engine, rule, OPTIONS[rule], n, d)));
      const wall = seconds(t);
      const after = engine.stats();
      run.together = {
        rules: togetherRules,
        seconds: wall,
        passes: after.passes - before.passes,
        processesStarted: after.processesStarted - before.processesStarted,
        loadSecondsSummed: after.loadSeconds - before.loadSeconds,
        passLog: after.passLog.slice(before.passLog.length),
        loadAverage: loadDuring(from),
        results: Object.fromEntries(togetherRules.map((rule, i) => [rule, summary(outs[i], wall, after, after, from)])),
      };
      for (const r of Object.values(run.together.results)) {
        delete r.passes;
        delete r.processesStarted;
        delete r.loadSecondsSummed;
        delete r.passLog;
        delete r.loadAverage;
        delete r.seconds;
      }
      run.peakRssGiB = (await engine.memory()).map((m) => gib(m.peakRss));
      run.maxAlive = engine.stats().maxAlive;
      save();
      progress(`S=${S} together`);
    }
    for (const rule of rules) {
      const before = engine.stats();
      const from = (Date.now() - t0) / 1000;
      const t = performance.now();
      const out = await runShardedAggregation(engine, rule, OPTIONS[rule], n, d);
      run.rules[rule] = summary(out, seconds(t), before, engine.stats(), from);
      run.peakRssGiB = (await engine.memory()).map((m) => gib(m.peakRss));
      run.maxAlive = engine.stats().maxAlive;
      save();
      progress(`S=${S} ${rule}`);
    }
  } finally {
    await engine.close();
  }
}

if (checkD > 0) {
  // The same rules at a d that fits this process: the unsharded single call on the whole updates
  // against (a) the shard processes in waves (S = 4, at most 2 alive) and (b) S = 4 in-process
  // slices, on the same generated data.
  const whole = loadShard({ n, d: checkD, offset: 0, width: checkD, data }).rows;
  const slices = shardRanges(checkD, 4).map(({ offset, width }) => ({ offset, d: checkD, rows: whole.map((r) => r.subarray(offset, offset + width)) }));
  const engine = await createProcessShardEngine({ source: { kind: 'module', url: generator, data }, n, d: checkD, shards: 4, maxConcurrent: 2 });
  const worstDifference = (shards, single) => {
    let worst = 0;
    let at = 0;
    for (const part of shards) {
      for (let k = 0; k < part.length; k++) worst = Math.max(worst, Math.abs(part[k] - single.aggregate[at + k]));
      at += part.length;
    }
    return worst;
  };
  try {
    for (const rule of rules) {
      let t = performance.now();
      const single = SINGLE[rule](whole, OPTIONS[rule]);
      const singleSeconds = seconds(t);
      t = performance.now();
      const sharded = await aggregateSharded(rule, slices, OPTIONS[rule]);
      const shardedSeconds = seconds(t);
      progress(`check ${rule} in process`);
      t = performance.now();
      const processes = await runShardedAggregation(engine, rule, OPTIONS[rule], n, checkD);
      const processSeconds = seconds(t);
      results.check.push({
        rule,
        d: checkD,
        singleSeconds,
        shardedInProcessSeconds: shardedSeconds,
        shardProcessesInWavesSeconds: processSeconds,
        sameSelection: JSON.stringify(sharded.decision.selected) === JSON.stringify(single.decision.selected),
        sameSelectionProcesses: JSON.stringify(processes.decision.selected) === JSON.stringify(single.decision.selected),
        maxAbsDifference: worstDifference(sharded.shards, single),
        maxAbsDifferenceProcesses: worstDifference(processes.shards, single),
      });
      save();
      progress(`check ${rule} processes`);
    }
  } finally {
    await engine.close();
  }
}
process.stderr.write('\n');
results.loadSamples = loadSamples;
results.finishedAt = new Date().toISOString();
save();
console.log(JSON.stringify(results, null, 2));
