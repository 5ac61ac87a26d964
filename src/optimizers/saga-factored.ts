import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger } from '../core/options.js';
import { readArray, readCount, readRng, readState, resolveSavableRng, saveRng } from './estimator-state.js';
import type { SagaInit, SagaOptions } from './saga.js';
import { flushInto, requireWorker } from './sampling.js';
import type { EstimatorState, FactoredGradientOracle, GradientEstimator } from './types.js';

/**
 * An oracle's fused SAGA update of sample j, for {@link sagaFactored} (internal: `mlpOracle` has
 * one). For every coordinate k of the sample's support, with the same floating-point operations in
 * the same order as the four `addGradient` calls it replaces:
 * out[k] = flush((φ̄[k] + G(fresh)[k]) − G(old)[k]); φ̄[k] ← (φ̄[k] + G(fresh)[k]/J) − G(old)[k]/J;
 * φ̄₃₂[k] = flush(φ̄[k]) — the old terms only when `had`. One pass instead of seven.
 *
 * @internal
 */
export type FusedSagaUpdate = (
  j: number,
  fresh: Float32Array,
  old: Float32Array,
  had: boolean,
  inv: number,
  mean: Float64Array,
  meanF32: Float32Array,
  out: Float32Array,
) => void;

/** The property under which an oracle offers its {@link FusedSagaUpdate}. @internal */
export const FUSED_SAGA_UPDATE: unique symbol = Symbol('robust-agg.fusedSagaUpdate');

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
 * φ̄ (O(nnz(a_j)·c) each for sparse data), plus writing the d-entry message: with an oracle that
 * announces its `supportRanges` (as `mlpOracle` does) the message starts as a copy of a float32
 * image of φ̄ and only the ranges are recomputed in float64; without, all d entries are summed and
 * rounded. Both give the same bits. `nextInto(params, out)` writes the message into the caller's
 * buffer (no allocation; `trainRobust` uses it). Message entries below the smallest normal
 * float32 are returned as 0 (subnormals slow every later pass over the vector ~100×).
 *
 * @param oracle - the worker's factored oracle.
 * @param options - `init` (default `'gradients'`), `seed` or `rng` (required).
 * @example
 * ```ts
 * import { createRng, initMlp, mlpOracle, sagaFactored } from 'robust-agg';
 *
 * // Four samples with 3 features, two classes (a real run: 784–50–10 on MNIST).
 * const shape = { inputSize: 3, hidden: 4, classes: 2 };
 * const data = { features: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0), labels: [0, 1, 1, 0] };
 * const worker = mlpOracle(data, shape);
 * const est = sagaFactored(worker, { seed: 1 }); // 2h + k = 10 numbers per sample instead of d = 26
 * const params = initMlp(shape, createRng(1));
 * console.log(est.next(params).length); // 26
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
  const supportRanges = oracle.supportRanges;
  if (supportRanges !== undefined && typeof supportRanges !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `sagaFactored: the oracle's supportRanges must be a function, got ${describeValue(supportRanges)}`);
  }
  const fusedUpdate = (oracle as { [FUSED_SAGA_UPDATE]?: FusedSagaUpdate })[FUSED_SAGA_UPDATE];
  const fused = supportRanges !== undefined && typeof fusedUpdate === 'function' ? fusedUpdate : null;
  const rangeLimit = supportRanges === undefined ? 0 : requireInteger(rule, 'supportRangeLimit', oracle.supportRangeLimit as number, 1, MAX_SUPPORT_RANGES);
  const init: SagaInit = o.init ?? 'gradients';
  if (init !== 'gradients' && init !== 'zeros') {
    throw new RobustAggError('INVALID_OPTION', `sagaFactored: init must be 'gradients' or 'zeros', got ${describeValue(init)}`);
  }
  const rng = resolveSavableRng(o, rule);
  const codes = new Float32Array(count * c);
  const fresh = new Float32Array(c);
  const ranges = new Int32Array(2 * rangeLimit);
  // φ̄ in float64; with supportRanges also its flushed float32 image (every message starts as a
  // copy of it) and a float64 scratch whose entries are meaningful only inside this call's ranges.
  let average: Float64Array | null = null;
  let averageF32: Float32Array | null = null;
  let acc: Float64Array | null = null;
  let evaluations = 0;
  let d = -1;
  // With init 'zeros' an untouched row means φ_j = 0, which a zero code need not expand to.
  const filled = new Uint8Array(count);

  const start = (params: Float32Array): void => {
    d = params.length;
    average = new Float64Array(d);
    acc = new Float64Array(d);
    if (init === 'gradients') {
      for (let j = 0; j < count; j++) {
        const row = codes.subarray(j * c, (j + 1) * c);
        oracle.code(params, j, row);
        oracle.addGradient(j, row, 1 / count, average);
        filled[j] = 1;
      }
      evaluations += count;
    }
    if (supportRanges !== undefined) {
      averageF32 = new Float32Array(d);
      flushInto(average, averageF32, 0, d);
    }
  };

  /** Reads this call's ranges from the oracle and checks them (in [0, d], start ≤ end). */
  const readRanges = (j: number): number => {
    const n = (supportRanges as NonNullable<typeof supportRanges>).call(oracle, j, ranges);
    if (!Number.isInteger(n) || n < 0 || n > rangeLimit) {
      throw new RobustAggError('INVALID_OPTION', `sagaFactored: supportRanges(${j}) returned ${describeValue(n)}, not an integer in [0, ${rangeLimit}]`);
    }
    for (let r = 0; r < n; r++) {
      const a = ranges[2 * r];
      const b = ranges[2 * r + 1];
      if (!(a >= 0 && a <= b && b <= d)) {
        throw new RobustAggError('INVALID_OPTION', `sagaFactored: supportRanges(${j}) gave the range [${a}, ${b}), outside [0, ${d}]`);
      }
    }
    return n;
  };

  const nextInto = (params: Float32Array, out: Float32Array): void => {
    if (average === null) start(params);
    if (params.length !== d || out.length !== d) {
      throw new RobustAggError(
        'LENGTH_MISMATCH',
        `sagaFactored: params have length ${params.length} and out ${out.length}, the table was built for d=${d}`,
      );
    }
    const mean = average as Float64Array;
    const scratch = acc as Float64Array;
    const j = rng.nextInt(count);
    const old = codes.subarray(j * c, (j + 1) * c);
    oracle.code(params, j, fresh);
    evaluations++;
    const had = filled[j] === 1;
    if (supportRanges === undefined) {
      // Message = φ̄ + G_j(fresh) − G_j(old), summed in this order in float64, rounded once.
      scratch.set(mean);
      oracle.addGradient(j, fresh, 1, scratch);
      if (had) oracle.addGradient(j, old, -1, scratch);
      flushInto(scratch, out, 0, d);
      oracle.addGradient(j, fresh, 1 / count, mean);
      if (had) oracle.addGradient(j, old, -1 / count, mean);
    } else if (fused !== null) {
      // The same, with the oracle's one-pass update of the sample's support.
      out.set(averageF32 as Float32Array);
      fused(j, fresh, old, had, 1 / count, mean, averageF32 as Float32Array, out);
    } else {
      // Outside the ranges the message is φ̄ rounded (a copy of its float32 image); inside, the
      // same float64 sums in the same order as above.
      const meanF32 = averageF32 as Float32Array;
      const n = readRanges(j);
      out.set(meanF32);
      for (let r = 0; r < n; r++) {
        for (let k = ranges[2 * r], end = ranges[2 * r + 1]; k < end; k++) scratch[k] = mean[k];
      }
      oracle.addGradient(j, fresh, 1, scratch);
      if (had) oracle.addGradient(j, old, -1, scratch);
      for (let r = 0; r < n; r++) flushInto(scratch, out, ranges[2 * r], ranges[2 * r + 1]);
      oracle.addGradient(j, fresh, 1 / count, mean);
      if (had) oracle.addGradient(j, old, -1 / count, mean);
      for (let r = 0; r < n; r++) flushInto(mean, meanF32, ranges[2 * r], ranges[2 * r + 1]);
    }
    old.set(fresh);
    filled[j] = 1;
  };

  return {
    name: rule,
    next(params: Float32Array): Float32Array {
      const out = new Float32Array(params.length);
      nextInto(params, out);
      return out;
    },
    nextInto,
    get gradientEvaluations() {
      return evaluations;
    },
    // d = −1: not started (φ̄ is built at the first call). The scratch arrays are not state.
    saveState: (): EstimatorState => ({
      estimator: rule,
      rng: saveRng(rng, rule),
      d,
      codes: codes.slice(),
      filled: filled.slice(),
      average: average === null ? null : average.slice(),
      averageF32: averageF32 === null ? null : averageF32.slice(),
      evaluations,
    }),
    loadState(state: EstimatorState): void {
      const s = readState(rule, state);
      const restoreRng = readRng(rng, s.rng, rule);
      const dim = readCount(rule, s, 'd', -1, 2 ** 31 - 1);
      if (dim === 0) throw new RobustAggError('INVALID_OPTION', 'sagaFactored: the saved d must be −1 (not started) or ≥ 1, got 0');
      const started = dim > 0;
      const savedCodes = readArray(rule, s, 'codes', Float32Array, count * c) as Float32Array;
      const savedFilled = readArray(rule, s, 'filled', Uint8Array, count) as Uint8Array;
      if (savedFilled.some((v) => v > 1)) throw new RobustAggError('INVALID_OPTION', 'sagaFactored: the saved filled flags must be 0 or 1');
      const mean = started ? readArray(rule, s, 'average', Float64Array, dim) : null;
      // With supportRanges the float32 image of φ̄ is kept beside it (and only then).
      const meanF32 = started && supportRanges !== undefined ? readArray(rule, s, 'averageF32', Float32Array, dim) : null;
      if (s.averageF32 !== null && meanF32 === null) {
        throw new RobustAggError('INVALID_OPTION', 'sagaFactored: the saved averageF32 must be null for this oracle (no supportRanges) or before the first call');
      }
      const e = readCount(rule, s, 'evaluations');
      restoreRng();
      d = dim;
      codes.set(savedCodes);
      filled.set(savedFilled);
      average = mean;
      averageF32 = meanF32;
      acc = started ? new Float64Array(dim) : null;
      evaluations = e;
    },
  };
}

/** The most ranges an oracle's `supportRangeLimit` may announce (2²⁶: 512 MiB of range pairs). */
const MAX_SUPPORT_RANGES = 1 << 26;
