import { finiteClients, remainingByzantine, requireClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { rowNorms, scaled } from '../kernels/norms.js';

/** Options of {@link arc}. */
export interface ArcOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ f+1. Required. */
  f: number;
}

/**
 * Adaptive Robust Clipping, ARC (Allouah et al., "Boosting robustness by clipping gradients in
 * distributed learning", ICLR 2025): with k = ⌊2(f/n)(n − f)⌋, the k updates of largest norm are
 * clipped to the norm of the (k+1)-th largest; the others pass unchanged. Needs n ≥ f+1 (with n'
 * finite clients and f' = max(0, f − dropped) after non-finite rows are dropped).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link ArcOptions}: `f` (required, an integer ≥ 0 with n ≥ f+1),
 *   `nonFinite` (default `'drop'`).
 * @returns one new `Float32Array` per finite client, in order: the k largest clipped, the others
 *   copied.
 * @example
 * ```ts
 * import { arc, coordinateMedian, pipeline } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * // k = ⌊2·(2/7)·5⌋ = 2: the two largest updates are clipped to the third largest norm.
 * console.log(arc(updates, { f: 2 }).map((x) => Math.hypot(...x).toFixed(3)));
 * const robust = pipeline((u) => arc(u, { f: 2 }), (u) => coordinateMedian(u));
 * console.log(robust(updates));
 * ```
 */
export function arc(updates: Updates, options: ArcOptions): Float32Array[] {
  const opts = readOptions('arc', options, ['f', 'nonFinite']);
  const clients = finiteClients(updates, 'arc', opts.nonFinite);
  requireClients('arc', clients.n, opts.f as number, 1, 1);
  const rows = clients.rows;
  const m = rows.length;
  const f = remainingByzantine(opts.f as number, clients);
  const k = Math.min(m - 1, Math.floor((2 * f * (m - f)) / m));
  const norms = rowNorms(rows);
  const byNorm = Array.from({ length: m }, (_, i) => i).sort((a, b) => norms[b] - norms[a] || a - b);
  const bound = norms[byNorm[k]];
  const clipped = new Set(byNorm.slice(0, k));
  return rows.map((x, i) => (clipped.has(i) && norms[i] > bound ? scaled(x, bound / norms[i]) : Float32Array.from(x)));
}
