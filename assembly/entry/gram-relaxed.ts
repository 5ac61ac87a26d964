// The "gram" kernels module built with relaxed SIMD (`--enable relaxed-simd`): the same source as
// entry/gram.ts, whose tile then multiplies and adds with f32x4.relaxed_madd (one FMA where the
// engine fuses it). Loaded only after enableRelaxedSimd() (src/kernels/relaxed-simd.ts) found that
// this engine validates it: Chromium ≥ 114, Node ≥ 22.
export { gramRow, gramMedianRow, gramScale, gramRowWide, gramBlock } from '../gram';
