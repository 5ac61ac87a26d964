import type { Aggregation } from '../core/decision.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { multiKrumCore, type KrumDecision } from './krum.js';

/** Options of {@link multiKrum}. */
export interface MultiKrumOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 2f+3. Required. */
  f: number;
  /**
   * How many of the best-scored clients to average: an integer in [1, n]. Default n − f (after
   * dropping non-finite rows: n' − f'); at most the number of finite clients is used.
   */
  m?: number;
}

/**
 * Multi-Krum (Blanchard et al., NeurIPS 2017): compute every client's Krum score once (sum of the
 * squared distances to its n − f − 2 nearest other clients) and average the m clients with the
 * lowest scores (ties: lowest index). m = 1 is Krum; the default m = n − f. Needs n ≥ 2f+3.
 *
 * Cost: one centred float64 Gram pass (n²d/2 multiply-adds), O(n²) selection, one combine pass.
 *
 * @example
 * ```ts
 * import { multiKrum } from 'robust-agg';
 * const out = multiKrum(updates, { f: 2 });        // average of the n−2 best
 * const top3 = multiKrum(updates, { f: 2, m: 3 }); // average of the 3 best
 * ```
 */
export function multiKrum(updates: Updates, options: MultiKrumOptions): Float32Array {
  return multiKrumWithDecision(updates, options).aggregate;
}

/**
 * {@link multiKrum} together with its {@link KrumDecision}.
 *
 * @example
 * ```ts
 * multiKrumWithDecision(updates, { f: 1 }).decision.selected;
 * ```
 */
export function multiKrumWithDecision(updates: Updates, options: MultiKrumOptions): Aggregation<KrumDecision> {
  const opts = readOptions('multiKrum', options, ['f', 'm', 'nonFinite']);
  return multiKrumCore('multiKrum', updates, opts.f as number, opts.m, opts.nonFinite);
}
