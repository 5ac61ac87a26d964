// Times every kernel and the main rules on the plain TypeScript kernels, the WebAssembly kernels on
// one thread, and the WebAssembly kernels with worker threads, all in one process on the same
// Gaussian rows (ratios within one run are what to compare on a shared machine). Bundles src/
// with esbuild first, so it needs no `npm run build`.
//
//   node scripts/bench-kernels.mjs [n=100] [d=1e6] [reps=3]      ONLY=gram,median to filter
//
// Prints, per case and configuration, the best wall time and the process CPU time of that run.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importBundle } from './ab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = `
export * from './src/index.ts';
export { gram } from './src/kernels/gram.ts';
export { combine, combineIfFinite } from './src/kernels/combine.ts';
export { isFiniteVector, isFiniteVectorPlain } from './src/kernels/finite.ts';
export { isFiniteVectorWasm } from './src/kernels/wasm/finite.ts';
export { reduceColumns, columnMedian, trimmedMeanReducer, meanAroundMedianReducer } from './src/kernels/column-select.ts';
`;
const ra = await importBundle(entry, root, 'bench-kernels');

const n = Number(process.argv[2] ?? 100);
const d = Number(process.argv[3] ?? 1e6);
const reps = Number(process.argv[4] ?? 3);
const rng = ra.createRng(1);
const rows = Array.from({ length: n }, () => ra.gaussianVector(d, rng));
const f = Math.floor(n / 10);
const uniform = new Float64Array(n).fill(1 / n);

const cases = {
  // kernels
  finite: () => rows.every((r) => ra.isFiniteVectorPlain(r)),
  finiteWasm: () => rows.every((r) => ra.isFiniteVector(r)),
  gram: () => ra.gram(rows, 'robust'), // the centre Krum, Bulyan, GM … use
  gramUncentred: () => ra.gram(rows, null), // FLAME's cosines, norms
  combine: () => ra.combine(rows, uniform),
  combineIfFinite: () => ra.combineIfFinite(rows, uniform),
  median: () => ra.reduceColumns(rows, ra.columnMedian),
  trimmed: () => ra.reduceColumns(rows, ra.trimmedMeanReducer(f)),
  meamedK: () => ra.reduceColumns(rows, ra.meanAroundMedianReducer(n - f)),
  // rules, as wired today
  mean: () => ra.mean(rows),
  coordinateMedian: () => ra.coordinateMedian(rows),
  trimmedMean: () => ra.trimmedMean(rows, { f }),
  meamed: () => ra.meamed(rows, { f }),
  krum: () => ra.krum(rows, { f }),
  multiKrum: () => ra.multiKrum(rows, { f }),
  geometricMedian: () => ra.geometricMedian(rows),
  flame: () => ra.flame(rows, { seed: 1 }),
  bulyan: () => ra.bulyan(rows, { f: Math.max(0, Math.min(f, Math.floor((n - 3) / 4))) }),
};
const only = process.env.ONLY ? process.env.ONLY.split(',') : Object.keys(cases);

function time(fn) {
  fn(); // warm-up: JIT, wasm tier-up, workers joining
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (t < wall) {
      wall = t;
      cpu = (c.user + c.system) / 1000;
    }
  }
  return { wall, cpu };
}

await ra.initKernels();
const threads = Math.max(2, ra.getKernelThreads());
const configs = [
  ['js', 1],
  ['wasm', 1],
  ['wasm', threads],
];
console.log(`n=${n} d=${d}, best wall time of ${reps} (ms) [process CPU ms of that run]`);
for (const name of only) {
  const cells = [];
  let plain = NaN;
  let fast = Infinity;
  for (const [backend, t] of configs) {
    ra.setKernelBackend(backend);
    ra.setKernelThreads(t);
    const { wall, cpu } = time(cases[name]);
    if (backend === 'js') plain = wall;
    else fast = Math.min(fast, wall);
    cells.push(`${backend}/${t}t ${wall.toFixed(0).padStart(6)} [${cpu.toFixed(0).padStart(6)}]`);
    if (process.env.DEBUG) console.log(JSON.stringify(ra.kernelStatus()));
  }
  console.log(`${name.padEnd(17)} ${cells.join('   ')}   x${(plain / fast).toFixed(1)}`);
}
ra.setKernelBackend('auto');
ra.setKernelThreads('auto');
process.exit(0);
