import { symmetricEigen } from '../core/symmetric-eigen.js';
import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../core/finite-clients.js';
import { readOptions, requireInteger, requireNumber, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram } from '../kernels/gram.js';
import { lowestScores } from './krum-scores.js';
import { sampleIndices } from './catalogue-similarity.js';

/**
 * Most subsamples {@link dnc} runs (`iterations`): each costs up to one Gram pass over the data
 * (n²·min(b, d)/2 multiply-adds) and an O(n³) eigen-decomposition, so a call costs at most 100
 * Gram passes.
 */
export const DNC_MAX_ITERATIONS = 100;

/** Most values the subsamples gathered together hold (2²⁴ float32, 64 MiB), beyond one subsample. */
const DNC_GATHER_VALUES = 2 ** 24;

/** Options of {@link dnc}. Randomized: pass `seed` or `rng`. Unknown keys throw `UNKNOWN_OPTION`. */
export interface DncOptions extends CommonOptions, RandomOptions {
  /** Declared number of Byzantine clients f: an integer ≥ 0 with n ≥ f + 1. */
  f: number;
  /**
   * Number of random coordinate subsamples, niters: an integer in [1, {@link DNC_MAX_ITERATIONS}]
   * (100). Default 5 (FLPoison's default).
   */
  iterations?: number;
  /**
   * Coordinates per subsample, b (drawn without replacement): an integer ≥ 1; values ≥ d take all
   * d coordinates (so memory stays max(n·min(b, d), 2²⁴) values). Default min(d, 10 000), the order of magnitude
   * the paper uses.
   */
  subsampleDimension?: number;
  /**
   * Filtering fraction c: each subsample removes the ⌈c·f'⌉ highest scores. A finite number ≥ 0
   * with ⌈c·f'⌉ < n' (n' finite clients, f' Byzantine among them); otherwise `TOO_FEW_CLIENTS`.
   * Default 1.
   */
  filterFraction?: number;
}

/** Decision of {@link dnc}. */
export interface DncDecision extends Decision {
  /** Clients averaged (ascending): those kept by every subsample (see `timesKept`). */
  readonly selected: readonly number[];
  /** 1/|selected| for the selected clients, 0 otherwise. */
  readonly weights: Float64Array;
  /** In how many of the `iterations` subsamples each client was among the kept ones (0 if dropped). */
  readonly timesKept: Int32Array;
  /** Outlier scores of the last subsample, λ₁·u_i² (NaN for dropped clients). */
  readonly scores: Float64Array;
}

/**
 * Divide-and-Conquer (Shejwalkar & Houmansadr, "Manipulating the Byzantine: optimizing model
 * poisoning attacks and defenses for federated learning", NDSS 2021, Algorithm 2). `iterations`
 * times: draw b coordinates at random, centre the subsampled updates on their mean, project them
 * on the top right singular vector v of the centred n×b matrix, score sᵢ = ⟨xᵢ − μ, v⟩², and keep
 * the n − ⌈c·f⌉ lowest scores. The output is the mean of the clients kept every time.
 *
 * In client space: the top right singular vector comes from the top eigenpair (λ₁, u) of the
 * doubly centred n×n Gram matrix of the subsample, and sᵢ = λ₁·uᵢ² exactly, so no d-space vector
 * is formed. The eigen-decomposition is the core's symmetric one (Householder + QL).
 *
 * Conventions: ties in the scores keep the lower index; if the intersection is empty (possible
 * when c·f is close to n/2 and iterations > 1), the clients kept in the largest number of
 * subsamples are averaged instead (this equals the intersection whenever it is not empty).
 * Randomness only picks coordinates, so with a fixed seed the result does not depend on the
 * order of the clients. Non-finite clients are dropped and count against f. Needs n ≥ f+1 and
 * n > ⌈c·f'⌉.
 *
 * Hostile numbers: the scores come from a float64 Gram matrix of the subsample centred on a
 * reference no minority can choose (`'robust'`), so any finite float32 updates (up to ±3.4·10³⁸,
 * a sparse 10³⁰ "blinder", the attacker at row 0) give finite scores and a client far along the
 * top direction gets the top score; the output is the mean of kept clients, finite and inside
 * their per-coordinate range. With c·f' at least the number of such clients they are all removed
 * (tested on both kernels). DnC only sees the sampled coordinates: a client that differs from the
 * others only off the sample passes that subsample, which is why `iterations` > 1 and the
 * intersection matter when b < d. Identical clients score 0 and the lower indices are kept.
 *
 * Cost: per subsample a gather of n·b values (the subsamples are gathered in groups of up to 2²⁴
 * values, each row read once per group), a Gram of n²b/2 multiply-adds and an O(n³) EVD; one
 * combine pass over the data.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link DncOptions}: `f` (required, an integer ≥ 0 with n ≥ f+1), `seed` or
 *   `rng` (required: the rule is randomized), `iterations` (an integer in [1, 100]; default 5),
 *   `subsampleDimension` (b, an integer ≥ 1; default min(d, 10 000)), `filterFraction` (c, finite
 *   ≥ 0; default 1), `nonFinite` (default `'drop'`).
 * @returns the mean of the clients kept by every subsample, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { dnc } from 'robust-agg';
 *
 * // Twelve clients, d = 50: ten honest ones around a common direction, two attackers along −it.
 * const direction = Float32Array.from({ length: 50 }, (_, k) => Math.sin(k));
 * const updates = Array.from({ length: 12 }, (_, i) =>
 *   Float32Array.from(direction, (v, k) => (i < 10 ? v + 0.1 * Math.cos(7 * i + k) : -5 * v)),
 * );
 * const out = dnc(updates, { f: 2, seed: 42 }); // 5 subsamples of all 50 coordinates
 * const strict = dnc(updates, { f: 2, iterations: 3, subsampleDimension: 20, filterFraction: 1.5, seed: 7 });
 * console.log(out.slice(0, 3), strict.slice(0, 3)); // both close to the honest mean
 * ```
 */
export function dnc(updates: Updates, options: DncOptions): Float32Array {
  return dncWithDecision(updates, options).aggregate;
}

/**
 * {@link dnc} together with its {@link DncDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link DncOptions}: `f` (required, an integer ≥ 0 with n ≥ f+1), `seed` or
 *   `rng` (required: the rule is randomized), `iterations` (an integer in [1, 100]; default 5),
 *   `subsampleDimension` (b, an integer ≥ 1; default min(d, 10 000)), `filterFraction` (c, finite
 *   ≥ 0; default 1), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { dncWithDecision } from 'robust-agg';
 *
 * // Twelve clients, d = 50: ten honest ones around a common direction, two attackers along −it.
 * const direction = Float32Array.from({ length: 50 }, (_, k) => Math.sin(k));
 * const updates = Array.from({ length: 12 }, (_, i) =>
 *   Float32Array.from(direction, (v, k) => (i < 10 ? v + 0.1 * Math.cos(7 * i + k) : -5 * v)),
 * );
 * const { decision } = dncWithDecision(updates, { f: 2, seed: 1 });
 * console.log(decision.selected);  // [0, …, 9]: the attackers were removed
 * console.log(decision.timesKept); // 5 for the honest clients, 0 for the attackers
 * ```
 */
export function dncWithDecision(updates: Updates, options: DncOptions): Aggregation<DncDecision> {
  const rule = 'dnc';
  const opts = readOptions(rule, options, ['f', 'iterations', 'subsampleDimension', 'filterFraction', 'seed', 'rng', 'nonFinite']);
  const iterations = requireInteger(rule, 'iterations', opts.iterations ?? 5, 1, DNC_MAX_ITERATIONS);
  const filterFraction = requireNumber(rule, 'filterFraction', opts.filterFraction ?? 1, 0);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const f = opts.f as number;
  requireClients(rule, clients.n, f, 1, 1);
  const { rows, d } = clients;
  const b = Math.min(d, requireInteger(rule, 'subsampleDimension', opts.subsampleDimension ?? Math.min(d, 10000), 1));
  const rng = resolveValidRng(opts, rule);
  const m = rows.length;
  const removed = Math.ceil(filterFraction * remainingByzantine(f, clients) - 1e-12);
  const keep = m - removed;
  if (keep < 1) {
    throw new RobustAggError(
      'TOO_FEW_CLIENTS',
      `${rule} needs more than ⌈c·f⌉ finite clients, got ${m} finite clients with c=${filterFraction}, f=${f}`,
    );
  }

  const timesKept = new Int32Array(m);
  let scores: Float64Array = new Float64Array(m);
  // Subsamples are gathered in groups: the group's column sets are drawn first (the same draws, in
  // the same order, as one at a time), then each row is read once for the whole group while it is
  // still in cache, instead of once per subsample from memory. A group holds at most 2²⁴ values
  // (64 MiB) or one subsample, whichever is more.
  const group = Math.max(1, Math.min(iterations, Math.floor(DNC_GATHER_VALUES / (m * b))));
  const subs = Array.from({ length: group }, () => rows.map(() => new Float32Array(b)));
  for (let it0 = 0; it0 < iterations; it0 += group) {
    const count = Math.min(group, iterations - it0);
    const columnSets = Array.from({ length: count }, () => sampleIndices(d, b, rng));
    for (let k = 0; k < m; k++) {
      const row = rows[k];
      for (let g = 0; g < count; g++) {
        const columns = columnSets[g];
        const out = subs[g][k];
        for (let t = 0; t < columns.length; t++) out[t] = row[columns[t]];
      }
    }
    for (let g = 0; g < count; g++) {
      scores = centredProjectionScores(gram(subs[g], 'robust'), m);
      for (const k of lowestScores(scores, keep)) timesKept[k]++;
    }
  }

  let most = 0;
  for (let k = 0; k < m; k++) if (timesKept[k] > most) most = timesKept[k];
  const chosen: number[] = [];
  for (let k = 0; k < m; k++) if (timesKept[k] === most) chosen.push(k);
  const w = new Float64Array(m);
  for (const k of chosen) w[k] = 1 / chosen.length;

  const kept = new Int32Array(clients.n);
  const allScores = new Float64Array(clients.n).fill(NaN);
  for (let k = 0; k < m; k++) {
    kept[clients.index[k]] = timesKept[k];
    allScores[clients.index[k]] = scores[k];
  }
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      timesKept: kept,
      scores: allScores,
    },
  };
}

/**
 * DnC's outlier scores from the Gram matrix of a subsample centred on any reference row:
 * double-centre it (Y Yᵀ with Y the rows minus their mean, exactly, in float64), take its top
 * eigenpair (λ₁, u), return sᵢ = λ₁·uᵢ² = ⟨yᵢ, v⟩² for the top right singular vector v of Y.
 */
function centredProjectionScores(g: Float64Array, n: number): Float64Array {
  const centred = doubleCentre(g, n);
  const { value, vector } = largestEigenpair(centred, n);
  const scores = new Float64Array(n);
  if (value <= 0) return scores; // every subsampled row equals the mean: nothing stands out
  for (let i = 0; i < n; i++) scores[i] = value * vector[i] * vector[i];
  return scores;
}

/** J G J with J = I − 11ᵀ/n: the Gram matrix of the rows centred on their mean. */
export function doubleCentre(g: Float64Array, n: number): Float64Array {
  const rowMean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += g[i * n + j];
    rowMean[i] = s / n;
    total += s;
  }
  const grand = total / (n * n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = g[i * n + j] - rowMean[i] - rowMean[j] + grand;
  }
  return out;
}

/**
 * The largest eigenvalue of a symmetric n×n matrix (row-major) and a unit eigenvector for it,
 * by the core's symmetric eigen-decomposition (Householder tridiagonalisation + implicit QL). The
 * matrix is symmetrised first against rounding. Shared by {@link dnc} and `caf`.
 */
export function largestEigenpair(a: Float64Array, n: number): { value: number; vector: Float64Array } {
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) sym[i * n + j] = (a[i * n + j] + a[j * n + i]) / 2;
  }
  const { values, vectors } = symmetricEigen(sym, n);
  const best = n - 1; // ascending order: the largest comes last
  const vector = new Float64Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    vector[i] = vectors[i * n + best];
    norm += vector[i] * vector[i];
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < n; i++) vector[i] /= norm;
  return { value: values[best], vector };
}
