// finiteClientsGram: the Gram pass doubles as the finiteness check on the WebAssembly kernels. It
// must give exactly what finiteClients followed by gram gives — same clients, same bits — on
// finite inputs (the fused path), with NaN/±∞ anywhere (the fallback), and raise the same errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RobustAggError } from '../../src/core/errors.js';
import { finiteClients } from '../../src/core/finite-clients.js';
import { finiteClientsGram, gram } from '../../src/kernels/gram.js';
import { gaussianRows } from '../helpers/data.js';
import { blinderRow, hugeRow, onBothBackends } from '../helpers/hostile.js';

function separate(rows: Float32Array[], policy?: 'drop' | 'throw') {
  const clients = finiteClients(rows, 'test', policy);
  return { clients, g: gram(clients.rows, 'robust') };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    return (e as RobustAggError).code;
  }
  return undefined;
}

describe('finiteClientsGram', () => {
  it('equals finiteClients + gram bit for bit, with hostile rows and non-finite clients anywhere, both backends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer(),
        fc.array(fc.constantFrom('none', 'nan', 'inf', 'huge', 'blinder'), { maxLength: 12 }),
        (n, d, seed, kinds) => {
          const rows = gaussianRows(n, d, seed, 1, 0.1);
          kinds.slice(0, n).forEach((kind, i) => {
            if (kind === 'nan') rows[i][(seed >>> 0) % d] = NaN;
            if (kind === 'inf') rows[i][d - 1] = -Infinity;
            if (kind === 'huge') rows[i] = hugeRow(d);
            if (kind === 'blinder') rows[i] = blinderRow(d);
          });
          onBothBackends(() => {
            const a = codeOf(() => separate(rows));
            const b = codeOf(() => finiteClientsGram(rows, 'test', undefined, 'robust'));
            expect(b).toBe(a);
            if (a !== undefined) return;
            const want = separate(rows);
            const got = finiteClientsGram(rows, 'test', undefined, 'robust');
            expect(got.clients.index).toEqual(want.clients.index);
            expect(got.clients.dropped).toEqual(want.clients.dropped);
            expect(got.clients.rows.every((r, k) => r === want.clients.rows[k])).toBe(true);
            expect(Array.from(got.g)).toEqual(Array.from(want.g));
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('raises what finiteClients raises: the policy, a non-finite client under throw, all non-finite', () => {
    const rows = gaussianRows(4, 70_000, 3); // large enough for the WebAssembly path
    rows[2][5] = NaN;
    expect(codeOf(() => finiteClientsGram(rows, 'test', 'throw', 'robust'))).toBe('NON_FINITE_UPDATE');
    expect(codeOf(() => finiteClientsGram(rows, 'test', 'drop' as never, 'robust'))).toBeUndefined();
    expect(codeOf(() => finiteClientsGram(rows, 'test', 'skip' as never, 'robust'))).toBe('INVALID_OPTION');
    const allBad = rows.map(() => new Float32Array(70_000).fill(NaN));
    expect(codeOf(() => finiteClientsGram(allBad, 'test', undefined, 'robust'))).toBe('NO_FINITE_UPDATES');
    expect(finiteClientsGram(rows, 'test', undefined, 'robust').clients.dropped).toEqual([2]);
  });
});
