// What the same-process A/B scripts share (gram-ab.mjs, rules-ab.mjs, gram-dedupe-ab.mjs): the
// machine is shared and loaded, so only interleaved timings in one process compare. Each script
// bundles src/ of a base revision and of the working tree with esbuild, imports both, and times its
// cases in alternation (old, new, old, new, …), reporting medians of wall and process CPU time and
// the ratios new ÷ old.
import { build } from 'esbuild';
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside node_modules so that the bundles' external imports resolve.
const cache = path.join(root, 'node_modules', '.cache', 'robust-agg-ab');

/** `opt('n', 100)`: the value after `--n` in `args`, or the default. */
export function options(args) {
  return (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? dflt : args[i + 1];
  };
}

/** `contents` (TypeScript module source resolved from `dir`), bundled with esbuild and imported. */
export async function importBundle(contents, dir = root, label = 'bundle') {
  mkdirSync(cache, { recursive: true });
  const out = path.join(cache, `bundle-${label}-${process.pid}.mjs`);
  const bundled = await build({
    stdin: { contents, resolveDir: dir, loader: 'ts' },
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

/** src/index.ts (plus `extra` export lines) of `dir`, bundled and imported. */
function load(dir, label, extra) {
  return importBundle(`export * from './src/index.ts';\n${extra}`, dir, label);
}

/**
 * The two sides: `[{ label: 'old (REV)', ra }, { label: 'new (working tree)', ra }]`, each on the
 * WebAssembly kernels with `threads` threads. `extra`: more export lines (e.g. internal kernels).
 */
export async function loadSides(base, { threads = 1, extra = '' } = {}) {
  mkdirSync(cache, { recursive: true });
  const baseDir = path.join(cache, `base-${process.pid}`);
  mkdirSync(baseDir, { recursive: true });
  execSync(`git archive ${base} src | tar -x -C ${JSON.stringify(baseDir)}`, { cwd: root });
  const sides = [
    { label: `old (${base})`, ra: await load(baseDir, 'old', extra) },
    { label: 'new (working tree)', ra: await load(root, 'new', extra) },
  ];
  rmSync(baseDir, { recursive: true, force: true });
  for (const s of sides) {
    s.ra.setKernelBackend('wasm');
    s.ra.setKernelThreads(threads);
    await s.ra.initKernels();
  }
  return sides;
}

export const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/**
 * Runs `fn(ra)` `reps` times per side in alternation after one warm-up call each (JIT, wasm
 * tier-up, workers) and prints each side's medians and the ratios; `note` is appended to the
 * ratio line. Returns `{ wall, cpu }` per side (ms).
 */
export function alternate(name, fn, sides, reps, note = '') {
  for (const s of sides) fn(s.ra);
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
    const w = res[k].wall;
    console.log(
      `${name.padEnd(22)} ${sides[k].label.padEnd(22)} wall median ${median(w).toFixed(1).padStart(8)} best ${Math.min(...w).toFixed(1).padStart(8)}` +
        `   cpu median ${median(res[k].cpu).toFixed(1).padStart(8)}`,
    );
  }
  const ratio = (key, agg) => agg(res[1][key]) / agg(res[0][key]);
  console.log(
    `${name.padEnd(22)} new ÷ old: wall median ${ratio('wall', median).toFixed(3)}, best ${ratio('wall', (x) => Math.min(...x)).toFixed(3)}, cpu median ${ratio('cpu', median).toFixed(3)}${note}`,
  );
  return res;
}
