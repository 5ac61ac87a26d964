/**
 * Hostile clients for the red-team property tests (issue 14, DESIGN §5): an attacker controls its
 * whole update — any finite float32 up to ±3.4e38, any sparsity, any position in the list (row 0
 * included), colluding copies — and the honest clients send ordinary federated-learning data:
 * dense Gaussian, top-k sparse (60–99 % zeros, with −0), QSGD-like quantized (multiples of 0.25),
 * tiny (subnormal) or large, with duplicates.
 *
 * A case is described by a small plain record (`CaseSpec`), so a failing property prints a
 * readable counterexample that fast-check can shrink; `buildCase` turns it into rows.
 */
import fc from 'fast-check';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/random.js';
import { setKernelBackend } from '../../src/kernels/backend.js';

/** Largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;

/** How the honest clients look. */
export type HonestKind = 'gaussian' | 'sparse' | 'quantized' | 'signedZeros';

/**
 * How one attacker looks:
 * - `huge`: ±M (1e10 … 3.4e38) at every `stride`-th coordinate from `offset`, on a base of 0, the
 *   honest mean or its negation;
 * - `blinder`: M (1e20 … 3.4e38) every 256th coordinate from `offset % 256`, 0 elsewhere — the
 *   Gram-blinding client of issue 14;
 * - `flip`: −s·μ (s from 1 to 1e30, clamped to ±3.4e38), the poisoned client of issue 14 (s=100);
 * - `tiny`: subnormal/tiny values (1e-45 … 1e-30) at the stride, 0 elsewhere;
 * - `negZero`: −0 everywhere, a few tiny negatives;
 * - `mimic`: a copy of honest client 0 (a duplicate).
 */
export type AttackKind = 'huge' | 'blinder' | 'flip' | 'tiny' | 'negZero' | 'mimic';

/** Attacks that put an attacker far away (≥ 1e10 in some coordinate or ≥ 100× the honest mean). */
export const FAR_ATTACKS: readonly AttackKind[] = ['huge', 'blinder', 'flip'];
/** Every attack. */
export const ALL_ATTACKS: readonly AttackKind[] = ['huge', 'blinder', 'flip', 'tiny', 'negZero', 'mimic'];

/** Where the attackers sit in the list. */
export type Placement = 'first' | 'last' | 'random';

/** A hostile case, as fast-check generates and prints it. */
export interface CaseSpec {
  /** Number of clients. */
  n: number;
  /** Length of every update. */
  d: number;
  /** Number of attackers (the rule's declared f is chosen by the test, ≥ b). */
  b: number;
  honestKind: HonestKind;
  /** Honest scale: honest values ≈ scale·(centre + spread·noise). */
  scaleExp: number;
  /** Size of the common honest centre relative to the spread (0: centred at 0). */
  centre: number;
  /** Spread of the honest clients around their centre. */
  spread: number;
  /** Fraction of zeros for 'sparse' / 'signedZeros' honest clients. */
  sparsity: number;
  /** Honest client 1 is a copy of honest client 0 (duplicates). */
  honestDuplicate: boolean;
  /** One entry per attacker (cycled when b is larger). */
  attacks: AttackKind[];
  /** All attackers send the same vector (the first attacker's). */
  collude: boolean;
  /** log10 of the attackers' magnitude M (huge: 10 … 38.53; blinder: 20 … 38.53; flip: 0 … 30). */
  magnitudeExp: number;
  stride: number;
  offset: number;
  /** 0: M; 1: −M; 2: alternating signs. */
  signPattern: 0 | 1 | 2;
  /** 0: zero base; 1: honest mean; 2: minus the honest mean (for 'huge'). */
  base: 0 | 1 | 2;
  placement: Placement;
  seed: number;
}

/** A built case. */
export interface HostileCase {
  readonly spec: CaseSpec;
  /** Every client, in input order. */
  readonly rows: Float32Array[];
  /** Input indices of the honest clients (ascending). */
  readonly honestIdx: number[];
  /** Input indices of the attackers (ascending). */
  readonly attackerIdx: number[];
  /** The honest rows (in input order). */
  readonly honest: Float32Array[];
  readonly n: number;
  readonly d: number;
}

/** Strides that hit SIMD lanes, block edges (256, 1024) and everything in between. */
const STRIDES = [1, 2, 3, 4, 7, 64, 255, 256, 257, 1023, 1024, 4096];

/** Options of {@link caseArb}. */
export interface CaseArbOptions {
  /** Range of n. */
  n: [number, number];
  /** Largest number of attackers for a given n (at least 0). */
  maxAttackers: (n: number) => number;
  /** Smallest number of attackers. Default 1 (0 when maxAttackers is 0). */
  minAttackers?: number;
  /** Length d for a given n; default so that n·d ≥ 2¹⁶ (the fast kernels' threshold). */
  d?: (n: number) => number;
  /** Extra columns added to d (0 … extraD) so d is rarely a multiple of 4 or 256. Default 300. */
  extraD?: number;
  honestKinds?: readonly HonestKind[];
  attacks?: readonly AttackKind[];
  /** Honest scales 10^e allowed. Default −36, −20, −3, 0, 3, 20. */
  scaleExps?: readonly number[];
  /** Honest centre sizes allowed. Default 0, 1, 30. */
  centres?: readonly number[];
  placements?: readonly Placement[];
}

/** Default length: n·d ≥ 2¹⁶, so the default backend ('auto') also takes the WebAssembly path. */
export const fastPathD = (n: number): number => Math.ceil(65536 / n);

/** The fast-check arbitrary of hostile cases. */
export function caseArb(o: CaseArbOptions): fc.Arbitrary<CaseSpec> {
  const attacks = o.attacks ?? ALL_ATTACKS;
  return fc
    .integer({ min: o.n[0], max: o.n[1] })
    .chain((n) => {
      const maxB = Math.max(0, o.maxAttackers(n));
      const minB = Math.min(maxB, o.minAttackers ?? (maxB > 0 ? 1 : 0));
      return fc.record({
        n: fc.constant(n),
        d: fc.integer({ min: 0, max: o.extraD ?? 300 }).map((extra) => (o.d ?? fastPathD)(n) + extra),
        b: fc.integer({ min: minB, max: maxB }),
        honestKind: fc.constantFrom(...(o.honestKinds ?? (['gaussian', 'sparse', 'quantized', 'signedZeros'] as const))),
        scaleExp: fc.constantFrom(...(o.scaleExps ?? [-36, -20, -3, 0, 0, 3, 20])),
        centre: fc.constantFrom(...(o.centres ?? [0, 1, 30])),
        spread: fc.constantFrom(0.01, 0.3, 1),
        sparsity: fc.double({ min: 0.6, max: 0.99, noNaN: true }),
        honestDuplicate: fc.boolean(),
        attacks: fc.array(fc.constantFrom(...attacks), { minLength: 1, maxLength: 3 }),
        collude: fc.boolean(),
        magnitudeExp: fc.double({ min: 0, max: 1, noNaN: true }),
        stride: fc.constantFrom(...STRIDES),
        offset: fc.nat({ max: 5000 }),
        signPattern: fc.constantFrom(0 as const, 1 as const, 2 as const),
        base: fc.constantFrom(0 as const, 1 as const, 2 as const),
        placement: fc.constantFrom(...(o.placements ?? (['first', 'last', 'random'] as const))),
        seed: fc.integer(),
      });
    });
}

/** log10 of the magnitude of an attack, from the spec's uniform [0, 1] draw. */
function magnitude(kind: AttackKind, u: number): number {
  const [lo, hi] = kind === 'huge' ? [10, 38.53] : kind === 'blinder' ? [20, 38.53] : kind === 'flip' ? [0, 30] : [-45, -30];
  return Math.min(F32_MAX, 10 ** (lo + u * (hi - lo)));
}

/** Rounds to float32 and clamps to the finite float32 range. */
function f32(v: number): number {
  const x = Math.fround(v);
  if (x === Infinity) return F32_MAX;
  if (x === -Infinity) return -F32_MAX;
  return x;
}

/** Builds the rows of a case (deterministic in the spec). */
export function buildCase(spec: CaseSpec): HostileCase {
  const { n, d, b } = spec;
  const rng = createRng(spec.seed);
  const h = n - b;
  const scale = 10 ** spec.scaleExp;
  const centre = Float64Array.from({ length: d }, () => spec.centre * rng.gaussian());
  const honest: Float32Array[] = [];
  for (let i = 0; i < h; i++) {
    if (i === 1 && spec.honestDuplicate) {
      honest.push(Float32Array.from(honest[0]));
      continue;
    }
    honest.push(honestRow(spec, centre, scale, rng));
  }
  const mu = new Float64Array(d);
  for (const x of honest) for (let k = 0; k < d; k++) mu[k] += x[k] / h;
  const attackers: Float32Array[] = [];
  for (let j = 0; j < b; j++) {
    if (spec.collude && j > 0) {
      attackers.push(Float32Array.from(attackers[0]));
      continue;
    }
    attackers.push(attackRow(spec, spec.attacks[j % spec.attacks.length], mu, honest, rng, j));
  }
  const positions = attackerPositions(spec.placement, n, b, rng);
  const rows: Float32Array[] = new Array(n);
  const honestIdx: number[] = [];
  const attackerIdx = [...positions].sort((a, c) => a - c);
  let hi = 0;
  let ai = 0;
  const isAttacker = new Set(positions);
  for (let i = 0; i < n; i++) {
    if (isAttacker.has(i)) rows[i] = attackers[ai++];
    else {
      rows[i] = honest[hi++];
      honestIdx.push(i);
    }
  }
  return { spec, rows, honestIdx, attackerIdx, honest, n, d };
}

function honestRow(spec: CaseSpec, centre: Float64Array, scale: number, rng: Rng): Float32Array {
  const d = centre.length;
  const x = new Float32Array(d);
  for (let k = 0; k < d; k++) {
    let v = centre[k] + spec.spread * rng.gaussian();
    if (spec.honestKind === 'quantized') v = Math.round(v * 4) / 4;
    if ((spec.honestKind === 'sparse' || spec.honestKind === 'signedZeros') && rng.next() < spec.sparsity) {
      v = spec.honestKind === 'signedZeros' && rng.next() < 0.5 ? -0 : 0;
      x[k] = v;
      continue;
    }
    // Quantized values stay exact multiples of 0.25·scale when scale is a power of two-ish;
    // otherwise they are quantized before scaling, which keeps many exact ties.
    x[k] = f32(v * scale);
  }
  return x;
}

function attackRow(spec: CaseSpec, kind: AttackKind, mu: Float64Array, honest: Float32Array[], rng: Rng, j: number): Float32Array {
  const d = mu.length;
  const x = new Float32Array(d);
  const m = magnitude(kind, spec.magnitudeExp);
  const signAt = (t: number) => (spec.signPattern === 0 ? 1 : spec.signPattern === 1 ? -1 : t % 2 === 0 ? 1 : -1);
  switch (kind) {
    case 'huge': {
      if (spec.base !== 0) for (let k = 0; k < d; k++) x[k] = f32((spec.base === 1 ? 1 : -1) * mu[k]);
      let t = 0;
      for (let k = (spec.offset + j) % Math.min(d, spec.stride); k < d; k += spec.stride) x[k] = f32(signAt(t++) * m);
      break;
    }
    case 'blinder': {
      let t = 0;
      for (let k = (spec.offset + 17 * j) % 256; k < d; k += 256) x[k] = f32(signAt(t++) * m);
      if (spec.offset % 2 === 0 && d > 0) x[0] = f32(m); // the issue's `k % 256 === 0` blinder, on even offsets
      break;
    }
    case 'flip':
      for (let k = 0; k < d; k++) x[k] = f32(-m * mu[k]);
      break;
    case 'tiny': {
      let t = 0;
      for (let k = spec.offset % Math.min(d, spec.stride); k < d; k += spec.stride) x[k] = f32(signAt(t++) * m);
      break;
    }
    case 'negZero':
      x.fill(-0);
      for (let t = 0; t < 3; t++) x[rng.nextInt(d)] = -1e-45;
      break;
    case 'mimic':
      x.set(honest[0]);
      break;
  }
  return x;
}

function attackerPositions(placement: Placement, n: number, b: number, rng: Rng): number[] {
  if (b === 0) return [];
  if (placement === 'first') return Array.from({ length: b }, (_, j) => j);
  if (placement === 'last') return Array.from({ length: b }, (_, j) => n - b + j);
  // random, but the attacker at row 0 is common enough to be tried often
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = rng.nextInt(i + 1);
    [all[i], all[k]] = [all[k], all[i]];
  }
  const chosen = all.slice(0, b);
  if (rng.next() < 0.5 && !chosen.includes(0)) chosen[0] = 0;
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// Exact reference statistics (float64 on the float32 values).

/** ‖a − b‖² in float64. */
export function dist2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const t = a[k] - b[k];
    s += t * t;
  }
  return s;
}

/** ‖a − b‖ in float64. */
export const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.sqrt(dist2(a, b));

/** ‖a‖ in float64. */
export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * a[k];
  return Math.sqrt(s);
}

/** ℓp distance in float64 (p ≥ 1 or Infinity), scaled against overflow. */
export function lpDist(a: ArrayLike<number>, b: ArrayLike<number>, p: number): number {
  let big = 0;
  for (let k = 0; k < a.length; k++) big = Math.max(big, Math.abs(a[k] - b[k]));
  if (p === Infinity || big === 0) return big;
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (Math.abs(a[k] - b[k]) / big) ** p;
  return big * s ** (1 / p);
}

/** What the bounds are stated in. */
export interface HonestStats {
  /** Honest mean μ (float64). */
  mean: Float64Array;
  /** r = max ‖xᵢ − μ‖ over the honest clients. */
  radius: number;
  /** δ = max ‖xᵢ − xⱼ‖ over honest pairs. */
  diameter: number;
  /** Per coordinate: min and max of the honest values. */
  lo: Float64Array;
  hi: Float64Array;
  /** Largest honest norm and smallest honest norm. */
  maxNorm: number;
  minNorm: number;
  /** Largest |value| over the honest clients (for float32 rounding slack). */
  maxAbs: number;
}

export function honestStats(honest: readonly Float32Array[]): HonestStats {
  const d = honest[0].length;
  const h = honest.length;
  const mean = new Float64Array(d);
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  let maxAbs = 0;
  for (const x of honest) {
    for (let k = 0; k < d; k++) {
      mean[k] += x[k] / h;
      if (x[k] < lo[k]) lo[k] = x[k];
      if (x[k] > hi[k]) hi[k] = x[k];
      maxAbs = Math.max(maxAbs, Math.abs(x[k]));
    }
  }
  let radius = 0;
  let diameter = 0;
  let maxNorm = 0;
  let minNorm = Infinity;
  for (let i = 0; i < h; i++) {
    radius = Math.max(radius, dist(honest[i], mean));
    const ni = norm(honest[i]);
    maxNorm = Math.max(maxNorm, ni);
    minNorm = Math.min(minNorm, ni);
    for (let j = 0; j < i; j++) diameter = Math.max(diameter, dist(honest[i], honest[j]));
  }
  return { mean, radius, diameter, lo, hi, maxNorm, minNorm, maxAbs };
}

/**
 * Float32 rounding slack for a vector output of length d whose entries are at most `scale` in
 * magnitude: a few ulps per coordinate, plus the subnormal spacing.
 */
export function roundingSlack(d: number, scale: number, ulps = 4): number {
  return Math.sqrt(d) * (ulps * 2 ** -23 * scale + 4 * 2 ** -149);
}

// ---------------------------------------------------------------------------------------------
// Assertions shared by the families.

/** The bits of a float32 vector (so −0 ≠ +0 and NaN payloads count). */
export function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

/** Index of the first coordinate whose bits differ, or −1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = bits(a);
  const y = bits(b);
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return k;
  return -1;
}

/** Throws (with the coordinate and both values) unless a and b have identical bits. */
export function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const k = firstBitDifference(a, b);
  if (k >= 0) {
    let count = 0;
    for (let t = 0; t < a.length; t++) if (bits(a)[t] !== bits(b)[t]) count++;
    throw new Error(`${what}: ${count} coordinate(s) differ in their bits, first at ${k}: ${Object.is(a[k], -0) ? '-0' : a[k]} vs ${Object.is(b[k], -0) ? '-0' : b[k]}`);
  }
}

/** Index of the first non-finite entry, or −1. */
export function firstNonFinite(x: ArrayLike<number>): number {
  for (let k = 0; k < x.length; k++) if (!Number.isFinite(x[k])) return k;
  return -1;
}

/** Throws unless every entry is finite. */
export function expectFinite(x: ArrayLike<number>, what: string): void {
  const k = firstNonFinite(x);
  if (k >= 0) throw new Error(`${what}: entry ${k} is ${x[k]} (every output must be finite)`);
}

/** Deep copies of rows. */
export const snapshot = (rows: readonly Float32Array[]): Float32Array[] => rows.map((r) => Float32Array.from(r));

/** Throws unless the rows still hold exactly the bits of `before`. */
export function expectUnchanged(rows: readonly Float32Array[], before: readonly Float32Array[], what: string): void {
  for (let i = 0; i < rows.length; i++) {
    const k = firstBitDifference(rows[i], before[i]);
    if (k >= 0) throw new Error(`${what} mutated client ${i} at coordinate ${k}`);
  }
}

/**
 * Runs `fn`; returns its value, or `null` when it threw a RobustAggError. Any other thrown value
 * (a TypeError, a RangeError from an allocation, …) fails the test.
 */
export function robustOrNull<T>(fn: () => T, what: string): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RobustAggError) return null;
    throw new Error(`${what} threw ${(e as Error)?.name ?? typeof e} instead of a RobustAggError: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Runs `fn` once on the plain kernels and once on the WebAssembly kernels; restores 'auto'. */
export function onBackends<T>(fn: () => T): { js: T; wasm: T } {
  try {
    setKernelBackend('js');
    const js = fn();
    setKernelBackend('wasm');
    const wasm = fn();
    return { js, wasm };
  } finally {
    setKernelBackend('auto');
  }
}

/** Largest |a − b| over coordinates relative to max(|b|, floor). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] === b[k]) continue;
    worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(Math.abs(b[k]), floor));
  }
  return worst;
}

/** Throws unless ‖a − b‖ ≤ tol (Euclidean, float64). */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  const e = dist(a, b);
  if (!(e <= tol)) throw new Error(`${what}: ‖a − b‖ = ${e}, more than the tolerance ${tol}`);
}

/** Throws unless ‖x − centre‖ ≤ bound. */
export function expectWithin(x: ArrayLike<number>, centre: ArrayLike<number>, bound: number, what: string): void {
  const e = dist(x, centre);
  if (!(e <= bound)) throw new Error(`${what}: distance ${e} to the honest centre exceeds the bound ${bound}`);
}

/** Throws unless lo[k] − slack_k ≤ x[k] ≤ hi[k] + slack_k for every k. */
export function expectInBox(
  x: ArrayLike<number>,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
  slack: (k: number) => number,
  what: string,
): void {
  for (let k = 0; k < x.length; k++) {
    const s = slack(k);
    if (!(x[k] >= lo[k] - s && x[k] <= hi[k] + s)) {
      throw new Error(`${what}: coordinate ${k} is ${x[k]}, outside [${lo[k]}, ${hi[k]}] (slack ${s})`);
    }
  }
}

/**
 * Property settings: few runs, large variety (the global seed comes from test/setup.ts). A failure
 * is reported as found (no shrinking, which would rerun expensive cases); set FC_SHRINK=1 to get
 * a minimal counterexample.
 */
export const RUNS = (numRuns: number) => ({ numRuns, endOnFailure: process.env.FC_SHRINK !== '1' });
