import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Options } from 'tsup';

// Three entries: the dependency-free core ('robust-agg'), the tensor adapters and rules
// ('robust-agg/tfjs', tfjs-core only) and the LayersModel defenses ('robust-agg/defenses', tfjs-layers).
// TF.js stays external: it is an optional peer dependency, never bundled.
const entry = { index: 'src/index.ts', 'tfjs/index': 'src/tfjs/index.ts', 'defenses/index': 'src/defenses/index.ts' };

/**
 * The browser build's file swap: a relative import of `x.js` inside src/ resolves to `x.browser.ts`
 * where that file exists. src/kernels/workers/pool.browser.ts and dispatch.browser.ts never start
 * a worker thread (a browser has no worker_threads), so the pool, the packing code and the 10 KB
 * worker script stay out of browser bundles; src/kernels/wasm/environment.browser.ts reads no
 * ROBUST_AGG_* variables. Everything else is the same code as the Node build.
 */
const browserFiles = {
  name: 'robust-agg-browser-files',
  setup(build: { onResolve(options: { filter: RegExp }, callback: (args: { path: string; resolveDir: string }) => { path: string } | undefined): void }) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const swapped = path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts'));
      return existsSync(swapped) ? { path: swapped } : undefined;
    });
  },
};

// Both builds write into dist/ at the same time (tsup runs them concurrently), so dist/ is
// cleaned once here rather than by each build.
rmSync('dist', { recursive: true, force: true });

const shared: Options = {
  entry,
  treeshake: true,
  splitting: true,
  sourcemap: false, // not shipped: the tarball stays small and no map points to sources it does not contain
  clean: false,
  external: [/^@tensorflow\//],
};

export default defineConfig([
  // Node (and Deno, Bun): ESM and CJS, worker threads for the biggest kernel calls.
  // robust-agg/shard (Node only: child processes) and its shard process script join the Node build.
  {
    ...shared,
    entry: { ...entry, 'shard/index': 'src/shard/index.ts', 'shard/worker': 'src/shard/worker.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
  },
  // Browsers (the package's "browser" export condition): ESM only, no worker-thread code; the
  // types are the Node build's (same API).
  {
    ...shared,
    format: ['esm'],
    dts: false,
    outDir: 'dist/browser',
    platform: 'browser',
    target: 'es2022',
    esbuildPlugins: [browserFiles],
  },
]);
