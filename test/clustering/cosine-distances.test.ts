import { describe, expect, it } from 'vitest';
import { cosineDistances } from '../../src/clustering/cosine-distances.js';
import { RobustAggError } from '../../src/core/errors.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { blinderRow, expectFinite, hugeRow, insertAt, onBothBackends } from '../helpers/hostile.js';

describe('cosineDistances', () => {
  it('hand-computed: orthogonal 1, opposite 2, 45° 1 − 1/√2, zero vector 1, diagonal 0', () => {
    const rows = rowsOf([[1, 0], [0, 2], [1, 1], [0, 0], [-3, 0]]);
    const d = cosineDistances(rows);
    const at = (i: number, j: number): number => d[i * 5 + j];
    expect(at(0, 1)).toBeCloseTo(1, 15);
    expect(at(0, 2)).toBeCloseTo(1 - Math.SQRT1_2, 15);
    expect(at(1, 2)).toBeCloseTo(1 - Math.SQRT1_2, 15);
    expect(at(0, 4)).toBe(2);
    for (const j of [0, 1, 2, 4]) expect(at(3, j)).toBe(1);
    for (let i = 0; i < 5; i++) expect(at(i, i)).toBe(0);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(at(i, j)).toBe(at(j, i));
  });

  it('equals the float64 definition on rows large enough for the fast kernels', () => {
    const n = 12;
    const dim = 20_000;
    const rows = gaussianRows(n, dim, 3, 0.3);
    const d = cosineDistances(rows);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let ab = 0;
        let aa = 0;
        let bb = 0;
        for (let k = 0; k < dim; k++) {
          ab += rows[i][k] * rows[j][k];
          aa += rows[i][k] * rows[i][k];
          bb += rows[j][k] * rows[j][k];
        }
        const expected = i === j ? 0 : 1 - ab / Math.sqrt(aa * bb);
        expect(Math.abs(d[i * n + j] - expected)).toBeLessThan(1e-6);
      }
    }
  });

  it('throws on a non-finite client, naming it', () => {
    const rows = rowsOf([[1, 0], [NaN, 1]]);
    expect(() => cosineDistances(rows)).toThrow(RobustAggError);
    expect(() => cosineDistances(rows)).toThrow(/client 1/);
    expect(() => cosineDistances([])).toThrow(RobustAggError);
  });

  it('keeps every pair\'s distance whatever another client sends: huge rows, a 1e30 blinder at row 0 or elsewhere', () => {
    onBothBackends(() => {
      const dim = 2048;
      const honest = gaussianRows(7, dim, 21, 0.2);
      const reference = cosineDistances(honest);
      for (const attacker of [hugeRow(dim), blinderRow(dim), new Float32Array(dim)]) {
        for (const position of [0, 4, 7]) {
          const rows = insertAt(honest, attacker, [position]);
          const d = cosineDistances(rows);
          expectFinite(d, 'distances');
          const n = rows.length;
          const back = (i: number): number => (i < position ? i : i + 1);
          for (let i = 0; i < 7; i++) {
            for (let j = 0; j < 7; j++) {
              expect(Math.abs(d[back(i) * n + back(j)] - reference[i * 7 + j])).toBeLessThan(1e-6);
            }
          }
          for (let j = 0; j < n; j++) {
            expect(d[position * n + j]).toBeGreaterThanOrEqual(0);
            expect(d[position * n + j]).toBeLessThanOrEqual(2);
          }
        }
      }
    });
  });

  it('pins duplicates and zero rows: distance 0 between copies, 1 from a zero row (its diagonal 0)', () => {
    const x = Float32Array.from({ length: 5 }, (_, k) => k + 1);
    const d = cosineDistances([x, Float32Array.from(x), new Float32Array(5), new Float32Array(5)]);
    expect(d[1]).toBe(0);
    expect(Array.from(d.slice(8, 12))).toEqual([1, 1, 0, 1]);
  });
});
