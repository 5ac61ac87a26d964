// The rules of issue 17's "little from the fast kernels" list, old against new in one process,
// alternating calls (the machine is shared and loaded: only same-process, interleaved timings
// compare). Bundles src/ of a base revision (default HEAD) and of the working tree with esbuild,
// warms both up, runs each case `reps` times per side in alternation and prints medians and the
// ratios new ÷ old of wall time and of process CPU time. Same method as scripts/gram-ab.mjs.
//
//   node scripts/rules-ab.mjs [--base REV] [--n 100] [--d 1e6] [--reps 5] [--threads 1]
//                             [--cases mda,caf,smea,krumLp1,krumLp3,krumLpInf,krumLp2,signMajority,fltrust,dnc]
import { alternate, loadSides, options } from './ab.mjs';

const args = process.argv.slice(2);
const opt = options(args);
const base = opt('base', 'HEAD');
const n = Number(opt('n', 100));
const d = Number(opt('d', 1e6));
const reps = Number(opt('reps', 5));
const threads = Number(opt('threads', 1));
const caseNames = opt('cases', 'mda,caf,smea').split(',');
const sides = await loadSides(base, { threads });

const rng = sides[1].ra.createRng(1);
const rows = Array.from({ length: n }, () => sides[1].ra.gaussianVector(d, rng));
const f = Math.floor(n / 10);
const CASES = {
  mda: (ra) => ra.mda(rows, { f: 2 }),
  caf: (ra) => ra.caf(rows, { f }),
  smea: (ra) => ra.smea(rows, { f: 1 }),
  krumLp1: (ra) => ra.krumLp(rows, { f, p: 1 }),
  krumLp3: (ra) => ra.krumLp(rows, { f, p: 3 }),
  krumLpInf: (ra) => ra.krumLp(rows, { f, p: Infinity }),
  krumLp2: (ra) => ra.krumLp(rows, { f, p: 2 }),
  signMajority: (ra) => ra.signMajority(rows),
  fltrust: (ra) => ra.fltrust(rows.slice(1), { serverUpdate: rows[0] }),
  dnc: (ra) => ra.dnc(rows, { f, seed: 1 }),
};

console.log(`node ${process.version}, n=${n} d=${d}, ${threads} thread(s), ${reps} alternating calls per side (ms)`);
console.log(`command: node scripts/rules-ab.mjs ${args.join(' ')}`);
for (const name of caseNames) {
  const fn = CASES[name];
  if (fn === undefined) throw new Error(`unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
  alternate(name, fn, sides, reps);
}
for (const s of sides) s.ra.releaseKernelResources?.();
process.exit(0);
