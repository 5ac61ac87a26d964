// Red-team check of the worker threads (issue 14): with hostile clients, the rules give the same
// bits whether the WebAssembly kernels run on one thread or split columns across workers (the
// chunks are cut by shape alone and reduced in chunk order). The thresholds are lowered so that
// the workers take part at the small sizes the property uses.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bulyanWithDecision,
  coordinateMedian,
  flameWithDecision,
  geometricMedian,
  initKernels,
  kernelStatus,
  krumWithDecision,
  meamed,
  releaseKernelResources,
  setKernelBackend,
  setKernelThreads,
  trimmedMean,
} from '../../src/index.js';
import { kernelConfig } from '../../src/kernels/wasm/config.js';
import { buildCase, caseArb, expectSameBits, RUNS } from './hostile-data.js';

const saved = { ...kernelConfig };
beforeAll(() => {
  kernelConfig.minParallelGram = 0;
  kernelConfig.minParallelSelect = 0;
});
afterAll(() => {
  Object.assign(kernelConfig, saved);
  setKernelBackend('auto');
  setKernelThreads('auto');
  releaseKernelResources();
});

describe('worker threads under hostile clients', () => {
  it('give the same bits and decisions as one thread', async () => {
    setKernelBackend('wasm');
    setKernelThreads(2);
    expect(await initKernels()).toBe(true);
    const chunksBefore = kernelStatus().workerChunks;
    await fc.assert(
      fc.asyncProperty(caseArb({ n: [7, 24], maxAttackers: (n) => Math.floor((n - 3) / 4) }), async (spec) => {
        const c = buildCase(spec);
        const f = Math.max(spec.b, Math.floor((c.n - 3) / 4));
        const runAll = () => {
          const k = krumWithDecision(c.rows, { f });
          const b = bulyanWithDecision(c.rows, { f });
          const fl = flameWithDecision(c.rows, { lambda: 0 });
          return {
            outputs: [coordinateMedian(c.rows), trimmedMean(c.rows, { f }), meamed(c.rows, { f }), geometricMedian(c.rows), k.aggregate, b.aggregate, fl.aggregate],
            decisions: JSON.stringify([k.decision.selected, Array.from(k.decision.scores), b.decision.selectionOrder, fl.decision.admitted, fl.decision.medianNorm]),
          };
        };
        setKernelThreads(1);
        const one = runAll();
        setKernelThreads(2);
        await initKernels();
        const two = runAll();
        expect(two.decisions).toBe(one.decisions);
        two.outputs.forEach((x, i) => expectSameBits(x, one.outputs[i], `output ${i}: 2 threads vs 1`));
      }),
      RUNS(8),
    );
    // Small shapes may fit one chunk, and the calling thread takes the chunks a worker has not
    // started yet (it does not wait), so on a loaded machine the workers can miss every chunk of
    // these small calls. One call with many chunks of real work makes sure they took part.
    const big = buildCase({ ...fc.sample(caseArb({ n: [24, 24], maxAttackers: () => 5 }), { numRuns: 1, seed: 7 })[0], d: 1 << 19 });
    setKernelThreads(1);
    const oneBig = coordinateMedian(big.rows);
    setKernelThreads(2);
    await initKernels();
    expectSameBits(coordinateMedian(big.rows), oneBig, 'a large median: 2 threads vs 1');
    expect(kernelStatus().workerChunks, 'the workers took part').toBeGreaterThan(chunksBefore);
  });
});
