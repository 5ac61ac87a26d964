import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram } from '../kernels/gram.js';
import { cosinesFromGram } from './catalogue-similarity.js';

/** How a client is identified across rounds in a {@link FoolsGoldHistory}. */
export type FoolsGoldClientId = string | number;

/**
 * Most clients a {@link FoolsGoldHistory} may hold (this round's new clients included): the rule
 * keeps two K×K float64 matrices (128 MiB each at this size) and K²d/2 multiply-adds per round,
 * so a history that grows without bound would exhaust memory. Past it the call throws
 * `INVALID_OPTION`; drop the entries of clients that left.
 */
export const FOOLS_GOLD_MAX_HISTORY = 4096;

/**
 * FoolsGold's state across rounds: the sum of every update each client has sent so far, in
 * float64 (finite float32 updates can never overflow it: a float32 value, at most 3.4·10³⁸, is
 * far below half an ulp of the largest float64, so a rounded sum stays finite). The caller keeps it and passes it back next round; the
 * rule never mutates it (a new history is returned; entries of clients absent from a round are
 * shared with the old one, not copied).
 */
export interface FoolsGoldHistory {
  /**
   * Accumulated update Hᵢ = Σ_t x_{i,t} of each client seen so far, by client id, as a
   * `Float64Array` of length d. Every entry must be finite. A `Float32Array` entry (the history
   * format of robust-agg 0.1.0) is accepted and widened.
   */
  readonly sums: ReadonlyMap<FoolsGoldClientId, Float64Array>;
}

/** Options of {@link foolsGold}. */
export interface FoolsGoldOptions extends CommonOptions {
  /**
   * Stable id of the client behind each update (same length as the updates, no duplicates;
   * strings or numbers), so that histories line up across rounds. Default: the position 0..n−1,
   * which is only right when the same clients send in the same order every round.
   */
  clientIds?: readonly FoolsGoldClientId[];
  /**
   * The history returned by the previous round. Default: empty (first round). At most
   * {@link FOOLS_GOLD_MAX_HISTORY} clients together with this round's new ones; every entry a
   * finite vector of length d (a non-finite entry throws `INVALID_OPTION` naming the client and
   * the coordinate: it cannot come from finite updates, so the history was corrupted — delete
   * that entry to restart the client).
   */
  history?: FoolsGoldHistory;
  /**
   * Confidence κ of the logit, αᵢ = κ·(ln(αᵢ/(1 − αᵢ)) + 0.5): a finite number in (0, 10⁶].
   * Default 1 (the paper's choice).
   */
  kappa?: number;
}

/** Largest κ accepted: beyond it the logit is a step function already (κ·ln 99 ≫ 1). */
const MAX_KAPPA = 1e6;

/** Decision of {@link foolsGold}. */
export interface FoolsGoldDecision extends Decision {
  /** Clients with a positive learning rate αᵢ (ascending). */
  readonly selected: readonly number[];
  /** Output = Σ wᵢ xᵢ with wᵢ = αᵢ / Σⱼ αⱼ (0 for dropped clients and for αᵢ = 0). */
  readonly weights: Float64Array;
  /** FoolsGold's per-client learning rate αᵢ ∈ [0, 1] after the logit (0 for dropped clients). */
  readonly learningRates: Float64Array;
  /**
   * vᵢ = max(0, maxⱼ≠ᵢ cos(Hᵢ, Hⱼ)) over the other clients in the history, before pardoning
   * (NaN for dropped clients; 1 for a client whose history is the zero vector).
   */
  readonly maxSimilarity: Float64Array;
}

/** What {@link foolsGoldWithDecision} returns: the aggregation and the history for the next round. */
export interface FoolsGoldAggregation extends Aggregation<FoolsGoldDecision> {
  /** The updated history; pass it as `history` next round. */
  readonly history: FoolsGoldHistory;
}

/** Columns per block when the scaled history rows and their Gram matrix are computed. */
const HISTORY_BLOCK = 4096;

/**
 * FoolsGold (Fung, Yoon & Beschastnikh, "The limitations of federated learning in sybil
 * settings", RAID 2020): clients whose accumulated updates Hᵢ point the same way are treated as
 * sybils and lose weight.
 * 1. Hᵢ ← Hᵢ + xᵢ for this round's clients; csᵢⱼ = cos(Hᵢ, Hⱼ) over every client in the history;
 *    vᵢ = maxⱼ≠ᵢ csᵢⱼ.
 * 2. Pardoning: csᵢⱼ ← csᵢⱼ·vᵢ/vⱼ whenever vᵢ < vⱼ.
 * 3. αᵢ = 1 − maxⱼ≠ᵢ csᵢⱼ clipped to [0, 1], divided by its maximum over the history, 1 replaced by
 *    0.99, then the logit αᵢ = κ(ln(αᵢ/(1 − αᵢ)) + 0.5) clipped to [0, 1].
 * 4. out = Σᵢ αᵢ xᵢ / Σᵢ αᵢ over this round's clients.
 *
 * Conventions (documented choices where the paper leaves room): as in the authors' code the
 * maxima in 1 and 3 include the diagonal set to 0, so vᵢ ≥ 0 and αᵢ ≤ 1 before rescaling; the
 * similarities use the histories of every client ever seen (an absent sybil still counts), as
 * the authors' code does; the output is the α-weighted mean (some ports return (1/n)·Σ αᵢ xᵢ
 * instead, which is this output times Σα/n — rebuild it from `learningRates` if needed); the
 * optional feature-importance weighting of the paper is not applied. When every α is 0 (every
 * client has an exact twin, or all are identical) the output is the zero vector.
 *
 * Hostile numbers: histories are float64 sums, so no client can overflow its own (a client
 * sending 3.4·10³⁸ every round stays finite and keeps being compared). Cosines are computed on
 * copies of the histories each scaled by a power of two of its own (largest magnitude in
 * [½, 1]), so one client's magnitude never changes another pair's cosine. A client whose history
 * is the zero vector has no direction to compare (cosine 0/0): it is treated as maximally
 * suspicious, learning rate 0, maxSimilarity 1, and counts as similarity 0 for the others. Any
 * similarity that is not a number counts as 1 (maximally suspicious) for both clients, so NaN
 * never gives weight. Learning rates are in [0, 1], the weights sum to 1 or are all 0, so the
 * output is a convex combination of this round's finite updates (finite, each coordinate within
 * their range).
 *
 * The rule is stateful by client id, but the state is explicit: call {@link foolsGoldWithDecision}
 * and pass its `history` back next round. `foolsGold` alone treats each call as a first round
 * unless you pass `history`. Non-finite clients are dropped and their history left unchanged.
 *
 * Cost: one pass that writes this round's new Hᵢ and finds their largest magnitudes (and one
 * that finds those of absent clients' histories), one that scales every history block by block
 * and accumulates their (uncentred) Gram matrix, K²d/2 multiply-adds for K clients in the
 * history; O(K²) decision; one combine pass over this round.
 *
 * @param updates - this round's n client updates, each a `Float32Array` of the same length d; not
 *   modified. Clients holding NaN or ±Inf are dropped, their history unchanged (or throw, see
 *   `nonFinite`).
 * @param options - see {@link FoolsGoldOptions}: `clientIds` (one stable id per update; default
 *   the positions 0..n−1), `history` (the previous round's; default empty), `kappa` (κ, finite in
 *   (0, 10⁶]; default 1), `nonFinite` (default `'drop'`). Default `{}`.
 * @returns the α-weighted mean of this round's updates, a new `Float32Array` of length d (use
 *   {@link foolsGoldWithDecision} to keep the history across rounds).
 * @example
 * ```ts
 * import { foolsGold } from 'robust-agg';
 *
 * // One round: clients 3 and 4 are sybils pushing the same direction.
 * const updates = [
 *   Float32Array.of(1, 0.2, 0),
 *   Float32Array.of(0.3, 1, 0.5),
 *   Float32Array.of(0, 0.3, 1),
 *   Float32Array.of(-1, -1, 2),
 *   Float32Array.of(-1, -1, 2.01),
 * ];
 * console.log(foolsGold(updates)); // the sybils get (almost) no weight
 * ```
 */
export function foolsGold(updates: Updates, options: FoolsGoldOptions = {}): Float32Array {
  return foolsGoldWithDecision(updates, options).aggregate;
}

/**
 * {@link foolsGold} together with its {@link FoolsGoldDecision} and the updated
 * {@link FoolsGoldHistory}.
 *
 * @param updates - this round's n client updates, each a `Float32Array` of the same length d; not
 *   modified. Clients holding NaN or ±Inf are dropped, their history unchanged (or throw, see
 *   `nonFinite`).
 * @param options - see {@link FoolsGoldOptions}: `clientIds` (one stable id per update; default
 *   the positions 0..n−1), `history` (the previous round's; default empty), `kappa` (κ, finite in
 *   (0, 10⁶]; default 1), `nonFinite` (default `'drop'`). Optional.
 * @example
 * ```ts
 * import { foolsGoldWithDecision, type FoolsGoldHistory } from 'robust-agg';
 *
 * // Three rounds. Honest clients a, b, c send varied updates; sybils s1 and s2 send one direction.
 * // The caller keeps the history and passes it back each round.
 * let history: FoolsGoldHistory | undefined;
 * const params = new Float32Array(3);
 * for (let round = 0; round < 3; round++) {
 *   const updates = [
 *     Float32Array.of(1, Math.sin(round), 0),
 *     Float32Array.of(Math.cos(round), 1, 0.5),
 *     Float32Array.of(0, 0.3, 1 + round),
 *     Float32Array.of(-1, -1, 2),
 *     Float32Array.of(-1, -1, 2.01),
 *   ];
 *   const result = foolsGoldWithDecision(updates, { clientIds: ['a', 'b', 'c', 's1', 's2'], history });
 *   history = result.history;
 *   for (let k = 0; k < params.length; k++) params[k] += result.aggregate[k];
 *   console.log(round, result.decision.learningRates); // α of a, b, c, s1, s2: the sybils' are 0
 * }
 *
 * // Clients may come and go: ids line the histories up ('a' is absent, 'd' is new).
 * const next = foolsGoldWithDecision([Float32Array.of(0.5, 1, 0), Float32Array.of(0.2, -1, 0.3)], {
 *   clientIds: ['b', 'd'],
 *   history,
 * });
 * console.log(next.decision.learningRates, next.history.sums.size); // α of b and d; 6 histories
 * ```
 */
export function foolsGoldWithDecision(updates: Updates, options?: FoolsGoldOptions): FoolsGoldAggregation {
  const rule = 'foolsGold';
  const opts = readOptions(rule, options, ['clientIds', 'history', 'kappa', 'nonFinite']);
  const kappa = foolsGoldKappa(rule, opts.kappa);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { n, d, rows } = clients;
  const ids = clientIdsOf(rule, opts.clientIds, n);
  const previous = historyOf(rule, opts.history, d);

  // The history after this round: previous entries, then this round's new clients in input order.
  const sums = new Map<FoolsGoldClientId, Float64Array>(previous);
  const fresh: Float64Array[] = [];
  const old: (Float64Array | undefined)[] = [];
  for (let k = 0; k < rows.length; k++) {
    const id = ids[clients.index[k]];
    old.push(previous.get(id));
    const next = new Float64Array(d);
    fresh.push(next);
    sums.set(id, next);
  }
  const K = sums.size;
  if (K > FOOLS_GOLD_MAX_HISTORY) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the history would hold ${K} clients, more than ${FOOLS_GOLD_MAX_HISTORY}; delete the entries of clients that left`,
    );
  }
  const largestOf = new Map<Float64Array, number>();
  for (let k = 0; k < rows.length; k++) largestOf.set(fresh[k], accumulate(old[k], rows[k], fresh[k]));
  const members = [...sums.keys()];
  const memberRows = members.map((id) => sums.get(id) as Float64Array);
  const position = new Map(members.map((id, p) => [id, p]));
  const scales = memberRows.map((h, p) => unitScale(rule, largestOf.get(h) ?? largestMagnitude(h), h, members[p]));
  const g = scaledGram(memberRows, scales, d);

  const { v, alpha } = foolsGoldRates(g, K, kappa);

  const at = clients.index.map((i) => position.get(ids[i]) as number);
  const { rates, similarity, w, chosen } = foolsGoldWeights(alpha, v, at, clients.index, n);
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n,
      dropped: clients.dropped,
      selected: indicesOverInput(chosen, clients),
      weights: weightsOverInput(w, clients),
      learningRates: weightsOverInput(rates, clients),
      maxSimilarity: similarity,
    },
    history: { sums },
  };
}

/**
 * κ read and checked: a finite number in (0, 10⁶], default 1. Shared by foolsGold and the sharded
 * coordinator.
 *
 * @internal
 */
export function foolsGoldKappa(rule: string, value: number | undefined): number {
  const kappa = requireNumber(rule, 'kappa', value ?? 1, 0, MAX_KAPPA);
  if (kappa === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: kappa must be > 0, got 0`);
  return kappa;
}

/**
 * FoolsGold's decision from the K×K uncentred Gram matrix g of the (scaled) histories: the
 * maximum similarities v (before pardoning) and the learning rates α (after pardoning, rescaling
 * and the logit). Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function foolsGoldRates(g: Float64Array, K: number, kappa: number): { v: Float64Array; alpha: Float64Array } {
  const cs = cosinesFromGram(g, K);
  const directionless = new Uint8Array(K);
  for (let i = 0; i < K; i++) {
    if (!(g[i * K + i] > 0)) directionless[i] = 1;
    cs[i * K + i] = 0; // the authors' `cs − I`
    for (let j = 0; j < K; j++) if (Number.isNaN(cs[i * K + j])) cs[i * K + j] = 1; // never a free pass
  }
  const v = new Float64Array(K);
  for (let i = 0; i < K; i++) v[i] = directionless[i] === 1 ? 1 : rowMax(cs, K, i);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      if (i !== j && v[i] < v[j]) cs[i * K + j] *= v[i] / v[j];
    }
  }
  const alpha = new Float64Array(K);
  let largest = 0;
  for (let i = 0; i < K; i++) {
    const a = directionless[i] === 1 ? 0 : 1 - rowMax(cs, K, i);
    alpha[i] = a > 0 ? Math.min(1, a) : 0; // NaN → 0
    if (alpha[i] > largest) largest = alpha[i];
  }
  for (let i = 0; i < K; i++) {
    if (largest === 0) {
      alpha[i] = 0;
      continue;
    }
    let a = alpha[i] / largest;
    if (a === 1) a = 0.99;
    const logit = a === 0 ? -Infinity : kappa * (Math.log(a / (1 - a)) + 0.5);
    alpha[i] = logit > 0 ? Math.min(1, logit) : 0; // NaN → 0
  }

  return { v, alpha };
}

/**
 * This round's learning rates, weights αᵢ/Σα (all 0 when Σα = 0) and chosen clients (α > 0), for
 * the finite clients whose history positions are `at` (input indices `index`), and maxSimilarity
 * over the n inputs. Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function foolsGoldWeights(
  alpha: Float64Array,
  v: Float64Array,
  at: readonly number[],
  index: readonly number[],
  n: number,
): { rates: Float64Array; similarity: Float64Array; w: Float64Array; chosen: number[] } {
  const m = at.length;
  const rates = new Float64Array(m);
  const similarity = new Float64Array(n).fill(NaN);
  let total = 0;
  for (let k = 0; k < m; k++) {
    const p = at[k];
    rates[k] = alpha[p];
    similarity[index[k]] = v[p];
    total += alpha[p];
  }
  const w = new Float64Array(m);
  const chosen: number[] = [];
  if (total > 0) {
    for (let k = 0; k < m; k++) {
      w[k] = rates[k] / total;
      if (rates[k] > 0) chosen.push(k);
    }
  }
  return { rates, similarity, w, chosen };
}

/**
 * The clients' ids (default the positions), checked: one string or number per update, no
 * duplicates. Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function clientIdsOf(rule: string, given: unknown, n: number): FoolsGoldClientId[] {
  if (given === undefined) return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(given) || given.length !== n) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clientIds must hold one id per update (n=${n})`);
  }
  const ids = Array.from(given as unknown[]); // read once
  const seen = new Set<FoolsGoldClientId>();
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: clientIds[${i}] must be a string or a number`);
    }
    if (seen.has(id)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: client id ${String(id)} appears twice (client ${i})`);
    }
    seen.add(id);
  }
  return ids as FoolsGoldClientId[];
}

/**
 * The previous round's sums as float64 vectors of length d (Float32Array entries widened), after
 * checking the shape of `history`; finiteness is checked later, in the pass that scans each row.
 * Shared by foolsGold and the shards of the sharded coordinator.
 *
 * @internal
 */
export function historyOf(rule: string, history: unknown, d: number): Map<FoolsGoldClientId, Float64Array> {
  const out = new Map<FoolsGoldClientId, Float64Array>();
  if (history === undefined) return out;
  if (history === null || typeof history !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: history must be { sums: Map }, got ${history === null ? 'null' : typeof history}`);
  }
  const sums = (history as { sums?: unknown }).sums;
  if (!(sums instanceof Map)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: history.sums must be a Map from client id to Float64Array`);
  }
  if (sums.size > FOOLS_GOLD_MAX_HISTORY) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: history holds ${sums.size} clients, more than ${FOOLS_GOLD_MAX_HISTORY}; delete the entries of clients that left`,
    );
  }
  for (const [id, sum] of sums as Map<unknown, unknown>) {
    if (typeof id !== 'string' && typeof id !== 'number') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: history ids must be strings or numbers, got ${typeof id}`);
    }
    if (sum instanceof Float64Array && sum.length === d) out.set(id, sum);
    else if (sum instanceof Float32Array && sum.length === d) out.set(id, Float64Array.from(sum));
    else {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the history of client ${String(id)} must be a Float64Array of length d=${d}`,
      );
    }
  }
  return out;
}

/**
 * out = h + x in float64 (a copy of x for a new client); returns max |outᵢ| (NaN if h holds NaN),
 * found in the same pass.
 * Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function accumulate(h: Float64Array | undefined, x: Float32Array, out: Float64Array): number {
  let largest = 0;
  if (h === undefined) {
    for (let c = 0; c < x.length; c++) {
      const v = x[c];
      out[c] = v;
      const a = Math.abs(v);
      if (a > largest) largest = a;
    }
    return largest;
  }
  for (let c = 0; c < x.length; c++) {
    const v = h[c] + x[c];
    out[c] = v;
    const a = Math.abs(v);
    if (a > largest) largest = a;
    else if (a !== a) return NaN;
  }
  return largest;
}

/**
 * max |hᵢ| (NaN if h holds NaN). Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function largestMagnitude(h: Float64Array): number {
  let largest = 0;
  for (let c = 0; c < h.length; c++) {
    const a = Math.abs(h[c]);
    if (a > largest) largest = a;
    else if (a !== a) return NaN;
  }
  return largest;
}

/**
 * The power of two s with max|hᵢ|·s in [½, 1] (1 for the zero vector; at most 2¹⁰⁰⁰ for
 * histories below 2⁻¹⁰⁰¹), given `largest` = max|hᵢ|. A non-finite entry (largest NaN or +∞) can
 * only come from a corrupted history (finite float32 updates cannot overflow a float64 sum), so
 * it throws `INVALID_OPTION` naming the client and the coordinate.
 * Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function unitScale(rule: string, largest: number, h: Float64Array, id: FoolsGoldClientId): number {
  if (!(largest < Infinity)) {
    const c = h.findIndex((v) => !Number.isFinite(v));
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the history of client ${String(id)} holds ${String(h[c])} at coordinate ${c}; ` +
        'histories must be finite (delete the entry to restart that client)',
    );
  }
  if (largest === 0) return 1;
  let e = Math.max(-1000, Math.ceil(Math.log2(largest)));
  // Math.log2 may be off by one ulp near powers of two: settle the exponent exactly.
  while (largest * 2 ** -e > 1) e++;
  while (e > -1000 && largest * 2 ** -e <= 0.5) e--;
  return 2 ** -e;
}

/**
 * The uncentred Gram matrix of the rows hᵢ·sᵢ: block by block, each history scaled by its own
 * power of two (exact) and rounded to float32, then the Gram kernel. With every scaled row's
 * largest magnitude in [½, 1], no product overflows or depends on another row's magnitude, and
 * the cosines (scale-free) are those of the float64 histories to about 1e-7.
 * Shared by foolsGold and the sharded coordinator.
 *
 * @internal
 */
export function scaledGram(members: readonly Float64Array[], scales: readonly number[], d: number): Float64Array {
  const K = members.length;
  const g = new Float64Array(K * K);
  const buffer = new Float32Array(K * Math.min(d, HISTORY_BLOCK));
  for (let c0 = 0; c0 < d; c0 += HISTORY_BLOCK) {
    const width = Math.min(d, c0 + HISTORY_BLOCK) - c0;
    const block: Float32Array[] = [];
    for (let p = 0; p < K; p++) {
      const h = members[p];
      const s = scales[p];
      const out = buffer.subarray(p * width, (p + 1) * width);
      for (let k = 0; k < width; k++) out[k] = h[c0 + k] * s;
      block.push(out);
    }
    const part = gram(block, null);
    for (let t = 0; t < K * K; t++) g[t] += part[t];
  }
  return g;
}

function rowMax(a: Float64Array, n: number, i: number): number {
  let best = -Infinity;
  for (let j = 0; j < n; j++) if (a[i * n + j] > best) best = a[i * n + j];
  return best;
}
