import { describe, expect, it } from 'vitest';
import { bulyan, bulyanWithDecision } from '../../src/aggregators/bulyan.js';
import { rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

describe('bulyan', () => {
  it('selects θ = n − 2f clients by repeated Krum, then averages β = θ − 2f around the median', () => {
    // n=7, f=1, 1-D points 0,1,2,3,4,100,-100. By hand (squared distances):
    //  round 1 (7 left, 4 neighbours): scores 0:30 1:15 2:10 3:15 4:30 -> pick 2
    //  round 2 (6 left, 3): 0:26 1:14 3:14 4:26 -> pick 1 (tie with 3, lower index)
    //  round 3 (5 left, 2): 0:25 3:10 4:17 -> pick 3
    //  round 4 (4 left, 1): 0:16 4:16 -> pick 0
    //  round 5 (3 left, max(1, 0) = 1): 4:9216 100:9216 -> pick 4 (index 4 < 5)
    // Selected values {0,1,2,3,4}; β = 3 closest to the median 2: {1,2,3} -> 2.
    const rows = rowsOf([[0], [1], [2], [3], [4], [100], [-100]]);
    const { aggregate, decision } = bulyanWithDecision(rows, { f: 1 });
    expect(decision.selectionOrder).toEqual([2, 1, 3, 0, 4]);
    expect(decision.selected).toEqual([0, 1, 2, 3, 4]);
    expect(decision.beta).toBe(3);
    expect(Array.from(aggregate)).toEqual([2]);
  });

  it('aggregates each coordinate separately over the selected clients', () => {
    // Same selection driven by the first coordinate (the second is tiny); second coordinate of the
    // selected clients 0..4 is [5, 0, 0.1, 0.2, -0.1]: median 0.1, closest 3: {0.1, 0, 0.2} -> 0.1
    const rows = rowsOf([
      [0, 0.05],
      [1, 0],
      [2, 0.1],
      [3, 0.2],
      [4, -0.1],
      [100, 0],
      [-100, 0],
    ]);
    const out = bulyan(rows, { f: 1 });
    expect(out[0]).toBe(2);
    expect(out[1]).toBeCloseTo((0.1 + 0 + 0.05) / 3, 6);
  });

  it('needs n ≥ 4f+3', () => {
    expect(() => bulyan(rowsOf([[0], [1], [2], [3], [4], [5]]), { f: 1 })).toThrow(
      'bulyan needs n ≥ 4f+3, got n=6, f=1',
    );
  });
});

// Not permutation invariant: in the last Krum rounds a single neighbour is used, so the two closest
// remaining clients always tie, and ties go to the lower index (DESIGN §3) — the order decides.
describeAggregatorProperties({
  name: 'bulyan(f=1)',
  run: (u) => bulyan(u, { f: 1 }),
  minClients: 7,
  permutationInvariant: false,
});

describeOptionReading({
  name: 'bulyan',
  call: (u, o) => bulyan(u, o as never),
  updates: rowsOf([[0], [1], [2], [3], [4], [5], [6]]),
  valid: { f: 1 },
  getter: { key: 'f', values: [1, -3] },
  required: true,
});

describe("bulyanVariant's 'mean' selection ranks by the distance without the shared term", () => {
  it('picks the client truly nearest to a mean dominated by one huge client (was: lowest index)', async () => {
    const { bulyanVariantWithDecision } = await import('../../src/aggregators/bulyan-variants.js');
    // n = 7, f = 1: the mean is ≈ (B/7, 0). ‖xᵢ − m‖² = (xᵢ₁ − B/7)² + xᵢ₂², so client 1 at (0.5, 0)
    // is the nearest. In float64 every (B/7)² ≈ 2e58 swallows the O(B) differences (ulp ≈ 4e42),
    // so ranking on the full squared distance tied everyone and picked client 0.
    const B = 1e30;
    const rows = rowsOf([[0, 1], [0.5, 0], [0, -1], [-0.5, 0], [0, 0.5], [0, -0.5], [B, 0]]);
    for (const backend of ['js', 'wasm'] as const) {
      const { setKernelBackend } = await import('../../src/kernels/backend.js');
      setKernelBackend(backend);
      const { decision } = bulyanVariantWithDecision(rows, { f: 1, selection: 'mean', aggregation: 'meamed' });
      expect(decision.selectionOrder[0]).toBe(1);
      setKernelBackend('auto');
    }
  });
});

describe('bulyan picks exactly as the plain re-scoring (bulyanSelectionPlain)', () => {
  it('with colluding copies, float32 extremes, subnormals, signed zeros and dropped NaN clients', async () => {
    const { bulyanSelectionPlain } = await import('../../src/aggregators/bulyan-selection.js');
    const { finiteClientsGram, squaredDistancesFromGram } = await import('../../src/kernels/gram.js');
    const { remainingByzantine } = await import('../../src/core/finite-clients.js');
    const { gaussianRows } = await import('../helpers/data.js');
    const { HUGE } = await import('../helpers/hostile.js');
    const d = 5;
    const honest = gaussianRows(30, d, 17);
    const copy = Float32Array.of(0.5, -0.5, 0.5, -0.5, 0.5);
    const rows = [
      ...honest.slice(0, 10),
      copy, Float32Array.from(copy), Float32Array.from(copy), // colluding, identical
      Float32Array.of(HUGE, -HUGE, HUGE, 0, -0),
      Float32Array.of(1e-45, -1e-45, 0, -0, 1e-40),
      new Float32Array(d),
      Float32Array.of(-0, -0, -0, -0, -0),
      Float32Array.of(NaN, 0, 0, 0, 0), // dropped, counted against f
      ...honest.slice(10),
    ];
    for (const f of [1, 4, 8]) {
      const { clients, g } = finiteClientsGram(rows, 'bulyan', 'drop', 'robust');
      const count = clients.rows.length;
      const fLeft = remainingByzantine(f, clients);
      const plain = bulyanSelectionPlain(squaredDistancesFromGram(g, count), count, fLeft, count - 2 * fLeft);
      expect(bulyanWithDecision(rows, { f }).decision.selectionOrder).toEqual(plain.map((k) => clients.index[k]));
    }
  });
});
