// The WebGPU backend's state, without any shader: backend.ts reads it to accept
// setKernelBackend('webgpu'), so a bundle of rules that never touch the GPU stays small.
import type { GpuDevice } from './types.js';

/** What `initWebGPU` found, and whether `setKernelBackend('webgpu')` selected it. @internal */
export const webgpuState = {
  device: null as GpuDevice | null,
  /** True between `setKernelBackend('webgpu')` and the next call with another backend. */
  selected: false,
  /** Bumped by every init and release: pipelines compiled for an older device are not reused. */
  generation: 0,
};
