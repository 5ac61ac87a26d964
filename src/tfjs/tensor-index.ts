// The tensor (GPU) path of robust-agg/tfjs, re-exported by src/tfjs/index.ts.
export {
  MAX_TENSOR_GRAM_CLIENTS,
  tensorColumnMedian,
  tensorColumnTrimmedMean,
  tensorCombine,
  tensorGram,
} from './tensor-kernels.js';
export {
  tensorCoordinateMedian,
  tensorGeometricMedian,
  tensorGeometricMedianWithDecision,
  tensorKrum,
  tensorKrumWithDecision,
  tensorMean,
  tensorMeanWithDecision,
  tensorMultiKrum,
  tensorMultiKrumWithDecision,
  tensorTrimmedMean,
  tensorTrimmedMeanWithDecision,
  type TensorAggregation,
  type TensorOptions,
} from './tensor-aggregators.js';
