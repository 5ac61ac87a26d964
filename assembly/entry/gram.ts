// The "gram" kernels module: the centred Gram matrix (src/kernels/gram.ts), for every rule that
// decides in client space (krum, geometric median, FLAME, ...).
export { gramRow, gramMedianRow, gramScale, gramRowWide, gramBlock } from '../gram';
