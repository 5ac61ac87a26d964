// Times one server step of SAGA + geometric median at the experiment's shape: 784–50(tanh)–10
// (d = 39 760), 50 honest workers running sagaFactored, 20 Byzantine sign-flip (−3·μ) messages,
// the geometric median over the 70. Prints ms per step (median of the timed steps).
//
//   node examples/byrd-saga/step-time.mjs [--steps 60] [--warmup 10] [--aggregator geometricMedian|mean]
//                                         [--backend wasm|auto|js] [--attack library]
//
// --attack library: the library's signFlip over the 50 honest messages (its own plain-JS mean)
// instead of the experiment's signFlip([mean(honest)]) on the fast kernels.
import {
  createRng,
  geometricMedian,
  initKernels,
  initMlp,
  mean,
  mlpOracle,
  sagaFactored,
  setKernelBackend,
  setKernelThreads,
  signFlip,
  trainRobust,
} from '../../dist/index.js';
import { splitMnist } from './data.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
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
const aggregator = aggName === 'mean' ? (m) => mean(m) : (m) => geometricMedian(m);
const times = [];
const cpuTimes = [];
let last = performance.now();
let lastCpu = process.cpuUsage();
trainRobust({
  workers,
  byzantineCount: 20,
  attack: args.attack === 'library' ? (h, c) => signFlip(h, { ...c, scale: -3 }) : (h, c) => signFlip([mean(h)], { ...c, scale: -3 }),
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
