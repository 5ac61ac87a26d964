import type { Aggregation, Decision } from '../../core/decision.js';
import { RobustAggError } from '../../core/errors.js';
import { finiteClients, indicesOverInput, remainingByzantine, weightsOverInput, type FiniteClients } from '../../core/finite-clients.js';
import { readOptions, requireInteger, requireNumber, requireVector, type CommonOptions } from '../../core/options.js';
import { randomPermutation, resolveValidRng } from '../../core/random.js';
import { allEqual, normalisedClientWeights, readClientWeights } from '../../core/weights.js';
import { validateUpdates } from '../../core/updates.js';
import { bulyanSelection, bulyanWithDecision, type BulyanDecision, type BulyanOptions } from '../../aggregators/bulyan.js';
import {
  CENTERED_CLIPPING_MAX_ITERATIONS,
  centeredClippingWithDecision,
  type CenteredClippingDecision,
  type CenteredClippingOptions,
} from '../../aggregators/centered-clipping.js';
import { coordinateMedianWithDecision, type CoordinateMedianOptions } from '../../aggregators/coordinate-median.js';
import { finishFlame, flameDecisionFromGram } from '../../aggregators/flame-decision.js';
import { flameWithDecision, readFlame, type FlameDecision, type FlameOptions } from '../../aggregators/flame.js';
import {
  geometricMedianWithDecision,
  readGeometricMedianOptions,
  weiszfeld,
  type GeometricMedianDecision,
  type GeometricMedianOptions,
} from '../../aggregators/geometric-median.js';
import { krumScores, lowestScores } from '../../aggregators/krum-scores.js';
import { krumWithDecision, type KrumDecision, type KrumOptions } from '../../aggregators/krum.js';
import { meamedWithDecision, type MeamedOptions } from '../../aggregators/meamed.js';
import { meanWithDecision, type MeanDecision, type MeanOptions } from '../../aggregators/mean.js';
import { multiKrumWithDecision, type MultiKrumOptions } from '../../aggregators/multi-krum.js';
import { trimmedMeanWithDecision, type TrimmedMeanDecision, type TrimmedMeanOptions } from '../../aggregators/trimmed-mean.js';
import { bucketing, type BucketingOptions } from '../../pre-aggregators/bucketing.js';
import { nnm, type NnmOptions } from '../../pre-aggregators/nnm.js';
import { cosineDistancesFromGram } from '../cosine-distances.js';
import { gram, squaredDistancesFromGram } from '../gram.js';

import { rowNorms } from '../norms.js';
import { GpuCall, requireDevice } from './device.js';
import {
  checkGpuUpdates,
  checkSize,
  combineOnGpu,
  extendRows,
  gramOnGpu,
  isGpuUpdates,
  scanRows,
  selectOnGpu,
  uploadRows,
  type GpuUpdates,
  type GpuVector,
  type RowScan,
} from './kernels.js';
import { webgpuState } from './state.js';
import type { GpuBuffer } from './types.js';

/** What the `gpu…` rules and kernels take: Float32Array updates (uploaded) or updates on the GPU. */
export type GpuInput = readonly Float32Array[] | GpuUpdates;

/** The aggregate's type for an input type: a Float32Array for arrays, a {@link GpuVector} for {@link GpuUpdates}. */
export type GpuOutput<U extends GpuInput> = U extends GpuUpdates ? GpuVector : Float32Array;

/**
 * What a `gpu…` rule resolves to: the aggregate (on the host or on the GPU, like the input) and
 * the decision the rule's `…WithDecision` form returns.
 *
 * @typeParam D - the rule's decision type.
 * @typeParam A - the aggregate's type.
 */
export interface GpuAggregation<D extends Decision, A> {
  /** The aggregate: a new Float32Array, or a new {@link GpuVector} the caller destroys. */
  readonly aggregate: A;
  /** What the rule decided about its clients (equal to the CPU rule's decision). */
  readonly decision: D;
}

/** One rule call on the GPU: the updates' buffer, shape and finite rows. */
interface GpuRun {
  readonly call: GpuCall;
  readonly x: GpuBuffer;
  readonly n: number;
  readonly d: number;
  readonly scan: RowScan;
  /** Buffer rows of the finite clients, ascending. */
  readonly index: number[];
  /** The finite clients as the CPU helpers see them (no rows: only index, dropped, n, d). */
  readonly clients: FiniteClients;
}

/** A body's result: the aggregate as a new d-vector buffer, a row of x to copy, or on the host. */
type GpuResult<D> = { out: GpuBuffer; decision: D } | { row: number; decision: D } | { host: Float32Array; decision: D };

/** Downloads GpuUpdates rows to the host (the CPU fallback for GPU-resident updates). */
async function download(call: GpuCall, updates: GpuUpdates): Promise<Float32Array[]> {
  const [bytes] = await call.read([updates.buffer as GpuBuffer, updates.n * updates.d * 4]);
  const all = new Float32Array(bytes);
  return Array.from({ length: updates.n }, (_, i) => all.subarray(i * updates.d, (i + 1) * updates.d));
}

/**
 * Runs a rule: on the CPU kernels (the synchronous rule `cpu`) unless the backend is 'webgpu',
 * else uploads (arrays), scans the rows for non-finite values, checks the options and the client
 * count by running `cpu` on surrogate one-column rows with the same finite pattern (same errors,
 * same option reads), and runs `body` on the GPU.
 */
function runRule<U extends GpuInput, D extends Decision>(
  rule: string,
  updates: U,
  cpu: (rows: readonly Float32Array[]) => Aggregation<D>,
  body: (run: GpuRun, surrogate: Aggregation<D>) => Promise<GpuResult<D>>,
): Promise<GpuAggregation<D, GpuOutput<U>>> {
  return runRuleWith(rule, updates, cpu, (rows) => cpu(rows), body);
}

/**
 * {@link runRule} with its own check: `check(surrogateRows, d)` (one-column rows with the real
 * rows' finite pattern, and the real d) throws the CPU rule's errors in the CPU rule's order and
 * returns what the body needs; for rules whose options depend on d (a vector of length d).
 */
async function runRuleWith<U extends GpuInput, D extends Decision, C>(
  rule: string,
  updates: U,
  cpu: (rows: readonly Float32Array[]) => Aggregation<D>,
  check: (surrogateRows: Float32Array[], d: number) => C,
  body: (run: GpuRun, checked: C) => Promise<GpuResult<D>>,
): Promise<GpuAggregation<D, GpuOutput<U>>> {
  const onGpu = isGpuUpdates(updates);
  if (!webgpuState.selected) {
    if (!onGpu) return cpu(updates as readonly Float32Array[]) as unknown as GpuAggregation<D, GpuOutput<U>>;
    const call = new GpuCall(rule);
    try {
      checkGpuUpdates(updates, rule, Infinity);
      const { aggregate, decision } = cpu(await download(call, updates));
      const buffer = call.upload(aggregate, true);
      return { aggregate: { buffer, length: aggregate.length }, decision } as unknown as GpuAggregation<D, GpuOutput<U>>;
    } finally {
      call.close();
    }
  }
  const call = new GpuCall(rule);
  const maxBinding = call.device.limits.maxStorageBufferBindingSize ?? 134217728;
  let x: GpuBuffer;
  let n: number;
  let d: number;
  let owned: GpuBuffer | null = null;
  try {
    if (onGpu) {
      checkGpuUpdates(updates, rule, maxBinding);
      ({ n, d } = updates);
      x = updates.buffer as GpuBuffer;
    } else {
      const rows = updates as readonly Float32Array[];
      ({ n, d } = validateUpdates(rows, rule));
      checkSize(rule, n, d, maxBinding);
      owned = uploadRows(call, rows, d);
      x = owned;
    }
    const scan = await scanRows(call, x, n, d);
    const surrogateRows = scan.nonFinite.map((bad) => Float32Array.of(bad ? NaN : 0));
    const surrogate = check(surrogateRows, d);
    const index: number[] = [];
    const dropped: number[] = [];
    scan.nonFinite.forEach((bad, i) => (bad ? dropped : index).push(i));
    const clients: FiniteClients = { rows: [], index, dropped, n, d };
    const result = await body({ call, x, n, d, scan, index, clients }, surrogate);
    let out: GpuBuffer;
    if ('host' in result) {
      if (!onGpu) return { aggregate: result.host, decision: result.decision } as unknown as GpuAggregation<D, GpuOutput<U>>;
      out = call.upload(result.host, true);
    } else if ('row' in result) {
      out = call.storage(d * 4, true);
      call.copy(x, result.row * d * 4, out, 0, d * 4);
    } else {
      out = result.out;
    }
    if (onGpu) return { aggregate: { buffer: out, length: d }, decision: result.decision } as unknown as GpuAggregation<D, GpuOutput<U>>;
    const [bytes] = await call.read([out, d * 4]);
    out.destroy();
    return { aggregate: new Float32Array(bytes), decision: result.decision } as unknown as GpuAggregation<D, GpuOutput<U>>;
  } finally {
    call.close();
    owned?.destroy();
  }
}

/**
 * `mean` (the weighted mean, FedAvg's aggregation) on the WebGPU kernels: one combination pass.
 * Same options, errors and decision as `meanWithDecision`; the aggregate within float32 rounding
 * of it (the GPU adds in float32, the CPU in float64). With another backend than `'webgpu'` it
 * runs `meanWithDecision` on the CPU kernels (GPU-resident updates are read back first).
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `MeanOptions`: `weights`, `nonFinite`.
 * @returns the aggregate (a Float32Array, or a {@link GpuVector} for GPU inputs) and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuMean, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu'); // else: the CPU kernels
 * const { aggregate, decision } = await gpuMean([Float32Array.of(1, 2), Float32Array.of(NaN, 0), Float32Array.of(3, 4)]);
 * console.log(aggregate, decision.dropped); // Float32Array [2, 3] [1]
 * ```
 */
export async function gpuMean<U extends GpuInput>(updates: U, options?: MeanOptions): Promise<GpuAggregation<MeanDecision, GpuOutput<U>>> {
  const o = readOptions('mean', options, ['weights', 'nonFinite']);
  return runRule('mean', updates, (rows) => meanWithDecision(rows, o), async (run, s) => {
    const w = run.index.map((i) => s.decision.weights[i]);
    return { out: combineOnGpu(run.call, run.x, run.d, run.index, w), decision: s.decision };
  });
}

/**
 * `coordinateMedian` on the WebGPU kernels: each column sorted exactly in shared memory; the same
 * bits as the CPU kernels (columns where float32 arithmetic could differ are recomputed on the
 * host). Same options, errors and decision as `coordinateMedianWithDecision`; CPU kernels
 * unless the backend is `'webgpu'`. At most 1024 finite clients on the GPU.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuCoordinateMedian, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const { aggregate } = await gpuCoordinateMedian([Float32Array.of(1, 5), Float32Array.of(2, 7), Float32Array.of(3, 6)]);
 * console.log(aggregate); // Float32Array [2, 6]
 * ```
 */
export async function gpuCoordinateMedian<U extends GpuInput>(
  updates: U,
  options?: CoordinateMedianOptions,
): Promise<GpuAggregation<Decision, GpuOutput<U>>> {
  const o = readOptions('coordinateMedian', options, ['nonFinite']);
  return runRule('coordinateMedian', updates, (rows) => coordinateMedianWithDecision(rows, o), async (run, s) => ({
    out: await selectOnGpu(run.call, run.x, run.d, run.index, { op: 'median' }),
    decision: s.decision,
  }));
}

/**
 * `trimmedMean` on the WebGPU kernels (exact per-column sorts; the kept values' mean within
 * float32 rounding of the CPU kernels'). Same options, errors and decision as
 * `trimmedMeanWithDecision`; CPU kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `TrimmedMeanOptions`: `f` or `beta`, `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuTrimmedMean, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const rows = [1, 2, 3, 4, 100].map((v) => Float32Array.of(v));
 * console.log((await gpuTrimmedMean(rows, { f: 1 })).aggregate); // Float32Array [3]
 * ```
 */
export async function gpuTrimmedMean<U extends GpuInput>(
  updates: U,
  options: TrimmedMeanOptions,
): Promise<GpuAggregation<TrimmedMeanDecision, GpuOutput<U>>> {
  const o = readOptions('trimmedMean', options, ['f', 'beta', 'nonFinite']);
  return runRule('trimmedMean', updates, (rows) => trimmedMeanWithDecision(rows, o), async (run, s) => ({
    out: await selectOnGpu(run.call, run.x, run.d, run.index, { op: 'trimmed', trim: s.decision.trimmed }),
    decision: s.decision,
  }));
}

/**
 * `meamed` on the WebGPU kernels (exact per-column sorts and windows; the mean within float32
 * rounding of the CPU kernels'). Same options, errors and decision as `meamedWithDecision`; CPU
 * kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `MeamedOptions`: `f`, `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuMeamed, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const rows = [1, 2, 3, 4, 100].map((v) => Float32Array.of(v));
 * console.log((await gpuMeamed(rows, { f: 1 })).aggregate); // Float32Array [2.5]
 * ```
 */
export async function gpuMeamed<U extends GpuInput>(updates: U, options: MeamedOptions): Promise<GpuAggregation<Decision, GpuOutput<U>>> {
  const o = readOptions('meamed', options, ['f', 'nonFinite']);
  return runRule('meamed', updates, (rows) => meamedWithDecision(rows, o as MeamedOptions), async (run, s) => {
    const keep = run.index.length - remainingByzantine(o.f as number, run.clients);
    return { out: await selectOnGpu(run.call, run.x, run.d, run.index, { op: 'meamed', keep }), decision: s.decision };
  });
}

/** Krum and Multi-Krum on a GPU Gram matrix, as `multiKrumCore` decides. */
async function krumBody(rule: string, f: number, m: number | undefined, run: GpuRun): Promise<GpuResult<KrumDecision>> {
  const count = run.index.length;
  const fLeft = remainingByzantine(f, run.clients);
  const g = await gramOnGpu(run.call, run.x, run.d, run.index, run.scan);
  const local = krumScores(squaredDistancesFromGram(g, count), count, count - fLeft - 2);
  const picks = Math.min(m ?? count - fLeft, count);
  const chosen = lowestScores(local, picks);
  const w = new Float64Array(count);
  for (const k of chosen) w[k] = 1 / picks;
  const scores = new Float64Array(run.n).fill(Infinity);
  for (let k = 0; k < count; k++) scores[run.index[k]] = local[k];
  const decision: KrumDecision = {
    rule,
    n: run.n,
    dropped: run.clients.dropped,
    selected: indicesOverInput(chosen, run.clients),
    weights: weightsOverInput(w, run.clients),
    scores,
  };
  if (picks === 1) return { row: run.index[chosen[0]], decision };
  return { out: combineOnGpu(run.call, run.x, run.d, run.index, w), decision };
}

/**
 * `krum` on the WebGPU kernels: the centred Gram matrix on the GPU (float32 tiles with per-row
 * power-of-two scales, robust centre, float64 reduction on the host: the CPU kernels' per-pair
 * bound), the scores on the host, the chosen row copied on the GPU. Same options, errors and
 * decision as `krumWithDecision` (scores within the Gram bound, hence the same pick barring
 * near-ties); CPU kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `KrumOptions`: `f` (required), `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuKrum, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v));
 * const { aggregate, decision } = await gpuKrum(updates, { f: 2 });
 * console.log(aggregate, decision.selected); // Float32Array [1, -1] [1]
 * ```
 */
export async function gpuKrum<U extends GpuInput>(updates: U, options: KrumOptions): Promise<GpuAggregation<KrumDecision, GpuOutput<U>>> {
  const o = readOptions('krum', options, ['f', 'nonFinite']);
  return runRule('krum', updates, (rows) => krumWithDecision(rows, o as KrumOptions), (run) => krumBody('krum', o.f as number, 1, run));
}

/**
 * `multiKrum` on the WebGPU kernels (Gram on the GPU, scores on the host, the mean of the m best
 * on the GPU). Same options, errors and decision as `multiKrumWithDecision`; CPU kernels unless
 * the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `MultiKrumOptions`: `f` (required), `m`, `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuMultiKrum, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v));
 * console.log((await gpuMultiKrum(updates, { f: 2 })).decision.selected); // [0, 1, 2, 3, 4]
 * ```
 */
export async function gpuMultiKrum<U extends GpuInput>(
  updates: U,
  options: MultiKrumOptions,
): Promise<GpuAggregation<KrumDecision, GpuOutput<U>>> {
  const o = readOptions('multiKrum', options, ['f', 'm', 'nonFinite']);
  return runRule('multiKrum', updates, (rows) => multiKrumWithDecision(rows, o as MultiKrumOptions), (run) =>
    krumBody('multiKrum', o.f as number, o.m, run),
  );
}

/**
 * `geometricMedian` (Weiszfeld in client space) on the WebGPU kernels: the centred Gram matrix on
 * the GPU, the iterations on the host (O(n²) each), the weighted combination on the GPU. Same
 * options, errors and decision as `geometricMedianWithDecision` (weights within the Gram bound);
 * CPU kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `GeometricMedianOptions`: `maxIterations`, `tolerance`, `nu`, `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuGeometricMedian, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const rows = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(50, 50)];
 * console.log((await gpuGeometricMedian(rows)).aggregate); // Float32Array [0.5, 0.5]: the far client barely pulls it
 * ```
 */
export async function gpuGeometricMedian<U extends GpuInput>(
  updates: U,
  options?: GeometricMedianOptions,
): Promise<GpuAggregation<GeometricMedianDecision, GpuOutput<U>>> {
  const rule = 'geometricMedian';
  const settings = readGeometricMedianOptions(rule, options);
  return runRule(rule, updates, (rows) => geometricMedianWithDecision(rows, settings), async (run) => {
    const m = run.index.length;
    const g = m === 1 ? null : await gramOnGpu(run.call, run.x, run.d, run.index, run.scan);
    const { weights, iterations, converged } = weiszfeld(g, m, settings);
    return {
      out: combineOnGpu(run.call, run.x, run.d, run.index, weights),
      decision: { rule, n: run.n, dropped: run.clients.dropped, weights: weightsOverInput(weights, run.clients), iterations, converged },
    };
  });
}

/**
 * `bulyan` on the WebGPU kernels: the Gram matrix on the GPU, the θ Krum picks on the host, the
 * coordinate-wise mean around the median of the picked rows on the GPU (exact sorts). Same
 * options, errors and decision as `bulyanWithDecision`; CPU kernels unless the backend is
 * `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `BulyanOptions`: `f` (required), `nonFinite`.
 * @returns the aggregate and the decision.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuBulyan, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const rows = [0, 1, 2, 3, 4, 5, 6, 100].map((v) => Float32Array.of(v / 10, 1));
 * console.log((await gpuBulyan(rows, { f: 1 })).decision.selected); // [0, 1, 2, 3, 4, 5]
 * ```
 */
export async function gpuBulyan<U extends GpuInput>(
  updates: U,
  options: BulyanOptions,
): Promise<GpuAggregation<BulyanDecision, GpuOutput<U>>> {
  const o = readOptions('bulyan', options, ['f', 'nonFinite']);
  return runRule('bulyan', updates, (rows) => bulyanWithDecision(rows, o as BulyanOptions), async (run) => {
    const count = run.index.length;
    const f = remainingByzantine(o.f as number, run.clients);
    const theta = count - 2 * f;
    const beta = theta - 2 * f;
    const g = await gramOnGpu(run.call, run.x, run.d, run.index, run.scan);
    const order = bulyanSelection(squaredDistancesFromGram(g, count), count, f, theta);
    const picked = order.map((k) => run.index[k]);
    return {
      out: await selectOnGpu(run.call, run.x, run.d, picked, { op: 'meamed', keep: beta }),
      decision: {
        rule: 'bulyan',
        n: run.n,
        dropped: run.clients.dropped,
        selected: indicesOverInput(order, run.clients),
        selectionOrder: order.map((k) => run.index[k]),
        beta,
      },
    };
  });
}

/**
 * `flame` (FLAME, Nguyen et al., USENIX Security 2022) on the WebGPU kernels: the uncentred Gram
 * matrix on the GPU (with the global model G as one more row when clustering the models; for
 * {@link GpuUpdates} and arrays alike, a copy of the updates with G appended on the GPU: (n+1)·d·4
 * bytes, `UNSUPPORTED` when that exceeds the device's storage binding limit), the norms
 * and cosine distances from it; then on the host, from these n-sized and n×n results, the very
 * code `flameWithDecision` runs (HDBSCAN, the median norm S, the clip factors min(1, S/‖Δᵢ‖), the
 * averaging weights); the weighted combination on the GPU.
 *
 * **Noise.** With λ > 0 the aggregate is read back and the noise is added on the host by the CPU
 * rule's own code: the same seeded generator (`seed` or `rng`), the same draws in the same order
 * (per coordinate, or segment by segment with `layout`), so for the same inputs and seed the noise
 * is the CPU rule's, and an `rng` passed in advances exactly as there. For {@link GpuUpdates} the
 * noised aggregate is uploaded again (one d-vector each way); with λ = 0 it never leaves the GPU.
 *
 * Same options, errors and decision as `flameWithDecision` (labels, admitted clients and clip
 * factors decided from a Gram matrix within the kernels' per-pair bound, so the same clusters
 * barring cosine distances within 3·2⁻¹⁷ of a tie; the numbers in the decision within that
 * bound); the aggregate within float32 rounding of the CPU rule's. CPU kernels unless the backend
 * is `'webgpu'`.
 *
 * @param updates - n Float32Array updates Δᵢ of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `FlameOptions`: `seed` or `rng` (required while λ > 0), `lambda`,
 *   `global`, `clusterOn`, `layout`, `weights`, `nonFinite`.
 * @returns the aggregate (with its noise) and the `FlameDecision`.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuFlame, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = Array.from({ length: 10 }, (_, i) =>
 *   Float32Array.from({ length: 20 }, (_, k) => (i < 8 ? 0.01 * Math.sin(k + i) : 0.05 * Math.sin(3 * k))),
 * );
 * const { aggregate, decision } = await gpuFlame(updates, { seed: 7 });
 * console.log(decision.admitted, decision.medianNorm, aggregate.length);
 * ```
 */
export async function gpuFlame<U extends GpuInput>(
  updates: U,
  options?: FlameOptions,
): Promise<GpuAggregation<FlameDecision, GpuOutput<U>>> {
  const rule = 'flame';
  // The options are read once on either path: by flameWithDecision on the CPU kernels, by readFlame
  // (in the CPU rule's order, against the scanned rows' finite pattern) on the GPU.
  return runRuleWith(
    rule,
    updates,
    (rows) => flameWithDecision(rows, options),
    (rows, d) =>
      readFlame(rule, options, (nonFinite) => {
        const clients = finiteClients(rows, rule, nonFinite);
        return { n: clients.n, d, index: clients.index };
      })[1],
    async (run, settings) => {
      const { call, n, d, index } = run;
      const [lambda, clusterOn, global, , , scaled, rng] = settings;
      const withGlobal = clusterOn === 'models';
      const ext = withGlobal ? extendRows(call, rule, run.x, n, d, [global]) : null;
      try {
        const g = await gramOnGpu(call, ext ?? run.x, d, withGlobal ? [...index, n] : index, null);
        const choice = flameDecisionFromGram(rule, g, index.length, withGlobal, scaled, index);
        const out = combineOnGpu(call, run.x, d, index, choice[7]);
        if (rng === null || lambda === 0) {
          return { out, decision: finishFlame(rule, new Float32Array(0), run.clients, settings, choice) };
        }
        const [bytes] = await call.read([out, d * 4]);
        out.destroy();
        const host = new Float32Array(bytes);
        return { host, decision: finishFlame(rule, host, run.clients, settings, choice) };
      } finally {
        call.submit();
        ext?.destroy();
      }
    },
  );
}

/**
 * `centeredClipping` (Karimireddy, He & Jaggi, ICML 2021) on the WebGPU kernels, iterating on the
 * data as the CPU rule does: per iteration the distances ‖xᵢ − v‖ on the GPU (the Gram kernel's
 * diagonal centred on v, with per-row power-of-two scales: within 2⁻¹⁷ relative, no overflow for
 * any finite input), the clip factors min(1, τ/‖xᵢ − v‖) and weights on the host (n numbers), and
 * v ← (1 − Σc)·v + Σ cᵢxᵢ as one weighted combination on the GPU; v stays on the GPU between
 * iterations (as one more row after a copy of the updates: (n+1)·d·4 bytes, `UNSUPPORTED` when
 * that exceeds the device's storage binding limit). Same options,
 * errors and decision as `centeredClippingWithDecision` (clip factors and weights within the
 * distance bound); the aggregate within float32 rounding per iteration. CPU kernels unless the
 * backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `CenteredClippingOptions`: `tau` (finite > 0, default 10), `iterations`
 *   (an integer in [1, 100], default 5), `center` (v₀, finite, length d; default 0), `weights`,
 *   `nonFinite`.
 * @returns the last iterate and the `CenteredClippingDecision`.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuCenteredClipping, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = [Float32Array.of(0.2, 0), Float32Array.of(0, 0.3), Float32Array.of(40, 30)];
 * const { decision } = await gpuCenteredClipping(updates, { tau: 0.5, iterations: 1 });
 * console.log(decision.clipFactors); // about [1, 1, 0.01]: only the far client was clipped
 * ```
 */
export async function gpuCenteredClipping<U extends GpuInput>(
  updates: U,
  options?: CenteredClippingOptions,
): Promise<GpuAggregation<CenteredClippingDecision, GpuOutput<U>>> {
  const rule = 'centeredClipping';
  const o = readOptions(rule, options, ['tau', 'iterations', 'center', 'weights', 'nonFinite']);
  // The CPU rule's checks, in its order: τ and L, the clients, v₀ (length d), the weights.
  const tau = requireNumber(rule, 'tau', o.tau ?? 10, 0, Infinity, true);
  const iterations = requireInteger(rule, 'iterations', o.iterations ?? 5, 1, CENTERED_CLIPPING_MAX_ITERATIONS);
  return runRuleWith(
    rule,
    updates,
    (rows) => centeredClippingWithDecision(rows, o),
    (rows, d) => {
      const clients = finiteClients(rows, rule, o.nonFinite);
      const center = o.center === undefined ? null : requireVector(rule, 'center', o.center, d);
      const given = o.weights === undefined ? null : readClientWeights(rule, o.weights, clients.n);
      const normalised = given === null ? null : normalisedClientWeights(rule, given, clients.index);
      return { center, normalised };
    },
    async (run, { center, normalised }) => {
      const { call, n, d, index } = run;
      const m = index.length;
      // Equal weights are the unweighted rule (its exact operations: c_k/m), as on the CPU.
      const w = normalised === null || allEqual(normalised) ? null : normalised;
      const ext = extendRows(call, rule, run.x, n, d, [center === null ? null : Float32Array.from(center)]);
      const rowsAndV = [...index, n];
      let centerWeight = 1;
      const a = new Float64Array(m);
      const clip = new Float64Array(m);
      let out: GpuBuffer | null = null;
      try {
        for (let it = 0; it < iterations; it++) {
          const g = await gramOnGpu(call, ext, d, index, n, true); // ‖x_k − v‖² on the diagonal
          out?.destroy(); // copied into ext and submitted by the read above
          let kept = 0;
          for (let k = 0; k < m; k++) {
            const dist = Math.sqrt(g[k * m + k]);
            clip[k] = dist <= tau ? 1 : tau / dist;
            kept += w === null ? clip[k] / m : clip[k] * w[k];
          }
          const step = new Float64Array(m + 1);
          for (let k = 0; k < m; k++) step[k] = w === null ? clip[k] / m : clip[k] * w[k];
          step[m] = 1 - kept;
          out = combineOnGpu(call, ext, d, rowsAndV, step);
          if (it < iterations - 1) call.copy(out, 0, ext, n * d * 4, d * 4);
          centerWeight *= 1 - kept;
          for (let k = 0; k < m; k++) a[k] = (1 - kept) * a[k] + step[k];
        }
      } catch (e) {
        call.submit();
        out?.destroy();
        throw e;
      } finally {
        call.submit();
        ext.destroy();
      }
      return {
        out: out as GpuBuffer,
        decision: {
          rule,
          n,
          dropped: run.clients.dropped,
          weights: weightsOverInput(a, run.clients),
          centerWeight,
          clipFactors: weightsOverInput(clip, run.clients),
          ...(normalised === null ? {} : { clientWeights: weightsOverInput(normalised, run.clients) }),
        },
      };
    },
  );
}

/** Runs a kernel on all rows (which must be finite): the GPU when selected, else `cpu`. */
async function kernelCall<T>(
  name: string,
  updates: GpuInput,
  cpu: (rows: readonly Float32Array[]) => T,
  gpu: (call: GpuCall, x: GpuBuffer, n: number, d: number, scan: RowScan) => Promise<T>,
): Promise<T> {
  const onGpu = isGpuUpdates(updates);
  if (!webgpuState.selected && !onGpu) {
    const rows = updates as readonly Float32Array[];
    validateUpdates(rows, name);
    for (let i = 0; i < rows.length; i++) {
      for (const v of rows[i]) {
        if (!Number.isFinite(v)) throw new RobustAggError('NON_FINITE_UPDATE', `${name}: client ${i} sent NaN or ±Infinity`);
      }
    }
    return cpu(rows);
  }
  const call = new GpuCall(name);
  let owned: GpuBuffer | null = null;
  try {
    let x: GpuBuffer;
    let n: number;
    let d: number;
    if (onGpu) {
      checkGpuUpdates(updates, name, webgpuState.selected ? (call.device.limits.maxStorageBufferBindingSize ?? 134217728) : Infinity);
      ({ n, d } = updates);
      x = updates.buffer as GpuBuffer;
      if (!webgpuState.selected) return cpu(await download(call, updates));
    } else {
      const rows = updates as readonly Float32Array[];
      ({ n, d } = validateUpdates(rows, name));
      checkSize(name, n, d, call.device.limits.maxStorageBufferBindingSize ?? 134217728);
      owned = uploadRows(call, rows, d);
      x = owned;
    }
    const scan = await scanRows(call, x, n, d);
    const bad = scan.nonFinite.indexOf(true);
    if (bad >= 0) throw new RobustAggError('NON_FINITE_UPDATE', `${name}: client ${bad} sent NaN or ±Infinity`);
    return await gpu(call, x, n, d, scan);
  } finally {
    call.close();
    owned?.destroy();
  }
}

const allRows = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Options of {@link gpuGram}. */
export interface GpuGramOptions {
  /** `'robust'` (default): centred on the robust centre, for distances; `null`: not centred (norms, cosines). */
  centre?: 'robust' | null;
}

/**
 * The Gram matrix G = YYᵀ of the updates (centred on the robust centre, or not), row-major n×n
 * float64, on the WebGPU kernels when the backend is `'webgpu'` (the CPU kernels otherwise):
 * float32 tiles of at most 64 products per sum, each row scaled by its own power of two (no finite
 * input under- or overflows, no client changes another pair's computation), partial sums added in
 * float64 on the host. Per pair |Ĝᵢⱼ − ⟨yᵢ, yⱼ⟩| ≤ 2⁻¹⁷‖yᵢ‖‖yⱼ‖, the CPU kernels' bound. The
 * client-space rules' decisions follow from it (squared distances Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ). Every row
 * must be finite (`NON_FINITE_UPDATE` otherwise).
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see {@link GpuGramOptions}.
 * @returns the n×n Gram matrix.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuGram, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const g = await gpuGram([Float32Array.of(1, 2), Float32Array.of(3, 5)], { centre: null });
 * console.log(g); // Float64Array [5, 13, 13, 34]
 * ```
 */
export async function gpuGram(updates: GpuInput, options?: GpuGramOptions): Promise<Float64Array> {
  const o = readOptions('gpuGram', options ?? {}, ['centre']);
  const centre = o.centre === undefined ? 'robust' : o.centre;
  if (centre !== 'robust' && centre !== null) {
    throw new RobustAggError('INVALID_OPTION', `gpuGram: centre must be 'robust' or null, got ${String(centre)}`);
  }
  return kernelCall('gpuGram', updates, (rows) => gram(rows, centre), (call, x, n, d, scan) =>
    gramOnGpu(call, x, d, allRows(n), centre === 'robust' ? scan : null),
  );
}

/**
 * The Euclidean norm of every update, in float64 (within 2⁻¹⁷ relative), on the WebGPU kernels
 * when the backend is `'webgpu'` (the CPU kernels otherwise). Every row must be finite.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @returns the n norms.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuRowNorms, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * console.log(await gpuRowNorms([Float32Array.of(3, 4), Float32Array.of(3e38, 3e38)])); // about [5, 4.24e38]
 * ```
 */
export async function gpuRowNorms(updates: GpuInput): Promise<Float64Array> {
  return kernelCall('gpuRowNorms', updates, (rows) => rowNorms(rows), async (call, x, n, d) => {
    const g = await gramOnGpu(call, x, d, allRows(n), null, true);
    return Float64Array.from({ length: n }, (_, i) => Math.sqrt(g[i * n + i]));
  });
}

/**
 * Pairwise cosine distances 1 − cos(xᵢ, xⱼ) (row-major n×n float64, clamped to [0, 2], zero
 * diagonal; a zero vector is at distance 1 from every row), from the uncentred Gram matrix on the
 * WebGPU kernels when the backend is `'webgpu'` (the CPU kernels otherwise): within 3·2⁻¹⁷ of
 * the exact values. Every row must be finite.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @returns the n×n cosine distances.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuCosineDistances, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * console.log(await gpuCosineDistances([Float32Array.of(1, 0), Float32Array.of(0, 2)])); // Float64Array [0, 1, 1, 0]
 * ```
 */
export async function gpuCosineDistances(updates: GpuInput): Promise<Float64Array> {
  return kernelCall(
    'gpuCosineDistances',
    updates,
    (rows) => cosineDistancesFromGram(gram(rows, null), rows.length),
    async (call, x, n, d) => cosineDistancesFromGram(await gramOnGpu(call, x, d, allRows(n), null), n),
  );
}



/** What {@link gpuNnm} returns for an input type: Float32Array rows, or {@link GpuUpdates}. */
export type GpuRows<U extends GpuInput> = U extends GpuUpdates ? GpuUpdates : Float32Array[];

/**
 * `nnm` (nearest-neighbour mixing, Allouah et al., AISTATS 2023) on the WebGPU kernels: the
 * centred Gram matrix on the GPU, each client's n − f nearest neighbours on the host, the m
 * mixed rows combined on the GPU. For {@link GpuUpdates} the mixed rows stay on the GPU (a new
 * GpuUpdates the caller destroys), so `gpuNnm` then `gpuKrum` or `gpuCoordinateMedian` never
 * leaves it. Same options, errors and neighbour choices as `nnm` (rows within float32 rounding);
 * CPU kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `NnmOptions`: `f` (required), `nonFinite`.
 * @returns the mixed rows (one per finite client).
 * @category Kernels
 * @example
 * ```ts
 * import { gpuCoordinateMedian, gpuNnm, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = [0, 1, 2, 3, 4, 100].map((v) => Float32Array.of(v, 1));
 * const mixed = await gpuNnm(updates, { f: 1 });
 * console.log(mixed.length, (await gpuCoordinateMedian(mixed)).aggregate); // 6 Float32Array [2, 1]
 * ```
 */
export async function gpuNnm<U extends GpuInput>(updates: U, options: NnmOptions): Promise<GpuRows<U>> {
  const rule = 'nnm';
  const o = readOptions(rule, options, ['f', 'nonFinite']) as NnmOptions;
  return runPreAggregator(
    rule,
    updates,
    (rows) => nnm(rows, o),
    (surrogateRows) => void nnm(surrogateRows, o), // the rule's own checks and errors
    async (call, x, d, index, clients, out) => {
      const m = index.length;
      const keep = m - remainingByzantine(o.f, clients);
      if (m === 1) {
        call.copy(x, index[0] * d * 4, out, 0, d * 4);
        return;
      }
      const dist = squaredDistancesFromGram(await gramOnGpu(call, x, d, index, clients.scan), m);
      const w = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        w.fill(0);
        for (const j of lowestScores(dist.subarray(i * m, (i + 1) * m), keep)) w[j] = 1 / keep;
        const part = combineOnGpu(call, x, d, index, w);
        call.copy(part, 0, out, i * d * 4, d * 4);
        call.submit();
        part.destroy();
      }
    },
    (clients) => clients.index.length,
  );
}

/**
 * `bucketing` (Karimireddy, He & Jaggi, ICLR 2022) on the WebGPU kernels: the shuffle on the host
 * (the same seeded permutation as `bucketing`: same generator, same draws, so an `rng` passed in
 * advances exactly as there), each bucket's mean as one weighted combination on the GPU. For
 * {@link GpuUpdates} the bucket means stay on the GPU (a new GpuUpdates of ⌈n'/s⌉ rows the caller
 * destroys), so `gpuBucketing` then `gpuKrum`, `gpuCoordinateMedian` or any `gpu…` rule never
 * leaves it. Same options and errors as `bucketing`; rows within float32 rounding of its (the GPU
 * adds in float32). CPU kernels unless the backend is `'webgpu'`.
 *
 * @param updates - n Float32Array updates of length d (uploaded), or {@link GpuUpdates}.
 * @param options - see `BucketingOptions`: `seed` or `rng` (required), `bucketSize` (an integer
 *   ≥ 1, default 2), `nonFinite`.
 * @returns the ⌈n'/s⌉ bucket means (n' finite clients).
 * @category Kernels
 * @example
 * ```ts
 * import { gpuBucketing, gpuCoordinateMedian, initWebGPU, setKernelBackend } from 'robust-agg';
 *
 * if ((await initWebGPU()) !== null) setKernelBackend('webgpu');
 * const updates = [1, 1.1, 0.9, 1.2, 0.8, 1, 1.05, 0.95, 20].map((v) => Float32Array.of(v, -v));
 * const buckets = await gpuBucketing(updates, { bucketSize: 2, seed: 1 });
 * console.log(buckets.length, (await gpuCoordinateMedian(buckets)).aggregate); // 5, close to [1, -1]
 * ```
 */
export async function gpuBucketing<U extends GpuInput>(updates: U, options: BucketingOptions): Promise<GpuRows<U>> {
  const rule = 'bucketing';
  const o = readOptions(rule, options, ['bucketSize', 'seed', 'rng', 'nonFinite']);
  if (!webgpuState.selected) return runPreAggregator(rule, updates, (rows) => bucketing(rows, o as BucketingOptions), () => undefined, async () => undefined, () => 0);
  // The CPU rule's checks, in its order: the bucket size and the generator, then the clients.
  const s = requireInteger(rule, 'bucketSize', o.bucketSize ?? 2, 1, Number.MAX_SAFE_INTEGER);
  const rng = resolveValidRng({ seed: o.seed, rng: o.rng }, rule);
  let order: number[] = [];
  return runPreAggregator(
    rule,
    updates,
    (rows) => bucketing(rows, o as BucketingOptions),
    (surrogateRows) => {
      order = randomPermutation(finiteClients(surrogateRows, rule, o.nonFinite).rows.length, rng);
    },
    async (call, x, d, index, _clients, out) => {
      for (let start = 0, b = 0; start < index.length; start += s, b++) {
        const members = order.slice(start, start + s).map((k) => index[k]);
        const part = combineOnGpu(call, x, d, members, new Float64Array(members.length).fill(1 / members.length));
        call.copy(part, 0, out, b * d * 4, d * 4);
        call.submit();
        part.destroy();
      }
    },
    (clients) => Math.ceil(clients.index.length / s),
  );
}

/**
 * Runs a pre-aggregator: `cpu` on the CPU kernels unless the backend is 'webgpu' (GPU-resident
 * updates read back, the rows uploaded again); else uploads (arrays), scans the rows, runs
 * `check` on surrogate one-column rows with the same finite pattern (the rule's errors), and
 * `body`, which writes `count(clients)` rows into `out`. Returns Float32Array rows for arrays,
 * {@link GpuUpdates} for GPU inputs.
 */
async function runPreAggregator<U extends GpuInput>(
  rule: string,
  updates: U,
  cpu: (rows: readonly Float32Array[]) => Float32Array[],
  check: (surrogateRows: Float32Array[]) => void,
  body: (
    call: GpuCall,
    x: GpuBuffer,
    d: number,
    index: number[],
    clients: FiniteClients & { scan: RowScan },
    out: GpuBuffer,
  ) => Promise<void>,
  count: (clients: FiniteClients) => number,
): Promise<GpuRows<U>> {
  const onGpu = isGpuUpdates(updates);
  if (!webgpuState.selected) {
    if (!onGpu) return cpu(updates as readonly Float32Array[]) as unknown as GpuRows<U>;
    const call = new GpuCall(rule);
    try {
      checkGpuUpdates(updates, rule, Infinity);
      const mixed = cpu(await download(call, updates));
      const flat = new Float32Array(mixed.length * updates.d);
      mixed.forEach((row, i) => flat.set(row, i * updates.d));
      return { buffer: call.upload(flat, true), n: mixed.length, d: updates.d } as unknown as GpuRows<U>;
    } finally {
      call.close();
    }
  }
  const call = new GpuCall(rule);
  const maxBinding = call.device.limits.maxStorageBufferBindingSize ?? 134217728;
  let owned: GpuBuffer | null = null;
  try {
    let x: GpuBuffer;
    let n: number;
    let d: number;
    if (onGpu) {
      checkGpuUpdates(updates, rule, maxBinding);
      ({ n, d } = updates);
      x = updates.buffer as GpuBuffer;
    } else {
      const rows = updates as readonly Float32Array[];
      ({ n, d } = validateUpdates(rows, rule));
      checkSize(rule, n, d, maxBinding);
      owned = uploadRows(call, rows, d);
      x = owned;
    }
    const scan = await scanRows(call, x, n, d);
    check(scan.nonFinite.map((bad) => Float32Array.of(bad ? NaN : 0)));
    const index: number[] = [];
    const dropped: number[] = [];
    scan.nonFinite.forEach((bad, i) => (bad ? dropped : index).push(i));
    const clients = { rows: [], index, dropped, n, d, scan };
    const m = count(clients);
    const out = call.storage(m * d * 4, true);
    try {
      await body(call, x, d, index, clients, out);
    } catch (e) {
      call.submit();
      out.destroy();
      throw e;
    }
    if (onGpu) return { buffer: out, n: m, d } as unknown as GpuRows<U>;
    const [bytes] = await call.read([out, m * d * 4]);
    out.destroy();
    const all = new Float32Array(bytes);
    return Array.from({ length: m }, (_, i) => all.slice(i * d, (i + 1) * d)) as unknown as GpuRows<U>;
  } finally {
    call.close();
    owned?.destroy();
  }
}
