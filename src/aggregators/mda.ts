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
import { validateUpdates, type Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { finiteClientsGram, gram, squaredDistancesFromGram } from '../kernels/gram.js';

/** Default most subsets {@link mda} agrees to search: C(n, f) above it throws `UNSUPPORTED`. */
export const MDA_DEFAULT_MAX_SUBSETS = 1_000_000;

/**
 * Largest `maxSubsets` {@link mda} accepts: 10⁸ subsets, about a minute of search in the worst
 * case measured (0.5 µs a subset when every distance is equal and nothing is pruned), so no call
 * can run for hours.
 */
export const MDA_MAX_SUBSETS_LIMIT = 100_000_000;

/** Options of {@link mda}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface MdaOptions extends CommonOptions {
  /** Declared number of Byzantine clients f: an integer ≥ 0 with n ≥ 2f+1. */
  f: number;
  /**
   * Most candidate subsets the exact search may face: when C(n', f') exceeds it (n' finite clients,
   * f' Byzantine left) the rule throws `UNSUPPORTED` instead of running for an exponential time.
   * An integer in [1, {@link MDA_MAX_SUBSETS_LIMIT}] (10⁸; `Infinity` is no longer accepted).
   * Default {@link MDA_DEFAULT_MAX_SUBSETS} (10⁶).
   */
  maxSubsets?: number;
}

/** Decision of {@link mda}. */
export interface MdaDecision extends Decision {
  /** The n − f clients of the minimum-diameter subset (ascending). */
  readonly selected: readonly number[];
  /** 1/(n − f) for the selected clients, 0 otherwise. */
  readonly weights: Float64Array;
  /** Diameter max_{i,j ∈ S} ‖xᵢ − xⱼ‖ of the selected subset (Euclidean). */
  readonly diameter: number;
}

/**
 * Minimum-diameter averaging: among all subsets S of n − f clients, take the one with the
 * smallest diameter max_{i,j∈S} ‖xᵢ − xⱼ‖ and return its mean. The minimum-diameter idea is
 * Rousseeuw's ("Multivariate estimation with high breakdown point", 1985); as a Byzantine-robust
 * rule, El Mhamdi, Guerraoui, Guirguis, Hoang & Rouault, "Genuinely distributed Byzantine
 * machine learning", PODC 2020 (the "Brute" rule of El Mhamdi et al.). Needs n ≥ 2f+1.
 *
 * Ties in diameter are common (the diameter is a maximum over pairs, so many subsets share the
 * same widest pair): they go to the subset with the smallest spread Σ_{i<j∈S} ‖xᵢ − xⱼ‖² (the
 * tightest one, a choice of ours that keeps the rule independent of the clients' order), and
 * only then to the lexicographically first subset.
 *
 * Exact: a depth-first search over subsets in lexicographic order, pruned as soon as a partial
 * subset is no better than the best one found (its diameter and spread only grow). Its worst
 * case is C(n, f) subsets, so the rule refuses (`UNSUPPORTED`)
 * when C(n', f') > `maxSubsets` (default 10⁶, at most 10⁸; e.g. n = 30, f = 5 is 142 506,
 * n = 40, f = 8 is 7.7·10⁷). Non-finite clients are dropped and count against f.
 *
 * Hostile numbers: the distances are float64, from a Gram matrix centred on a reference no
 * minority can choose (`'robust'`), so finite updates up to ±3.4·10³⁸ (or a sparse 10³⁰
 * blinder, at row 0 or anywhere) neither overflow nor hide the honest distances: f such clients
 * widen every subset holding one, the honest subset is selected and the output is the honest
 * mean (tested on both kernels). Identical clients form a subset of diameter 0 (the lowest
 * indices among equals).
 *
 * Cost: one centred Gram pass (n²d/2; on the WebAssembly kernels it is also the finiteness check),
 * the search on the n×n distances, one combine pass. The subset count is checked before the pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MdaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `maxSubsets` (an integer in [1, 10⁸]; default 10⁶), `nonFinite` (default `'drop'`).
 * @returns the mean of the selected subset, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { mda, RobustAggError } from 'robust-agg';
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
 * console.log(mda(updates, { f: 2 })); // the mean of the five honest clients
 *
 * // 28 clients with f = 7: C(28, 7) = 1 184 040 subsets, more than the default 10⁶.
 * const many = Array.from({ length: 28 }, (_, i) => Float32Array.of(Math.sin(i), Math.cos(i), 0.1 * i));
 * try {
 *   mda(many, { f: 7 });
 * } catch (e) {
 *   if (!(e instanceof RobustAggError)) throw e;
 *   console.log(e.code); // 'UNSUPPORTED'
 * }
 * console.log(mda(many, { f: 7, maxSubsets: 2e6 })); // accept the longer search
 * ```
 */
export function mda(updates: Updates, options: MdaOptions): Float32Array {
  return mdaWithDecision(updates, options).aggregate;
}

/**
 * {@link mda} together with its {@link MdaDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link MdaOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `maxSubsets` (an integer in [1, 10⁸]; default 10⁶), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { mdaWithDecision } from 'robust-agg';
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
 * const { decision } = mdaWithDecision(updates, { f: 2 });
 * console.log(decision.selected); // [0, 1, 2, 3, 4]
 * console.log(decision.diameter); // the largest distance between two of them: 0.3464…
 * ```
 */
export function mdaWithDecision(updates: Updates, options: MdaOptions): Aggregation<MdaDecision> {
  const rule = 'mda';
  const opts = readOptions(rule, options, ['f', 'maxSubsets', 'nonFinite']);
  const maxSubsets = requireInteger(rule, 'maxSubsets', opts.maxSubsets ?? MDA_DEFAULT_MAX_SUBSETS, 1, MDA_MAX_SUBSETS_LIMIT);
  const f = opts.f as number;
  // The Gram pass doubles as the finiteness check (finiteClientsGram) only when every check below
  // passes with all n clients finite; C(m, f') only shrinks as clients are dropped, so the checks
  // then pass after the pass too. Otherwise the separate finiteness pass runs first and the call
  // fails (f, the client count or the subset count) before any Gram pass, with today's errors.
  const { n } = validateUpdates(updates, rule);
  const fused = Number.isInteger(f) && f >= 0 && n >= 2 * f + 1 && binomial(n, f) <= maxSubsets;
  const { clients, g } = fused
    ? finiteClientsGram(updates, rule, opts.nonFinite, 'robust')
    : { clients: finiteClients(updates, rule, opts.nonFinite), g: null };
  requireClients(rule, clients.n, f, 2, 1);
  const rows = clients.rows;
  const m = rows.length;
  const fLeft = remainingByzantine(f, clients);
  const size = m - fLeft;
  const count = binomial(m, fLeft);
  if (count > maxSubsets) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: the exact search faces C(${m}, ${fLeft}) = ${count.toPrecision(3)} subsets, more than ` +
        `maxSubsets=${maxSubsets}; raise maxSubsets (at most ${MDA_MAX_SUBSETS_LIMIT}) or use a polynomial rule`,
    );
  }
  const dist = m > 1 ? squaredDistancesFromGram(g ?? gram(rows, 'robust'), m) : new Float64Array(1);
  const { subset, diameter2 } = minimumDiameterSubset(dist, m, size);
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
      diameter: Math.sqrt(diameter2),
    },
  };
}

/** C(n, k) as a float (exact below 2⁵³, ordered correctly above). */
export function binomial(n: number, k: number): number {
  const r = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
  return Math.round(c);
}

/**
 * The subset of `size` rows (of m) with the smallest squared diameter; among equal diameters the
 * smallest spread Σ_{i<j} Dᵢⱼ, then the lexicographically first. Depth-first search in
 * lexicographic order with branch-and-bound: both the partial diameter and the partial spread
 * only grow as rows are added, so a partial subset that is already no better is cut.
 */
export function minimumDiameterSubset(
  dist: Float64Array,
  m: number,
  size: number,
): { subset: number[]; diameter2: number; spread: number } {
  let bestDiameter = Infinity;
  let bestSpread = Infinity;
  let best: number[] = [];
  const chosen: number[] = [];
  const visit = (next: number, diameter: number, spread: number): void => {
    if (chosen.length === size) {
      bestDiameter = diameter;
      bestSpread = spread;
      best = [...chosen];
      return;
    }
    const last = m - (size - chosen.length); // the next pick must leave room for the rest
    for (let k = next; k <= last; k++) {
      let wider = diameter;
      let spreadWith = spread;
      for (const j of chosen) {
        const dkj = dist[k * m + j];
        if (dkj > wider) wider = dkj;
        spreadWith += dkj;
      }
      if (wider > bestDiameter || (wider === bestDiameter && spreadWith >= bestSpread)) continue;
      chosen.push(k);
      visit(k + 1, wider, spreadWith);
      chosen.pop();
    }
  };
  visit(0, 0, 0);
  return { subset: best, diameter2: bestDiameter, spread: bestSpread };
}
