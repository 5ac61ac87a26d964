// The rules that route through the WebAssembly column-selection, combination and finiteness
// kernels give the plain kernels' answer: same selected clients, same dropped clients, aggregates
// within a couple of float32 ulps (the kept values are summed in another order).
import { afterEach, describe, expect, it } from 'vitest';
import { bulyanWithDecision } from '../../src/aggregators/bulyan.js';
import { bulyanVariantWithDecision } from '../../src/aggregators/bulyan-variants.js';
import { meamedWithDecision } from '../../src/aggregators/meamed.js';
import { meanWithDecision } from '../../src/aggregators/mean.js';
import { trimmedMeanWithDecision } from '../../src/aggregators/trimmed-mean.js';
import type { Aggregation, Decision } from '../../src/core/decision.js';
import { setKernelBackend } from '../../src/kernels/backend.js';
import { gaussianRows } from '../helpers/data.js';

/** Runs `rule` on the plain kernels and on the WebAssembly kernels. */
function onBoth<D extends Decision>(rule: () => Aggregation<D>): { plain: Aggregation<D>; fast: Aggregation<D> } {
  setKernelBackend('js');
  const plain = rule();
  setKernelBackend('wasm');
  const fast = rule();
  return { plain, fast };
}

/** Largest |a − b| in float32 ulps of max(|b|, 1e-3). */
function ulps(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    worst = Math.max(worst, Math.abs(a[k] - b[k]) / (Math.max(Math.abs(b[k]), 1e-3) * 2 ** -23));
  }
  return worst;
}

afterEach(() => setKernelBackend('auto'));

// 23 clients (the quickselect-free sorting networks) and 211 (quickselect), d past one column block.
describe.each([
  [23, 1037],
  [211, 301],
])('rules on the WebAssembly kernels, n=%i d=%i', (n, d) => {
  const rows = gaussianRows(n, d, n + d);
  const withNaN = rows.map((r, i) => (i === 3 ? Float32Array.from(r, (v, k) => (k === 5 ? NaN : v)) : r));
  const f = Math.floor((n - 3) / 4);

  it('mean (fused finiteness check and combination), with and without a NaN client', () => {
    for (const input of [rows, withNaN]) {
      const { plain, fast } = onBoth(() => meanWithDecision(input));
      expect(fast.decision.dropped).toEqual(plain.decision.dropped);
      expect(Array.from(fast.decision.weights)).toEqual(Array.from(plain.decision.weights));
      expect(ulps(fast.aggregate, plain.aggregate)).toBeLessThanOrEqual(1);
    }
    expect(meanWithDecision(withNaN).decision.dropped).toEqual([3]);
  });

  it('trimmedMean', () => {
    const { plain, fast } = onBoth(() => trimmedMeanWithDecision(withNaN, { f }));
    expect(fast.decision).toEqual(plain.decision);
    expect(ulps(fast.aggregate, plain.aggregate)).toBeLessThanOrEqual(2);
  });

  it('meamed', () => {
    const { plain, fast } = onBoth(() => meamedWithDecision(rows, { f }));
    expect(ulps(fast.aggregate, plain.aggregate)).toBeLessThanOrEqual(2);
  });

  it('bulyan and its meamed variant select the same clients', () => {
    const { plain, fast } = onBoth(() => bulyanWithDecision(rows, { f }));
    expect(fast.decision.selected).toEqual(plain.decision.selected);
    expect(ulps(fast.aggregate, plain.aggregate)).toBeLessThanOrEqual(2);
    const variant = onBoth(() => bulyanVariantWithDecision(rows, { f, selection: 'mean' }));
    expect(variant.fast.decision.selected).toEqual(variant.plain.decision.selected);
    expect(ulps(variant.fast.aggregate, variant.plain.aggregate)).toBeLessThanOrEqual(2);
  });
});
