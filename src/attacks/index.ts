// Public exports of src/attacks/ (named re-exports only).
export type { Attack, AttackOptions } from './common.js';
export { gaussian, type GaussianAttackOptions } from './gaussian.js';
export { signFlip, maxValue, type SignFlipOptions } from './sign-flip.js';
export { zeroGradient, type ZeroGradientOptions } from './zero-gradient.js';
export { labelFlip, type LabelArray, type LabelFlipOptions } from './label-flip.js';
export { modelReplacement, type ModelReplacementOptions } from './model-replacement.js';
export {
  stampTrigger,
  type ImageArray,
  type StampTriggerOptions,
  type TriggerCorner,
} from './stamp-trigger.js';
export { ipm, type IpmOptions } from './ipm.js';
export { alie, alieZ, type AlieOptions, type AlieVariant } from './alie.js';
export { normalQuantile } from './normal-quantile.js';
export {
  minMax,
  minSum,
  minMaxGamma,
  minSumGamma,
  type MinMaxDirection,
  type MinMaxOptions,
} from './min-max.js';
export { mimic, type MimicOptions } from './mimic.js';
export { nonFinite, type NonFiniteOptions, type NonFiniteValue } from './non-finite.js';
export { reverse, epsilonReverse, type EpsilonReverseOptions } from './epsilon-reverse.js';
export { noise, type NoiseOptions } from './noise.js';
export { fang, fangLambda, type FangOptions, type FangTarget } from './fang.js';
export type { ScaledAttack, ScaledAttackName, ScaledAttackOptions } from './scaled.js';
export {
  optimal,
  optimalSearch,
  type LineSearchContraction,
  type LineSearchOptions,
  type OptimalSearchOptions,
  type OptimalSearchResult,
} from './optimal.js';
export { adaptive, adaptiveSearch, type AdaptiveOptions, type AdaptiveSearchResult } from './adaptive.js';
