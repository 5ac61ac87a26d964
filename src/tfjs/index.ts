/**
 * robust-agg/tfjs: adapters between TensorFlow.js and robust-agg's `Float32Array` updates
 * (weights ↔ vectors, gradient oracles), the main rules on tensors, and `evaluateBackdoor`. Needs
 * the optional peer `@tensorflow/tfjs-core` (4.x) and a backend (e.g.
 * `@tensorflow/tfjs-backend-cpu`, `-wasm` or `-webgpu`); functions that take a `LayersModel` use
 * only its methods, so `@tensorflow/tfjs-layers` is needed for its types only. The pruning
 * defenses are in `robust-agg/defenses`.
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
// The model-level defenses (finePruning, rnp, clp) need @tensorflow/tfjs-layers at run time: they
// live in their own entry, robust-agg/defenses, so that tensor rules bundle without it.
// evaluateBackdoor only calls model.predict and is in both.
export {
  evaluateBackdoor,
  type BackdoorEvaluation,
  type BackdoorEvaluationData,
} from '../defenses/evaluate.js';
export type { LabeledData } from '../defenses/model-utils.js';
export * from './tensor-index.js';
export {
  deepSight,
  deepSightWithDecision,
  type DeepSightDecision,
  type DeepSightOptions,
  type DeepSightPredict,
} from './deep-sight.js';
