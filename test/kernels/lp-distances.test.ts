// The ℓp distance kernels: the WebAssembly f64x2 kernel gives the plain kernel's bits (same
// operations, same order) for p = 1, ∞ and integer p, on random, tie-heavy and hostile rows; the
// plain kernel matches a float64 computation on each pair alone; and krumLp with p = 2 is krum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { krumWithDecision } from '../../src/aggregators/krum.js';
import { krumLpWithDecision } from '../../src/aggregators/krum-lp.js';
import { setKernelBackend } from '../../src/kernels/backend.js';
import { lpDistances, lpDistancesPlain } from '../../src/kernels/lp-distances.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, HUGE, hugeRow, onBothBackends } from '../helpers/hostile.js';

/** ‖a − b‖_p of two rows alone, in float64 with the largest |difference| factored out. */
function pairDistance(a: Float32Array, b: Float32Array, p: number): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  if (p === Infinity || m === 0) return m;
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (Math.abs(a[k] - b[k]) / m) ** p;
  return m * s ** (1 / p);
}

const SUBNORMAL = 1.4e-45;

/** Rows with hostile clients mixed in: ±3.4e38, blinders, subnormals, zeros, copies, quantized values. */
function mixedRows(n: number, d: number, seed: number, kinds: readonly string[]): Float32Array[] {
  const rows = gaussianRows(n, d, seed, 1, 0.1);
  kinds.slice(0, n).forEach((kind, i) => {
    if (kind === 'huge') rows[i] = hugeRow(d, i % 2 === 0 ? 1 : -1);
    if (kind === 'blinder') rows[i] = blinderRow(d);
    if (kind === 'subnormal') rows[i] = Float32Array.from({ length: d }, (_, k) => (k % 3 === 0 ? SUBNORMAL * (k % 7) : 0));
    if (kind === 'zero') rows[i] = new Float32Array(d);
    if (kind === 'copy' && i > 0) rows[i] = Float32Array.from(rows[i - 1]);
    if (kind === 'quantized') rows[i] = Float32Array.from({ length: d }, (_, k) => ((k * (i + 3)) % 5) - 2);
    if (kind === 'max') rows[i] = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? HUGE : -HUGE));
  });
  return rows;
}

const kindsArb = fc.array(fc.constantFrom('none', 'huge', 'blinder', 'subnormal', 'zero', 'copy', 'quantized', 'max'), {
  maxLength: 10,
});
const pArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 16, 64, Infinity);

function withBackend<T>(backend: 'js' | 'wasm', run: () => T): T {
  try {
    setKernelBackend(backend);
    return run();
  } finally {
    setKernelBackend('auto');
  }
}

describe('lpDistances', () => {
  it('WebAssembly kernel = plain kernel bit for bit (p = 1, ∞, integer p), random and hostile rows, any d', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 1300 }),
        fc.integer(),
        kindsArb,
        pArb,
        (n, d, seed, kinds, p) => {
          const rows = mixedRows(n, d, seed, kinds);
          const plain = lpDistancesPlain(rows, p);
          const fast = withBackend('wasm', () => lpDistances(rows, p));
          expect(Array.from(fast)).toEqual(Array.from(plain));
          for (const v of fast) expect(Number.isFinite(v)).toBe(true);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('matches each pair computed alone (float64), with no overflow or underflow to 0 on hostile rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 1, max: 1100 }), fc.integer(), kindsArb, pArb, (n, d, seed, kinds, p) => {
        const rows = mixedRows(n, d, seed, kinds);
        onBothBackends(() => {
          const dist = lpDistances(rows, p);
          for (let i = 0; i < n; i++) {
            expect(dist[i * n + i]).toBe(0);
            for (let j = 0; j < i; j++) {
              const want = pairDistance(rows[i], rows[j], p);
              const got = dist[i * n + j];
              expect(dist[j * n + i]).toBe(got);
              expect(Number.isFinite(got)).toBe(true);
              if (want === 0) expect(got).toBe(0);
              else expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
            }
          }
        });
      }),
      { numRuns: 60 },
    );
  });

  it('hand-computed: (0, 0), (3, 4), (−1, 0)', () => {
    const rows = [Float32Array.of(0, 0), Float32Array.of(3, 4), Float32Array.of(-1, 0)];
    onBothBackends(() => {
      expect(lpDistances(rows, 1)[1 * 3 + 0]).toBe(7);
      expect(lpDistances(rows, Infinity)[1 * 3 + 0]).toBe(4);
      expect(lpDistances(rows, 2)[1 * 3 + 0]).toBeCloseTo(5, 14);
      expect(lpDistances(rows, 1)[2 * 3 + 1]).toBe(8); // |3 + 1| + |4|
      expect(lpDistances(rows, Infinity)[2 * 3 + 1]).toBe(4);
    });
  });

  it('the largest float32 values: ‖3.4e38·(1, −1, …) − (−3.4e38)·(1, −1, …)‖ stays finite for every p', () => {
    const d = 1031;
    const a = Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? HUGE : -HUGE));
    const b = Float32Array.from(a, (v) => -v);
    for (const p of [1, 2, 3, 16, Infinity]) {
      onBothBackends(() => {
        const got = lpDistances([a, b], p)[1];
        const want = 2 * HUGE * (p === Infinity ? 1 : d ** (1 / p));
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
      });
    }
  });
});

describe('krumLp', () => {
  it('p = 2 is krum: same client, same scores bit for bit, random and hostile rows, both backends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 12 }), fc.integer({ min: 1, max: 6000 }), fc.integer(), kindsArb, (n, d, seed, kinds) => {
        const rows = mixedRows(n, d, seed, kinds);
        if (kinds.includes('none')) rows[n - 1][0] = NaN; // a dropped client too
        const f = Math.floor((n - 3) / 2);
        onBothBackends(() => {
          const a = krumLpWithDecision(rows, { f, p: 2 });
          const b = krumWithDecision(rows, { f });
          expect(a.decision.selected).toEqual(b.decision.selected);
          expect(a.decision.dropped).toEqual(b.decision.dropped);
          expect(Array.from(a.decision.scores)).toEqual(Array.from(b.decision.scores));
          expect(Array.from(a.aggregate)).toEqual(Array.from(b.aggregate));
        });
      }),
      { numRuns: 40 },
    );
  });

  it('p ≠ 2 selects the same client on both backends, tie-heavy and hostile rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 11 }), fc.integer({ min: 1, max: 1500 }), fc.integer(), kindsArb, pArb, (n, d, seed, kinds, p) => {
        if (p === 2) return; // p = 2 is the Gram path (its own bound, tested above against krum)
        const rows = mixedRows(n, d, seed, kinds);
        const f = Math.floor((n - 3) / 2);
        const plain = withBackend('js', () => krumLpWithDecision(rows, { f, p }));
        const fast = withBackend('wasm', () => krumLpWithDecision(rows, { f, p }));
        expect(fast.decision.selected).toEqual(plain.decision.selected);
        expect(Array.from(fast.decision.scores)).toEqual(Array.from(plain.decision.scores));
      }),
      { numRuns: 60 },
    );
  });
});
