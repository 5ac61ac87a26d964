// The timing process of `npm run bench`: bench/run.mjs forks it and talks to it over IPC. It loads
// the library snapshot, draws the data one d at a time, times every cell it is given and sends each
// record as soon as the cell is done. The main process stays free meanwhile: it draws the progress
// bar, runs the Python peers and the memory children between groups, and on Ctrl-C kills this
// process (a call into the library can run for seconds and cannot be interrupted from inside) and
// writes what it has received.
//
// Messages to the main process:
//   { type: 'floor', floor }                       measured here when the main process had no cache
//   { type: 'start', id, label }                   a task (data drawing, a cell) begins
//   { type: 'gen', id, d, ms, values }             the matrix of one d is drawn (and written)
//   { type: 'record', id, rec }                    a cell is done (timed, refused, skipped or failed)
//   { type: 'status', backend, status }            kernelStatus() after a backend's block
//   { type: 'block', n, d, backend, count }        a (n, d, backend) block is done
//   { type: 'group-done', d }                      every cell of one d is done; waits for 'next'
//   { type: 'done' } | { type: 'fatal', error }
// From the main process: { type: 'config', config } once, then { type: 'next' } after each group.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolveBackends } from './backends.mjs';
import { cellContext, declaredF, generateMatrix, writeMatrix } from './data.mjs';
import { loadFloor } from './floor.mjs';
import { formatD, formatMs } from './report.mjs';
import { RULES, cellId, costScale } from './rules.mjs';
import { TENSOR_RULES, toTensor } from './tfjs.mjs';
import { budgetFor, planCell, timeCell } from './timing.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
// Resolves once the message is written to the channel: a record must be out before the next
// (possibly long, uninterruptible) call starts, or a Ctrl-C during that call would lose it.
const send = (m) =>
  new Promise((res) => {
    if (!process.connected) return res();
    try {
      process.send(m, undefined, {}, () => res());
    } catch {
      res();
    }
  });
// Test hook (test/bench/harness.test.ts): after this many records, stall in a synchronous loop, as a
// long call into the library does, so that the test can check that Ctrl-C still stops the run.
const STALL_AFTER = Number(process.env.ROBUST_AGG_BENCH_STALL_AFTER ?? 0);
let recordsSent = 0;
function stallForTest() {
  process.stderr.write(`bench-test: timing process ${process.pid} stalls in a synchronous call\n`);
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    // busy, like a long kernel call
  }
}
// the main process is gone (it was interrupted, or crashed): nothing to report to
process.on('disconnect', () => process.exit(0));

let resume = null;
process.on('message', (m) => {
  if (m?.type === 'config') {
    run(m.config).catch(async (e) => {
      await send({ type: 'fatal', error: (e?.stack ?? String(e)).split('\n').slice(0, 3).join(' / ') });
      process.exit(1);
    });
  } else if (m?.type === 'next') {
    const r = resume;
    resume = null;
    r?.();
  }
});

async function run(cfg) {
  const lib = await import(cfg.libUrl);
  if (cfg.measureFloor) {
    send({ type: 'start', id: 'floor', label: 'measuring the floor (bandwidth, arithmetic peak)' });
    const floor = await loadFloor({ refresh: cfg.refreshFloor });
    send({ type: 'floor', floor });
  }
  const { backends } = await resolveBackends(lib, cfg.backendNames);
  const byName = new Map(backends.map((b) => [b.name, b]));
  const entries = new Map(RULES.map((e) => [e.name, e]));
  const last = new Map(); // `${backend}|${rule}` → { n, d, ms } of the last timed cell
  const predictFromRun = (key, entry, n, d) => {
    const p = last.get(key);
    if (!p) return null;
    return (p.ms * costScale(entry.cost, n, d)) / costScale(entry.cost, p.n, p.d);
  };

  for (const group of cfg.groups) {
    const d = group.d;
    const genId = `gen|${d}`;
    send({ type: 'start', id: genId, label: `drawing ${group.nMax} × ${formatD(d)} updates` });
    const tGen = performance.now();
    let { rows: allRows, reference } = generateMatrix(group.nMax, d, cfg.seed);
    if (group.file) writeMatrix(group.file, allRows, reference);
    send({ type: 'gen', id: genId, d, ms: performance.now() - tGen, values: (group.nMax + 1) * d });
    const budget = budgetFor(d, cfg.budgetMs);
    for (const cell of group.cells) {
      const n = cell.n;
      const ctx = cellContext(allRows, reference, n, d, cfg.seed);
      for (const [backendName, ruleNames] of Object.entries(cell.byBackend)) {
        const backend = byName.get(backendName);
        if (!backend) continue;
        await backend.activate();
        let X = null;
        if (backend.kind === 'tfjs') X = toTensor(backend.tf, ctx.rows);
        let count = 0;
        for (const name of ruleNames) {
          const entry = entries.get(name);
          const id = cellId(backendName, name, n, d);
          const label = `${name} · ${backendName} · n=${n} d=${formatD(d)}`;
          send({ type: 'start', id, label });
          const f = entry.fMax ? Math.max(0, Math.min(declaredF(n), entry.fMax(n))) : declaredF(n);
          const rec = {
            rule: name, group: entry.group, cost: entry.cost, impl: backendName, n, d, f, note: entry.note ?? null,
          };
          const key = `${backendName}|${name}`;
          const fromRun = predictFromRun(key, entry, n, d);
          // the skip is decided on this run's own timings only; a saved run only decides the warm-up
          const predicted = fromRun ?? cfg.prior?.[id] ?? null;
          const tCell = performance.now();
          try {
            if (fromRun !== null && fromRun > cfg.maxCallMs) {
              throw new Error(`skipped: predicted ${formatMs(fromRun)} > ${formatMs(cfg.maxCallMs)} per call`);
            }
            const fn = backend.kind === 'tfjs'
              ? TENSOR_RULES[name](backend.tf, X, { n, f })
              : entry.make(lib, ctx, entry);
            gc();
            Object.assign(rec, await timeCell(fn, planCell(predicted, { budgetMs: budget, minSamples: cfg.minSamples, maxCellMs: cfg.maxCellMs })));
            last.set(key, { n, d, ms: rec.medianMs });
          } catch (e) {
            rec.error = (e?.message ?? String(e)).split('\n')[0];
            if (e?.code) rec.errorCode = e.code;
          }
          rec.cellWallMs = performance.now() - tCell; // timing + warm-up + set-up + gc: where a run's time goes
          await send({ type: 'record', id, rec });
          count++;
          recordsSent++;
          if (STALL_AFTER > 0 && recordsSent >= STALL_AFTER) stallForTest();
        }
        X?.dispose();
        if (backend.kind === 'lib' && typeof lib.kernelStatus === 'function') {
          try {
            send({ type: 'status', backend: backendName, status: { ...lib.kernelStatus() } });
          } catch {
            // informative only
          }
        }
        send({ type: 'block', n, d, backend: backendName, count });
      }
    }
    allRows = null;
    reference = null;
    gc();
    send({ type: 'group-done', d });
    await new Promise((r) => {
      resume = r;
    });
  }
  await send({ type: 'done' });
}
