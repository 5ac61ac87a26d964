import { RobustAggError } from './errors.js';

/**
 * A seeded pseudo-random source. Every randomized function in robust-agg draws from one of these,
 * never from `Math.random`, so the same seed gives the same result on every platform.
 */
export interface Rng {
  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /**
   * A uniform integer in [0, bound), without modulo bias.
   *
   * @param bound - the number of possible values: an integer in [1, 2³²].
   */
  nextInt(bound: number): number;
  /** A standard normal sample N(0, 1). */
  gaussian(): number;
}

/** How randomized functions receive their randomness: a `seed` or a ready {@link Rng}. */
export interface RandomOptions {
  /** Seed for a fresh {@link createRng} generator (any 32-bit integer; other numbers are hashed). */
  seed?: number;
  /** A generator to draw from; it advances, so successive calls differ. Wins over `seed`. */
  rng?: Rng;
}

const TWO_POW_32 = 4294967296;

/** splitmix32 step: spreads one seed into well-mixed 32-bit words for the xoshiro state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Creates a seeded xoshiro128** generator (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021), its 128-bit state filled from `seed` by splitmix32. Period 2¹²⁸ − 1;
 * fast with 32-bit integer arithmetic in JavaScript. Gaussian samples use the Box–Muller transform
 * (both values of each pair are used).
 *
 * @param seed - any finite number; non-integers are hashed to 32 bits.
 * @example
 * ```ts
 * import { createRng } from 'robust-agg';
 *
 * const rng = createRng(42);
 * console.log(rng.next());      // uniform in [0, 1): 0.6606… for seed 42, on every platform
 * console.log(rng.gaussian());  // N(0, 1)
 * console.log(rng.nextInt(6));  // uniform in {0, …, 5}
 * ```
 */
export function createRng(seed: number): Rng {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new RobustAggError('INVALID_OPTION', `createRng: seed must be a finite number, got ${String(seed)}`);
  }
  return xoshiro128(seedWords(seed), Float64Array.of(NaN));
}

/**
 * The xoshiro128** state {@link createRng} starts from: four 32-bit words filled from `seed` by
 * splitmix32 (never all zero, the one fixed point).
 *
 * @internal
 */
export function seedWords(seed: number): Int32Array {
  const mix = { s: Number.isInteger(seed) ? seed | 0 : hashDouble(seed) };
  const s = Int32Array.of(splitmix32(mix), splitmix32(mix), splitmix32(mix), splitmix32(mix));
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

/**
 * The {@link createRng} generator over a state the caller owns: `s` the four xoshiro128** words,
 * `spare[0]` the second value of the last Box–Muller pair (NaN when there is none). Every draw
 * updates them in place, so a caller that keeps the arrays can save and restore the stream.
 *
 * @internal
 */
export function xoshiro128(s: Int32Array, spare: Float64Array): Rng {
  const nextUint32 = (): number => {
    const s1 = s[1];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[2] ^= s[0];
    s[3] ^= s1;
    s[1] = s1 ^ s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const next = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  const nextInt = (bound: number): number => {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      throw new RobustAggError('INVALID_OPTION', `Rng.nextInt: bound must be an integer in [1, 2^32], got ${bound}`);
    }
    // Rejection sampling on the top of the 32-bit range removes modulo bias.
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    let x = nextUint32();
    while (x >= limit) x = nextUint32();
    return x % bound;
  };
  const gaussian = (): number => {
    const z = spare[0];
    if (!Number.isNaN(z)) {
      spare[0] = NaN;
      return z;
    }
    let u = next();
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare[0] = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { nextUint32, next, nextInt, gaussian };
}

/**
 * The generator a randomized function should use: `options.rng` if given, else a fresh one from
 * `options.seed`. Throws `INVALID_OPTION` naming the function when neither is given, because a
 * silent default seed would repeat the same "random" draw every round of a training loop.
 *
 * @param options - the caller's `{ seed }` or `{ rng }` (`rng` wins when both are given); undefined
 *   throws.
 * @param rule - the function name used in the error message.
 * @example
 * ```ts
 * import { createRng, resolveRng } from 'robust-agg';
 *
 * const fromSeed = resolveRng({ seed: 7 }, 'myRule'); // a fresh generator seeded with 7
 * const shared = createRng(1);
 * console.log(resolveRng({ rng: shared }, 'myRule') === shared); // true: the caller's generator
 * console.log(fromSeed.next());
 * ```
 */
export function resolveRng(options: RandomOptions | undefined, rule: string): Rng {
  if (options?.rng !== undefined) return options.rng;
  if (options?.seed !== undefined) return createRng(options.seed);
  throw new RobustAggError(
    'INVALID_OPTION',
    `${rule} is randomized: pass { seed } or { rng } (robust-agg never uses Math.random)`,
  );
}

/**
 * A uniformly random permutation of 0..n−1 (Fisher–Yates, Knuth vol. 2 §3.4.2).
 *
 * @param n - the number of elements, an integer ≥ 0 (0 gives `[]`).
 * @param rng - the generator to draw from; it advances by n − 1 draws of `nextInt`.
 * @example
 * ```ts
 * import { createRng, randomPermutation } from 'robust-agg';
 *
 * console.log(randomPermutation(5, createRng(1))); // [2, 1, 0, 4, 3]
 * ```
 */
export function randomPermutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Fills `out` with independent N(mean, std²) samples drawn from `rng`, or a new array of length
 * `out` when a number is given.
 *
 * @param out - the array to fill (overwritten and returned), or the length of a new one.
 * @param rng - the generator to draw from; it advances by one Gaussian sample per value.
 * @param mean - the mean of the samples; default 0.
 * @param std - their standard deviation; default 1.
 * @returns `out` (or the new array), filled.
 * @example
 * ```ts
 * import { createRng, gaussianVector } from 'robust-agg';
 *
 * const noise = gaussianVector(1000, createRng(3), 0, 0.01);
 * const rms = Math.sqrt(noise.reduce((s, x) => s + x * x, 0) / noise.length);
 * console.log(rms.toFixed(4)); // close to 0.01
 * ```
 */
export function gaussianVector(out: Float32Array | number, rng: Rng, mean = 0, std = 1): Float32Array {
  const v = typeof out === 'number' ? new Float32Array(out) : out;
  for (let i = 0; i < v.length; i++) v[i] = mean + std * rng.gaussian();
  return v;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function hashDouble(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return (view.getUint32(0) ^ Math.imul(view.getUint32(4), 0x9e3779b1)) | 0;
}

/** Generators {@link validateRng} built or {@link resolveValidRng} created from a seed: already checked. */
const checkedRngs = new WeakSet<Rng>();

/**
 * Marks a generator robust-agg built itself as checked, so {@link validateRng} returns it as is
 * (no guarded view) and whoever built it can still recognise it.
 *
 * @internal
 */
export function trustRng(rng: Rng): Rng {
  checkedRngs.add(rng);
  return rng;
}

/**
 * Checks a caller-supplied generator and returns a guarded view of it. `rng` must be an object with
 * the four {@link Rng} methods (each read once); the view forwards every call to them and checks
 * each result — `nextUint32()` an integer in [0, 2³²), `next()` a number in [0, 1),
 * `nextInt(bound)` an integer in [0, bound), `gaussian()` a finite number — so that a wrong
 * generator fails with a {@link RobustAggError} (`INVALID_OPTION`, naming `rule` and the method)
 * instead of a `TypeError` or a silent NaN. A view is returned unchanged when passed again.
 *
 * Internal (not exported from the package); a rule calls it as
 * `const rng = validateRng(opts.rng, 'gaussian')`.
 *
 * @param rng - the value the caller passed as `rng`.
 * @param rule - the function name used in error messages.
 */
export function validateRng(rng: unknown, rule: string): Rng {
  if (rng === null || (typeof rng !== 'object' && typeof rng !== 'function')) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: rng must be a generator with nextUint32, next, nextInt and gaussian (e.g. createRng(seed)), got ${rng === null ? 'null' : typeof rng}`,
    );
  }
  if (checkedRngs.has(rng as Rng)) return rng as Rng;
  const source = rng as Record<string, unknown>;
  const method = (name: keyof Rng): ((...args: number[]) => unknown) => {
    let fn: unknown;
    try {
      fn = source[name];
    } catch (e) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: reading rng.${name} threw (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof fn !== 'function') {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: rng.${name} must be a function (an Rng has nextUint32, next, nextInt and gaussian), got ${typeof fn}`,
      );
    }
    return fn as (...args: number[]) => unknown;
  };
  const rawUint32 = method('nextUint32');
  const rawNext = method('next');
  const rawInt = method('nextInt');
  const rawGaussian = method('gaussian');
  const bad = (call: string, want: string, got: unknown): never => {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: rng.${call} must return ${want}, got ${typeof got === 'number' ? String(got) : typeof got}`,
    );
  };
  const view: Rng = {
    nextUint32(): number {
      const x = rawUint32.call(rng);
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= TWO_POW_32) bad('nextUint32()', 'an integer in [0, 2^32)', x);
      return x as number;
    },
    next(): number {
      const x = rawNext.call(rng);
      if (typeof x !== 'number' || !(x >= 0 && x < 1)) bad('next()', 'a number in [0, 1)', x);
      return x as number;
    },
    nextInt(bound: number): number {
      if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
        throw new RobustAggError('INVALID_OPTION', `Rng.nextInt: bound must be an integer in [1, 2^32], got ${bound}`);
      }
      const x = rawInt.call(rng, bound);
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= bound) bad(`nextInt(${bound})`, `an integer in [0, ${bound})`, x);
      return x as number;
    },
    gaussian(): number {
      const x = rawGaussian.call(rng);
      if (typeof x !== 'number' || !Number.isFinite(x)) bad('gaussian()', 'a finite number', x);
      return x as number;
    },
  };
  checkedRngs.add(view);
  return view;
}

/**
 * Like {@link resolveRng}, with every input checked: `random.rng` (when given) goes through
 * {@link validateRng}; `random.seed` (when given, even next to an `rng`) must be a finite number;
 * neither given throws `INVALID_OPTION` naming the function. Every failure is a
 * {@link RobustAggError} whose message names `rule`, never a `TypeError`. Pass the options snapshot
 * returned by `readOptions`, so each value is read once.
 *
 * Internal (not exported from the package); a rule calls it as
 * `const rng = resolveValidRng(opts, 'gaussian')`.
 *
 * @param random - the options snapshot holding the caller's `seed` and/or `rng`.
 * @param rule - the function name used in error messages.
 */
export function resolveValidRng(random: RandomOptions, rule: string): Rng {
  const { seed, rng } = random;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: seed must be a finite number, got ${typeof seed === 'number' ? String(seed) : typeof seed}`);
  }
  if (rng !== undefined) return validateRng(rng, rule);
  if (seed !== undefined) {
    const fresh = createRng(seed);
    checkedRngs.add(fresh);
    return fresh;
  }
  throw new RobustAggError(
    'INVALID_OPTION',
    `${rule} is randomized: pass { seed } or { rng } (robust-agg never uses Math.random)`,
  );
}

/**
 * A generator from `seed` (the {@link createRng} stream) that can draw its Gaussians ahead of
 * time: `ahead(k)` draws up to k more into a buffer of `capacity` (until `full`), and
 * `rng.gaussian()` serves the buffered values first, in order, then draws on. The values and their order are exactly those of
 * `createRng(seed).gaussian()`, however many were drawn ahead. For a consumer that draws only
 * Gaussians (FLAME's noise): an aggregation round's worker draws them while it waits for updates.
 * `nextUint32`, `next` and `nextInt` are refused while drawn-ahead values are unserved (they would
 * come out of order). Trusted by {@link validateRng} (no per-call checks).
 *
 * @internal
 */
export function createDrawAheadRng(seed: number, capacity: number): { rng: Rng; readonly full: boolean; ahead(k: number): number } {
  const base = createRng(seed);
  const buffer = new Float64Array(capacity);
  let drawn = 0;
  let served = 0;
  // Once the consumer has drawn past the buffer, the stream is live: nothing more is drawn ahead.
  let live = false;
  const direct = <T>(f: () => T): T => {
    if (served < drawn) throw new Error('createDrawAheadRng: a uniform draw with Gaussians drawn ahead would reorder the stream');
    live = true;
    return f();
  };
  const rng: Rng = {
    nextUint32: () => direct(base.nextUint32),
    next: () => direct(base.next),
    nextInt: (bound: number) => direct(() => base.nextInt(bound)),
    gaussian: () => (served < drawn ? buffer[served++] : direct(base.gaussian)),
  };
  checkedRngs.add(rng);
  return {
    rng,
    /** Nothing more will be drawn ahead: the buffer is full, or the consumer drew past it. */
    get full(): boolean {
      return live || drawn === capacity;
    },
    ahead(k: number): number {
      if (!live) {
        const end = Math.min(capacity, drawn + k);
        for (; drawn < end; drawn++) buffer[drawn] = base.gaussian();
      }
      return drawn;
    },
  };
}
