import { describe, expect, it } from 'vitest';
import { RobustAggError } from '../../src/core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
  weightsOverInput,
} from '../../src/core/finite-clients.js';
import { isFloat32Array, validateUpdates } from '../../src/core/updates.js';
import { runInNewContext } from 'node:vm';
import { mean } from '../../src/aggregators/mean.js';
import { krum } from '../../src/aggregators/krum.js';
import { isFiniteVector } from '../../src/kernels/finite.js';
import { rowsOf } from '../helpers/data.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    return (e as RobustAggError).code;
  }
  return undefined;
}

describe('validateUpdates', () => {
  it('returns n and d for a well-formed list', () => {
    expect(validateUpdates(rowsOf([[1, 2, 3], [4, 5, 6]]), 'mean')).toEqual({ n: 2, d: 3 });
  });

  it('rejects an empty list', () => {
    expect(codeOf(() => validateUpdates([], 'krum'))).toBe('EMPTY_UPDATES');
  });

  it('rejects a row that is not a Float32Array and names the client', () => {
    const bad = [new Float32Array(2), new Float64Array(2)] as unknown as Float32Array[];
    expect(() => validateUpdates(bad, 'krum')).toThrow(/client 1 is not a Float32Array \(got Float64Array\)/);
    expect(codeOf(() => validateUpdates(bad, 'krum'))).toBe('NOT_FLOAT32');
  });

  it('rejects d = 0', () => {
    expect(codeOf(() => validateUpdates([new Float32Array(0)], 'mean'))).toBe('EMPTY_VECTOR');
  });

  it('rejects unequal lengths and names the first offending client', () => {
    const rows = [new Float32Array(3), new Float32Array(3), new Float32Array(2)];
    expect(() => validateUpdates(rows, 'mean')).toThrow('mean: client 2 has length 2, client 0 has length 3');
    expect(codeOf(() => validateUpdates(rows, 'mean'))).toBe('LENGTH_MISMATCH');
  });
});

describe('validateUpdates: what is not an array of updates', () => {
  it('names a single Float32Array passed instead of an array of them (it used to say "got none")', () => {
    const single = new Float32Array(4) as unknown as Float32Array[];
    expect(() => validateUpdates(single, 'krum')).toThrow(
      'krum: expected an array of Float32Array updates, got a single Float32Array',
    );
    expect(codeOf(() => validateUpdates(single, 'krum'))).toBe('NOT_FLOAT32');
    expect(() => mean(single)).toThrow(/got a single Float32Array/);
  });

  it('rejects undefined and null with EMPTY_UPDATES, other non-arrays with NOT_FLOAT32', () => {
    expect(codeOf(() => validateUpdates(undefined as never, 'mean'))).toBe('EMPTY_UPDATES');
    expect(() => validateUpdates(null as never, 'mean')).toThrow('mean needs an array of client updates (Float32Array), got null');
    expect(codeOf(() => krum(undefined as never, { f: 1 }))).toBe('EMPTY_UPDATES');
    expect(() => validateUpdates(3 as never, 'mean')).toThrow('mean: expected an array of Float32Array updates, got number 3');
    expect(() => validateUpdates({ length: 1, 0: new Float32Array(1) } as never, 'mean')).toThrow(/got Object/);
    expect(() => validateUpdates(new Float64Array(2) as never, 'mean')).toThrow(/got Float64Array/);
    expect(() => validateUpdates([] as never, 'mean')).toThrow('mean needs at least one client update, got an empty array');
  });

  it('names holes and non-objects among the clients', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holes = [new Float32Array(1), , new Float32Array(1)] as unknown as Float32Array[];
    expect(() => validateUpdates(holes, 'mean')).toThrow('mean: client 1 is not a Float32Array (got undefined)');
    expect(() => validateUpdates([new Float32Array(1), null] as never, 'mean')).toThrow(/client 1 .* \(got null\)/);
    expect(() => validateUpdates([[1, 2]] as never, 'mean')).toThrow(/client 0 .* \(got an array\)/);
  });

  it('accepts a Float32Array from another realm (node:vm), which instanceof rejects', () => {
    const foreign = runInNewContext('[Float32Array.of(1, 2), Float32Array.of(3, 6)]') as Float32Array[];
    expect(foreign[0] instanceof Float32Array).toBe(false);
    expect(isFloat32Array(foreign[0])).toBe(true);
    expect(validateUpdates(foreign, 'mean')).toEqual({ n: 2, d: 2 });
    expect(Array.from(mean(foreign))).toEqual([2, 4]);
    expect(finiteClients(foreign, 'mean').rows).toHaveLength(2);
  });

  it('is not fooled by an object that calls itself Float32Array', () => {
    const fake = { [Symbol.toStringTag]: 'Float32Array', length: 2, 0: 1, 1: 2 };
    expect(Object.prototype.toString.call(fake)).toBe('[object Float32Array]');
    expect(isFloat32Array(fake)).toBe(false);
    expect(codeOf(() => validateUpdates([fake] as never, 'mean'))).toBe('NOT_FLOAT32');
    expect(isFloat32Array(new Float64Array(1))).toBe(false);
    expect(isFloat32Array(null)).toBe(false);
  });
});

describe('requireClients', () => {
  it('states the constraint with n and f', () => {
    expect(() => requireClients('krum', 5, 2, 2, 3)).toThrow('krum needs n ≥ 2f+3, got n=5, f=2');
    expect(() => requireClients('bulyan', 10, 2, 4, 3)).toThrow('bulyan needs n ≥ 4f+3, got n=10, f=2');
    expect(() => requireClients('nnm', 2, 2, 1, 1)).toThrow('nnm needs n ≥ f+1, got n=2, f=2');
    expect(codeOf(() => requireClients('krum', 5, 2, 2, 3))).toBe('TOO_FEW_CLIENTS');
  });

  it('accepts the boundary and rejects a negative or fractional f', () => {
    expect(() => requireClients('krum', 7, 2, 2, 3)).not.toThrow();
    expect(codeOf(() => requireClients('krum', 7, -1, 2, 3))).toBe('INVALID_OPTION');
    expect(codeOf(() => requireClients('krum', 7, 1.5, 2, 3))).toBe('INVALID_OPTION');
  });
});

describe('finiteClients', () => {
  const rows = rowsOf([
    [1, 2],
    [NaN, 0],
    [3, 4],
    [0, -Infinity],
  ]);

  it('drops NaN/±Inf rows by default, reporting their input indices', () => {
    const c = finiteClients(rows, 'mean');
    expect(c.index).toEqual([0, 2]);
    expect(c.dropped).toEqual([1, 3]);
    expect(c.rows).toEqual([rows[0], rows[2]]);
    expect(c.n).toBe(4);
    expect(remainingByzantine(3, c)).toBe(1);
    expect(remainingByzantine(1, c)).toBe(0);
  });

  it("throws NON_FINITE_UPDATE naming the client with nonFinite: 'throw'", () => {
    expect(() => finiteClients(rows, 'krum', 'throw')).toThrow('krum: client 1 sent NaN or ±Infinity');
    expect(codeOf(() => finiteClients(rows, 'krum', 'throw'))).toBe('NON_FINITE_UPDATE');
  });

  it('throws NO_FINITE_UPDATES when nothing finite remains', () => {
    expect(codeOf(() => finiteClients(rowsOf([[NaN], [Infinity]]), 'mean'))).toBe('NO_FINITE_UPDATES');
  });

  it('rejects an unknown policy', () => {
    expect(codeOf(() => finiteClients(rows, 'mean', 'ignore' as 'drop'))).toBe('INVALID_OPTION');
  });

  it('maps weights and positions back to input indices', () => {
    const c = finiteClients(rows, 'mean');
    expect(Array.from(weightsOverInput([0.25, 0.75], c))).toEqual([0.25, 0, 0.75, 0]);
    expect(indicesOverInput([1, 0], c)).toEqual([0, 2]);
  });
});

describe('isFiniteVector', () => {
  it('detects NaN and both infinities at any position, including the unrolled tail', () => {
    for (let d = 1; d <= 9; d++) {
      for (let k = 0; k < d; k++) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = new Float32Array(d).fill(1);
          x[k] = bad;
          expect(isFiniteVector(x)).toBe(false);
        }
      }
      expect(isFiniteVector(new Float32Array(d).fill(3.4e38))).toBe(true);
    }
  });
});

describe('readOptions', () => {
  it('reads every key once, even when a caller lists it twice; rejects null, arrays and unknown keys', async () => {
    const { readOptions } = await import('../../src/core/options.js');
    let reads = 0;
    const options = {
      get step() {
        reads++;
        return reads === 1 ? 1 : -3;
      },
    };
    const snapshot = readOptions('test', options as { step?: number }, ['step', 'step']);
    expect(snapshot.step).toBe(1);
    expect(reads).toBe(1);
    expect(() => readOptions('test', null, [])).toThrow(/options must be an object, got null/);
    expect(() => readOptions('test', [] as never, [])).toThrow(/got an array/);
    expect(() => readOptions('test', { tol: 1 } as never, ['tolerance' as never])).toThrow(
      /unknown option 'tol' \(known: tolerance\)/,
    );
  });
});
