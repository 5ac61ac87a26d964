import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, requireNonFinitePolicy } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { signVoteCounts, signVoteCountsChecked } from '../kernels/lp-distances.js';

/** Options of {@link signMajority}: only `nonFinite`. Unknown keys throw `UNKNOWN_OPTION`. */
export type SignMajorityOptions = CommonOptions;

/** Decision of {@link signMajority}. */
export interface SignMajorityDecision extends Decision {
  /** Coordinates whose vote was tied (Σᵢ sign(x_{i,k}) = 0); their output is 0. */
  readonly ties: number;
}

/**
 * Majority vote on signs, the server side of signSGD with majority vote (Bernstein, Zhao,
 * Azizzadenesheli & Anandkumar, "signSGD with majority vote is communication efficient and fault
 * tolerant", ICLR 2019): out_k = sign(Σᵢ sign(x_{i,k})), with sign(0) = 0. A tied vote (as many
 * positive as negative signs) gives 0: the server does not move that coordinate. The output is in
 * {−1, 0, 1}; multiply it by the server's step size. Needs no f: a minority of clients cannot flip
 * a coordinate on which the honest majority agrees.
 *
 * Magnitudes never count, so no finite value (3.4·10³⁸, a sparse blinder, a subnormal) weighs
 * more than one vote; −0 and +0 both vote 0, and a tied coordinate gives +0. Both kernels give the
 * same bits (the vote is an exact count).
 *
 * Cost: one read of the data, row by row over blocks of columns whose integer vote counts stay in
 * cache (O(n·d)); from n·d = 2¹⁶ on a WebAssembly SIMD kernel counts four columns per instruction
 * and checks finiteness in the same pass (a client with NaN or ±∞ costs one more pass). The
 * counts are exact integers, so every kernel gives the same bits.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link SignMajorityOptions}: `nonFinite` only (default `'drop'`).
 * @returns the vote per coordinate, a new `Float32Array` of −1, 0 and 1.
 * @example
 * ```ts
 * import { signMajority } from 'robust-agg';
 *
 * const params = Float32Array.of(0.5, 0.5, 0.5);
 * const lr = 0.01;
 * const updates = [Float32Array.of(0.3, -2, 0), Float32Array.of(0.1, -1, 1), Float32Array.of(-9e9, 5, -1)];
 * const direction = signMajority(updates); // [1, -1, 0]: 2 of 3 votes, 2 of 3 votes, a tie
 * for (let k = 0; k < params.length; k++) params[k] -= lr * direction[k];
 * console.log(direction, params); // params: [0.49, 0.51, 0.5]
 * ```
 */
export function signMajority(updates: Updates, options?: SignMajorityOptions): Float32Array {
  return signMajorityWithDecision(updates, options).aggregate;
}

/**
 * {@link signMajority} together with its {@link SignMajorityDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link SignMajorityOptions}: `nonFinite` only (default `'drop'`).
 * @example
 * ```ts
 * import { signMajorityWithDecision } from 'robust-agg';
 *
 * const updates = [Float32Array.of(1, 1), Float32Array.of(-1, 1)];
 * const { aggregate, decision } = signMajorityWithDecision(updates);
 * console.log(aggregate, decision.ties); // [0, 1] 1: coordinate 0 was a tied vote
 * ```
 */
export function signMajorityWithDecision(
  updates: Updates,
  options?: SignMajorityOptions,
): Aggregation<SignMajorityDecision> {
  const rule = 'signMajority';
  const opts = readOptions(rule, options, ['nonFinite']);
  // On the WebAssembly kernel the vote pass doubles as the finiteness check; a row with NaN or ±∞
  // sends the call through finiteClients (its errors, or the finite rows, counted again).
  const { n, d } = validateUpdates(updates, rule);
  requireNonFinitePolicy(rule, opts.nonFinite);
  let votes = signVoteCountsChecked(updates, d);
  let dropped: readonly number[] = [];
  if (!votes) {
    const clients = finiteClients(updates, rule, opts.nonFinite);
    dropped = clients.dropped;
    votes = signVoteCounts(clients.rows, d);
  }
  const { aggregate, ties } = signVotes(votes, d);
  return { aggregate, decision: { rule, n, dropped, ties } };
}

/** out_k = sign(votes_k) (+0 on a tie) and the number of ties. */
function signVotes(votes: Int32Array, d: number): { aggregate: Float32Array; ties: number } {
  const aggregate = new Float32Array(d);
  let ties = 0;
  for (let k = 0; k < d; k++) {
    const vote = votes[k];
    if (vote === 0) ties++;
    else aggregate[k] = vote > 0 ? 1 : -1;
  }
  return { aggregate, ties };
}
