import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../core/finite-clients.js';
import { readOptions, requireInteger, type CommonOptions } from '../core/options.js';
import { symmetricEigen } from '../core/symmetric-eigen.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { finiteClientsGram, gram, squaredDistancesFromGram } from '../kernels/gram.js';

/** Default most subsets {@link smea} agrees to search: C(n, f) above it throws `UNSUPPORTED`. */
export const SMEA_DEFAULT_MAX_SUBSETS = 100_000;

/**
 * Largest `maxSubsets` {@link smea} accepts: 10⁶ subsets. A subset reached by the search costs a
 * Cholesky test (and, when it may beat the best one, an eigen-decomposition) of an (n−f)×(n−f)
 * matrix, so the time grows as C(n, f)·(n − f)³; see {@link SMEA_MAX_WORK} for the second guard.
 * Measured on a loaded 2-core machine with isotropic Gaussian clients (the hardest case for the
 * pruning): n = 20, f = 4 (4 845 subsets) 0.1 s; n = 30, f = 5 (142 506) 2.5 s; n = 50, f = 3
 * (19 600) 5–12 s; n = 30, f = 6 (593 775) 13–19 s.
 */
export const SMEA_MAX_SUBSETS_LIMIT = 1_000_000;

/**
 * Largest estimated work {@link smea} accepts, whatever `maxSubsets` says: C(n', f')·(n' − f')³/6
 * multiply-adds (the Cholesky tests of every candidate subset) at most 2·10¹⁰, about a minute or
 * two in the worst case; above it the rule throws `UNSUPPORTED`. For example n = 100, f = 2 (4 950
 * subsets of 98) is 7.8·10⁸; n = 60, f = 4 (487 635 subsets of 56) is 1.4·10¹⁰.
 */
export const SMEA_MAX_WORK = 2e10;

/** Options of {@link smea}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface SmeaOptions extends CommonOptions {
  /** Declared number of Byzantine clients f: an integer ≥ 0 with n ≥ 2f+1. Required. */
  f: number;
  /**
   * Most candidate subsets the exact search may face: when C(n', f') exceeds it (n' finite
   * clients, f' Byzantine left) the rule throws `UNSUPPORTED` instead of running for an
   * exponential time. An integer in [1, {@link SMEA_MAX_SUBSETS_LIMIT}] (10⁶). Default
   * {@link SMEA_DEFAULT_MAX_SUBSETS} (10⁵; e.g. n = 20, f = 4 is 4 845 subsets, n = 30, f = 5 is
   * 142 506).
   */
  maxSubsets?: number;
}

/** Decision of {@link smea}. */
export interface SmeaDecision extends Decision {
  /** The n − f clients of the selected subset (ascending). */
  readonly selected: readonly number[];
  /** 1/(n − f) for the selected clients, 0 otherwise. */
  readonly weights: Float64Array;
  /**
   * Largest eigenvalue of the selected subset's empirical covariance
   * (1/|S|) Σ_{i∈S} (xᵢ − x̄_S)(xᵢ − x̄_S)ᵀ.
   */
  readonly maxEigenvalue: number;
}

/**
 * Smallest maximum eigenvalue averaging (SMEA; Allouah, Guerraoui, Gupta, Pinot & Stephan, "On
 * the privacy-robustness-utility trilemma in distributed learning", ICML 2023): among all subsets
 * S of n − f clients, take the one whose empirical covariance
 * Σ_S = (1/|S|) Σ_{i∈S} (xᵢ − x̄_S)(xᵢ − x̄_S)ᵀ has the smallest largest eigenvalue λ_max(Σ_S),
 * and return its mean x̄_S. Needs n ≥ 2f+1. Its error is within a constant of the optimal one for
 * honest updates of bounded covariance, whatever f clients send.
 *
 * Decided in client space: λ_max(Σ_S) is a d×d eigenvalue problem, but Σ_S = YᵀY/|S| for the
 * centred rows Y = (I − 11ᵀ/|S|)X_S, and YᵀY has the same non-zero eigenvalues as the |S|×|S|
 * centred Gram block YYᵀ = (I − 11ᵀ/|S|) G_S (I − 11ᵀ/|S|). So one Gram pass (n²d/2) gives every
 * subset's spectrum, and the search costs nothing in d.
 *
 * Exact search: depth-first over subsets in lexicographic order, as {@link mda} does. Adding a
 * client to S only adds a positive semi-definite term to the scatter matrix |S|·Σ_S, so its largest
 * eigenvalue and trace only grow; a partial subset is cut as soon as a lower bound — half its
 * largest squared pairwise distance, its trace over (n − f − 1), or a failed Cholesky
 * factorisation of (1 + 10⁻⁹)·λ_best·I − C (C its centred Gram block) — exceeds the best complete
 * subset's value. Complete subsets that survive are compared by the eigenvalue (from
 * `symmetricEigen`, backward stable), ties by the trace (the total variance: the tighter
 * subset), then by the lexicographically first subset. Ties are decided by computed values, so clients whose subsets
 * tie within rounding (1e-15 relative) may be ordered by their position. The search faces up to
 * C(n', f') subsets and refuses (`UNSUPPORTED`) when that exceeds `maxSubsets` (default 10⁵, at
 * most 10⁶) or when C(n', f')·(n' − f')³/6 exceeds {@link SMEA_MAX_WORK} (2·10¹⁰). Non-finite
 * clients are dropped and count against f.
 *
 * Hostile numbers: the Gram matrix is float64 and centred on a reference no minority can choose
 * (`'robust'`), so finite updates up to ±3.4·10³⁸ neither overflow nor blur the honest clients'
 * covariances: a subset holding such a client has a huge eigenvalue, the honest subset is
 * selected, and the output is the honest mean.
 *
 * Cost: one centred Gram pass (n²d/2; on the WebAssembly kernels it is also the finiteness check),
 * the search on the n×n Gram matrix (O((n−f)³) per subset reached), one combine pass. The subset
 * count and work caps are checked before the pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link SmeaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `maxSubsets` (an integer in [1, 10⁶]; default 10⁵), `nonFinite` (default `'drop'`).
 * @returns the mean of the selected subset, a new `Float32Array` of length d.
 * @category Aggregators
 * @example
 * ```ts
 * import { smea } from 'robust-agg';
 *
 * // Six clients, d = 2: four honest ones near (1, 1) and two colluders pulling along one direction.
 * const updates = [
 *   Float32Array.of(1.0, 1.1),
 *   Float32Array.of(1.1, 0.9),
 *   Float32Array.of(0.9, 1.0),
 *   Float32Array.of(1.0, 0.9),
 *   Float32Array.of(4, 1),
 *   Float32Array.of(4.2, 1),
 * ];
 * console.log(smea(updates, { f: 2 })); // the mean of the four honest clients: [1, 0.975]
 * ```
 */
export function smea(updates: Updates, options: SmeaOptions): Float32Array {
  return smeaWithDecision(updates, options).aggregate;
}

/**
 * {@link smea} together with its {@link SmeaDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link SmeaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `maxSubsets` (an integer in [1, 10⁶]; default 10⁵), `nonFinite` (default `'drop'`).
 * @category Aggregators
 * @example
 * ```ts
 * import { smeaWithDecision } from 'robust-agg';
 *
 * const updates = [
 *   Float32Array.of(0, 0),
 *   Float32Array.of(1, 0),
 *   Float32Array.of(0, 1),
 *   Float32Array.of(9, 9),
 * ];
 * const { decision } = smeaWithDecision(updates, { f: 1 });
 * console.log(decision.selected);      // [0, 1, 2]
 * console.log(decision.maxEigenvalue); // 1/3: the covariance of the three is [[2, −1], [−1, 2]]/9
 * ```
 */
export function smeaWithDecision(updates: Updates, options: SmeaOptions): Aggregation<SmeaDecision> {
  const rule = 'smea';
  const opts = readOptions(rule, options, ['f', 'maxSubsets', 'nonFinite']);
  const maxSubsets = requireInteger(rule, 'maxSubsets', opts.maxSubsets ?? SMEA_DEFAULT_MAX_SUBSETS, 1, SMEA_MAX_SUBSETS_LIMIT);
  const f = opts.f as number;
  // The Gram pass doubles as the finiteness check (finiteClientsGram) only when every check below
  // passes with all n clients finite; the subset count and the work only shrink as clients are
  // dropped, so the checks then pass after the pass too. Otherwise the separate finiteness pass
  // runs first and the call fails before any Gram pass, with today's errors.
  const { n } = validateUpdates(updates, rule);
  const fused =
    Number.isInteger(f) && f >= 0 && n >= 2 * f + 1 && binomial(n, f) <= maxSubsets && (binomial(n, f) * (n - f) ** 3) / 6 <= SMEA_MAX_WORK;
  const { clients, g: fusedGram } = fused
    ? finiteClientsGram(updates, rule, opts.nonFinite, 'robust')
    : { clients: finiteClients(updates, rule, opts.nonFinite), g: null };
  requireClients(rule, clients.n, f, 2, 1);
  const rows = clients.rows;
  const m = rows.length;
  const size = smeaSubsetSize(rule, m, remainingByzantine(f, clients), maxSubsets);
  const g = m > 1 ? (fusedGram ?? gram(rows, 'robust')) : new Float64Array(1);
  const { subset, scatterMax } = smallestEigenvalueSubset(g, m, size);
  const w = new Float64Array(m);
  for (const k of subset) w[k] = 1 / size;
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(subset, clients),
      weights: weightsOverInput(w, clients),
      maxEigenvalue: scatterMax / size,
    },
  };
}

/**
 * The size m − f of SMEA's subsets, after checking that the exact search fits its caps: at most
 * `maxSubsets` subsets C(m, f), and at most {@link SMEA_MAX_WORK} estimated multiply-adds
 * C(m, f)·(m − f)³/6 (`UNSUPPORTED` otherwise). Shared by smea and the sharded coordinator.
 *
 * @internal
 */
export function smeaSubsetSize(rule: string, m: number, fLeft: number, maxSubsets: number): number {
  const size = m - fLeft;
  const count = binomial(m, fLeft);
  if (count > maxSubsets) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: the exact search faces C(${m}, ${fLeft}) = ${count.toPrecision(3)} subsets, more than ` +
        `maxSubsets=${maxSubsets}; raise maxSubsets (at most ${SMEA_MAX_SUBSETS_LIMIT}) or use a polynomial rule`,
    );
  }
  const work = (count * size ** 3) / 6;
  if (work > SMEA_MAX_WORK) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: the exact search over C(${m}, ${fLeft}) = ${count.toPrecision(3)} subsets of ${size} is estimated at ` +
        `${work.toPrecision(3)} multiply-adds, more than ${SMEA_MAX_WORK}; use fewer clients, a smaller f or a polynomial rule`,
    );
  }
  return size;
}

/** C(n, k) as a float (exact below 2⁵³, ordered correctly above). */
function binomial(n: number, k: number): number {
  const r = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
  return Math.round(c);
}

/**
 * The centred Gram block (I − 11ᵀ/k) G_S (I − 11ᵀ/k) of the rows in `subset` (k×k, row-major),
 * from the Gram matrix g (n×n, centred on any common vector), and its trace. It has the same
 * non-zero spectrum as the subset's scatter matrix Σ_{i∈S}(yᵢ − ȳ)(yᵢ − ȳ)ᵀ.
 */
function centredBlock(g: Float64Array, n: number, subset: readonly number[]): { c: Float64Array; trace: number } {
  const k = subset.length;
  const c = new Float64Array(k * k);
  const rowMean = new Float64Array(k);
  let total = 0;
  for (let a = 0; a < k; a++) {
    let s = 0;
    const ia = subset[a] * n;
    for (let b = 0; b < k; b++) s += g[ia + subset[b]];
    rowMean[a] = s / k;
    total += s;
  }
  total /= k * k;
  let trace = 0;
  for (let a = 0; a < k; a++) {
    const ia = subset[a] * n;
    for (let b = 0; b < k; b++) c[a * k + b] = g[ia + subset[b]] - rowMean[a] - rowMean[b] + total;
    trace += c[a * k + a];
  }
  return { c, trace: Math.max(0, trace) };
}

/**
 * Whether every eigenvalue of the symmetric k×k matrix c is below `level`: whether level·I − c
 * is positive definite, by a Cholesky factorisation that stops at the first non-positive pivot
 * (k³/6 multiply-adds at most, usually far fewer for a subset that is worse).
 */
function allEigenvaluesBelow(c: Float64Array, k: number, level: number): boolean {
  const l = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let pivot = level - c[j * k + j];
    for (let p = 0; p < j; p++) pivot -= l[j * k + p] * l[j * k + p];
    if (!(pivot > 0)) return false;
    const root = Math.sqrt(pivot);
    l[j * k + j] = root;
    for (let i = j + 1; i < k; i++) {
      let s = -c[i * k + j];
      for (let p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
      l[i * k + j] = s / root;
    }
  }
  return true;
}

/** Relative margin under which a subset is compared exactly rather than ruled out by Cholesky. */
const MARGIN = 1e-9;

/**
 * The subset of `size` rows (of m) whose scatter matrix has the smallest largest eigenvalue;
 * among equal ones the smallest trace, then the lexicographically first. Depth-first search in
 * lexicographic order. A partial or complete subset is cut when a lower bound on its λ_max — half
 * its largest squared pairwise distance (the scatter of that pair alone), its trace over
 * (size − 1) (the rank is at most size − 1), or a failed Cholesky factorisation of
 * (1 + 10⁻⁹)·best·I − C — already exceeds the best complete subset's value; all of them only grow
 * as rows are added. A complete subset that survives is decomposed exactly (`symmetricEigen`).
 * Shared by smea and the sharded coordinator.
 *
 * @internal
 */
export function smallestEigenvalueSubset(g: Float64Array, m: number, size: number): { subset: number[]; scatterMax: number } {
  const dist = m > 1 ? squaredDistancesFromGram(g, m) : new Float64Array(1);
  let bestMax = Infinity;
  let bestTrace = Infinity;
  let best: number[] = [];
  const chosen: number[] = [];
  const visit = (next: number, diameter2: number, pairSum: number): void => {
    const k = chosen.length;
    if (k >= 2 && bestMax < Infinity) {
      const { c } = centredBlock(g, m, chosen);
      if (!allEigenvaluesBelow(c, k, bestMax * (1 + MARGIN) + Number.MIN_VALUE)) return;
    }
    if (k === size) {
      let max = 0;
      let trace = 0;
      if (k >= 2) {
        const block = centredBlock(g, m, chosen);
        max = Math.max(0, symmetricEigen(block.c, k).values[k - 1]);
        trace = block.trace;
      }
      if (max < bestMax || (max === bestMax && trace < bestTrace)) {
        bestMax = max;
        bestTrace = trace;
        best = [...chosen];
      }
      return;
    }
    const last = m - (size - k); // the next pick must leave room for the rest
    for (let c = next; c <= last; c++) {
      let wider = diameter2;
      let sum = pairSum;
      for (const j of chosen) {
        const dcj = dist[c * m + j];
        if (dcj > wider) wider = dcj;
        sum += dcj;
      }
      // Lower bounds on every completion's λ_max.
      const bound = Math.max(wider / 2, sum / (k + 1) / Math.max(1, size - 1));
      if (bound > bestMax * (1 + MARGIN)) continue;
      chosen.push(c);
      visit(c + 1, wider, sum);
      chosen.pop();
    }
  };
  visit(0, 0, 0);
  return { subset: best, scatterMax: bestMax };
}
