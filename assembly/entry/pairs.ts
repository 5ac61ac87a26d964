// The "pairs" kernels module: float64 dot products and squared distances of one new row against
// the rows an aggregation round already holds (src/server/pair-table.ts), and the weighted sum of
// those rows read in place at close (with the combine module's accInit/accStore, so the bits are
// the combine kernel's). Only the aggregation worker loads it, so no rule's bundle carries it.
export { pairsBlock, pairsBlockF, pairsBlock4F, accRowsAt, maxAbs } from '../pairs';
export { accInit, accStore } from '../combine';
