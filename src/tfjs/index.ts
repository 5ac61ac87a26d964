/**
 * robust-agg/tfjs: adapters between TensorFlow.js and robust-agg's `Float32Array` updates.
 * Needs the optional peers `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers` (4.x) and a
 * backend (e.g. `@tensorflow/tfjs-backend-cpu`, `-wasm` or `-webgpu`).
 *
 * @module robust-agg/tfjs
 * @packageDocumentation
 */
export { updatesFromTensor } from './updates-from-tensor.js';
export { assignWeights, flattenWeights, type FlatWeights } from './weights.js';
export {
  gradientOracle,
  type GradientOracleOptions,
  type TensorData,
  type TensorGradientOracle,
  type TensorLoss,
} from './gradient-oracle.js';
export {
  clp,
  evaluateBackdoor,
  finePruning,
  rnp,
  type BackdoorEvaluation,
  type BackdoorEvaluationData,
  type ClpLayerReport,
  type ClpOptions,
  type ClpReport,
  type DefenseResult,
  type EpochLog,
  type FinePruningOptions,
  type FinePruningReport,
  type FinePruningStep,
  type LabeledData,
  type ModelProbe,
  type RnpChannel,
  type RnpOptions,
  type RnpReport,
  type RnpSweepStep,
  registerWasmConvGradients,
} from '../defenses/index.js';
export * from './tensor-index.js';
