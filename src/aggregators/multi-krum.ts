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
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MultiKrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `m` (how many to average, an integer in [1, n]; default n − f), `nonFinite` (default `'drop'`).
 * @returns the average of the m selected clients, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { multiKrum } from 'robust-agg';
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
 * console.log(multiKrum(updates, { f: 2 }));       // average of the n − f = 5 best: the honest five
 * console.log(multiKrum(updates, { f: 2, m: 3 })); // average of the 3 best
 * ```
 */
export function multiKrum(updates: Updates, options: MultiKrumOptions): Float32Array {
  return multiKrumWithDecision(updates, options).aggregate;
}

/**
 * {@link multiKrum} together with its {@link KrumDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MultiKrumOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `m` (how many to average, an integer in [1, n]; default n − f), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { multiKrumWithDecision } from 'robust-agg';
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
 * const { decision } = multiKrumWithDecision(updates, { f: 2 });
 * console.log(decision.selected); // [0, 1, 2, 3, 4]
 * console.log(decision.weights);  // 0.2 for each of them, 0 for the attackers
 * ```
 */
export function multiKrumWithDecision(updates: Updates, options: MultiKrumOptions): Aggregation<KrumDecision> {
  const opts = readOptions('multiKrum', options, ['f', 'm', 'nonFinite']);
  return multiKrumCore('multiKrum', updates, opts.f as number, opts.m, opts.nonFinite);
}
