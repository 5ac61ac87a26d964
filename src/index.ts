/**
 * robust-agg: Byzantine-robust aggregation, attacks and defenses for federated and distributed
 * learning, as pure functions over client updates given as flat `Float32Array`s. No runtime
 * dependencies; the fast kernels (WebAssembly SIMD, worker threads in Node) load by themselves.
 *
 * @module robust-agg
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './aggregators/index.js';
export * from './pre-aggregators/index.js';
export * from './clustering/index.js';
export * from './attacks/index.js';
export * from './optimizers/index.js';
export * from './metrics/index.js';
export * from './kernels/backend.js';
export { enableRelaxedSimd } from './kernels/relaxed-simd.js';
export * from './kernels/webgpu/index.js';
export * from './server/index.js';
