// Public exports of src/clustering/ (named re-exports only).
export { cosineDistances } from './cosine-distances.js';
export { hdbscan, type HdbscanOptions, type HdbscanResult } from './hdbscan.js';
export type { DistanceMatrix } from './distance-matrix.js';
export type { CondensedTree } from './condensed-tree.js';
export type { SingleLinkageTree } from './single-linkage.js';
