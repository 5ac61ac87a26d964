/**
 * Small helpers shared by the rules of the wider catalogue (fltrust, foolsGold, dnc, signGuard,
 * clippedClustering, …). Not re-exported from the package: each rule documents what it uses.
 */
import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import type { Rng } from '../core/random.js';
import { isFiniteVector } from '../kernels/finite.js';
import { maxOf, quickselect } from '../kernels/quickselect.js';

/**
 * Cosine similarities from an uncentred Gram matrix G = XXᵀ (row-major n×n):
 * cos_ij = G_ij / √(G_ii·G_jj), and 0 when either row is the zero vector (the convention of
 * scikit-learn's `cosine_similarity` and of torch's `cosine_similarity`, whose ε makes 0/0 → 0).
 * The diagonal is 1 for non-zero rows and 0 for zero rows. Values are clamped to [−1, 1] against
 * rounding. Cosines need the raw inner products, so G must not be centred.
 */
export function cosinesFromGram(g: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const gii = Math.max(0, g[i * n + i]);
    out[i * n + i] = gii > 0 ? 1 : 0;
    for (let j = 0; j < i; j++) {
      // √(GᵢᵢGⱼⱼ) rather than √Gᵢᵢ·√Gⱼⱼ: for identical rows √(x·x) = x exactly, so cos = 1 exactly.
      const denominator = Math.sqrt(gii * Math.max(0, g[j * n + j]));
      const c = denominator > 0 ? Math.min(1, Math.max(-1, g[i * n + j] / denominator)) : 0;
      out[i * n + j] = c;
      out[j * n + i] = c;
    }
  }
  return out;
}

/**
 * Median of a list of numbers (not NaN); for an even count the mean of the two middle values
 * (numpy's convention, DESIGN §3), computed as a/2 + b/2 so that two values near ±1.8·10³⁰⁸ do
 * not overflow. Does not modify its input. Empty input gives NaN. O(m) expected (quickselect).
 */
export function medianOf(values: ArrayLike<number>): number {
  const m = values.length;
  if (m === 0) return NaN;
  const a = Float64Array.from(values);
  const h = m >>> 1;
  quickselect(a, 0, m - 1, h);
  if ((m & 1) === 1) return a[h];
  const lower = maxOf(a, 0, h - 1);
  return lower / 2 + a[h] / 2;
}

/**
 * `count` distinct integers drawn uniformly from [0, d), ascending (Floyd's algorithm, Bentley &
 * Floyd, "A sample of brilliance", CACM 1987): `count` draws from `rng`, O(count) memory. With
 * count ≥ d every index is returned and nothing is drawn.
 */
export function sampleIndices(d: number, count: number, rng: Rng): Int32Array {
  if (count >= d) return Int32Array.from({ length: d }, (_, k) => k);
  const chosen = new Set<number>();
  for (let j = d - count; j < d; j++) {
    const t = rng.nextInt(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen).sort();
}

/**
 * Checks a vector option (a server update, a trusted vector): a finite `Float32Array` of length d,
 * from this realm or another (vm, iframe). Throws `INVALID_OPTION` naming the rule and the option
 * otherwise.
 */
export function requireVector(rule: string, name: string, value: unknown, d: number): Float32Array {
  const typed = ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Float32Array]';
  if (!typed || (value as Float32Array).length !== d) {
    const got = typed ? `length ${(value as Float32Array).length}` : describeValue(value);
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be a Float32Array of length d=${d}, got ${got}`);
  }
  if (!isFiniteVector(value as Float32Array)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} holds NaN or ±Infinity`);
  }
  return value as Float32Array;
}


/**
 * Checks a numeric option that may be +∞ (a cap or a limit that can be lifted): a number ≥ min,
 * not NaN. Throws `INVALID_OPTION` naming the rule and the option otherwise.
 */
export function requireLimit(rule: string, name: string, value: number, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value === -Infinity) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${name} must be a number ≥ ${min} (Infinity allowed), got ${String(value)}`);
  }
  return value;
}
