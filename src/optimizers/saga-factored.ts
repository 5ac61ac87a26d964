import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger } from '../core/options.js';
import { resolveValidRng } from '../core/random.js';
import type { SagaInit, SagaOptions } from './saga.js';
import { float32Flushed, requireWorker } from './sampling.js';
import type { FactoredGradientOracle, GradientEstimator } from './types.js';

/** Options of {@link sagaFactored}: the table initialisation and the randomness. */
export type SagaFactoredOptions = Omit<SagaOptions, 'storage'>;

/**
 * SAGA (Defazio, Bach & Lacoste-Julien, NeurIPS 2014; per worker in Byrd-SAGA, Wu, Ling, Chen &
 * Giannakis, IEEE TSP 2020) with a compact table: it stores each sample's code c_j (see
 * {@link FactoredGradientOracle}) instead of its d-vector gradient, and rebuilds φ_j = G_j(c_j) when
 * needed. Same message as {@link saga}, v = ∇f_j(x) − φ_j + φ̄, same sequence for the same seed.
 *
 * Memory: J×c float32 codes plus φ̄ (d float64) — for a generalised linear model c = 1 (the
 * classic SAGA trick: store the scalar ℓ'(a_jᵀx)); for the 784–50–10 network of `mlpOracle`
 * c = 110 against d = 39 760. Cost per call: one code, two expansions into the message and two into
 * φ̄ (O(nnz(a_j)·c) each for sparse data), plus one O(d) copy of φ̄. Message entries below the
 * smallest normal float32 are returned as 0 (subnormals slow every later pass over the vector ~100×).
 *
 * @param oracle - the worker's factored oracle.
 * @param options - `init` (default `'gradients'`), `seed` or `rng` (required).
 * @example
 * ```ts
 * import { mlpOracle, sagaFactored } from 'robust-agg';
 * const worker = mlpOracle(localData, { hidden: 50, classes: 10 });
 * const est = sagaFactored(worker, { seed: 1 }); // 110 numbers per sample instead of 39 760
 * const message = est.next(params);
 * ```
 */
export function sagaFactored(oracle: FactoredGradientOracle, options: SagaFactoredOptions): GradientEstimator {
  const rule = 'sagaFactored';
  const o = readOptions<SagaFactoredOptions>(rule, options, ['init', 'seed', 'rng']);
  const count = requireWorker(rule, oracle);
  const c = requireInteger(rule, 'codeSize', oracle.codeSize, 1);
  if (typeof oracle.code !== 'function' || typeof oracle.addGradient !== 'function') {
    throw new RobustAggError('INVALID_OPTION', 'sagaFactored: the oracle needs code() and addGradient()');
  }
  const init: SagaInit = o.init ?? 'gradients';
  if (init !== 'gradients' && init !== 'zeros') {
    throw new RobustAggError('INVALID_OPTION', `sagaFactored: init must be 'gradients' or 'zeros', got ${describeValue(init)}`);
  }
  const rng = resolveValidRng(o, rule);
  const codes = new Float32Array(count * c);
  const fresh = new Float32Array(c);
  let average: Float64Array | null = null;
  let evaluations = 0;
  let d = -1;
  // With init 'zeros' an untouched row means φ_j = 0, which a zero code need not expand to.
  const filled = new Uint8Array(count);

  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      if (average === null) {
        d = params.length;
        average = new Float64Array(d);
        if (init === 'gradients') {
          for (let j = 0; j < count; j++) {
            const row = codes.subarray(j * c, (j + 1) * c);
            oracle.code(params, j, row);
            oracle.addGradient(j, row, 1 / count, average);
            filled[j] = 1;
          }
          evaluations += count;
        }
      }
      if (params.length !== d) {
        throw new RobustAggError('LENGTH_MISMATCH', `sagaFactored: params have length ${params.length}, the table was built for d=${d}`);
      }
      const mean = average;
      const j = rng.nextInt(count);
      const old = codes.subarray(j * c, (j + 1) * c);
      oracle.code(params, j, fresh);
      evaluations++;
      const acc = Float64Array.from(mean);
      oracle.addGradient(j, fresh, 1, acc);
      oracle.addGradient(j, fresh, 1 / count, mean);
      if (filled[j] === 1) {
        oracle.addGradient(j, old, -1, acc);
        oracle.addGradient(j, old, -1 / count, mean);
      }
      old.set(fresh);
      filled[j] = 1;
      return float32Flushed(acc);
    },
    get gradientEvaluations() {
      return evaluations;
    },
  };
}
