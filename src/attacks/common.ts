import { RobustAggError } from '../core/errors.js';
import { readOptions, requireInteger, requireNumber } from '../core/options.js';
import { resolveValidRng, validateRng, type Rng } from '../core/random.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { isFiniteVector } from '../kernels/finite.js';

/**
 * Options every attack takes: how many Byzantine vectors to craft, plus the keys of the context
 * `trainRobust` passes an attack (`rng`, `step`), so that every attack can be used there as is.
 */
export interface AttackOptions {
  /**
   * Number of Byzantine vectors to return: an integer in [0, 2²⁰ = 1 048 576] with
   * f·d ≤ 2³⁰ (4 GiB of float32), checked before anything is allocated (`INVALID_OPTION`).
   */
  f: number;
  /**
   * A seeded generator ({@link createRng}); randomized attacks draw from it, deterministic ones only
   * check it. Checked by `validateRng`: a wrong generator is an `INVALID_OPTION` error.
   */
  rng?: Rng;
  /** Seed of a fresh generator for randomized attacks (a finite number); deterministic ones only check it. */
  seed?: number;
  /** The training step `trainRobust` passes (an integer ≥ 0); attacks ignore it. */
  step?: number;
}

/**
 * An attack: crafts exactly `options.f` Byzantine vectors from the honest vectors it observes
 * (an omniscient attacker). Attacks never modify `honest`; each returned vector is a new array.
 *
 * @typeParam O - the attack's options.
 * @param honest - the h honest vectors the attacker observes, each a `Float32Array` of the same
 *   length d holding finite values; not modified.
 * @param options - the attack's options: `f` (the number of vectors to craft, an integer in
 *   [0, 2²⁰] with f·d ≤ 2³⁰), the `rng`, `seed` and `step` that `trainRobust` passes, and the
 *   attack's own keys.
 * @returns exactly f new `Float32Array`s of length d.
 */
export type Attack<O extends AttackOptions = AttackOptions> = (honest: readonly Float32Array[], options: O) => Float32Array[];

/** Shape of the honest vectors an attack observes. */
export interface HonestShape {
  /** Number of honest vectors. */
  h: number;
  /** Length of every vector. */
  d: number;
  /** The requested number of Byzantine vectors. */
  f: number;
}

/** The largest finite float32, 2¹²⁸ − 2¹⁰⁴ ≈ 3.4028235e38. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The most Byzantine vectors one attack call returns (2²⁰): a larger f fails with `INVALID_OPTION`
 * before anything is allocated (f = 5·10⁷ would otherwise exhaust the heap with small arrays).
 */
export const MAX_BYZANTINE = 1_048_576;

/**
 * The most float32 values one attack call returns, f·d ≤ 2³⁰ (4 GiB): a larger request fails with
 * `INVALID_OPTION` before anything is allocated.
 */
export const MAX_ATTACK_VALUES = 1_073_741_824;

/** The option keys every attack accepts, see {@link AttackOptions}. */
export const ATTACK_KEYS = ['f', 'rng', 'seed', 'step'] as const;

/** A checked attack call: the shape and the options snapshot (every key read once). */
export interface AttackInput<O> extends HonestShape {
  /** The options, each read exactly once; validate these, never the caller's object. */
  readonly o: Partial<O>;
}

/**
 * Reads and checks an attack's options and input, in this order, before anything is allocated:
 * the options object (`readOptions`: null is `INVALID_OPTION`, a key outside {@link ATTACK_KEYS}
 * and `keys` is `UNKNOWN_OPTION`), the shape of `honest`, f (an integer in
 * [0, {@link MAX_BYZANTINE}] with f·d ≤ {@link MAX_ATTACK_VALUES}), `step`, `seed` and `rng` when
 * given, then that every honest value is finite (`NON_FINITE_UPDATE`).
 */
export function readAttack<O extends AttackOptions>(
  honest: Updates,
  options: O | null | undefined,
  attack: string,
  keys: readonly (keyof O & string)[] = [],
): AttackInput<O> {
  const o = readOptions<O>(attack, options, [...ATTACK_KEYS, ...keys] as (keyof O & string)[]);
  if (options === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${attack} needs an options object with f`);
  }
  const { n, d } = validateUpdates(honest, attack);
  const f = requireInteger(attack, 'f', o.f as number, 0, MAX_BYZANTINE);
  if (f * d > MAX_ATTACK_VALUES) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${attack}: f·d = ${f}·${d} exceeds ${MAX_ATTACK_VALUES} output values (f ≤ ${Math.floor(MAX_ATTACK_VALUES / d)} for d=${d})`,
    );
  }
  // `step` is trainRobust's step unless the attack has its own (optimalSearch's line-search step).
  if (o.step !== undefined && !(keys as readonly string[]).includes('step')) requireInteger(attack, 'step', o.step, 0);
  if (o.seed !== undefined) requireNumber(attack, 'seed', o.seed);
  if (o.rng !== undefined) validateRng(o.rng, attack);
  for (let i = 0; i < n; i++) {
    if (!isFiniteVector(honest[i])) {
      throw new RobustAggError(
        'NON_FINITE_UPDATE',
        `${attack}: honest vector ${i} holds NaN or ±Infinity (attacks need finite honest vectors)`,
      );
    }
  }
  return { h: n, d, f, o };
}

/** The generator of a randomized attack: `o.rng` checked, else a fresh one from `o.seed` (one is required). */
export function attackRng(o: Partial<AttackOptions>, attack: string): Rng {
  return resolveValidRng({ rng: o.rng, seed: o.seed }, attack);
}

const overflowErrors = new WeakSet<RobustAggError>();

/**
 * The error an attack throws when an option makes an output value overflow float32. Tagged, so
 * that the searches of `optimal` can tell "this scale is too large" from other errors.
 */
export function overflowError(message: string): RobustAggError {
  const e = new RobustAggError('INVALID_OPTION', message);
  overflowErrors.add(e);
  return e;
}

/** True for an error made by {@link overflowError}. */
export function isOverflowError(e: unknown): boolean {
  return e instanceof RobustAggError && overflowErrors.has(e);
}

/**
 * Rounds float64 values to float32, throwing an {@link overflowError} at the first value whose
 * float32 rounding is ±Infinity (or that is NaN). `why(k, value)` says, for the message, which
 * option is out of range; the message starts with the attack's name.
 */
export function toFloat32(values: ArrayLike<number>, attack: string, why: (k: number, value: number) => string): Float32Array {
  const out = Float32Array.from(values);
  for (let k = 0; k < out.length; k++) {
    const v = out[k];
    if (v - v !== 0) throw overflowError(`${attack}: ${why(k, values[k])}`);
  }
  return out;
}

/** Coordinate-wise mean of the rows, accumulated in float64. */
export function meanVector(rows: readonly Float32Array[]): Float64Array {
  const d = rows[0].length;
  const out = new Float64Array(d);
  for (const row of rows) for (let k = 0; k < d; k++) out[k] += row[k];
  const inv = 1 / rows.length;
  for (let k = 0; k < d; k++) out[k] *= inv;
  return out;
}

/** Coordinate-wise sum of the rows, accumulated in float64. */
export function sumVector(rows: readonly Float32Array[]): Float64Array {
  const d = rows[0].length;
  const out = new Float64Array(d);
  for (const row of rows) for (let k = 0; k < d; k++) out[k] += row[k];
  return out;
}

/** The largest |v_k|. */
export function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < v.length; k++) m = Math.max(m, Math.abs(v[k]));
  return m;
}

/**
 * Coordinate-wise standard deviation of the rows around `mean`, with `ddof` degrees of freedom
 * removed (1: the sample standard deviation, numpy's `ddof=1`, torch's default). Needs
 * rows.length > ddof.
 */
export function stdVector(rows: readonly Float32Array[], mean: Float64Array, ddof = 1): Float64Array {
  const d = mean.length;
  const out = new Float64Array(d);
  for (const row of rows) {
    for (let k = 0; k < d; k++) {
      const u = row[k] - mean[k];
      out[k] += u * u;
    }
  }
  const inv = 1 / (rows.length - ddof);
  for (let k = 0; k < d; k++) out[k] = Math.sqrt(out[k] * inv);
  return out;
}

/** f independent float32 copies of `v` (so that a caller may modify one without the others). */
export function copies(v: ArrayLike<number>, f: number): Float32Array[] {
  const first = Float32Array.from(v);
  const out: Float32Array[] = [];
  for (let j = 0; j < f; j++) out.push(j === 0 ? first : Float32Array.from(first));
  return out;
}

/** Throws `TOO_FEW_CLIENTS` unless at least `min` honest vectors are given. */
export function requireHonest(attack: string, h: number, min: number, why: string): void {
  if (h < min) {
    throw new RobustAggError('TOO_FEW_CLIENTS', `${attack} needs at least ${min} honest vectors (${why}), got ${h}`);
  }
}

/**
 * A bound on |ξ| for every N(0, 1) draw of the library's generator: Box–Muller with a 53-bit
 * uniform u ≥ 2⁻⁵³ gives |ξ| ≤ √(−2 ln 2⁻⁵³) ≈ 8.5716.
 */
export const GAUSSIAN_TAIL = 8.6;

/**
 * f rows centre + σ·ξ with ξ ~ N(0, I) drawn from `rng` (float64, then float32). A custom
 * generator whose draw makes a value overflow float32 throws `INVALID_OPTION`.
 */
export function gaussianRows(attack: string, centre: Float64Array, sigma: number, f: number, rng: Rng): Float32Array[] {
  const d = centre.length;
  const out: Float32Array[] = [];
  for (let j = 0; j < f; j++) {
    const v = new Float32Array(d);
    for (let k = 0; k < d; k++) {
      const xi = rng.gaussian();
      const x = centre[k] + sigma * xi;
      v[k] = x;
      if (v[k] - v[k] !== 0) {
        throw overflowError(
          `${attack}: μ + σ·ξ = ${x} overflows float32 at vector ${j}, coordinate ${k} (sigma = ${sigma}, rng.gaussian() gave ${xi})`,
        );
      }
    }
    out.push(v);
  }
  return out;
}
