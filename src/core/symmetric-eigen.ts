/**
 * Eigen-decomposition of a small dense symmetric matrix (n×n, n up to a few thousand): Householder
 * reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts, with
 * the transformations accumulated so that eigenvectors come out too. This is the classical
 * EISPACK pair (tred2/tql2; Wilkinson & Reinsch, "Handbook for Automatic Computation", vol. II,
 * 1971; Golub & Van Loan, "Matrix Computations", §8.3), written here so that the core of
 * robust-agg needs no runtime dependency. Cost ≈ (4/3 + 6)·n³ flops, memory 2n² float64.
 *
 * Numerically it is backward stable: computed eigenvalues are exact for A + E with
 * ‖E‖ ≈ n·u·‖A‖ (u = 2⁻⁵³). The matrix is first scaled by the exact power of two that brings its
 * largest entry near 1 (the eigenvalues are scaled back at the end), so any finite float64 entries,
 * subnormal or near 1.8e308, neither overflow nor lose precision to underflow.
 *
 * @internal
 */
export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  readonly values: Float64Array;
  /** Unit eigenvectors, column k of this row-major n×n matrix belongs to values[k]. */
  readonly vectors: Float64Array;
}

/**
 * All eigenvalues (ascending) and unit eigenvectors of the symmetric n×n row-major matrix `a`
 * (only its lower triangle is read; `a` is not modified). Throws if `a` has a non-finite entry
 * or the QL iteration does not converge (it always does for finite symmetric input in practice:
 * 60 iterations per eigenvalue are allowed, 2 or 3 are typical).
 *
 * @internal
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  // z holds the accumulated orthogonal transformation (row-major), d the diagonal, e the
  // sub-diagonal of the tridiagonal matrix.
  const z = new Float64Array(n * n);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j];
      if (!Number.isFinite(v)) throw new Error(`symmetricEigen: entry (${i}, ${j}) is not finite`);
      largest = Math.max(largest, Math.abs(v));
    }
  }
  // 2^e with largest·2^e in [1, 2): exact, applied in two steps so that 2^e itself stays finite.
  const e2 = largest === 0 ? 0 : -Math.floor(Math.log2(largest));
  const half1 = 2 ** Math.trunc(e2 / 2);
  const half2 = 2 ** (e2 - Math.trunc(e2 / 2));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j] * half1 * half2;
      z[i * n + j] = v;
      z[j * n + i] = v;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  householderTridiagonal(z, n, d, e);
  tridiagonalQl(z, n, d, e);
  for (let k = 0; k < n; k++) d[k] = d[k] / half1 / half2;
  return { values: d, vectors: z };
}

/**
 * Reduces the symmetric matrix in z to tridiagonal form T = Qᵀ A Q by n − 2 Householder
 * reflections, from the last row up; on return z holds Q, d the diagonal of T and e[1..n) its
 * sub-diagonal (e[0] = 0).
 */
function householderTridiagonal(z: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = z[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    // Scale the row to avoid under/overflow in the reflection's norm.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = z[(i - 1) * n + j];
        z[i * n + j] = 0;
        z[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // w = A u / h, accumulated in e, using the lower triangle kept in z.
      for (let j = 0; j < i; j++) {
        f = d[j];
        z[j * n + i] = f;
        g = e[j] + z[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += z[k * n + j] * d[k];
          e[k] += z[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // A ← A − u wᵀ − w uᵀ on the lower triangle.
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) z[k * n + j] -= f * e[k] + g * d[k];
        d[j] = z[(i - 1) * n + j];
        z[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the reflections into Q.
  for (let i = 0; i < n - 1; i++) {
    z[(n - 1) * n + i] = z[i * n + i];
    z[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = z[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += z[k * n + i + 1] * z[k * n + j];
        for (let k = 0; k <= i; k++) z[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) z[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = z[(n - 1) * n + j];
    z[(n - 1) * n + j] = 0;
  }
  z[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Diagonalises the symmetric tridiagonal matrix (d, e) by the implicit QL algorithm, applying
 * every rotation to the columns of z; on return d holds the eigenvalues in ascending order and the
 * columns of z the matching eigenvectors.
 */
function tridiagonalQl(z: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  let f = 0;
  let largest = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a negligible sub-diagonal element to split the matrix at.
    largest = Math.max(largest, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * largest) m++;
    if (m >= n) m = n - 1;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) throw new Error('symmetricEigen: the QL iteration did not converge');
        // Shift from the leading 2×2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // The implicit QL sweep from m up to l, by Givens rotations.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            h = z[k * n + i + 1];
            z[k * n + i + 1] = s * z[k * n + i] + c * h;
            z[k * n + i] = c * z[k * n + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * largest);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Sort ascending, moving the eigenvectors along.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = z[j * n + i];
        z[j * n + i] = z[j * n + k];
        z[j * n + k] = t;
      }
    }
  }
}
