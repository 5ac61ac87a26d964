// Times one server step of SAGA + geometric median at the experiment's shape: 784–50(tanh)–10
// (d = 39 760), 50 honest workers running sagaFactored, 20 Byzantine sign-flip (−3·μ) messages,
// the geometric median over the 70. Prints ms per step (median of the timed steps).
//
//   node examples/byrd-saga/step-time.mjs [--steps 60] [--warmup 10] [--aggregator geometricMedian|mean]
//                                         [--backend wasm|auto|js] [--attack library] [--breakdown]
//
// --attack library: the library's signFlip over the 50 honest messages (its own plain-JS mean)
// instead of the experiment's signFlip([mean(honest)]) on the fast kernels. --breakdown: the step
// by hand, with the 50 messages, the attack, the aggregator and the update timed apart.
import {
  createRng,
  geometricMedian,
  initKernels,
  initMlp,
  mean,
  mlpOracle,
  sagaFactored,
  serverStep,
  setKernelBackend,
  setKernelThreads,
  signFlip,
  trainRobust,
} from '../../dist/index.js';
import { splitMnist } from './data.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] === undefined || all[i + 1].startsWith('--') ? true : all[i + 1]]] : acc), []),
);
const steps = Number(args.steps ?? 60);
const warmup = Number(args.warmup ?? 10);
const aggName = args.aggregator ?? 'geometricMedian';
const shape = { inputSize: 784, hidden: 50, classes: 10 };

await initKernels();
setKernelThreads(1);
// 'wasm': every kernel call on WebAssembly, also the finiteness checks of the 70 messages, which
// 'auto' leaves to plain JS below 2¹⁶ entries (d = 39 760).
setKernelBackend(args.backend ?? 'wasm');
const { shards } = splitMnist({ seed: 1, workers: 50, testSize: 2000 });
const workers = shards.map((s) => mlpOracle(s, shape));
// As the experiment does: the 20 identical Byzantine messages are one array sent 20 times.
const sameTwenty = (v) => Array.from({ length: 20 }, () => v);
const aggregator = aggName === 'mean' ? (m) => mean(m) : (m) => geometricMedian(m);
if (args.breakdown !== undefined) {
  // The step by hand, each part timed on its own (CPU ms, median over the timed steps).
  const ests = workers.map((w, i) => sagaFactored(w, { seed: i + 1 }));
  let params = initMlp(shape, createRng(1));
  let next = new Float32Array(params.length);
  const bufs = ests.map(() => new Float32Array(params.length));
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const parts = { messages: [], attack: [], aggregator: [], update: [] };
  for (let t = 0; t < warmup + steps; t++) {
    const t0 = cpu();
    for (let i = 0; i < ests.length; i++) {
      if (typeof ests[i].nextInto === 'function') ests[i].nextInto(params, bufs[i]);
      else bufs[i] = ests[i].next(params);
    }
    const t1 = cpu();
    const byz = args.attack === 'library' ? signFlip(bufs, { f: 20, scale: -3 }) : sameTwenty(signFlip([mean(bufs)], { f: 1, scale: -3 })[0]);
    const t2 = cpu();
    const g = aggregator(bufs.concat(byz));
    const t3 = cpu();
    serverStep(params, g, 0.1, next);
    [params, next] = [next, params];
    const t4 = cpu();
    if (t >= warmup) {
      parts.messages.push(t1 - t0);
      parts.attack.push(t2 - t1);
      parts.aggregator.push(t3 - t2);
      parts.update.push(t4 - t3);
    }
  }
  const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(
    `CPU ms per step (median of ${steps}): ` +
      Object.entries(parts)
        .map(([k, v]) => `${k} ${med(v).toFixed(1)}`)
        .join(', ') +
      `; sum ${Object.values(parts).reduce((s, v) => s + med(v), 0).toFixed(1)}`,
  );
  process.exit(0);
}

const times = [];
const cpuTimes = [];
let last = performance.now();
let lastCpu = process.cpuUsage();
trainRobust({
  workers,
  byzantineCount: 20,
  attack: args.attack === 'library' ? (h, c) => signFlip(h, { ...c, scale: -3 }) : (h, c) => sameTwenty(signFlip([mean(h)], { ...c, f: 1, scale: -3 })[0]),
  aggregator,
  estimator: (w, { rng }) => sagaFactored(w, { rng }),
  lr: 0.1,
  steps: warmup + steps,
  init: initMlp(shape, createRng(1)),
  evalEvery: warmup + steps,
  seed: 1,
  onProgress: ({ step }) => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    if (step > warmup) {
      times.push(now - last);
      cpuTimes.push((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000);
    }
    last = now;
    lastCpu = cpu;
  },
});
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
// CPU time of this process (user + system) is what one core spends; wall time also counts the
// time other processes hold the core, so on a shared machine the CPU figure is the step's cost.
console.log(
  `SAGA + ${aggName} step, 50 honest + 20 sign-flip, d = 39760: ${median(cpuTimes).toFixed(1)} ms CPU ` +
    `(median; wall ${median(times).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)}; ${steps} steps after ${warmup} warm-up)`,
);
