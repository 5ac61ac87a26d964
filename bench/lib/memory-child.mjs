// Child process of bench/lib/memory.mjs: one rule, one backend, the largest (n, d) of the run.
// Prints one JSON line: the memory measurement and the cell's timing.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolveBackends } from './backends.mjs';
import { cellContext, readMatrix } from './data.mjs';
import { RULES, resultBytes } from './rules.mjs';
import { planCell, timeCell } from './timing.mjs';

const args = JSON.parse(process.argv[2]);
const lib = await import(args.libUrl ?? new URL('../../dist/index.js', import.meta.url).href);

function statusKiB(field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const gc = globalThis.gc ?? (() => {});
const report = { rule: args.rule, impl: args.backend, n: args.n, d: args.d };
try {
  const entry = RULES.find((e) => e.name === args.rule);
  const { backends } = await resolveBackends(lib, [args.backend === 'default' ? 'ts' : args.backend]);
  const backend = backends.find((b) => b.name === args.backend);
  if (!backend) throw new Error(`backend ${args.backend} unavailable in the child`);
  await backend.activate();
  const { rows, reference } = readMatrix(args.file, args.n, args.d, args.nMax);

  // warm-up on a slice: JIT and any pool start-up stay out of the measurement
  const w = Math.min(1024, args.d);
  const small = cellContext(rows.map((r) => r.subarray(0, w)), reference.subarray(0, w), args.n, w, args.seed);
  await entry.make(lib, small, entry)();

  const ctx = cellContext(rows, reference, args.n, args.d, args.seed);
  const fn = entry.make(lib, ctx, entry);
  gc();
  gc();
  const before = process.memoryUsage();
  const reset = resetPeak();
  const hwmBefore = statusKiB('VmHWM');
  const t0 = performance.now();
  let result = await fn();
  const firstMs = performance.now() - t0;
  const after = process.memoryUsage();
  const hwmAfter = statusKiB('VmHWM');
  let peak;
  let method;
  if (reset && hwmAfter !== null) {
    peak = hwmAfter * 1024;
    method = 'VmHWM after clear_refs';
  } else {
    peak = process.resourceUsage().maxRSS * 1024;
    method = 'getrusage maxRSS (lifetime peak: growth is a lower bound)';
  }
  report.peakRssGrowthBytes = Math.max(0, peak - before.rss);
  report.heapGrowthBytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  report.outputBytes = resultBytes(result);
  report.method = method;
  report.hwmBeforeKiB = hwmBefore;
  result = null;

  // the measured call is the first timed one (after the warm-up on a slice); the cell goes on under
  // the same sampling rule as every other
  gc();
  const plan = { ...planCell(firstMs, { budgetMs: args.budgetMs, minSamples: args.minSamples, maxCellMs: args.maxCellMs }), warmup: false };
  report.timing = await timeCell(fn, plan, { first: [firstMs] });
} catch (e) {
  report.error = e?.message?.split('\n')[0] ?? String(e);
  if (e?.code) report.errorCode = e.code;
}
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
