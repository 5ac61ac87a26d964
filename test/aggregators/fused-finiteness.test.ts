// mda, caf and smea skip the separate finiteness pass (the Gram pass doubles as the check, see
// finiteClientsGram). Each must give exactly what the two-pass version gave — same output bits,
// same decision, same error — on random, hostile and non-finite inputs, and a call that the subset
// caps refuse must still fail before any Gram pass. The references below are the rules as they
// were before the fusion: finiteClients, the checks, gram(rows, 'robust'), the rule's own decision
// step and combine.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { cafFilter, cafWithDecision } from '../../src/aggregators/caf.js';
import { binomial, mdaWithDecision, minimumDiameterSubset } from '../../src/aggregators/mda.js';
import { SMEA_MAX_WORK, smallestEigenvalueSubset, smeaWithDecision } from '../../src/aggregators/smea.js';
import { RobustAggError } from '../../src/core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../../src/core/finite-clients.js';
import { combine } from '../../src/kernels/combine.js';
import { finiteClientsGram, gram, squaredDistancesFromGram } from '../../src/kernels/gram.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, hugeRow, onBothBackends, outcome } from '../helpers/hostile.js';

// Count the calls into the Gram kernels (the spies call the real ones).
vi.mock('../../src/kernels/gram.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/kernels/gram.js')>();
  return {
    ...real,
    gram: vi.fn(real.gram),
    finiteClientsGram: vi.fn(real.finiteClientsGram),
  };
});

function gramCalls(): number {
  return vi.mocked(gram).mock.calls.length + vi.mocked(finiteClientsGram).mock.calls.length;
}

function resetGramCalls(): void {
  vi.mocked(gram).mockClear();
  vi.mocked(finiteClientsGram).mockClear();
}

type Policy = 'drop' | 'throw' | undefined;

function legacyMda(rows: Float32Array[], f: number, maxSubsets: number, nonFinite: Policy) {
  const clients = finiteClients(rows, 'mda', nonFinite);
  requireClients('mda', clients.n, f, 2, 1);
  const m = clients.rows.length;
  const fLeft = remainingByzantine(f, clients);
  if (binomial(m, fLeft) > maxSubsets) throw new RobustAggError('UNSUPPORTED', 'mda: too many subsets');
  const dist = m > 1 ? squaredDistancesFromGram(gram(clients.rows, 'robust'), m) : new Float64Array(1);
  const { subset, diameter2 } = minimumDiameterSubset(dist, m, m - fLeft);
  const w = new Float64Array(m);
  for (const k of subset) w[k] = 1 / (m - fLeft);
  return {
    aggregate: combine(clients.rows, w),
    decision: {
      dropped: clients.dropped,
      selected: indicesOverInput(subset, clients),
      weights: weightsOverInput(w, clients),
      diameter: Math.sqrt(diameter2),
    },
  };
}

function legacyCaf(rows: Float32Array[], f: number, nonFinite: Policy) {
  const clients = finiteClients(rows, 'caf', nonFinite);
  requireClients('caf', clients.n, f, 2, 1);
  const m = clients.rows.length;
  const fLeft = remainingByzantine(f, clients);
  const g = m > 1 ? gram(clients.rows, 'robust') : new Float64Array(1);
  const { best, bestLambda, iterations } = cafFilter(g, m, m - 2 * fLeft);
  return {
    aggregate: combine(clients.rows, best),
    decision: {
      dropped: clients.dropped,
      weights: weightsOverInput(best, clients),
      largestEigenvalue: iterations === 0 ? NaN : bestLambda,
      iterations,
    },
  };
}

function legacySmea(rows: Float32Array[], f: number, maxSubsets: number, nonFinite: Policy) {
  const clients = finiteClients(rows, 'smea', nonFinite);
  requireClients('smea', clients.n, f, 2, 1);
  const m = clients.rows.length;
  const fLeft = remainingByzantine(f, clients);
  const size = m - fLeft;
  const count = binomial(m, fLeft);
  if (count > maxSubsets) throw new RobustAggError('UNSUPPORTED', 'smea: too many subsets');
  if ((count * size ** 3) / 6 > SMEA_MAX_WORK) throw new RobustAggError('UNSUPPORTED', 'smea: too much work');
  const g = m > 1 ? gram(clients.rows, 'robust') : new Float64Array(1);
  const { subset, scatterMax } = smallestEigenvalueSubset(g, m, size);
  const w = new Float64Array(m);
  for (const k of subset) w[k] = 1 / size;
  return {
    aggregate: combine(clients.rows, w),
    decision: {
      dropped: clients.dropped,
      selected: indicesOverInput(subset, clients),
      weights: weightsOverInput(w, clients),
      maxEigenvalue: scatterMax / size,
    },
  };
}

/** Same error code, or the same aggregate bits and the same decision fields. */
function expectSame(got: ReturnType<typeof outcome>, want: ReturnType<typeof outcome>): void {
  if ('code' in want) {
    expect(got).toEqual(want);
    return;
  }
  expect('value' in got).toBe(true);
  const g = (got as { value: { aggregate: Float32Array; decision: Record<string, unknown> } }).value;
  const w = want.value as { aggregate: Float32Array; decision: Record<string, unknown> };
  expect(Array.from(g.aggregate)).toEqual(Array.from(w.aggregate));
  for (const [key, value] of Object.entries(w.decision)) {
    const mine = g.decision[key];
    if (value instanceof Float64Array) expect(Array.from(mine as Float64Array)).toEqual(Array.from(value));
    else expect(mine).toEqual(value);
  }
}

/** Rows of `kinds`: Gaussian clients, some replaced by hostile finite rows or given a NaN / −∞. */
function hostileRows(n: number, d: number, seed: number, kinds: readonly string[]): Float32Array[] {
  const rows = gaussianRows(n, d, seed, 1, 0.1);
  kinds.slice(0, n).forEach((kind, i) => {
    if (kind === 'nan') rows[i][(seed >>> 0) % d] = NaN;
    if (kind === 'inf') rows[i][d - 1] = -Infinity;
    if (kind === 'huge') rows[i] = hugeRow(d);
    if (kind === 'blinder') rows[i] = blinderRow(d);
    if (kind === 'zero') rows[i] = new Float32Array(d);
    if (kind === 'copy' && i > 0) rows[i] = Float32Array.from(rows[0]);
  });
  return rows;
}

const kindsArb = fc.array(fc.constantFrom('none', 'none', 'nan', 'inf', 'huge', 'blinder', 'zero', 'copy'), { maxLength: 9 });

describe('mda, caf and smea with the fused finiteness check', () => {
  it('equal the two-pass rules bit for bit (outputs, decisions, errors), both backends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer(),
        kindsArb,
        fc.constantFrom<Policy>(undefined, 'drop', 'throw'),
        fc.integer({ min: 1, max: 40 }),
        (n, d, f, seed, kinds, nonFinite, maxSubsets) => {
          const rows = hostileRows(n, d, seed, kinds);
          onBothBackends(() => {
            expectSame(
              outcome(() => mdaWithDecision(rows, { f, maxSubsets, nonFinite })),
              outcome(() => legacyMda(rows, f, maxSubsets, nonFinite)),
            );
            expectSame(outcome(() => cafWithDecision(rows, { f, nonFinite })), outcome(() => legacyCaf(rows, f, nonFinite)));
            expectSame(
              outcome(() => smeaWithDecision(rows, { f, maxSubsets, nonFinite })),
              outcome(() => legacySmea(rows, f, maxSubsets, nonFinite)),
            );
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('equal the two-pass rules on rows large enough for the WebAssembly Gram (fused path), with a dropped client', () => {
    const rows = hostileRows(9, 9000, 7, ['none', 'blinder', 'none', 'nan', 'none', 'huge']);
    for (const f of [1, 2, 3]) {
      onBothBackends(() => {
        expectSame(outcome(() => mdaWithDecision(rows, { f })), outcome(() => legacyMda(rows, f, 1e6, undefined)));
        expectSame(outcome(() => cafWithDecision(rows, { f })), outcome(() => legacyCaf(rows, f, undefined)));
        expectSame(outcome(() => smeaWithDecision(rows, { f })), outcome(() => legacySmea(rows, f, 1e5, undefined)));
        const finite = rows.filter((_, i) => i !== 3);
        expectSame(outcome(() => mdaWithDecision(finite, { f })), outcome(() => legacyMda(finite, f, 1e6, undefined)));
        expectSame(outcome(() => cafWithDecision(finite, { f })), outcome(() => legacyCaf(finite, f, undefined)));
        expectSame(outcome(() => smeaWithDecision(finite, { f })), outcome(() => legacySmea(finite, f, 1e5, undefined)));
      });
    }
  });

  it('refuse a search over too many subsets before any Gram pass', () => {
    resetGramCalls();
    // C(30, 10) > 10⁶ refuses with UNSUPPORTED, and 30 < 2·15+1 with TOO_FEW_CLIENTS, without a
    // Gram pass (the spies below count every call into the Gram kernels).
    const many = gaussianRows(30, 5000, 11);
    expect(outcome(() => mdaWithDecision(many, { f: 10 }))).toEqual({ code: 'UNSUPPORTED' });
    expect(outcome(() => smeaWithDecision(many, { f: 10 }))).toEqual({ code: 'UNSUPPORTED' });
    expect(outcome(() => cafWithDecision(many, { f: 15 }))).toEqual({ code: 'TOO_FEW_CLIENTS' });
    expect(outcome(() => mdaWithDecision(many, { f: 15 }))).toEqual({ code: 'TOO_FEW_CLIENTS' });
    expect(gramCalls()).toBe(0);
    // C(30, 6) = 593 775 > maxSubsets 5·10⁵, but with two NaN clients dropped C(28, 4) = 20 475 fits.
    many[4][10] = NaN;
    many[20][0] = NaN;
    const got = mdaWithDecision(many, { f: 6, maxSubsets: 500_000 });
    expect(got.decision.dropped).toEqual([4, 20]);
    expect(gramCalls()).toBeGreaterThan(0);
    expectSame(
      outcome(() => mdaWithDecision(many, { f: 6, maxSubsets: 500_000 })),
      outcome(() => legacyMda(many, 6, 500_000, undefined)),
    );
  });
});
