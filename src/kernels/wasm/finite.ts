import { kernelConfig, pickWorkspace } from './config.js';
import { combineKernels } from './instance.js';
import { allFiniteWasm } from './workspace.js';

/**
 * Whether every value of x is finite, on the WebAssembly kernel (rows copied in blocks, f32x4
 * `v − v` sums); null when the plain check should run instead (backend 'js', below the size
 * threshold, or no WebAssembly). `isFiniteVector` in src/kernels/finite.ts dispatches to it.
 *
 * @internal
 */
export function isFiniteVectorWasm(x: Float32Array): boolean | null {
  if (x.length === 0) return null;
  const ws = pickWorkspace(combineKernels, x.length, kernelConfig.minNormLength);
  return ws === null ? null : allFiniteWasm(ws, x);
}
