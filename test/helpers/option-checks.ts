/**
 * Shared checks of how a rule reads its options (DESIGN §5, issue 14 item 13): null and non-object
 * options and unknown keys are RobustAggErrors, every key is read exactly once (a getter cannot
 * pass validation with one value and run with another), bad `updates` are RobustAggErrors too.
 */
import { describe, expect, it } from 'vitest';
import { RobustAggError } from '../../src/core/errors.js';

export interface OptionReadingUnderTest {
  /** The rule's name as its messages spell it. */
  name: string;
  /** Calls the rule (or its WithDecision variant). */
  call: (updates: readonly Float32Array[], options: unknown) => unknown;
  /** Updates the rule accepts with `valid`. */
  updates: readonly Float32Array[];
  /** A valid options object. */
  valid: Record<string, unknown>;
  /** A key to turn into a getter: it returns `values[0]` on the first read and `values[1]` after. */
  getter: { key: string; values: [unknown, unknown] };
  /** Whether calling without options must fail (a required option such as f). */
  required?: boolean;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RobustAggError);
    return (e as RobustAggError).code;
  }
  return undefined;
}

export function describeOptionReading(rule: OptionReadingUnderTest): void {
  describe(`${rule.name}: reading its options`, () => {
    it('rejects null, arrays and non-objects with INVALID_OPTION', () => {
      expect(() => rule.call(rule.updates, null)).toThrow(`${rule.name}: options must be an object, got null`);
      for (const options of [null, [], 3, 'f']) expect(codeOf(() => rule.call(rule.updates, options))).toBe('INVALID_OPTION');
    });

    it('rejects an unknown key with UNKNOWN_OPTION naming it', () => {
      const options = { ...rule.valid, tolerence: 1 };
      expect(codeOf(() => rule.call(rule.updates, options))).toBe('UNKNOWN_OPTION');
      expect(() => rule.call(rule.updates, options)).toThrow(/unknown option 'tolerence'/);
    });

    it(`reads ${rule.getter.key} once (a getter returning ${String(rule.getter.values[0])}, then ${String(rule.getter.values[1])})`, () => {
      let reads = 0;
      const options = { ...rule.valid };
      Object.defineProperty(options, rule.getter.key, {
        enumerable: true,
        get: () => rule.getter.values[reads++ === 0 ? 0 : 1],
      });
      expect(() => rule.call(rule.updates, options)).not.toThrow();
      expect(reads).toBe(1);
    });

    it('answers bad updates (undefined, a single Float32Array) with a RobustAggError', () => {
      expect(codeOf(() => rule.call(undefined as never, rule.valid))).toBe('EMPTY_UPDATES');
      expect(() => rule.call(rule.updates[0] as never, rule.valid)).toThrow(/got a single Float32Array/);
    });

    if (rule.required) {
      it('without options, names the missing option', () => {
        expect(codeOf(() => rule.call(rule.updates, undefined))).toBe('INVALID_OPTION');
      });
    }
  });
}
