/**
 * Where the Gram kernel looks first: an aggregation round's worker (src/server/pair-table.ts)
 * sets `lookup` while it runs a rule on the rows it has already paired up as they arrived, so the
 * rule's Gram matrix comes from those statistics instead of a fresh pass over the data. `lookup`
 * answers null for rows it does not hold (or a centre it cannot give), and the kernel then runs as
 * usual. Null everywhere else: a plain call never consults anything.
 *
 * Each of the worker's hooks (this one, `heldCombine` in combine.ts, `heldFinite` in finite.ts)
 * lives in, or next to, the one module that reads it: only the worker's bundle assigns them, so
 * the bundler sees them null in the library's own chunks and drops the checks (no bytes in a
 * rule's bundle). A hook object shared by several chunks would be kept.
 *
 * @internal
 */
export const precomputedGram: {
  lookup: ((rows: readonly Float32Array[], centre: Float32Array | null | 'robust') => Float64Array | null) | null;
} = { lookup: null };
