// npm run bench -- --rounds: aggregation rounds against the one-shot call (issue 18), at n = 100,
// d = 1e6 by default, for mean, coordinateMedian, krum, geometricMedian and flame:
//   - one-shot: `…WithDecision(updates)` called synchronously (the event loop is blocked throughout);
//   - aggregateAsync: the same call in a worker (copy in slices, then the rule);
//   - round: n updates added one at a time, paced as a server link of --link-mbps (default 1000, a
//     1 Gbit/s link: an update of d float32 takes 32·d ns to arrive; 0 = back to back), then
//     close(); the latency is from the last arrival (its add resolved) to the result, with the
//     worker at its default 'background' priority (nice +10) and at 'normal' priority; for the
//     Gram rules also with precompute: false (the whole O(n²d) pass at close);
//   - the event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) over each round,
//     arrivals included: max and p99, next to what an idle thread of the same process sees over the
//     same window (the machine's scheduling noise);
//   - numpy's X.mean(0) on a float32 n×d matrix in the same run (when python3 has numpy), for mean.
// Every number is the median of --repeats runs (default 3); same-run ratios are what to compare on a
// shared machine. Results go to stdout and bench/results/rounds.json (or --out DIR).
//
//   npm run bench -- --rounds [--n 100] [--d 1e6] [--only mean,krum] [--repeats 3] [--link-mbps 1000] [--no-peers] [--out DIR]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The rules timed, with the options a round and the one-shot call share. */
export const ROUND_RULES = [
  { name: 'mean', options: () => ({}) },
  { name: 'coordinateMedian', options: () => ({}) },
  { name: 'krum', options: (n) => ({ f: Math.floor(n / 10) }) },
  { name: 'geometricMedian', options: () => ({}) },
  { name: 'flame', options: () => ({ seed: 1 }) },
];

/** Flags of the rounds bench (the `--rounds` flag itself is dropped by the caller). */
export function parseRoundArgs(argv) {
  const opts = { n: 100, d: 1e6, only: null, repeats: 3, linkMbps: 1000, peers: true, out: join(ROOT, 'bench/results') };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const value = () => {
      if (k + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++k];
    };
    if (a === '--rounds') continue;
    else if (a === '--n') opts.n = Number(value());
    else if (a === '--d') opts.d = Number(value());
    else if (a === '--only') opts.only = value().split(',');
    else if (a === '--repeats') opts.repeats = Number(value());
    else if (a === '--link-mbps') opts.linkMbps = Number(value());
    else if (a === '--no-peers') opts.peers = false;
    else if (a === '--out') opts.out = resolve(process.cwd(), value());
    else throw new Error(`--rounds: unknown flag ${a} (known: --n, --d, --only, --repeats, --link-mbps, --no-peers, --out)`);
  }
  for (const [key, min] of [['n', 1], ['d', 1], ['repeats', 1]]) {
    if (!Number.isInteger(opts[key]) || opts[key] < min) throw new Error(`--${key} must be an integer ≥ ${min}`);
  }
  if (!(opts.linkMbps >= 0) || !Number.isFinite(opts.linkMbps)) throw new Error('--link-mbps must be a finite number ≥ 0');
  if (opts.only !== null) {
    const unknown = opts.only.filter((r) => !ROUND_RULES.some((e) => e.name === r));
    if (unknown.length > 0) throw new Error(`--only: unknown rule ${unknown.join(', ')} (known: ${ROUND_RULES.map((e) => e.name).join(', ')})`);
  }
  return opts;
}

/** n rows of length d: a shared direction plus seeded noise (xorshift), a tenth of them flipped and scaled. */
export function roundData(n, d, seed = 1) {
  let s = seed >>> 0 || 1;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const row = new Float32Array(d);
    const attacker = i < Math.floor(n / 10);
    for (let j = 0; j < d; j++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const noise = ((s >>> 0) / 4294967296 - 0.5) * 0.2;
      const honest = Math.sin(j * 0.001) + noise;
      row[j] = attacker ? -5 * honest : honest;
    }
    rows.push(row);
  }
  return rows;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** numpy's X.mean(0) on a float32 n×d matrix: the median of `repeats` timings (ms), or null without numpy. */
export function numpyMeanMs(n, d, repeats) {
  const code = [
    'import time, numpy as np',
    `X = np.random.default_rng(1).standard_normal((${n}, ${d}), dtype=np.float32)`,
    'X.mean(0)',
    `ts = []`,
    `for _ in range(${repeats}):`,
    '    t = time.perf_counter(); X.mean(0); ts.append((time.perf_counter() - t) * 1e3)',
    'print(sorted(ts)[len(ts) // 2])',
  ].join('\n');
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', code], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(cpus().length) } });
    if (r.status === 0) return Number(r.stdout.trim());
  }
  return null;
}

/** A thread that only measures its own event-loop delay until told to stop: the machine's scheduling noise. */
const REFERENCE = `
const { parentPort } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
parentPort.postMessage('started');
parentPort.once('message', () => {
  h.disable();
  parentPort.postMessage({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 });
});`;

/** One round: arrivals one at a time (every `intervalMs`), then close; latency from the last arrival to the result, event-loop delay. */
async function timeRound(lib, name, options, rows, priority, intervalMs, precompute) {
  const d = rows[0].length;
  const reference = new Worker(REFERENCE, { eval: true });
  await new Promise((r) => reference.once('message', r));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const round = lib.createRound({ rule: name, options, d, expected: rows.length, priority, ...(precompute === undefined ? {} : { precompute }) });
  const start = performance.now();
  for (let i = 0; i < rows.length; i++) {
    // The next update arrives: after its transfer time on the link, or at once.
    const wait = start + (i + 1) * intervalMs - performance.now();
    await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    await round.add(i, rows[i]);
  }
  const lastArrival = performance.now();
  const result = await round.close();
  const latency = performance.now() - lastArrival;
  h.disable();
  reference.postMessage('stop');
  const noise = await new Promise((r) => reference.once('message', r));
  await reference.terminate();
  return { latency, result, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, noise };
}

/** Runs the rounds bench; returns the records. `lib` defaults to dist/. */
export async function runRounds(argv, lib = null) {
  const opts = parseRoundArgs(argv);
  lib ??= await import(pathToFileURL(join(ROOT, 'dist/index.js')).href);
  const rules = ROUND_RULES.filter((r) => opts.only === null || opts.only.includes(r.name));
  const { n, d, repeats } = opts;
  const intervalMs = opts.linkMbps === 0 ? 0 : (d * 32) / (opts.linkMbps * 1e3);
  console.log(
    `rounds bench: n = ${n}, d = ${d}, ${repeats} repeats (medians), arrivals ${intervalMs === 0 ? 'back to back' : `every ${intervalMs.toFixed(1)} ms (a ${opts.linkMbps} Mbit/s link)`}, ${cpus().length} cores, Node ${process.version}`,
  );
  const rows = roundData(n, d);
  // Start the worker once, so that no timing includes a thread start.
  await lib.aggregateAsync('mean', rows.slice(0, 2).map((r) => r.subarray(0, 16)));
  const records = [];
  for (const rule of rules) {
    const options = rule.options(n);
    const fn = lib[`${rule.name}WithDecision`];
    // Warm both threads' kernels (compiled WebAssembly, JIT) on a small slice first.
    const small = rows.map((r) => r.subarray(0, Math.min(d, 4096)));
    fn(small, { ...options });
    await lib.aggregateAsync(rule.name, small, options);
    const oneShot = [];
    const asyncMs = [];
    const roundMs = [];
    const roundNormalMs = [];
    const roundPlainMs = [];
    const precomputed = lib.PRECOMPUTED_RULES.includes(rule.name);
    const maxDelay = [];
    const p99Delay = [];
    const noiseMax = [];
    const noiseP99 = [];
    let same = true;
    let close = true;
    let used = 0;
    for (let k = 0; k < repeats; k++) {
      let t = performance.now();
      const sync = fn(rows, { ...options });
      oneShot.push(performance.now() - t);
      t = performance.now();
      const viaAsync = await lib.aggregateAsync(rule.name, rows, options);
      asyncMs.push(performance.now() - t);
      const r = await timeRound(lib, rule.name, options, rows, 'background', intervalMs);
      roundMs.push(r.latency);
      if (r.result.precomputed === true) used++;
      roundNormalMs.push((await timeRound(lib, rule.name, options, rows, 'normal', intervalMs)).latency);
      let plain = null;
      if (precomputed) {
        plain = await timeRound(lib, rule.name, options, rows, 'background', intervalMs, false);
        roundPlainMs.push(plain.latency);
      }
      maxDelay.push(r.maxMs);
      p99Delay.push(r.p99Ms);
      noiseMax.push(r.noise.maxMs);
      noiseP99.push(r.noise.p99Ms);
      // Bit for bit: aggregateAsync and every round without precompute; a precomputed round (Gram
      // matrix from float64-accurate pair statistics) selects the same clients, aggregate within 1e-5.
      for (const got of [viaAsync.aggregate, ...(precomputed ? [plain.result.aggregate] : [r.result.aggregate])]) {
        for (let j = 0; j < d; j++) {
          if (!Object.is(got[j], sync.aggregate[j])) {
            same = false;
            break;
          }
        }
      }
      if (precomputed) {
        if (JSON.stringify(r.result.decision.raw.selected) !== JSON.stringify(sync.decision.selected)) close = false;
        for (let j = 0; j < d; j++) {
          if (!(Math.abs(r.result.aggregate[j] - sync.aggregate[j]) <= 1e-5 * (1 + Math.abs(sync.aggregate[j])))) {
            close = false;
            break;
          }
        }
      }
    }
    const rec = {
      rule: rule.name,
      n,
      d,
      oneShotMs: median(oneShot),
      asyncMs: median(asyncMs),
      roundLatencyMs: median(roundMs),
      roundOverOneShot: median(roundMs) / median(oneShot),
      roundNormalPriorityLatencyMs: median(roundNormalMs),
      ...(precomputed
        ? {
            roundWithoutPrecomputeLatencyMs: median(roundPlainMs),
            roundWithoutPrecomputeOverOneShot: median(roundPlainMs) / median(oneShot),
            precomputedSameSelection: close,
          }
        : {}),
      // Rounds (of --repeats, background priority) that used the work done on arrival.
      precomputeUsed: used,
      arrivalIntervalMs: intervalMs,
      eventLoopMaxMs: Math.max(...maxDelay),
      eventLoopP99Ms: median(p99Delay),
      idleThreadMaxMs: Math.max(...noiseMax),
      idleThreadP99Ms: median(noiseP99),
      identical: same,
    };
    records.push(rec);
    console.log(
      `${rule.name.padEnd(17)} one-shot ${rec.oneShotMs.toFixed(0).padStart(6)} ms | aggregateAsync ${rec.asyncMs.toFixed(0).padStart(6)} ms | ` +
        `round, last arrival → result ${rec.roundLatencyMs.toFixed(0).padStart(6)} ms (${rec.roundOverOneShot.toFixed(2)}× one-shot; ` +
        `priority normal ${rec.roundNormalPriorityLatencyMs.toFixed(0)} ms` +
        (precomputed ? `; without precompute ${rec.roundWithoutPrecomputeLatencyMs.toFixed(0)} ms, same selection and aggregate within 1e-5: ${close}` : '') +
        `; arrival-time work used in ${used}/${repeats}` +
        ') | ' +
        `event loop during the round: max ${rec.eventLoopMaxMs.toFixed(1)} ms, p99 ${rec.eventLoopP99Ms.toFixed(1)} ms ` +
        `(an idle thread meanwhile: max ${rec.idleThreadMaxMs.toFixed(1)}, p99 ${rec.idleThreadP99Ms.toFixed(1)}) | identical: ${same}`,
    );
  }
  let numpyMs = null;
  if (opts.peers && rules.some((r) => r.name === 'mean')) {
    numpyMs = numpyMeanMs(n, d, Math.max(3, repeats));
    const mean = records.find((r) => r.rule === 'mean');
    if (numpyMs !== null) {
      mean.numpyMeanMs = numpyMs;
      console.log(`numpy X.mean(0) ${numpyMs.toFixed(1)} ms: mean through a round ${(mean.roundLatencyMs / numpyMs).toFixed(2)}× numpy, one-shot mean ${(mean.oneShotMs / numpyMs).toFixed(2)}× numpy`);
    } else console.log('numpy: not available (python3 with numpy), no peer timing');
  }
  lib.closeAggregationWorkers();
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, 'rounds.json');
  writeFileSync(file, `${JSON.stringify({ command: `npm run bench -- ${argv.join(' ')}`, cores: cpus().length, node: process.version, records }, null, 2)}\n`);
  console.log(`wrote ${file}`);
  return records;
}
