import * as tf from '@tensorflow/tfjs-core';
import { RobustAggError } from '../core/errors.js';
import type { FiniteClients } from '../core/finite-clients.js';
import { describeValue, type NonFinitePolicy } from '../core/options.js';
import { medianMagnitudeIndex } from '../kernels/gram.js';

/** The largest finite float32, 2¹²⁸ − 2¹⁰⁴. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Most clients (rows) a Gram-based tensor rule takes: the n×n Gram matrix is downloaded (n² float32
 * values) and kept on the host in float64, so n = 8192 costs about 800 MB. Larger n throws
 * `UNSUPPORTED` instead of exhausting memory.
 */
export const MAX_TENSOR_GRAM_CLIENTS = 8192;

/**
 * The finite rows of an n×d tensor of client updates, as the tensor rules see them: `rows` is
 * the input itself when every row is finite (nothing to dispose), else a gathered copy that the
 * caller disposes (`owned`). `clients` carries the index bookkeeping of the Float32Array path.
 *
 * @internal
 */
export interface FiniteTensorRows {
  readonly rows: tf.Tensor2D;
  readonly owned: boolean;
  readonly clients: FiniteClients;
}

/**
 * Checks that `x` is a live (not disposed) rank-2 float32 tensor of this `@tensorflow/tfjs-core`
 * with n ≥ 1 rows and d ≥ 1 columns, and returns [n, d]. Throws a `RobustAggError` naming `rule`
 * and what is wrong: `INVALID_OPTION` for a non-tensor, a disposed tensor or a wrong rank,
 * `NOT_FLOAT32` for another dtype, `EMPTY_UPDATES` / `EMPTY_VECTOR` for n = 0 / d = 0.
 *
 * @internal
 */
export function requireTensor2D(x: unknown, rule: string, what = 'updates'): [number, number] {
  if (!(x instanceof tf.Tensor)) {
    const foreign =
      typeof x === 'object' && x !== null && 'dataId' in x && 'shape' in x && 'dtype' in x
        ? ' (a tensor of another copy of @tensorflow/tfjs-core: import tfjs-core once)'
        : Array.isArray(x) || ArrayBuffer.isView(x)
          ? ' (for Float32Array updates use the rules of robust-agg itself)'
          : '';
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${what} must be a tf.Tensor2D (n clients × d), got ${describeValue(x)}${foreign}`,
    );
  }
  if (x.isDisposed) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: ${what} is a disposed tensor (shape [${x.shape.join(', ')}])`);
  }
  if (x.rank !== 2) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: ${what} must be a rank-2 tensor (n clients × d), got rank ${x.rank} (shape [${x.shape.join(', ')}])`,
    );
  }
  if (x.dtype !== 'float32') {
    throw new RobustAggError('NOT_FLOAT32', `${rule}: ${what} must be a float32 tensor, got dtype ${x.dtype} (use tf.cast)`);
  }
  const [n, d] = x.shape as [number, number];
  if (n === 0) throw new RobustAggError('EMPTY_UPDATES', `${rule}: the tensor has no rows (n=0)`);
  if (d === 0) throw new RobustAggError('EMPTY_VECTOR', `${rule}: updates have length d=0`);
  return [n, d];
}

/**
 * Validates a tensor of client updates ({@link requireTensor2D}) and splits off rows holding NaN
 * or ±Infinity like the Float32Array rules do (DESIGN §5): dropped with `'drop'`, an error with
 * `'throw'`, an error when none is finite. Downloads n booleans, nothing else.
 *
 * @internal
 */
export async function finiteTensorRows(
  x: tf.Tensor,
  rule: string,
  policy: NonFinitePolicy = 'drop',
): Promise<FiniteTensorRows> {
  if (policy !== 'drop' && policy !== 'throw') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: nonFinite must be 'drop' or 'throw', got ${describeValue(policy)}`);
  }
  const [n, d] = requireTensor2D(x, rule);
  const finite = await download(tf.tidy(() => tf.all(tf.isFinite(x), 1)));
  const index: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < n; i++) {
    if (finite[i]) index.push(i);
    else if (policy === 'throw') throw new RobustAggError('NON_FINITE_UPDATE', `${rule}: client ${i} sent NaN or ±Infinity`);
    else dropped.push(i);
  }
  if (index.length === 0) {
    throw new RobustAggError('NO_FINITE_UPDATES', `${rule}: all ${n} clients sent NaN or ±Infinity`);
  }
  const clients: FiniteClients = { rows: [], index, dropped, n, d };
  if (dropped.length === 0) return { rows: x as tf.Tensor2D, owned: false, clients };
  return { rows: tf.tidy(() => tf.gather(x as tf.Tensor2D, index)), owned: true, clients };
}

/** Downloads a tensor's values and disposes it (also when the download fails). */
async function download(t: tf.Tensor): Promise<tf.TypedArray> {
  try {
    return (await t.data()) as tf.TypedArray;
  } finally {
    t.dispose();
  }
}

/**
 * The exponent E with m·2⁻ᴱ in [½, 1) for m > 0 (frexp), clamped to [−126, 128] so that 2⁻ᴱ is an
 * exact float32 (2¹²⁶ down to the subnormal 2⁻¹²⁸); 0 for m = 0.
 */
function scaleExponent(m: number): number {
  if (!(m > 0)) return 0;
  let e = Math.floor(Math.log2(m));
  if (2 ** e > m) e--;
  else if (2 ** (e + 1) <= m) e++;
  return Math.min(128, Math.max(-126, e + 1));
}

/**
 * The Gram matrix of rows already validated and known to be finite (see {@link tensorGram}).
 *
 * @internal
 */
export async function gramOfFiniteRows(rows: tf.Tensor2D, centre: boolean, rule: string): Promise<Float64Array> {
  const [n] = rows.shape;
  if (n > MAX_TENSOR_GRAM_CLIENTS) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: at most ${MAX_TENSOR_GRAM_CLIENTS} clients per call on the tensor path (the n×n Gram matrix), got n=${n}`,
    );
  }
  const magnitudes = await download(tf.tidy(() => tf.max(tf.abs(rows), 1)));
  // Centring: y = x − r in float32 cannot overflow while |x|, |r| < 2¹²⁶; a row where either
  // reaches 2¹²⁶ is halved first (exact for normal values), and the factor 2 goes back on the host.
  const exponent = new Int32Array(n);
  let y: tf.Tensor2D = rows;
  let yMagnitudes = magnitudes;
  try {
    if (centre) {
      const ref = medianMagnitudeIndex(magnitudes);
      const half = new Float32Array(n).fill(1);
      let halved = false;
      for (let i = 0; i < n; i++) {
        if (Math.max(magnitudes[i], magnitudes[ref]) >= 2 ** 126) {
          half[i] = 0.5;
          exponent[i] = 1;
          halved = true;
        }
      }
      y = tf.tidy(() => {
        const r = tf.slice(rows, [ref, 0], [1, -1]);
        if (!halved) return tf.sub(rows, r);
        const a = tf.tensor2d(half, [n, 1]);
        return tf.sub(tf.mul(rows, a), tf.mul(a, r));
      });
      yMagnitudes = await download(tf.tidy(() => tf.max(tf.abs(y), 1)));
    }
    // Scale every row by an exact power of two to a largest magnitude in [½, 1): no product or
    // sum of the matMul can overflow or underflow whatever the row's magnitude (≤ 3.4e38 or
    // subnormal), and the scale of a pair depends on those two rows only.
    const scale = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const e = scaleExponent(yMagnitudes[i]);
      scale[i] = 2 ** -e;
      exponent[i] += e;
    }
    const y0 = y;
    const products = await download(
      tf.tidy(() => {
        const z = tf.mul(y0, tf.tensor2d(scale, [n, 1]));
        return tf.matMul(z, z, false, true);
      }),
    );
    const g = new Float64Array(n * n);
    const factor = Float64Array.from(exponent, (e) => 2 ** e);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = products[i * n + j] * factor[i] * factor[j];
        g[i * n + j] = v;
        g[j * n + i] = v;
      }
    }
    return g;
  } finally {
    if (y !== rows) y.dispose();
  }
}

/**
 * The Gram matrix G = YYᵀ of the rows as a symmetric n×n `Float64Array`, the tensor counterpart of
 * the core `gram` kernel. With `centre` (the default) the rows are centred on a reference row,
 * Yᵢ = xᵢ − r, where r is the row whose largest magnitude is the (lower) median over the rows
 * (ties: the lowest index): distances are translation invariant, and a minority of clients cannot
 * choose r, so no client (row 0 included) can make the others' distances cancel away. Without
 * `centre`, Y = X (norms, cosines).
 *
 * Scaling: before the one `matMul`, each row is multiplied by an exact power of two 2^−Eᵢ that
 * brings its largest magnitude into [½, 1); the product Pᵢⱼ is downloaded and rescaled on the host
 * in float64, Gᵢⱼ = Pᵢⱼ·2^(Eᵢ+Eⱼ). No float32 product can overflow (rows up to ±3.4e38) or lose a
 * subnormal row, and the error of Gᵢⱼ is bounded per pair — about d·ε₃₂·‖yᵢ‖‖yⱼ‖ with float32
 * accumulation (GPUs; CPU backends accumulate in float64 and do better) — so it depends on rows i
 * and j (and r) only, never on another client. Rows reaching 2¹²⁶ are halved before centring so
 * that xᵢ − r cannot overflow either. Backends that flush subnormals to zero (some GPUs) lose
 * values below 2⁻¹²⁶ relative to a row's largest one.
 *
 * Cost: three reductions and one multiply over the n×d data, one subtraction when centring, the
 * matMul; n² float32 values and 2n row magnitudes downloaded. At most
 * {@link MAX_TENSOR_GRAM_CLIENTS} rows.
 *
 * @param rows - n×d float32 tensor; every value finite (else `NON_FINITE_UPDATE`).
 * @param centre - centre on the median-magnitude row (default true).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tensorGram } from 'robust-agg/tfjs';
 *
 * const x = tf.tensor2d([[1, 0, 0], [0, 2, 0], [3, 4, 0]]);
 * const g = await tensorGram(x, false); // n² = 9 values on the host; x stays on the device
 * console.log(g);                       // [1, 0, 3, 0, 4, 8, 3, 8, 25]: ⟨xᵢ, xⱼ⟩
 * const centred = await tensorGram(x);  // centred on a reference row: same distances
 * console.log(centred[0] + centred[4] - 2 * centred[1]); // ‖x₀ − x₁‖² = 5
 * x.dispose();
 * ```
 */
export async function tensorGram(rows: tf.Tensor2D, centre = true): Promise<Float64Array> {
  const rule = 'tensorGram';
  if (typeof centre !== 'boolean') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: centre must be a boolean, got ${describeValue(centre)}`);
  }
  const finite = await finiteTensorRows(rows, rule, 'throw');
  return gramOfFiniteRows(finite.rows, centre, rule);
}

/** The rows' convex-like combination, clamped to the float32 range (see {@link tensorCombine}). */
function combineClamped(rows: tf.Tensor2D, weights: Float32Array): tf.Tensor1D {
  const [n, d] = rows.shape;
  return tf.tidy(() =>
    tf.clipByValue(tf.reshape(tf.matMul(tf.tensor2d(weights, [1, n]), rows), [d]), -FLOAT32_MAX, FLOAT32_MAX),
  );
}

/**
 * Σᵢ wᵢxᵢ for weights known to be finite with Σ|wᵢ| ≤ 1 (rules' own weights).
 *
 * @internal
 */
export function combineRows(rows: tf.Tensor2D, weights: ArrayLike<number>): tf.Tensor1D {
  return combineClamped(rows, Float32Array.from(weights));
}

/**
 * The weighted combination out = Σᵢ wᵢxᵢ as one matMul (1×n by n×d) on the tensor's backend.
 * The result stays on the device; the caller disposes it.
 *
 * Range: the weights must be finite with Σ|wᵢ| ≤ 1 + 2⁻²⁰ (means, convex combinations, differences
 * of them), so that |outₖ| ≤ Σ|wᵢ|·maxᵢ|xᵢₖ| stays in the float32 range up to rounding; a value
 * that rounding carries past ±3.4028235e38 is clamped to it, so a finite input gives a finite
 * output. Rows must be finite.
 *
 * @param rows - n×d float32 tensor.
 * @param weights - n finite numbers with Σ|wᵢ| ≤ 1 + 2⁻²⁰ (else `INVALID_OPTION`).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tensorCombine } from 'robust-agg/tfjs';
 *
 * const x = tf.tensor2d([[1, 2], [3, 4], [5, 9]]);
 * const n = x.shape[0];
 * const avg = tensorCombine(x, new Float64Array(n).fill(1 / n)); // Tensor1D of length d
 * const diff = tensorCombine(x, [0.5, -0.5, 0]);                  // (x₀ − x₁)/2
 * console.log(avg.dataSync(), diff.dataSync()); // [3, 5] [-1, -1]
 * tf.dispose([x, avg, diff]);
 * ```
 */
export function tensorCombine(rows: tf.Tensor2D, weights: ArrayLike<number>): tf.Tensor1D {
  const rule = 'tensorCombine';
  const [n] = requireTensor2D(rows, rule, 'rows');
  if (weights === null || typeof weights !== 'object' || typeof (weights as ArrayLike<number>).length !== 'number') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: weights must be an array of n=${n} numbers, got ${describeValue(weights)}`);
  }
  const w = Array.from(weights as ArrayLike<number>);
  if (w.length !== n) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: weights has length ${w.length}, expected one per row (n=${n})`);
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (typeof w[i] !== 'number' || !Number.isFinite(w[i])) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: weight ${i} must be a finite number, got ${describeValue(w[i])}`);
    }
    total += Math.abs(w[i]);
  }
  if (total > 1 + 2 ** -20) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: the weights need Σ|wᵢ| ≤ 1 (a finite output), got ${total}`);
  }
  return combineClamped(rows, Float32Array.from(w));
}

/**
 * Mean along `axis` of a tensor of finite float32 values, without overflow: each value is divided
 * by the count before the sum, so every partial sum stays within the largest magnitude (up to
 * rounding, clamped to the float32 range).
 */
function rangeSafeMean(x: tf.Tensor2D, axis: 0 | 1): tf.Tensor1D {
  const k = x.shape[axis];
  return tf.clipByValue(tf.sum(tf.div(x, k), axis), -FLOAT32_MAX, FLOAT32_MAX) as tf.Tensor1D;
}

/**
 * Coordinate-wise median by `topk` on the transpose: the ⌊n/2⌋+1 largest values of every column,
 * whose smallest (odd n) or two smallest (even n, averaged: numpy's convention, as a/2 + b/2 so
 * that two values near ±3.4e38 cannot overflow) is the median. Rows must be finite (the rules drop
 * non-finite rows first); for finite rows the output is finite.
 *
 * @param rows - n×d float32 tensor, n ≥ 1.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tensorColumnMedian } from 'robust-agg/tfjs';
 *
 * const x = tf.tensor2d([[1, 5], [2, 7], [3, 6], [100, -100]]);
 * const med = tensorColumnMedian(x); // Tensor1D of length d
 * console.log(med.dataSync());       // [2.5, 5.5]: even n, the mean of the two middle values
 * tf.dispose([x, med]);
 * ```
 */
export function tensorColumnMedian(rows: tf.Tensor2D): tf.Tensor1D {
  const [n] = requireTensor2D(rows, 'tensorColumnMedian', 'rows');
  return tf.tidy(() => {
    const k = (n >>> 1) + 1;
    const top = tf.topk(tf.transpose(rows), k, true).values; // d × k, descending
    if ((n & 1) === 1) return tf.reshape(tf.slice(top, [0, k - 1], [-1, 1]), [-1]) as tf.Tensor1D;
    const a = tf.reshape(tf.slice(top, [0, k - 2], [-1, 1]), [-1]);
    const b = tf.reshape(tf.slice(top, [0, k - 1], [-1, 1]), [-1]);
    return tf.add(tf.mul(a, 0.5), tf.mul(b, 0.5)) as tf.Tensor1D;
  });
}

/**
 * Coordinate-wise trimmed mean by `topk` on the transpose: the n − trim largest values of every
 * column, less the `trim` largest, averaged (each value divided by the count before the sum, so no
 * partial sum overflows). Rows must be finite; for finite rows the output is finite.
 *
 * @param rows - n×d float32 tensor.
 * @param trim - values dropped from each tail per column, an integer with 0 ≤ 2·trim < n.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { tensorColumnTrimmedMean } from 'robust-agg/tfjs';
 *
 * const x = tf.tensor2d([[1], [2], [3], [4], [5], [6], [1000]]);
 * const tm = tensorColumnTrimmedMean(x, 2); // Tensor1D of length d
 * console.log(tm.dataSync());               // [4]: the mean of 3, 4, 5
 * tf.dispose([x, tm]);
 * ```
 */
export function tensorColumnTrimmedMean(rows: tf.Tensor2D, trim: number): tf.Tensor1D {
  const rule = 'tensorColumnTrimmedMean';
  const [n] = requireTensor2D(rows, rule, 'rows');
  if (typeof trim !== 'number' || !Number.isInteger(trim) || trim < 0 || 2 * trim >= n) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: trim must be an integer with 0 ≤ 2·trim < n (n=${n}), got ${describeValue(trim)}`,
    );
  }
  return tf.tidy(() => {
    if (trim === 0) return rangeSafeMean(rows, 0);
    const top = tf.topk(tf.transpose(rows), n - trim, true).values; // d × (n − trim), descending
    return rangeSafeMean(tf.slice(top, [0, trim], [-1, n - 2 * trim]) as tf.Tensor2D, 1);
  });
}
