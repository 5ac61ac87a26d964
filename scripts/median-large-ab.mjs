// The column-selection kernels (coordinateMedian, trimmedMean, Bulyan's trimmed stage) fast against
// plain across the size where the WebAssembly kernel leaves its sorting networks (n = 192), in one
// process, alternating calls (the machine is shared and loaded: only same-process, interleaved
// timings compare). Sides: `plain` (setKernelBackend('js'), the TypeScript kernel), `fast` (the
// working tree on the WebAssembly kernels) and, with --base REV, `old` (REV's src/ on the
// WebAssembly kernels). Prints per case the medians of wall time and the ratios fast ÷ plain (and
// fast ÷ old), all from the same run.
//
//   node scripts/median-large-ab.mjs [--base REV] [--ns 150,192,193,300,1000] [--ds 1e4,1e5]
//                                    [--reps 5] [--threads 1] [--rules median,trimmed,meamed,bulyan]
import { loadSides, median, options } from './ab.mjs';

const args = process.argv.slice(2);
const opt = options(args);
const base = opt('base', 'HEAD');
const withOld = args.includes('--base');
const ns = opt('ns', '150,192,193,300,1000').split(',').map(Number);
const ds = opt('ds', '1e4,1e5').split(',').map(Number);
const reps = Number(opt('reps', 5));
const threads = Number(opt('threads', 1));
const rules = opt('rules', 'median').split(',');
const [oldSide, newSide] = await loadSides(base, { threads });

const RULES = {
  median: (ra, rows) => ra.coordinateMedian(rows),
  trimmed: (ra, rows) => ra.trimmedMean(rows, { f: Math.floor(rows.length / 10) }),
  meamed: (ra, rows) => ra.meamed(rows, { f: Math.floor(rows.length / 4) }),
  bulyan: (ra, rows) => ra.bulyan(rows, { f: Math.floor((rows.length - 3) / 4) }),
};

const sides = [
  { label: 'plain', ra: newSide.ra, backend: 'js' },
  { label: 'fast', ra: newSide.ra, backend: 'wasm' },
  ...(withOld ? [{ label: `old (${base})`, ra: oldSide.ra, backend: 'wasm' }] : []),
];

console.log(`node ${process.version}, ${threads} thread(s), ${reps} alternating calls per side (ms, wall medians)`);
console.log(`command: node scripts/median-large-ab.mjs ${args.join(' ')}`);
const rng = newSide.ra.createRng(7);
for (const d of ds) {
  for (const n of ns) {
    const rows = Array.from({ length: n }, () => newSide.ra.gaussianVector(d, rng));
    for (const rule of rules) {
      const fn = RULES[rule];
      if (fn === undefined) throw new Error(`unknown rule ${rule}`);
      const times = sides.map(() => []);
      for (let r = -1; r < reps; r++) {
        for (let k = 0; k < sides.length; k++) {
          const s = sides[k];
          s.ra.setKernelBackend(s.backend);
          const t0 = performance.now();
          fn(s.ra, rows);
          const t = performance.now() - t0;
          if (r >= 0) times[k].push(t);
        }
      }
      const med = times.map(median);
      const cols = sides.map((s, k) => `${s.label} ${med[k].toFixed(1).padStart(8)}`).join('  ');
      const ratios = `fast÷plain ${(med[1] / med[0]).toFixed(3)}` + (withOld ? `  fast÷old ${(med[1] / med[2]).toFixed(3)}` : '');
      console.log(`${rule.padEnd(8)} n=${String(n).padStart(5)} d=${d.toExponential(0).padStart(5)}  ${cols}   ${ratios}`);
    }
  }
}
for (const s of [oldSide, newSide]) s.ra.releaseKernelResources?.();
process.exit(0);
