import { defineConfig } from 'tsup';

// Three entries: the dependency-free core ('robust-agg'), the tensor adapters and rules
// ('robust-agg/tfjs', tfjs-core only) and the LayersModel defenses ('robust-agg/defenses', tfjs-layers).
// TF.js stays external: it is an optional peer dependency, never bundled.
export default defineConfig({
  entry: { index: 'src/index.ts', 'tfjs/index': 'src/tfjs/index.ts', 'defenses/index': 'src/defenses/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: false, // not shipped: the tarball stays small and no map points to sources it does not contain
  clean: true,
  treeshake: true,
  splitting: true,
  target: 'node20',
  external: [/^@tensorflow\//],
});
