// Options that make every registry rule run on n = 11 clients of length d (f = 1 where the rule
// declares Byzantine clients; every rule's requirement holds at n = 11, f = 1), shared by the
// registry, async and round tests.
import { listAggregators } from '../../src/server/registry.js';

/** One configuration per aggregator of the registry (and a pipeline and a named MixTailor pool). */
export function ruleCases(d: number): { name: string; options: Record<string, unknown> }[] {
  const vector = (seed: number): Float32Array => Float32Array.from({ length: d }, (_, j) => Math.sin(seed + j));
  const byName: Record<string, Record<string, unknown>> = {
    mean: {},
    coordinateMedian: {},
    trimmedMean: { f: 1 },
    meamed: { f: 1 },
    geometricMedian: {},
    krum: { f: 1 },
    multiKrum: { f: 1 },
    bulyan: { f: 1 },
    bulyanVariant: { f: 1, selection: 'geometricMedian', aggregation: 'coordinateMedian' },
    krumLp: { f: 1, p: 1 },
    centeredClipping: { tau: 0.5, center: vector(1) },
    signMajority: {},
    fltrust: { serverUpdate: vector(2) },
    mda: { f: 1 },
    monna: { f: 1, trustedIndex: 0 },
    flame: { seed: 5 },
    foolsGold: {},
    dnc: { f: 1, seed: 3 },
    caf: { f: 1 },
    signGuard: { seed: 4 },
    clippedClustering: {},
    mixTailor: { f: 1, seed: 9, pool: [{ name: 'krum', options: { f: 1 } }, 'coordinateMedian', 'geometricMedian'] },
    flDetector: { globalModel: vector(3), seed: 2 },
    smea: { f: 1 },
    lasa: {},
    crfl: { clipNorm: 10, sigma: 0.01, seed: 1 },
    normClippingDp: { maxNorm: 1, sigma: 0.01, seed: 2 },
    auror: { threshold: 0.1 },
    pipeline: { pre: [{ name: 'nnm', options: { f: 1 } }], aggregator: { name: 'krum', options: { f: 1 } } },
  };
  return listAggregators()
    .filter((info) => info.kind !== 'preAggregator')
    .map((info) => {
      const options = byName[info.name];
      if (options === undefined) throw new Error(`test/server/cases.ts: no options for ${info.name}: add it`);
      return { name: info.name, options };
    });
}

/** n rows of length d: honest ones around a common direction, then a few odd ones (all finite). */
export function roundRows(n: number, d: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: d }, (_, j) => {
      const honest = 1 + 0.3 * Math.sin(seed * 13 + i * 7.1 + j * 1.3);
      return i % 5 === 4 ? -3 * honest + (j % 3) : honest;
    }),
  );
}
