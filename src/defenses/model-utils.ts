import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable, LayersModel } from '@tensorflow/tfjs-layers';
import { RobustAggError } from '../core/errors.js';
import { randomPermutation, type Rng } from '../core/random.js';

/**
 * Labelled samples a model-level defense trains or evaluates on: inputs `x` (first axis = samples,
 * the shape the model takes) and labels `y`, either integer class indices (an array, or a rank-1
 * tensor) or one-hot rows (a rank-2 tensor). The defenses read the tensors and never dispose them.
 */
export interface LabeledData {
  /** Inputs, N × (the model's input shape). */
  readonly x: tf.Tensor;
  /** N class indices, or an N × classes one-hot tensor. */
  readonly y: tf.Tensor | ArrayLike<number>;
}

/** What a model-level defense returns: the repaired model (a copy unless `inPlace`) and its report. */
export interface DefenseResult<R> {
  /** The repaired model; dispose it when done. The same object as the input with `inPlace: true`. */
  readonly model: LayersModel;
  /** What the defense did, step by step. */
  readonly report: R;
}

/** One training epoch as the defenses log it. */
export interface EpochLog {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Mean cross-entropy over the epoch's mini-batches (before each step). */
  readonly loss: number;
  /** Training accuracy over the epoch's mini-batches (before each step), in [0, 1]. */
  readonly trainAccuracy: number;
  /** The learning rate of the epoch, where a schedule sets it (RNP's unlearning). */
  readonly learningRate?: number;
}

/**
 * A caller's probe run on the model at each step of a defense (every pruning step, every threshold
 * of a sweep), e.g. ASR on a held-out triggered set. Its numbers go into the report only; the
 * defenses never use them to decide anything.
 *
 * @param model - the model at this step (the defense's working copy); read it, do not dispose it.
 * @returns named numbers, e.g. `{ asr: 0.02 }`.
 */
export type ModelProbe = (model: LayersModel) => Record<string, number>;

/** Integer class labels of `data.y` as an `Int32Array`. */
export function labelsOf(rule: string, data: LabeledData): Int32Array {
  const { x, y } = data;
  const n = x.shape[0];
  let labels: Int32Array;
  if (y instanceof tf.Tensor) {
    if (y.rank === 1) {
      labels = Int32Array.from(y.dataSync() as ArrayLike<number>);
    } else if (y.rank === 2) {
      labels = tf.tidy(() => tf.argMax(y, 1)).dataSync() as Int32Array;
      labels = Int32Array.from(labels);
    } else {
      throw new RobustAggError('INVALID_OPTION', `${rule}: labels must be rank 1 (indices) or 2 (one-hot), got rank ${y.rank}`);
    }
  } else {
    labels = Int32Array.from(y);
  }
  if (labels.length !== n) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: ${n} inputs but ${labels.length} labels`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0)) throw new RobustAggError('INVALID_OPTION', `${rule}: label ${i} is ${labels[i]}, not a class index`);
  }
  return labels;
}

/** Checks a data set: a tensor `x` with at least one sample, and labels for each. */
export function requireData(rule: string, name: string, data: LabeledData | undefined): Int32Array {
  if (data == null || !(data.x instanceof tf.Tensor) || data.x.rank < 1 || data.x.shape[0] < 1) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be { x: Tensor with ≥ 1 sample, y: labels }`);
  }
  return labelsOf(`${rule} (${name})`, data);
}

/** Number of classes the model outputs (its last output dimension). */
export function classCount(rule: string, model: LayersModel): number {
  const shape = model.outputs[0].shape;
  const c = shape[shape.length - 1];
  if (model.outputs.length !== 1 || shape.length !== 2 || c == null || c < 2) {
    throw new RobustAggError('UNSUPPORTED', `${rule}: the model must have one N × classes output, got shape [${shape.join(', ')}]`);
  }
  return c;
}

/** Whether the model's last layer applies a softmax (its outputs are probabilities, not logits). */
export function outputsProbabilities(model: LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const config = last.getConfig() as { activation?: unknown };
  return last.getClassName() === 'Softmax' || config.activation === 'softmax';
}

/**
 * A copy of a LayersModel with its own weights: the architecture is rebuilt from `getConfig()`
 * through the class's static `fromConfig` (Sequential or functional), then
 * `setWeights(model.getWeights())`. The copy shares no variable with the original, so training or
 * pruning it never changes the given model. Custom layers must be registered with TF.js
 * serialization, as for `tf.models.modelFromJSON`.
 */
export function cloneModel(rule: string, model: LayersModel): LayersModel {
  const ctor = model.constructor as unknown as {
    fromConfig(cls: unknown, config: unknown, customObjects?: unknown, fastWeightInit?: boolean): LayersModel;
  };
  let copy: LayersModel;
  try {
    copy = ctor.fromConfig(ctor, model.getConfig(), undefined, true);
  } catch (e) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: cannot rebuild the model from its config to work on a copy (${(e as Error).message}); pass inPlace: true to work on the model itself`,
    );
  }
  copy.setWeights(model.getWeights());
  return copy;
}

/** Predicted class of every sample, in batches, in inference mode; no tensor stays alive. */
export function predictLabels(model: LayersModel, x: tf.Tensor, batchSize = 256): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const pred = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const y = model.apply(xb, { training: false }) as tf.Tensor;
      return tf.argMax(y, -1);
    });
    out.set(pred.dataSync() as Int32Array, start);
    pred.dispose();
  }
  return out;
}

/** Clean accuracy of the model on labelled data, in [0, 1]. */
export function accuracyOn(model: LayersModel, x: tf.Tensor, labels: Int32Array, batchSize = 256): number {
  const pred = predictLabels(model, x, batchSize);
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** Mean cross-entropy of a batch: from logits, or from probabilities when the model ends in softmax. */
export function crossEntropy(output: tf.Tensor, oneHot: tf.Tensor, probabilities: boolean): tf.Scalar {
  if (!probabilities) return tf.losses.softmaxCrossEntropy(oneHot, output) as tf.Scalar;
  const p = tf.sum(tf.mul(output, oneHot), -1);
  return tf.neg(tf.mean(tf.log(tf.clipByValue(p, 1e-7, 1)))) as tf.Scalar;
}

/** Hyper-parameters of a PyTorch-style SGD step: g ← g + wd·w; v ← μ·v + g; w ← w − lr·v. */
export interface SgdSettings {
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

/** Momentum buffers for a list of variables; dispose() frees them. */
export class SgdState {
  private readonly velocity: tf.Variable[];
  /** The current learning rate (starts at `settings.learningRate`; a schedule may change it between epochs). */
  learningRate: number;

  constructor(
    private readonly vars: readonly tf.Variable[],
    private readonly settings: SgdSettings,
  ) {
    this.velocity = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    this.learningRate = settings.learningRate;
  }

  /** One step with the given gradients (same order as the variables). */
  step(grads: readonly tf.Tensor[]): void {
    const { momentum, weightDecay } = this.settings;
    const learningRate = this.learningRate;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        let g = grads[i];
        if (weightDecay !== 0) g = tf.add(g, tf.mul(w, weightDecay));
        const v = momentum !== 0 ? tf.add(tf.mul(this.velocity[i], momentum), g) : g;
        if (momentum !== 0) this.velocity[i].assign(v);
        w.assign(tf.sub(w, tf.mul(v, learningRate)));
      });
    });
  }

  dispose(): void {
    for (const v of this.velocity) v.dispose();
  }
}

/** Mini-batches of sample indices: a seeded permutation cut into batches of `batchSize`. */
export function batchesOf(n: number, batchSize: number, rng: Rng): Int32Array[] {
  const order = randomPermutation(n, rng);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(Int32Array.from(order.slice(s, s + batchSize)));
  return out;
}

/** Settings of {@link trainEpoch}. */
export interface EpochSettings extends SgdSettings {
  readonly batchSize: number;
  /** +1 to descend on the cross-entropy (training), −1 to ascend (unlearning). */
  readonly direction: 1 | -1;
  /** Multiplies the loss (RNP's α). Default 1. */
  readonly lossScale?: number;
  /** Called after every optimizer step (e.g. to keep pruned weights at zero). */
  readonly afterStep?: () => void;
  /** Applied to every training batch inside the step (data augmentation); must not dispose its input. */
  readonly augment?: BatchAugment;
}

/**
 * A training-batch transform (data augmentation): takes a batch of inputs and the defense's
 * seeded generator, returns a batch of the same shape. Called inside `tf.tidy`.
 *
 * @param batch - the inputs of one mini-batch (N × the model's input shape).
 * @param rng - the defense's seeded generator (draw random crops etc. from it for reproducibility).
 * @returns the transformed batch, same shape.
 */
export type BatchAugment = (batch: tf.Tensor, rng: Rng) => tf.Tensor;

/**
 * One epoch of mini-batch SGD over `vars` in training mode (batch-norm layers use batch statistics
 * and update their moving averages). Returns the mean loss and the training accuracy measured on
 * the batches as they were seen (before each step), as the reference implementations do.
 */
export function trainEpoch(
  model: LayersModel,
  vars: readonly tf.Variable[],
  sgd: SgdState,
  data: { x: tf.Tensor; labels: Int32Array; classes: number; probabilities: boolean },
  settings: EpochSettings,
  rng: Rng,
): { loss: number; accuracy: number } {
  const { x, labels, classes, probabilities } = data;
  const scale = (settings.lossScale ?? 1) * settings.direction;
  let lossSum = 0;
  let hits = 0;
  for (const batch of batchesOf(labels.length, settings.batchSize, rng)) {
    const [loss, hit] = tf.tidy(() => {
      const idx = tf.tensor1d(batch, 'int32');
      const raw = tf.gather(x, idx);
      const xb = settings.augment ? settings.augment(raw, rng) : raw;
      const yb = tf.tensor1d(Int32Array.from(batch, (i) => labels[i]), 'int32');
      const oneHot = tf.oneHot(yb, classes);
      let correct: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(xb, { training: true }) as tf.Tensor;
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(out, -1), yb), 'int32')));
        return tf.mul(crossEntropy(out, oneHot, probabilities), scale) as tf.Scalar;
      }, vars as tf.Variable[]);
      sgd.step(vars.map((v) => grads[v.name]));
      return [value, correct as unknown as tf.Tensor];
    });
    lossSum += (loss.dataSync()[0] / scale) * batch.length;
    hits += hit.dataSync()[0];
    loss.dispose();
    hit.dispose();
    settings.afterStep?.();
  }
  return { loss: lossSum / labels.length, accuracy: hits / labels.length };
}

/** The tf.Variables behind a model's trainable weights. */
export function trainableVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** A layer weight by its last name part (`kernel`, `bias`, `gamma`, `beta`, `moving_mean`, …), or null. */
export function weightNamed(weights: readonly LayerVariable[], part: string): LayerVariable | null {
  for (const w of weights) {
    const last = w.originalName.split('/').pop() ?? '';
    if (last === part || last.replace(/_\d+$/, '') === part) return w;
  }
  return null;
}

/** Writes `values` into a layer weight (same size), disposing the temporary tensor. */
export function writeWeight(w: LayerVariable, values: Float32Array): void {
  tf.tidy(() => {
    w.write(tf.tensor(values, [...w.shape] as number[], 'float32'));
  });
}

/** A layer weight's values as a new Float32Array. */
export function readWeight(w: LayerVariable): Float32Array {
  return Float32Array.from(w.read().dataSync() as Float32Array);
}

/**
 * Random crop with zero padding and (optionally) horizontal flip of NHWC image batches, the
 * augmentation the RNP reference applies to its clean set (CIFAR-10: padding 4, flip). Each image
 * is padded by `padding` pixels on every side, a window of the original size is cut at a uniformly
 * random offset, and with `flip` the window is mirrored left–right with probability 1/2. Offsets and
 * flips are drawn from the generator the defense passes (seeded). Handwritten digits should not be
 * flipped (a mirrored 2, 3 … is not the same digit): use `flip: false` there.
 *
 * @param options - `padding` (integer 0 … 64, default 4) and `flip` (default true).
 * @returns a {@link BatchAugment} for the `augment` option of `rnp`.
 * @category Defenses
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { createRng } from 'robust-agg';
 * import { randomCropFlip } from 'robust-agg/defenses';
 *
 * const augment = randomCropFlip({ padding: 2, flip: false });
 * const batch = tf.ones([2, 6, 6, 1]);
 * const out = augment(batch, createRng(1));
 * console.log(out.shape); // [2, 6, 6, 1], shifted copies with zeros where the window left the image
 * ```
 */
export function randomCropFlip(options: { padding?: number; flip?: boolean } = {}): BatchAugment {
  const padding = options.padding ?? 4;
  if (!Number.isInteger(padding) || padding < 0 || padding > 64) {
    throw new RobustAggError('INVALID_OPTION', `randomCropFlip: padding must be an integer in [0, 64], got ${String(padding)}`);
  }
  const flip = options.flip ?? true;
  return (batch: tf.Tensor, rng: Rng): tf.Tensor => {
    if (batch.rank !== 4) throw new RobustAggError('UNSUPPORTED', `randomCropFlip: expects NHWC image batches, got rank ${batch.rank}`);
    const [n, h, w, c] = batch.shape as [number, number, number, number];
    const src = batch.dataSync() as Float32Array;
    const out = new Float32Array(src.length);
    const span = 2 * padding + 1;
    for (let b = 0; b < n; b++) {
      const dy = rng.nextInt(span) - padding;
      const dx = rng.nextInt(span) - padding;
      const mirror = flip && rng.nextInt(2) === 1;
      const base = b * h * w * c;
      for (let i = 0; i < h; i++) {
        const si = i + dy;
        if (si < 0 || si >= h) continue;
        for (let j = 0; j < w; j++) {
          const jj = mirror ? w - 1 - j : j;
          const sj = jj + dx;
          if (sj < 0 || sj >= w) continue;
          const from = base + (si * w + sj) * c;
          const to = base + (i * w + j) * c;
          for (let k = 0; k < c; k++) out[to + k] = src[from + k];
        }
      }
    }
    return tf.tensor4d(out, [n, h, w, c]);
  };
}
