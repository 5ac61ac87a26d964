// Old kernel against new, in one process, alternating calls: on a shared, loaded machine only
// same-process, interleaved timings compare. Bundles src/ of a base revision (default HEAD) and of
// the working tree with esbuild, imports both, warms both up, then runs each case `reps` times per
// side in alternation (old, new, old, new, …) and prints the medians, the best calls and the
// ratios new ÷ old (wall time and process CPU time).
//
//   node scripts/gram-ab.mjs [--base REV] [--n 100] [--d 1e6] [--reps 11] [--threads 1]
//                            [--cases gram,gramUncentred,krum,multiKrum,flame,geometricMedian]
import { alternate, loadSides, options } from './ab.mjs';

const args = process.argv.slice(2);
const opt = options(args);
const base = opt('base', 'HEAD');
const n = Number(opt('n', 100));
const d = Number(opt('d', 1e6));
const reps = Number(opt('reps', 11));
const threads = Number(opt('threads', 1));
const caseNames = opt('cases', 'gram,krum').split(',');
const sides = await loadSides(base, { threads, extra: "export { gram } from './src/kernels/gram.ts';\n" });

const rng = sides[1].ra.createRng(1);
const rows = Array.from({ length: n }, () => sides[1].ra.gaussianVector(d, rng));
const f = Math.floor(n / 10);
const CASES = {
  gram: (ra) => ra.gram(rows, 'robust'),
  gramUncentred: (ra) => ra.gram(rows, null),
  krum: (ra) => ra.krum(rows, { f }),
  multiKrum: (ra) => ra.multiKrum(rows, { f }),
  flame: (ra) => ra.flame(rows, { seed: 1 }),
  geometricMedian: (ra) => ra.geometricMedian(rows),
};

console.log(`node ${process.version}, n=${n} d=${d}, ${threads} thread(s), ${reps} alternating calls per side (ms)`);
console.log(`command: node scripts/gram-ab.mjs ${args.join(' ')}`);
for (const name of caseNames) {
  const fn = CASES[name];
  if (fn === undefined) throw new Error(`unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
  alternate(name, fn, sides, reps);
}
for (const s of sides) s.ra.releaseKernelResources?.();
process.exit(0);
