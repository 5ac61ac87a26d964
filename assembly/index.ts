// robust-agg's WebAssembly SIMD kernels. Every function works on raw addresses in the module's
// memory; the TypeScript side (src/kernels/wasm/) lays out the blocks, copies rows in and
// results out. No allocation happens here.
export { gramRow, gramMedianRow, gramScale, gramRowWide, gramBlock, addF64 } from './gram';
export { accInit, accRows, accRowsChecked, accStore, allFinite, sumSquares } from './combine';
export { selectColumns, networkColumns } from './select';
