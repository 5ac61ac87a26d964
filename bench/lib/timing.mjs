// Timing of one (rule, backend, n, d) cell with tinybench, under a time budget.
//
// tinybench (sequential mode) keeps iterating until BOTH `iterations` and `time` are reached, so
// with iterations = 1 and time = budget a fast call is repeated until the budget is spent (many
// samples, median and spread meaningful) while a call slower than the budget runs exactly once.
// The warm-up (one call, untimed) runs only when the predicted time fits the budget: the grid goes
// from small to large sizes, so the kernels are already compiled by the JIT when a slow cell comes.
import { Bench } from 'tinybench';

/** Per-cell budget in ms: `base` at d ≥ 1e6, a third at d = 1e5, a sixth at d ≤ 1e4. */
export function budgetFor(d, base) {
  if (d >= 1e6) return base;
  if (d >= 1e5) return base / 3;
  return base / 6;
}

/**
 * Plan for one cell from a predicted duration (ms, or null when unknown).
 * @returns {{ warmup: boolean, iterations: number, time: number }}
 */
export function planCell(predictedMs, budgetMs) {
  const slow = predictedMs !== null && predictedMs > budgetMs;
  return { warmup: !slow, iterations: 1, time: slow ? 0 : budgetMs };
}

const AsyncFunction = (async () => {}).constructor;

/**
 * Times `fn` under the plan. Returns the statistics the report uses, in ms. Throws what fn throws.
 *
 * `fn` is either synchronous or declared `async` (never a plain function returning a promise):
 * tinybench is told which, because otherwise it calls fn once more, untimed, to find out — a whole
 * extra call per cell, which doubled the cost of the slowest cells of the grid.
 */
export async function timeCell(fn, plan) {
  const bench = new Bench({
    iterations: plan.iterations,
    time: plan.time,
    warmup: plan.warmup,
    warmupIterations: 1,
    warmupTime: 0,
    throws: true,
  });
  bench.add('cell', fn, { async: fn instanceof AsyncFunction });
  await bench.run();
  const task = bench.tasks[0];
  const r = task.result;
  if (r.state !== 'completed') {
    throw r.error ?? new Error(`tinybench: task ${r.state}`);
  }
  const l = r.latency;
  return {
    medianMs: l.p50,
    madMs: l.mad,
    minMs: l.min,
    maxMs: l.max,
    meanMs: l.mean,
    rmePct: Number.isFinite(l.rme) ? l.rme : null,
    samples: l.samplesCount,
    warmup: plan.warmup,
  };
}
