import { finiteClients } from '../core/finite-clients.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { rowNorms, scaled } from '../kernels/norms.js';

/** Options of {@link clipping}. */
export interface ClippingOptions extends CommonOptions {
  /** The norm bound τ: a finite number > 0. Required. */
  tau: number;
}

/**
 * Static norm clipping: xᵢ·min(1, τ/‖xᵢ‖) for every finite client, the usual pre-aggregation
 * step of differentially private and Byzantine-robust FL (e.g. Sun et al., "Can you really backdoor
 * federated learning?", 2019). Zero vectors stay zero. For a bound that adapts to the updates, see
 * {@link arc}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link ClippingOptions}: `tau` (required, the norm bound τ, finite > 0),
 *   `nonFinite` (default `'drop'`).
 * @returns one new `Float32Array` per finite client, in order, each of norm at most τ.
 * @example
 * ```ts
 * import { clipping, mean, pipeline } from 'robust-agg';
 *
 * const updates = [Float32Array.of(0.3, 0.4), Float32Array.of(3, 4), Float32Array.of(-600, 800)];
 * console.log(clipping(updates, { tau: 1 })); // [0.3, 0.4], [0.6, 0.8], [-0.6, 0.8]
 * const normBounded = pipeline((u) => clipping(u, { tau: 1 }), (u) => mean(u));
 * console.log(normBounded(updates)); // [0.1, 0.666…]
 * ```
 */
export function clipping(updates: Updates, options: ClippingOptions): Float32Array[] {
  const opts = readOptions('clipping', options, ['tau', 'nonFinite']);
  const tau = requireNumber('clipping', 'tau', opts.tau as number, 0, Infinity, true);
  const { rows } = finiteClients(updates, 'clipping', opts.nonFinite);
  const norms = rowNorms(rows);
  return rows.map((x, i) => scaled(x, norms[i] > tau ? tau / norms[i] : 1));
}
