// Browser bundles of single rules stay lean (issue 15): a project that installed robust-agg bundles
// `import { mean } from 'robust-agg'` with esbuild for a browser (minified), through the package's
// "browser" export condition, and gets only what the rule needs — the WebAssembly kernel modules
// it uses (deflated), no worker-thread code. Targets in bytes (1 KB = 1000 bytes, the stricter
// reading). The sizes are printed; docs/performance.md ("Bundle size") says what each pays for.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

const TARGETS: [string, string, number][] = [
  ['mean', 'robust-agg', 12_000],
  ['coordinateMedian', 'robust-agg', 18_000], // 16 KB before client weights: the weighted median selection (docs/performance.md)
  ['krum', 'robust-agg', 18_000],
  ['flame', 'robust-agg', 32_000], // 30 KB before client weights (docs/performance.md)
];

let dir = '';

/** Bundles `code` as a browser project that installed robust-agg would: minified ESM. */
async function bundle(code: string, platform: 'browser' | 'node' = 'browser'): Promise<string> {
  const result = await build({
    stdin: { contents: code, resolveDir: dir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    write: false,
    external: ['@tensorflow/*'],
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

beforeAll(() => {
  // A project whose node_modules/robust-agg is this repository: resolution goes through the
  // package.json "exports" map, as for a user (the built dist/, see `pretest`).
  dir = mkdtempSync(join(tmpdir(), 'robust-agg-bundle-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/robust-agg'), 'dir');
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('browser bundle sizes (esbuild, minified, "browser" condition)', () => {
  it('dist/browser is built (pretest runs the build)', () => {
    expect(readdirSync(join(root, 'dist/browser'))).toContain('index.js');
  });

  it.each(TARGETS)('{ %s } from %s', async (name, entry, target) => {
    const text = await bundle(`import { ${name} } from '${entry}'; console.log(${name});`);
    const bytes = Buffer.byteLength(text);
    console.log(`bundle { ${name} } from '${entry}': ${bytes} bytes (target ${target})`);
    expect(text).not.toContain('worker_threads');
    expect(bytes).toBeLessThanOrEqual(target);
  });

  it("{ tensorKrum } from 'robust-agg/tfjs' (@tensorflow/* external): reported", async () => {
    const text = await bundle("import { tensorKrum } from 'robust-agg/tfjs'; console.log(tensorKrum);");
    console.log(`bundle { tensorKrum } from 'robust-agg/tfjs': ${Buffer.byteLength(text)} bytes (@tensorflow/* external)`);
    expect(text).not.toContain('worker_threads');
  });

  it('the whole library for a browser carries no worker-thread code; for Node it does', async () => {
    const all = "export * from 'robust-agg'; export * from 'robust-agg/tfjs';";
    const browser = await bundle(all);
    expect(browser).not.toContain('worker_threads');
    expect(browser).not.toContain('ROBUST_AGG_THREADS'); // no process environment in a page
    // The same bundle under Node's conditions keeps the worker pool (the check above can fail).
    const node = await bundle(all, 'node');
    expect(node).toContain('worker_threads');
    expect(node).toContain('ROBUST_AGG_THREADS');
  });
});

describe('the browser build computes what the Node build does', () => {
  it('krum, coordinateMedian, mean, flame: same bits, on WebAssembly, with no worker thread', async () => {
    const web = (await import(pathToFileURL(join(root, 'dist/browser/index.js')).href)) as typeof import('../../src/index.js');
    const node = (await import(pathToFileURL(join(root, 'dist/index.js')).href)) as typeof import('../../src/index.js');
    const rng = node.createRng(3);
    // Big enough for the WebAssembly kernels and, in Node, for the worker threads.
    const rows = Array.from({ length: 24 }, () => node.gaussianVector(200_000, rng));
    for (const lib of [web, node]) {
      lib.setKernelBackend('wasm');
      lib.setKernelThreads(2);
      await lib.initKernels();
    }
    const run = (lib: typeof web) => [
      lib.krumWithDecision(rows, { f: 3 }).decision.scores,
      lib.coordinateMedian(rows),
      lib.mean(rows),
      lib.flame(rows, { seed: 1 }),
    ];
    const a = run(web);
    const b = run(node);
    for (let k = 0; k < a.length; k++) expect(Array.from(a[k])).toEqual(Array.from(b[k]));
    expect(web.kernelStatus()).toMatchObject({ wasm: true, workersStarted: 0, workersReady: 0 });
    expect(node.kernelStatus().workerChunks).toBeGreaterThan(0); // Node's build did use workers
    for (const lib of [web, node]) {
      lib.setKernelBackend('auto');
      lib.setKernelThreads('auto');
      lib.releaseKernelResources();
    }
    // The browser build's files never name worker_threads.
    for (const file of readdirSync(join(root, 'dist/browser'), { recursive: true }) as string[]) {
      if (file.endsWith('.js')) expect(readFileSync(join(root, 'dist/browser', file), 'utf8')).not.toContain('worker_threads');
    }
  }, 60_000);
});
