import type { LayersModel } from '@tensorflow/tfjs-layers';
import { accuracy, attackSuccessRate, robustAccuracy, type BackdoorTarget } from '../metrics/backdoor.js';
import { predictLabels, requireData, type LabeledData } from './model-utils.js';

/** Inputs of {@link evaluateBackdoor}. */
export interface BackdoorEvaluationData {
  /** Clean test samples with their true labels. */
  readonly clean: LabeledData;
  /** Triggered test samples with their TRUE (pre-trigger) labels. */
  readonly poisoned: LabeledData;
  /** The attacker's target class, or one per poisoned sample. */
  readonly target: BackdoorTarget;
  /** Prediction batch size. Default 256. */
  readonly batchSize?: number;
}

/** Clean accuracy, attack success rate and robust accuracy of one model, in [0, 1]. */
export interface BackdoorEvaluation {
  /** Clean accuracy (see `accuracy`). */
  readonly acc: number;
  /** Attack success rate on triggered samples with label ≠ target (see `attackSuccessRate`). */
  readonly asr: number;
  /** Robust accuracy on the same samples (see `robustAccuracy`). */
  readonly ra: number;
}

/**
 * Runs a TF.js model in inference mode on clean and triggered test data and returns ACC, ASR and RA
 * (the definitions of `accuracy`, `attackSuccessRate` and `robustAccuracy` in robust-agg's metrics:
 * ASR and RA count only triggered samples whose true label differs from the target). Disposes
 * every tensor it creates.
 *
 * @param model - a live tf.LayersModel with one N × classes output (logits or probabilities); run
 *   in inference mode, not changed.
 * @param data - see {@link BackdoorEvaluationData}: `clean` and `poisoned` test samples (the
 *   poisoned ones with their TRUE labels), the attacker's `target`, `batchSize` (default 256).
 * @returns ACC, ASR and RA, each in [0, 1].
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { stampTrigger } from 'robust-agg';
 * import { evaluateBackdoor } from 'robust-agg/defenses'; // also exported by 'robust-agg/tfjs'
 *
 * const model = tfl.sequential({
 *   layers: [tfl.layers.flatten({ inputShape: [8, 8, 1] }), tfl.layers.dense({ units: 3 })],
 * });
 * // 30 made-up 8×8 test images of 3 classes, and their triggered copies.
 * const n = 30;
 * const pixels = Float32Array.from({ length: n * 64 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
 * const testLabels = Int32Array.from({ length: n }, (_, i) => i % 3);
 * const { acc, asr, ra } = evaluateBackdoor(model, {
 *   clean: { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: testLabels },
 *   poisoned: { x: tf.tensor4d(stampTrigger(pixels, { height: 8, width: 8 }), [n, 8, 8, 1]), y: testLabels },
 *   target: 0,
 * });
 * console.log({ acc, asr, ra });
 * ```
 */
export function evaluateBackdoor(model: LayersModel, data: BackdoorEvaluationData): BackdoorEvaluation {
  const rule = 'evaluateBackdoor';
  const cleanLabels = requireData(rule, 'clean', data.clean);
  const poisonedLabels = requireData(rule, 'poisoned', data.poisoned);
  const batch = data.batchSize ?? 256;
  const cleanPred = predictLabels(model, data.clean.x, batch);
  const poisonedPred = predictLabels(model, data.poisoned.x, batch);
  return {
    acc: accuracy(cleanPred, cleanLabels),
    asr: attackSuccessRate(poisonedPred, poisonedLabels, data.target),
    ra: robustAccuracy(poisonedPred, poisonedLabels, data.target),
  };
}
