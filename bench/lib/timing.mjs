// Timing of one (rule, backend, n, d) cell: at least `minSamples` timed calls, more while the
// cell's budget lasts, and fewer only when one call is slow.
//
// The rule, in full (the Python peers follow the same one, bench/peers/reference.py):
//   - untimed warm-up calls first (at least one, and for WARMUP_MS, so that a call of microseconds
//     is JIT-compiled before it is timed), unless the call is predicted slow (the grid runs from
//     small to large sizes, so the JIT is already warm when a slow cell comes);
//   - then timed calls until there are at least `minSamples` and `budgetMs` is spent;
//   - a cell never starts a call that would take it past `maxCellMs` once the calls are slow, i.e.
//     once the median call so far exceeds maxCellMs / minSamples (the "slow-call threshold"):
//     such a cell keeps as many calls as fit in maxCellMs (at least one) and is marked
//     `fewSamples`, with the threshold it crossed;
//   - the dispersion (median absolute deviation) is reported only when it was measured, i.e. from
//     two calls up; one call has none (null, printed as a dash).

/** Per-cell budget in ms: `base` at d ≥ 1e6, a third at d = 1e5, a sixth at d ≤ 1e4. */
export function budgetFor(d, base) {
  if (d >= 1e6) return base;
  if (d >= 1e5) return base / 3;
  return base / 6;
}

/** Calls a cell never exceeds (a guard for very fast calls under a long budget). */
export const MAX_SAMPLES = 10_000;
/** Warm-up: untimed calls for at least this long (and at least one call). */
export const WARMUP_MS = 20;

/** The call time above which a cell may take fewer than `minSamples` calls. */
export function slowCallMs({ minSamples, maxCellMs }) {
  return maxCellMs / minSamples;
}

/**
 * Plan for one cell from a predicted call time (ms, or null when unknown).
 * @returns {{ warmup: boolean, minSamples: number, budgetMs: number, maxCellMs: number }}
 */
export function planCell(predictedMs, { budgetMs, minSamples, maxCellMs }) {
  const slow = predictedMs !== null && predictedMs > slowCallMs({ minSamples, maxCellMs });
  return { warmup: !slow, minSamples, budgetMs, maxCellMs };
}

/** Median of a sorted array. */
function medianSorted(s) {
  const m = s.length;
  return m % 2 ? s[(m - 1) / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
}

/**
 * Whether to take another call, given the calls so far (ms, in order) and the plan. Pure.
 */
export function wantMore(samples, plan) {
  const k = samples.length;
  if (k === 0) return true;
  if (k >= MAX_SAMPLES) return false;
  let spent = 0;
  for (const x of samples) spent += x;
  const typical = medianSorted([...samples].sort((a, b) => a - b));
  if (k >= plan.minSamples) return spent < plan.budgetMs && spent + typical <= plan.maxCellMs;
  // fewer than minSamples: stop only when the calls are slow and the next one would pass the cap
  const slow = typical > slowCallMs(plan);
  return !(slow && spent + typical > plan.maxCellMs);
}

/**
 * The statistics the report uses, in ms, from the timed calls. `madMs` is null for one call: a
 * dispersion that was not measured is never reported.
 */
export function sampleStats(samples, plan) {
  const s = [...samples].sort((a, b) => a - b);
  const k = s.length;
  const med = medianSorted(s);
  const mad = k >= 2 ? medianSorted(s.map((x) => Math.abs(x - med)).sort((a, b) => a - b)) : null;
  const out = {
    medianMs: med,
    madMs: mad,
    minMs: s[0],
    maxMs: s[k - 1],
    meanMs: s.reduce((a, x) => a + x, 0) / k,
    samples: k,
    samplesTarget: plan.minSamples,
    fewSamples: k < plan.minSamples,
    warmup: plan.warmup,
  };
  if (out.fewSamples) out.slowCallMs = slowCallMs(plan);
  return out;
}

const AsyncFunction = (async () => {}).constructor;

/**
 * Times `fn` under the plan and returns sampleStats. Throws what fn throws.
 *
 * `fn` is either synchronous or declared `async` (never a plain function returning a promise):
 * an async one is awaited inside the timed interval. `first` are calls already timed (a memory
 * child's measured call); `now` is the clock (a test passes a fake one).
 */
export async function timeCell(fn, plan, { first = [], now = () => performance.now() } = {}) {
  const isAsync = fn instanceof AsyncFunction;
  if (plan.warmup && first.length === 0) {
    const w0 = now();
    let calls = 0;
    while (calls < MAX_SAMPLES && (calls === 0 || now() - w0 < WARMUP_MS)) {
      if (isAsync) await fn();
      else fn();
      calls++;
    }
  }
  const samples = [...first];
  while (wantMore(samples, plan)) {
    const t = now();
    if (isAsync) await fn();
    else fn();
    samples.push(now() - t);
  }
  return sampleStats(samples, plan);
}
