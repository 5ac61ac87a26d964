// npm run bench — times every aggregator robust-agg exports (dist/, built by `prebench`) over a
// grid of n clients × d coordinates, on each backend, next to numpy / torch peers on the same
// matrices, against the machine's physical floor; measures memory at the largest size; prints
// the table and writes JSON + SVG (and docs/benchmarks.md with --write-docs).
// `npm run bench -- --help` lists the flags. The pieces live in bench/lib/.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import cliProgress from 'cli-progress';
import { resolveBackends } from './lib/backends.mjs';
import {
  FULL_BUDGET_MS,
  FULL_D,
  FULL_MAX_CALL_S,
  FULL_N,
  HELP,
  QUICK_BUDGET_MS,
  QUICK_D,
  QUICK_MAX_CALL_S,
  QUICK_N,
  parseArgs,
} from './lib/cli.mjs';
import { cellContext, declaredF, generateMatrix, writeMatrix } from './lib/data.mjs';
import { renderDocs } from './lib/docs.mjs';
import { floorMs, loadFloor, pctOfFloor } from './lib/floor.mjs';
import { estimateGrid } from './lib/estimate.mjs';
import { memoryVerdict, runMemoryChild } from './lib/memory.mjs';
import { PEER_RULES, detectPeers, peerEnvironment, runPeerGroup } from './lib/peers.mjs';
import {
  formatD,
  formatMs,
  machineInfo,
  recordNotes,
  textMemoryTable,
  textTable,
} from './lib/report.mjs';
import { RULES, costScale, selectRules } from './lib/rules.mjs';
import { renderSvg } from './lib/svg.mjs';
import { TENSOR_RULES, toTensor } from './lib/tfjs.mjs';
import { budgetFor, planCell, timeCell } from './lib/timing.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const t0 = performance.now();

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`bench: ${e.message}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const log = (s) => process.stderr.write(`${s}\n`);

// The library under test: a private snapshot of dist/ (built by `prebench`), so that a rebuild
// running meanwhile (a shared working tree, a watch mode) cannot pull modules from under the run or
// its child processes. It lives inside node_modules so that its bare imports still resolve.
const snapDir = join(ROOT, 'node_modules', '.cache', 'robust-agg-bench', `dist-${process.pid}`);
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
        log(`bench: cannot load dist/index.js (${e.message.split('\n')[0]}); run \`npm run build\` (npm run bench does it first)`);
        process.exit(2);
      }
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}
const { lib, url: libUrl } = await loadLibrary();
process.on('exit', () => rmSync(snapDir, { recursive: true, force: true }));

// ---------------------------------------------------------------- plan
const ns = [...(opts.n ?? (opts.quick ? QUICK_N : FULL_N))].sort((a, b) => a - b);
const ds = [...(opts.d ?? (opts.quick ? QUICK_D : FULL_D))].sort((a, b) => a - b);
const nMax = ns[ns.length - 1];
const dMax = ds[ds.length - 1];
const baseBudget = opts.budgetMs ?? (opts.quick ? QUICK_BUDGET_MS : FULL_BUDGET_MS);
const maxCallMs = (opts.maxCallS ?? (opts.quick ? QUICK_MAX_CALL_S : FULL_MAX_CALL_S)) * 1e3;

const { rules, missing, unknown } = selectRules(lib, opts.only, opts.skip);
const messages = [];
if (unknown.length > 0) messages.push(`--only: no rule named ${unknown.join(', ')} (known: ${RULES.map((e) => e.name).join(', ')})`);
if (missing.length > 0) messages.push(`not exported by dist/index.js yet, skipped: ${missing.join(', ')}`);
if (rules.length === 0) {
  for (const m of messages) log(`bench: ${m}`);
  log('bench: no rule to time');
  process.exit(2);
}

const { backends, messages: backendMessages } = await resolveBackends(lib, opts.backends);
messages.push(...backendMessages);
if (backends.length === 0) {
  for (const m of messages) log(`bench: ${m}`);
  log('bench: no backend to run');
  process.exit(2);
}
const tensorRules = rules.filter((e) => TENSOR_RULES[e.name]);
// Memory is measured at the largest size for the last library backend only: the fast kernels when
// present, the library's default. A child per rule and backend costs seconds (start-up and reading
// the largest matrix), and the plain kernels hold the same O(n² + d) scratch.
const libBackends = backends.filter((b) => b.kind === 'lib');
const memoryBackends = new Set(libBackends.slice(-1).map((b) => b.name));
// Attacks call the aggregators, whose backends the table already compares: they run on the last
// library backend only (the fast kernels when present).
const attackBackend = backends.filter((b) => b.kind === 'lib').slice(-1)[0]?.name;
const rulesOf = (b) =>
  b.kind === 'tfjs' ? tensorRules : rules.filter((e) => e.group !== 'attack' || b.name === attackBackend);

// peers
const peerEnv = peerEnvironment(process.env, opts.peerThreads);
let peerGroups = [];
let peerMessage = null;
const peerRules = [...new Set(rules.filter((e) => e.peer).map((e) => e.peer))];
const peerCosts = Object.fromEntries(rules.filter((e) => e.peer).map((e) => [e.peer, e.cost]));
if (opts.peers) {
  const candidates = opts.python ? [opts.python] : ['python3', '/usr/bin/python3'];
  const found = detectPeers(candidates, peerEnv.env);
  peerGroups = found.groups.map((g) => ({ ...g, info: null }));
  peerMessage = found.message;
  if (peerMessage) messages.push(`peers: ${peerMessage}`);
  if (peerGroups.length > 0 && peerEnv.removed.length > 0) {
    messages.push(`peers: unset ${peerEnv.removed.join(', ')} for the Python processes only (numpy's OpenBLAS picks its own kernels)`);
  }
  if (peerGroups.length > 0 && peerEnv.set.length > 0) {
    messages.push(`peers: ${peerEnv.set.join(', ')} and torch.set_num_threads(${opts.peerThreads}) (--peer-threads)`);
  }
  if (peerRules.length === 0) peerGroups = [];
} else {
  peerMessage = 'disabled with --no-peers';
}

log(`robust-agg bench: ${rules.length} rules × n ∈ {${ns.join(', ')}} × d ∈ {${ds.map(formatD).join(', ')}} on ${backends.map((b) => b.name).join(', ')}` +
  (peerGroups.length ? ` + peers ${peerGroups.flatMap((g) => g.libs).join(', ')}` : ''));
for (const m of messages) log(`  ${m}`);

// ---------------------------------------------------------------- floor
const floor = await loadFloor({ refresh: opts.refreshFloor });
log(`  floor: ${floor.bandwidthGBs.toFixed(1)} GB/s streaming read, ${floor.peakGmadds.toFixed(1)} G multiply-adds/s` +
  ` (${floor.cached ? 'cached; --refresh-floor to re-measure' : 'measured now'})`);
for (const nt of floor.notes) messages.push(`floor: ${nt}`);

// ---------------------------------------------------------------- progress
const peerTasks = peerGroups
  .flatMap((g) => g.libs)
  .reduce((s, l) => s + peerRules.filter((r) => PEER_RULES[l]?.includes(r)).length * ns.length * ds.length, 0);
const total = ns.length * ds.length * backends.reduce((s, b) => s + rulesOf(b).length, 0) + peerTasks;
const bar = opts.progress && process.stderr.isTTY
  ? new cliProgress.SingleBar(
    { format: '  {bar} {value}/{total} | {duration_formatted} | {task}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  )
  : null;
bar?.start(total, 0, { task: 'starting' });
const tick = (task) => bar?.increment(1, { task });
const say = (task) => bar?.update({ task });

// ---------------------------------------------------------------- run
const records = [];
const memory = [];
const overheads = { generateMs: 0, generatedValues: 0, childMs: 0, children: 0 };
const last = new Map(); // `${backend}|${rule}` → { n, d, ms } of the last timed cell, to predict the next
const tmp = mkdtempSync(join(tmpdir(), 'robust-agg-bench-'));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
process.on('SIGINT', () => {
  bar?.stop();
  cleanup();
  process.exit(130);
});

const baseRecord = (entry, impl, n, d, f) => ({
  rule: entry.name,
  group: entry.group,
  impl,
  n,
  d,
  f,
  note: entry.note ?? null,
});

function finish(rec, entry, stats) {
  Object.assign(rec, stats);
  rec.floorMs = floorMs({ n: rec.n, d: rec.d, cost: entry.cost }, floor);
  rec.floorPct = rec.error ? null : pctOfFloor(rec.floorMs, rec.medianMs);
  return rec;
}

function predict(key, entry, n, d) {
  const p = last.get(key);
  if (!p) return null;
  return (p.ms * costScale(entry.cost, n, d)) / costScale(entry.cost, p.n, p.d);
}

try {
  for (const d of ds) {
    say(`drawing ${nMax} × ${formatD(d)} updates`);
    const tGen = performance.now();
    const { rows: allRows, reference } = generateMatrix(nMax, d, opts.seed);
    overheads.generateMs += performance.now() - tGen;
    overheads.generatedValues += (nMax + 1) * d;
    const needFile = peerGroups.length > 0 || (opts.memory && d === dMax);
    const file = join(tmp, `d${d}.f32`);
    if (needFile) {
      say(`writing ${formatD(d)} matrix for peers / children`);
      writeMatrix(file, allRows, reference);
    }
    const budget = budgetFor(d, baseBudget);
    for (const n of ns) {
      const ctx = cellContext(allRows, reference, n, d, opts.seed);
      const memCell = opts.memory && n === nMax && d === dMax; // and the backend is in memoryBackends
      for (const backend of backends) {
        await backend.activate();
        let X = null;
        if (backend.kind === 'tfjs') X = toTensor(backend.tf, ctx.rows);
        for (const entry of rulesOf(backend)) {
          const label = `${entry.name} · ${backend.name} · n=${n} d=${formatD(d)}`;
          say(label);
          const key = `${backend.name}|${entry.name}`;
          const f = entry.fMax ? Math.max(0, Math.min(declaredF(n), entry.fMax(n))) : declaredF(n);
          const rec = baseRecord(entry, backend.name, n, d, f);
          const predicted = predict(key, entry, n, d);
          const tCell = performance.now();
          try {
            if (predicted !== null && predicted > maxCallMs) {
              throw new Error(`skipped: predicted ${formatMs(predicted)} > ${formatMs(maxCallMs)} per call`);
            }
            if (memCell && memoryBackends.has(backend.name)) {
              const tChild = performance.now();
              const child = await runMemoryChild({
                rule: entry.name, backend: backend.name, n, d, nMax, file, budgetMs: budget, seed: opts.seed, libUrl,
              });
              overheads.childMs += performance.now() - tChild - (child.timing ? child.timing.medianMs * child.timing.samples : 0);
              overheads.children += 1;
              if (child.error) throw Object.assign(new Error(child.error), { code: child.errorCode });
              memory.push({
                rule: entry.name,
                impl: backend.name,
                n,
                d,
                peakRssGrowthBytes: child.peakRssGrowthBytes,
                heapGrowthBytes: child.heapGrowthBytes,
                outputBytes: child.outputBytes,
                method: child.method,
                ...memoryVerdict({ peakRssGrowthBytes: child.peakRssGrowthBytes, outputBytes: child.outputBytes, n, d }),
              });
              finish(rec, entry, { ...child.timing, timedIn: 'child process' });
            } else {
              const fn = backend.kind === 'tfjs'
                ? TENSOR_RULES[entry.name](backend.tf, X, { n, f })
                : entry.make(lib, ctx, entry);
              gc();
              finish(rec, entry, await timeCell(fn, planCell(predicted, budget)));
            }
            last.set(key, { n, d, ms: rec.medianMs });
          } catch (e) {
            rec.error = (e?.message ?? String(e)).split('\n')[0];
            if (e?.code) rec.errorCode = e.code;
            finish(rec, entry, {});
            if (memCell && memoryBackends.has(backend.name)) {
              memory.push({ rule: entry.name, impl: backend.name, n, d, error: rec.error, errorCode: rec.errorCode, ratioToInput: null });
            }
          }
          rec.cellWallMs = performance.now() - tCell; // timing + warm-up + set-up + gc: where a run's time goes
          records.push(rec);
          tick(label);
        }
        X?.dispose();
        if (backend.kind === 'lib' && typeof lib.kernelStatus === 'function') {
          try {
            backend.status = { ...lib.kernelStatus() };
          } catch {
            // informative only
          }
        }
        if (!bar && opts.progress) {
          log(`  n=${n} d=${formatD(d)} ${backend.name}: ${rulesOf(backend).length} rules timed (${formatMs(performance.now() - t0)} so far)`);
        }
      }
    }
    // peers on the same file, after robust-agg is done with this d
    for (const g of peerGroups) {
      const budgets = Object.fromEntries(ns.map((n) => [n, budget]));
      const fs = Object.fromEntries(ns.map((n) => [n, declaredF(n)]));
      say(`${g.libs.join(' + ')} peers · d=${formatD(d)}`);
      try {
        const out = await runPeerGroup(
          g,
          { file, nMax, d, ns, fs, rules: peerRules, costs: peerCosts, budgets_ms: budgets, maxCallMs, threads: opts.peerThreads },
          peerEnv.env,
          (r) => tick(`${r.rule} · ${r.impl} · n=${r.n} d=${formatD(d)}`),
        );
        g.info = out.info ?? g.info;
        if (!bar && opts.progress) log(`  d=${formatD(d)} ${g.libs.join(' + ')} peers: ${out.records.length} timings (${formatMs(performance.now() - t0)} so far)`);
        for (const r of out.records) {
          const entry = RULES.find((e) => e.peer === r.rule) ?? { cost: 'nd', group: 'aggregator' };
          const rec = { rule: r.rule, group: entry.group, impl: r.impl, n: r.n, d: r.d, f: r.f, note: r.note || null };
          if (r.error) rec.error = r.error;
          finish(rec, entry, r.error ? {} : {
            medianMs: r.medianMs, madMs: r.madMs, minMs: r.minMs, maxMs: r.maxMs, samples: r.samples, warmup: r.warmup,
          });
          records.push(rec);
        }
      } catch (e) {
        messages.push(`peers (${g.python}): ${e.message}`);
      }
    }
    if (needFile) rmSync(file, { force: true });
  }
} finally {
  bar?.stop();
  cleanup();
}

// ---------------------------------------------------------------- outputs
const wallMs = performance.now() - t0;
const chartN = opts.chartN ?? nMax;
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const gramRules = rules.filter((e) => e.cost === 'n2d').length;
// What the full grid would cost on this machine, extrapolated from this run (printed, and in the docs).
const costOf = (name) => (RULES.find((e) => e.name === name || e.peer === name)?.cost ?? 'nd');
const fullBudget = opts.budgetMs ?? FULL_BUDGET_MS;
const fullMaxCallMs = (opts.maxCallS ?? FULL_MAX_CALL_S) * 1e3;
const est = estimateGrid(records, costOf, { ns: FULL_N, ds: FULL_D, baseBudget: fullBudget, maxCallMs: fullMaxCallMs });
const genRate = overheads.generatedValues > 0 ? overheads.generateMs / overheads.generatedValues : 0;
const estGenMs = genRate * (Math.max(...FULL_N) + 1) * FULL_D.reduce((a, x) => a + x, 0);
// a child per rule (on one library backend) at the largest size: its start-up as measured here, plus reading
// the largest matrix (nominally 1 GB/s from the page cache)
const fullReadMs = (Math.max(...FULL_N) * Math.max(...FULL_D) * 4) / 1e6;
const childStartMs = overheads.children > 0 ? overheads.childMs / overheads.children : 1000;
const estChildMs = (opts.memory ? 1 : 0) * (childStartMs + fullReadMs) * rules.length * memoryBackends.size;
const estTotalMs = est.totalMs + estGenMs + estChildMs + (floor.cached ? 0 : 8000);
// extrapolating from tiny sizes (fixed per-call overheads) says nothing about the full grid
const estimateUsable = nMax * dMax >= 1e6;
const estimateText = !estimateUsable ? 'This run is too small to extrapolate the full grid from.' :
  `Extrapolated from this run to the full grid (n ∈ {${FULL_N.join(', ')}} × d ∈ {${FULL_D.map(formatD).join(', ')}}, ` +
  `budget ${formatMs(fullBudget)} at d = 1e6, calls predicted above ${formatMs(fullMaxCallMs)} skipped): ≈ ${formatMs(estTotalMs)} — ` +
  Object.entries(est.byImpl).map(([k, v]) => `${k} ${formatMs(v)}`).join(', ') +
  `, drawing the data ${formatMs(estGenMs)}, child processes ${formatMs(estChildMs)}` +
  (est.skipped.length ? `; it would skip ${est.skipped.length} cells (${est.skipped.slice(0, 6).join('; ')}${est.skipped.length > 6 ? '; …' : ''})` : '') +
  '. The model scales each rule\'s most expensive measured cell by n·d (n²d for Gram-based rules).';
const result = {
  schema: 1,
  createdAt: new Date().toISOString(),
  command,
  options: { quick: opts.quick, only: opts.only, skip: opts.skip, n: ns, d: ds, seed: opts.seed, peers: opts.peers, memory: opts.memory },
  machine: machineInfo(),
  backends: backends.map((b) => ({ name: b.name, kind: b.kind, label: b.label, ...(b.status ? { status: b.status } : {}) })),
  floor,
  budgets: {
    base: baseBudget,
    byD: Object.fromEntries(ds.map((d) => [d, budgetFor(d, baseBudget)])),
    maxCallMs,
    estimate:
      `This run: ${rules.length} rules (${gramRules} Gram-based) on ${backends.length} backend(s) and ` +
      `${ns.length * ds.length} sizes took ${formatMs(wallMs)}. ${estimateText}`,
    fullGridEstimateMs: estTotalMs,
  },
  peers: {
    groups: peerGroups.map((g) => ({ python: g.python, libs: g.libs, info: g.info })),
    message: peerMessage,
    envRemoved: peerGroups.length > 0 ? peerEnv.removed : [],
    envSet: peerGroups.length > 0 ? peerEnv.set : [],
  },
  messages,
  wallMs,
  chartN,
  records,
  memory,
};

console.log(textTable(records));
if (memory.length > 0) {
  console.log(`\nMemory at n=${nMax}, d=${formatD(dMax)} (one child process per rule):`);
  console.log(textMemoryTable(memory));
}
const notes = [...messages, ...recordNotes(records).filter((x) => /: (error|refused|skipped): /.test(x))];
if (notes.length > 0) console.log(`\n${notes.map((x) => `- ${x}`).join('\n')}`);

const outDir = resolve(ROOT, opts.out);
mkdirSync(outDir, { recursive: true });
const subtitle = `${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}${opts.quick ? ' · --quick' : ''}`;
const svg = renderSvg(records, { n: chartN, title: 'robust-agg: time per call', subtitle });
const json = `${JSON.stringify(result, null, 2)}\n`;
writeFileSync(join(outDir, 'last-run.json'), json);
writeFileSync(join(outDir, 'last-run.svg'), svg);
const written = [join(opts.out, 'last-run.json'), join(opts.out, 'last-run.svg')];
if (opts.writeDocs) {
  writeFileSync(join(outDir, 'benchmarks.json'), json);
  writeFileSync(join(outDir, 'benchmarks.svg'), svg);
  const rel = (f) => `../${join(opts.out, f).replace(/\\/g, '/')}`;
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), renderDocs(result, { svgPath: rel('benchmarks.svg'), jsonPath: rel('benchmarks.json') }));
  written.push(join(opts.out, 'benchmarks.json'), join(opts.out, 'benchmarks.svg'), 'docs/benchmarks.md');
}
console.log(`\n${formatMs(wallMs)} in all; wrote ${written.join(', ')}`);
const isFull = FULL_N.every((x) => ns.includes(x)) && FULL_D.every((x) => ds.includes(x));
if (!isFull && estimateUsable) console.log(estimateText);
