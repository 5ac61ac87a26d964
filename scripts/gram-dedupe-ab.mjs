// Same-process A/B of the Gram kernel's repeated-row path (issue 16): Sybil clients send one
// array, and the kernel computes it once (GramWorkspace.gramChunk, src/kernels/wasm/workspace.ts).
// The Byrd-SAGA step's shape: n = 70 messages of d = 39 760, the 20 Byzantine ones the same
// Float32Array (a sign flip, −3 × the honest mean), one thread, WebAssembly kernels.
// Bundles src/ of a base revision (the commit before the change, by default) and of the working
// tree with esbuild, imports both, checks that they give the same bits, then runs each case
// `reps` times per side in alternation (old, new, old, new, …) and prints the medians of wall and
// process CPU time and the ratios new ÷ old. "…Copies" cases pass the same values as 70 distinct
// arrays (the path without repeats: it must not get slower).
//
//   node scripts/gram-dedupe-ab.mjs [--base REV] [--reps 41] [--n 70] [--sybils 20] [--d 39760]
import { build } from 'esbuild';
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
// 871036c landed the repeated-row path; its parent is the kernel without it.
const base = opt('base', '871036c~1');
const reps = Number(opt('reps', 41));
const n = Number(opt('n', 70));
const sybils = Number(opt('sybils', 20));
const d = Number(opt('d', 39_760));

const cache = path.join(root, 'node_modules', '.cache', 'robust-agg-dedupe-ab');
mkdirSync(cache, { recursive: true });

async function load(dir, label) {
  const out = path.join(cache, `bundle-${label}-${process.pid}.mjs`);
  const bundled = await build({
    stdin: { contents: `export * from './src/index.ts';\nexport { gram } from './src/kernels/gram.ts';\n`, resolveDir: dir, loader: 'ts' },
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

const baseDir = path.join(cache, `base-${process.pid}`);
mkdirSync(baseDir, { recursive: true });
execSync(`git archive ${base} src | tar -x -C ${JSON.stringify(baseDir)}`, { cwd: root });
const sides = [
  { label: `old (${base})`, ra: await load(baseDir, 'old') },
  { label: 'new (working tree)', ra: await load(root, 'new') },
];
rmSync(baseDir, { recursive: true, force: true });

// 50 honest messages around a common mean, then `sybils` references to one attack message.
const ra = sides[1].ra;
const rng = ra.createRng(1);
const mu = ra.gaussianVector(d, rng, 0, 0.01);
const honest = Array.from({ length: n - sybils }, () => {
  const x = ra.gaussianVector(d, rng, 0, 0.03);
  for (let k = 0; k < d; k++) x[k] += mu[k];
  return x;
});
const attack = Float32Array.from(mu, (v) => -3 * v);
const rows = [...honest, ...Array.from({ length: sybils }, () => attack)];
const copies = rows.map((r) => Float32Array.from(r));
const f = sybils;
const CASES = {
  gram: (lib) => lib.gram(rows, 'robust'),
  geometricMedian: (lib) => lib.geometricMedian(rows),
  geometricMedianCopies: (lib) => lib.geometricMedian(copies),
  krum: (lib) => lib.krum(rows, { f }),
  krumCopies: (lib) => lib.krum(copies, { f }),
};

for (const s of sides) {
  s.ra.setKernelBackend('wasm');
  s.ra.setKernelThreads(1);
  await s.ra.initKernels();
}
const sameBits = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
console.log(`node ${process.version}, n=${n} (${sybils} the same array) d=${d}, 1 thread, ${reps} alternating calls per side (ms)`);
console.log(`load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs`);
console.log(`command: node scripts/gram-dedupe-ab.mjs ${args.join(' ')}`.trim());
for (const [name, fn] of Object.entries(CASES)) {
  const out = sides.map((s) => fn(s.ra)); // warm-up, and the bits of both sides
  const copyName = name.endsWith('Copies') ? name : `${name}Copies`;
  const ofCopies = CASES[copyName] ? CASES[copyName](sides[1].ra) : null;
  const checks = [`old = new: ${sameBits(out[0], out[1])}`];
  if (ofCopies !== null && copyName !== name) checks.push(`repeats = copies: ${sameBits(out[1], ofCopies)}`);
  const res = sides.map(() => ({ wall: [], cpu: [] }));
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
      `${name.padEnd(22)} ${sides[k].label.padEnd(22)} cpu median ${median(res[k].cpu).toFixed(2).padStart(7)}   wall median ${median(res[k].wall).toFixed(2).padStart(7)}`,
    );
  }
  const ratio = (key) => median(res[1][key]) / median(res[0][key]);
  console.log(`${name.padEnd(22)} new ÷ old: cpu ${ratio('cpu').toFixed(3)}, wall ${ratio('wall').toFixed(3)}; ${checks.join(', ')}`);
}
for (const s of sides) s.ra.releaseKernelResources?.();
process.exit(0);
