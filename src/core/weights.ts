import { RobustAggError } from './errors.js';
import { describeValue } from './options.js';

export { WEIGHTED_RULES, noWeightedFormMessage } from './weighted-rules.js';

/**
 * Client weights (option `weights`, e.g. local sample counts) as the weighted rules share them,
 * with the conventions of `mean` (FedAvg): one finite weight ≥ 0 per client, read once into
 * float64, not all 0; clients dropped for NaN/±Inf lose their weight; the rest are normalised to
 * sum to 1 over the finite clients. Internal: not exported from the package.
 */

/**
 * Reads `weights` once into float64, checking that it is an array-like of n finite numbers ≥ 0,
 * not all 0. Throws `INVALID_OPTION` naming `rule`, the client and the constraint otherwise.
 *
 * @internal
 */
export function readClientWeights(rule: string, weights: unknown, n: number): Float64Array {
  if (weights === null || typeof weights !== 'object') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: weights must be an array of n=${n} numbers (one finite weight ≥ 0 per client), got ${describeValue(weights)}`,
    );
  }
  const source = weights as ArrayLike<unknown>;
  const length = source.length;
  if (length !== n) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: weights has length ${describeValue(length)}, expected one weight per client (n=${n})`,
    );
  }
  const out = new Float64Array(n);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    const v = source[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: weight of client ${i} must be finite and ≥ 0, got ${describeValue(v)}`);
    }
    out[i] = v;
    if (v > largest) largest = v;
  }
  if (largest === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: every weight is 0`);
  return out;
}

/**
 * The weights of the clients `index` (rows of the finite clients), scaled so that their float64
 * sum is finite: the weights themselves, or, when their sum overflows (weights near
 * Number.MAX_VALUE), each divided by the largest. Integer weights (sample counts) whose total is
 * below 2⁵³ stay integers, so every cumulative sum of them is exact. Throws `INVALID_OPTION`
 * when they sum to 0.
 *
 * @internal
 */
export function scaledClientWeights(rule: string, given: Float64Array, index: readonly number[]): Float64Array {
  const m = index.length;
  const s = new Float64Array(m);
  let total = 0;
  let largest = 0;
  for (let k = 0; k < m; k++) {
    s[k] = given[index[k]];
    total += s[k];
    if (s[k] > largest) largest = s[k];
  }
  if (!(total > 0)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the weights of the finite clients sum to 0`);
  }
  if (total === Infinity) for (let k = 0; k < m; k++) s[k] /= largest;
  return s;
}

/**
 * The weights of the clients `index` normalised to sum to 1 (as `mean` computes them: divided by
 * their float64 sum, or first by the largest when that sum overflows). Throws `INVALID_OPTION`
 * when they sum to 0.
 *
 * @internal
 */
export function normalisedClientWeights(rule: string, given: Float64Array, index: readonly number[]): Float64Array {
  const s = scaledClientWeights(rule, given, index);
  let total = 0;
  for (let k = 0; k < s.length; k++) total += s[k];
  for (let k = 0; k < s.length; k++) s[k] /= total;
  return s;
}

/**
 * Whether every weight of `w` is the same number (then a weighted rule is its unweighted form,
 * and runs it, with its exact bits).
 *
 * @internal
 */
export function allEqual(w: ArrayLike<number>): boolean {
  for (let k = 1; k < w.length; k++) if (w[k] !== w[0]) return false;
  return true;
}
