// npm run bench — times every aggregator robust-agg exports (dist/, rebuilt by `prebench` only when
// stale) on each backend, next to numpy / torch peers on the same matrices, against the machine's
// physical floor; prints the table and writes JSON + SVG + markdown (and docs/benchmarks.md with
// --write-docs). The default run answers the headline question in a few minutes (every rule at
// n = 100, d = 1e6 against the fastest peer, plus a small sweep); --quick is smaller, --full is the
// whole grid. `npm run bench -- --help` lists the flags. The pieces live in bench/lib/.
//
// This process plans, estimates, draws the progress bar with its ETA, runs the Python peers and
// the memory children, and writes the outputs. The timed calls run in a child process
// (bench/lib/runner.mjs), so that Ctrl-C is answered at once even in the middle of a
// ten-second call: every child is killed and what was measured so far is written, labelled partial.
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { headlineCells, headlineImpl } from './lib/before-after.mjs';
import { resolveBackends } from './lib/backends.mjs';
import { HELP, HEADLINE, groupsOf, parseArgs, planFor } from './lib/cli.mjs';
import { declaredF } from './lib/data.mjs';
import { renderDocs } from './lib/docs.mjs';
import {
  CHILD_START_MS,
  FILE_MS_PER_BYTE,
  FLOOR_MS,
  GEN_MS_PER_VALUE,
  PEER_START_MS,
  Progress,
  RUNNER_START_MS,
  calibration,
  cellWallMs,
  etaText,
  formatDuration,
  guessFromFloor,
  predictCall,
  referenceTimings,
} from './lib/estimate.mjs';
import { floorMs, pctOfFloor, readCachedFloor } from './lib/floor.mjs';
import { memoryVerdict, runMemoryChild } from './lib/memory.mjs';
import { PEER_RULES, detectPeers, fastestPeers, peerEnvironment, runPeerGroup } from './lib/peers.mjs';
import {
  PEER_IMPLS,
  fewSamplesLegend,
  formatD,
  formatMs,
  machineInfo,
  recordNotes,
  textGrid,
  textMemoryTable,
  textTable,
} from './lib/report.mjs';
import { RULES, cellId, selectRules } from './lib/rules.mjs';
import { renderSvg } from './lib/svg.mjs';
import { measureRooflinePeak, rooflineRows, textRoofline } from './lib/roofline.mjs';
import { TENSOR_RULES } from './lib/tfjs.mjs';
import { budgetFor, slowCallMs } from './lib/timing.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNNER = fileURLToPath(new URL('./lib/runner.mjs', import.meta.url));
const t0 = performance.now();
const now = () => performance.now();
const log = (s) => process.stderr.write(`${s}\n`);

// --rounds (bench/lib/rounds.mjs): aggregation rounds and aggregateAsync against the one-shot call.
if (process.argv.includes('--rounds')) {
  const { runRounds } = await import('./lib/rounds.mjs');
  await runRounds(process.argv.slice(2)).catch((e) => {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  });
  process.exit(0);
}

// --deep-sight (bench/lib/deep-sight.mjs): deepSight inspects models, so it is timed apart.
if (process.argv.includes('--deep-sight')) {
  const { runDeepSight } = await import('./lib/deep-sight.mjs');
  await runDeepSight(process.argv.slice(2)).catch((e) => {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  });
  process.exit(0);
}

// --byrd-saga-step (bench/lib/byrd-saga-step.mjs): one training step of the Byrd-SAGA experiment.
if (process.argv.includes('--byrd-saga-step')) {
  await (await import('./lib/byrd-saga-step.mjs')).runByrdSagaStep(process.argv.slice(2)).catch((e) => {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  });
  process.exit(0);
}

// --sweep (bench/lib/sweep.mjs): time against size for the headline rules, fast / plain / peer.
if (process.argv.includes('--sweep')) {
  await (await import('./lib/sweep.mjs')).runSweep(process.argv.slice(2)).catch((e) => {
    console.error(`bench: ${e.message}`);
    process.exit(2);
  });
  process.exit(0);
}

// --backend webgpu: the WGSL kernels on a WebGPU device (bench/lib/webgpu.mjs: Node's webgpu
// package, else headless Chromium), before the other backends asked for, if any.
if (process.argv.includes('--backend') && (process.argv[process.argv.indexOf('--backend') + 1] ?? '').split(',').includes('webgpu')) {
  const webgpu = await import('./lib/webgpu.mjs');
  await webgpu.runWebGPUFromArgs(process.argv.slice(2));
  const rest = webgpu.withoutWebGPU(process.argv);
  if (rest === null) process.exit(0);
  process.argv = rest;
}

let opts;
try {
  // --roofline (bench/lib/roofline.mjs): achieved G MAC/s or GB/s of every row against the peak.
  opts = parseArgs(process.argv.slice(2).filter((a) => a !== '--roofline'));
} catch (e) {
  console.error(`bench: ${e.message}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

// ---------------------------------------------------------------- docs from a saved run
if (opts.docsFrom) {
  const file = resolve(process.cwd(), opts.docsFrom);
  const result = JSON.parse(readFileSync(file, 'utf8'));
  if (result.partial) {
    console.error(`bench: ${opts.docsFrom} is a partial (interrupted) run; docs/benchmarks.md is written from complete runs only`);
    process.exit(2);
  }
  const svgFile = file.replace(/\.json$/, '.svg');
  const subtitle = `${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}`;
  writeFileSync(svgFile, renderSvg(result.records, { n: result.chartN ?? null, title: 'robust-agg: time per call', subtitle }));
  const docsDir = join(ROOT, 'docs');
  const rel = (f) => relative(docsDir, f).replace(/\\/g, '/');
  writeFileSync(join(docsDir, 'benchmarks.md'), renderDocs(result, { svgPath: rel(svgFile), jsonPath: rel(file) }));
  console.log(`wrote docs/benchmarks.md and ${relative(ROOT, svgFile)} from ${relative(ROOT, file)}`);
  process.exit(0);
}

const plan = planFor(opts);
const rooflinePeak = process.argv.includes('--roofline') && !opts.docsFrom ? await measureRooflinePeak() : null;
const sampling = {
  minSamples: plan.minSamples,
  budgetMs: plan.budgetMs,
  maxCellMs: plan.maxCellMs,
  slowCallMs: slowCallMs(plan),
  maxCallMs: plan.maxCallMs,
};

// ---------------------------------------------------------------- Ctrl-C, from the start
// Every child process (the timing process, peers, memory children, the peer probes) is tracked so
// that a signal kills them all; the outputs are written from what has arrived.
const children = new Set();
const track = (child) => {
  children.add(child);
  child.once('exit', () => children.delete(child));
};
const killChildren = () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
};
let finishing = false;
let writeOutputs = null; // set once there is something to write
let snapDir = null;
let tmp = null;
let stopProgress = () => {};
const cleanup = () => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (snapDir) rmSync(snapDir, { recursive: true, force: true });
};
function stopNow(reason, code) {
  if (finishing) {
    // a second Ctrl-C while the outputs are written: stop at once
    killChildren();
    process.exit(code);
  }
  finishing = true;
  killChildren();
  stopProgress();
  try {
    if (writeOutputs) writeOutputs({ partial: true, reason });
    else log(`bench: ${reason} before anything was measured; nothing written`);
  } catch (e) {
    log(`bench: could not write the partial results: ${e.message}`);
  }
  cleanup();
  process.exit(code);
}
process.on('SIGINT', () => stopNow('interrupted (Ctrl-C)', 130));
process.on('SIGTERM', () => stopNow('terminated (SIGTERM)', 143));
process.on('SIGHUP', () => stopNow('hung up (SIGHUP)', 129));
process.on('exit', () => {
  killChildren();
  cleanup();
});

// ---------------------------------------------------------------- the library
// A private snapshot of dist/ (built by `prebench` when stale), so that a rebuild running meanwhile
// (a shared working tree, a watch mode) cannot pull modules from under the run or its child
// processes. It lives inside node_modules so that its bare imports still resolve.
snapDir = join(ROOT, 'node_modules', '.cache', 'robust-agg-bench', `dist-${process.pid}`);
async function loadLibrary() {
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(snapDir, { recursive: true, force: true });
      cpSync(join(ROOT, 'dist'), snapDir, { recursive: true });
      writeFileSync(join(snapDir, 'package.json'), '{ "type": "module" }\n');
      const url = pathToFileURL(join(snapDir, 'index.js')).href;
      return { lib: await import(url), url };
    } catch (e) {
      if (attempt >= 4) {
        log(`bench: cannot load dist/index.js (${e.message.split('\n')[0]}); run \`npm run build\` (npm run bench does it when dist/ is stale)`);
        process.exit(2);
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}
const { lib, url: libUrl } = await loadLibrary();

const { rules, missing, unknown } = selectRules(lib, opts.only, opts.skip);
const messages = [];
if (unknown.length > 0) messages.push(`--only: no rule named ${unknown.join(', ')} (known: ${RULES.map((e) => e.name).join(', ')})`);
if (missing.length > 0) messages.push(`not exported by dist/index.js yet, skipped: ${missing.join(', ')}`);
if (rules.length === 0) {
  for (const m of messages) log(`bench: ${m}`);
  log('bench: no rule to time');
  process.exit(2);
}

let backendRequest = plan.backends;
let { backends, messages: backendMessages } = await resolveBackends(lib, backendRequest);
if (backends.length === 0 && opts.backends === null) {
  // a build without fast kernels: time the plain ones
  backendRequest = ['ts'];
  ({ backends } = await resolveBackends(lib, backendRequest));
  backendMessages = ['fast kernels: not in this build of the library; timing the plain kernels'];
}
messages.push(...backendMessages);
if (backends.length === 0) {
  for (const m of messages) log(`bench: ${m}`);
  log('bench: no backend to run');
  process.exit(2);
}
const tensorRules = rules.filter((e) => TENSOR_RULES[e.name]);
const libBackends = backends.filter((b) => b.kind === 'lib');
// Attacks call the aggregators, whose backends the table already compares: one backend (the fast
// kernels when present). Memory is measured at the largest size for that backend only.
const attackBackend = libBackends.slice(-1)[0]?.name;
const memoryBackend = plan.memory ? attackBackend ?? null : null;
const rulesOf = (b, cell) =>
  (b.kind === 'tfjs' ? tensorRules : rules.filter((e) => e.group !== 'attack' || b.name === attackBackend))
    .filter((e) => !(cell.skipGroups ?? []).includes(e.group));
const groups = groupsOf(plan.cells);
const nMaxAll = Math.max(...plan.ns);
const dMaxAll = Math.max(...plan.ds);
const isMemoryCell = (backendName, n, d) => memoryBackend === backendName && n === nMaxAll && d === dMaxAll;
const entryOf = new Map(RULES.map((e) => [e.name, e]));

// ---------------------------------------------------------------- peers
const peerEnv = peerEnvironment(process.env, opts.peerThreads);
let peerGroups = [];
let peerMessage = null;
const peerRules = [...new Set(rules.filter((e) => e.peer).map((e) => e.peer))];
const peerCosts = Object.fromEntries(rules.filter((e) => e.peer).map((e) => [e.peer, e.cost]));
if (plan.peers !== 'none' && peerRules.length > 0) {
  const candidates = opts.python ? [opts.python] : ['python3', '/usr/bin/python3'];
  const found = await detectPeers(candidates, peerEnv.env, track);
  peerGroups = found.groups.map((g) => ({ ...g, info: null }));
  peerMessage = found.message;
  if (peerMessage) messages.push(`peers: ${peerMessage}`);
  if (peerGroups.length > 0 && peerEnv.removed.length > 0) {
    messages.push(`peers: unset ${peerEnv.removed.join(', ')} for the Python processes only (numpy's OpenBLAS picks its own kernels)`);
  }
  if (peerGroups.length > 0 && peerEnv.set.length > 0) {
    messages.push(`peers: ${peerEnv.set.join(', ')} and torch.set_num_threads(${opts.peerThreads}) (--peer-threads)`);
  }
} else {
  peerMessage = plan.peers === 'none' ? 'disabled with --no-peers' : 'no selected rule has a peer';
}
const peerLibs = peerGroups.flatMap((g) => g.libs);
const libsByRule = Object.fromEntries(peerRules.map((r) => [r, peerLibs.filter((l) => PEER_RULES[l]?.includes(r))]));

// ---------------------------------------------------------------- floor
let floor = !opts.floor || opts.refreshFloor ? null : readCachedFloor();
const measureFloorInRunner = opts.floor && floor === null;

// ---------------------------------------------------------------- estimate
// Reference timings: this machine's last run when there is one, else the committed full-grid run.
function readRun(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}
const machine = machineInfo();
const outDir = resolve(ROOT, opts.out);
const lastRun = readRun(join(outDir, 'last-run.json'));
const committed = readRun(join(ROOT, 'bench', 'results', 'benchmarks.json'));
const sameMachine = (r) => r && r.machine?.cpu === machine.cpu && r.machine?.cores === machine.cores;
const priorSources = [sameMachine(lastRun) ? lastRun : null, committed].filter(Boolean);
const prior = referenceTimings(...priorSources.map((r) => r.records));
const basis = priorSources.length === 0
  ? 'no saved run to go by: guessed from the physical floor'
  : `timings of ${priorSources.map((r) => (r === lastRun ? 'the last run on this machine' : `the committed run of ${String(r.createdAt).slice(0, 10)}`)).join(', then ')}, scaled to these sizes`;

const records = [];
const memory = [];
const runRef = { timed: new Map(), refused: new Map() }; // this run's timings, as referenceTimings builds them
const priorPredicted = new Map(); // cell id → the reference's prediction (for the calibration)
let genMsPerValue = GEN_MS_PER_VALUE;

function noteRecord(r) {
  const k = `${r.impl}|${r.rule}`;
  if (r.errorCode === 'UNSUPPORTED') runRef.refused.set(k, Math.min(runRef.refused.get(k) ?? Infinity, r.n));
  if (r.error || !(r.medianMs > 0)) return;
  if (!runRef.timed.has(k)) runRef.timed.set(k, []);
  runRef.timed.get(k).push({ n: r.n, d: r.d, ms: r.medianMs });
}

let calib = {};
function recalibrate() {
  calib = calibration(
    records
      .filter((r) => !r.error && priorPredicted.has(cellId(r.impl, r.rule, r.n, r.d)))
      .map((r) => ({ impl: r.impl, measuredMs: r.medianMs, predictedMs: priorPredicted.get(cellId(r.impl, r.rule, r.n, r.d)) })),
  );
}

/** Predicted time of one call (ms): this run, else the reference (calibrated), else the floor. */
function predictedCall(impl, rule, cost, n, d) {
  const q = { impl, rule, cost, n, d };
  const mine = predictCall(runRef, q);
  if (mine) return { ms: mine.ms, refused: mine.refused, fromRun: true };
  const p = predictCall(prior, q);
  if (p) return { ms: p.ms * (calib[impl] ?? 1), refused: p.refused, fromRun: false };
  const guess = guessFromFloor({ n, d, cost }, floor);
  return { ms: guess * (calib[impl] ?? 1), refused: false, fromRun: false };
}

const cellPlan = (d) => ({ ...sampling, budgetMs: budgetFor(d, plan.budgetMs) });
const fileBytes = (g) => (g.nMax + 1) * g.d * 4;
const needsFile = (g) => peerGroups.length > 0 || g.cells.some((c) => libBackends.some((b) => isMemoryCell(b.name, c.n, g.d)));

/** Which peer libraries run each rule in group g: all of them ('all'), else the fastest so far. */
function peerKeep(g, useRecords) {
  if (plan.peers === 'all') return libsByRule;
  if (useRecords) return fastestPeers(records.filter((r) => PEER_IMPLS.includes(r.impl)), libsByRule).keep;
  // before the run: the same rule on the predictions at the group's largest n
  const keep = {};
  for (const [rule, libs] of Object.entries(libsByRule)) {
    if (g === groups[0] || libs.length < 2) {
      keep[rule] = libs;
      continue;
    }
    const t = libs.map((l) => predictedCall(l, rule, peerCosts[rule], g.nMax, g.d).ms);
    const best = Math.min(...t);
    keep[rule] = libs.filter((_, i) => t[i] <= 2 * best);
  }
  return keep;
}

/** The tasks of the run, with their estimates (ms). */
function buildTasks() {
  const tasks = [{ id: 'start', estMs: RUNNER_START_MS }];
  if (measureFloorInRunner) tasks.push({ id: 'floor', estMs: FLOOR_MS });
  for (const g of groups) {
    tasks.push({ id: `gen|${g.d}`, estMs: 0, group: g });
    for (const c of g.cells) {
      for (const b of backends) {
        for (const e of rulesOf(b, c)) {
          const id = isMemoryCell(b.name, c.n, g.d) ? `mem|${e.name}|${g.d}` : cellId(b.name, e.name, c.n, g.d);
          tasks.push({ id, estMs: 0, cell: { impl: b.name, rule: e.name, cost: e.cost, n: c.n, d: g.d }, memory: id.startsWith('mem|'), group: g });
        }
      }
    }
    for (const pg of peerGroups) tasks.push({ id: `peers|${pg.python}|${g.d}`, estMs: 0, peers: pg, group: g });
  }
  return tasks;
}

function estimateOf(task) {
  if (task.id === 'start' || task.id === 'floor') return task.estMs;
  const g = task.group;
  if (task.id.startsWith('gen|')) {
    return (g.nMax + 1) * g.d * genMsPerValue + (needsFile(g) ? fileBytes(g) * FILE_MS_PER_BYTE : 0);
  }
  if (task.cell) {
    const { impl, rule, cost, n, d } = task.cell;
    const p = predictedCall(impl, rule, cost, n, d);
    if (p.refused) return 10;
    const wall = cellWallMs(p.ms, cellPlan(d));
    return task.memory ? wall + CHILD_START_MS + fileBytes(g) * FILE_MS_PER_BYTE : wall;
  }
  if (task.peers) {
    const keep = peerKeep(g, false);
    let ms = fileBytes(g) * FILE_MS_PER_BYTE;
    for (const lib of task.peers.libs) {
      ms += PEER_START_MS[lib] ?? 1000;
      for (const [rule, libs] of Object.entries(keep)) {
        if (!libs.includes(lib)) continue;
        for (const c of g.cells) {
          const p = predictedCall(lib, rule, peerCosts[rule], c.n, g.d);
          if (!p.refused) ms += cellWallMs(p.ms, cellPlan(g.d), 5);
        }
      }
    }
    return ms;
  }
  return 0;
}

const tasks = buildTasks();
for (const t of tasks) {
  if (t.cell) {
    const p = predictCall(prior, t.cell);
    if (p && !p.refused) priorPredicted.set(cellId(t.cell.impl, t.cell.rule, t.cell.n, t.cell.d), p.ms);
  }
  t.estMs = estimateOf(t);
}
const progress = new Progress(tasks.map(({ id, estMs }) => ({ id, estMs })));
const taskById = new Map(tasks.map((t) => [t.id, t]));
const upfrontMs = now() - t0 + progress.totalEstimateMs();
function reestimate() {
  recalibrate();
  for (const t of tasks) if (!progress.tasks.get(t.id)?.done) progress.setEstimate(t.id, estimateOf(t));
}

// ---------------------------------------------------------------- say what will happen
const cellText = groups.map((g) => `d=${formatD(g.d)}: n ∈ {${g.cells.map((c) => c.n).join(', ')}}`).join('; ');
log(`robust-agg bench (${plan.custom ? 'custom grid' : plan.mode === 'default' ? 'default run' : `--${plan.mode}`}): ${rules.length} rules on ${backends.map((b) => b.name).join(', ')}` +
  (peerGroups.length ? ` + peers ${peerLibs.join(', ')}${plan.peers === 'fastest' ? ' (the fastest per rule at the larger sizes)' : ''}` : '') +
  `\n  cells: ${cellText}${plan.headline ? `; headline n=${plan.headline.n}, d=${formatD(plan.headline.d)}` : ''}`);
log(`  sampling: ≥ ${plan.minSamples} timed calls per cell, fewer only for calls above ${formatMs(sampling.slowCallMs)} ` +
  `(a cell stops before ${formatMs(plan.maxCellMs)}; marked "k of ${plan.minSamples}"); calls predicted above ${formatMs(plan.maxCallMs)} skipped`);
for (const m of messages) log(`  ${m}`);
if (floor) log(`  floor: ${floor.bandwidthGBs.toFixed(1)} GB/s streaming read, ${floor.peakGmadds.toFixed(1)} G multiply-adds/s (cached; --refresh-floor to re-measure)`);
log(`  estimated duration: ≈ ${formatDuration(upfrontMs)} (${basis}); Ctrl-C stops at once and keeps what was measured`);

// ---------------------------------------------------------------- progress
let currentTask = 'starting';
const cellTotal = tasks.filter((t) => t.cell).length;
let cellsDone = 0;
const bar = opts.progress && process.stderr.isTTY
  ? new cliProgress.SingleBar(
    {
      format: '  {bar} {percentage}% | {elapsedText} | {etaText} | {cells} cells | {task}',
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      fps: 4,
    },
    cliProgress.Presets.shades_classic,
  )
  : null;
function refresh() {
  if (!bar) return;
  const elapsed = now() - t0;
  const rest = progress.remainingMs(now());
  bar.setTotal(Math.max(1, Math.round((elapsed + rest) / 100)));
  bar.update(Math.round(elapsed / 100), {
    elapsedText: `${formatDuration(elapsed)} elapsed`,
    etaText: etaText(rest),
    cells: `${cellsDone}/${cellTotal}`,
    task: currentTask,
  });
}
bar?.start(Math.max(1, Math.round(upfrontMs / 100)), 0, { elapsedText: '0 s elapsed', etaText: etaText(upfrontMs), cells: `0/${cellTotal}`, task: currentTask });
const ticker = bar ? setInterval(refresh, 1000) : null;
stopProgress = () => {
  if (ticker) clearInterval(ticker);
  bar?.stop();
};
const status = () => `${formatDuration(now() - t0)} elapsed, ${etaText(progress.remainingMs(now()))}`;
const plainLog = (s) => {
  if (!bar && opts.progress) log(`  ${s} (${status()})`);
};
function startTask(id, label) {
  progress.start(id, now());
  currentTask = label;
  refresh();
}
function finishTask(id, ms = null) {
  progress.finish(id, ms);
  if (taskById.get(id)?.cell) cellsDone += 1;
  reestimate();
  refresh();
}

// ---------------------------------------------------------------- records
const backendStatus = {};
const peerDropped = [];
function finishRecord(rec) {
  const cost = rec.cost ?? entryOf.get(rec.rule)?.cost ?? RULES.find((e) => e.peer === rec.rule)?.cost ?? 'nd';
  rec.floorMs = floor ? floorMs({ n: rec.n, d: rec.d, cost }, floor) : null;
  rec.floorPct = rec.error ? null : pctOfFloor(rec.floorMs, rec.medianMs);
  records.push(rec);
  noteRecord(rec);
  return rec;
}

// ---------------------------------------------------------------- outputs
const chartN = opts.chartN ?? (plan.headline ? plan.headline.n : nMaxAll);
function buildResult({ partial, reason }) {
  const wallMs = now() - t0;
  let fullGridMs = null;
  if (!partial && plan.mode !== 'full') {
    // what --full would cost here: the same model on the full grid, with this run's timings first
    fullGridMs = estimateFullGrid();
  }
  return {
    schema: 2,
    createdAt: new Date().toISOString(),
    command,
    mode: plan.mode,
    custom: plan.custom,
    partial,
    interrupted: partial ? { reason, afterMs: wallMs, cellsDone, cellsPlanned: cellTotal } : null,
    options: {
      quick: plan.mode === 'quick', full: plan.mode === 'full', only: opts.only, skip: opts.skip, n: plan.ns, d: plan.ds,
      cells: plan.cells, seed: opts.seed, peers: plan.peers, memory: plan.memory,
    },
    machine,
    backends: backends.map((b) => ({ name: b.name, kind: b.kind, label: b.label, ...(backendStatus[b.name] ? { status: backendStatus[b.name] } : {}) })),
    floor,
    sampling: { ...sampling, budgetByD: Object.fromEntries(plan.ds.map((d) => [d, budgetFor(d, plan.budgetMs)])) },
    budgets: { base: plan.budgetMs, byD: Object.fromEntries(plan.ds.map((d) => [d, budgetFor(d, plan.budgetMs)])), maxCallMs: plan.maxCallMs },
    estimate: { upfrontMs, basis, fullGridMs },
    headline: plan.headline,
    peers: {
      mode: plan.peers,
      groups: peerGroups.map((g) => ({ python: g.python, libs: g.libs, info: g.info })),
      message: peerMessage,
      envRemoved: peerGroups.length > 0 ? peerEnv.removed : [],
      envSet: peerGroups.length > 0 ? peerEnv.set : [],
      dropped: peerDropped,
    },
    messages,
    wallMs,
    chartN,
    records,
    memory,
  };
}

writeOutputs = ({ partial = false, reason = null } = {}) => {
  const result = buildResult({ partial, reason });
  if (records.length > 0) console.log(textTable(records));
  const legend = fewSamplesLegend(records);
  if (legend) console.log(`\n${legend}`);
  if (memory.length > 0) {
    console.log(`\nMemory at n=${nMaxAll}, d=${formatD(dMaxAll)} (one child process per rule):`);
    console.log(textMemoryTable(memory));
  }
  const notes = [...messages, ...recordNotes(records).filter((x) => /: (error|refused|skipped): /.test(x))];
  if (peerDropped.length > 0) {
    notes.push(`peers not run at the larger sizes (more than 2× slower than another, or skipped): ${peerDropped.map((x) => `${x.lib} ${x.rule}`).join(', ')}`);
  }
  if (notes.length > 0) console.log(`\n${notes.map((x) => `- ${x}`).join('\n')}`);
  const size = plan.headline ?? null;
  const impl = size ? headlineImpl(records, size) : null;
  if (impl) {
    console.log(`\nHeadline: every rule at n = ${size.n}, d = ${formatD(size.d)} on ${impl}, against the fastest peer (÷ below 1×: robust-agg faster)`);
    console.log(textGrid(headlineCells(records, size, impl), new Set([0, 4])));
  }
  if (rooflinePeak) {
    const costOf = (r) => r.cost ?? entryOf.get(r.rule)?.cost ?? RULES.find((e) => e.peer === r.rule)?.cost ?? 'nd';
    const rows = rooflineRows(records, { peak: rooflinePeak, bandwidthGBs: floor?.bandwidthGBs ?? null, costOf });
    console.log(`\n${textRoofline(rows, rooflinePeak)}`);
    result.roofline = { peak: rooflinePeak, rows };
  }

  mkdirSync(outDir, { recursive: true });
  const subtitle = `${machine.cpu}, ${machine.cores} cores, Node ${machine.node} · ${plan.custom ? 'custom' : plan.mode}${partial ? ' · PARTIAL' : ''}`;
  const svg = renderSvg(records, { n: chartN, title: `robust-agg: time per call${partial ? ' (partial run)' : ''}`, subtitle });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(outDir, 'last-run.json'), json);
  writeFileSync(join(outDir, 'last-run.svg'), svg);
  writeFileSync(join(outDir, 'last-run.md'), renderDocs(result, { svgPath: 'last-run.svg', jsonPath: 'last-run.json' }));
  const written = ['last-run.json', 'last-run.svg', 'last-run.md'].map((f) => join(opts.out, f));
  if (opts.writeDocs && !partial) {
    writeFileSync(join(outDir, 'benchmarks.json'), json);
    writeFileSync(join(outDir, 'benchmarks.svg'), svg);
    const rel = (f) => `../${join(opts.out, f).replace(/\\/g, '/')}`;
    writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), renderDocs(result, { svgPath: rel('benchmarks.svg'), jsonPath: rel('benchmarks.json') }));
    written.push(join(opts.out, 'benchmarks.json'), join(opts.out, 'benchmarks.svg'), 'docs/benchmarks.md');
  }
  if (partial) {
    console.log(`\nPARTIAL RUN — ${reason} after ${formatDuration(result.wallMs)}: ${cellsDone} of ${cellTotal} cells measured; wrote ${written.join(', ')}` +
      (opts.writeDocs ? ' (docs/benchmarks.md left as it was)' : ''));
  } else {
    console.log(`\n${formatDuration(result.wallMs)} in all (estimated ${formatDuration(upfrontMs)} up front); wrote ${written.join(', ')}`);
    if (result.estimate.fullGridMs) console.log(`The full grid (--full${opts.only || opts.skip.length ? ', these rules' : ''}) would take about ${formatDuration(result.estimate.fullGridMs)} here.`);
  }
};

function estimateFullGrid() {
  try {
    const full = planFor({ ...opts, full: true, quick: false, n: null, d: null, backends: null, memory: null, samples: opts.samples, budgetMs: null, maxCellS: null, maxCallS: null });
    const fullPlan = { ...sampling, minSamples: full.minSamples, maxCellMs: full.maxCellMs, maxCallMs: full.maxCallMs, slowCallMs: slowCallMs(full) };
    const impls = ['ts', 'fast'];
    let ms = RUNNER_START_MS;
    for (const g of groupsOf(full.cells)) {
      ms += (g.nMax + 1) * g.d * genMsPerValue + (g.nMax + 1) * g.d * 4 * FILE_MS_PER_BYTE;
      for (const c of g.cells) {
        for (const impl of impls) {
          for (const e of rules) {
            if (e.group === 'attack' && impl !== 'fast') continue;
            const p = predictedCall(impl, e.name, e.cost, c.n, g.d);
            if (!p.refused) ms += cellWallMs(p.ms, { ...fullPlan, budgetMs: budgetFor(g.d, full.budgetMs) });
          }
        }
        for (const [rule, libs] of Object.entries(libsByRule)) {
          for (const l of libs) {
            const p = predictedCall(l, rule, peerCosts[rule], c.n, g.d);
            if (!p.refused) ms += cellWallMs(p.ms, { ...fullPlan, budgetMs: budgetFor(g.d, full.budgetMs) }, 5);
          }
        }
      }
      ms += peerLibs.reduce((s, l) => s + (PEER_START_MS[l] ?? 1000), 0);
    }
    ms += rules.length * (CHILD_START_MS + (Math.max(...full.ns) + 1) * Math.max(...full.ds) * 4 * FILE_MS_PER_BYTE);
    return ms;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- run
tmp = mkdtempSync(join(tmpdir(), 'robust-agg-bench-'));
const fileOf = (g) => (needsFile(g) ? join(tmp, `d${g.d}.f32`) : null);
startTask('start', 'starting the timing process');
const runner = fork(RUNNER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
track(runner);

const waiting = new Map(); // message type → resolve
const arrived = new Map();
const waitFor = (type) =>
  new Promise((res) => {
    if (arrived.has(type)) {
      const m = arrived.get(type);
      arrived.delete(type);
      res(m);
    } else waiting.set(type, res);
  });
const deliver = (type, m) => {
  const res = waiting.get(type);
  if (res) {
    waiting.delete(type);
    res(m);
  } else arrived.set(type, m);
};
let runnerDone = false;
runner.on('message', (m) => {
  if (finishing) return;
  switch (m.type) {
    case 'start':
      if (progress.current === 'start') finishTask('start');
      startTask(m.id, m.label);
      break;
    case 'floor':
      floor = m.floor;
      finishTask('floor');
      log(`  floor: ${floor.bandwidthGBs.toFixed(1)} GB/s streaming read, ${floor.peakGmadds.toFixed(1)} G multiply-adds/s (measured now, cached for the next runs)`);
      for (const nt of floor.notes ?? []) messages.push(`floor: ${nt}`);
      break;
    case 'gen':
      if (m.values > 1e6) genMsPerValue = m.ms / m.values;
      finishTask(m.id, m.ms);
      break;
    case 'record':
      finishRecord(m.rec);
      finishTask(m.id, m.rec.cellWallMs);
      break;
    case 'status':
      backendStatus[m.backend] = m.status;
      break;
    case 'block':
      plainLog(`n=${m.n} d=${formatD(m.d)} ${m.backend}: ${m.count} rules timed`);
      break;
    case 'group-done':
      deliver('group-done', m);
      break;
    case 'done':
      runnerDone = true;
      deliver('done', m);
      break;
    case 'fatal':
      messages.push(`timing process: ${m.error}`);
      break;
    default:
  }
});
runner.on('exit', (code, signal) => {
  if (finishing || runnerDone) return;
  // Ctrl-C in a terminal reaches the whole process group: the timing process may go first
  if (signal === 'SIGINT') stopNow('interrupted (Ctrl-C)', 130);
  else stopNow(`the timing process stopped (${signal ?? `exit code ${code}`})`, 1);
});

runner.send({
  type: 'config',
  config: {
    libUrl,
    measureFloor: measureFloorInRunner,
    refreshFloor: opts.refreshFloor,
    backendNames: backendRequest,
    seed: opts.seed,
    budgetMs: plan.budgetMs,
    minSamples: plan.minSamples,
    maxCellMs: plan.maxCellMs,
    maxCallMs: plan.maxCallMs,
    prior: Object.fromEntries([...priorPredicted.entries()].map(([id, ms]) => [id, ms * (calib[id.split('|')[1]] ?? 1)])),
    groups: groups.map((g) => ({
      d: g.d,
      nMax: g.nMax,
      file: fileOf(g),
      cells: g.cells.map((c) => ({
        n: c.n,
        byBackend: Object.fromEntries(
          backends.map((b) => [b.name, rulesOf(b, c).filter(() => !isMemoryCell(b.name, c.n, g.d)).map((e) => e.name)]),
        ),
      })),
    })),
  },
});

for (const g of groups) {
  await waitFor('group-done');
  const file = fileOf(g);
  // memory children: the largest cell, one process per rule, on the memory backend
  for (const c of g.cells) {
    const b = backends.find((x) => isMemoryCell(x.name, c.n, g.d));
    if (!b) continue;
    for (const entry of rulesOf(b, c)) {
      const id = `mem|${entry.name}|${g.d}`;
      startTask(id, `${entry.name} · ${b.name} · n=${c.n} d=${formatD(g.d)} (memory, own process)`);
      const f = entry.fMax ? Math.max(0, Math.min(declaredF(c.n), entry.fMax(c.n))) : declaredF(c.n);
      const rec = { rule: entry.name, group: entry.group, cost: entry.cost, impl: b.name, n: c.n, d: g.d, f, note: entry.note ?? null };
      const tCell = now();
      const fromRun = predictCall(runRef, { impl: b.name, rule: entry.name, cost: entry.cost, n: c.n, d: g.d });
      if (fromRun && !fromRun.refused && fromRun.ms > plan.maxCallMs) {
        rec.error = `skipped: predicted ${formatMs(fromRun.ms)} > ${formatMs(plan.maxCallMs)} per call`;
      } else {
        const child = await runMemoryChild({
          rule: entry.name, backend: b.name, n: c.n, d: g.d, nMax: g.nMax, file, seed: opts.seed, libUrl,
          budgetMs: budgetFor(g.d, plan.budgetMs), minSamples: plan.minSamples, maxCellMs: plan.maxCellMs,
        }, track);
        if (finishing) break;
        if (child.error) {
          rec.error = child.error;
          if (child.errorCode) rec.errorCode = child.errorCode;
        } else {
          Object.assign(rec, child.timing, { timedIn: 'child process' });
          memory.push({
            rule: entry.name, impl: b.name, n: c.n, d: g.d,
            peakRssGrowthBytes: child.peakRssGrowthBytes, heapGrowthBytes: child.heapGrowthBytes, outputBytes: child.outputBytes,
            method: child.method,
            ...memoryVerdict({ peakRssGrowthBytes: child.peakRssGrowthBytes, outputBytes: child.outputBytes, n: c.n, d: g.d }),
          });
        }
      }
      if (rec.error) memory.push({ rule: entry.name, impl: b.name, n: c.n, d: g.d, error: rec.error, errorCode: rec.errorCode, ratioToInput: null });
      rec.cellWallMs = now() - tCell;
      finishRecord(rec);
      finishTask(id, rec.cellWallMs);
    }
  }
  // peers on the same file, after robust-agg is done with this d
  for (const pg of peerGroups) {
    const id = `peers|${pg.python}|${g.d}`;
    const keepByRule = peerKeep(g, true);
    if (plan.peers === 'fastest') {
      const { dropped } = fastestPeers(records.filter((r) => PEER_IMPLS.includes(r.impl)), libsByRule);
      for (const x of dropped) if (!peerDropped.some((y) => y.lib === x.lib && y.rule === x.rule)) peerDropped.push(x);
    }
    const rulesByLib = Object.fromEntries(pg.libs.map((l) => [l, peerRules.filter((r) => keepByRule[r]?.includes(l))]));
    if (Object.values(rulesByLib).every((x) => x.length === 0)) {
      finishTask(id, 0);
      continue;
    }
    startTask(id, `${pg.libs.join(' + ')} peers · d=${formatD(g.d)}`);
    const predicted = {};
    for (const l of pg.libs) {
      for (const r of rulesByLib[l]) {
        for (const c of g.cells) {
          const p = predictedCall(l, r, peerCosts[r], c.n, g.d);
          if (!p.refused) predicted[`${l}|${r}|${c.n}`] = { ms: p.ms, fromRun: p.fromRun };
        }
      }
    }
    try {
      const out = await runPeerGroup(
        pg,
        {
          file, nMax: g.nMax, d: g.d, ns: g.cells.map((c) => c.n),
          fs: Object.fromEntries(g.cells.map((c) => [c.n, declaredF(c.n)])),
          rules: peerRules, rulesByLib, costs: peerCosts,
          budgets_ms: Object.fromEntries(g.cells.map((c) => [c.n, budgetFor(g.d, plan.budgetMs)])),
          maxCallMs: plan.maxCallMs, minSamples: plan.minSamples, maxCellMs: plan.maxCellMs, predicted,
          threads: opts.peerThreads,
        },
        peerEnv.env,
        (r) => {
          if (finishing) return;
          const entry = RULES.find((e) => e.peer === r.rule) ?? { cost: 'nd', group: 'aggregator' };
          const rec = { rule: r.rule, group: entry.group, cost: entry.cost, impl: r.impl, n: r.n, d: r.d, f: r.f, note: r.note || null };
          if (r.error) rec.error = r.error;
          else {
            for (const k of ['medianMs', 'madMs', 'minMs', 'maxMs', 'meanMs', 'samples', 'samplesTarget', 'fewSamples', 'slowCallMs', 'warmup']) {
              if (r[k] !== undefined) rec[k] = r[k];
            }
          }
          finishRecord(rec);
          currentTask = `${r.rule} · ${r.impl} · n=${r.n} d=${formatD(g.d)}`;
          reestimate();
          refresh();
        },
        track,
      );
      pg.info = out.info ?? pg.info;
      plainLog(`d=${formatD(g.d)} ${pg.libs.join(' + ')} peers: ${out.records.length} timings`);
    } catch (e) {
      if (finishing) break;
      messages.push(`peers (${pg.python}): ${e.message}`);
    }
    finishTask(id);
  }
  if (file) rmSync(file, { force: true });
  if (finishing) break;
  runner.send({ type: 'next' });
}
if (!finishing) {
  await waitFor('done');
  finishing = true;
  stopProgress();
  writeOutputs({ partial: false });
  cleanup();
  process.exit(0);
}
