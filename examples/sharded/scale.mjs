// Scale run of coordinate-sharded aggregation on one machine: n clients × d coordinates generated
// per shard from a seeded counter-based generator (generate.mjs: no process ever holds another
// shard's columns), aggregated by krum, coordinateMedian, geometricMedian and flame over S shard
// processes, for several S. Reports wall time per rule, the load time, the peak RSS of every shard
// process and of the coordinator, and (with --check-d) the sharded result against the unsharded
// single call at a d that fits one process.
//
//   node examples/sharded/scale.mjs [--n 100] [--d 1e7] [--shards 1,2,4]
//     [--rules krum,coordinateMedian,geometricMedian,flame] [--check-d 1e6] [--out results.json]
//
// Needs the built package (npm run build). Progress goes to stderr, the summary to stdout.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as robust from 'robust-agg';
import { aggregateSharded, createProcessShardEngine, runShardedAggregation, shardRanges } from 'robust-agg/shard';
import { loadShard } from './generate.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const n = Number(args.n ?? 100);
const d = Number(args.d ?? 1e7);
const shardCounts = String(args.shards ?? '1,2,4').split(',').map(Number);
const rules = String(args.rules ?? 'krum,coordinateMedian,geometricMedian,flame').split(',');
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

const total = shardCounts.length * (rules.length + 1) + (checkD > 0 ? rules.length : 0);
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

const results = { n, d, bytes: n * d * 4, data, machine: { cpus: (await import('node:os')).cpus().length }, runs: [], check: [] };

for (const S of shardCounts) {
  const start = performance.now();
  const engine = await createProcessShardEngine({ source: { kind: 'module', url: generator, data }, n, d, shards: S });
  const run = { shards: S, widths: engine.ranges.map((r) => r.width), loadSeconds: seconds(start), rules: {} };
  progress(`S=${S} loaded`);
  try {
    for (const rule of rules) {
      const t = performance.now();
      const out = await runShardedAggregation(engine, rule, OPTIONS[rule], n, d);
      run.rules[rule] = {
        seconds: seconds(t),
        rounds: out.rounds,
        selected: out.decision.selected?.length,
        selectedAttackers: out.decision.selected?.filter((i) => i < data.attackers).length,
      };
      progress(`S=${S} ${rule}`);
    }
    const memory = await engine.memory();
    run.peakRssGiB = memory.map((m) => gib(m.peakRss));
    run.sliceGiB = engine.ranges.map((r) => gib(n * r.width * 4));
  } finally {
    await engine.close();
  }
  results.runs.push(run);
}

if (checkD > 0) {
  // The same rules at a d that fits this process: sharded (S = 4, in-process slices) against the
  // unsharded single call on the same data.
  const whole = loadShard({ n, d: checkD, offset: 0, width: checkD, data }).rows;
  const slices = shardRanges(checkD, 4).map(({ offset, width }) => ({ offset, d: checkD, rows: whole.map((r) => r.subarray(offset, offset + width)) }));
  for (const rule of rules) {
    let t = performance.now();
    const single = SINGLE[rule](whole, OPTIONS[rule]);
    const singleSeconds = seconds(t);
    t = performance.now();
    const sharded = await aggregateSharded(rule, slices, OPTIONS[rule]);
    const shardedSeconds = seconds(t);
    let worst = 0;
    let at = 0;
    for (const part of sharded.shards) {
      for (let k = 0; k < part.length; k++) worst = Math.max(worst, Math.abs(part[k] - single.aggregate[at + k]));
      at += part.length;
    }
    results.check.push({
      rule,
      d: checkD,
      singleSeconds,
      shardedInProcessSeconds: shardedSeconds,
      sameSelection: JSON.stringify(sharded.decision.selected) === JSON.stringify(single.decision.selected),
      maxAbsDifference: worst,
    });
    progress(`check ${rule}`);
  }
}
process.stderr.write('\n');
results.coordinatorPeakRssGiB = gib(process.resourceUsage().maxRSS * 1024);
results.wallSeconds = (Date.now() - t0) / 1000;
if (args.out !== undefined) writeFileSync(args.out, JSON.stringify(results, null, 2));
console.log(JSON.stringify(results, null, 2));
