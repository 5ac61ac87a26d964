import { finiteClients, requireNonFinitePolicy, type FiniteClients } from '../core/finite-clients.js';
import type { NonFinitePolicy } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { kernelConfig, pickWorkspace } from './wasm/config.js';
import { gramKernels } from './wasm/instance.js';
import { gramWasm } from './wasm/drivers.js';

/** Columns per block: the centred block (n × 1024 float64) stays in cache while all pairs use it. */
const GRAM_BLOCK = 1024;

/**
 * What the rows are centred on before their products are taken:
 * - `'robust'`: in every block of columns, the row whose largest magnitude in that block is the
 *   (lower) median over all rows (ties: the lowest index). Distances are translation invariant, so
 *   any centre gives the same distances; this one cannot be chosen by a minority of clients, so no
 *   client can make the others' distances lose precision (with a fixed row such as row 0, a client
 *   sending 1e30 there would centre every honest row on −1e30 and cancel their distances away).
 *   Each kernel picks it in its own blocks (the plain kernel per 1024 columns, the WebAssembly
 *   kernel per block of its plan), so the two differ by rounding only;
 * - `null`: no centring (the Gram of the rows themselves: norms, cosines);
 * - a `Float32Array` of length d: that vector (tests and oracles).
 */
export type GramCentre = 'robust' | Float32Array | null;

/**
 * The per-pair accuracy of {@link gram} on either backend: for rows centred on r (yᵢ = xᵢ − r),
 * |Ĝᵢⱼ − ⟨yᵢ, yⱼ⟩| ≤ ε‖yᵢ‖‖yⱼ‖ with ε = 2⁻¹⁷ ≈ 7.6e-6, for every d < 2³², so squared distances
 * from the Gram matrix satisfy |D̂ᵢⱼ − ‖xᵢ − xⱼ‖²| ≤ ε(‖yᵢ‖ + ‖yⱼ‖)², cosines from the uncentred
 * Gram are within 3ε and norms √Ĝᵢᵢ within ε‖xᵢ‖. The bound holds whatever the other rows hold:
 * see docs/performance.md ("Hostile inputs and the Gram kernel") for the derivation.
 *
 * @internal
 */
export const GRAM_PAIR_EPSILON = 2 ** -17;

/**
 * The Gram matrix G = YYᵀ of the rows centred on a reference vector, Yᵢ = xᵢ − r, as a row-major
 * n×n `Float64Array` (symmetric, both halves filled). Centring keeps the distances between close
 * clients with large norms from cancelling in ‖a‖² + ‖b‖² − 2a·b; distance-based rules pass
 * `'robust'` (see {@link GramCentre}), cosines and norms `null`. Pairwise squared distances follow
 * with {@link squaredDistancesFromGram}.
 *
 * Dispatch (see `setKernelBackend`): from n·d = 2¹⁶ on the WebAssembly SIMD kernel runs, with
 * worker threads from n²d/2 = 2²⁷ on (the same bits whatever the thread count); otherwise, or with
 * backend 'js', {@link gramPlain} (float64 throughout). The WebAssembly kernel multiplies float32
 * values in f32x4 lanes and adds every 256 columns' partial sums into float64. Each row gets its
 * own exact power-of-two scale sᵢ in each block of columns (only when its largest magnitude in the
 * block leaves [2⁻⁴⁰, 2⁴⁰], so ordinary data is never touched), undone per pair in float64 as
 * 1/(sᵢsⱼ): no float32 product or partial sum can overflow, none that matters underflows, and no
 * row's values change how another pair is computed. A row whose centred values overflow float32
 * (inputs near ±3.4e38) is centred in float64 and scaled. Accuracy: {@link GRAM_PAIR_EPSILON}
 * (about 1e-7·‖yᵢ‖‖yⱼ‖ in practice, whatever d). A NaN or ±∞ input sends the call to the float64
 * kernel.
 *
 * Cost: n(n+1)/2 · d multiply-adds, one pass over the data.
 *
 * @param rows - n rows of equal length d.
 * @param centre - what the rows are centred on (default null: not centred).
 * @returns the n×n Gram matrix of the centred rows, row-major. For example, with rows (1, 2),
 * (3, 5) and (10³⁰, 0), `squaredDistancesFromGram(gram(rows, 'robust'), 3)[1 * 3 + 0]` is 13 =
 * ‖(1, 2) − (3, 5)‖², whatever the third row holds.
 */
export function gram(rows: readonly Float32Array[], centre: GramCentre = null): Float64Array {
  const n = rows.length;
  if (n > 0 && rows[0].length > 0) {
    const ws = pickWorkspace(gramKernels, n * rows[0].length, kernelConfig.minWasmWork);
    if (ws !== null) {
      const g = gramWasm(ws, rows, centre);
      if (g !== null) return g;
    }
  }
  return gramPlain(rows, centre);
}

/**
 * `finiteClients(updates, rule, policy)` and `gram(clients.rows, centre)` with one read of the
 * data when every client is finite (the common case): on the WebAssembly kernels the Gram pass
 * itself detects NaN/±∞ (it returns null), so the separate finiteness pass is skipped. When a
 * client is not finite, the finite clients are found and their Gram computed again: a client
 * sending NaN can at most double the call's cost, never change its result. The results are the
 * ones the two calls give, bit for bit.
 *
 * @internal
 */
export function finiteClientsGram(
  updates: Updates,
  rule: string,
  policy: NonFinitePolicy | undefined,
  centre: GramCentre,
): { clients: FiniteClients; g: Float64Array } {
  const { n, d } = validateUpdates(updates, rule);
  requireNonFinitePolicy(rule, policy);
  if (n > 1 && d > 0) {
    const ws = pickWorkspace(gramKernels, n * d, kernelConfig.minWasmWork);
    if (ws !== null) {
      const rows = Array.from(updates);
      const g = gramWasm(ws, rows, centre);
      if (g !== null) {
        return { clients: { rows, index: rows.map((_, i) => i), dropped: [], n, d }, g };
      }
    }
  }
  const clients = finiteClients(updates, rule, policy);
  return { clients, g: gram(clients.rows, centre) };
}

/** Index of the row whose max |x| over columns [c0, c1) is the lower median (ties: lowest index). */
export function medianMagnitudeRow(rows: readonly Float32Array[], c0: number, c1: number): number {
  const n = rows.length;
  const mags = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    let m = 0;
    for (let k = c0; k < c1; k++) {
      const a = Math.abs(row[k]);
      if (a > m) m = a;
    }
    mags[i] = m;
  }
  return medianMagnitudeIndex(mags);
}

/**
 * Index of the lower median of `magnitudes` (ties: the lowest index): which row the `'robust'`
 * centre takes, given each row's largest magnitude. Shared with the tensor rules, which measure
 * magnitudes on the device. A minority of rows cannot choose it.
 */
export function medianMagnitudeIndex(magnitudes: ArrayLike<number>): number {
  const n = magnitudes.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => magnitudes[a] - magnitudes[b] || a - b);
  return order[(n - 1) >> 1];
}

/**
 * The Gram matrix G = YYᵀ of the rows centred on a reference vector, Yᵢ = xᵢ − r, as a row-major
 * n×n `Float64Array` (symmetric, both halves filled). Centring keeps the distances between close
 * clients with large norms from cancelling in ‖a‖² + ‖b‖² − 2a·b; every product and sum is in
 * float64. With `reference` null the rows are used as they are.
 *
 * The plain TypeScript kernel: the fallback and the oracle the WebAssembly kernel is tested
 * against.
 *
 * Cost: n(n+1)/2 · d multiply-adds, one pass over the data (blocks of 1024 columns).
 * Memory: n² + 1024·n float64 values.
 */
export function gramPlain(rows: readonly Float32Array[], centre: GramCentre = null): Float64Array {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0].length;
  const g = new Float64Array(n * n);
  const block = new Float64Array(n * GRAM_BLOCK);
  for (let c0 = 0; c0 < d; c0 += GRAM_BLOCK) {
    const width = Math.min(GRAM_BLOCK, d - c0);
    const reference =
      centre === 'robust' ? (rows[medianMagnitudeRow(rows, c0, c0 + width)] ?? null) : centre;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const base = i * width;
      if (reference === null) {
        for (let k = 0; k < width; k++) block[base + k] = row[c0 + k];
      } else {
        for (let k = 0; k < width; k++) block[base + k] = row[c0 + k] - reference[c0 + k];
      }
    }
    accumulateBlockGram(block, n, width, g);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
  }
  return g;
}

/** Adds the lower triangle of B·Bᵀ (B is n × width, row-major) to g. */
function accumulateBlockGram(b: Float64Array, n: number, width: number, g: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const bi = i * width;
    for (let j = 0; j <= i; j++) {
      const bj = j * width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 4 <= width; k += 4) {
        s0 += b[bi + k] * b[bj + k];
        s1 += b[bi + k + 1] * b[bj + k + 1];
        s2 += b[bi + k + 2] * b[bj + k + 2];
        s3 += b[bi + k + 3] * b[bj + k + 3];
      }
      for (; k < width; k++) s0 += b[bi + k] * b[bj + k];
      g[i * n + j] += s0 + s1 + s2 + s3;
    }
  }
}

/**
 * Pairwise squared Euclidean distances from a Gram matrix (centred or not):
 * Dᵢⱼ = Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ, clamped at 0 against rounding, with an exact-zero diagonal.
 */
export function squaredDistancesFromGram(g: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = Math.max(0, g[i * n + i] + g[j * n + j] - 2 * g[i * n + j]);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

/**
 * Squared distances from every row to the combination z = Σ wⱼ xⱼ with Σ wⱼ = 1, from the Gram
 * matrix alone: ‖xᵢ − z‖² = Gᵢᵢ − 2(Gw)ᵢ + wᵀGw (clamped at 0). O(n²), no pass over the data.
 * The identity needs Σ w = 1 when G is centred on a reference vector.
 */
export function squaredDistancesToCombination(
  g: Float64Array,
  n: number,
  w: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  const gw = new Float64Array(n);
  let wgw = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += g[i * n + j] * w[j];
    gw[i] = s;
    wgw += w[i] * s;
  }
  for (let i = 0; i < n; i++) out[i] = Math.max(0, g[i * n + i] - 2 * gw[i] + wgw);
  return out;
}

/**
 * Squared norm of a difference of two combinations, ‖Σ (aⱼ − bⱼ) xⱼ‖² = Δᵀ G Δ (clamped at 0),
 * for Σ a = Σ b so that centring cancels.
 */
export function squaredGramNormOfDifference(g: Float64Array, n: number, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const di = a[i] - b[i];
    if (di === 0) continue;
    let s = 0;
    for (let j = 0; j < n; j++) s += g[i * n + j] * (a[j] - b[j]);
    total += di * s;
  }
  return Math.max(0, total);
}
