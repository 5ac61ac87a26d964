/**
 * Machine-readable reason attached to every {@link RobustAggError}.
 *
 * - `EMPTY_UPDATES`: no client update was given.
 * - `NOT_FLOAT32`: `updates` is not an array of updates (e.g. a single `Float32Array`), or a client
 *   update is not a `Float32Array`.
 * - `EMPTY_VECTOR`: the updates have length d = 0.
 * - `LENGTH_MISMATCH`: two clients sent vectors of different lengths.
 * - `INVALID_OPTION`: an option is out of its documented range (the message names it).
 * - `UNKNOWN_OPTION`: an options object holds a key the function does not know (a typo such as
 *   `tol` for `tolerance` would otherwise be ignored silently).
 * - `TOO_FEW_CLIENTS`: the rule's requirement on n and f fails ("krum needs n ≥ 2f+3, got n=5, f=2").
 * - `NON_FINITE_UPDATE`: a client sent NaN or ±Infinity and `nonFinite: 'throw'` was asked for.
 * - `NO_FINITE_UPDATES`: every client sent NaN or ±Infinity, so nothing is left to aggregate.
 * - `UNSUPPORTED`: the input is valid but the requested feature does not apply to it.
 */
export type RobustAggErrorCode =
  | 'EMPTY_UPDATES'
  | 'NOT_FLOAT32'
  | 'EMPTY_VECTOR'
  | 'LENGTH_MISMATCH'
  | 'INVALID_OPTION'
  | 'UNKNOWN_OPTION'
  | 'TOO_FEW_CLIENTS'
  | 'NON_FINITE_UPDATE'
  | 'NO_FINITE_UPDATES'
  | 'UNSUPPORTED';

/**
 * The one error type robust-agg throws for bad input. `code` is stable and meant for programs;
 * `message` names the rule, the client index and the violated constraint and is meant for people.
 *
 * @example
 * ```ts
 * import { krum, RobustAggError } from 'robust-agg';
 *
 * // Five clients are too few for f = 2: Krum needs n ≥ 2f + 3 = 7.
 * const updates = Array.from({ length: 5 }, (_, i) => Float32Array.of(i, 1, -1));
 * try {
 *   krum(updates, { f: 2 });
 * } catch (e) {
 *   if (!(e instanceof RobustAggError)) throw e;
 *   console.log(e.code);    // 'TOO_FEW_CLIENTS'
 *   console.log(e.message); // names the rule, the requirement and the n and f it got
 * }
 * ```
 */
export class RobustAggError extends Error {
  /** Stable reason code, see {@link RobustAggErrorCode}. */
  readonly code: RobustAggErrorCode;

  /**
   * @param code - the stable reason, one of {@link RobustAggErrorCode}.
   * @param message - what went wrong for a person: the rule, the client index or option, and the
   *   violated constraint.
   */
  constructor(code: RobustAggErrorCode, message: string) {
    super(message);
    this.name = 'RobustAggError';
    this.code = code;
  }
}
