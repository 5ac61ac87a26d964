import * as tf from '@tensorflow/tfjs-core';
import type { Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { indicesOverInput, remainingByzantine, requireClients, weightsOverInput } from '../core/finite-clients.js';
import { normalisedClientWeights, readClientWeights } from '../core/weights.js';
import { describeValue, readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import {
  readGeometricMedianOptions,
  weiszfeld,
  type GeometricMedianDecision,
  type GeometricMedianOptions,
} from '../aggregators/geometric-median.js';
import { krumScores, lowestScores } from '../aggregators/krum-scores.js';
import type { KrumDecision, KrumOptions } from '../aggregators/krum.js';
import type { MeanDecision, MeanOptions } from '../aggregators/mean.js';
import type { MultiKrumOptions } from '../aggregators/multi-krum.js';
import type { TrimmedMeanDecision, TrimmedMeanOptions } from '../aggregators/trimmed-mean.js';
import { squaredDistancesFromGram } from '../kernels/gram.js';
import {
  combineRows,
  finiteTensorRows,
  gramOfFiniteRows,
  tensorColumnMedian,
  tensorColumnTrimmedMean,
  type FiniteTensorRows,
} from './tensor-kernels.js';

/**
 * The output of a tensor rule together with its decision: `aggregate` is a new Tensor1D of length
 * d on the input's backend (the caller disposes it); the decision is the one the Float32Array
 * rule returns.
 *
 * @typeParam D - the rule's decision type.
 */
export interface TensorAggregation<D extends Decision = Decision> {
  /** The aggregated vector, a new tensor of length d. */
  readonly aggregate: tf.Tensor1D;
  /** What the rule decided about its clients. */
  readonly decision: D;
}

/** Runs `body` on the finite rows and disposes the gathered copy, if one was made. */
async function withFiniteRows<T>(
  x: tf.Tensor2D,
  rule: string,
  options: CommonOptions,
  body: (f: FiniteTensorRows) => Promise<T> | T,
): Promise<T> {
  const finite = await finiteTensorRows(x, rule, options.nonFinite);
  try {
    return await body(finite);
  } finally {
    if (finite.owned) finite.rows.dispose();
  }
}

/**
 * A rule's options as its tensor version takes them: without `weights` (the tensor rules have no
 * weighted form yet, except tensorMean).
 */
export type TensorOptions<T> = Omit<T, 'weights'>;

/** Options of a rule without its own: only `nonFinite`. */
const COMMON_KEYS = ['nonFinite'] as const;

/**
 * {@link tensorMean} with its decision.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see `MeanOptions` of `mean`: `weights` (one finite weight ≥ 0 per row; default
 *   equal), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorMeanWithDecision } from 'robust-agg/tfjs';
 *
 * const x = tf.tensor2d([[1, 2], [NaN, 0], [3, 4]]);
 * const { aggregate, decision } = await tensorMeanWithDecision(x);
 * console.log(await aggregate.data(), decision.dropped); // [2, 3] [1]
 * aggregate.dispose(); // the caller owns the output
 * x.dispose();
 * ```
 */
export async function tensorMeanWithDecision(
  x: tf.Tensor2D,
  options?: MeanOptions,
): Promise<TensorAggregation<MeanDecision>> {
  const rule = 'mean';
  const o = readOptions(rule, options, ['weights', 'nonFinite']);
  return withFiniteRows(x, rule, o, ({ rows, clients }) => {
    const m = clients.index.length;
    const w =
      o.weights === undefined
        ? new Float64Array(m).fill(1 / m)
        : normalisedClientWeights(rule, readClientWeights(rule, o.weights, clients.n), clients.index);
    return {
      aggregate: combineRows(rows, w),
      decision: { rule, n: clients.n, dropped: clients.dropped, weights: weightsOverInput(w, clients) },
    };
  });
}

/**
 * The (weighted) mean of the rows of an n×d tensor, FedAvg's aggregation (McMahan et al.,
 * AISTATS 2017), as one matMul on the tensor's backend: the tensor counterpart of `mean`.
 * Rows with NaN/±Infinity are dropped (their weight too). Not robust: one client moves it
 * arbitrarily far, but a finite input always gives a finite output (the exact mean lies in the
 * float32 range; rounding past ±3.4028235e38 is clamped).
 *
 * Options: `weights` (n finite numbers ≥ 0, not all 0 among the finite clients; default equal),
 * `nonFinite` (`'drop'` default, or `'throw'`). Unknown keys throw `UNKNOWN_OPTION`.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped with their weight (or throw, see `nonFinite`).
 * @param options - see `MeanOptions` of `mean`: `weights` (one finite weight ≥ 0 per row; default
 *   equal), `nonFinite` (default `'drop'`).
 * @returns a new Tensor1D of length d on the input's backend (the caller disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorMean } from 'robust-agg/tfjs';
 *
 * // One update per client, stacked into an n × d tensor (on a GPU backend it stays on the GPU).
 * const clientUpdates = [tf.tensor1d([1, 0]), tf.tensor1d([3, 0]), tf.tensor1d([0, 6])];
 * const x = tf.stack(clientUpdates) as tf.Tensor2D;
 * const avg = await tensorMean(x);                               // Tensor1D [1.333…, 2]
 * const fedAvg = await tensorMean(x, { weights: [1, 1, 4] });    // Tensor1D [0.666…, 4]
 * console.log(await avg.data(), await fedAvg.data());
 * tf.dispose([...clientUpdates, x, avg, fedAvg]);
 * ```
 */
export async function tensorMean(x: tf.Tensor2D, options?: MeanOptions): Promise<tf.Tensor1D> {
  return (await tensorMeanWithDecision(x, options)).aggregate;
}

/**
 * Coordinate-wise median (Yin et al., ICML 2018) of the rows of an n×d tensor, by `topk` on the
 * transpose on the tensor's backend; even n: the mean of the two middle values (numpy's
 * convention). The tensor counterpart of `coordinateMedian`. Breakdown point ½ per coordinate;
 * the output is finite for any finite input.
 *
 * Options: `nonFinite` (`'drop'` default, or `'throw'`).
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - `nonFinite` only (default `'drop'`).
 * @returns a new Tensor1D of length d on the input's backend (the caller disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorCoordinateMedian } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const med = await tensorCoordinateMedian(x); // Tensor1D of length d
 * console.log(await med.data());              // [1, -0.9, 0.5]
 * tf.dispose([x, med]);
 * ```
 */
export async function tensorCoordinateMedian(x: tf.Tensor2D, options?: CommonOptions): Promise<tf.Tensor1D> {
  const rule = 'coordinateMedian';
  const o = readOptions(rule, options, COMMON_KEYS);
  return withFiniteRows(x, rule, o, ({ rows }) => tensorColumnMedian(rows));
}

/**
 * {@link tensorTrimmedMean} with its decision.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`).
 * @param options - see `TrimmedMeanOptions` of `trimmedMean`: exactly one of `f` (an integer ≥ 0
 *   with n ≥ 2f+1) and `beta` (in [0, 0.5)); `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorTrimmedMeanWithDecision } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const { aggregate, decision } = await tensorTrimmedMeanWithDecision(x, { f: 2 });
 * console.log(decision.trimmed, await aggregate.data()); // 2, the mean of the 3 middle values per coordinate
 * tf.dispose([x, aggregate]);
 * ```
 */
export async function tensorTrimmedMeanWithDecision(
  x: tf.Tensor2D,
  options: TensorOptions<TrimmedMeanOptions>,
): Promise<TensorAggregation<TrimmedMeanDecision>> {
  const rule = 'trimmedMean';
  const o = readOptions(rule, options, ['f', 'beta', 'nonFinite']);
  if (o.beta !== undefined && o.f !== undefined) {
    throw new RobustAggError('INVALID_OPTION', `${rule} takes { f } or { beta }, not both`);
  }
  if (o.beta === undefined && o.f === undefined) throw new RobustAggError('INVALID_OPTION', `${rule} needs { f } or { beta }`);
  if (o.beta !== undefined) {
    requireNumber(rule, 'beta', o.beta, 0, 0.5);
    if (o.beta === 0.5) throw new RobustAggError('INVALID_OPTION', `${rule}: beta must be < 0.5, got 0.5`);
  }
  return withFiniteRows(x, rule, o, ({ rows, clients }) => {
    const f = o.beta !== undefined ? Math.floor(o.beta * clients.n) : (o.f as number);
    requireClients(rule, clients.n, f, 2, 1);
    const trim = remainingByzantine(f, clients);
    return {
      aggregate: tensorColumnTrimmedMean(rows, trim),
      decision: { rule, n: clients.n, dropped: clients.dropped, trimmed: trim },
    };
  });
}

/**
 * Coordinate-wise trimmed mean (Yin et al., ICML 2018) of the rows of an n×d tensor: per column
 * drop the f smallest and f largest values and average the rest (`topk` on the transpose). Needs
 * n ≥ 2f+1; give `f` (an integer ≥ 0) or `beta` (in [0, 0.5): ⌊β·n⌋ per tail). The tensor
 * counterpart of `trimmedMean`; the output is finite for any finite input.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`).
 * @param options - see `TrimmedMeanOptions` of `trimmedMean`: exactly one of `f` (an integer ≥ 0
 *   with n ≥ 2f+1) and `beta` (in [0, 0.5)); `nonFinite` (default `'drop'`).
 * @returns a new Tensor1D of length d on the input's backend (the caller disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorTrimmedMean } from 'robust-agg/tfjs';
 *
 * // Ten clients (rows), d = 2: values 1..10 in the first column, 10..1 in the second.
 * const x = tf.tensor2d(Array.from({ length: 10 }, (_, i) => [i + 1, 10 - i]));
 * const tm = await tensorTrimmedMean(x, { f: 2 });
 * console.log(await tm.data()); // [5.5, 5.5]
 * tf.dispose([x, tm]);
 * ```
 */
export async function tensorTrimmedMean(x: tf.Tensor2D, options: TensorOptions<TrimmedMeanOptions>): Promise<tf.Tensor1D> {
  return (await tensorTrimmedMeanWithDecision(x, options)).aggregate;
}

/** Krum and Multi-Krum on tensors: scores from the downloaded Gram matrix, then a row or a matMul. */
async function tensorMultiKrumCore(
  rule: string,
  x: tf.Tensor2D,
  f: unknown,
  m: unknown,
  options: CommonOptions,
): Promise<TensorAggregation<KrumDecision>> {
  if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 1)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: m must be an integer in [1, n], got ${describeValue(m)}`);
  }
  return withFiniteRows(x, rule, options, async ({ rows, clients }) => {
    requireClients(rule, clients.n, f as number, 2, 3);
    if (m !== undefined && (m as number) > clients.n) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: m must be an integer in [1, n], got m=${m as number}, n=${clients.n}`);
    }
    const count = clients.index.length;
    const fLeft = remainingByzantine(f as number, clients);
    const dist = squaredDistancesFromGram(await gramOfFiniteRows(rows, true, rule), count);
    const local = krumScores(dist, count, count - fLeft - 2);
    // A NaN score (impossible from a finite Gram matrix, but cheap to rule out) never wins.
    for (let k = 0; k < count; k++) if (Number.isNaN(local[k])) local[k] = Infinity;
    const picks = Math.min((m as number | undefined) ?? count - fLeft, count);
    const chosen = lowestScores(local, picks);
    const w = new Float64Array(count);
    for (const k of chosen) w[k] = 1 / picks;
    const scores = new Float64Array(clients.n).fill(Infinity);
    for (let k = 0; k < count; k++) scores[clients.index[k]] = local[k];
    const aggregate =
      picks === 1
        ? tf.tidy(() => tf.reshape(tf.slice(rows, [chosen[0], 0], [1, -1]), [-1]) as tf.Tensor1D)
        : combineRows(rows, w);
    return {
      aggregate,
      decision: {
        rule,
        n: clients.n,
        dropped: clients.dropped,
        selected: indicesOverInput(chosen, clients),
        weights: weightsOverInput(w, clients),
        scores,
      },
    };
  });
}

/**
 * {@link tensorKrum} with its decision (selected client, scores).
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`). At most 8192 rows.
 * @param options - see `KrumOptions` of `krum`: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorKrumWithDecision } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const { aggregate, decision } = await tensorKrumWithDecision(x, { f: 2 });
 * console.log(decision.selected, await aggregate.data()); // [the chosen client], one of 0..4, and its row
 * tf.dispose([x, aggregate]);
 * ```
 */
export async function tensorKrumWithDecision(
  x: tf.Tensor2D,
  options: KrumOptions,
): Promise<TensorAggregation<KrumDecision>> {
  const o = readOptions('krum', options, ['f', 'nonFinite']);
  return tensorMultiKrumCore('krum', x, o.f, 1, o);
}

/**
 * Krum (Blanchard et al., NeurIPS 2017) on an n×d tensor: score_i = Σ of the squared distances
 * to the n − f − 2 nearest other clients, from the centred Gram matrix computed by one matMul on
 * the tensor's backend (n² values downloaded, float32 on GPUs; rows scaled per row by a power of
 * two, see `tensorGram`, so no finite client can overflow it or blind the other pairs); returns
 * the row with the lowest score (ties: lowest index; a NaN score counts as +∞). Needs n ≥ 2f+3
 * (f an integer ≥ 0) and n ≤ 8192. The tensor counterpart of `krum`.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`). At most 8192 rows.
 * @param options - see `KrumOptions` of `krum`: `f` (required, an integer ≥ 0 with n ≥ 2f+3),
 *   `nonFinite` (default `'drop'`).
 * @returns a copy of the chosen row, a new Tensor1D on the input's backend (the caller disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorKrum } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const out = await tensorKrum(x, { f: 2 }); // a copy of one row, on the device
 * console.log(await out.data());
 * tf.dispose([x, out]);
 * ```
 */
export async function tensorKrum(x: tf.Tensor2D, options: KrumOptions): Promise<tf.Tensor1D> {
  return (await tensorKrumWithDecision(x, options)).aggregate;
}

/**
 * {@link tensorMultiKrum} with its decision.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`). At most 8192 rows.
 * @param options - see `MultiKrumOptions` of `multiKrum`: `f` (required, an integer ≥ 0 with
 *   n ≥ 2f+3), `m` (an integer in [1, n]; default n − f), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorMultiKrumWithDecision } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const { aggregate, decision } = await tensorMultiKrumWithDecision(x, { f: 2 });
 * console.log(decision.selected); // [0, 1, 2, 3, 4]
 * tf.dispose([x, aggregate]);
 * ```
 */
export async function tensorMultiKrumWithDecision(
  x: tf.Tensor2D,
  options: TensorOptions<MultiKrumOptions>,
): Promise<TensorAggregation<KrumDecision>> {
  const o = readOptions('multiKrum', options, ['f', 'm', 'nonFinite']);
  return tensorMultiKrumCore('multiKrum', x, o.f, o.m, o);
}

/**
 * Multi-Krum (Blanchard et al., NeurIPS 2017) on an n×d tensor: the mean of the m clients with
 * the lowest Krum scores (default m = n − f; m an integer in [1, n]), scores from one matMul, the
 * mean by another. Needs n ≥ 2f+3 and n ≤ 8192. The tensor counterpart of `multiKrum`.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped and counted against f (or throw, see
 *   `nonFinite`). At most 8192 rows.
 * @param options - see `MultiKrumOptions` of `multiKrum`: `f` (required, an integer ≥ 0 with
 *   n ≥ 2f+3), `m` (an integer in [1, n]; default n − f), `nonFinite` (default `'drop'`).
 * @returns the mean of the m selected rows, a new Tensor1D on the input's backend (the caller
 *   disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorMultiKrum } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const out = await tensorMultiKrum(x, { f: 2, m: 3 }); // the mean of the 3 best-scored rows
 * console.log(await out.data());
 * tf.dispose([x, out]);
 * ```
 */
export async function tensorMultiKrum(x: tf.Tensor2D, options: TensorOptions<MultiKrumOptions>): Promise<tf.Tensor1D> {
  return (await tensorMultiKrumWithDecision(x, options)).aggregate;
}

/**
 * {@link tensorGeometricMedian} with its decision (weights, iterations, convergence).
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped (or throw, see `nonFinite`). At most 8192
 *   rows.
 * @param options - see `GeometricMedianOptions` of `geometricMedian`: `maxIterations` (an integer
 *   in [0, 10 000]; default 80), `tolerance` (finite ≥ 0; default 1e-5), `nu` (finite ≥ 0; default
 *   0), `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorGeometricMedianWithDecision } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const { aggregate, decision } = await tensorGeometricMedianWithDecision(x);
 * console.log(decision.iterations, decision.converged, decision.weights);
 * tf.dispose([x, aggregate]);
 * ```
 */
export async function tensorGeometricMedianWithDecision(
  x: tf.Tensor2D,
  options?: TensorOptions<GeometricMedianOptions>,
): Promise<TensorAggregation<GeometricMedianDecision>> {
  const rule = 'geometricMedian';
  const { nonFinite, ...settings } = readGeometricMedianOptions(rule, options);
  return withFiniteRows(x, rule, { nonFinite }, async ({ rows, clients }) => {
    const m = clients.index.length;
    const g = m === 1 ? null : await gramOfFiniteRows(rows, true, rule);
    const { weights, iterations, converged } = weiszfeld(g, m, settings);
    for (let k = 0; k < m; k++) {
      if (!Number.isFinite(weights[k])) {
        throw new RobustAggError('UNSUPPORTED', `${rule}: Weiszfeld's weights left the float64 range (client ${clients.index[k]})`);
      }
    }
    return {
      aggregate: combineRows(rows, weights),
      decision: {
        rule,
        n: clients.n,
        dropped: clients.dropped,
        weights: weightsOverInput(weights, clients),
        iterations,
        converged,
      },
    };
  });
}

/**
 * Geometric median (Weiszfeld; Chen, Su & Xu 2017; RFA, Pillutla et al. 2022) of the rows of an
 * n×d tensor: one matMul for the centred, per-row scaled Gram matrix (see `tensorGram`), the
 * iterations in client space on the host (O(n²) each: the same `weiszfeld` as `geometricMedian`,
 * with its robust start and its handling of a client on the estimate), one matMul for the final
 * combination. Breakdown point ½: fewer than half of the clients, of any finite magnitude up to
 * ±3.4e38, cannot carry the output away from the others; the output is finite.
 *
 * Options (as `geometricMedian`): `maxIterations` an integer in [0, 10 000] (default 80),
 * `tolerance` a finite number ≥ 0 (default 1e-5), `nu` a finite number ≥ 0 (default 0),
 * `nonFinite`. With a float32 Gram matrix (GPUs) a tolerance far below 1e-7·‖x‖ cannot be met and
 * the loop runs to maxIterations. At most 8192 clients.
 *
 * @param x - the n×d tensor of client updates, one row per client: a live float32 rank-2 tensor
 *   (not disposed or modified). Rows holding NaN or ±Inf are dropped (or throw, see `nonFinite`). At most 8192
 *   rows.
 * @param options - see `GeometricMedianOptions` of `geometricMedian`: `maxIterations` (an integer
 *   in [0, 10 000]; default 80), `tolerance` (finite ≥ 0; default 1e-5), `nu` (finite ≥ 0; default
 *   0), `nonFinite` (default `'drop'`).
 * @returns a new Tensor1D of length d on the input's backend (the caller disposes it).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node
 * import { tensorGeometricMedian } from 'robust-agg/tfjs';
 *
 * // Seven clients (rows), d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const x = tf.tensor2d([
 *   [1.0, -1.0, 0.5],
 *   [1.1, -0.9, 0.4],
 *   [0.9, -1.1, 0.6],
 *   [1.0, -0.9, 0.5],
 *   [1.1, -1.0, 0.4],
 *   [20, 20, 20],
 *   [-20, 20, -20],
 * ]);
 * const gm = await tensorGeometricMedian(x, { maxIterations: 20 });
 * console.log(await gm.data()); // close to the honest rows
 * tf.dispose([x, gm]);
 * ```
 */
export async function tensorGeometricMedian(x: tf.Tensor2D, options?: TensorOptions<GeometricMedianOptions>): Promise<tf.Tensor1D> {
  return (await tensorGeometricMedianWithDecision(x, options)).aggregate;
}
