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
import os from 'node:os';
import { alternate, loadSides, options } from './ab.mjs';

const args = process.argv.slice(2);
const opt = options(args);
// 871036c landed the repeated-row path; its parent is the kernel without it.
const base = opt('base', '871036c~1');
const reps = Number(opt('reps', 41));
const n = Number(opt('n', 70));
const sybils = Number(opt('sybils', 20));
const d = Number(opt('d', 39_760));
const sides = await loadSides(base, { threads: 1, extra: "export { gram } from './src/kernels/gram.ts';\n" });

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

const sameBits = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
console.log(`node ${process.version}, n=${n} (${sybils} the same array) d=${d}, 1 thread, ${reps} alternating calls per side (ms)`);
console.log(`load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs`);
console.log(`command: node scripts/gram-dedupe-ab.mjs ${args.join(' ')}`.trim());
for (const [name, fn] of Object.entries(CASES)) {
  const out = sides.map((s) => fn(s.ra)); // the bits of both sides
  const copyName = name.endsWith('Copies') ? name : `${name}Copies`;
  const ofCopies = CASES[copyName] ? CASES[copyName](sides[1].ra) : null;
  const checks = [`old = new: ${sameBits(out[0], out[1])}`];
  if (ofCopies !== null && copyName !== name) checks.push(`repeats = copies: ${sameBits(out[1], ofCopies)}`);
  alternate(name, fn, sides, reps, `; ${checks.join(', ')}`);
}
for (const s of sides) s.ra.releaseKernelResources?.();
process.exit(0);
