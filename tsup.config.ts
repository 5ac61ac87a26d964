import { defineConfig } from 'tsup';

// Two entries: the dependency-free core ('robust-agg') and the TF.js adapters ('robust-agg/tfjs').
// TF.js stays external: it is an optional peer dependency, never bundled.
export default defineConfig({
  entry: { index: 'src/index.ts', 'tfjs/index': 'src/tfjs/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not shipped: the tarball stays small and no map points to sources it does not contain
  clean: true,
  treeshake: true,
  splitting: true,
  target: 'node20',
  external: [/^@tensorflow\//],
});
