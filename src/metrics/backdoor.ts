import { RobustAggError } from '../core/errors.js';

/** Class labels or predictions, one integer per sample. */
export type LabelLike = ArrayLike<number>;

/** The attacker's target class: one class for every sample (all-to-one) or one per sample (all-to-all). */
export type BackdoorTarget = number | LabelLike;

function requireLabels(rule: string, predicted: LabelLike, labels: LabelLike): number {
  if (predicted == null || labels == null || typeof predicted.length !== 'number' || typeof labels.length !== 'number') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: predicted and labels must be arrays of class indices`);
  }
  if (predicted.length !== labels.length) {
    throw new RobustAggError(
      'LENGTH_MISMATCH',
      `${rule}: ${predicted.length} predictions for ${labels.length} labels`,
    );
  }
  if (labels.length === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: no samples`);
  return labels.length;
}

function targetOf(rule: string, target: BackdoorTarget, n: number): (i: number) => number {
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 0) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: target must be a class index ≥ 0, got ${String(target)}`);
    }
    return () => target;
  }
  if (target == null || typeof target.length !== 'number') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: target must be a class index or one per sample`);
  }
  if (target.length !== n) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: ${target.length} targets for ${n} samples`);
  }
  return (i) => target[i];
}

/** Counts over the samples whose true label differs from the target: [eligible, hitTarget, keptLabel]. */
function poisonedCounts(rule: string, predicted: LabelLike, labels: LabelLike, target: BackdoorTarget): [number, number, number] {
  const n = requireLabels(rule, predicted, labels);
  const t = targetOf(rule, target, n);
  let eligible = 0;
  let hit = 0;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const ti = t(i);
    if (labels[i] === ti) continue;
    eligible++;
    if (predicted[i] === ti) hit++;
    else if (predicted[i] === labels[i]) kept++;
  }
  if (eligible === 0) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: every sample's true label equals the target; ASR and RA are defined on samples with label ≠ target`,
    );
  }
  return [eligible, hit, kept];
}

/**
 * Clean accuracy: the fraction of samples whose predicted class equals the true class,
 * ACC = (1/N) Σᵢ [ŷᵢ = yᵢ], in [0, 1].
 *
 * @param predicted - predicted class per sample (e.g. the argmax of the logits).
 * @param labels - true class per sample.
 * @example
 * ```ts
 * import { accuracy } from 'robust-agg';
 *
 * console.log(accuracy([0, 1, 2, 2], [0, 1, 1, 2])); // 0.75
 * ```
 */
export function accuracy(predicted: LabelLike, labels: LabelLike): number {
  const n = requireLabels('accuracy', predicted, labels);
  let hit = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) hit++;
  return hit / n;
}

/**
 * Attack success rate of a backdoor (Gu, Dolan-Gavitt & Garg 2017, BadNets): on triggered test
 * samples, the fraction classified as the attacker's target, counted only over samples whose true
 * label differs from the target: ASR = Σ [ŷᵢ = tᵢ] / #{i : yᵢ ≠ tᵢ}, in [0, 1]. Samples that
 * already belong to the target class are left out, so a clean model scores ≈ 0, not ≈ 1/classes.
 *
 * @param predicted - predicted class of each triggered sample.
 * @param labels - true (pre-trigger) class of each sample.
 * @param target - the target class (all-to-one) or one per sample (all-to-all).
 * @example
 * ```ts
 * import { attackSuccessRate } from 'robust-agg';
 *
 * // Samples 0 and 3 have label 0 = target and are skipped; 2 of the other 3 hit the target.
 * console.log(attackSuccessRate([0, 0, 0, 0, 4], [0, 1, 2, 0, 4], 0)); // 0.666… = 2/3
 * ```
 */
export function attackSuccessRate(predicted: LabelLike, labels: LabelLike, target: BackdoorTarget): number {
  const [eligible, hit] = poisonedCounts('attackSuccessRate', predicted, labels, target);
  return hit / eligible;
}

/**
 * Robust accuracy (as in BackdoorBench): on triggered samples whose true label differs from the
 * target, the fraction still classified as their TRUE label, RA = Σ [ŷᵢ = yᵢ] / #{i : yᵢ ≠ tᵢ}.
 * RA + ASR ≤ 1; a repaired model should raise RA back towards the clean accuracy.
 *
 * @param predicted - predicted class of each triggered sample.
 * @param labels - true (pre-trigger) class of each sample.
 * @param target - the target class (all-to-one) or one per sample (all-to-all).
 * @example
 * ```ts
 * import { robustAccuracy } from 'robust-agg';
 *
 * console.log(robustAccuracy([0, 1, 0, 0, 4], [0, 1, 2, 0, 4], 0)); // 0.666… = 2/3 (samples 1 and 4)
 * ```
 */
export function robustAccuracy(predicted: LabelLike, labels: LabelLike, target: BackdoorTarget): number {
  const [eligible, , kept] = poisonedCounts('robustAccuracy', predicted, labels, target);
  return kept / eligible;
}

/** Clean accuracy and attack success rate of one model, both in [0, 1]. */
export interface BackdoorScores {
  /** Clean accuracy, see {@link accuracy}. */
  readonly acc: number;
  /** Attack success rate, see {@link attackSuccessRate}. */
  readonly asr: number;
}

/**
 * Defense effectiveness rating (Wu et al., BackdoorBench, NeurIPS 2022 Datasets & Benchmarks):
 * DER = [max(0, ΔASR) − max(0, ΔACC) + 1] / 2 with ΔASR = ASR_before − ASR_after and
 * ΔACC = ACC_before − ACC_after (all in [0, 1]), so DER ∈ [0, 1]; 0.5 means no change, 1 means the
 * backdoor is fully removed (ASR 1 → 0) at no cost in clean accuracy.
 *
 * @param before - scores of the backdoored model.
 * @param after - scores of the repaired model.
 * @example
 * ```ts
 * import { defenseEffectivenessRating } from 'robust-agg';
 *
 * console.log(defenseEffectivenessRating({ acc: 0.9, asr: 1 }, { acc: 0.88, asr: 0.02 })); // (0.98 − 0.02 + 1)/2 = 0.98
 * ```
 */
export function defenseEffectivenessRating(before: BackdoorScores, after: BackdoorScores): number {
  const rule = 'defenseEffectivenessRating';
  const b = readScores(rule, 'before', before);
  const a = readScores(rule, 'after', after);
  const dAsr = b.asr - a.asr;
  const dAcc = b.acc - a.acc;
  return (Math.max(0, dAsr) - Math.max(0, dAcc) + 1) / 2;
}

/** Reads acc and asr once each (a getter cannot pass the check with one value and count with another). */
function readScores(rule: string, name: string, scores: BackdoorScores): BackdoorScores {
  if (scores === null || typeof scores !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be an object { acc, asr }, got ${scores === null ? 'null' : typeof scores}`);
  }
  const acc = scores.acc;
  const asr = scores.asr;
  if (!inUnit(acc) || !inUnit(asr)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name}.acc and ${name}.asr must be numbers in [0, 1]`);
  }
  return { acc, asr };
}

function inUnit(x: number): boolean {
  return typeof x === 'number' && x >= 0 && x <= 1;
}

/**
 * The predicted class of each row of a row-major N×C score matrix (logits or probabilities):
 * ŷᵢ = argmax_c scores[i·C + c], the lowest index on ties.
 *
 * @param scores - N·C values.
 * @param classes - C, the number of classes.
 * @example
 * ```ts
 * import { argmaxRows } from 'robust-agg';
 *
 * console.log(argmaxRows(Float32Array.of(0.1, 0.9, 0.7, 0.3), 2)); // Int32Array [1, 0]
 * ```
 */
export function argmaxRows(scores: ArrayLike<number>, classes: number): Int32Array {
  const rule = 'argmaxRows';
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: classes must be an integer ≥ 1, got ${String(classes)}`);
  }
  if (scores == null || scores.length % classes !== 0) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: ${scores?.length} scores is not a multiple of ${classes} classes`);
  }
  const n = scores.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = scores[i * classes];
    for (let c = 1; c < classes; c++) {
      const v = scores[i * classes + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}
