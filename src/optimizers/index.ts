// Public exports of src/optimizers/ (named re-exports only).
export type {
  EstimatorContext,
  EstimatorFactory,
  EstimatorState,
  FactoredGradientOracle,
  GradientEstimator,
  GradientOracle,
  WorkerOracle,
} from './types.js';
export { sgd, type SgdOptions } from './sgd.js';
export { minibatch, type MinibatchOptions } from './minibatch.js';
export { saga, type SagaInit, type SagaOptions, type SagaStorage } from './saga.js';
export { sagaFactored, type SagaFactoredOptions } from './saga-factored.js';
export { looplessSvrg, svrg, type LooplessSvrgOptions, type SvrgOptions } from './svrg.js';
export { sarah, type SarahOptions } from './sarah.js';
export { serverStep } from './server-step.js';
export {
  trainRobust,
  type Evaluation,
  type TrainingAttack,
  type TrainingAttackContext,
  type TrainingPath,
  type TrainingState,
  type TrainProgress,
  type TrainRobustOptions,
  type TrainRobustResult,
} from './train-robust.js';
export {
  initMlp,
  mlpEvaluator,
  mlpLayout,
  mlpOracle,
  type InitMlpOptions,
  type LabeledSet,
  type MlpInit,
  type MlpLoss,
  type MlpOptions,
  type MlpShape,
} from './mlp.js';
