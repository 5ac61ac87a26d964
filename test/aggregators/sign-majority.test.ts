import { describe, expect, it } from 'vitest';
import { signMajority, signMajorityWithDecision, type SignMajorityOptions } from '../../src/aggregators/sign-majority.js';
import { RobustAggError } from '../../src/core/errors.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { attackerPositions, expectError, hostileKinds, insertAt, onBothBackends } from '../helpers/hostile.js';
import { describeAggregatorProperties } from '../helpers/properties.js';

describe('signMajority', () => {
  it('returns the sign of the sum of signs, 0 on a tied vote (hand-computed)', () => {
    const rows = rowsOf([
      [1, -2, 0, 3, 0.001],
      [2, -1, 0, -3, 0.002],
      [-1, 5, 0, 0, -1000],
    ]);
    // Column by column, the signs and their sum:
    //   0: + + − = +1 -> 1     1: − − + = −1 -> −1     2: 0 0 0 = 0 -> 0 (tie)
    //   3: + − 0 = 0 -> 0 (tie)   4: + + − = +1 -> 1 (magnitudes never count)
    const { aggregate, decision } = signMajorityWithDecision(rows);
    expect(Array.from(aggregate)).toEqual([1, -1, 0, 0, 1]);
    expect(decision.ties).toBe(2);
    expect(decision.rule).toBe('signMajority');
    expect(decision.dropped).toEqual([]);
  });

  it('lets the honest majority win against any magnitude', () => {
    const honest = rowsOf([[0.1], [0.2], [0.3]]);
    const byzantine = rowsOf([[-1e30], [-1e30]]);
    expect(Array.from(signMajority([...honest, ...byzantine]))).toEqual([1]);
  });

  it('drops non-finite clients before the vote and reports them', () => {
    const rows = rowsOf([[1], [-1], [NaN], [1]]);
    const { aggregate, decision } = signMajorityWithDecision(rows);
    expect(Array.from(aggregate)).toEqual([1]);
    expect(decision.dropped).toEqual([2]);
    expect(() => signMajority(rows, { nonFinite: 'throw' })).toThrow(RobustAggError);
  });

  it('reads options once and rejects null and unknown keys', () => {
    const rows = rowsOf([[1], [-1], [1]]);
    expectError(() => signMajority(rows, null as unknown as SignMajorityOptions), 'INVALID_OPTION', /options must be an object, got null/);
    expectError(() => signMajority(rows, { nonfinite: 'drop' } as unknown as SignMajorityOptions), 'UNKNOWN_OPTION', /unknown option 'nonfinite'/);
  });

  it('gives huge, blinding, subnormal and ±0 clients one vote each, with the same bits on both kernels', () => {
    const d = 1024;
    const honest = gaussianRows(9, d, 81, 0.5, 1);
    for (const { name, row } of [...hostileKinds(d), { name: 'tiny', row: new Float32Array(d).fill(-1e-45) }]) {
      for (const positions of attackerPositions(13, 4)) {
        const rows = insertAt(honest, row, positions);
        const outputs: Float32Array[] = [];
        onBothBackends(() => outputs.push(signMajority(rows)));
        expect(outputs[1].every((v, k) => Object.is(v, outputs[0][k])), name).toBe(true);
        // Oracle: the vote counted here, one vote per client.
        for (let k = 0; k < d; k++) {
          let vote = 0;
          for (const r of rows) vote += r[k] > 0 ? 1 : r[k] < 0 ? -1 : 0;
          expect(outputs[0][k]).toBe(Math.sign(vote) + 0);
        }
      }
    }
    const zeros = signMajorityWithDecision(rowsOf([[-0, 0, -0], [0, -0, 1], [-0, -0, -1]]));
    expect(Object.is(zeros.aggregate[0], 0)).toBe(true);
    expect(zeros.decision.ties).toBe(3);
  });
});

describeAggregatorProperties({
  name: 'signMajority',
  run: (u) => signMajority(u),
  minClients: 1,
  translationEquivariant: false, // the output is a sign vector
});
