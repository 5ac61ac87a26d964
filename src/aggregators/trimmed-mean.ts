import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, remainingByzantine, requireClients } from '../core/finite-clients.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { reduceColumns, trimmedMeanReducer } from '../kernels/column-select.js';

/** Options of {@link trimmedMean}: give exactly one of `f` and `beta`. */
export interface TrimmedMeanOptions extends CommonOptions {
  /**
   * Values trimmed from each tail per coordinate (the declared number of Byzantine clients): an
   * integer ≥ 0 with n ≥ 2f+1.
   */
  f?: number;
  /** Fraction in [0, 0.5) trimmed from each tail: ⌊β·n⌋ values per tail. */
  beta?: number;
}

/** Decision of {@link trimmedMean}: `trimmed` values were dropped from each tail per coordinate. */
export interface TrimmedMeanDecision extends Decision {
  /** Values dropped from each tail of every coordinate (f' after non-finite clients were dropped). */
  readonly trimmed: number;
}

/**
 * Coordinate-wise trimmed mean (Yin et al., ICML 2018): per coordinate, drop the f smallest and the
 * f largest values and average the n − 2f others. Needs n ≥ 2f+1. Clients dropped as non-finite
 * count against f, so f' = max(0, f − dropped) values are trimmed from each tail of the rest.
 *
 * Cost: two quickselects and one sum per coordinate over blocks of 256 columns, O(n·d) expected.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link TrimmedMeanOptions}: exactly one of `f` (an integer ≥ 0 with
 *   n ≥ 2f+1) and `beta` (in [0, 0.5)); `nonFinite` (default `'drop'`).
 * @returns the trimmed mean, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { trimmedMean } from 'robust-agg';
 *
 * // Ten clients, d = 2: values 1..10 in the first coordinate, 10..1 in the second.
 * const updates = Array.from({ length: 10 }, (_, i) => Float32Array.of(i + 1, 10 - i));
 * console.log(trimmedMean(updates, { f: 2 }));      // drop 2 per tail: [5.5, 5.5]
 * console.log(trimmedMean(updates, { beta: 0.1 })); // drop ⌊0.1·10⌋ = 1 per tail: [5.5, 5.5]
 * ```
 */
export function trimmedMean(updates: Updates, options: TrimmedMeanOptions): Float32Array {
  return trimmedMeanWithDecision(updates, options).aggregate;
}

/**
 * {@link trimmedMean} together with its {@link TrimmedMeanDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link TrimmedMeanOptions}: exactly one of `f` (an integer ≥ 0 with
 *   n ≥ 2f+1) and `beta` (in [0, 0.5)); `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { trimmedMeanWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1), Float32Array.of(2), Float32Array.of(NaN), Float32Array.of(4), Float32Array.of(100)];
 * const { aggregate, decision } = trimmedMeanWithDecision(updates, { f: 2 });
 * // Client 2 was dropped and counts against f, so one value per tail is trimmed from the rest.
 * console.log(decision.dropped, decision.trimmed, aggregate); // [2] 1 [3]
 * ```
 */
export function trimmedMeanWithDecision(
  updates: Updates,
  options: TrimmedMeanOptions,
): Aggregation<TrimmedMeanDecision> {
  const opts = readOptions('trimmedMean', options, ['f', 'beta', 'nonFinite']);
  const clients = finiteClients(updates, 'trimmedMean', opts.nonFinite);
  let f: number;
  if (opts.beta !== undefined && opts.f !== undefined) {
    throw new RobustAggError('INVALID_OPTION', 'trimmedMean takes { f } or { beta }, not both');
  }
  if (opts.beta !== undefined) {
    const beta = requireNumber('trimmedMean', 'beta', opts.beta, 0, 0.5);
    if (beta === 0.5) {
      throw new RobustAggError('INVALID_OPTION', 'trimmedMean: beta must be < 0.5, got 0.5');
    }
    f = Math.floor(beta * clients.n);
  } else if (opts.f !== undefined) {
    f = opts.f;
  } else {
    throw new RobustAggError('INVALID_OPTION', 'trimmedMean needs { f } or { beta }');
  }
  requireClients('trimmedMean', clients.n, f, 2, 1);
  const trim = remainingByzantine(f, clients);
  const aggregate = reduceColumns(clients.rows, trimmedMeanReducer(trim));
  return {
    aggregate,
    decision: { rule: 'trimmedMean', n: clients.n, dropped: clients.dropped, trimmed: trim },
  };
}
