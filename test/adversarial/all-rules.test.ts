// Every exported rule of robust-agg, on the default backend ('auto': the WebAssembly kernels at
// n·d ≥ 2¹⁶), against hostile clients mixed with NaN/±Infinity ones (issue 14): the output is
// finite (or the call throws a RobustAggError — never another error), the inputs are unchanged,
// the non-finite clients are reported as dropped. A registry guard fails when a new rule is
// exported without being added here, so the red-team sweep cannot silently miss one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ra from '../../src/index.js';
import type { Aggregation, Decision } from '../../src/index.js';
import {
  buildCase,
  caseArb,
  expectFinite,
  expectUnchanged,
  robustOrNull,
  RUNS,
  snapshot,
  type CaseSpec,
} from './hostile-data.js';

/** A rule bound to options valid for n clients with f declared Byzantine and a seed. */
type Bound = (rows: Float32Array[], f: number, seed: number, d: number) => Aggregation<Decision> | Float32Array | Float32Array[];

/** Largest f each rule's requirement allows for n clients. */
const fFor = {
  half: (n: number) => Math.floor((n - 1) / 2), // n ≥ 2f+1
  krum: (n: number) => Math.max(0, Math.floor((n - 3) / 2)), // n ≥ 2f+3
  bulyan: (n: number) => Math.max(0, Math.floor((n - 3) / 4)), // n ≥ 4f+3
  any: (n: number) => n - 1, // n ≥ f+1
};

const RULES: Record<string, { bound: Bound; fMax: (n: number) => number; minN?: number }> = {
  mean: { bound: (u) => ra.meanWithDecision(u), fMax: fFor.any },
  coordinateMedian: { bound: (u) => ra.coordinateMedianWithDecision(u), fMax: fFor.half },
  trimmedMean: { bound: (u, f) => ra.trimmedMeanWithDecision(u, { f }), fMax: fFor.half },
  meamed: { bound: (u, f) => ra.meamedWithDecision(u, { f }), fMax: fFor.half },
  geometricMedian: { bound: (u) => ra.geometricMedianWithDecision(u), fMax: fFor.half },
  krum: { bound: (u, f) => ra.krumWithDecision(u, { f }), fMax: fFor.krum, minN: 3 },
  multiKrum: { bound: (u, f) => ra.multiKrumWithDecision(u, { f }), fMax: fFor.krum, minN: 3 },
  krumLp: { bound: (u, f) => ra.krumLpWithDecision(u, { f, p: 1 }), fMax: fFor.krum, minN: 3 },
  bulyan: { bound: (u, f) => ra.bulyanWithDecision(u, { f }), fMax: fFor.bulyan, minN: 3 },
  bulyanVariant: {
    bound: (u, f, seed) =>
      ra.bulyanVariantWithDecision(u, {
        f,
        selection: (['krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const)[Math.abs(seed) % 4],
        aggregation: (['meamed', 'krum', 'geometricMedian', 'coordinateMedian', 'mean'] as const)[Math.abs(seed >> 2) % 5],
      }),
    fMax: fFor.bulyan,
    minN: 3,
  },
  centeredClipping: { bound: (u) => ra.centeredClippingWithDecision(u, { tau: 1 }), fMax: fFor.any },
  signMajority: { bound: (u) => ra.signMajorityWithDecision(u), fMax: fFor.any },
  fltrust: { bound: (u, _f, _s, d) => ra.fltrustWithDecision(u, { serverUpdate: new Float32Array(d).fill(0.5) }), fMax: fFor.any },
  mda: { bound: (u, f) => ra.mdaWithDecision(u, { f: Math.min(f, 4) }), fMax: fFor.half },
  smea: { bound: (u, f) => ra.smeaWithDecision(u, { f: Math.min(f, 3) }), fMax: fFor.half },
  lasa: { bound: (u, _f, seed) => ra.lasaWithDecision(u, { sparsity: (Math.abs(seed) % 10) / 10 }), fMax: fFor.any },
  crfl: { bound: (u, _f, seed) => ra.crflWithDecision(u, { clipNorm: 1, sigma: 0.01, seed }), fMax: fFor.any },
  auror: { bound: (u) => ra.aurorWithDecision(u, { threshold: 1e-3 }), fMax: fFor.any },
  normClippingDp: { bound: (u, _f, seed) => ra.normClippingDpWithDecision(u, { maxNorm: 1, sigma: 0.01, seed }), fMax: fFor.any },
  monna: { bound: (u, f, _s, d) => ra.monnaWithDecision(u, { f, trusted: new Float32Array(d) }), fMax: fFor.half },
  flame: { bound: (u, _f, seed) => ra.flameWithDecision(u, { seed }), fMax: fFor.any },
  foolsGold: { bound: (u) => ra.foolsGoldWithDecision(u), fMax: fFor.any },
  dnc: { bound: (u, f, seed) => ra.dncWithDecision(u, { f, seed }), fMax: fFor.half },
  caf: { bound: (u, f) => ra.cafWithDecision(u, { f }), fMax: fFor.half },
  signGuard: { bound: (u, _f, seed) => ra.signGuardWithDecision(u, { seed }), fMax: fFor.any },
  clippedClustering: { bound: (u) => ra.clippedClusteringWithDecision(u), fMax: fFor.any },
  mixTailor: { bound: (u, f, seed) => ra.mixTailorWithDecision(u, { f, seed }), fMax: fFor.bulyan, minN: 3 },
  nnm: { bound: (u, f) => ra.nnm(u, { f }), fMax: fFor.any },
  bucketing: { bound: (u, _f, seed) => ra.bucketing(u, { bucketSize: 2, seed }), fMax: fFor.any },
  clipping: { bound: (u) => ra.clipping(u, { tau: 1 }), fMax: fFor.any },
  arc: { bound: (u, f) => ra.arc(u, { f }), fMax: fFor.any },
  pipeline: { bound: (u, f) => ra.pipeline((x) => ra.nnm(x, { f }), (x) => ra.coordinateMedian(x))(u), fMax: fFor.half },
  cosineDistances: { bound: (u) => Float32Array.from(ra.cosineDistances(u)), fMax: fFor.any },
  // A first round (no state yet): the coordinate median of the finite clients.
  flDetector: { bound: (u, _f, seed, d) => ra.flDetectorWithDecision(u, { globalModel: new Float32Array(d), seed }), fMax: fFor.half },
};

/** Exports that aggregate updates or transform them (the registry must name each one). */
const NOT_RULES = new Set([
  // kernels, core helpers, randomness, layouts, metrics, optimizers, attacks: tested elsewhere
  'MDA_DEFAULT_MAX_SUBSETS', 'RobustAggError', 'createLayout', 'createRng', 'gaussianVector', 'getKernelBackend',
  'getKernelThreads', 'initKernels', 'kernelStatus', 'layoutSize', 'randomPermutation', 'releaseKernelResources',
  'resolveRng', 'setKernelBackend', 'setKernelThreads', 'validateUpdates', 'mixTailorPool', 'resolveMixTailorPool',
  'enableRelaxedSimd', // kernel switch; its Gram module is compared with the default one in test/browser/
  'hdbscan',
  'crflCertifiedRadius',
  'flDetectorStateFromJSON', 'flDetectorStateToJSON',
  // asynchronous GPU twins of the rules: equal to the CPU rules (bits and decisions) on hostile data
  // in test/browser/webgpu.test.ts, and their CPU fallback in test/kernels/webgpu-node.test.ts
  'initWebGPU', 'releaseWebGPU', 'webgpuInfo', 'uploadUpdates', 'gpuBulyan', 'gpuCoordinateMedian',
  'gpuCosineDistances', 'gpuGeometricMedian', 'gpuGram', 'gpuKrum', 'gpuMean', 'gpuMeamed', 'gpuMultiKrum',
  'gpuNnm', 'gpuRowNorms', 'gpuTrimmedMean', 'gpuFlame', 'gpuCenteredClipping', 'gpuBucketing',
  // the rules by name, off the main thread and in rounds: equal to the one-shot calls on hostile data
  // in test/server/
  'createAggregator', 'listAggregators', 'aggregateAsync', 'closeAggregationWorkers', 'createRound',
  'PRECOMPUTED_RULES',
]);

describe('every exported rule against hostile and non-finite clients (default backend)', () => {
  it('the registry names every exported rule', () => {
    const attacksAndOthers = /^(accuracy|argmaxRows|attackSuccessRate|defenseEffectivenessRating|robustAccuracy|initMlp|mlp\w*|sgd|minibatch|saga\w*|svrg|looplessSvrg|sarah|serverStep|trainRobust|adaptive\w*|alie\w*|epsilonReverse|reverse|fang\w*|gaussian|ipm|labelFlip|maxValue|mimic|min(Max|Sum)\w*|modelReplacement|noise|nonFinite|normalQuantile|optimal\w*|signFlip|stampTrigger|zeroGradient)$/;
    const missing = Object.keys(ra)
      .filter((k) => typeof (ra as Record<string, unknown>)[k] === 'function' || /^[A-Z_]+$/.test(k))
      .map((k) => k.replace(/WithDecision$/, ''))
      .filter((k) => !(k in RULES) && !NOT_RULES.has(k) && !attacksAndOthers.test(k) && !/^[A-Z_]+$/.test(k));
    expect([...new Set(missing)]).toEqual([]);
  });

  it.each(Object.keys(RULES))('%s: finite or RobustAggError, inputs unchanged, non-finite clients dropped', (name) => {
    const { bound, fMax, minN = 1 } = RULES[name];
    let answered = 0;
    fc.assert(
      fc.property(
        caseArb({ n: [Math.max(minN, 2), 14], maxAttackers: (n) => Math.max(0, fMax(n)) }),
        fc.constantFrom(NaN, Infinity, -Infinity),
        fc.boolean(),
        (spec: CaseSpec, bad, withBad) => {
          const c = buildCase(spec);
          // One attacker (if any) sends a non-finite value instead, when asked.
          const rows = c.rows.map((x) => x);
          const poisoned = withBad && c.attackerIdx.length > 0 ? c.attackerIdx[0] : -1;
          if (poisoned >= 0) {
            rows[poisoned] = Float32Array.from(rows[poisoned]);
            rows[poisoned][Math.abs(spec.seed) % c.d] = bad;
          }
          const f = Math.min(Math.max(spec.b, 0), Math.max(0, fMax(c.n)));
          const before = snapshot(rows);
          const out = robustOrNull(() => bound(rows, f, spec.seed, c.d), name);
          expectUnchanged(rows, before, name);
          if (out === null) return;
          answered++;
          if (Array.isArray(out)) out.forEach((y, i) => expectFinite(y, `${name} row ${i}`));
          else if (out instanceof Float32Array) expectFinite(out, name);
          else {
            expectFinite(out.aggregate, name);
            if (poisoned >= 0) expect(out.decision.dropped, `${name} dropped`).toContain(poisoned);
          }
        },
      ),
      RUNS(12),
    );
    expect(answered, `${name} refused every case`).toBeGreaterThan(0);
  });
});

/** Each rule with options valid for the 12 × 4100 rows below (f = 2). */
const RAW: Record<string, [(u: unknown, o: unknown) => unknown, Record<string, unknown> | undefined]> = {
  mean: [ra.mean as never, {}],
  coordinateMedian: [ra.coordinateMedian as never, {}],
  trimmedMean: [ra.trimmedMean as never, { f: 2 }],
  meamed: [ra.meamed as never, { f: 2 }],
  geometricMedian: [ra.geometricMedian as never, {}],
  krum: [ra.krum as never, { f: 2 }],
  multiKrum: [ra.multiKrum as never, { f: 2 }],
  krumLp: [ra.krumLp as never, { f: 2, p: 3 }],
  bulyan: [ra.bulyan as never, { f: 2 }],
  bulyanVariant: [ra.bulyanVariant as never, { f: 2, selection: 'mean' }],
  centeredClipping: [ra.centeredClipping as never, { tau: 1 }],
  signMajority: [ra.signMajority as never, {}],
  fltrust: [ra.fltrust as never, { serverUpdate: new Float32Array(4100).fill(1) }],
  mda: [ra.mda as never, { f: 2 }],
  smea: [ra.smea as never, { f: 2 }],
  lasa: [ra.lasa as never, {}],
  crfl: [ra.crfl as never, { clipNorm: 1, sigma: 0.01, seed: 1 }],
  auror: [ra.auror as never, { threshold: 0.5 }],
  normClippingDp: [ra.normClippingDp as never, { maxNorm: 1, sigma: 0.01, seed: 1 }],
  monna: [ra.monna as never, { f: 2, trustedIndex: 3 }],
  flame: [ra.flame as never, { seed: 1 }],
  foolsGold: [ra.foolsGold as never, {}],
  dnc: [ra.dnc as never, { f: 2, seed: 1 }],
  caf: [ra.caf as never, { f: 2 }],
  signGuard: [ra.signGuard as never, { seed: 1 }],
  clippedClustering: [ra.clippedClustering as never, {}],
  mixTailor: [ra.mixTailor as never, { f: 2, seed: 1 }],
  nnm: [ra.nnm as never, { f: 2 }],
  bucketing: [ra.bucketing as never, { seed: 1 }],
  clipping: [ra.clipping as never, { tau: 1 }],
  arc: [ra.arc as never, { f: 2 }],
};

describe('every exported rule refuses malformed calls with a RobustAggError (issue 14, item 13)', () => {
  const rows = buildCase({
    n: 12, d: 4100, b: 2, honestKind: 'gaussian', scaleExp: 0, centre: 1, spread: 1, sparsity: 0.6, honestDuplicate: false,
    attacks: ['blinder', 'flip'], collude: false, magnitudeExp: 0.5, stride: 1, offset: 0, signPattern: 0, base: 0,
    placement: 'first', seed: 12,
  }).rows;

  it.each(Object.keys(RAW))('%s: options null, an unknown option, a single Float32Array, rows from another realm', async (name) => {
    const [rule, options] = RAW[name];
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        if (e instanceof ra.RobustAggError) return e.code;
        throw new Error(`${name} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
      return 'no error';
    };
    expect(code(() => rule(rows, null)), `${name}(updates, null)`).toBe('INVALID_OPTION');
    expect(code(() => rule(rows, { ...options, tolerence: 1 })), `${name} with a misspelt option`).toBe('UNKNOWN_OPTION');
    let message = '';
    try {
      rule(rows[0], options);
    } catch (e) {
      expect(e).toBeInstanceOf(ra.RobustAggError);
      message = (e as Error).message;
    }
    expect(message, `${name}(single Float32Array)`).not.toBe('');
    expect(message).not.toMatch(/got none/);
    // Float32Arrays made in another realm (node:vm) are Float32Arrays.
    const vm = await import('node:vm');
    const foreign = rows.map((x) => {
      const y = vm.runInNewContext(`new Float32Array(${x.length})`) as Float32Array;
      y.set(x);
      return y;
    });
    const local = rule(rows, options);
    const remote = rule(foreign, options);
    expect(JSON.stringify(Array.isArray(remote) ? remote.map((r) => Array.from(r as Float32Array)) : Array.from(remote as Float32Array))).toBe(
      JSON.stringify(Array.isArray(local) ? local.map((r) => Array.from(r as Float32Array)) : Array.from(local as Float32Array)),
    );
  });
});
