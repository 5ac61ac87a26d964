// The WebGPU backend from Node. Node has no navigator.gpu; the `webgpu` package (Dawn) provides
// one where it finds an adapter, and then the WGSL kernels run here against the CPU kernels as in
// the browser test. On machines without a GPU Dawn finds none (Debian 12's lavapipe lacks the
// shaderUniform*ArrayDynamicIndexing features Dawn requires) and those tests are skipped with the
// reason printed. The CPU fallback of the gpu… rules and the backend switch are tested always.
import { afterAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { RobustAggError } from '../../src/index.js';
import { dataSets, runWebGPUCases } from '../browser/webgpu-cases.js';
import { compareWebGPU } from '../browser/webgpu-compare.js';

async function dawn(): Promise<{ gpu: lib.GpuLike | null; reason: string }> {
  try {
    const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => lib.GpuLike };
    const gpu = mod.create([]);
    const adapter = await gpu.requestAdapter();
    if (adapter === null) {
      return {
        gpu: null,
        reason:
          "the webgpu package (Dawn) found no adapter: no GPU here, and Dawn rejects Debian 12's lavapipe (it lacks shaderUniform*ArrayDynamicIndexing)",
      };
    }
    return { gpu, reason: '' };
  } catch (e) {
    return { gpu: null, reason: `the webgpu package did not load: ${(e as Error).message}` };
  }
}

const found = await dawn();
if (found.gpu === null) console.log(`webgpu-node: WGSL kernels not run in Node: ${found.reason}`);

afterAll(() => {
  lib.releaseWebGPU();
  lib.setKernelBackend('auto');
});

describe('the webgpu backend switch and the CPU fallback (always run)', () => {
  it("setKernelBackend('webgpu') needs a device", () => {
    lib.releaseWebGPU();
    expect(() => lib.setKernelBackend('webgpu')).toThrow(RobustAggError);
    expect(lib.getKernelBackend()).toBe('auto');
  });

  it('initWebGPU resolves to null without navigator.gpu or an adapter, and checks its options', async () => {
    expect(await lib.initWebGPU()).toBeNull();
    expect(await lib.initWebGPU({ gpu: { requestAdapter: async () => null } })).toBeNull();
    expect(lib.webgpuInfo()).toBeNull();
    await expect(lib.initWebGPU({ adapter: 1 } as never)).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(lib.initWebGPU({ powerPreference: 'fast' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('without the webgpu backend the gpu… rules return the CPU rules’ results and decisions, bit for bit', async () => {
    const set = dataSets(lib).random;
    const pairs: Array<[Promise<lib.GpuAggregation<lib.Decision, unknown>>, lib.Aggregation]> = [
      [lib.gpuMean(set.rows), lib.meanWithDecision(set.rows)],
      [lib.gpuCoordinateMedian(set.rows), lib.coordinateMedianWithDecision(set.rows)],
      [lib.gpuTrimmedMean(set.rows, { f: 3 }), lib.trimmedMeanWithDecision(set.rows, { f: 3 })],
      [lib.gpuMeamed(set.rows, { f: 3 }), lib.meamedWithDecision(set.rows, { f: 3 })],
      [lib.gpuKrum(set.rows, { f: 3 }), lib.krumWithDecision(set.rows, { f: 3 })],
      [lib.gpuMultiKrum(set.rows, { f: 3 }), lib.multiKrumWithDecision(set.rows, { f: 3 })],
      [lib.gpuGeometricMedian(set.rows), lib.geometricMedianWithDecision(set.rows)],
      [lib.gpuBulyan(set.rows, { f: 5 }), lib.bulyanWithDecision(set.rows, { f: 5 })],
    ];
    for (const [gpu, cpu] of pairs) {
      const got = await gpu;
      expect(got.aggregate).toEqual(cpu.aggregate);
      expect(got.decision).toEqual(cpu.decision);
    }
  });

  it('without the webgpu backend gpuNnm returns nnm’s rows, bit for bit', async () => {
    const set = dataSets(lib).random;
    expect(await lib.gpuNnm(set.rows, { f: 3 })).toEqual(lib.nnm(set.rows, { f: 3 }));
  });

  it('options and client-count errors are the CPU rules’ own', async () => {
    const rows = [Float32Array.of(1), Float32Array.of(2)];
    await expect(lib.gpuKrum(rows, { f: 1 })).rejects.toThrow('krum needs n ≥ 2f+3, got n=2, f=1');
    await expect(lib.gpuMean(rows, { bogus: 1 } as never)).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(lib.gpuGram(rows, { centre: 'mean' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(lib.gpuRowNorms([Float32Array.of(1, NaN)])).rejects.toMatchObject({ code: 'NON_FINITE_UPDATE' });
  });

  it('GPU-resident updates need a device', async () => {
    const fake = { buffer: { size: 16, usage: 0x80 }, n: 2, d: 2 } as unknown as lib.GpuUpdates;
    await expect(lib.gpuKrum(fake, { f: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('the CPU fallback of the kernels: Gram, norms, cosine distances', async () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 5)];
    expect(Array.from(await lib.gpuGram(rows, { centre: null }))).toEqual([5, 13, 13, 34]);
    expect(Array.from(await lib.gpuRowNorms([Float32Array.of(3, 4)]))).toEqual([5]);
    expect(Array.from(await lib.gpuCosineDistances([Float32Array.of(1, 0), Float32Array.of(0, 2)]))).toEqual([0, 1, 1, 0]);
  });
});

describe.runIf(found.gpu !== null)('WGSL kernels in Node through the webgpu package', () => {
  it('every rule and kernel matches the CPU kernels (as in the browser test)', async () => {
    const node = await runWebGPUCases(lib);
    const info = await lib.initWebGPU({ gpu: found.gpu as lib.GpuLike });
    console.log(`webgpu-node: adapter ${JSON.stringify(info)}`);
    lib.setKernelBackend('webgpu');
    const gpu = await runWebGPUCases(lib);
    lib.releaseWebGPU();
    expect(compareWebGPU(dataSets(lib), node, gpu)).toEqual([]);
  }, 120_000);
});
