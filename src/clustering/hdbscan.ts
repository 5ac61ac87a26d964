import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger } from '../core/options.js';
import {
  clusterStabilities,
  condenseTree,
  labelPoints,
  selectClustersEom,
  type CondensedTree,
} from './condensed-tree.js';
import { toSquareMatrix, type DistanceMatrix } from './distance-matrix.js';
import { coreDistances, primEdges, singleLinkage, type SingleLinkageTree } from './single-linkage.js';

/** Largest integer option {@link hdbscan} accepts (2³¹ − 1; values above n act as n anyway). */
const MAX_SIZE = 2_147_483_647; // 2³¹ − 1 (a literal: bundlers keep a top-level ** expression)

/** Options of {@link hdbscan}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface HdbscanOptions {
  /**
   * Smallest number of points a cluster may have; an integer in [2, 2³¹ − 1] (values above n give
   * no cluster). Default 5 (the hdbscan package's).
   */
  minClusterSize?: number;
  /**
   * Neighbours that define a point's core distance, the point itself excluded (the hdbscan
   * package's convention; sklearn's own HDBSCAN counts the point). An integer in [1, 2³¹ − 1];
   * values ≥ n act as n − 1. Default: minClusterSize.
   */
  minSamples?: number;
  /** Whether the root (all points) may be selected as the one cluster (a boolean). Default false. */
  allowSingleCluster?: boolean;
  /**
   * Number of points, to check a flat matrix against (it is inferred from the length n²); an
   * integer in [1, 2³¹ − 1].
   */
  n?: number;
}

/** What {@link hdbscan} found: the labels and everything needed to see why. */
export interface HdbscanResult {
  /** Cluster of each point, 0, 1, … in ascending condensed-tree id; −1 for noise. */
  readonly labels: Int32Array;
  /**
   * λ = 1/distance at which each point leaves the condensed tree (+∞ at distance 0): the density
   * up to which it stays in its cluster. With FLAME's parameters the admitted points are exactly
   * those whose λ equals the largest λ of the root.
   */
  readonly lambdas: Float64Array;
  /** Core distance of each point: its minSamples-th nearest other point's distance. */
  readonly coreDistances: Float64Array;
  /** The single-linkage tree of the mutual-reachability distances (merges in ascending height). */
  readonly singleLinkage: SingleLinkageTree;
  /** The condensed tree; the root cluster has id n. */
  readonly condensedTree: CondensedTree;
  /** Stability of each condensed cluster, indexed by cluster id − n (before EOM propagation). */
  readonly stability: Float64Array;
  /** Condensed-tree ids of the selected clusters, ascending: label k is cluster `clusters[k]`. */
  readonly clusters: Int32Array;
}

/**
 * HDBSCAN on a precomputed distance matrix (Campello, Moulavi & Sander, "Density-based clustering
 * based on hierarchical density estimates", PAKDD 2013), with the semantics of the hdbscan package
 * 0.8.x (McInnes, Healy & Astels, JOSS 2017; McInnes & Healy, "Accelerated hierarchical density
 * based clustering", ICDMW 2017), so its labels equal the package's:
 * core_i = minSamples-th nearest other point; mr(i, j) = max(core_i, core_j, d_ij); dense Prim
 * minimum spanning tree from point 0; edges sorted by weight (stable sort); single-linkage tree;
 * condensed tree with minClusterSize (λ = 1/distance); stability Σ (λ − λ_birth)·size;
 * excess-of-mass selection (children replace a parent only when their summed stability is
 * strictly greater; the root is a candidate only with allowSingleCluster); a point whose cluster
 * is the root keeps label 0 only if its λ is ≥ the largest λ among the root's rows.
 *
 * Where equal distances make several minimum spanning trees possible, the package's unstable sort
 * may choose another one; the stable sort here makes the result depend on the input order only.
 *
 * Cost: O(n²) time and O(n²) memory (the matrix itself; no second n×n array).
 * n = 1 gives the label −1 (a cluster needs minClusterSize ≥ 2 points).
 *
 * @param distances - n×n matrix as `number[][]` or a row-major `Float64Array` of length n²: numbers
 *   ≥ 0 (+∞ = unreachable), zero diagonal, symmetric within a relative 10⁻⁹ (see
 *   {@link DistanceMatrix}); anything else throws `INVALID_OPTION` naming the entry.
 * @param options - see {@link HdbscanOptions}: `minClusterSize` (an integer ≥ 2; default 5),
 *   `minSamples` (an integer ≥ 1; default minClusterSize), `allowSingleCluster` (default false),
 *   `n` (to check a flat matrix against; default inferred from its length).
 * @example
 * ```ts
 * import { hdbscan } from 'robust-agg';
 *
 * const d = [
 *   [0, 1, 1, 9],
 *   [1, 0, 1, 9],
 *   [1, 1, 0, 9],
 *   [9, 9, 9, 0],
 * ];
 * const { labels } = hdbscan(d, { minClusterSize: 3, minSamples: 1, allowSingleCluster: true });
 * console.log(labels); // Int32Array [0, 0, 0, -1]: one cluster, and point 3 is noise
 * ```
 */
export function hdbscan(distances: DistanceMatrix, options?: HdbscanOptions): HdbscanResult {
  const rule = 'hdbscan';
  const opts = readOptions(rule, options, ['minClusterSize', 'minSamples', 'allowSingleCluster', 'n']);
  const minClusterSize = requireInteger(rule, 'minClusterSize', opts.minClusterSize ?? 5, 2, MAX_SIZE);
  const minSamples = requireInteger(rule, 'minSamples', opts.minSamples ?? minClusterSize, 1, MAX_SIZE);
  const allowSingleCluster = opts.allowSingleCluster ?? false;
  if (typeof allowSingleCluster !== 'boolean') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: allowSingleCluster must be a boolean, got ${describeValue(allowSingleCluster)}`,
    );
  }
  if (opts.n !== undefined) requireInteger(rule, 'n', opts.n, 1, MAX_SIZE);
  const matrix = toSquareMatrix(distances, rule, opts.n);
  const n = matrix.n;
  const core = coreDistances(matrix, minSamples);
  const tree = singleLinkage(n, primEdges(matrix, core));
  const condensedTree = condenseTree(tree, n, minClusterSize);
  const stability = n === 1 ? new Float64Array(1) : clusterStabilities(condensedTree, n);
  const selected =
    n === 1 ? new Uint8Array(1) : selectClustersEom(condensedTree, n, stability, allowSingleCluster);
  const { labels, lambdas } =
    n === 1 ? { labels: Int32Array.of(-1), lambdas: new Float64Array(1) } : labelPoints(condensedTree, n, selected);
  const clusters: number[] = [];
  for (let c = 0; c < selected.length; c++) if (selected[c] === 1) clusters.push(n + c);
  return {
    labels,
    lambdas,
    coreDistances: core,
    singleLinkage: tree,
    condensedTree,
    stability,
    clusters: Int32Array.from(clusters),
  };
}
