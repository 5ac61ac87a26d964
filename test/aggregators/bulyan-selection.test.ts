import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulyanWithDecision } from '../../src/aggregators/bulyan.js';
import { bulyanVariantWithDecision } from '../../src/aggregators/bulyan-variants.js';
import { bulyanSelectionFast, bulyanSelectionPlain } from '../../src/aggregators/bulyan-selection.js';
import { krumScores } from '../../src/aggregators/krum-scores.js';
import { finiteClients, indicesOverInput, remainingByzantine } from '../../src/core/finite-clients.js';
import { createRng } from '../../src/core/random.js';
import { meanAroundMedianReducer, reduceColumns } from '../../src/kernels/column-select.js';
import { finiteClientsGram, gram, squaredDistancesFromGram } from '../../src/kernels/gram.js';
import { HUGE } from '../helpers/hostile.js';

/** Squared Euclidean distances in float64, summed coordinate by coordinate. */
function directDistances(rows: readonly Float32Array[]): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = 0; k < rows[i].length; k++) s += (rows[i][k] - rows[j][k]) ** 2;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** Every f the selection accepts on n clients (θ = n − 2f ≥ 1), and θ = n (every client ranked). */
function expectSameOnEveryF(dist: Float64Array, n: number): void {
  for (let f = 0; 2 * f < n; f++) {
    expect(bulyanSelectionFast(dist, n, f, n - 2 * f), `n=${n} f=${f}`).toEqual(bulyanSelectionPlain(dist, n, f, n - 2 * f));
  }
  expect(bulyanSelectionFast(dist, n, 0, n)).toEqual(bulyanSelectionPlain(dist, n, 0, n));
}

/** Values whose sums depend on the order they are added in (0.1 + 0.2 ≠ 0.3), to make near-ties. */
const ROUNDING = [0, 0.1, 0.2, 0.3, 0.7, 1, 1 / 3, 2 ** -60, 1e16, 1e16 + 2];

/** A client row of one kind: gaussian, on a small grid (ties), hostile magnitude, subnormal or zero. */
const rowKind = fc.constantFrom('gauss', 'grid', 'huge', '-huge', 'subnormal', 'zero', 'signedZero', 'mixed');

function makeRow(kind: string, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: d }, (_, k) => {
    switch (kind) {
      case 'gauss':
        return rng.gaussian();
      case 'grid':
        return rng.nextInt(3) - 1;
      case 'huge':
        return k % 2 === 0 ? HUGE : 1e38 * rng.gaussian();
      case '-huge':
        return -HUGE;
      case 'subnormal':
        return (rng.nextInt(5) - 2) * 1e-45;
      case 'zero':
        return 0;
      case 'signedZero':
        return rng.nextInt(2) === 0 ? -0 : 0;
      default:
        return [1e30, -1e-40, 0.1, -0, 3e38][rng.nextInt(5)];
    }
  });
}

/** n rows built from a few templates (so some rows are exact duplicates), in a shuffled order. */
const rowsArb = fc
  .record({
    n: fc.integer({ min: 3, max: 60 }),
    d: fc.integer({ min: 1, max: 6 }),
    kinds: fc.array(rowKind, { minLength: 1, maxLength: 6 }),
    duplicates: fc.integer({ min: 0, max: 3 }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map(({ n, d, kinds, duplicates, seed }) => {
    const rng = createRng(seed);
    const templates = Array.from({ length: duplicates + 1 }, (_, t) => makeRow(kinds[t % kinds.length], d, seed + 7 * t));
    return Array.from({ length: n }, (_, i) => {
      // Half the rows fresh, the rest copies of a template (identical rows tie at distance 0).
      if (rng.nextInt(2) === 0) return makeRow(kinds[rng.nextInt(kinds.length)], d, seed + 1000 + i);
      return Float32Array.from(templates[rng.nextInt(templates.length)]);
    });
  });

describe('bulyanSelectionFast equals the plain re-scoring bit for bit', () => {
  it('on Gram distances of random, duplicate and hostile rows, for every f', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const n = rows.length;
        const { g } = finiteClientsGram(rows, 'bulyan', 'drop', 'robust');
        expectSameOnEveryF(squaredDistancesFromGram(g, n), n);
        expectSameOnEveryF(directDistances(rows), n);
      }),
      { numRuns: 60 },
    );
  });

  it('on symmetric matrices of a few values whose sums round differently by order (massive near-ties)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 60 }),
        fc.integer({ min: 1, max: ROUNDING.length }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        (n, values, seed) => {
          const rng = createRng(seed);
          const dist = new Float64Array(n * n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < i; j++) {
              const v = ROUNDING[rng.nextInt(values)];
              dist[i * n + j] = v;
              dist[j * n + i] = v;
            }
          }
          expectSameOnEveryF(dist, n);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('on asymmetric matrices and on hostile magnitudes (1e77, subnormal doubles, −0)', () => {
    const pool = [0, -0, 5e-324, 2 ** -1074 * 3, 1e-300, 1e77, 4.6e77, 1e77 * (1 + 2 ** -52), 1, 1 + 2 ** -52];
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 40 }), fc.integer({ min: 0, max: 2 ** 30 }), (n, seed) => {
        const rng = createRng(seed);
        const dist = Float64Array.from({ length: n * n }, () => pool[rng.nextInt(pool.length)]);
        expectSameOnEveryF(dist, n);
      }),
      { numRuns: 40 },
    );
  });

  it('exercises the near-tie path: clients whose plain scores differ only by summation order', () => {
    // Every pair at 0.1, 0.2 or 0.3: many clients share the multiset of their k nearest, and the
    // plain scores of some of them differ in the last bit (quickselect leaves them in another
    // order). The fast selection must pick exactly as the plain one anyway.
    let orderDependent = 0;
    for (let seed = 0; seed < 40; seed++) {
      const n = 25;
      const rng = createRng(seed);
      const dist = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) {
          const v = [0.1, 0.2, 0.3][rng.nextInt(3)];
          dist[i * n + j] = v;
          dist[j * n + i] = v;
        }
      }
      const scores = krumScores(dist, n, n - 4);
      const real = (i: number): number => {
        const row = Array.from({ length: n }, (_, j) => dist[i * n + j]).filter((_, j) => j !== i);
        return Math.round(row.sort((a, b) => a - b).slice(0, n - 4).reduce((s, v) => s + v * 10, 0));
      };
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (real(i) === real(j) && scores[i] !== scores[j]) orderDependent++;
      expectSameOnEveryF(dist, n);
    }
    expect(orderDependent).toBeGreaterThan(0);
  });

  it('at n = 300 (d = 4, with duplicate rows) equals the plain selection', () => {
    const rng = createRng(300);
    const rows = Array.from({ length: 300 }, (_, i) =>
      i % 10 === 0 ? Float32Array.of(1, 1, 1, 1) : Float32Array.from({ length: 4 }, () => rng.gaussian()),
    );
    const dist = squaredDistancesFromGram(finiteClientsGram(rows, 'bulyan', 'drop', 'robust').g, 300);
    for (const f of [0, 1, 30, 74]) {
      expect(bulyanSelectionFast(dist, 300, f, 300 - 2 * f)).toEqual(bulyanSelectionPlain(dist, 300, f, 300 - 2 * f));
    }
  });

  it('falls back to the plain selection on distances it cannot bound (negative, NaN, near overflow)', () => {
    for (const bad of [-1, NaN, Infinity, 1e308]) {
      const n = 9;
      const rng = createRng(9);
      const dist = Float64Array.from({ length: n * n }, () => rng.nextInt(4));
      dist[3 * n + 5] = bad;
      dist[5 * n + 3] = bad;
      expect(bulyanSelectionFast(dist, n, 1, n - 2)).toEqual(bulyanSelectionPlain(dist, n, 1, n - 2));
    }
  });

  it('handles the smallest inputs (n = 1, 2, 3; f = 0)', () => {
    for (const n of [1, 2, 3]) {
      const dist = Float64Array.from({ length: n * n }, (_, t) => (Math.floor(t / n) === t % n ? 0 : 1));
      expectSameOnEveryF(dist, n);
    }
  });
});

/** Bulyan as it was before the fast selection: the same steps with the plain selection. */
function bulyanPlain(rows: readonly Float32Array[], f0: number) {
  const { clients, g } = finiteClientsGram(rows, 'bulyan', 'drop', 'robust');
  const count = clients.rows.length;
  const f = remainingByzantine(f0, clients);
  const theta = count - 2 * f;
  const order = bulyanSelectionPlain(squaredDistancesFromGram(g, count), count, f, theta);
  return {
    aggregate: reduceColumns(order.map((k) => clients.rows[k]), meanAroundMedianReducer(theta - 2 * f)),
    selected: indicesOverInput(order, clients),
    selectionOrder: order.map((k) => clients.index[k]),
  };
}

describe('bulyan and bulyanVariant use the fast selection and keep their bits', () => {
  it('same aggregate bits, selected set and pick order as the plain pipeline (non-finite clients dropped)', () => {
    fc.assert(
      fc.property(rowsArb, fc.nat(), fc.nat(), (rows, fSeed, dropSeed) => {
        const input = rows.map((r) => Float32Array.from(r));
        const maxF = Math.floor((input.length - 3) / 4);
        if (maxF < 0) return;
        const f = fSeed % (maxF + 1);
        // Up to f clients made non-finite: dropped and counted against f.
        const drops = f === 0 ? 0 : dropSeed % (f + 1);
        for (let t = 0; t < drops; t++) input[(dropSeed + 5 * t) % input.length][0] = t % 2 === 0 ? NaN : -Infinity;
        const plain = bulyanPlain(input, f);
        const { aggregate, decision } = bulyanWithDecision(input, { f });
        expect(decision.selectionOrder).toEqual(plain.selectionOrder);
        expect(decision.selected).toEqual(plain.selected);
        expect(Array.from(aggregate).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(
          Array.from(plain.aggregate).map((v) => Object.is(v, -0) ? '-0' : v),
        );
        // bulyanVariant measures its own Gram matrix (gram(), not the fused finiteness pass).
        const variant = bulyanVariantWithDecision(input, { f, selection: 'krum', aggregation: 'meamed' });
        const clients = finiteClients(input, 'bulyanVariant', 'drop');
        const count = clients.rows.length;
        const fLeft = remainingByzantine(f, clients);
        const order = bulyanSelectionPlain(squaredDistancesFromGram(gram(clients.rows, 'robust'), count), count, fLeft, count - 2 * fLeft);
        expect(variant.decision.selectionOrder).toEqual(order.map((k) => clients.index[k]));
      }),
      { numRuns: 40 },
    );
  });
});
