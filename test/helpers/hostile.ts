/**
 * Hostile but finite clients (issue 14), shared by the tests of the catalogue rules: the largest
 * float32 magnitudes, sparse "blinders" and zero rows, and checks that an output stays finite and
 * near the honest clients.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { createRng } from '../../src/core/random.js';
import { RobustAggError } from '../../src/core/errors.js';
import { setKernelBackend, type KernelBackend } from '../../src/kernels/backend.js';

/** A float32 magnitude just under the largest finite one (3.4028235e38). */
export const HUGE = Math.fround(3.4e38);

/** Every coordinate ±3.4e38 (signs alternate in blocks of three, so it has a direction). */
export function hugeRow(d: number, sign = 1): Float32Array {
  return Float32Array.from({ length: d }, (_, k) => sign * (k % 3 === 2 ? -HUGE : HUGE));
}

/** 1e30 on every 256th coordinate (k % 256 = 0), 0 elsewhere: the Gram-blinding client of issue 14. */
export function blinderRow(d: number, value = 1e30): Float32Array {
  return Float32Array.from({ length: d }, (_, k) => (k % 256 === 0 ? value : 0));
}

/** `rows` with `attacker` inserted at each of `positions` (ascending positions in the result). */
export function insertAt(rows: readonly Float32Array[], attacker: Float32Array, positions: readonly number[]): Float32Array[] {
  const out = [...rows];
  for (const p of [...positions].sort((a, b) => a - b)) out.splice(p, 0, Float32Array.from(attacker));
  return out;
}

/** Throws unless every value is finite (names the first bad coordinate). */
export function expectFinite(x: ArrayLike<number>, what = 'output'): void {
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) expect.fail(`${what}[${k}] = ${x[k]} is not finite`);
  }
}

/**
 * Largest distance from `x` to the mean of `honest`, divided by the honest clients' radius
 * (largest distance of an honest client to their mean; at least 1e-30).
 */
export function distanceInHonestRadii(x: ArrayLike<number>, honest: readonly Float32Array[]): number {
  const d = honest[0].length;
  const mean = new Float64Array(d);
  for (const h of honest) for (let k = 0; k < d; k++) mean[k] += h[k] / honest.length;
  const dist = (y: ArrayLike<number>): number => {
    let s = 0;
    for (let k = 0; k < d; k++) s += (y[k] - mean[k]) ** 2;
    return Math.sqrt(s);
  };
  const radius = Math.max(1e-30, ...honest.map(dist));
  return dist(x) / radius;
}

/** Runs `body` once on the plain kernels and once on the WebAssembly kernels, restoring 'auto'. */
export function onBothBackends(body: (backend: KernelBackend) => void): void {
  try {
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      body(backend);
    }
  } finally {
    setKernelBackend('auto');
  }
}

/** The error code `run` throws (it must be a RobustAggError), or its result. */
export function outcome<T>(run: () => T): { code: string } | { value: T } {
  try {
    return { value: run() };
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    return { code: (e as RobustAggError).code };
  }
}

/** Throws unless `run` throws a RobustAggError with `code` and a message matching `message`. */
export function expectError(run: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a RobustAggError ${code}`).toBeInstanceOf(RobustAggError);
  expect((caught as RobustAggError).code).toBe(code);
  expect((caught as RobustAggError).message).toMatch(message);
}

/** The hostile clients every rule is tried against: huge everywhere (both signs), a blinder, a zero row. */
export function hostileKinds(d: number): { name: string; row: Float32Array }[] {
  return [
    { name: 'huge', row: hugeRow(d) },
    { name: '-huge', row: hugeRow(d, -1) },
    { name: 'blinder', row: blinderRow(d) },
  ];
}

/** Positions of f attackers among n: at the front (row 0 included), spread out, at the end. */
export function attackerPositions(n: number, f: number): number[][] {
  const front = Array.from({ length: f }, (_, k) => k);
  const spread = Array.from({ length: f }, (_, k) => Math.floor(((k + 0.5) * n) / f));
  const back = Array.from({ length: f }, (_, k) => n - f + k);
  return [front, spread, back];
}

/** One adversarial case: honest rows, f attackers of random magnitude, sparsity and position. */
export interface HostileCase {
  honest: Float32Array[];
  rows: Float32Array[];
  positions: number[];
  f: number;
}

/**
 * Adversarial cases for the breakdown-point rules: `h` honest clients around (1, …, 1) with spread
 * 0.1 in d ≤ 600 coordinates, and f ≤ maxF attackers inserted at random positions (row 0 often),
 * each of magnitude ±10^e (e from minExponent to 38, capped at float32's largest) on every
 * s-th coordinate from a random offset (s = 1 dense, up to 300: a sparse blinder); `colluding`
 * makes the f attackers identical.
 */
export function hostileCaseArb(
  options: { minHonest: number; maxHonest: number; maxF: number; minExponent?: number; colluding?: boolean },
): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      h: fc.integer({ min: options.minHonest, max: options.maxHonest }),
      f: fc.integer({ min: 1, max: options.maxF }),
      d: fc.integer({ min: 1, max: 600 }),
      seed: fc.integer(),
      exponent: fc.integer({ min: options.minExponent ?? 0, max: 38 }),
      stride: fc.constantFrom(1, 2, 7, 256, 300),
      sign: fc.constantFrom(1, -1),
      atFront: fc.boolean(),
    })
    .map(({ h, f, d, seed, exponent, stride, sign, atFront }) => {
      const rng = createRng(seed);
      const honest = Array.from({ length: h }, () => Float32Array.from({ length: d }, () => 1 + 0.1 * rng.gaussian()));
      const magnitude = Math.min(HUGE, 10 ** exponent);
      const attacker = (): Float32Array => {
        const offset = rng.nextInt(Math.min(stride, d));
        return Float32Array.from({ length: d }, (_, k) =>
          k % stride === offset ? sign * magnitude * (k % 3 === 2 ? -1 : 1) : 0,
        );
      };
      const shared = attacker();
      const n = h + f;
      const chosen = new Set<number>(atFront ? [0] : []);
      while (chosen.size < f) chosen.add(rng.nextInt(n));
      const positions = [...chosen].sort((a, b) => a - b);
      const rows: Float32Array[] = [];
      let next = 0;
      for (let i = 0; i < n; i++) {
        if (chosen.has(i)) rows.push(options.colluding === true ? Float32Array.from(shared) : attacker());
        else rows.push(honest[next++]);
      }
      return { honest, rows, positions, f };
    });
}

/** One placement of hostile clients among the honest ones, as {@link forEachHostileCase} gives it. */
export interface HostilePlacement {
  /** The honest rows with the attacker inserted at `positions`. */
  rows: Float32Array[];
  /** Where the attackers sit in `rows` (ascending). */
  positions: number[];
  /** Indices of the honest clients in `rows`. */
  honestIndex: number[];
  /** "backend kind at p,q,…", for assertion messages. */
  label: string;
}

/**
 * Runs `body` for every kernel backend × hostile kind ({@link hostileKinds}) × attacker placement
 * ({@link attackerPositions}: front, spread, back) of f copies of the attacker among `honest`.
 */
export function forEachHostileCase(honest: readonly Float32Array[], f: number, body: (c: HostilePlacement) => void): void {
  const d = honest[0].length;
  onBothBackends((backend) => {
    for (const { name, row } of hostileKinds(d)) {
      for (const positions of attackerPositions(honest.length + f, f)) {
        const rows = insertAt(honest, row, positions);
        const honestIndex = rows.flatMap((_, i) => (positions.includes(i) ? [] : [i]));
        body({ rows, positions, honestIndex, label: `${backend} ${name} at ${positions.join(',')}` });
      }
    }
  });
}
