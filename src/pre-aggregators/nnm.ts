import { finiteClients, remainingByzantine, requireClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { lowestScores } from '../aggregators/krum-scores.js';

/** Options of {@link nnm}. */
export interface NnmOptions extends CommonOptions {
  /**
   * Declared number of Byzantine clients, an integer ≥ 0 with n ≥ f+1; each update is replaced by
   * the mean of its n − f nearest. Required.
   */
  f: number;
}

/**
 * Nearest Neighbor Mixing (Allouah et al., "Fixing by mixing: a recipe for optimal Byzantine ML
 * under heterogeneity", AISTATS 2023): each update xᵢ is replaced by the mean of its n − f nearest
 * neighbours (itself included; distance ties go to the lower index). Returns one vector per finite
 * client; compose it with any aggregator through {@link pipeline}. Needs n ≥ f+1.
 *
 * Cost: one centred Gram pass, then n combine passes over n − f rows each (the output is n×d).
 *
 * @example
 * ```ts
 * import { nnm, krum, pipeline } from 'robust-agg';
 * const mixed = nnm(updates, { f: 2 });
 * const robust = pipeline((u) => nnm(u, { f: 2 }), (u) => krum(u, { f: 2 }));
 * ```
 */
export function nnm(updates: Updates, options: NnmOptions): Float32Array[] {
  const opts = readOptions('nnm', options, ['f', 'nonFinite']);
  const f = opts.f as number;
  const clients = finiteClients(updates, 'nnm', opts.nonFinite);
  requireClients('nnm', clients.n, f, 1, 1);
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
