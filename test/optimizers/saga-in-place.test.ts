// The fast SAGA step of issue 16: sagaFactored writes its message in place (nextInto) and, with an
// oracle that announces supportRanges (mlpOracle), rewrites only those coordinates. The message
// must stay ∇f_j(x) − φ_j + φ̄, bit for bit what the all-coordinates path gives, and trainRobust
// must use the in-place path.
import { describe, expect, it } from 'vitest';
import { geometricMedian } from '../../src/aggregators/geometric-median.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import {
  initMlp,
  mlpOracle,
  saga,
  sagaFactored,
  serverStep,
  trainRobust,
  type FactoredGradientOracle,
  type GradientEstimator,
  type MlpShape,
} from '../../src/optimizers/index.js';
import { maxAbsDiff } from './least-squares.js';

const shape: MlpShape = { inputSize: 40, hidden: 6, classes: 4 };

function data(count: number, seed: number) {
  const rng = createRng(seed);
  const features = new Float32Array(count * shape.inputSize);
  // Pixel-like: ~70 % exact zeros, runs of lit pixels (adjacent rows merge into one range).
  for (let i = 0; i < features.length; i++) features[i] = rng.next() < 0.7 ? 0 : rng.next();
  const labels = Int32Array.from({ length: count }, () => rng.nextInt(shape.classes));
  return { features, labels };
}

/** The same oracle without supportRanges: sagaFactored then sums all d coordinates. */
function withoutRanges(o: FactoredGradientOracle): FactoredGradientOracle {
  return {
    sampleCount: o.sampleCount,
    codeSize: o.codeSize,
    gradient: o.gradient,
    code: o.code.bind(o),
    addGradient: o.addGradient.bind(o),
  };
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('sagaFactored in place', () => {
  const oracle = mlpOracle(data(30, 1), shape);
  const x0 = initMlp(shape, createRng(2));

  it('mlpOracle announces ranges that cover every coordinate its expansion writes', () => {
    const ranges = new Int32Array(2 * (oracle.supportRangeLimit as number));
    const d = x0.length;
    const code = new Float32Array(oracle.codeSize);
    let violations = 0;
    let covered = 0;
    for (let j = 0; j < oracle.sampleCount; j++) {
      oracle.code(x0, j, code);
      const out = new Float64Array(d);
      oracle.addGradient(j, code, 1, out);
      const inside = new Uint8Array(d);
      const n = (oracle.supportRanges as NonNullable<typeof oracle.supportRanges>)(j, ranges);
      for (let r = 0; r < n; r++) for (let k = ranges[2 * r]; k < ranges[2 * r + 1]; k++) inside[k]++;
      for (let k = 0; k < d; k++) if (inside[k] > 1 || (out[k] !== 0 && inside[k] !== 1)) violations++;
      covered += n;
    }
    expect(violations).toBe(0); // disjoint, and every written coordinate is inside
    expect(covered).toBeGreaterThan(oracle.sampleCount); // lit-pixel rows and the last layers
  });

  it('gives the same bits with and without ranges, fused or not, through next and nextInto', () => {
    const ranged = sagaFactored(oracle, { seed: 5 }); // mlpOracle's one-pass update of the ranges
    const full = sagaFactored(withoutRanges(oracle), { seed: 5 });
    const rangedOnly: FactoredGradientOracle = {
      ...withoutRanges(oracle),
      supportRanges: oracle.supportRanges?.bind(oracle),
      supportRangeLimit: oracle.supportRangeLimit,
    };
    const generic = sagaFactored(rangedOnly, { seed: 5 }); // ranges with four addGradient calls
    const twin = sagaFactored(oracle, { seed: 5 });
    const buffer = new Float32Array(x0.length).fill(Number.NaN); // stale contents must not leak
    let x = Float32Array.from(x0);
    for (let t = 0; t < 150; t++) {
      const a = ranged.next(x);
      const b = full.next(x);
      expect(bits(generic.next(x))).toEqual(bits(b));
      (twin.nextInto as NonNullable<GradientEstimator['nextInto']>)(x, buffer);
      expect(bits(a)).toEqual(bits(b));
      expect(bits(buffer)).toEqual(bits(a));
      x = serverStep(x, a, 0.3);
    }
    expect(ranged.gradientEvaluations).toBe(full.gradientEvaluations);
  });

  it("gives the same bits fused or not with init 'zeros' (rows not yet drawn have no old term)", () => {
    // 30 samples, 120 draws: the early steps draw rows for the first time (had = false), the later
    // ones mostly redraw them (had = true); both branches of the fused update must match.
    const fusedEst = sagaFactored(oracle, { seed: 9, init: 'zeros' });
    const full = sagaFactored(withoutRanges(oracle), { seed: 9, init: 'zeros' });
    let x = Float32Array.from(x0);
    for (let t = 0; t < 120; t++) {
      const a = fusedEst.next(x);
      expect(bits(a)).toEqual(bits(full.next(x)));
      x = serverStep(x, a, 0.3);
    }
    expect(fusedEst.gradientEvaluations).toBe(120);
  });

  it('still sends ∇f_j(x) − φ_j + φ̄ (the dense SAGA table, same draws)', () => {
    const dense = saga(oracle, { seed: 8 });
    const compact = sagaFactored(oracle, { seed: 8 });
    let x = Float32Array.from(x0);
    for (let t = 0; t < 120; t++) {
      const a = dense.next(x);
      const b = compact.next(x);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6 * (1 + Math.max(...a.map(Math.abs))));
      x = serverStep(x, a, 0.3);
    }
  });

  it('a spread copy of mlpOracle with its own addGradient does not keep the fused update', () => {
    let calls = 0;
    const copy: FactoredGradientOracle = {
      ...oracle,
      addGradient: (j, code, scale, out) => {
        calls++;
        oracle.addGradient(j, code, scale, out);
      },
    };
    const a = sagaFactored(copy, { seed: 4 });
    const b = sagaFactored(oracle, { seed: 4 });
    const x = Float32Array.from(x0);
    a.next(x); // the start-up pass
    b.next(x);
    calls = 0;
    expect(bits(a.next(x))).toEqual(bits(b.next(x)));
    expect(calls).toBe(4); // fresh and old, into the message and into φ̄
  });

  it('rejects ranges outside [0, d] and a wrong count', () => {
    const bad = (n: number, a: number, b: number): FactoredGradientOracle => ({
      ...withoutRanges(oracle),
      supportRangeLimit: 2,
      supportRanges(_j, out) {
        out[0] = a;
        out[1] = b;
        return n;
      },
    });
    expect(() => sagaFactored(bad(1, 0, x0.length + 1), { seed: 1 }).next(x0)).toThrow(RobustAggError);
    expect(() => sagaFactored(bad(1, 5, 4), { seed: 1 }).next(x0)).toThrow(/supportRanges/);
    expect(() => sagaFactored(bad(3, 0, 1), { seed: 1 }).next(x0)).toThrow(/supportRanges/);
    expect(() => sagaFactored({ ...withoutRanges(oracle), supportRanges: (() => 1) as never }, { seed: 1 })).toThrow(/supportRangeLimit/);
    expect(() => sagaFactored(oracle, { seed: 1 }).nextInto?.(x0, new Float32Array(3))).toThrow(RobustAggError);
  });
});

describe('trainRobust writes messages in place', () => {
  const workers = [1, 2, 3, 4].map((s) => mlpOracle(data(12, 10 + s), shape));
  const init = initMlp(shape, createRng(4));
  const run = (hideNextInto: boolean, calls: { next: number; nextInto: number }) =>
    trainRobust({
      workers,
      byzantineCount: 2,
      attack: (h, { f }) => Array.from({ length: f }, () => h[0].map((v) => -3 * v)),
      aggregator: (m) => geometricMedian(m),
      estimator: (w, { rng }) => {
        const e = sagaFactored(w, { rng });
        const next = (x: Float32Array) => {
          calls.next++;
          return e.next(x);
        };
        if (hideNextInto) return { name: e.name, next, gradientEvaluations: 0 };
        return {
          name: e.name,
          next,
          nextInto: (x: Float32Array, out: Float32Array) => {
            calls.nextInto++;
            (e.nextInto as NonNullable<GradientEstimator['nextInto']>)(x, out);
          },
          gradientEvaluations: 0,
        };
      },
      lr: 0.2,
      steps: 40,
      init,
      seed: 3,
    });

  it('calls nextInto (never next) when the estimator has it, with the same path as next', () => {
    const inPlace = { next: 0, nextInto: 0 };
    const copying = { next: 0, nextInto: 0 };
    const a = run(false, inPlace);
    const b = run(true, copying);
    expect(inPlace).toEqual({ next: 0, nextInto: 4 * 40 });
    expect(copying).toEqual({ next: 4 * 40, nextInto: 0 });
    expect(bits(a.params)).toEqual(bits(b.params));
    expect(a.path.variance).toEqual(b.path.variance);
  });
});
