import * as tf from '@tensorflow/tfjs-core';
import { model as functionalModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { requireInteger, requireNumber } from '../core/options.js';
import { resolveRng, type RandomOptions } from '../core/random.js';
import { ChannelMask } from './channel-mask.js';
import { activationOf, convLayer } from './graph.js';
import {
  accuracyOn,
  classCount,
  cloneModel,
  outputsProbabilities,
  requireData,
  SgdState,
  trainableVariables,
  trainEpoch,
  type DefenseResult,
  type EpochLog,
  type LabeledData,
  type ModelProbe,
} from './model-utils.js';

/** Options of {@link finePruning}. */
export interface FinePruningOptions extends RandomOptions {
  /**
   * Clean data on which the stop rule measures accuracy. Default: the clean data passed to
   * {@link finePruning} (the defender's only clean set, as in the paper).
   */
  validation?: LabeledData;
  /** Name of the Conv2D layer to prune. Default: the model's last Conv2D layer. */
  layer?: string;
  /**
   * Stop before clean validation accuracy falls more than this many percentage points below the
   * unpruned model's. Default 4 (the paper's setting).
   */
  maxAccuracyDrop?: number;
  /** Fine-tuning epochs on the clean data after pruning. Default 10; 0 = prune only. */
  epochs?: number;
  /** Fine-tuning SGD learning rate. Default 0.01. */
  learningRate?: number;
  /** Fine-tuning SGD momentum. Default 0.9. */
  momentum?: number;
  /** Fine-tuning weight decay (added to the gradient, PyTorch-style). Default 5e-4. */
  weightDecay?: number;
  /** Fine-tuning mini-batch size. Default 64. */
  batchSize?: number;
  /** Called after every pruning step and after fine-tuning; its numbers go into the report only. */
  probe?: ModelProbe;
  /** Prune and fine-tune the given model itself instead of a copy. Default false. */
  inPlace?: boolean;
}

/** One pruning step of {@link finePruning}. */
export interface FinePruningStep {
  /** The channel pruned at this step. */
  readonly channel: number;
  /** Channels pruned so far, this one included. */
  readonly prunedCount: number;
  /** Clean validation accuracy after this step, in [0, 1]. */
  readonly validationAccuracy: number;
  /** Whether this step was kept (false: it crossed the accuracy limit and was undone). */
  readonly kept: boolean;
  /** The probe's numbers, when a probe was given. */
  readonly probe?: Record<string, number>;
}

/** What {@link finePruning} did. */
export interface FinePruningReport {
  /** The pruned Conv2D layer. */
  readonly layer: string;
  /** The layer whose output was averaged (the convolution, or the BN/activation after it). */
  readonly activationLayer: string;
  /** The BatchNormalization after the convolution whose γ and β were zeroed too, or null. */
  readonly batchNorm: string | null;
  /** Mean activation of each channel on the clean data. */
  readonly meanActivations: Float64Array;
  /** Channels in pruning order (increasing mean activation; ties by index). */
  readonly order: readonly number[];
  /** Channels pruned in the returned model, in pruning order. */
  readonly pruned: readonly number[];
  /** Clean validation accuracy of the given model. */
  readonly baseValidationAccuracy: number;
  /** Every pruning step tried, the last one possibly undone. */
  readonly steps: readonly FinePruningStep[];
  /** Why pruning stopped: the accuracy limit, or only one channel left. */
  readonly stoppedBy: 'accuracy-drop' | 'last-channel';
  /** Clean validation accuracy after pruning, before fine-tuning. */
  readonly prunedValidationAccuracy: number;
  /** Loss and training accuracy per fine-tuning epoch. */
  readonly fineTuning: readonly EpochLog[];
  /** Clean validation accuracy of the returned model. */
  readonly finalValidationAccuracy: number;
  /** The probe's numbers on the returned model, when a probe was given. */
  readonly finalProbe?: Record<string, number>;
}

/**
 * Fine-Pruning (Liu, Dolan-Gavitt & Garg, "Fine-Pruning: defending against backdooring attacks on
 * deep neural networks", RAID 2018): rank the channels of the last convolutional layer by their
 * mean activation aᶜ = mean over clean samples and positions of the channel's (normalized,
 * activated) output; prune them in increasing order of aᶜ — zero the kernel slice and bias, and γ, β
 * of a BatchNormalization that follows, so the channel outputs exactly 0 — and stop before the
 * clean validation accuracy drops more than `maxAccuracyDrop` points; then fine-tune the whole
 * model on the clean data with the pruned channels held at zero.
 *
 * Defaults: last Conv2D layer, maxAccuracyDrop 4 points, 10 fine-tuning epochs of SGD (lr 0.01,
 * momentum 0.9, weight decay 5e-4, batch 64). Works on a copy of the model (rebuilt from its config,
 * weights copied) unless `inPlace`; tensors it creates are disposed. Randomized (batch order): pass
 * `seed` or `rng`.
 *
 * @param model - the suspect model (one N × classes output; logits or softmax).
 * @param clean - the defender's clean data (the paper uses a held-out validation set, e.g. 5 %).
 * @param options - see {@link FinePruningOptions}: `seed` or `rng` (required: the batch order is
 *   random), `layer` (default the last Conv2D), `maxAccuracyDrop` (points; default 4), `epochs`
 *   (default 10), `learningRate` (default 0.01), `momentum` (default 0.9), `weightDecay` (default
 *   5e-4), `batchSize` (default 64), `validation` (default `clean`), `probe`, `inPlace` (default
 *   false).
 * @returns the repaired model and a report of every step.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { stampTrigger } from 'robust-agg';
 * import { evaluateBackdoor, finePruning } from 'robust-agg/defenses';
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
 * // The defender's clean data: 48 made-up 8×8 images of 3 classes.
 * const n = 48;
 * const pixels = Float32Array.from({ length: n * 64 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
 * const clean = { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: Int32Array.from({ length: n }, (_, i) => i % 3) };
 * // Triggered copies of the same images (white 3×3 square, bottom-right), with their TRUE labels.
 * const poisoned = { x: tf.tensor4d(stampTrigger(pixels, { height: 8, width: 8 }), [n, 8, 8, 1]), y: clean.y };
 * const { model: repaired, report } = finePruning(backdoored, clean, {
 *   seed: 1,
 *   epochs: 2, // fine-tuning epochs (default 10)
 *   probe: (m) => ({ asr: evaluateBackdoor(m, { clean, poisoned, target: 0 }).asr }), // reported, never used to decide
 * });
 * console.log(report.order, report.pruned, report.stoppedBy);
 * console.log(report.baseValidationAccuracy, report.finalValidationAccuracy, report.finalProbe);
 * repaired.dispose();
 * ```
 */
export function finePruning(
  model: LayersModel,
  clean: LabeledData,
  options: FinePruningOptions = {},
): DefenseResult<FinePruningReport> {
  const rule = 'finePruning';
  const cleanLabels = requireData(rule, 'clean', clean);
  const validation = options.validation ?? clean;
  const validationLabels = options.validation === undefined ? cleanLabels : requireData(rule, 'validation', validation);
  const maxDrop = requireNumber(rule, 'maxAccuracyDrop', options.maxAccuracyDrop ?? 4, 0, 100) / 100;
  const epochs = requireInteger(rule, 'epochs', options.epochs ?? 10, 0);
  const learningRate = requireNumber(rule, 'learningRate', options.learningRate ?? 0.01, 0);
  const momentum = requireNumber(rule, 'momentum', options.momentum ?? 0.9, 0, 1);
  const weightDecay = requireNumber(rule, 'weightDecay', options.weightDecay ?? 5e-4, 0);
  const batchSize = requireInteger(rule, 'batchSize', options.batchSize ?? 64, 1);
  const rng = epochs > 0 ? resolveRng(options, rule) : null;
  const classes = classCount(rule, model);

  const work = options.inPlace === true ? model : cloneModel(rule, model);
  const conv = convLayer(rule, work, options.layer);
  const { output, bn } = activationOf(conv);
  const mask = new ChannelMask(conv, bn);
  const channels = mask.channels;

  // Mean activation of each channel on the clean data.
  const meanActivations = channelMeans(work, output, clean.x, conv);
  const order = Array.from({ length: channels }, (_, c) => c).sort(
    (a, b) => meanActivations[a] - meanActivations[b] || a - b,
  );

  const probe = options.probe;
  const base = accuracyOn(work, validation.x, validationLabels);
  const original = mask.snapshot();
  const steps: FinePruningStep[] = [];
  let stoppedBy: FinePruningReport['stoppedBy'] = 'last-channel';
  for (const channel of order.slice(0, channels - 1)) {
    mask.pruned.add(channel);
    mask.restore(original);
    mask.apply();
    const acc = accuracyOn(work, validation.x, validationLabels);
    const kept = acc >= base - maxDrop - 1e-12;
    steps.push({
      channel,
      prunedCount: mask.pruned.size,
      validationAccuracy: acc,
      kept,
      ...(probe ? { probe: probe(work) } : {}),
    });
    if (!kept) {
      mask.pruned.delete(channel);
      mask.restore(original);
      mask.apply();
      stoppedBy = 'accuracy-drop';
      break;
    }
  }
  const prunedValidationAccuracy = mask.pruned.size === 0 ? base : accuracyOn(work, validation.x, validationLabels);

  const fineTuning: EpochLog[] = [];
  if (epochs > 0 && rng !== null) {
    const vars = trainableVariables(work);
    const sgd = new SgdState(vars, { learningRate, momentum, weightDecay });
    const data = { x: clean.x, labels: cleanLabels, classes, probabilities: outputsProbabilities(work) };
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const r = trainEpoch(
          work,
          vars,
          sgd,
          data,
          { learningRate, momentum, weightDecay, batchSize, direction: 1, afterStep: () => mask.apply() },
          rng,
        );
        fineTuning.push({ epoch, loss: r.loss, trainAccuracy: r.accuracy });
      }
    } finally {
      sgd.dispose();
    }
  }
  const finalValidationAccuracy = accuracyOn(work, validation.x, validationLabels);
  const report: FinePruningReport = {
    layer: conv.name,
    activationLayer: output.name,
    batchNorm: bn === null ? null : bn.name,
    meanActivations,
    order,
    pruned: order.filter((c) => mask.pruned.has(c)),
    baseValidationAccuracy: base,
    steps,
    stoppedBy,
    prunedValidationAccuracy,
    fineTuning,
    finalValidationAccuracy,
    ...(probe ? { finalProbe: probe(work) } : {}),
  };
  return { model: work, report };
}

/** Mean of each output channel of `layer` over samples and positions, in batches. */
function channelMeans(
  model: LayersModel,
  layer: LayersModel['layers'][number],
  x: tf.Tensor,
  conv: LayersModel['layers'][number],
): Float64Array {
  const channelsFirst = (conv.getConfig() as { dataFormat?: string }).dataFormat === 'channelsFirst';
  const probeModel = functionalModel({ inputs: model.inputs, outputs: layer.output as never });
  const n = x.shape[0];
  let sums: Float64Array | null = null;
  const batch = 256;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const s = tf.tidy(() => {
      const a = probeModel.apply(tf.slice(x, start, size), { training: false }) as tf.Tensor;
      const axes = channelsFirst ? [0, 2, 3] : [0, 1, 2];
      return tf.sum(a, axes);
    });
    const values = s.dataSync();
    s.dispose();
    sums ??= new Float64Array(values.length);
    for (let c = 0; c < values.length; c++) sums[c] += values[c];
  }
  const out = sums as Float64Array;
  const shape = layer.outputShape as number[];
  const positions = channelsFirst ? shape[2] * shape[3] : shape[1] * shape[2];
  for (let c = 0; c < out.length; c++) out[c] /= n * positions;
  return out;
}
