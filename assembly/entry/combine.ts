// The "combine" kernels module: weighted combinations, the finiteness check and squared norms
// (src/kernels/combine.ts, finite.ts, norms.ts). The lightest module: a rule such as mean
// loads only this one.
export { accInit, accRows, accRowsChecked, accStore, allFinite, sumSquares } from '../combine';
