// MixTailor against tailored attacks (Ramezani-Kebrya, Tabrizian, Faghri & Popovski, TMLR 2022) on
// the 10 000 MNIST digits of the `mnist` package: 10 honest + 2 Byzantine workers (the seed code's
// world size 12), the Byrd-SAGA 784–50(tanh)–10 network, mini-batch SGD. For each pool rule R
// (Krum, coordinate median, geometric median, Bulyan) the adaptive ε-reverse attack tuned to R
// trains R, MixTailor, the mean (and the other rules); the omniscient mean of the honest messages
// is the reference. Writes docs/results/mixtailor.{json,md,svg}.
//
//   npm run experiment:mixtailor                       # the page's grid (46 cells, see --help)
//   node examples/mixtailor/run.mjs --steps 40 --grid core --out /tmp/mt   # a quick look
//
// Cost: the page's run took 56 min of wall time on two shared cores (load average 4–13), 105 min
// summed over the cells; the pool-aware attacker is the dearest cell (~0.6 s of CPU per step).
//
// Resumable: every finished cell is saved to the JSON at once (with the page and the curves); a
// rerun with the same settings skips the cells already there. Progress goes to stdout.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { setKernelThreads } from '../../dist/index.js';
import { BYZANTINE, DEFAULT_NORMS, EPSILONS, HONEST, RULES, prepare, runOne } from './setup.mjs';
import { writePage, writeSvg } from './report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

const DEFAULTS = {
  steps: 300,
  evalEvery: 0, // 0: steps / 15
  seed: 1,
  jobs: 2,
  lr: 0.3,
  batchSize: 50,
  testSize: 2000,
  grid: 'full',
  norms: DEFAULT_NORMS.join(','),
  out: 'docs/results/mixtailor',
  note: '',
  reportOnly: 'no',
};

const HELP = `MixTailor against tailored attacks on MNIST (the mnist package's 10 000 digits).

  --steps N        server steps per cell (default ${DEFAULTS.steps})
  --eval-every N   steps between test evaluations (default steps/15)
  --seed N         seed of the split, the initial model, every draw (default ${DEFAULTS.seed})
  --jobs N         worker threads running cells in parallel (default ${DEFAULTS.jobs})
  --lr X           step size of mini-batch SGD (default ${DEFAULTS.lr})
  --batch-size N   samples per honest worker per step (default ${DEFAULTS.batchSize}, the seed code's)
  --test-size N    digits held out for testing (default ${DEFAULTS.testSize})
  --grid NAME      core | default | full | all (default ${DEFAULTS.grid}); see gridCells() in run.mjs
  --norms LIST     Krum-ℓp norms of MixTailor's pool (default ${DEFAULTS.norms}; the paper: 1-16)
  --out PREFIX     writes PREFIX.json, PREFIX.md, PREFIX.svg (default ${DEFAULTS.out})
  --note TEXT      a sentence added to the page's settings
  --report-only yes  rewrite PREFIX.md and PREFIX.svg from PREFIX.json without running anything
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
    if (!a.startsWith('--') || !(key in opts) || i + 1 >= argv.length) throw new Error(`unknown or incomplete option ${a}\n\n${HELP}`);
    const value = argv[++i];
    opts[key] = typeof DEFAULTS[key] === 'number' ? Number(value) : value;
  }
  for (const k of ['steps', 'seed', 'jobs', 'testSize', 'evalEvery', 'batchSize']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a non-negative integer`);
  }
  if (!(opts.lr > 0)) throw new Error('--lr must be > 0');
  if (opts.evalEvery === 0) opts.evalEvery = Math.max(1, Math.floor(opts.steps / 15));
  opts.normList = parseNorms(opts.norms);
  opts.jobs = Math.max(1, opts.jobs);
  return opts;
}

function parseNorms(s) {
  const m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  return s.split(',').map((x) => (x === 'Infinity' ? Infinity : Number(x)));
}

/**
 * The cells, most important first (a run stopped early has the headline table):
 * core: the omniscient mean; for each rule R, R and MixTailor under the attack tuned to R; MixTailor
 * under the attack tuned to its whole pool; the mean under each tailored attack; MixTailor without
 * attack. default: + bulyan(krum, mean) under the attack tuned to the coordinate median, MixTailor
 * over the pool without the Bulyan (·, mean) pairs under every attack, every other rule under each
 * tailored attack (the worst member). full: + Fang's attacks on Krum and on the median, and the
 * Optimal-IPM attack tuned to each rule, each against its target and MixTailor. all: + the rules and
 * the mean under the pool-aware attack.
 */
export function gridCells(grid) {
  const rules = Object.keys(RULES);
  const cells = [{ attack: 'none', aggregator: 'omniscient' }];
  for (const r of rules) cells.push({ attack: `adaptive:${r}`, aggregator: r }, { attack: `adaptive:${r}`, aggregator: 'mixTailor' });
  cells.push({ attack: 'adaptive:pool', aggregator: 'mixTailor' });
  for (const r of rules) cells.push({ attack: `adaptive:${r}`, aggregator: 'mean' });
  cells.push({ attack: 'none', aggregator: 'mixTailor' });
  if (grid === 'core') return cells;
  // The pool member that the attack tuned to the coordinate median turns around, and MixTailor over
  // the pool without the Bulyan pairs that aggregate by the plain mean.
  cells.push({ attack: 'adaptive:coordinateMedian', aggregator: 'bulyanKrumMean' });
  for (const r of rules) cells.push({ attack: `adaptive:${r}`, aggregator: 'mixTailorRobust' });
  cells.push({ attack: 'adaptive:robustPool', aggregator: 'mixTailorRobust' }, { attack: 'none', aggregator: 'mixTailorRobust' });
  for (const r of rules) for (const other of rules) if (other !== r) cells.push({ attack: `adaptive:${r}`, aggregator: other });
  if (grid === 'default') return cells;
  for (const [attack, target] of [['fang:krum', 'krum'], ['fang:median', 'coordinateMedian']]) {
    cells.push({ attack, aggregator: target }, { attack, aggregator: 'mixTailor' });
  }
  for (const r of rules) cells.push({ attack: `ipm:${r}`, aggregator: r }, { attack: `ipm:${r}`, aggregator: 'mixTailor' });
  if (grid === 'full') return cells;
  // all: the pool-aware attacker is ~5 pool evaluations per step (about 0.6 s of CPU here).
  for (const r of [...rules, 'mean']) cells.push({ attack: 'adaptive:pool', aggregator: r });
  return cells;
}

const key = (c) => `${c.attack}@${c.aggregator}`;

if (!isMainThread) {
  setKernelThreads(1);
  const prepared = prepare(workerData);
  parentPort.on('message', (cell) => {
    if (cell === null) process.exit(0);
    let reported = 0;
    const every = Math.max(1, Math.floor(workerData.steps / 10));
    const result = runOne(prepared, { ...workerData, ...cell }, (step) => {
      if (step - reported >= every) {
        parentPort.postMessage({ type: 'progress', cell, step });
        reported = step;
      }
    });
    parentPort.postMessage({ type: 'done', result });
  });
  parentPort.postMessage({ type: 'ready', perWorker: prepared.perWorker, total: prepared.total });
} else {
  const opts = parseArgs(process.argv.slice(2));
  const settings = {
    steps: opts.steps,
    evalEvery: opts.evalEvery,
    seed: opts.seed,
    lr: opts.lr,
    batchSize: opts.batchSize,
    testSize: opts.testSize,
    norms: opts.normList.map(String),
    honest: HONEST,
    byzantine: BYZANTINE,
    epsilons: EPSILONS,
  };
  const jsonPath = resolve(ROOT, `${opts.out}.json`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  let saved = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : null;
  if (opts.reportOnly === 'yes') {
    if (!saved) throw new Error(`--report-only: ${opts.out}.json does not exist`);
    Object.assign(settings, saved.settings); // the page describes the saved run, whatever the flags
  } else if (saved && JSON.stringify(saved.settings) !== JSON.stringify(settings)) {
    console.log(`${opts.out}.json holds another setting; starting afresh`);
    saved = null;
  }
  const results = saved?.results ?? [];
  const done = new Set(results.map(key));
  const cells = opts.reportOnly === 'yes' ? [] : gridCells(opts.grid).filter((c) => !done.has(key(c)));
  if (opts.reportOnly === 'yes') opts.grid = saved?.grid ?? opts.grid;
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    loadAtStart: os.loadavg(),
  };
  const previousWall = saved?.wallSeconds ?? 0;
  const started = Date.now();
  const stamp = () => new Date().toISOString().slice(11, 19);
  console.log(
    `[${stamp()}] MixTailor experiment: ${cells.length} cells to run (${results.length} already saved), ${opts.steps} steps, ` +
      `${HONEST} honest + ${BYZANTINE} Byzantine, lr ${opts.lr}, seed ${opts.seed}, ${opts.jobs} thread(s); load ${machine.loadAtStart.map((v) => v.toFixed(1)).join(' ')}`,
  );
  let sizes = saved?.sizes ?? { perWorker: 0, total: 0 };
  const save = () => {
    const wallSeconds = previousWall + (Date.now() - started) / 1000;
    const data = { settings, grid: opts.grid, sizes, machine: saved?.machine ?? machine, wallSeconds, results };
    writeFileSync(jsonPath, `${JSON.stringify(data)}\n`);
    const mdPath = resolve(ROOT, `${opts.out}.md`);
    const previous = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
    const svgName = `${opts.out.split('/').pop()}.svg`;
    writeFileSync(resolve(ROOT, `${opts.out}.svg`), writeSvg(data));
    writeFileSync(mdPath, writePage({ data, opts, svgName, previous, pending: cells.length - finished }));
  };
  let next = 0;
  let finished = 0;
  if (cells.length > 0) {
    await new Promise((resolveAll, rejectAll) => {
      const jobs = Math.min(opts.jobs, cells.length);
      for (let t = 0; t < jobs; t++) {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...settings, norms: opts.normList } });
        const feed = () => worker.postMessage(next < cells.length ? cells[next++] : null);
        worker.on('message', (msg) => {
          if (msg.type === 'ready') {
            sizes = { perWorker: msg.perWorker, total: msg.total };
            feed();
          } else if (msg.type === 'progress') {
            console.log(`[${stamp()}]   ${key(msg.cell)}: step ${msg.step}/${opts.steps}`);
          } else if (msg.type === 'done') {
            const r = msg.result;
            results.push(r);
            finished++;
            save();
            console.log(
              `[${stamp()}] done ${key(r)}: ${(100 * r.accuracy).toFixed(1)} % in ${r.seconds.toFixed(0)} s ` +
                `(${finished}/${cells.length}; ε chosen ${JSON.stringify(r.chosen)}; draws ${JSON.stringify(r.draws)})`,
            );
            feed();
            if (finished === cells.length) resolveAll();
          }
        });
        worker.on('error', rejectAll);
      }
    });
  }
  save();
  console.log(`[${stamp()}] finished; wall time this run ${((Date.now() - started) / 60000).toFixed(1)} min; wrote ${opts.out}.{json,md,svg}`);
}
