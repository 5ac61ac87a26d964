import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fltrust, fltrustWithDecision } from '../../src/aggregators/fltrust.js';
import { RobustAggError } from '../../src/core/errors.js';
import { gaussianRows, rowsOf } from '../helpers/data.js';
import { describeAggregatorProperties } from '../helpers/properties.js';
import { describeOptionReading } from '../helpers/option-checks.js';

const g0 = Float32Array.of(3, 4); // ‖g₀‖ = 5

describe('fltrust', () => {
  it('weights clients by ReLU(cos) and rescales them to ‖g₀‖ (hand-computed)', () => {
    // x0 = (6,8): cos = 50/(10·5) = 1, rescaled to (3,4).
    // x1 = (0,2): cos = 8/(2·5) = 0.8, rescaled to (0,5).
    // x2 = (−3,−4): cos = −1, trust ReLU(−1) = 0.
    // out = (1·(3,4) + 0.8·(0,5)) / 1.8 = (3/1.8, 8/1.8) = (1.6667, 4.4444).
    const rows = rowsOf([
      [6, 8],
      [0, 2],
      [-3, -4],
    ]);
    const { aggregate, decision } = fltrustWithDecision(rows, { serverUpdate: g0 });
    expect(aggregate[0]).toBeCloseTo(3 / 1.8, 6);
    expect(aggregate[1]).toBeCloseTo(8 / 1.8, 6);
    expect(Array.from(decision.trustScores)).toEqual([1, expect.closeTo(0.8, 12), 0]);
    // wᵢ = TSᵢ·(‖g₀‖/‖xᵢ‖)/ΣTS: 1·(5/10)/1.8 and 0.8·(5/2)/1.8.
    expect(decision.weights[0]).toBeCloseTo(0.5 / 1.8, 12);
    expect(decision.weights[1]).toBeCloseTo(2 / 1.8, 12);
    expect(decision.weights[2]).toBe(0);
    expect(decision.selected).toEqual([0, 1]);
    expect(decision.totalTrust).toBeCloseTo(1.8, 12);
  });

  it('returns the zero vector when no client has positive trust', () => {
    const rows = rowsOf([
      [-3, -4],
      [4, -3], // orthogonal: cos 0
      [0, 0], // no direction: trust 0
    ]);
    const { aggregate, decision } = fltrustWithDecision(rows, { serverUpdate: g0 });
    expect(Array.from(aggregate)).toEqual([0, 0]);
    expect(decision.totalTrust).toBe(0);
    expect(decision.selected).toEqual([]);
    expect(Array.from(fltrust(rows, { serverUpdate: new Float32Array(2) }))).toEqual([0, 0]);
  });

  it('never outputs more than ‖g₀‖ in norm, whatever the clients send', () => {
    const rows = [...gaussianRows(6, 5, 1), Float32Array.of(1e6, 1e6, 1e6, 1e6, 1e6)];
    const server = Float32Array.of(1, 1, 1, 1, 1); // norm √5
    const out = fltrust(rows, { serverUpdate: server });
    const norm = Math.hypot(...out);
    expect(norm).toBeLessThanOrEqual(Math.sqrt(5) + 1e-5);
  });

  it('validates serverUpdate and drops non-finite clients', () => {
    const rows = rowsOf([[6, 8], [NaN, 1]]);
    const { decision } = fltrustWithDecision(rows, { serverUpdate: g0 });
    expect(decision.dropped).toEqual([1]);
    expect(decision.trustScores[1]).toBe(0);
    expect(() => fltrust(rows, { serverUpdate: Float32Array.of(1) })).toThrow(/serverUpdate must be a finite Float32Array of length d=2/);
    expect(() => fltrust(rows, { serverUpdate: Float32Array.of(NaN, 1) })).toThrow(RobustAggError);
    expect(() => fltrust(rows, {} as never)).toThrow(RobustAggError);
  });
});

describe('fltrust: hostile numbers and options', () => {
  // Regression (issue 14, item 8): g₀ = (3e38, 3e38) has norm 4.2e38 > the largest float32; a client
  // along (1, 0) was rescaled to that norm and the output was +Infinity.
  it('rejects a server update whose norm exceeds the float32 range (it gave ±Infinity)', () => {
    const rows = rowsOf([[1, 0], [1, 1], [0, 1]]);
    const serverUpdate = Float32Array.of(3e38, 3e38);
    expect(() => fltrust(rows, { serverUpdate })).toThrow(/serverUpdate has norm 4\.2\d*e\+38, above the largest float32/);
    let code: string | undefined;
    try {
      fltrust(rows, { serverUpdate });
    } catch (e) {
      code = (e as RobustAggError).code;
    }
    expect(code).toBe('INVALID_OPTION');
  });

  it('stays finite at the edge of the range, whatever finite values the clients send', () => {
    const serverUpdate = Float32Array.of(3.4028234663852886e38, 0, 0);
    const rows = rowsOf([
      [1, 0, 0],
      [1.4e-45, 0, 0],
      [3.4e38, -3.4e38, 3.4e38],
      [1e-30, 1e-45, 0],
      [-3.4e38, 0, 0],
    ]);
    const out = fltrust(rows, { serverUpdate });
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
    expect(Math.hypot(...out)).toBeLessThanOrEqual(3.4028234663852886e38 * (1 + 1e-7));
  });

  it('rejects null options and unknown keys, reads each option once, accepts g₀ from another realm', () => {
    const rows = rowsOf([[6, 8], [1, 1]]);
    expect(() => fltrust(rows, null as never)).toThrow('fltrust: options must be an object, got null');
    expect(() => fltrust(rows, { serverUpdate: g0, serverWeight: 1 } as never)).toThrow(/unknown option 'serverWeight'/);
    let reads = 0;
    const options = {
      get serverUpdate() {
        reads++;
        return reads === 1 ? g0 : Float32Array.of(NaN, NaN);
      },
    };
    expect(Array.from(fltrust(rows, options))).toEqual(Array.from(fltrust(rows, { serverUpdate: g0 })));
    expect(reads).toBe(1);
    const foreign = runInNewContext('Float32Array.of(3, 4)') as Float32Array;
    expect(Array.from(fltrust(rows, { serverUpdate: foreign }))).toEqual(Array.from(fltrust(rows, { serverUpdate: g0 })));
  });
});

const serverFor = (d: number) => Float32Array.from({ length: d }, (_, k) => (k % 2 === 0 ? 1 : -0.5) * (1 + k));
describeAggregatorProperties({
  name: 'fltrust',
  run: (u) => fltrust(u, { serverUpdate: serverFor(u[0].length) }),
  minClients: 1,
  translationEquivariant: false, // trust is measured against a fixed g₀
});

describeOptionReading({
  name: 'fltrust',
  call: (u, o) => fltrust(u, o as never),
  updates: rowsOf([[6, 8], [1, 1]]),
  valid: { serverUpdate: g0 },
  getter: { key: 'serverUpdate', values: [g0, new Float32Array(1)] },
  required: true,
});
