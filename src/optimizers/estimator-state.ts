// Saving and restoring the optimizers' state (estimators, trainRobust's generators), so that a
// long run stopped part-way continues bit for bit. Internal: the public surface is
// GradientEstimator.saveState/loadState and trainRobust's onCheckpoint/resume.
import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import { resolveValidRng, seedWords, trustRng, xoshiro128, type RandomOptions, type Rng } from '../core/random.js';
import type { EstimatorState } from './types.js';

/** The arrays a savable generator draws through: its xoshiro128** words and its Box–Muller spare. */
interface RngCells {
  readonly words: Int32Array;
  readonly spare: Float64Array;
}

// Generators built here, keyed by the object estimators hold. A caller's own `rng` is not in it:
// its state cannot be read, so an estimator drawing from one cannot be saved.
const savable = new WeakMap<Rng, RngCells>();

/** The `createRng(seed)` stream, from a generator whose state {@link saveRng} can read. */
export function createSavableRng(seed: number): Rng {
  const cells: RngCells = { words: seedWords(seed), spare: Float64Array.of(NaN) };
  const rng = trustRng(xoshiro128(cells.words, cells.spare));
  savable.set(rng, cells);
  return rng;
}

/**
 * As `resolveValidRng`, with a generator from `seed` built by {@link createSavableRng} (the same
 * stream as `createRng(seed)`), so that the estimator holding it can be saved.
 */
export function resolveSavableRng(random: RandomOptions, rule: string): Rng {
  const { seed } = random;
  if (random.rng !== undefined || typeof seed !== 'number' || !Number.isFinite(seed)) return resolveValidRng(random, rule);
  return createSavableRng(seed);
}

/** A generator's state as plain data: `words` (4 × int32) and `spare` (NaN: none). */
export function saveRng(rng: Rng, rule: string): { words: Int32Array; spare: number } {
  const cells = savable.get(rng);
  if (cells === undefined) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: its generator cannot be saved: only one robust-agg builds from a seed can (pass { seed }, or build the estimator from trainRobust's context rng)`,
    );
  }
  return { words: Int32Array.from(cells.words), spare: cells.spare[0] };
}

/** Checks a saved generator state; returns a function that puts it into `rng`. */
export function readRng(rng: Rng, saved: unknown, rule: string): () => void {
  const cells = savable.get(rng);
  if (cells === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: its generator cannot be restored: only one robust-agg builds from a seed can`);
  }
  const s = saved as { words?: unknown; spare?: unknown } | null;
  const words = s?.words;
  if (!(words instanceof Int32Array) || words.length !== 4 || (words[0] | words[1] | words[2] | words[3]) === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the saved generator state needs words (an Int32Array of 4, not all 0)`);
  }
  const spare = s?.spare;
  if (typeof spare !== 'number' || !(Number.isNaN(spare) || Number.isFinite(spare))) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the saved generator's spare must be a finite number or NaN, got ${describeValue(spare)}`);
  }
  const copy = Int32Array.from(words);
  return () => {
    cells.words.set(copy);
    cells.spare[0] = spare;
  };
}

/** `state` as a record of the estimator `rule`, or INVALID_OPTION. */
export function readState(rule: string, state: EstimatorState): Record<string, unknown> {
  if (state === null || typeof state !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: loadState needs a state saveState returned, got ${describeValue(state)}`);
  }
  if (state.estimator !== rule) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the state was saved by ${describeValue(state.estimator)}, not ${rule}`);
  }
  return state as Record<string, unknown>;
}

/** `state[key]`, an integer in [min, max], or INVALID_OPTION. */
export function readCount(rule: string, state: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = state[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the saved ${key} must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

/**
 * `state[first]` and `state[second]`: two Float32Arrays of one length (both null before the
 * estimator's first call), copied; anything else is INVALID_OPTION.
 */
export function readVectorPair(rule: string, state: Record<string, unknown>, first: string, second: string): [Float32Array, Float32Array] | null {
  const a = state[first];
  const d = a instanceof Float32Array ? a.length : 0;
  const x = readArray(rule, state, first, Float32Array, d, true);
  const y = readArray(rule, state, second, Float32Array, d, true);
  if (x === null && y === null) return null;
  if (x === null || y === null) throw new RobustAggError('INVALID_OPTION', `${rule}: the saved ${first} and ${second} must both be arrays or both null`);
  return [x as Float32Array, y as Float32Array];
}

type TypedArrayOf<T> = T extends new (n: number) => infer A ? A : never;

/**
 * `state[key]`, an array of the type `kind` and length `length`, copied; null when the state holds
 * null and `nullable`. Anything else is INVALID_OPTION.
 */
export function readArray<C extends Float32ArrayConstructor | Float64ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor>(
  rule: string,
  state: Record<string, unknown>,
  key: string,
  kind: C,
  length: number,
  nullable = false,
): TypedArrayOf<C> | null {
  const v = state[key];
  if (v === null && nullable) return null;
  if (!(v instanceof kind) || v.length !== length) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the saved ${key} must be a ${kind.name} of length ${length}${nullable ? ' or null' : ''}, got ${describeValue(v)}`,
    );
  }
  return (kind as unknown as { from(a: ArrayLike<number>): TypedArrayOf<C> }).from(v as ArrayLike<number>);
}
