// Bulyan's selection phase, plain O(n³) re-scoring against the incremental O(n² log n) one, and the
// whole rule old against new, in one process with alternating calls (the machine is shared and
// loaded: only same-process, interleaved timings compare; see scripts/ab.mjs).
//
// 1. Selection only, n ∈ {100, 300, 1000}, d = 1000 by default: both selections come from the
//    working tree's bundle (bulyanSelectionPlain is the code the rule ran before, kept as the
//    tests' oracle), on one distance matrix from the Gram of gaussian rows; the script checks the
//    two return the same picks before timing.
// 2. The whole rule (bulyan) at n = 100, d = 1e6 and at n = 1000, d = 1e4 (the sweep's n^2.38
//    cell): the base revision's bundle (default: the commit before the fast selection) against the
//    working tree's. Other uncommitted kernel changes in the working tree, if any, also land in this
//    ratio.
//
//   node scripts/bulyan-ab.mjs [--base REV] [--sizes 100,300,1000] [--d 1000] [--reps 5]
//                              [--rule-cells 100x1e6,1000x1e4] [--rule-reps 3] [--threads 1] [--no-rule]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, importBundle, loadSides, options } from './ab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The working tree's two selections and what builds a distance matrix, bundled from src/. */
function loadSelections() {
  return importBundle(
    "export { bulyanSelectionPlain, bulyanSelectionFast } from './src/aggregators/bulyan-selection.ts';\n" +
      "export { gram, squaredDistancesFromGram } from './src/kernels/gram.ts';\n" +
      "export { createRng, gaussianVector } from './src/index.ts';\n",
    root,
    'bulyan-selection',
  );
}

const args = process.argv.slice(2);
const opt = options(args);
const base = opt('base', 'e8ba485^');
const sizes = opt('sizes', '100,300,1000').split(',').map(Number);
const d = Number(opt('d', 1000));
const reps = Number(opt('reps', 5));
const ruleCells = opt('rule-cells', '100x1e6,1000x1e4')
  .split(',')
  .map((c) => c.split('x').map(Number));
const ruleReps = Number(opt('rule-reps', 3));
const threads = Number(opt('threads', 1));
const sides = args.includes('--no-rule') ? [] : await loadSides(base, { threads });
// gram() here runs on the plain kernels (no init needed); only the distances matter.
const ra = await loadSelections();

console.log(`node ${process.version}, ${threads} thread(s)`);
console.log(`command: node scripts/bulyan-ab.mjs ${args.join(' ')}`);
console.log(`\nselection only (d = ${d}, f = ⌊n/10⌋, θ = n − 2f), ${reps} alternating calls per side (ms):`);
for (const n of sizes) {
  const rng = ra.createRng(n);
  const rows = Array.from({ length: n }, () => ra.gaussianVector(d, rng));
  const dist = ra.squaredDistancesFromGram(ra.gram(rows, 'robust'), n);
  const f = Math.floor(n / 10);
  const theta = n - 2 * f;
  const a = ra.bulyanSelectionPlain(dist, n, f, theta);
  const b = ra.bulyanSelectionFast(dist, n, f, theta);
  if (a.length !== b.length || a.some((v, k) => v !== b[k])) throw new Error(`n=${n}: the selections differ`);
  const sel = [
    { label: 'plain', ra: { run: () => ra.bulyanSelectionPlain(dist, n, f, theta) } },
    { label: 'fast', ra: { run: () => ra.bulyanSelectionFast(dist, n, f, theta) } },
  ];
  alternate(`selection n=${n}`, (s) => s.run(), sel, n >= 1000 ? Math.min(reps, 3) : reps);
}

if (!args.includes('--no-rule')) {
  for (const [ruleN, ruleD] of ruleCells) {
    console.log(`\nwhole rule, n = ${ruleN}, d = ${ruleD}, f = ⌊n/10⌋, ${ruleReps} alternating calls per side (ms):`);
    const rng = sides[1].ra.createRng(1);
    const rows = Array.from({ length: ruleN }, () => sides[1].ra.gaussianVector(ruleD, rng));
    const f = Math.floor(ruleN / 10);
    alternate(`bulyan n=${ruleN} d=${ruleD}`, (r) => r.bulyan(rows, { f }), sides, ruleReps);
  }
}
for (const s of sides) s.ra.releaseKernelResources?.();
ra.releaseKernelResources?.();
process.exit(0);
