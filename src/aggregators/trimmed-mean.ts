import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, remainingByzantine, requireClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { allEqual, normalisedClientWeights, readClientWeights, scaledClientWeights } from '../core/weights.js';
import { reduceColumns, trimmedMeanReducer } from '../kernels/column-select.js';
import { weightedColumnTrimmedMean } from './weighted-quantile.js';

/** Options of {@link trimmedMean}: give exactly one of `f` and `beta`. */
export interface TrimmedMeanOptions extends CommonOptions {
  /**
   * Values trimmed from each tail per coordinate (the declared number of Byzantine clients): an
   * integer ≥ 0 with n ≥ 2f+1.
   */
  f?: number;
  /** Fraction in [0, 0.5) trimmed from each tail: ⌊β·n⌋ values per tail. */
  beta?: number;
  /**
   * One weight per client (e.g. local sample counts): an array-like of n finite numbers ≥ 0, not
   * all 0 over the finite clients, read once; clients dropped as non-finite lose theirs, the rest
   * are normalised to sum to 1 (as {@link mean} does). Per coordinate the output is then the
   * weighted trimmed mean (see {@link trimmedMean}), which trims the weight fraction t/m from each
   * tail, t the number of values the unweighted rule trims and m the number of finite clients.
   * Default: equal weights (the plain trimmed mean). Equal weights give the unweighted result, bit
   * for bit.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link trimmedMean}: `trimmed` values were dropped from each tail per coordinate. */
export interface TrimmedMeanDecision extends Decision {
  /**
   * Values dropped from each tail of every coordinate (f' after non-finite clients were dropped);
   * with `weights`, the weight fraction trimmed from each tail is trimmed / (n − dropped.length).
   */
  readonly trimmed: number;
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Coordinate-wise trimmed mean (Yin et al., ICML 2018): per coordinate, drop the f smallest and the
 * f largest values and average the n − 2f others. Needs n ≥ 2f+1. Clients dropped as non-finite
 * count against f, so f' = max(0, f − dropped) values are trimmed from each tail of the rest.
 *
 * **Client weights** (`weights`, normalised to wᵢ over the m finite clients): per coordinate the
 * weighted trimmed mean, trimming the weight mass β = t/m from each tail (t = f' values in the
 * unweighted rule), partial weights at the boundaries. Sort the values x₍₁₎ ≤ … ≤ x₍ₘ₎ with
 * cumulative weights Cⱼ = w₍₁₎ + … + w₍ⱼ₎ (C₀ = 0); value x₍ⱼ₎ keeps the part of [Cⱼ₋₁, Cⱼ]
 * inside [β, 1 − β]:
 * kⱼ = max(0, min(Cⱼ, 1 − β) − max(Cⱼ₋₁, β)), out = Σⱼ kⱼ·x₍ⱼ₎ / (1 − 2β).
 * This is the β-trimmed mean functional (1/(1 − 2β)) ∫_β^{1−β} F⁻¹(u) du (Huber & Ronchetti,
 * Robust Statistics, 2nd ed., 2009, §3.3) of the weighted empirical distribution F = Σ wᵢ δ(xᵢ);
 * equal weights give the mean of the m − 2t middle values. Cumulative weights are float64 sums of
 * the given weights, exact for integer weights (sample counts) whose total is below 2⁵³.
 *
 * **Weight liars.** A client's weight is its word. The output stays within the honest clients'
 * range on every coordinate while the Byzantine clients hold at most the trimmed fraction β = t/m
 * of the total weight (on each side); clients that claim more keep a share
 * (b − β)/(1 − 2β) of the output (b their weight fraction) and move it arbitrarily far. One client
 * that claims more than 1 − β of the weight decides every coordinate. Cap or verify sample counts
 * before passing them.
 *
 * Cost: two quickselects and one sum per coordinate over blocks of 256 columns, O(n·d) expected.
 * With unequal weights: a plain-TypeScript weighted quickselect per coordinate (expected O(n),
 * O(n log n) at worst, per coordinate), several times slower than the unweighted WebAssembly
 * kernel.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link TrimmedMeanOptions}: exactly one of `f` (an integer ≥ 0 with
 *   n ≥ 2f+1) and `beta` (in [0, 0.5)); `weights` (one finite weight ≥ 0 per client; default
 *   equal); `nonFinite` (default `'drop'`).
 * @returns the (weighted) trimmed mean, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { trimmedMean } from 'robust-agg';
 *
 * // Ten clients, d = 2: values 1..10 in the first coordinate, 10..1 in the second.
 * const updates = Array.from({ length: 10 }, (_, i) => Float32Array.of(i + 1, 10 - i));
 * console.log(trimmedMean(updates, { f: 2 }));      // drop 2 per tail: [5.5, 5.5]
 * console.log(trimmedMean(updates, { beta: 0.1 })); // drop ⌊0.1·10⌋ = 1 per tail: [5.5, 5.5]
 *
 * // Sample counts: client 9 (values 10 and 1) claims 11 of the 20 samples. The weight fraction
 * // 2/10 (4 samples) is trimmed from each tail; client 9 keeps 7 of its 11 in each column.
 * const weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, 11];
 * console.log(trimmedMean(updates, { f: 2, weights })); // [(5+6+7+8+9 + 7·10)/12, (7·1 + 2+3+4+5+6)/12] = [8.75, 2.25]
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
 *   n ≥ 2f+1) and `beta` (in [0, 0.5)); `weights` (one finite weight ≥ 0 per client; default
 *   equal); `nonFinite` (default `'drop'`).
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
  const opts = readOptions('trimmedMean', options, ['f', 'beta', 'weights', 'nonFinite']);
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
  if (opts.weights === undefined) {
    const aggregate = reduceColumns(clients.rows, trimmedMeanReducer(trim));
    return {
      aggregate,
      decision: { rule: 'trimmedMean', n: clients.n, dropped: clients.dropped, trimmed: trim },
    };
  }
  const given = readClientWeights('trimmedMean', opts.weights, clients.n);
  const normalised = normalisedClientWeights('trimmedMean', given, clients.index);
  const scaled = scaledClientWeights('trimmedMean', given, clients.index);
  let aggregate: Float32Array;
  if (allEqual(scaled)) {
    aggregate = reduceColumns(clients.rows, trimmedMeanReducer(trim));
  } else {
    // Clients of weight 0 take no part; the trimmed fraction is that of the unweighted rule.
    const rows: Float32Array[] = [];
    const positive: number[] = [];
    for (let k = 0; k < clients.rows.length; k++) {
      if (scaled[k] > 0) {
        rows.push(clients.rows[k]);
        positive.push(scaled[k]);
      }
    }
    aggregate = weightedColumnTrimmedMean(rows, Float64Array.from(positive), trim / clients.rows.length);
  }
  return {
    aggregate,
    decision: {
      rule: 'trimmedMean',
      n: clients.n,
      dropped: clients.dropped,
      trimmed: trim,
      clientWeights: weightsOverInput(normalised, clients),
    },
  };
}
