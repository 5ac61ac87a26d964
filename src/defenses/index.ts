/**
 * robust-agg/defenses: model-level backdoor defenses on TF.js `LayersModel`s — Fine-Pruning, RNP
 * and CLP — with `evaluateBackdoor` to measure them. Needs the optional peers
 * `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers` (4.x) and a backend.
 *
 * @module robust-agg/defenses
 * @packageDocumentation
 */
export {
  finePruning,
  type FinePruningOptions,
  type FinePruningReport,
  type FinePruningStep,
} from './fine-pruning.js';
export { rnp, type RnpChannel, type RnpOptions, type RnpReport, type RnpSweepStep } from './rnp.js';
export { clp, type ClpLayerReport, type ClpOptions, type ClpReport } from './clp.js';
export {
  evaluateBackdoor,
  type BackdoorEvaluation,
  type BackdoorEvaluationData,
} from './evaluate.js';
export type { BatchAugment, DefenseResult, EpochLog, LabeledData, ModelProbe } from './model-utils.js';
export { randomCropFlip } from './model-utils.js';
export { registerWasmConvGradients } from './wasm-kernels.js';
