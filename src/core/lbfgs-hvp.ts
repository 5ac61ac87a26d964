/**
 * Hessian-vector products from an L-BFGS approximation in compact form (Byrd, Nocedal & Schnabel,
 * "Representations of quasi-Newton matrices and their use in limited memory methods", Mathematical
 * Programming 63, 1994, Theorem 2.3), as FLDetector uses it (Zhang et al., KDD 2022).
 *
 * Given m pairs (sⱼ, yⱼ), oldest first, with yⱼ ≈ H sⱼ, the BFGS matrix obtained by m updates of
 * B₀ = σI, σ = yₘᵀsₘ / sₘᵀsₘ (the newest pair), is
 *
 *   B = σI − [σS  Y] M⁻¹ [σSᵀ; Yᵀ],   M = [[σ SᵀS, L], [Lᵀ, −D]],
 *
 * S = [s₁ … sₘ], Y = [y₁ … yₘ] (d × m), L the strictly lower triangle of SᵀY, D its diagonal. So
 * B v = σ v − σ S a − Y b with [a; b] = M⁻¹ [σ Sᵀv; Yᵀv]: 2m dot products and 2m axpys over d, and
 * a 2m × 2m solve.
 *
 * B is odd in Y (replacing every yⱼ by −yⱼ negates B), so the pairs may come from gradients or
 * from model updates of the opposite sign.
 *
 * Internal (not exported from the package).
 *
 * @internal
 */

/** Relative pivot size below which the 2m × 2m system is treated as singular. */
const SINGULAR = 1e-13;

/**
 * B v for the compact L-BFGS matrix B of the pairs (s, y) (oldest first; each of length d),
 * accumulated in float64. Returns `null` when no product is defined: no pairs, sₘ = 0, a singular
 * (or numerically singular) M, or a product that does not fit in float64.
 *
 * @param s - the m model differences sⱼ (each of length d), oldest first.
 * @param y - the m matching gradient (or update) differences yⱼ.
 * @param v - the vector to multiply, of length d.
 * @returns B v as a new `Float64Array` of length d, or `null`.
 * @internal
 */
export function lbfgsHvp(
  s: readonly ArrayLike<number>[],
  y: readonly ArrayLike<number>[],
  v: ArrayLike<number>,
): Float64Array | null {
  const m = s.length;
  if (m === 0 || y.length !== m) return null;
  const d = v.length;
  const coefficients = lbfgsCoefficients(lbfgsDots(s, y, v, d), m);
  if (coefficients === null) return null;
  const out = lbfgsApply(s, y, v, coefficients, d);
  for (let k = 0; k < d; k++) if (!Number.isFinite(out[k])) return null;
  return out;
}

/**
 * The dot products the compact form needs, in one array of 2m² + 2m numbers: SᵀS (m×m), SᵀY
 * (m×m), Sᵀv, Yᵀv, each accumulated in float64 over the first d coordinates. Over a partition of
 * the coordinates they add up (the sharded FLDetector sums them over the shards).
 *
 * @param s - the m model differences (each of length ≥ d).
 * @param y - the m matching differences.
 * @param v - the vector to multiply.
 * @param d - number of coordinates.
 * @returns [SᵀS, SᵀY, Sᵀv, Yᵀv] flattened.
 * @internal
 */
export function lbfgsDots(s: readonly ArrayLike<number>[], y: readonly ArrayLike<number>[], v: ArrayLike<number>, d: number): Float64Array {
  const m = s.length;
  const all = new Float64Array(2 * m * m + 2 * m);
  const ss = all.subarray(0, m * m);
  const sy = all.subarray(m * m, 2 * m * m);
  const sv = all.subarray(2 * m * m, 2 * m * m + m);
  const yv = all.subarray(2 * m * m + m);
  for (let i = 0; i < m; i++) {
    sv[i] = dot(s[i], v, d);
    yv[i] = dot(y[i], v, d);
    for (let j = 0; j < m; j++) {
      if (j >= i) {
        const v2 = dot(s[i], s[j], d);
        ss[i * m + j] = v2;
        ss[j * m + i] = v2;
      }
      sy[i * m + j] = dot(s[i], y[j], d);
    }
  }
  return all;
}

/**
 * σ and the solution q = M⁻¹ [σ Sᵀv; Yᵀv] of the compact form from the dot products of
 * {@link lbfgsDots}; `null` when no product is defined (sₘ = 0, σ not finite or 0, M singular).
 *
 * @param dots - [SᵀS, SᵀY, Sᵀv, Yᵀv] (2m² + 2m numbers).
 * @param m - number of pairs.
 * @returns σ and q (2m numbers), or null.
 * @internal
 */
export function lbfgsCoefficients(dots: Float64Array, m: number): { sigma: number; q: Float64Array } | null {
  if (m === 0) return null;
  const ss = dots.subarray(0, m * m);
  const sy = dots.subarray(m * m, 2 * m * m);
  const sv = dots.subarray(2 * m * m, 2 * m * m + m);
  const yv = dots.subarray(2 * m * m + m, 2 * m * m + 2 * m);
  const last = m - 1;
  const ssLast = ss[last * m + last];
  if (!(ssLast > 0) || !Number.isFinite(ssLast)) return null;
  const sigma = sy[last * m + last] / ssLast;
  if (!Number.isFinite(sigma)) return null;
  if (sigma === 0) return null;

  // M (2m × 2m) and the right-hand side p = [σ Sᵀv; Yᵀv].
  const size = 2 * m;
  const a = new Float64Array(size * size);
  const rhs = new Float64Array(size);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      a[i * size + j] = sigma * ss[i * m + j];
      const lower = i > j ? sy[i * m + j] : 0; // L[i][j]
      a[i * size + m + j] = lower;
      a[(m + j) * size + i] = lower; // Lᵀ
    }
    a[(m + i) * size + m + i] = -sy[i * m + i];
    rhs[i] = sigma * sv[i];
    rhs[m + i] = yv[i];
  }
  const q = solve(a, rhs, size);
  if (q === null) return null;
  return { sigma, q };
}

/**
 * B v = σ v − Σⱼ (σ qⱼ sⱼ + q_{m+j} yⱼ) over the first d coordinates, in float64 (not checked for
 * overflow: {@link lbfgsHvp} returns null when a coordinate is not finite).
 *
 * @param s - the m model differences.
 * @param y - the m matching differences.
 * @param v - the vector to multiply.
 * @param coefficients - σ and q from {@link lbfgsCoefficients}.
 * @param d - number of coordinates.
 * @returns B v as a new `Float64Array` of length d.
 * @internal
 */
export function lbfgsApply(
  s: readonly ArrayLike<number>[],
  y: readonly ArrayLike<number>[],
  v: ArrayLike<number>,
  coefficients: { sigma: number; q: ArrayLike<number> },
  d: number,
): Float64Array {
  const m = s.length;
  const { sigma, q } = coefficients;
  const out = new Float64Array(d);
  for (let k = 0; k < d; k++) out[k] = sigma * v[k];
  for (let j = 0; j < m; j++) {
    const cs = sigma * q[j];
    const cy = q[m + j];
    const sj = s[j];
    const yj = y[j];
    for (let k = 0; k < d; k++) out[k] -= cs * sj[k] + cy * yj[k];
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, d: number): number {
  let sum = 0;
  for (let k = 0; k < d; k++) sum += a[k] * b[k];
  return sum;
}

/**
 * Solves A x = b (A size × size, row-major, overwritten) by Gaussian elimination with partial
 * pivoting; `null` when a pivot is below SINGULAR times the largest entry of A or the solution
 * is not finite.
 */
function solve(a: Float64Array, b: Float64Array, size: number): Float64Array | null {
  let scale = 0;
  for (let t = 0; t < a.length; t++) scale = Math.max(scale, Math.abs(a[t]));
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  const x = Float64Array.from(b);
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]) > Math.abs(a[pivot * size + col])) pivot = r;
    if (!(Math.abs(a[pivot * size + col]) > SINGULAR * scale)) return null;
    if (pivot !== col) {
      for (let c = 0; c < size; c++) {
        const t = a[col * size + c];
        a[col * size + c] = a[pivot * size + c];
        a[pivot * size + c] = t;
      }
      const t = x[col];
      x[col] = x[pivot];
      x[pivot] = t;
    }
    const p = a[col * size + col];
    for (let r = col + 1; r < size; r++) {
      const factor = a[r * size + col] / p;
      if (factor === 0) continue;
      for (let c = col; c < size; c++) a[r * size + c] -= factor * a[col * size + c];
      x[r] -= factor * x[col];
    }
  }
  for (let r = size - 1; r >= 0; r--) {
    let sum = x[r];
    for (let c = r + 1; c < size; c++) sum -= a[r * size + c] * x[c];
    x[r] = sum / a[r * size + r];
    if (!Number.isFinite(x[r])) return null;
  }
  return x;
}
