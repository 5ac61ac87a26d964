import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { reduceColumns } from '../kernels/column-select.js';

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
 * Cost: blocks of 256 columns copied transposed, one count per coordinate, O(n·d).
 *
 * @example
 * ```ts
 * import { signMajority } from 'robust-agg';
 * const direction = signMajority(updates); // Float32Array of −1, 0, 1
 * for (let k = 0; k < params.length; k++) params[k] -= lr * direction[k];
 * ```
 */
export function signMajority(updates: Updates, options?: SignMajorityOptions): Float32Array {
  return signMajorityWithDecision(updates, options).aggregate;
}

/**
 * {@link signMajority} together with its {@link SignMajorityDecision}.
 *
 * @example
 * ```ts
 * const { decision } = signMajorityWithDecision(updates);
 * decision.ties; // coordinates left at 0 by a tied vote
 * ```
 */
export function signMajorityWithDecision(
  updates: Updates,
  options?: SignMajorityOptions,
): Aggregation<SignMajorityDecision> {
  const rule = 'signMajority';
  const opts = readOptions(rule, options, ['nonFinite']);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  let ties = 0;
  const aggregate = reduceColumns(clients.rows, (col, lo, m) => {
    let vote = 0;
    for (let i = lo; i < lo + m; i++) {
      const v = col[i];
      if (v > 0) vote++;
      else if (v < 0) vote--;
    }
    if (vote === 0) {
      ties++;
      return 0;
    }
    return vote > 0 ? 1 : -1;
  });
  return { aggregate, decision: { rule, n: clients.n, dropped: clients.dropped, ties } };
}
