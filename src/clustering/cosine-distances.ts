import { finiteClients } from '../core/finite-clients.js';
import type { Updates } from '../core/updates.js';
import { cosineDistancesFromGram } from '../kernels/cosine-distances.js';
import { gram } from '../kernels/gram.js';

/**
 * Pairwise cosine distances between client updates, the matrix FLAME clusters:
 * D_ij = 1 − ⟨xᵢ, xⱼ⟩ / (‖xᵢ‖ ‖xⱼ‖), clamped to [0, 2], zero on the diagonal. A zero update has
 * cosine similarity 0 with every other, so it sits at distance 1 from all of them (scikit-learn's
 * `cosine_distances` convention, which FLAME's reference code uses; Nguyen et al., USENIX
 * Security 2022).
 *
 * Computed from the float64 Gram matrix XXᵀ (one pass over the data, on the fast kernels when they
 * are on), so the n×d data is never copied. Returns a row-major n×n `Float64Array`, the form
 * {@link hdbscan} takes together with `n`. Unlike the aggregators, it throws `NON_FINITE_UPDATE`
 * on a client holding NaN or ±Infinity instead of dropping it: a distance matrix has one row per
 * client given.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d, all finite
 *   (NaN or ±Inf throws `NON_FINITE_UPDATE`); not modified.
 * @returns the n×n distances, row-major.
 *
 * @example
 * ```ts
 * import { cosineDistances, hdbscan } from 'robust-agg';
 *
 * // Five clients, d = 3: four point roughly the same way, client 4 the opposite way.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(-1, 1, -0.5),
 * ];
 * const dist = cosineDistances(updates);
 * console.log(dist[0 * 5 + 4]); // 2: opposite directions
 * // FLAME's clustering: one majority cluster (minClusterSize n/2 + 1), the rest noise.
 * const n = updates.length;
 * const { labels } = hdbscan(dist, { n, minClusterSize: Math.floor(n / 2) + 1, minSamples: 1, allowSingleCluster: true });
 * console.log(labels); // [0, 0, -1, 0, -1]: the densest core; client 2, at its edge, is left out too
 * ```
 */
export function cosineDistances(updates: Updates): Float64Array {
  const { rows, n } = finiteClients(updates, 'cosineDistances', 'throw');
  return cosineDistancesFromGram(gram(rows, null), n);
}
