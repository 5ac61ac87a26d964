import { RobustAggError } from '../core/errors.js';

/**
 * The server's update x ← x − γ·a with the aggregated message a (Byrd-SAGA, Wu, Ling, Chen &
 * Giannakis, IEEE TSP 2020, eq. x^{k+1} = x^k − γ·geomed{messages}), computed per coordinate in
 * float64 and rounded once. Writes into `out` (default: a new array; pass `params` itself to update
 * in place). Does not otherwise touch its inputs.
 *
 * @param params - the current parameters x.
 * @param direction - the aggregate a, same length.
 * @param lr - the step size γ (finite).
 * @param out - where to write; default a new `Float32Array`.
 * @example
 * ```ts
 * import { geometricMedian, serverStep } from 'robust-agg';
 *
 * // Three honest messages near (0.5, −0.5) and one attacker's.
 * const messages = [Float32Array.of(0.5, -0.5), Float32Array.of(0.6, -0.4), Float32Array.of(0.4, -0.6), Float32Array.of(50, 50)];
 * const params = serverStep(Float32Array.of(1, 1), geometricMedian(messages), 0.1);
 * console.log(params); // ≈ (0.95, 1.05)
 * serverStep(params, geometricMedian(messages), 0.1, params); // in place
 * console.log(params); // ≈ (0.9, 1.1)
 * ```
 */
export function serverStep<T extends Float32Array = Float32Array<ArrayBuffer>>(
  params: Float32Array,
  direction: Float32Array,
  lr: number,
  out: T = new Float32Array(params.length) as T,
): T {
  if (direction.length !== params.length || out.length !== params.length) {
    throw new RobustAggError(
      'LENGTH_MISMATCH',
      `serverStep: params have length ${params.length}, direction ${direction.length}, out ${out.length}`,
    );
  }
  if (typeof lr !== 'number' || !Number.isFinite(lr)) {
    throw new RobustAggError('INVALID_OPTION', `serverStep: lr must be a finite number, got ${String(lr)}`);
  }
  for (let k = 0; k < params.length; k++) out[k] = params[k] - lr * direction[k];
  return out;
}
