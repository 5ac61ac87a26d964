import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RobustAggError } from '../core/errors.js';
import { requireNumber } from '../core/options.js';
import { findConvBnPairs } from './graph.js';
import { cloneModel, readWeight, weightNamed, writeWeight, type DefenseResult, type ModelProbe } from './model-utils.js';
import { largestSingularValue } from './singular-value.js';

/** Options of {@link clp}. */
export interface ClpOptions {
  /** u: prune channels whose upper bound exceeds mean + u·std within their layer. Default 3. */
  u?: number;
  /** Called once on the pruned model; its numbers go into the report only. */
  probe?: ModelProbe;
  /** Prune the given model itself instead of a copy. Default false. */
  inPlace?: boolean;
}

/** One Conv2D → BatchNormalization pair as {@link clp} saw it. */
export interface ClpLayerReport {
  /** The Conv2D layer. */
  readonly conv: string;
  /** The BatchNormalization layer whose γ and β were zeroed. */
  readonly batchNorm: string;
  /** Upper bound of each channel's Lipschitz constant: σ_max(W_c) · |γ_c| / sqrt(var_c + ε). */
  readonly upperBounds: Float64Array;
  /** mean + u·std of the bounds (std with n − 1, as torch.std). */
  readonly threshold: number;
  /** Channels pruned (bound > threshold), ascending. */
  readonly pruned: readonly number[];
}

/** What {@link clp} did. */
export interface ClpReport {
  /** Every Conv2D → BatchNormalization pair found in the model graph, in model order. */
  readonly layers: readonly ClpLayerReport[];
  /** Total channels pruned. */
  readonly prunedCount: number;
  /** The probe's numbers on the pruned model, when a probe was given. */
  readonly probe?: Record<string, number>;
}

/**
 * Channel Lipschitzness-based Pruning (Zheng, Zhang, Zhang, Wu & Wang, "Data-free backdoor removal
 * based on channel Lipschitzness", ECCV 2022), data-free: for each Conv2D followed by its
 * BatchNormalization (found in the model graph), channel c's upper channel Lipschitz constant is
 * UCLC_c = σ_max(W_c) · |γ_c| / sqrt(σ²_c + ε), W_c the kernel slice of output channel c as an
 * (input channels) × (kh·kw) matrix and σ²_c the moving variance; channels with
 * UCLC_c > mean + u·std of their layer (u = 3 by default) are pruned by zeroing γ_c and β_c.
 *
 * Throws `UNSUPPORTED` when the model has no Conv2D → BatchNormalization pair (CLP needs one: the
 * bound uses the normalization's scale). Works on a copy unless `inPlace`. Deterministic.
 *
 * @param model - the suspect model: a live tf.LayersModel with at least one Conv2D →
 *   BatchNormalization pair. Not changed unless `inPlace`.
 * @param options - see {@link ClpOptions}: `u` (default 3), `probe` (reported only), `inPlace`
 *   (default false). Default `{}`.
 * @returns the pruned model and, per pair, the bounds, the threshold and the pruned channels.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { clp } from 'robust-agg/defenses';
 *
 * // A small CNN with a Conv2D → BatchNormalization pair (use your trained, suspect model).
 * const backdoored = tfl.sequential({
 *   layers: [
 *     tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, useBias: false }),
 *     tfl.layers.batchNormalization(),
 *     tfl.layers.activation({ activation: 'relu' }),
 *     tfl.layers.globalAveragePooling2d({}),
 *     tfl.layers.dense({ units: 3 }),
 *   ],
 * });
 * const { model: repaired, report } = clp(backdoored);      // u = 3; no data needed
 * console.log(report.layers.map((l) => `${l.conv}: ${l.pruned.length} pruned, threshold ${l.threshold.toFixed(3)}`));
 * const strict = clp(backdoored, { u: 1 });                 // prunes more channels
 * console.log(report.prunedCount, strict.report.prunedCount);
 * repaired.dispose();
 * strict.model.dispose();
 * ```
 */
export function clp(model: LayersModel, options: ClpOptions = {}): DefenseResult<ClpReport> {
  const rule = 'clp';
  const u = requireNumber(rule, 'u', options.u ?? 3);
  if (findConvBnPairs(model).length === 0) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: the model has no Conv2D layer feeding a BatchNormalization over its channels; CLP bounds each ` +
        `channel with the normalization's γ/σ and cannot run on this model`,
    );
  }
  const work = options.inPlace === true ? model : cloneModel(rule, model);
  const layers: ClpLayerReport[] = [];
  let prunedCount = 0;
  for (const { conv, bn, channels } of findConvBnPairs(work)) {
    const kernelVar = weightNamed(conv.weights, 'kernel');
    const gammaVar = weightNamed(bn.weights, 'gamma');
    const betaVar = weightNamed(bn.weights, 'beta');
    const varianceVar = weightNamed(bn.weights, 'moving_variance');
    if (kernelVar === null || varianceVar === null) continue;
    if (gammaVar === null) {
      throw new RobustAggError('UNSUPPORTED', `${rule}: BatchNormalization '${bn.name}' has no γ (scale: false); nothing to zero`);
    }
    const epsilon = (bn.getConfig() as { epsilon?: number }).epsilon ?? 1e-3;
    const kernel = readWeight(kernelVar);
    const gamma = readWeight(gammaVar);
    const variance = readWeight(varianceVar);
    const [kh, kw, cin] = kernelVar.shape as number[];
    const upperBounds = new Float64Array(channels);
    const slice = new Float64Array(cin * kh * kw);
    for (let c = 0; c < channels; c++) {
      // W_c as a cin × (kh·kw) matrix: row ci, column (y, x).
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          for (let ci = 0; ci < cin; ci++) {
            slice[ci * kh * kw + y * kw + x] = kernel[((y * kw + x) * cin + ci) * channels + c];
          }
        }
      }
      const scale = Math.abs(gamma[c]) / Math.sqrt(variance[c] + epsilon);
      upperBounds[c] = largestSingularValue(slice, cin, kh * kw) * scale;
    }
    let mean = 0;
    for (const b of upperBounds) mean += b;
    mean /= channels;
    let ss = 0;
    for (const b of upperBounds) ss += (b - mean) ** 2;
    const std = channels > 1 ? Math.sqrt(ss / (channels - 1)) : 0;
    const threshold = mean + u * std;
    const pruned: number[] = [];
    for (let c = 0; c < channels; c++) if (upperBounds[c] > threshold) pruned.push(c);
    if (pruned.length > 0) {
      for (const c of pruned) gamma[c] = 0;
      writeWeight(gammaVar, gamma);
      if (betaVar !== null) {
        const beta = readWeight(betaVar);
        for (const c of pruned) beta[c] = 0;
        writeWeight(betaVar, beta);
      }
    }
    prunedCount += pruned.length;
    layers.push({ conv: conv.name, batchNorm: bn.name, upperBounds, threshold, pruned });
  }
  const report: ClpReport = { layers, prunedCount, ...(options.probe ? { probe: options.probe(work) } : {}) };
  return { model: work, report };
}
