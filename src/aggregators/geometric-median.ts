import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, requireInteger, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { allEqual, normalisedClientWeights, readClientWeights, scaledClientWeights } from '../core/weights.js';
import { combine } from '../kernels/combine.js';
import {
  finiteClientsGram,
  gram,
  squaredDistancesFromGram,
  squaredDistancesToCombination,
  squaredGramNormOfDifference,
} from '../kernels/gram.js';

/** Options of {@link geometricMedian}. */
export interface GeometricMedianOptions extends CommonOptions {
  /**
   * Most Weiszfeld iterations: an integer in [0, 10 000] (the cap keeps a call from running for
   * minutes: each iteration costs O(n²)). Default 80 (the Byrd-SAGA reference). With 0 the output is
   * the starting point (see {@link geometricMedian}).
   */
  maxIterations?: number;
  /**
   * Stop once the estimate moves by at most this much (Euclidean) in one iteration: a finite
   * number ≥ 0. Default 1e-5. With 0 the iterations run until the estimate stops moving, that is
   * until a move is below 1e-13 × the median distance to the clients (float64 rounding), or
   * maxIterations.
   */
  tolerance?: number;
  /**
   * Smoothing ν of RFA (Pillutla, Kakade & Harchaoui, IEEE TSP 2022): weights 1/max(ν, ‖xᵢ − z‖).
   * A finite number ≥ 0. Default 0: plain Weiszfeld, where a client sitting on the estimate is
   * handled as Vardi & Zhang do (see {@link geometricMedian}) instead of being floored.
   */
  nu?: number;
  /**
   * One weight αᵢ per client (e.g. local sample counts, RFA's αᵢ): an array-like of n finite
   * numbers ≥ 0, not all 0 over the finite clients, read once; clients dropped as non-finite lose
   * theirs, the rest are normalised to sum to 1 (as {@link mean} does). The output is then the
   * weighted geometric median argmin_z Σᵢ αᵢ‖z − xᵢ‖ (see {@link geometricMedian}); a client of
   * weight 0 takes no part. Default: equal weights. Equal weights give the unweighted result, bit
   * for bit.
   */
  weights?: ArrayLike<number>;
}

/** The largest `maxIterations` {@link geometricMedian} accepts. */
export const GEOMETRIC_MEDIAN_MAX_ITERATIONS = 10_000;

/** Weiszfeld's settings, as {@link weiszfeld} takes them. */
export interface WeiszfeldSettings {
  /** Most iterations (integer in [0, 10 000]). */
  maxIterations: number;
  /** Stop once the estimate moves by at most this much. */
  tolerance: number;
  /** RFA smoothing ν ≥ 0 (0: plain Weiszfeld with Vardi–Zhang's step at a client). */
  nu: number;
}

/** Decision of {@link geometricMedian}. */
export interface GeometricMedianDecision extends Decision {
  /** The output is Σ wᵢ xᵢ with these weights (they sum to 1). */
  readonly weights: Float64Array;
  /** Weiszfeld iterations run. */
  readonly iterations: number;
  /** Whether the last move was ≤ tolerance (false: stopped at maxIterations). */
  readonly converged: boolean;
  /**
   * The normalised client weights αᵢ applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
}

/**
 * Geometric median, argmin_z Σᵢ ‖xᵢ − z‖, by Weiszfeld's algorithm:
 * z ← Σ βᵢ xᵢ / Σ βᵢ with βᵢ = 1/max(ν, ‖xᵢ − z‖), until ‖Δz‖ ≤ tolerance or maxIterations.
 * As robust aggregator: Chen, Su & Xu (2017), Byrd-SAGA (Wu et al., IEEE TSP 2020), RFA (Pillutla
 * et al. 2022). Breakdown point 1/2; needs no f.
 *
 * Start: the mean, as the Byrd-SAGA reference does, unless one client has a smaller sum of
 * distances to all clients than the mean has (then that client, or the mean of the clients that
 * tie for it). Weiszfeld's steps never increase
 * Σᵢ ‖xᵢ − z‖, so with fewer than half the clients hostile the estimate stays within
 * 2·Σ_h ‖x_h − x_k‖ / (h − b) of every honest client x_k (h honest, b hostile clients) after any
 * number of iterations, however large the hostile values (up to ±3.4e38). A client that sits on
 * the estimate gets Vardi & Zhang's (PNAS 2000) step instead of an infinite weight; when at least
 * half the clients sit on it, it is the geometric median and the iterations stop.
 *
 * Every iterate is a combination z = Σ wⱼ xⱼ, so the iterations run in client space on the centred
 * Gram matrix (‖xᵢ − z‖² = Gᵢᵢ − 2(Gw)ᵢ + wᵀGw): one Gram pass (n²d/2 multiply-adds), O(n²) per
 * iteration (at most 10 000), one combine pass.
 *
 * **Client weights** (`weights`, e.g. sample counts, normalised to αᵢ over the finite clients):
 * the weighted geometric median argmin_z Σᵢ αᵢ‖z − xᵢ‖ of RFA (Pillutla, Kakade & Harchaoui,
 * "Robust aggregation for federated learning", IEEE TSP 2022, where αᵢ is client i's share of
 * the data), by the weighted Weiszfeld step z ← Σ βᵢxᵢ / Σ βᵢ with βᵢ = αᵢ/max(ν, ‖xᵢ − z‖).
 * The start is the weighted mean, or the client with the smallest Σⱼ αⱼ‖xᵢ − xⱼ‖ when that is
 * smaller than the weighted mean's; the Vardi–Zhang step uses the weight η sitting on the
 * estimate (their paper treats weighted points), and the iterations stop once clients holding at
 * least half the weight sit on it. The Gram matrix is centred, per block of columns, on the row of
 * weighted-median magnitude, and the distance scale is the weighted median distance, so clients
 * holding less than half the weight cannot blur the honest distances however many they are.
 * Clients of weight 0 take no part.
 *
 * **Weight liars.** A client's weight is its word. The breakdown point 1/2 becomes one of weight:
 * the estimate stays within a bounded distance of the honest clients while the Byzantine clients
 * hold less than half the total weight, however far they are; a point that holds more than half
 * the weight is the weighted geometric median, so one client that claims more than half of all
 * samples sets the output to its own update. Cap or verify sample counts before passing them.
 *
 * Options: maxIterations ∈ [0, 10 000] (default 80), tolerance ≥ 0 (default 1e-5), ν ≥ 0
 * (default 0), weights, nonFinite; unknown keys throw `UNKNOWN_OPTION`.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link GeometricMedianOptions}: `maxIterations` (an integer in
 *   [0, 10 000]; default 80), `tolerance` (finite ≥ 0; default 1e-5), `nu` (RFA smoothing, finite
 *   ≥ 0; default 0), `weights` (one finite weight ≥ 0 per client; default equal), `nonFinite`
 *   (default `'drop'`).
 * @returns the estimate, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { geometricMedian } from 'robust-agg';
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
 * console.log(geometricMedian(updates));                               // tolerance 1e-5, ≤ 80 iterations
 * console.log(geometricMedian(updates, { nu: 1e-6, maxIterations: 3 })); // RFA: smoothed, 3 iterations
 * // RFA with sample counts: argmin Σ αᵢ‖z − xᵢ‖, αᵢ ∝ the clients' data sizes.
 * console.log(geometricMedian(updates, { weights: [500, 200, 100, 100, 100, 10, 10] }));
 * ```
 */
export function geometricMedian(updates: Updates, options?: GeometricMedianOptions): Float32Array {
  return geometricMedianWithDecision(updates, options).aggregate;
}

/**
 * {@link geometricMedian} together with its {@link GeometricMedianDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link GeometricMedianOptions}: `maxIterations` (an integer in
 *   [0, 10 000]; default 80), `tolerance` (finite ≥ 0; default 1e-5), `nu` (RFA smoothing, finite
 *   ≥ 0; default 0), `weights` (one finite weight ≥ 0 per client; default equal), `nonFinite`
 *   (default `'drop'`).
 * @example
 * ```ts
 * import { geometricMedianWithDecision } from 'robust-agg';
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
 * const { decision } = geometricMedianWithDecision(updates);
 * console.log(decision.iterations, decision.converged);
 * console.log(decision.weights); // the output is Σ wᵢ xᵢ; the attackers' weights are small
 *
 * // A weight liar: client 5 claims more than half of all samples, and the output is its update.
 * const liar = geometricMedianWithDecision(updates, { weights: [1, 1, 1, 1, 1, 7, 1] });
 * console.log(liar.aggregate, liar.decision.clientWeights); // [20, 20, 20]; client 5 holds 7/13 > 1/2
 * ```
 */
export function geometricMedianWithDecision(
  updates: Updates,
  options?: GeometricMedianOptions,
): Aggregation<GeometricMedianDecision> {
  const rule = 'geometricMedian';
  const { nonFinite, weights: givenWeights, ...settings } = readGeometricMedianOptions(rule, options, true);
  if (givenWeights === undefined) {
    const { clients, g } = finiteClientsGram(updates, rule, nonFinite, 'robust');
    const rows = clients.rows;
    const m = rows.length;
    const { weights, iterations, converged } = weiszfeld(m === 1 ? null : g, m, settings);
    return {
      aggregate: combine(rows, weights),
      decision: {
        rule,
        n: clients.n,
        dropped: clients.dropped,
        weights: weightsOverInput(weights, clients),
        iterations,
        converged,
      },
    };
  }
  const clients = finiteClients(updates, rule, nonFinite);
  const given = readClientWeights(rule, givenWeights, clients.n);
  const normalised = normalisedClientWeights(rule, given, clients.index);
  const scaled = scaledClientWeights(rule, given, clients.index);
  // Clients of weight 0 take no part: Weiszfeld runs on the others, with α of mean 1.
  const rows: Float32Array[] = [];
  const index: number[] = [];
  const positive: number[] = [];
  let total = 0;
  for (let k = 0; k < clients.rows.length; k++) {
    if (scaled[k] > 0) {
      rows.push(clients.rows[k]);
      index.push(clients.index[k]);
      positive.push(scaled[k]);
      total += scaled[k];
    }
  }
  const m = rows.length;
  const alpha = allEqual(positive) ? undefined : Float64Array.from(positive, (a) => (a / total) * m);
  // The Gram's centre, like its scale, must not be left to a count majority holding little weight.
  const centre = alpha === undefined ? 'robust' : weightedRobustCentre(rows, alpha);
  const { weights, iterations, converged } = weiszfeld(m === 1 ? null : gram(rows, centre), m, settings, alpha);
  return {
    aggregate: combine(rows, weights),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(weights, { ...clients, index }),
      iterations,
      converged,
      clientWeights: weightsOverInput(normalised, clients),
    },
  };
}

/** Columns per block of {@link weightedRobustCentre} (the plain Gram kernel's block). */
const CENTRE_BLOCK = 1024;

/**
 * The weighted counterpart of the Gram's `'robust'` centre: in every block of 1024 columns, the
 * block of the row whose largest magnitude there is the lower weighted median over the rows
 * (ascending magnitudes, ties by index; the first whose cumulative weight reaches half the
 * total). Clients holding less than half the weight cannot choose a centre larger than every
 * honest row's magnitude, so they cannot make the honest clients' distances cancel away, however
 * many they are. One pass over the data.
 */
function weightedRobustCentre(rows: readonly Float32Array[], alpha: Float64Array): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  let total = 0;
  for (let i = 0; i < m; i++) total += alpha[i];
  const centre = new Float32Array(d);
  const mags = new Float64Array(m);
  for (let c0 = 0; c0 < d; c0 += CENTRE_BLOCK) {
    const c1 = Math.min(d, c0 + CENTRE_BLOCK);
    for (let i = 0; i < m; i++) {
      const row = rows[i];
      let largest = 0;
      for (let k = c0; k < c1; k++) {
        const a = Math.abs(row[k]);
        if (a > largest) largest = a;
      }
      mags[i] = largest;
    }
    const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => mags[a] - mags[b] || a - b);
    let c = 0;
    let pick = order[m - 1];
    for (const i of order) {
      c += alpha[i];
      if (c >= total / 2) {
        pick = i;
        break;
      }
    }
    centre.set(rows[pick].subarray(c0, c1), c0);
  }
  return centre;
}

/**
 * Reads and checks the options of {@link geometricMedian} once (see `readOptions`): Weiszfeld's
 * settings with their defaults, and the non-finite policy. Throws `INVALID_OPTION` /
 * `UNKNOWN_OPTION` naming `rule`. For rules that run {@link weiszfeld} on their own Gram matrix
 * (the tensor variant). Internal (not exported from the package).
 *
 * @param rule - the function name used in error messages, e.g. `'tensorGeometricMedian'`.
 * @param options - the caller's {@link GeometricMedianOptions} (undefined: every default).
 * @param acceptWeights - whether `weights` is a known key (returned unchecked, for the caller to
 *   read); false (default): `weights` throws `UNKNOWN_OPTION` (no weighted form).
 */
export function readGeometricMedianOptions(
  rule: string,
  options: GeometricMedianOptions | undefined,
  acceptWeights = false,
): WeiszfeldSettings & Pick<CommonOptions, 'nonFinite'> & { weights?: ArrayLike<number> } {
  const known: (keyof GeometricMedianOptions)[] = ['maxIterations', 'tolerance', 'nu', 'nonFinite'];
  const opts = readOptions(rule, options, acceptWeights ? [...known, 'weights'] : known);
  return {
    maxIterations: requireInteger(rule, 'maxIterations', opts.maxIterations ?? 80, 0, GEOMETRIC_MEDIAN_MAX_ITERATIONS),
    tolerance: requireNumber(rule, 'tolerance', opts.tolerance ?? 1e-5, 0),
    nu: requireNumber(rule, 'nu', opts.nu ?? 0, 0),
    nonFinite: opts.nonFinite,
    ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
  };
}

/** A distance at most this fraction of the median distance counts as "on the estimate". */
const ON_ESTIMATE = 1e-12;
/** …and so does any distance below this (1/d then stays far from overflow). */
const TINY_DISTANCE = 1e-290;
/**
 * Largest residual pull ‖∇F(z)‖ = ‖Σ (z − xᵢ)/‖z − xᵢ‖‖ per client at which a move ≤ tolerance
 * counts as converged (0 at the minimiser, at most 1 per client).
 */
const PULL = 1e-2;
/** An estimate this close (× the median distance) to a client when it stops is re-examined at the client. */
const SNAP = 1e-6;
/** A move below this fraction of the median distance is float64 rounding: the estimate has stopped. */
const STALLED = 1e-13;

/**
 * Weiszfeld's iterations in client space on a centred Gram matrix `g` (m×m, row-major): returns
 * the weights w (summing to 1) of the final estimate z = Σ wⱼ xⱼ. Exported for rules that reuse it
 * on their own Gram matrix.
 *
 * - Start: the mean, or the client with the smallest Σⱼ ‖xᵢ − xⱼ‖ when that sum is smaller than
 *   the mean's (the mean of the tied clients when several have it), so no minority can place the
 *   start far away.
 * - ν > 0 (RFA): βᵢ = 1/max(ν, dᵢ), z ← Σ βᵢxᵢ / Σ βᵢ.
 * - ν = 0: the clients at distance ≤ 1e-12 × the median distance from z (η of them) are "on z";
 *   with T the Weiszfeld point of the others and r = ‖Σ_{others} (xᵢ − z)/dᵢ‖, stop when r ≤ η
 *   (z is optimal; always the case when η ≥ m/2), else z ← (1 − η/r)·T + (η/r)·z (Vardi & Zhang,
 *   "The multivariate L1-median and associated data depth", PNAS 2000). No weight depends on the
 *   largest distance, so a far client cannot blunt the others' weights.
 * - `alpha` (optional, the clients' weights scaled to mean 1): the weighted problem
 *   argmin Σ αᵢ‖xᵢ − z‖ (RFA): the start is the α-weighted mean or the client with the smallest
 *   Σⱼ αⱼ‖xᵢ − xⱼ‖, βᵢ = αᵢ/max(ν, dᵢ) (ν > 0) or αᵢ/dᵢ, η is the weight on z rather than a count,
 *   the stop at a shared point needs η ≥ half the total weight, and the scale (the median
 *   distance) is the weighted median. Without it every αᵢ = 1: the same operations as the
 *   unweighted iteration, hence the same bits.
 * - Stop when the move ‖Δz‖ ≤ tolerance and the residual pull ‖Σ (z − xᵢ)/‖z − xᵢ‖‖ is at most
 *   0.01·m (a small move alone can hide a large pull next to a point several clients share), or
 *   when the move is float64 rounding (≤ 1e-13 × the median distance), or after maxIterations. A
 *   stop within 1e-6 × the median distance of a client is re-examined once from that client, where
 *   the Vardi–Zhang test is exact.
 */
export function weiszfeld(
  g: Float64Array | null,
  m: number,
  { maxIterations, tolerance, nu }: WeiszfeldSettings,
  alpha?: Float64Array,
): { weights: Float64Array; iterations: number; converged: boolean } {
  if (g === null || m === 1) return { weights: new Float64Array(m).fill(1 / m), iterations: 0, converged: true };
  const a = alpha ?? new Float64Array(m).fill(1);
  let aTotal = 0;
  for (let i = 0; i < m; i++) aTotal += a[i];
  let w = startingWeights(g, m, alpha);
  const dist = new Float64Array(m);
  const sorted = new Float64Array(m);
  let iterations = 0;
  let converged = false;
  const snapped = new Set<number>();
  while (iterations < maxIterations) {
    squaredDistancesToCombination(g, m, w, dist);
    for (let i = 0; i < m; i++) dist[i] = Math.sqrt(dist[i]);
    let median: number;
    if (alpha === undefined) {
      sorted.set(dist);
      sorted.sort();
      median = sorted[m >> 1];
    } else {
      median = weightedMedianDistance(dist, alpha);
    }
    const next = new Float64Array(m);
    // ‖∇F(z)‖ after the step is known below: the residual pull, for the stopping test.
    let pull = 0;
    let pullIsMove = true;
    if (nu > 0) {
      let total = 0;
      for (let i = 0; i < m; i++) {
        next[i] = a[i] / Math.max(nu, dist[i]);
        total += next[i];
      }
      for (let i = 0; i < m; i++) next[i] /= total;
      pull = total;
    } else {
      const zero = Math.max(ON_ESTIMATE * median, TINY_DISTANCE);
      let onEstimate = 0; // the weight η sitting on z (a count without alpha)
      let total = 0;
      for (let i = 0; i < m; i++) {
        if (dist[i] <= zero) {
          onEstimate += a[i];
        } else {
          next[i] = a[i] / dist[i];
          total += next[i];
        }
      }
      if (onEstimate * 2 >= aTotal) {
        converged = true; // at least half the clients (the weight) sit on z: it is the geometric median
        break;
      }
      for (let i = 0; i < m; i++) next[i] /= total;
      pull = total;
      if (onEstimate > 0) {
        // Vardi–Zhang: r = ‖Σ_{others} (xᵢ − z)/dᵢ‖ = total·‖T − z‖.
        const r = total * Math.sqrt(squaredGramNormOfDifference(g, m, next, w));
        if (!(r > onEstimate)) {
          converged = true; // z is a client and satisfies the optimality condition
          break;
        }
        const keep = onEstimate / r;
        for (let i = 0; i < m; i++) next[i] = (1 - keep) * next[i] + keep * w[i];
        pull = r - onEstimate; // the subgradient's norm at a client shared by η others
        pullIsMove = false;
      }
    }
    const move = Math.sqrt(squaredGramNormOfDifference(g, m, next, w));
    w = next;
    iterations++;
    // Off the clients, z − T(z) = ∇F(z)/Σ(1/dᵢ): a small move can hide a large pull when z is
    // near a point many clients share (Σ 1/dᵢ is then huge and Weiszfeld crawls). Stop on a small
    // move only when the pull is small too, or when the move is float64 rounding.
    const residual = pullIsMove ? pull * move : pull;
    if (move <= STALLED * median || (move <= tolerance && residual <= PULL * m)) {
      // Weiszfeld's map has a fixed point at every client: near a point that several clients
      // share, their distances sink into the Gram's rounding (never exactly 0, so the Vardi–Zhang
      // test above never runs) and the iterates stop there, optimal or not. Re-examine once from
      // that client itself, where the distances to it are exact.
      let nearest = 0;
      for (let i = 1; i < m; i++) if (dist[i] < dist[nearest]) nearest = i;
      if (dist[nearest] <= SNAP * median && !snapped.has(nearest)) {
        snapped.add(nearest);
        w = new Float64Array(m);
        w[nearest] = 1;
        continue;
      }
      converged = true;
      break;
    }
  }
  return { weights: w, iterations, converged };
}

/**
 * The weighted version of the scale `sorted[m >> 1]` (the upper median of the distances): the
 * smallest distance whose cumulative weight, in ascending order of distance, exceeds half the
 * total. Equal weights give `sorted[m >> 1]`. With weights, hostile clients holding less than
 * half the weight cannot make it large, however many of them there are.
 */
function weightedMedianDistance(dist: Float64Array, alpha: Float64Array): number {
  const m = dist.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => dist[i] - dist[j] || i - j);
  let total = 0;
  for (let i = 0; i < m; i++) total += alpha[i];
  let c = 0;
  for (const i of order) {
    c += alpha[i];
    if (c > total / 2) return dist[i];
  }
  return dist[order[m - 1]];
}

/** The mean may start only when each of its distances is known to this relative precision. */
const RELIABLE = 1e-6;

/**
 * Whether the distances from every client to the mean, computed from the Gram matrix, are
 * trustworthy. Each ‖xᵢ − x̄‖² = Gᵢᵢ − 2(Gw)ᵢ + wᵀGw is a sum of terms as large as (sᵢ + s̄)²
 * (sⱼ = √Gⱼⱼ, the centred norms; s̄ their mean), so the distance's rounding error is at most about
 * eᵢ = (sᵢ + s̄)·√((m + 3)·2⁻⁵²). Clients at ±B that cancel in the mean (B ≫ the honest spread)
 * make eᵢ far larger than the honest clients' distances: those distances, and the mean's cost,
 * are then noise (they can come out 0) and the mean must not be the start. A distance counts as
 * known when eᵢ ≤ 1e-6 × max(its value, `scale`).
 */
function meanDistancesReliable(
  g: Float64Array,
  m: number,
  toMean: Float64Array,
  scale: number,
  mean: Float64Array | null,
): boolean {
  // s̄ = Σ wⱼ sⱼ with the mean's weights w (1/m each, or the clients' weights in `mean`).
  let meanNorm = 0;
  if (mean === null) for (let j = 0; j < m; j++) meanNorm += Math.sqrt(Math.max(0, g[j * m + j])) / m;
  else for (let j = 0; j < m; j++) meanNorm += Math.sqrt(Math.max(0, g[j * m + j])) * mean[j];
  const unit = Math.sqrt((m + 3) * 2 ** -52);
  for (let i = 0; i < m; i++) {
    const error = (Math.sqrt(Math.max(0, g[i * m + i])) + meanNorm) * unit;
    if (!(error <= RELIABLE * Math.max(Math.sqrt(toMean[i]), scale))) return false;
  }
  return true;
}

/** Clients whose sum of distances is within this fraction of the smallest one tie for the start. */
const START_TIE = 1e-10;

/**
 * Weiszfeld's start: uniform weights (the mean), unless some client has a smaller sum of distances
 * to all clients, F(xᵢ) = Σⱼ ‖xᵢ − xⱼ‖, than the mean has; then the mean of the clients whose F is
 * within a fraction 1e-10 of the smallest (one client, or all the tied ones: with collinear data
 * the minimisers tie, and their mean keeps the start independent of the clients' order). By
 * convexity F(start) ≤ (1 + 1e-10)·minᵢ F(xᵢ). The mean also loses when the Gram matrix cannot
 * resolve its distances (see `meanDistancesReliable`): a pair of colluding clients at ±B cancels
 * in the mean but leaves it distances that float64 cannot compute.
 */
function startingWeights(g: Float64Array, m: number, alpha?: Float64Array): Float64Array {
  // Without alpha every weight is 1 (multiplying by 1 changes no bit); alpha has mean 1.
  const uniform = alpha === undefined ? new Float64Array(m).fill(1 / m) : Float64Array.from(alpha, (a) => a / m);
  const toMean = squaredDistancesToCombination(g, m, uniform);
  let meanCost = 0;
  for (let i = 0; i < m; i++) meanCost += (alpha === undefined ? 1 : alpha[i]) * Math.sqrt(toMean[i]);
  const pairs = squaredDistancesFromGram(g, m);
  const cost = new Float64Array(m);
  let smallest = Infinity;
  for (let i = 0; i < m; i++) {
    let c = 0;
    for (let j = 0; j < m; j++) c += (alpha === undefined ? 1 : alpha[j]) * Math.sqrt(pairs[i * m + j]);
    cost[i] = c;
    if (c < smallest) smallest = c;
  }
  if (!(smallest < meanCost)) {
    // The robust scale: the median distance from the best client to the others.
    let best = 0;
    for (let i = 1; i < m; i++) if (cost[i] < cost[best]) best = i;
    const fromBest = Array.from({ length: m }, (_, j) => Math.sqrt(pairs[best * m + j]));
    const scale =
      alpha === undefined ? fromBest.sort((a, b) => a - b)[m >> 1] : weightedMedianDistance(Float64Array.from(fromBest), alpha);
    if (meanDistancesReliable(g, m, toMean, scale, alpha === undefined ? null : uniform)) return uniform;
  }
  const limit = smallest * (1 + START_TIE);
  const start = new Float64Array(m);
  let tied = 0;
  for (let i = 0; i < m; i++) if (cost[i] <= limit) tied++;
  for (let i = 0; i < m; i++) if (cost[i] <= limit) start[i] = 1 / tied;
  return start;
}
