// The WebGPU backend: WGSL kernels and the asynchronous rules on them (see docs/webgpu.md).
export { initWebGPU, releaseWebGPU, webgpuInfo, type InitWebGPUOptions, type WebGPUInfo } from './device.js';
export { MAX_GPU_SELECT_ROWS, uploadUpdates, type GpuUpdates, type GpuVector } from './kernels.js';
export {
  gpuBucketing,
  gpuBulyan,
  gpuCenteredClipping,
  gpuCoordinateMedian,
  gpuCosineDistances,
  gpuFlame,
  gpuGeometricMedian,
  gpuGram,
  gpuKrum,
  gpuMean,
  gpuMeamed,
  gpuMultiKrum,
  gpuNnm,
  gpuRowNorms,
  gpuTrimmedMean,
  type GpuAggregation,
  type GpuGramOptions,
  type GpuInput,
  type GpuOutput,
  type GpuRows,
} from './rules.js';
export type { GpuBufferLike, GpuDeviceLike, GpuLike } from './types.js';
