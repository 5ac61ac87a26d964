import { finiteClients, remainingByzantine, requireClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { lowestScores } from '../aggregators/krum-scores.js';

/** Options of {@link nnm}. */
export interface NnmOptions extends CommonOptions {
  /**
   * Declared number of Byzantine clients, an integer ≥ 0 with n ≥ 2f+1 (an honest majority, the
   * setting of the paper's guarantee); each update is replaced by the mean of its n − f nearest.
   * Required.
   */
  f: number;
}

/**
 * Nearest Neighbor Mixing (Allouah et al., "Fixing by mixing: a recipe for optimal Byzantine ML
 * under heterogeneity", AISTATS 2023): each update xᵢ is replaced by the mean of its n − f nearest
 * neighbours (itself included; distance ties go to the lower index). Returns one vector per finite
 * client; compose it with any aggregator through {@link pipeline}. Needs n ≥ 2f+1: the paper's
 * analysis assumes an honest majority, and so does the Gram matrix's robust centre (per block, the
 * row of median magnitude): with a Byzantine majority that row is an attacker's, honest rows are
 * centred on it and their distances cancel.
 *
 * Cost: one centred Gram pass, then n combine passes over n − f rows each (the output is n×d).
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link NnmOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `nonFinite` (default `'drop'`).
 * @returns one new `Float32Array` per finite client, in order: the mean of its n − f nearest.
 * @example
 * ```ts
 * import { krum, nnm, pipeline } from 'robust-agg';
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
 * const mixed = nnm(updates, { f: 2 });
 * console.log(mixed.length, mixed[5]); // 7; the attacker's row is now mostly the honest mean
 * const robust = pipeline((u) => nnm(u, { f: 2 }), (u) => krum(u, { f: 2 }));
 * console.log(robust(updates));
 * ```
 */
export function nnm(updates: Updates, options: NnmOptions): Float32Array[] {
  const opts = readOptions('nnm', options, ['f', 'nonFinite']);
  const f = opts.f as number;
  const clients = finiteClients(updates, 'nnm', opts.nonFinite);
  requireClients('nnm', clients.n, f, 2, 1);
  const rows = clients.rows;
  const m = rows.length;
  const keep = m - remainingByzantine(f, clients);
  if (m === 1) return [Float32Array.from(rows[0])];
  const dist = squaredDistancesFromGram(gram(rows, 'robust'), m);
  const w = new Float64Array(m);
  return rows.map((_, i) => {
    w.fill(0);
    for (const j of lowestScores(dist.subarray(i * m, (i + 1) * m), keep)) w[j] = 1 / keep;
    return combine(rows, w);
  });
}
