// The rules of issue 17's "little from the fast kernels" list, old against new in one process,
// alternating calls (the machine is shared and loaded: only same-process, interleaved timings
// compare). Bundles src/ of a base revision (default HEAD) and of the working tree with esbuild,
// warms both up, runs each case `reps` times per side in alternation and prints medians and the
// ratios new ÷ old of wall time and of process CPU time. Same method as scripts/gram-ab.mjs.
//
//   node scripts/rules-ab.mjs [--base REV] [--n 100] [--d 1e6] [--reps 5] [--threads 1]
//                             [--cases mda,caf,smea,krumLp1,krumLp3,krumLpInf,krumLp2,signMajority,fltrust,dnc]
import { build } from 'esbuild';
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const base = opt('base', 'HEAD');
const n = Number(opt('n', 100));
const d = Number(opt('d', 1e6));
const reps = Number(opt('reps', 5));
const threads = Number(opt('threads', 1));
const caseNames = opt('cases', 'mda,caf,smea').split(',');

const cache = path.join(root, 'node_modules', '.cache', 'robust-agg-ab');
mkdirSync(cache, { recursive: true });

async function load(dir, label) {
  const out = path.join(cache, `rules-${label}-${process.pid}.mjs`);
  const bundled = await build({
    stdin: { contents: `export * from './src/index.ts';\n`, resolveDir: dir, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    external: ['@tensorflow/*', 'ml-matrix'],
    logLevel: 'error',
    nodePaths: [path.join(root, 'node_modules')],
  });
  writeFileSync(out, bundled.outputFiles[0].text);
  const mod = await import(pathToFileURL(out).href);
  unlinkSync(out);
  return mod;
}

const baseDir = path.join(cache, `rules-base-${process.pid}`);
mkdirSync(baseDir, { recursive: true });
execSync(`git archive ${base} src | tar -x -C ${JSON.stringify(baseDir)}`, { cwd: root });
const sides = [
  { label: `old (${base})`, ra: await load(baseDir, 'old') },
  { label: 'new (working tree)', ra: await load(root, 'new') },
];
rmSync(baseDir, { recursive: true, force: true });

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

for (const s of sides) {
  s.ra.setKernelBackend('wasm');
  s.ra.setKernelThreads(threads);
  await s.ra.initKernels();
}
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
console.log(`node ${process.version}, n=${n} d=${d}, ${threads} thread(s), ${reps} alternating calls per side (ms)`);
console.log(`command: node scripts/rules-ab.mjs ${args.join(' ')}`);
for (const name of caseNames) {
  const fn = CASES[name];
  if (fn === undefined) throw new Error(`unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
  const res = sides.map(() => ({ wall: [], cpu: [] }));
  for (const s of sides) fn(s.ra); // warm-up
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < sides.length; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn(sides[k].ra);
      res[k].wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      res[k].cpu.push((c.user + c.system) / 1000);
    }
  }
  for (let k = 0; k < sides.length; k++) {
    console.log(
      `${name.padEnd(13)} ${sides[k].label.padEnd(20)} wall median ${median(res[k].wall).toFixed(1).padStart(8)}` +
        `   cpu median ${median(res[k].cpu).toFixed(1).padStart(8)}`,
    );
  }
  const ratio = (key) => median(res[1][key]) / median(res[0][key]);
  console.log(`${name.padEnd(13)} new ÷ old: wall median ${ratio('wall').toFixed(3)}, cpu median ${ratio('cpu').toFixed(3)}`);
}
for (const s of sides) s.ra.releaseKernelResources?.();
process.exit(0);
