import { describe, expect, it } from 'vitest';
import {
  accuracy,
  argmaxRows,
  attackSuccessRate,
  defenseEffectivenessRating,
  robustAccuracy,
} from '../../src/metrics/index.js';
import { RobustAggError } from '../../src/core/errors.js';

describe('accuracy', () => {
  it('counts matches over all samples', () => {
    // 3 of 4 match (index 2 is wrong).
    expect(accuracy([0, 1, 2, 2], [0, 1, 1, 2])).toBe(0.75);
    expect(accuracy(Int32Array.of(5), Int32Array.of(5))).toBe(1);
    expect(accuracy([1, 1], [0, 0])).toBe(0);
  });
  it('rejects mismatched or empty inputs', () => {
    expect(() => accuracy([1], [1, 2])).toThrow(RobustAggError);
    expect(() => accuracy([], [])).toThrow(/no samples/);
  });
});

describe('attackSuccessRate and robustAccuracy', () => {
  // labels:    0  1  2  0  4  7
  // predicted: 0  0  2  0  4  0      target 0
  // eligible (label ≠ 0): indices 1, 2, 4, 5 → 4 samples
  // hit target: indices 1, 5 → ASR = 2/4; kept true label: indices 2, 4 → RA = 2/4.
  const labels = [0, 1, 2, 0, 4, 7];
  const predicted = [0, 0, 2, 0, 4, 0];
  it('skips samples whose true label is the target', () => {
    expect(attackSuccessRate(predicted, labels, 0)).toBe(0.5);
    expect(robustAccuracy(predicted, labels, 0)).toBe(0.5);
  });
  it('RA counts neither target hits nor other wrong classes', () => {
    // eligible: 1, 2, 3 (label ≠ 0); predictions 0 (hit), 5 (wrong, neither), 3 (kept).
    expect(attackSuccessRate([0, 0, 5, 3], [0, 1, 2, 3], 0)).toBeCloseTo(1 / 3, 15);
    expect(robustAccuracy([0, 0, 5, 3], [0, 1, 2, 3], 0)).toBeCloseTo(1 / 3, 15);
  });
  it('supports one target per sample (all-to-all)', () => {
    // targets y+1 mod 3: sample 0 (label 0 → target 1) hit; sample 1 (1 → 2) kept; sample 2 (2 → 0) hit.
    expect(attackSuccessRate([1, 1, 0], [0, 1, 2], [1, 2, 0])).toBeCloseTo(2 / 3, 15);
    expect(robustAccuracy([1, 1, 0], [0, 1, 2], [1, 2, 0])).toBeCloseTo(1 / 3, 15);
  });
  it('throws when no sample has a label different from the target', () => {
    expect(() => attackSuccessRate([0, 0], [0, 0], 0)).toThrow(/label ≠ target/);
    expect(() => attackSuccessRate([0], [1], -1)).toThrow(RobustAggError);
    expect(() => attackSuccessRate([0], [1], [0, 1])).toThrow(RobustAggError);
  });
});

describe('defenseEffectivenessRating', () => {
  it('matches [max(0, ΔASR) − max(0, ΔACC) + 1]/2 by hand', () => {
    // ΔASR = 1 − 0.02 = 0.98, ΔACC = 0.9 − 0.88 = 0.02 → (0.98 − 0.02 + 1)/2 = 0.98
    expect(defenseEffectivenessRating({ acc: 0.9, asr: 1 }, { acc: 0.88, asr: 0.02 })).toBeCloseTo(0.98, 12);
    // No change → 0.5.
    expect(defenseEffectivenessRating({ acc: 0.9, asr: 0.8 }, { acc: 0.9, asr: 0.8 })).toBe(0.5);
    // ASR went up and accuracy went up: both clipped at 0 → 0.5.
    expect(defenseEffectivenessRating({ acc: 0.8, asr: 0.5 }, { acc: 0.9, asr: 0.7 })).toBe(0.5);
    // Perfect removal: 1; worst: accuracy 1 → 0 without touching ASR: 0.
    expect(defenseEffectivenessRating({ acc: 0.9, asr: 1 }, { acc: 0.9, asr: 0 })).toBe(1);
    expect(defenseEffectivenessRating({ acc: 1, asr: 0.3 }, { acc: 0, asr: 0.3 })).toBe(0);
  });
  it('rejects scores outside [0, 1]', () => {
    expect(() => defenseEffectivenessRating({ acc: 90, asr: 1 }, { acc: 0.9, asr: 0 })).toThrow(/\[0, 1\]/);
  });
  it('reads each score once: a getter cannot pass the check as 0.5 and count as 90 (issue 14, item 13)', () => {
    let n = 0;
    const sneaky = {
      acc: 0.9,
      get asr() {
        n++;
        return n === 1 ? 0.5 : 90;
      },
    };
    // Read once: ΔASR = 0.5 − 0 → (0.5 + 1)/2. The old code re-read asr (90) after the check.
    expect(defenseEffectivenessRating(sneaky, { acc: 0.9, asr: 0 })).toBe(0.75);
    expect(n).toBe(1);
    expect(() => defenseEffectivenessRating(null as never, { acc: 0.9, asr: 0 })).toThrow(RobustAggError);
  });
});

describe('argmaxRows', () => {
  it('takes the first maximum of each row', () => {
    expect(Array.from(argmaxRows(Float32Array.of(0.1, 0.9, 0.7, 0.3, 0.5, 0.5), 2))).toEqual([1, 0, 0]);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow(RobustAggError);
  });
});
