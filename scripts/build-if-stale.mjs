// `prebench`: runs `npm run build` only when dist/ is missing or older than what it is built from,
// so that `npm run bench` does not spend a minute rebuilding an up-to-date library.
//
// dist/ is stale when any input is newer than the oldest file of dist/ (tsup cleans dist/ on every
// build, so its oldest file is the start of the last build), or when a file the bench needs is
// missing (a build that failed half-way). Inputs: every file and directory under src/ and
// assembly/ (a directory's time changes when a file in it is removed or renamed), the build
// script, the tsup / TypeScript configs, package.json and package-lock.json.
//
//   node scripts/build-if-stale.mjs            build when stale
//   node scripts/build-if-stale.mjs --check    only say whether dist/ is stale (exit 1 when it is)
//   node scripts/build-if-stale.mjs --force    build anyway
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Inputs of the build, relative to the root: directories walked, and single files. */
export const INPUT_DIRS = ['src', 'assembly'];
export const INPUT_FILES = [
  'scripts/build-wasm.mjs',
  'tsup.config.ts',
  'tsup.config.js',
  'tsup.config.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];
/** Files of dist/ that must exist (the bench imports the first; the last is written last). */
export const REQUIRED_OUTPUTS = ['dist/index.js', 'dist/index.d.ts'];

/** Every file and directory under dir (dir included), with its mtime in ms. */
function walk(dir, out = []) {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return out;
  }
  out.push({ path: dir, mtimeMs: st.mtimeMs });
  if (!st.isDirectory()) return out;
  for (const name of readdirSync(dir)) walk(join(dir, name), out);
  return out;
}

/**
 * Whether dist/ under `root` needs a build, and why. Pure apart from reading the file times.
 * @returns {{ stale: boolean, reason: string, newestInput: { path, mtimeMs } | null, builtAtMs: number | null }}
 */
export function staleness(root, { inputDirs = INPUT_DIRS, inputFiles = INPUT_FILES, required = REQUIRED_OUTPUTS } = {}) {
  const dist = join(root, 'dist');
  const rel = (p) => relative(root, p).replace(/\\/g, '/');
  for (const f of required) {
    if (!existsSync(join(root, f))) {
      return { stale: true, reason: `${f} is missing`, newestInput: null, builtAtMs: null };
    }
  }
  const outputs = walk(dist).filter((x) => x.path !== dist);
  let builtAtMs = Infinity;
  for (const o of outputs) {
    if (!statSync(o.path).isDirectory()) builtAtMs = Math.min(builtAtMs, o.mtimeMs);
  }
  if (!Number.isFinite(builtAtMs)) return { stale: true, reason: 'dist/ is empty', newestInput: null, builtAtMs: null };
  let newest = null;
  const consider = (x) => {
    if (!newest || x.mtimeMs > newest.mtimeMs) newest = x;
  };
  for (const d of inputDirs) for (const x of walk(join(root, d))) consider(x);
  for (const f of inputFiles) {
    const p = join(root, f);
    if (existsSync(p)) consider({ path: p, mtimeMs: statSync(p).mtimeMs });
  }
  if (newest && newest.mtimeMs > builtAtMs) {
    return {
      stale: true,
      reason: `${rel(newest.path)} changed after the last build (${new Date(newest.mtimeMs).toISOString()} > ${new Date(builtAtMs).toISOString()})`,
      newestInput: { path: rel(newest.path), mtimeMs: newest.mtimeMs },
      builtAtMs,
    };
  }
  return {
    stale: false,
    reason: `dist/ is up to date (built ${new Date(builtAtMs).toISOString()}; newest input ${newest ? rel(newest.path) : 'none'})`,
    newestInput: newest ? { path: rel(newest.path), mtimeMs: newest.mtimeMs } : null,
    builtAtMs,
  };
}

/** Runs `npm run build` in root (through the npm that runs this script, when there is one). */
function build(root) {
  const npmCli = process.env.npm_execpath;
  const r = npmCli && /\.c?js$/.test(npmCli)
    ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const args = process.argv.slice(2);
  const s = staleness(root);
  if (args.includes('--check')) {
    console.log(s.stale ? `dist/ is stale: ${s.reason}` : s.reason);
    process.exit(s.stale ? 1 : 0);
  }
  if (!s.stale && !args.includes('--force')) {
    console.log(`build-if-stale: ${s.reason}; skipping the build`);
    process.exit(0);
  }
  console.log(`build-if-stale: ${args.includes('--force') ? 'forced' : s.reason}; running npm run build`);
  process.exit(build(root));
}
