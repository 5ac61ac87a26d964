// The "pairs" kernels module: float64 dot products and squared distances of one new row against
// the rows an aggregation round already holds (src/server/pair-table.ts). Only the aggregation
// worker loads it, so no rule's bundle carries it.
export { pairsBlock, pairsBlockF, pairsBlock4F } from '../pairs';
