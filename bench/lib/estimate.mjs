// How long a run will take, before it starts and while it runs. Pure (no clock, no files): the
// harness gives it the plan, the reference timings and the clock readings.
//
// A cell's time is predicted from the nearest measured cell of the same implementation and rule
// (scaled by n·d, or n²d for Gram-based rules): first from this run's own records as they arrive,
// else from a saved run (bench/results/last-run.json of this machine, else the committed
// bench/results/benchmarks.json), corrected by how this run compares with it so far, else from the
// physical floor. The cell's wall time then follows the sampling rule of bench/lib/timing.mjs:
// warm-up + max(minSamples, budget) calls, or as many slow calls as fit the cell's cap, or nothing
// for a call above the per-call limit. Data drawing, child processes and peers are added per group.
import { floorMs } from './floor.mjs';
import { costScale } from './rules.mjs';
import { MAX_SAMPLES, WARMUP_MS, slowCallMs } from './timing.mjs';

/** Fixed cost of a cell beyond its calls (garbage collection, set-up, messages), ms. */
export const CELL_OVERHEAD_MS = 25;
/** Drawing the data, ms per generated float (Box–Muller in JS, one thread). */
export const GEN_MS_PER_VALUE = 5e-5;
/** Writing / reading the matrix file, ms per byte (page cache, ~1 GB/s). */
export const FILE_MS_PER_BYTE = 1e-6;
/** Start-up of a peer interpreter with its library (import torch is the slow one), ms. */
export const PEER_START_MS = { numpy: 1200, torch: 3500 };
/** Start-up of a memory child process (Node, the library, the warm-up on a slice), ms. */
export const CHILD_START_MS = 800;
/** Start-up of the timing process (Node, the library, the WASM compile), ms. */
export const RUNNER_START_MS = 1500;
/** Measuring the floor when it is not cached, ms. */
export const FLOOR_MS = 8000;
/** Floor constants used for a first guess when the floor is not known yet. */
const GUESS_FLOOR = { bandwidthGBs: 10, peakGmadds: 10 };
/** A rule with no reference timing is guessed at this many times its floor. */
const FLOOR_GUESS_FACTOR = 5;

/** "42 s", "3 min 05 s", "1 h 02 min"; under a second "< 1 s". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The ETA text of the progress bar: "ETA 2 min 10 s", or "ETA —" before anything is known. */
export function etaText(remainingMs) {
  return `ETA ${formatDuration(remainingMs)}`;
}

/**
 * Reference timings, by implementation and rule, from one or more lists of records (the first list
 * that has a rule wins for it). Refusals (UNSUPPORTED) are kept: a rule refused at some n is
 * refused at every larger n.
 */
export function referenceTimings(...lists) {
  const timed = new Map(); // impl|rule → [{ n, d, ms }]
  const refused = new Map(); // impl|rule → smallest refused n
  for (const list of lists) {
    const mine = new Map();
    const mineRefused = new Map();
    for (const r of list ?? []) {
      const k = `${r.impl}|${r.rule}`;
      if (r.errorCode === 'UNSUPPORTED') mineRefused.set(k, Math.min(mineRefused.get(k) ?? Infinity, r.n));
      if (r.error || !(r.medianMs > 0)) continue;
      if (!mine.has(k)) mine.set(k, []);
      mine.get(k).push({ n: r.n, d: r.d, ms: r.medianMs });
    }
    for (const [k, v] of mine) if (!timed.has(k)) timed.set(k, v);
    for (const [k, v] of mineRefused) if (!refused.has(k)) refused.set(k, v);
  }
  return { timed, refused };
}

/**
 * Predicted time of one call, ms: from the reference cell of the same impl and rule nearest in
 * cost, scaled by the cost ratio. { ms, refused } or null when there is no reference.
 */
export function predictCall(ref, { impl, rule, cost, n, d }) {
  const k = `${impl}|${rule}`;
  if (n >= (ref.refused.get(k) ?? Infinity)) return { ms: 0, refused: true };
  const cells = ref.timed.get(k);
  if (!cells || cells.length === 0) return null;
  const target = Math.log(costScale(cost, n, d));
  let best = null;
  let bestGap = Infinity;
  for (const c of cells) {
    // the same d first (the per-call overheads and cache effects change with d), then the nearest cost
    const gap = Math.abs(Math.log(costScale(cost, c.n, c.d)) - target) + (c.d === d ? 0 : 0.5);
    if (gap < bestGap) {
      bestGap = gap;
      best = c;
    }
  }
  return { ms: (best.ms * costScale(cost, n, d)) / costScale(cost, best.n, best.d), refused: false };
}

/** A first guess from the floor when nothing was ever measured for the rule. */
export function guessFromFloor({ n, d, cost }, floor = null) {
  const f = floorMs({ n, d, cost }, floor ?? GUESS_FLOOR);
  return f === null ? 1 : f * FLOOR_GUESS_FACTOR;
}

/**
 * Wall time of one cell, ms, from its predicted call time under the sampling rule (timing.mjs).
 * @param plan { minSamples, budgetMs, maxCellMs, maxCallMs }
 */
export function cellWallMs(callMs, plan, overheadMs = CELL_OVERHEAD_MS) {
  if (!(callMs > 0)) return overheadMs;
  if (callMs > plan.maxCallMs) return overheadMs; // skipped
  if (callMs > slowCallMs(plan)) {
    const k = Math.max(1, Math.floor(plan.maxCellMs / callMs));
    return k * callMs + overheadMs;
  }
  const k = Math.min(MAX_SAMPLES, Math.max(plan.minSamples, Math.min(Math.ceil(plan.budgetMs / callMs), Math.floor(plan.maxCellMs / callMs))));
  return Math.max(callMs, WARMUP_MS) + k * callMs + overheadMs;
}

/**
 * Running totals for the progress bar: a list of tasks with estimates, which ones are done (and
 * how long they took), which one is running since when. Estimates of tasks not yet done can be
 * replaced as better predictions come in. Pure apart from the numbers it is given.
 */
export class Progress {
  /** @param tasks Array<{ id: string, estMs: number, label?: string }> */
  constructor(tasks) {
    this.tasks = new Map(tasks.map((t) => [t.id, { ...t, done: false, actualMs: null }]));
    this.current = null;
    this.currentSince = 0;
  }

  /** Replaces the estimate of a task not yet done (ignored for a done or unknown task). */
  setEstimate(id, estMs) {
    const t = this.tasks.get(id);
    if (t && !t.done) t.estMs = estMs;
  }

  add(task) {
    if (!this.tasks.has(task.id)) this.tasks.set(task.id, { ...task, done: false, actualMs: null });
  }

  start(id, now) {
    this.current = id;
    this.currentSince = now;
  }

  finish(id, actualMs = null) {
    const t = this.tasks.get(id);
    if (!t) return;
    t.done = true;
    t.actualMs = actualMs;
    if (this.current === id) this.current = null;
  }

  /** Tasks done / all. */
  counts() {
    let done = 0;
    for (const t of this.tasks.values()) if (t.done) done++;
    return { done, total: this.tasks.size };
  }

  /** Estimated ms still to go at `now`: the tasks not done, less what the running one has already used. */
  remainingMs(now) {
    let rest = 0;
    for (const t of this.tasks.values()) if (!t.done) rest += t.estMs;
    if (this.current !== null) {
      const t = this.tasks.get(this.current);
      if (t && !t.done) rest -= Math.min(t.estMs, Math.max(0, now - this.currentSince));
    }
    return Math.max(0, rest);
  }

  /** Sum of all estimates (done tasks at their estimate): the up-front figure. */
  totalEstimateMs() {
    let s = 0;
    for (const t of this.tasks.values()) s += t.estMs;
    return s;
  }
}

/**
 * How far this run's timings are from the reference's so far, per implementation: the geometric
 * mean of measured ÷ predicted over the cells measured, clamped to [0.2, 5] (1 when none).
 * @param pairs Array<{ impl, measuredMs, predictedMs }>
 */
export function calibration(pairs) {
  const acc = new Map();
  for (const p of pairs) {
    if (!(p.measuredMs > 0) || !(p.predictedMs > 0)) continue;
    const a = acc.get(p.impl) ?? { s: 0, k: 0 };
    a.s += Math.log(p.measuredMs / p.predictedMs);
    a.k += 1;
    acc.set(p.impl, a);
  }
  const out = {};
  for (const [impl, a] of acc) out[impl] = Math.min(5, Math.max(0.2, Math.exp(a.s / a.k)));
  return out;
}
