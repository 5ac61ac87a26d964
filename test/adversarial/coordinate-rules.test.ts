// Red-team properties of the coordinate-wise rules (issue 14): hostile clients at any magnitude,
// stride and position, tie-heavy honest data, both kernel backends.
//
// Guarantees asserted, per coordinate k, with b attackers among n clients (lo_k, hi_k: the honest
// minimum and maximum, w_k = hi_k − lo_k):
// - coordinateMedian, b < n/2: lo_k ≤ out_k ≤ hi_k exactly (both middle order statistics are
//   bracketed by honest values).
// - trimmedMean, n ≥ 2f+1, b ≤ f: lo_k ≤ out_k ≤ hi_k (each kept value is bracketed by honest ones).
// - meamed, n ≥ 2f+1, b ≤ f: lo_k − w_k ≤ out_k ≤ hi_k + w_k. The median lies in [lo_k, hi_k] and
//   the n − f kept values lie within r of it, r ≤ the farthest honest value from the median ≤ w_k
//   (there are at least n − f honest values). Not inside [lo_k, hi_k] in general: honest
//   {0, 0, 0, 10}, attacker −10, f = 1 keeps −10 (a boundary tie goes to the smaller value).
// - bulyan / bulyanVariant(·, 'meamed'), n ≥ 4f+3, b ≤ f: the same widened box (at most f attackers
//   among the θ = n − 2f selected, β = θ − 2f kept around a median bracketed by honest values).
// - bulyanVariant(·, 'coordinateMedian'): [lo_k, hi_k] (≤ f attackers among θ ≥ 2f+3 selected).
// - signMajority: where every honest client has the same strict sign s and h > b, out_k = s.
// And: every output finite, inputs unchanged, 'js' and 'wasm' kernels equal bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bulyanVariantWithDecision,
  bulyanWithDecision,
  coordinateMedian,
  meamed,
  signMajority,
  trimmedMeanWithDecision,
  type BulyanSelectionRule,
} from '../../src/index.js';
import {
  buildCase,
  caseArb,
  expectFinite,
  expectInBox,
  expectSameBits,
  expectUnchanged,
  honestStats,
  onBackends,
  RUNS,
  snapshot,
  type CaseSpec,
  type HostileCase,
} from './hostile-data.js';
import { bulyanOrderExact, exactDistances, recursiveOrderExact } from './oracle.js';

/** A declared f in [b, fMax], drawn from the case's seed. */
function declaredF(spec: CaseSpec, fMax: number): number {
  return spec.b + (Math.abs(spec.seed) % (fMax - spec.b + 1));
}

/** Two float32 ulps of the honest magnitude at k (sums of kept values round). */
function ulpSlack(c: HostileCase, lo: Float64Array, hi: Float64Array, ulps = 2): (k: number) => number {
  return (k) => ulps * 2 ** -23 * Math.max(Math.abs(lo[k]), Math.abs(hi[k])) + 2 ** -149;
}

/** Runs the rule on both backends; checks finiteness, no mutation and identical bits. */
function bothBitExact(c: HostileCase, name: string, rule: (rows: Float32Array[]) => Float32Array): Float32Array {
  const before = snapshot(c.rows);
  const { js, wasm } = onBackends(() => rule(c.rows));
  expectUnchanged(c.rows, before, name);
  expectFinite(js, `${name} (js)`);
  expectFinite(wasm, `${name} (wasm)`);
  expectSameBits(wasm, js, `${name}: wasm vs js`);
  return js;
}

describe('coordinateMedian under hostile clients', () => {
  it('stays inside the honest range per coordinate (b < n/2) and is bit-identical on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 33], maxAttackers: (n) => Math.ceil(n / 2) - 1 }), (spec) => {
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        const { js, wasm } = onBackends(() => coordinateMedian(c.rows));
        for (const [out, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          expectFinite(out, `coordinateMedian (${backend})`);
          expectInBox(out, s.lo, s.hi, () => 0, `coordinateMedian (${backend})`);
        }
        expectSameBits(wasm, js, 'coordinateMedian: wasm vs js');
      }),
      RUNS(25),
    );
  });

  it('gives the same bits for ±0 on both backends (issue 14, item 12)', () => {
    // Every column holds only zeros of both signs: the median is a zero, the same one on both.
    const rows = Array.from({ length: 16 }, (_, i) =>
      Float32Array.from({ length: 4099 }, (_, k) => ((i * 7 + k) % 3 === 0 ? -0 : 0)),
    );
    const { js, wasm } = onBackends(() => coordinateMedian(rows));
    expectSameBits(wasm, js, 'coordinateMedian of ±0: wasm vs js');
  });
});

describe('trimmedMean under hostile clients', () => {
  it('stays inside the honest range per coordinate (n ≥ 2f+1, b ≤ f), both backends bit for bit', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 33], maxAttackers: (n) => Math.floor((n - 1) / 2) }), fc.boolean(), (spec, useBeta) => {
        const c = buildCase(spec);
        const fMax = Math.floor((c.n - 1) / 2);
        const f = declaredF(spec, fMax);
        // beta = f/n + ε gives ⌊βn⌋ = f.
        const options = useBeta ? { beta: Math.min(0.4999, (f + 0.5) / c.n) } : { f };
        const s = honestStats(c.honest);
        const out = bothBitExact(c, 'trimmedMean', (rows) => trimmedMeanWithDecision(rows, options).aggregate);
        expect(trimmedMeanWithDecision(c.rows, options).decision.trimmed).toBeGreaterThanOrEqual(spec.b);
        expectInBox(out, s.lo, s.hi, ulpSlack(c, s.lo, s.hi), 'trimmedMean');
      }),
      RUNS(25),
    );
  });
});

describe('meamed under hostile clients', () => {
  it('stays within the honest range widened by its width (n ≥ 2f+1, b ≤ f), both backends bit for bit', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 33], maxAttackers: (n) => Math.floor((n - 1) / 2) }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const out = bothBitExact(c, 'meamed', (rows) => meamed(rows, { f }));
        const lo = s.lo.map((v, k) => v - (s.hi[k] - v));
        const hi = s.hi.map((v, k) => v + (v - s.lo[k]));
        expectInBox(out, lo, hi, ulpSlack(c, lo, hi), 'meamed');
      }),
      RUNS(25),
    );
  });
});

describe('bulyan under hostile clients', () => {
  it('stays within the widened honest box (n ≥ 4f+3, b ≤ f), same selection and bits on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [7, 31], maxAttackers: (n) => Math.floor((n - 3) / 4) }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 3) / 4));
        const s = honestStats(c.honest);
        const before = snapshot(c.rows);
        const { js, wasm } = onBackends(() => bulyanWithDecision(c.rows, { f }));
        expectUnchanged(c.rows, before, 'bulyan');
        // The same selection as the exact oracle on both backends, unless a round is a near-tie.
        const exact = bulyanOrderExact(exactDistances(c.rows), c.n, f, c.n - 2 * f);
        if (!exact.ambiguous) {
          expect(js.decision.selectionOrder, 'bulyan (js) vs exact selection').toEqual(exact.order);
          expect(wasm.decision.selectionOrder, 'bulyan (wasm) vs exact selection').toEqual(exact.order);
          expectSameBits(wasm.aggregate, js.aggregate, 'bulyan: wasm vs js');
        }
        const lo = s.lo.map((v, k) => v - (s.hi[k] - v));
        const hi = s.hi.map((v, k) => v + (v - s.lo[k]));
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          expectFinite(r.aggregate, `bulyan (${backend})`);
          expectInBox(r.aggregate, lo, hi, ulpSlack(c, lo, hi), `bulyan (${backend})`);
        }
      }),
      RUNS(20),
    );
  });

  it('equals the plain kernels bit for bit on sparse and quantized updates at n=63, f=15, d=2048 (issue 14, item 3)', () => {
    for (const honestKind of ['sparse', 'quantized'] as const) {
      const c = buildCase({
        n: 63, d: 2048, b: 0, honestKind, scaleExp: 0, centre: 0, spread: 1, sparsity: 0.6,
        honestDuplicate: false, attacks: ['mimic'], collude: false, magnitudeExp: 0, stride: 1, offset: 0,
        signPattern: 0, base: 0, placement: 'last', seed: 14,
      });
      const plain = onBackends(() => bulyanWithDecision(c.rows, { f: 15 }));
      expect(plain.wasm.decision.selected).toEqual(plain.js.decision.selected);
      expectSameBits(plain.wasm.aggregate, plain.js.aggregate, `bulyan on ${honestKind}: wasm vs js`);
      const variant = onBackends(() => bulyanVariantWithDecision(c.rows, { f: 15, selection: 'mean' }));
      expect(variant.wasm.decision.selected).toEqual(variant.js.decision.selected);
      expectSameBits(variant.wasm.aggregate, variant.js.aggregate, `bulyanVariant(mean, meamed) on ${honestKind}: wasm vs js`);
    }
  });
});

describe('bulyanVariant with a coordinate-wise aggregation under hostile clients', () => {
  const selections: BulyanSelectionRule[] = ['krum', 'geometricMedian', 'coordinateMedian', 'mean'];
  it('meamed: widened honest box; coordinateMedian: honest box; same selection and bits on both backends', () => {
    fc.assert(
      fc.property(
        caseArb({ n: [7, 23], maxAttackers: (n) => Math.floor((n - 3) / 4) }),
        fc.constantFrom(...selections),
        fc.constantFrom('meamed' as const, 'coordinateMedian' as const),
        (spec, selection, aggregation) => {
          const c = buildCase(spec);
          const f = declaredF(spec, Math.floor((c.n - 3) / 4));
          const s = honestStats(c.honest);
          const { js, wasm } = onBackends(() => bulyanVariantWithDecision(c.rows, { f, selection, aggregation }));
          const name = `bulyanVariant(${selection}, ${aggregation})`;
          // Same selection as the exact oracle (krum, mean and coordinateMedian selections; the
          // geometric median's is only bounded) unless a round is a near-tie; then the same bits.
          const theta = c.n - 2 * f;
          const exact =
            selection === 'krum'
              ? bulyanOrderExact(exactDistances(c.rows), c.n, f, theta)
              : selection === 'geometricMedian'
                ? null
                : recursiveOrderExact(c.rows, selection, theta);
          if (exact !== null && !exact.ambiguous) {
            expect(js.decision.selectionOrder, `${name} (js) vs exact selection`).toEqual(exact.order);
            expect(wasm.decision.selectionOrder, `${name} (wasm) vs exact selection`).toEqual(exact.order);
          }
          if (exact === null ? wasm.decision.selectionOrder.join() === js.decision.selectionOrder.join() : !exact.ambiguous) {
            expectSameBits(wasm.aggregate, js.aggregate, `${name}: wasm vs js`);
          }
          const widen = aggregation === 'meamed' ? 1 : 0;
          const lo = s.lo.map((v, k) => v - widen * (s.hi[k] - v));
          const hi = s.hi.map((v, k) => v + widen * (v - s.lo[k]));
          for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
            expectFinite(r.aggregate, `${name} (${backend})`);
            expectInBox(r.aggregate, lo, hi, widen ? ulpSlack(c, lo, hi) : () => 0, `${name} (${backend})`);
          }
        },
      ),
      RUNS(20),
    );
  });
});

describe('signMajority under hostile clients', () => {
  it('follows a unanimous honest sign wherever honest clients outnumber attackers; output in {−1, 0, 1}', () => {
    fc.assert(
      fc.property(caseArb({ n: [2, 33], maxAttackers: (n) => Math.ceil(n / 2) - 1 }), (spec) => {
        const c = buildCase(spec);
        const { js, wasm } = onBackends(() => signMajority(c.rows));
        expectSameBits(wasm, js, 'signMajority: wasm vs js');
        const h = c.honest.length;
        for (let k = 0; k < c.d; k++) {
          if (js[k] !== -1 && js[k] !== 0 && js[k] !== 1) throw new Error(`signMajority: coordinate ${k} is ${js[k]}`);
          let positive = 0;
          let negative = 0;
          for (const x of c.honest) {
            if (x[k] > 0) positive++;
            else if (x[k] < 0) negative++;
          }
          const unanimous = positive === h ? 1 : negative === h ? -1 : 0;
          if (unanimous !== 0 && h > spec.b && js[k] !== unanimous) {
            throw new Error(`signMajority: coordinate ${k} is ${js[k]}, but all ${h} honest clients vote ${unanimous} against ${spec.b} attackers`);
          }
        }
      }),
      RUNS(20),
    );
  });
});
