// `npm run bench -- --sweep`: how the cost of the headline rules grows with the size of the input.
//
// Every headline rule (mean, coordinateMedian, trimmedMean, geometricMedian, krum, multiKrum,
// bulyan, flame) on the fast kernels, on the plain kernels and on the fastest Python peer
// (numpy / torch, bench/peers/reference.py, as the harness runs them), over the grid
// n ∈ {10, 100, 1000} × d ∈ {1e4, 1e5, 1e6, 1e7} (--n, --d). Cells are taken from the smallest
// n·d to the largest, each with its own matrix (bench/lib/data.mjs draws row i the same way whatever
// n is, so every cell's rows are the first n rows of the largest one). A cell whose data would
// exceed --max-gib (n·d·4 bytes, default 4 GiB) is not run; a call whose time, predicted from the
// smaller cells of the same rule and implementation, exceeds --max-seconds (default 20, like the
// harness) is skipped and says so.
//
// Output: JSON (every record, the fits, the fast ≤ plain check) and a log-log SVG
// (bench/lib/sweep-svg.mjs), written after every cell (labelled partial until the run ends), and a
// text summary: per rule and implementation the exponents (a, b) of t ≈ c·n^a·d^b fitted by least
// squares on log t, and every cell where the fast kernels were slower than the plain ones.
//
// Pure parts (parseSweepArgs, planSweep, fitExponents, predictMs, fastSlowerThanPlain, summarize)
// are exported for test/bench/sweep.test.ts.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolveBackends } from './backends.mjs';
import { parseNumberList } from './cli.mjs';
import { cellContext, declaredF, generateMatrix, writeMatrix } from './data.mjs';
import { PEER_RULES, detectPeers, fastestPeers, peerEnvironment, runPeerGroup } from './peers.mjs';
import { formatD, formatMs, machineInfo } from './report.mjs';
import { RULES } from './rules.mjs';
import { renderSweepSvg } from './sweep-svg.mjs';
import { budgetFor, planCell, timeCell } from './timing.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const SWEEP_RULES = ['mean', 'coordinateMedian', 'trimmedMean', 'geometricMedian', 'krum', 'multiKrum', 'bulyan', 'flame'];
export const SWEEP_N = [10, 100, 1000];
export const SWEEP_D = [1e4, 1e5, 1e6, 1e7];
/** Sampling of a sweep cell: fewer calls than the table (the sweep is about growth, not the 5 % digit). */
export const SWEEP_SAMPLING = { minSamples: 3, budgetMs: 300, maxCellMs: 4000 };
/** Exponents of the cost model per registry cost class: t ∝ n^a · d^b. */
export const NOMINAL = { nd: { a: 1, b: 1 }, n2d: { a: 2, b: 1 }, n2: { a: 2, b: 0 } };
/** The series of a panel: fast kernels, plain kernels, the fastest of the peers. */
export const SERIES = ['fast', 'ts', 'peer'];

export const SWEEP_HELP = `npm run bench -- --sweep [flags]

Time against size for the headline rules (${SWEEP_RULES.join(', ')}): fast kernels, plain
kernels and the fastest Python peer (numpy / torch) on the grid n x d, smallest n*d first. Prints
and records, per rule, the exponents a, b of t ~ c * n^a * d^b (least squares on log t) and every
cell where the fast kernels were slower than the plain ones; writes PATH.json and a log-log PATH.svg.

  --n 10,100,1000      client counts (default ${SWEEP_N.join(',')})
  --d 1e4,1e5,1e6,1e7  dimensions (default ${SWEEP_D.map(formatD).join(',')})
  --only a,b           only these of the headline rules
  --max-gib X          do not run a cell whose data (n*d*4 bytes) exceeds X GiB (default 4)
  --max-seconds X      skip a call predicted (from the smaller cells of the same rule and kernels)
                       above X s (default 20)
  --out PATH           write PATH.json and PATH.svg (default bench/results/sweep)
  --no-peers           do not run the Python peers
  --samples K          at least K timed calls per cell unless one call is slow (default ${SWEEP_SAMPLING.minSamples})
  --seed S             data seed (default 1)
  --python PATH        Python interpreter for the peers (default: python3, then /usr/bin/python3)
  --peer-threads N     thread count for the peers (default: the libraries' own)
  --from FILE          run nothing: recompute the summary of a saved sweep JSON, print it and
                       rewrite the JSON's summary and the SVG next to it
`;

/** Parses the flags of a sweep (argv may still hold --sweep). Throws a readable Error. */
export function parseSweepArgs(argv) {
  const o = {
    n: [...SWEEP_N], d: [...SWEEP_D], only: null, maxGiB: 4, maxSeconds: 20, out: 'bench/results/sweep',
    peers: true, samples: SWEEP_SAMPLING.minSamples, seed: 1, python: null, peerThreads: null, from: null, help: false,
  };
  const args = [];
  for (const a of argv) {
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) args.push(a.slice(0, eq), a.slice(eq + 1));
    else args.push(a);
  }
  const positive = (v, flag) => {
    const x = Number(v);
    if (!(x > 0) || !Number.isFinite(x)) throw new Error(`${flag} must be a positive number`);
    return x;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--sweep': break;
      case '--n': o.n = parseNumberList(value(), a); break;
      case '--d': o.d = parseNumberList(value(), a); break;
      case '--only': {
        o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
        const bad = o.only.filter((r) => !SWEEP_RULES.includes(r));
        if (bad.length) throw new Error(`--only: ${bad.join(', ')} not a headline rule (one of ${SWEEP_RULES.join(', ')})`);
        break;
      }
      case '--max-gib': o.maxGiB = positive(value(), a); break;
      case '--max-seconds': o.maxSeconds = positive(value(), a); break;
      case '--out': o.out = value().replace(/\.(json|svg)$/, ''); break;
      case '--no-peers': o.peers = false; break;
      case '--samples': o.samples = parseNumberList(value(), a)[0]; break;
      case '--seed': {
        const v = Number(value());
        if (!Number.isInteger(v)) throw new Error('--seed must be an integer');
        o.seed = v;
        break;
      }
      case '--python': o.python = value(); break;
      case '--peer-threads': o.peerThreads = parseNumberList(value(), a)[0]; break;
      case '--from': o.from = value(); break;
      case '--help': case '-h': o.help = true; break;
      default: throw new Error(`--sweep: unknown flag "${a}" (npm run bench -- --sweep --help)`);
    }
  }
  return o;
}

/**
 * The cells to run and the ones the memory cap leaves out. Pure.
 * Order: smallest n·d first; at equal n·d the larger d (smaller n) first.
 */
export function planSweep(o) {
  const cap = o.maxGiB * 1024 ** 3;
  const cells = [];
  const skippedMemory = [];
  for (const n of [...new Set(o.n)]) {
    for (const d of [...new Set(o.d)]) {
      const bytes = n * d * 4;
      if (bytes > cap) skippedMemory.push({ n, d, gib: bytes / 1024 ** 3 });
      else cells.push({ n, d, gib: bytes / 1024 ** 3 });
    }
  }
  cells.sort((x, y) => x.n * x.d - y.n * y.d || y.d - x.d);
  skippedMemory.sort((x, y) => x.n * x.d - y.n * y.d || y.d - x.d);
  return { cells, skippedMemory, rules: o.only ?? [...SWEEP_RULES] };
}

/** Solves the small dense system A x = y (Gaussian elimination, partial pivoting); null if singular. */
function solve(A, y) {
  const m = A.length;
  const M = A.map((row, i) => [...row, y[i]]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const k = M[r][c] / M[c][c];
      for (let j = c; j <= m; j++) M[r][j] -= k * M[c][j];
    }
  }
  return M.map((row, i) => row[m] / row[i]);
}

/**
 * Least-squares fit of log t = log c + a·log n + b·log d over timed points {n, d, ms}. An exponent
 * is fitted only when its variable takes two values or more (else it is null and the fit is over
 * the other one). Pure.
 * @returns {{ a: number | null, b: number | null, c: number, points: number, rmsLog10: number } | null}
 *   null when there are fewer points than parameters; c in ms; rmsLog10 the residual in decades
 */
export function fitExponents(points) {
  const pts = points.filter((p) => p.ms > 0 && Number.isFinite(p.ms));
  const useN = new Set(pts.map((p) => p.n)).size >= 2;
  const useD = new Set(pts.map((p) => p.d)).size >= 2;
  const cols = (p) => [1, ...(useN ? [Math.log(p.n)] : []), ...(useD ? [Math.log(p.d)] : [])];
  const k = 1 + (useN ? 1 : 0) + (useD ? 1 : 0);
  if (pts.length < k || k === 1) return null;
  const A = Array.from({ length: k }, () => new Array(k).fill(0));
  const y = new Array(k).fill(0);
  for (const p of pts) {
    const x = cols(p);
    const t = Math.log(p.ms);
    for (let i = 0; i < k; i++) {
      y[i] += x[i] * t;
      for (let j = 0; j < k; j++) A[i][j] += x[i] * x[j];
    }
  }
  const beta = solve(A, y);
  if (!beta) return null;
  let ss = 0;
  for (const p of pts) {
    const x = cols(p);
    let f = 0;
    for (let i = 0; i < k; i++) f += beta[i] * x[i];
    ss += (Math.log(p.ms) - f) ** 2;
  }
  let i = 1;
  const a = useN ? beta[i++] : null;
  const b = useD ? beta[i++] : null;
  return { a, b, c: Math.exp(beta[0]), points: pts.length, rmsLog10: Math.sqrt(ss / pts.length) / Math.LN10 };
}

/**
 * Predicted time (ms) of a call at (n, d) from the timed points of the same rule and
 * implementation. Every largest timed cell below (n' ≤ n, d' ≤ d, no other timed cell between it
 * and (n, d)) predicts t' · (n/n')^a · (d/d')^b, with each exponent the larger of the cost model's
 * (`nominal`) and the one fitted on the points (a growth measured steeper than the model is used,
 * one flattened by fixed costs at small sizes is not); the prediction is the smallest of these, so
 * a call is skipped only when every nearest smaller cell puts it above the cap. Null when no
 * smaller cell was timed. Pure.
 */
export function predictMs(points, nominal, n, d) {
  const below = points.filter((p) => p.n <= n && p.d <= d && p.ms > 0);
  if (below.length === 0) return null;
  const nearest = below.filter((p) => !below.some((q) => q !== p && q.n >= p.n && q.d >= p.d && (q.n > p.n || q.d > p.d)));
  const fit = fitExponents(points);
  const a = Math.max(nominal.a, fit?.a ?? 0);
  const b = Math.max(nominal.b, fit?.b ?? 0);
  return Math.min(...nearest.map((p) => p.ms * (n / p.n) ** a * (d / p.d) ** b));
}

/**
 * Cells where the fast kernels took longer than the plain ones (median against median). Each says
 * the ratio and whether the gap is within the larger of the two cells' dispersions (MAD). Pure.
 */
export function fastSlowerThanPlain(records) {
  const timed = records.filter((r) => !r.error && r.medianMs > 0);
  const plain = new Map(timed.filter((r) => r.impl === 'ts').map((r) => [`${r.rule}|${r.n}|${r.d}`, r]));
  const out = [];
  for (const f of timed.filter((r) => r.impl === 'fast')) {
    const p = plain.get(`${f.rule}|${f.n}|${f.d}`);
    if (!p || f.medianMs <= p.medianMs) continue;
    const noise = Math.max(f.madMs ?? 0, p.madMs ?? 0);
    out.push({
      rule: f.rule, n: f.n, d: f.d, fastMs: f.medianMs, plainMs: p.medianMs, ratio: f.medianMs / p.medianMs,
      withinNoise: f.medianMs - p.medianMs <= noise,
    });
  }
  return out;
}

/** The record of the fastest peer per (rule, n, d), as impl 'peer' with `peerLib`. Pure. */
export function fastestPeerRecords(records) {
  const best = new Map();
  for (const r of records) {
    if (r.impl !== 'numpy' && r.impl !== 'torch') continue;
    if (r.error || !(r.medianMs > 0)) continue;
    const k = `${r.rule}|${r.n}|${r.d}`;
    if (!best.has(k) || r.medianMs < best.get(k).medianMs) best.set(k, r);
  }
  return [...best.values()].map((r) => ({ ...r, impl: 'peer', peerLib: r.impl }));
}

const costOfRule = (rule) => RULES.find((e) => e.name === rule)?.cost ?? 'nd';

/**
 * Per rule: the cost model, the fitted exponents per series (over every timed cell, and over the
 * cells with d ≥ `largeD` where the fixed costs matter less) and the fast > plain cells. Pure.
 */
export function summarize(records, rules, { largeD = 1e5 } = {}) {
  const series = [...records.filter((r) => r.impl === 'fast' || r.impl === 'ts'), ...fastestPeerRecords(records)];
  const violations = fastSlowerThanPlain(records);
  const out = {};
  for (const rule of rules) {
    const cost = costOfRule(rule);
    const fits = {};
    const fitsLarge = {};
    for (const s of SERIES) {
      const pts = series.filter((r) => r.rule === rule && r.impl === s && !r.error && r.medianMs > 0).map((r) => ({ n: r.n, d: r.d, ms: r.medianMs }));
      fits[s] = fitExponents(pts);
      fitsLarge[s] = fitExponents(pts.filter((p) => p.d >= largeD));
    }
    out[rule] = { cost, nominal: NOMINAL[cost], fits, fitsLarge, largeD, violations: violations.filter((v) => v.rule === rule) };
  }
  return out;
}

const fx = (x) => (x === null || x === undefined ? '—' : x.toFixed(2));

/** The text summary printed at the end (and in the log). */
export function textSummary(summary) {
  const lines = [];
  const w = Math.max(...Object.keys(summary).map((r) => r.length), 4);
  lines.push(`${'rule'.padEnd(w)}  model   fitted a (n), b (d) of t ~ n^a d^b: all cells | d >= ${formatD(Object.values(summary)[0]?.largeD ?? 1e5)}`);
  for (const [rule, s] of Object.entries(summary)) {
    const model = s.cost === 'n2d' ? 'n^2 d' : s.cost === 'nd' ? 'n d' : s.cost;
    const part = (impl) => {
      const f = s.fits[impl];
      const g = s.fitsLarge[impl];
      const name = impl === 'ts' ? 'plain' : impl;
      return `${name} ${fx(f?.a)}, ${fx(f?.b)} | ${fx(g?.a)}, ${fx(g?.b)}`;
    };
    lines.push(`${rule.padEnd(w)}  ${model.padEnd(6)}  ${SERIES.map(part).join('   ')}`);
  }
  const v = Object.values(summary).flatMap((s) => s.violations);
  lines.push('');
  if (v.length === 0) lines.push('fast <= plain at every size measured with both');
  else {
    lines.push(`fast > plain (${v.length} cell${v.length > 1 ? 's' : ''}):`);
    for (const x of v) {
      lines.push(`  ${x.rule} n=${x.n} d=${formatD(x.d)}: fast ${formatMs(x.fastMs)} > plain ${formatMs(x.plainMs)} (${x.ratio.toFixed(2)}×${x.withinNoise ? ', within the dispersion' : ''})`);
    }
  }
  return lines.join('\n');
}

/** Runs the sweep. argv: the bench's arguments (may include --sweep). */
export async function runSweep(argv) {
  const o = parseSweepArgs(argv);
  if (o.help) {
    process.stdout.write(SWEEP_HELP);
    return;
  }
  const log = (s) => process.stderr.write(`${s}\n`);
  if (o.from) {
    const file = resolve(process.cwd(), o.from);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    saved.summary = summarize(saved.records, saved.rules);
    saved.fastestPeer = fastestPeerRecords(saved.records);
    writeFileSync(file, `${JSON.stringify(saved, null, 1)}\n`);
    const m = saved.machine;
    const subtitle = `${m.cpu}, ${m.cores} cores, Node ${m.node}; load ${m.loadavgStart.map((x) => x.toFixed(1)).join(' ')}`;
    writeFileSync(file.replace(/\.json$/, '.svg'), renderSweepSvg(saved.records, { rules: saved.rules, summary: saved.summary, subtitle, partial: saved.partial }));
    console.log(textSummary(saved.summary));
    return;
  }
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const plan = planSweep(o);
  const outBase = resolve(process.cwd(), o.out);
  mkdirSync(dirname(outBase), { recursive: true });

  // A private snapshot of dist/, as the harness takes (bench/run.mjs): a rebuild meanwhile cannot
  // pull modules from under the run.
  const snapDir = join(ROOT, 'node_modules', '.cache', 'robust-agg-bench', `sweep-${process.pid}`);
  rmSync(snapDir, { recursive: true, force: true });
  cpSync(join(ROOT, 'dist'), snapDir, { recursive: true });
  writeFileSync(join(snapDir, 'package.json'), '{ "type": "module" }\n');
  const tmp = mkdtempSync(join(tmpdir(), 'robust-agg-sweep-'));
  const cleanup = () => {
    rmSync(snapDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  let lib;
  try {
    lib = await import(pathToFileURL(join(snapDir, 'index.js')).href);
    const entries = plan.rules.map((name) => RULES.find((e) => e.name === name)).filter((e) => e && e.needs.every((x) => typeof lib[x] === 'function'));
    const { backends, messages } = await resolveBackends(lib, ['fast', 'ts']);
    for (const m of messages) log(`sweep: ${m}`);

    // peers
    let peerGroups = [];
    let peerEnv = null;
    const peerInfo = [];
    if (o.peers) {
      peerEnv = peerEnvironment(process.env, o.peerThreads);
      const candidates = o.python ? [o.python] : ['python3', '/usr/bin/python3'];
      const found = await detectPeers(candidates, peerEnv.env);
      peerGroups = found.groups;
      if (found.message) log(`sweep: ${found.message}`);
    }
    const libsByRule = {};
    for (const e of entries) {
      const libs = peerGroups.flatMap((g) => g.libs).filter((l) => PEER_RULES[l]?.includes(e.name));
      if (libs.length) libsByRule[e.name] = libs;
    }

    const started = new Date();
    const load0 = loadavg();
    const records = [];
    const skippedTime = [];
    const points = new Map(); // `${impl}|${rule}` → [{ n, d, ms }]
    const pointsOf = (impl, rule) => points.get(`${impl}|${rule}`) ?? [];
    const addPoint = (impl, rule, n, d, ms) => {
      if (!points.has(`${impl}|${rule}`)) points.set(`${impl}|${rule}`, []);
      points.get(`${impl}|${rule}`).push({ n, d, ms });
    };
    const command = `npm run bench -- ${argv.join(' ')}`;
    const write = (partial) => {
      const summary = summarize(records, plan.rules);
      const machine = { ...machineInfo(), loadavgStart: load0, loadavgEnd: loadavg() };
      const result = {
        kind: 'sweep', partial, command, started: started.toISOString(), finished: partial ? null : new Date().toISOString(),
        machine, grid: { n: o.n, d: o.d }, maxGiB: o.maxGiB, maxSeconds: o.maxSeconds, sampling: { ...SWEEP_SAMPLING, minSamples: o.samples },
        rules: plan.rules, skippedMemory: plan.skippedMemory, skippedTime, peers: peerInfo, records,
        fastestPeer: fastestPeerRecords(records), summary,
      };
      writeFileSync(`${outBase}.json`, `${JSON.stringify(result, null, 1)}\n`);
      const subtitle = `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load ${load0.map((x) => x.toFixed(1)).join(' ')}`;
      writeFileSync(`${outBase}.svg`, renderSweepSvg(records, { rules: plan.rules, summary, subtitle, partial }));
      return summary;
    };

    for (const c of plan.skippedMemory) log(`sweep: n=${c.n} d=${formatD(c.d)} not run: its data is ${c.gib.toFixed(2)} GiB > --max-gib ${o.maxGiB}`);
    const maxCallMs = o.maxSeconds * 1e3;
    // Untimed warm-up of every rule on every backend on a small matrix, so that the JIT has
    // compiled the plain kernels before the first (smallest) cell is timed: a cell's own warm-up
    // is WARMUP_MS, too short for a cold plain kernel, and a cold first cell would flatten the
    // fitted slopes.
    {
      const wn = Math.min(10, Math.min(...o.n));
      const w = generateMatrix(wn, 4096, o.seed + 1);
      const wctx = cellContext(w.rows, w.reference, wn, 4096, o.seed);
      for (const backend of backends) {
        await backend.activate();
        for (const entry of entries) {
          try {
            const fn = entry.make(lib, wctx, entry);
            const t = performance.now();
            while (performance.now() - t < 150) await fn();
          } catch {
            // the timed cell reports it
          }
        }
      }
      log('sweep: warmed up every rule on every backend (n=' + wn + ', d=4096, 150 ms each, untimed)');
    }
    const sampling = { minSamples: o.samples, maxCellMs: SWEEP_SAMPLING.maxCellMs };
    for (const cell of plan.cells) {
      const { n, d } = cell;
      const tGen = performance.now();
      let { rows, reference } = generateMatrix(n, d, o.seed);
      log(`sweep: n=${n} d=${formatD(d)} (${cell.gib.toFixed(2)} GiB) drawn in ${formatMs(performance.now() - tGen)}`);
      const ctx = cellContext(rows, reference, n, d, o.seed);
      const budgetMs = budgetFor(d, SWEEP_SAMPLING.budgetMs);
      for (const backend of backends) {
        await backend.activate();
        for (const entry of entries) {
          const f = entry.fMax ? Math.max(0, Math.min(declaredF(n), entry.fMax(n))) : declaredF(n);
          const rec = { rule: entry.name, group: entry.group, cost: entry.cost, impl: backend.name, n, d, f };
          const predicted = predictMs(pointsOf(backend.name, entry.name), NOMINAL[entry.cost], n, d);
          if (predicted !== null && predicted > maxCallMs) {
            rec.error = `skipped: predicted ${formatMs(predicted)} > ${formatMs(maxCallMs)} per call`;
            rec.predictedMs = predicted;
            skippedTime.push({ rule: entry.name, impl: backend.name, n, d, predictedMs: predicted });
          } else {
            try {
              const fn = entry.make(lib, ctx, entry);
              gc();
              Object.assign(rec, await timeCell(fn, planCell(predicted, { budgetMs, ...sampling })));
              addPoint(backend.name, entry.name, n, d, rec.medianMs);
            } catch (e) {
              rec.error = (e?.message ?? String(e)).split('\n')[0];
              if (e?.code) rec.errorCode = e.code;
            }
          }
          records.push(rec);
          log(`  ${entry.name.padEnd(16)} ${backend.name.padEnd(5)} ${rec.error ? rec.error : `${formatMs(rec.medianMs)} (${rec.samples} calls)`}`);
        }
      }
      // the peers read the same rows from a file; the library's copy is dropped first
      const keep = peerGroups.length ? fastestPeers(records, libsByRule).keep : {};
      const wanted = Object.entries(keep).filter(([, libs]) => libs.length > 0);
      if (wanted.length > 0) {
        const file = join(tmp, `x-${n}-${d}.f32`);
        writeMatrix(file, rows, reference);
        rows = null;
        reference = null;
        ctx.rows = null;
        ctx.honest = null;
        gc();
        for (const g of peerGroups) {
          const rulesByLib = {};
          const predicted = {};
          for (const l of g.libs) {
            rulesByLib[l] = wanted.filter(([, libs]) => libs.includes(l)).map(([r]) => r);
            for (const r of rulesByLib[l]) {
              const p = predictMs(pointsOf(l, r), NOMINAL[costOfRule(r)], n, d);
              if (p !== null) predicted[`${l}|${r}|${n}`] = { ms: p, fromRun: true };
            }
          }
          const rules = [...new Set(Object.values(rulesByLib).flat())];
          if (rules.length === 0) continue;
          try {
            const out = await runPeerGroup(g, {
              file, nMax: n, d, ns: [n], fs: { [n]: declaredF(n) }, rules, rulesByLib,
              costs: Object.fromEntries(rules.map((r) => [r, costOfRule(r)])),
              budgets_ms: { [n]: budgetMs }, maxCallMs, minSamples: o.samples, maxCellMs: SWEEP_SAMPLING.maxCellMs,
              predicted, threads: o.peerThreads,
            }, peerEnv.env);
            if (out.info && !peerInfo.some((x) => JSON.stringify(x) === JSON.stringify(out.info))) peerInfo.push(out.info);
            for (const r of out.records) {
              const rec = { rule: r.rule, group: 'aggregator', cost: costOfRule(r.rule), impl: r.impl, n: r.n, d: r.d, f: r.f };
              if (r.error) rec.error = r.error;
              else {
                for (const k of ['medianMs', 'madMs', 'minMs', 'maxMs', 'meanMs', 'samples', 'fewSamples', 'warmup']) if (r[k] !== undefined) rec[k] = r[k];
                addPoint(r.impl, r.rule, n, d, r.medianMs);
              }
              if (rec.error?.startsWith('skipped')) skippedTime.push({ rule: r.rule, impl: r.impl, n, d });
              records.push(rec);
              log(`  ${r.rule.padEnd(16)} ${r.impl.padEnd(5)} ${rec.error ? rec.error : `${formatMs(rec.medianMs)} (${rec.samples} calls)`}`);
            }
          } catch (e) {
            log(`sweep: peers (${g.libs.join(', ')}) at n=${n} d=${formatD(d)} failed: ${e.message}`);
          }
        }
        rmSync(file, { force: true });
      }
      rows = null;
      reference = null;
      gc();
      write(true);
    }
    const summary = write(false);
    console.log(textSummary(summary));
    console.log(`\nwrote ${outBase}.json and ${outBase}.svg`);
  } finally {
    cleanup();
  }
}
