// gpuFlame, gpuCenteredClipping and gpuBucketing without a WebGPU device (their WGSL path runs in
// test/browser/webgpu.test.ts): the CPU fallback returns the CPU rules' results, decisions and
// errors and advances a caller's generator as they do; and the browser comparison for these rules
// (webgpu-compare.ts) is not vacuous: a changed admission, clip factor or aggregate is caught.
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { dataSets, globalOf, runWebGPUCases, type CaseResult } from '../browser/webgpu-cases.js';
import { compareWebGPU } from '../browser/webgpu-compare.js';

describe('the CPU fallback of gpuFlame, gpuCenteredClipping, gpuBucketing', () => {
  const sets = dataSets(lib);

  it('gpuFlame equals flameWithDecision bit for bit (noise, models, weights) and draws the same numbers', async () => {
    for (const name of ['random', 'hostile', 'small']) {
      const { rows } = sets[name];
      const d = rows[0].length;
      for (const options of [{ lambda: 0 }, { seed: 3 }, { seed: 4, global: globalOf(d), weights: rows.map((_, i) => 1 + (i % 3)) }]) {
        const got = await lib.gpuFlame(rows, options);
        const want = lib.flameWithDecision(rows, options);
        expect(Buffer.from(got.aggregate.buffer)).toEqual(Buffer.from(want.aggregate.buffer));
        expect(got.decision).toEqual(want.decision);
      }
      const a = lib.createRng(11);
      const b = lib.createRng(11);
      await lib.gpuFlame(rows, { rng: a });
      lib.flame(rows, { rng: b });
      expect(a.next()).toBe(b.next());
    }
  });

  it('gpuCenteredClipping equals centeredClippingWithDecision bit for bit', async () => {
    for (const name of ['random', 'hostile', 'one']) {
      const { rows } = sets[name];
      const d = rows[0].length;
      for (const options of [undefined, { tau: 0.5, iterations: 3, center: globalOf(d), weights: rows.map((_, i) => 2 + (i % 3)) }]) {
        const got = await lib.gpuCenteredClipping(rows, options);
        const want = lib.centeredClippingWithDecision(rows, options);
        expect(Buffer.from(got.aggregate.buffer)).toEqual(Buffer.from(want.aggregate.buffer));
        expect(got.decision).toEqual(want.decision);
      }
    }
  });

  it('gpuBucketing equals bucketing bit for bit and advances a generator as it does', async () => {
    const { rows } = sets.hostile;
    expect(await lib.gpuBucketing(rows, { bucketSize: 3, seed: 2 })).toEqual(lib.bucketing(rows, { bucketSize: 3, seed: 2 }));
    const a = lib.createRng(5);
    const b = lib.createRng(5);
    expect(await lib.gpuBucketing(rows, { rng: a })).toEqual(lib.bucketing(rows, { rng: b }));
    expect(a.next()).toBe(b.next());
  });

  it('errors are the CPU rules’ own', async () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(NaN, 0)];
    await expect(lib.gpuFlame(rows, { lambda: 2, seed: 1 })).rejects.toThrow(/flame: lambda/);
    await expect(lib.gpuFlame(rows, { lambda: 0, clusterOn: 'models' })).rejects.toThrow("flame: clusterOn 'models' needs the global model");
    await expect(lib.gpuFlame(rows, { lambda: 0, global: new Float32Array(3) })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(lib.gpuFlame(rows, { seed: 1, nonFinite: 'throw' })).rejects.toMatchObject({ code: 'NON_FINITE_UPDATE' });
    await expect(lib.gpuCenteredClipping(rows, { tau: 0 })).rejects.toThrow(/centeredClipping: tau/);
    await expect(lib.gpuCenteredClipping(rows, { iterations: 101 })).rejects.toThrow(/centeredClipping: iterations/);
    await expect(lib.gpuCenteredClipping(rows, { center: new Float32Array(1) })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(lib.gpuBucketing(rows, {} as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(lib.gpuBucketing(rows, { seed: 1, bucketSize: 0 })).rejects.toThrow(/bucketing: bucketSize/);
  });
});

describe('the browser comparison of these rules catches a wrong result', () => {
  it('a changed admission, clip factor, bucket median or clipped aggregate is reported', async () => {
    const sets = dataSets(lib);
    const node = await runWebGPUCases(lib, undefined, { random: sets.random, hostile: sets.hostile });
    const clean = compareWebGPU(sets, node, node);
    expect(clean).toEqual([]);
    const bad: Record<string, CaseResult> = structuredClone(node);
    const flame = bad['random/flame'].decision as Record<string, unknown>;
    bad['random/flame'] = { ...bad['random/flame'], decision: { ...flame, admitted: (flame.admitted as number[]).slice(1) } };
    const clip = bad['hostile/flameModels'].decision as Record<string, number[]>;
    bad['hostile/flameModels'] = { ...bad['hostile/flameModels'], decision: { ...clip, clipFactors: clip.clipFactors.map((c) => c * 1.01) } };
    const cc = bad['random/centeredClipping'];
    bad['random/centeredClipping'] = { ...cc, values: (cc.values as number[]).map((v, c) => (c === 5 ? v * 1.001 + 1e-3 : v)) };
    const bm = bad['hostile/bucketingThenMedian'];
    bad['hostile/bucketingThenMedian'] = { ...bm, values: (bm.values as number[]).map((v, c) => (c === 7 ? v + 0.01 : v)) };
    const found = compareWebGPU(sets, node, bad);
    for (const key of ['random/flame', 'hostile/flameModels', 'random/centeredClipping', 'hostile/bucketingThenMedian']) {
      expect(found.some((p) => p.startsWith(key)), key).toBe(true);
    }
  });
});
