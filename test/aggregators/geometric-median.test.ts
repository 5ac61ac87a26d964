import { afterEach, describe, expect, it } from 'vitest';
import { geometricMedian, geometricMedianWithDecision } from '../../src/aggregators/geometric-median.js';
import fc from 'fast-check';
import { RobustAggError } from '../../src/core/errors.js';
import { getKernelBackend, setKernelBackend } from '../../src/kernels/backend.js';
import { createRng } from '../../src/core/random.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

/** The Byrd-SAGA notebook's loop, written directly on the vectors (the formulation we replace). */
function directWeiszfeld(rows: Float32Array[], maxIter = 80, tol = 1e-5): Float64Array {
  const d = rows[0].length;
  let z = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) z[k] += r[k] / rows.length;
  for (let it = 0; it < maxIter; it++) {
    const next = new Float64Array(d);
    let total = 0;
    for (const r of rows) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (r[k] - z[k]) ** 2;
      const b = 1 / Math.max(Math.sqrt(s), 1e-12);
      total += b;
      for (let k = 0; k < d; k++) next[k] += b * r[k];
    }
    let move = 0;
    for (let k = 0; k < d; k++) {
      next[k] /= total;
      move += (next[k] - z[k]) ** 2;
    }
    z = next;
    if (Math.sqrt(move) <= tol) break;
  }
  return z;
}

describe('geometricMedian', () => {
  it('is the median in one dimension (hand-computed: median of 0,1,2,50,−3 is 1)', () => {
    const out = geometricMedian(rowsOf([[0], [1], [2], [50], [-3]]), { maxIterations: 1000, tolerance: 1e-9 });
    expect(out[0]).toBeCloseTo(1, 4);
  });

  it('is the centre of symmetric points (the mean, reached in one step)', () => {
    const { aggregate, decision } = geometricMedianWithDecision(rowsOf([[1, 0], [-1, 0], [0, 1], [0, -1]]));
    expect(Array.from(aggregate)).toEqual([0, 0]);
    expect(decision.converged).toBe(true);
    expect(decision.iterations).toBe(1);
  });

  it('satisfies the optimality condition Σ (z − xᵢ)/‖z − xᵢ‖ ≈ 0 with an outlier present', () => {
    const rows = [...gaussianRows(9, 3, 1), Float32Array.of(100, 100, 100)];
    const z = geometricMedian(rows, { maxIterations: 500, tolerance: 1e-7 });
    const grad = [0, 0, 0];
    for (const r of rows) {
      const dist = Math.hypot(z[0] - r[0], z[1] - r[1], z[2] - r[2]);
      for (let k = 0; k < 3; k++) grad[k] += (z[k] - r[k]) / dist;
    }
    expect(Math.hypot(...grad)).toBeLessThan(1e-3);
    expect(Math.hypot(z[0], z[1], z[2])).toBeLessThan(2); // the outlier barely moves it
  });

  it('equals the direct (notebook) Weiszfeld loop on random data', () => {
    const rows = [...gaussianRows(20, 50, 2), ...gaussianRows(5, 50, 3, 30)];
    const ours = geometricMedian(rows);
    const ref = directWeiszfeld(rows);
    for (let k = 0; k < 50; k++) expect(Math.abs(ours[k] - ref[k])).toBeLessThan(1e-4);
  });

  it('reports weights that reproduce the output and sum to 1', () => {
    const rows = gaussianRows(6, 4, 5);
    const { aggregate, decision } = geometricMedianWithDecision([...rows, Float32Array.of(NaN, 0, 0, 0)]);
    expect(decision.dropped).toEqual([6]);
    expect(decision.weights[6]).toBe(0);
    expect(decision.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let k = 0; k < 4; k++) {
      const s = rows.reduce((acc, r, i) => acc + decision.weights[i] * r[k], 0);
      expect(aggregate[k]).toBeCloseTo(s, 5);
    }
  });

  it('handles one client, identical clients and stops at maxIterations', () => {
    expect(Array.from(geometricMedian(rowsOf([[3, 4]])))).toEqual([3, 4]);
    expect(Array.from(geometricMedian(rowsOf([[2, 2], [2, 2], [2, 2]])))).toEqual([2, 2]);
    // A triangle: its geometric median (the Fermat point) is no client and the mean is the start.
    const triangle = rowsOf([[0, 0], [4, 0], [0, 3]]);
    const { decision } = geometricMedianWithDecision(triangle, { maxIterations: 2, tolerance: 0 });
    expect(decision).toMatchObject({ iterations: 2, converged: false });
  });

  it('with smoothing ν weights every client by 1/max(ν, distance)', () => {
    // ν larger than every distance: all weights equal, the output is the mean.
    const out = geometricMedian(rowsOf([[0], [1], [10]]), { nu: 1e6 });
    expect(out[0]).toBeCloseTo(11 / 3, 5);
  });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    return (e as RobustAggError).code;
  }
  return undefined;
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s);
}

describe('geometricMedian: a client on the estimate (Vardi–Zhang) and the start', () => {
  it('reaches a median that is a client exactly and stops (1-D, odd n)', () => {
    // Start: client 1 has Σ distances 55 < the mean's 80; there r = |−1 + 1 + 1 − 1| = 0 ≤ 1: optimal.
    const { aggregate, decision } = geometricMedianWithDecision(rowsOf([[0], [1], [2], [50], [-3]]));
    expect(aggregate[0]).toBe(1);
    expect(decision).toMatchObject({ converged: true, iterations: 0 });
  });

  it('stops when at least half the clients sit on the estimate', () => {
    const { aggregate, decision } = geometricMedianWithDecision(rowsOf([[0, 0], [100, 3], [0, 0], [-7, 1e6], [0, 0]]));
    expect(Array.from(aggregate)).toEqual([0, 0]);
    expect(decision).toMatchObject({ converged: true, iterations: 0 });
    expect(Array.from(decision.weights)).toEqual([1 / 3, 0, 1 / 3, 0, 1 / 3]);
  });

  it('leaves a client that is not optimal (Vardi–Zhang step) and converges to the median', () => {
    // (0,0), (10,0), (0,10), (100,100): the start is (0,0) (Σ distances 161.4 < the mean's 208.6),
    // where the three others pull with r = ‖(1,0) + (0,1) + (0.707,0.707)‖ = 2.41 > 1: not optimal.
    const rows = rowsOf([[0, 0], [10, 0], [0, 10], [100, 100]]);
    const { aggregate: z, decision } = geometricMedianWithDecision(rows, { maxIterations: 5000, tolerance: 1e-10 });
    expect(decision.iterations).toBeGreaterThan(0);
    const grad = [0, 0];
    for (const r of rows) {
      const dist = Math.hypot(z[0] - r[0], z[1] - r[1]);
      for (let k = 0; k < 2; k++) grad[k] += (z[k] - r[k]) / dist;
    }
    expect(Math.hypot(...grad)).toBeLessThan(1e-3);
  });
});

describe('geometricMedian: breakdown point ½ against huge finite clients', () => {
  const backend = getKernelBackend();
  afterEach(() => setKernelBackend(backend));

  // Regression (issue 14, item 2): distances were floored at 1e-12 × the largest one, so one client
  // at 1e30 among 10 moved the output to ≈ 1.1e17.
  it('one client at 1e30 among ten does not move the output away from the others', () => {
    const honest = gaussianRows(9, 4, 3);
    const out = geometricMedian([...honest, new Float32Array(4).fill(1e30)]);
    for (const v of out) expect(Math.abs(v)).toBeLessThan(3);
  });

  for (const kernels of ['js', 'wasm'] as const) {
    it(`stays within the honest diameter of the honest median for B up to 3.4e38 (${kernels} kernels)`, () => {
      setKernelBackend(kernels);
      fc.assert(
        fc.property(
          fc.record({
            n: fc.integer({ min: 3, max: 16 }),
            d: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 250, max: 600 })),
            hostileShare: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
            magnitude: fc.constantFrom(1e10, 1e30, 3.4e38),
            pattern: fc.constantFrom('all', 'stride', 'signs', 'one'),
            seed: fc.integer(),
          }),
          ({ n, d, hostileShare, magnitude, pattern, seed }) => {
            const rng = createRng(seed);
            const b = 1 + Math.floor(hostileShare * (Math.ceil(n / 2) - 1)); // 1 ≤ b < n/2
            const honest = gaussianRows(n - b, d, seed);
            const rows = [...honest];
            for (let j = 0; j < b; j++) {
              const x = new Float32Array(d);
              for (let k = 0; k < d; k++) {
                if (pattern === 'all') x[k] = magnitude;
                else if (pattern === 'stride') x[k] = k % 7 === 0 ? -magnitude : 0;
                else if (pattern === 'signs') x[k] = rng.next() < 0.5 ? magnitude : -magnitude;
                else x[k] = k === d - 1 ? magnitude : 0;
              }
              rows.splice(j === 0 ? 0 : rng.nextInt(rows.length + 1), 0, x); // the first one at row 0
            }
            setKernelBackend('js');
            const reference = geometricMedian(honest, { maxIterations: 2000, tolerance: 1e-9 });
            setKernelBackend(kernels);
            let diameter = 0;
            for (const p of honest) for (const q of honest) diameter = Math.max(diameter, distance(p, q));
            const out = geometricMedian(rows);
            for (const v of out) expect(Number.isFinite(v)).toBe(true);
            expect(distance(out, reference)).toBeLessThanOrEqual(diameter);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

describe('geometricMedian: options', () => {
  const rows = gaussianRows(5, 3, 1);

  it('rejects null options and unknown keys', () => {
    expect(codeOf(() => geometricMedian(rows, null as never))).toBe('INVALID_OPTION');
    expect(codeOf(() => geometricMedian(rows, { tol: 1e-3 } as never))).toBe('UNKNOWN_OPTION');
    expect(() => geometricMedian(rows, { tol: 1e-3 } as never)).toThrow(/unknown option 'tol'/);
  });

  it('reads each option once (a getter cannot pass validation with one value and run with another)', () => {
    let reads = 0;
    const options = {
      get maxIterations() {
        reads++;
        return reads === 1 ? 5 : -3;
      },
    };
    expect(() => geometricMedian(rows, options)).not.toThrow();
    expect(reads).toBe(1);
  });

  it('caps maxIterations at 10 000 and checks tolerance and ν', () => {
    expect(codeOf(() => geometricMedian(rows, { maxIterations: 1e12, tolerance: 0 }))).toBe('INVALID_OPTION');
    expect(() => geometricMedian(rows, { maxIterations: 10_001 })).toThrow(/maxIterations must be an integer in \[0, 10000\]/);
    expect(codeOf(() => geometricMedian(rows, { tolerance: -1 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => geometricMedian(rows, { tolerance: NaN }))).toBe('INVALID_OPTION');
    expect(codeOf(() => geometricMedian(rows, { nu: Infinity }))).toBe('INVALID_OPTION');
    const { decision } = geometricMedianWithDecision(rows, { maxIterations: 10_000, tolerance: 0 });
    expect(decision.iterations).toBeLessThanOrEqual(10_000);
  });
});

describe('geometricMedian: colluding clients that cancel in the mean', () => {
  afterEach(() => setKernelBackend('auto'));

  // Two Byzantine clients at ±B on one coordinate (and a shared shift c = 0 or B·1e-6 on another) leave
  // the mean at (honest mean)·(h/n) + 2c/n, but float64 cannot resolve the mean's distances from the
  // Gram matrix: before the fix its computed cost came out ~0, Weiszfeld started there and stopped
  // at once (0 iterations, output ≈ 0.67 instead of ≈ 1 for B ≥ 1e15 on 'js', 1e8 on 'wasm').
  it('stays within the honest spread for B from 1e8 to 3.4e38, on both kernels', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.constantFrom(1e8, 1e15, 1e20, 1e30, 3.4e38),
        fc.integer({ min: 0, max: 9 }),
        fc.constantFrom('js' as const, 'wasm' as const),
        fc.constantFrom(0, 1e-6),
        (h, B, coordinate, backend, shiftRatio) => {
          setKernelBackend(backend);
          const d = 10;
          const honest = Array.from({ length: h }, (_, i) => Float32Array.from({ length: d }, (_, k) => 1 + 0.01 * Math.sin(3 * i + k)));
          const shift = (coordinate + 1) % d;
          const plus = new Float32Array(d);
          const minus = new Float32Array(d);
          plus[coordinate] = B;
          minus[coordinate] = -B;
          plus[shift] = minus[shift] = B * shiftRatio;
          const out = geometricMedian([plus, ...honest, minus]);
          for (let k = 0; k < d; k++) {
            expect(out[k]).toBeGreaterThanOrEqual(0.98);
            expect(out[k]).toBeLessThanOrEqual(1.02);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describeAggregatorProperties({
  name: 'geometricMedian',
  run: (u) => geometricMedian(u),
  minClients: 1,
  tolerance: 1e-3,
});

describeOptionReading({
  name: 'geometricMedian',
  call: (u, o) => geometricMedian(u, o as never),
  updates: rowsOf([[0], [1], [2]]),
  valid: { maxIterations: 10 },
  getter: { key: 'tolerance', values: [1e-3, -1] },
});
