// Bundled for the browser: sets up WebGPU on the page's own device (so the test can read
// GpuVector results back), selects the 'webgpu' backend and runs the WebGPU cases.
import * as lib from '../../src/index.js';
import { decodeSets, runWebGPUCases, type EncodedSets } from './webgpu-cases.js';

interface Buf {
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
interface Dev {
  createBuffer(d: { size: number; usage: number }): Buf;
  createCommandEncoder(): { copyBufferToBuffer(a: unknown, ao: number, b: unknown, bo: number, n: number): void; finish(): unknown };
  queue: { submit(c: unknown[]): void };
}

(globalThis as Record<string, unknown>).runWebGPU = async (property?: EncodedSets) => {
  interface Adapter {
    limits: Record<string, number>;
    info?: Record<string, unknown>;
    requestDevice(d: unknown): Promise<lib.GpuDeviceLike>;
  }
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<Adapter | null> } } }).navigator?.gpu;
  if (gpu === undefined) return { adapter: null, reason: 'navigator.gpu is undefined' };
  const adapter = await gpu.requestAdapter();
  if (adapter === null) return { adapter: null, reason: 'requestAdapter() resolved to null' };
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  const info = await lib.initWebGPU({ device });
  lib.setKernelBackend('webgpu');
  const dev = device as unknown as Dev;
  const readBack = async (v: lib.GpuVector): Promise<Float32Array> => {
    const staging = dev.createBuffer({ size: Math.max(16, v.length * 4), usage: 0x0001 | 0x0008 });
    const enc = dev.createCommandEncoder();
    enc.copyBufferToBuffer(v.buffer, 0, staging, 0, v.length * 4);
    dev.queue.submit([enc.finish()]);
    await staging.mapAsync(0x0001);
    const out = new Float32Array(staging.getMappedRange().slice(0, v.length * 4));
    staging.unmap();
    staging.destroy();
    return out;
  };
  const results = await runWebGPUCases(lib, readBack);
  const propertyResults = property === undefined ? undefined : await runWebGPUCases(lib, undefined, decodeSets(property));
  const backend = lib.getKernelBackend();
  // GPU-resident updates with another backend: read back, run on the CPU kernels, result uploaded.
  lib.setKernelBackend('auto');
  const rows = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v, v / 4, 7));
  const onGpu = lib.uploadUpdates(rows);
  const fallback = await lib.gpuKrum(onGpu, { f: 2 });
  const cpu = lib.krumWithDecision(rows, { f: 2 });
  const back = await readBack(fallback.aggregate);
  fallback.aggregate.buffer.destroy();
  onGpu.buffer.destroy();
  const fallbackMatches =
    Array.from(back).join() === Array.from(cpu.aggregate).join() && fallback.decision.selected.join() === cpu.decision.selected.join();
  lib.releaseWebGPU();
  const raw = (adapter.info ?? {}) as Record<string, unknown>;
  const described = { vendor: raw.vendor, architecture: raw.architecture, device: raw.device, description: raw.description };
  return { adapter: described, info, backend, results, propertyResults, fallbackMatches };
};
