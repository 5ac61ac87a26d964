import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients } from '../core/finite-clients.js';
import type { Layout, LayoutSegment } from '../core/layout.js';
import { readOptions, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { quickselect } from '../kernels/quickselect.js';
import { requireLayoutOf } from './flame-noise.js';

/** How {@link lasa} scales its median-based z-scores. */
export type LasaZScore = 'std' | 'mad';

/** Options of {@link lasa}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface LasaOptions extends CommonOptions {
  /**
   * The layers: a {@link Layout} covering [0, d) (e.g. from `createLayout` or the TF.js adapter's
   * `flattenWeights`). Each segment is filtered and averaged on its own. Segments of kind
   * `'kernel'` or `'other'` are sparsified; biases and batch-norm segments are kept dense, as the
   * authors' code sparsifies only weight matrices and convolution kernels. Default: one layer of
   * kind `'other'` covering the whole vector.
   */
  layout?: Layout;
  /**
   * Pre-aggregation sparsity s: the fraction of each client's sparsified coordinates set to 0 (its
   * k = ⌊(1 − s)·P⌋ largest magnitudes over the P sparsified coordinates are kept, with any ties at
   * the k-th). A finite number in [0, 1). Default 0.3 (the paper's and FLPoison's default).
   */
  sparsity?: number;
  /** Norm filter radius λₙ: a client passes a layer's norm filter when its z-score is < λₙ. A finite number > 0. Default 2. */
  lambdaNorm?: number;
  /** Sign filter radius λₛ: a client passes a layer's sign filter when its z-score is < λₛ. A finite number > 0. Default 1. */
  lambdaSign?: number;
  /**
   * Scale of the median-based z-score |v − median| / scale: `'std'`, the population standard
   * deviation of the n values (the paper's MZ-score and the authors' code, default), or `'mad'`,
   * 1.4826 × the median absolute deviation (a scale a minority cannot inflate).
   */
  zScore?: LasaZScore;
}

/** What {@link lasa} decided for one layer. */
export interface LasaLayerDecision {
  /** The segment's name. */
  readonly name: string;
  /** Clients averaged in this layer (input indices, ascending): those passing both filters, or all finite clients when none passes. */
  readonly selected: readonly number[];
  /** Whether no client passed both filters, so every finite client was averaged. */
  readonly fallback: boolean;
}

/** Decision of {@link lasa}. */
export interface LasaDecision extends Decision {
  /** Clients averaged in at least one layer (ascending). */
  readonly selected: readonly number[];
  /** The clipping bound M: the median of the finite clients' norms (mean of the two middle values for even n). */
  readonly clipNorm: number;
  /** One entry per layer, in layout order. */
  readonly layers: readonly LasaLayerDecision[];
}

/**
 * Layer-adaptive sparsified model aggregation (LASA; Xu, Zhang & Hu, "Achieving
 * Byzantine-resilient federated learning via layer-adaptive sparsified model aggregation",
 * WACV 2025), as the authors' code runs it:
 *
 * 1. clip: x̃ᵢ = xᵢ · min(1, M/‖xᵢ‖), M the median of the client norms;
 * 2. sparsify (top-k): in each client, keep the non-zero entries whose magnitude is at least the
 *    k-th largest, k = ⌊(1 − s)P⌋, over its P sparsified coordinates (weights and kernels), zero
 *    the others (biases and batch-norm segments stay dense);
 * 3. per layer l, with the sparsified clipped values: the norm ‖x̃ᵢ,ₗ‖ and the sign purity
 *    ρᵢ,ₗ = ½(1 + Σ sign / Σ |sign|) (the fraction of positive entries among the non-zero ones;
 *    ½ for a layer that is all zero); median-based z-scores zᵢ = |vᵢ − median(v)| / scale(v);
 * 4. the layer's benign clients pass both filters, z_norm < λₙ and z_sign < λₛ (all clients when
 *    none does), and the output layer is their mean.
 *
 * Pinned where the code and the paper leave room: the median of an even count is the mean of the
 * two middle values (the authors' `torch.median` clipping bound takes the lower one); a z-score
 * 0/0 (all values equal) is 0, v ≠ median with scale 0 is +∞; the sparsification mask is taken on
 * the unclipped values (clipping multiplies a client by one positive number, which changes no
 * ranking); the k-th largest magnitude itself and its ties are kept, zeros never (the authors' code
 * keeps |x| > the k-th largest, i.e. k − 1 entries when magnitudes are distinct, and fewer on
 * quantised updates); s = 0 keeps every entry.
 *
 * Guarantee, whatever the clients send: every clipped update has norm ≤ M, so every output layer
 * has norm ≤ M and ‖out‖ ≤ √L · M (L layers); with fewer than n/2 attackers M is at most the largest
 * honest norm. Non-finite clients are dropped (no f). Everything is computed in float64 from the
 * float32 inputs, so values up to ±3.4·10³⁸ neither overflow nor underflow.
 *
 * Cost: one norm pass, one selection pass (quickselect, O(P) per client), two passes per layer.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link LasaOptions}: `layout` (default one layer), `sparsity` (in [0, 1);
 *   default 0.3), `lambdaNorm` (> 0; default 2), `lambdaSign` (> 0; default 1), `zScore` (`'std'`
 *   or `'mad'`; default `'std'`), `nonFinite` (default `'drop'`).
 * @returns the aggregate, a new `Float32Array` of length d.
 * @category Aggregators
 * @example
 * ```ts
 * import { createLayout, lasaWithDecision } from 'robust-agg';
 *
 * // Five clients, a 2×2 kernel and a bias of 2 (d = 6); client 4 flips and scales its kernel.
 * const layout = createLayout([
 *   { name: 'dense/kernel', shape: [2, 2], kind: 'kernel' },
 *   { name: 'dense/bias', shape: [2], kind: 'bias' },
 * ]);
 * const updates = [
 *   Float32Array.of(1.0, 0.9, 1.1, 0.2, 0.1, 0.1),
 *   Float32Array.of(1.1, 1.0, 0.9, 0.1, 0.1, 0.2),
 *   Float32Array.of(0.9, 1.1, 1.0, 0.2, 0.2, 0.1),
 *   Float32Array.of(1.0, 1.0, 1.0, 0.1, 0.1, 0.1),
 *   Float32Array.of(-9, -9, -9, -9, 0.1, 0.1),
 * ];
 * const { aggregate, decision } = lasaWithDecision(updates, { layout, sparsity: 0.25 });
 * console.log(decision.layers[0].selected); // [0, 1, 2, 3]: client 4 fails the kernel's sign filter
 * console.log(aggregate); // kernel ≈ [1, 1, 1, 0]: the honest top-3 entries, clipped to the median norm, averaged
 * ```
 */
export function lasa(updates: Updates, options?: LasaOptions): Float32Array {
  return lasaWithDecision(updates, options).aggregate;
}

/**
 * {@link lasa} together with its {@link LasaDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped (or throw, see `nonFinite`).
 * @param options - see {@link LasaOptions}: `layout` (default one layer), `sparsity` (in [0, 1);
 *   default 0.3), `lambdaNorm` (> 0; default 2), `lambdaSign` (> 0; default 1), `zScore` (`'std'`
 *   or `'mad'`; default `'std'`), `nonFinite` (default `'drop'`).
 * @category Aggregators
 * @example
 * ```ts
 * import { lasaWithDecision } from 'robust-agg';
 *
 * // Four clients, one layer, no sparsification: client 3's norm is far from the others'.
 * const updates = [Float32Array.of(3, 4), Float32Array.of(4, 3), Float32Array.of(0, 5), Float32Array.of(0.3, 0.4)];
 * const { aggregate, decision } = lasaWithDecision(updates, { sparsity: 0 });
 * console.log(decision.clipNorm);           // 5: the median norm (nothing is clipped)
 * console.log(decision.layers[0].selected); // [0, 1, 2]: client 3's norm z-score is 4.5/1.95 = 2.31 ≥ 2
 * console.log(aggregate);                   // [7/3, 4]
 * ```
 */
export function lasaWithDecision(updates: Updates, options?: LasaOptions): Aggregation<LasaDecision> {
  const rule = 'lasa';
  const { opts, sparsity, lambdaNorm, lambdaSign, zScore } = readLasaOptions(rule, options);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { rows, d } = clients;
  const m = rows.length;
  const layout: readonly LayoutSegment[] =
    opts.layout === undefined
      ? [{ name: 'all', shape: [d], offset: 0, size: d, trainable: true, kind: 'other' }]
      : requireLayoutOf(rule, opts.layout, d);

  // 1. Clipping factors from the norms (float64: no float32 value can overflow a sum of squares).
  const norms = Float64Array.from(rows, (x) => Math.sqrt(lasaSquaredNorm(x, 0, d)));
  const { clipNorm, scale } = lasaClip(norms);

  // 2. Per-client magnitude thresholds over the sparsified segments.
  const sparse = layout.filter((s) => s.kind === 'kernel' || s.kind === 'other');
  const total = sparse.reduce((a, s) => a + s.size, 0);
  const keep = Math.floor((1 - sparsity) * total);
  const threshold = new Float64Array(m); // keep x ≠ 0 with |x| ≥ threshold
  if (sparsity === 0 || total === 0) threshold.fill(0);
  else if (keep === 0) threshold.fill(Infinity);
  else {
    const scratch = new Float32Array(total);
    for (let i = 0; i < m; i++) {
      let p = 0;
      for (const s of sparse) for (let k = s.offset; k < s.offset + s.size; k++) scratch[p++] = Math.abs(rows[i][k]);
      // The keep-th largest is the (total − keep)-th smallest.
      quickselect(scratch, 0, total - 1, total - keep);
      threshold[i] = scratch[total - keep];
    }
  }

  // 3–4. Per layer: statistics of the sparsified clipped values, filters, mean.
  const out = new Float32Array(d);
  const layers: LasaLayerDecision[] = [];
  const used = new Uint8Array(m);
  const layerNorm = new Float64Array(m);
  const purity = new Float64Array(m);
  for (const seg of layout) {
    const sparsified = seg.kind === 'kernel' || seg.kind === 'other';
    const end = seg.offset + seg.size;
    const stats = new Float64Array(3);
    for (let i = 0; i < m; i++) {
      stats.fill(0);
      lasaLayerStats(rows[i], seg.offset, end, sparsified ? threshold[i] : 0, stats, 0);
      layerNorm[i] = scale[i] * Math.sqrt(stats[0]);
      purity[i] = stats[2] === 0 || scale[i] === 0 ? 0.5 : stats[1] / stats[2];
    }
    const { benign, fallback } = lasaLayerFilter(layerNorm, purity, zScore, lambdaNorm, lambdaSign);
    for (const i of benign) used[i] = 1;
    lasaLayerMean(rows, benign, threshold, scale, sparsified, seg.offset, end, out, seg.offset);
    layers.push({ name: seg.name, selected: benign.map((i) => clients.index[i]), fallback });
  }
  const selected: number[] = [];
  for (let i = 0; i < m; i++) if (used[i] === 1) selected.push(clients.index[i]);
  return {
    aggregate: out,
    decision: { rule, n: clients.n, dropped: clients.dropped, selected, clipNorm, layers },
  };
}

/**
 * LASA's options object read and checked (layout resolved later, against d). Shared by lasa and
 * the sharded coordinator.
 *
 * @internal
 */
export function readLasaOptions(
  rule: string,
  options: LasaOptions | undefined,
): { opts: Partial<LasaOptions>; sparsity: number; lambdaNorm: number; lambdaSign: number; zScore: LasaZScore } {
  const opts = readOptions(rule, options, ['layout', 'sparsity', 'lambdaNorm', 'lambdaSign', 'zScore', 'nonFinite']);
  const sparsity = requireNumber(rule, 'sparsity', opts.sparsity ?? 0.3, 0, 1);
  if (sparsity === 1) throw new RobustAggError('INVALID_OPTION', `${rule}: sparsity must be a finite number in [0, 1), got 1`);
  const lambdaNorm = requireNumber(rule, 'lambdaNorm', opts.lambdaNorm ?? 2, 0, Infinity, true);
  const lambdaSign = requireNumber(rule, 'lambdaSign', opts.lambdaSign ?? 1, 0, Infinity, true);
  const zScore = opts.zScore ?? 'std';
  if (zScore !== 'std' && zScore !== 'mad') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: zScore must be 'std' or 'mad', got ${String(zScore)}`);
  }
  return { opts, sparsity, lambdaNorm, lambdaSign, zScore };
}

/**
 * Σ xₖ² over the columns [from, to), in float64, in order (no float32 value can overflow it).
 * Shared by lasa and the shards of the sharded coordinator.
 *
 * @internal
 */
export function lasaSquaredNorm(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += x[k] * x[k];
  return s;
}

/**
 * The clipping bound (the median norm) and each client's factor min(1, bound/‖xᵢ‖). Shared by
 * lasa and the sharded coordinator.
 *
 * @internal
 */
export function lasaClip(norms: Float64Array): { clipNorm: number; scale: Float64Array } {
  const clipNorm = median(norms);
  return { clipNorm, scale: Float64Array.from(norms, (v) => (v > clipNorm ? clipNorm / v : 1)) };
}

/**
 * Adds to out[at], out[at + 1], out[at + 2] the layer statistics of one client over the columns
 * [from, to): Σ v², the count of positive and of non-zero values, over the values v ≠ 0 with
 * |v| ≥ t. Shared by lasa and the shards of the sharded coordinator.
 *
 * @internal
 */
export function lasaLayerStats(x: Float32Array, from: number, to: number, t: number, out: Float64Array, at: number): void {
  let s2 = 0;
  let positive = 0;
  let nonZero = 0;
  for (let k = from; k < to; k++) {
    const v = x[k];
    if (v === 0 || !(Math.abs(v) >= t)) continue;
    s2 += v * v;
    nonZero++;
    if (v > 0) positive++;
  }
  out[at] += s2;
  out[at + 1] += positive;
  out[at + 2] += nonZero;
}

/**
 * One layer's benign clients: z-scores of the clipped layer norms and of the sign purities below
 * their bounds (every client when none is). Shared by lasa and the sharded coordinator.
 *
 * @internal
 */
export function lasaLayerFilter(
  layerNorm: Float64Array,
  purity: Float64Array,
  zScore: LasaZScore,
  lambdaNorm: number,
  lambdaSign: number,
): { benign: number[]; fallback: boolean } {
  const m = layerNorm.length;
  const zn = zScores(layerNorm, zScore);
  const zs = zScores(purity, zScore);
  let benign: number[] = [];
  for (let i = 0; i < m; i++) if (zn[i] < lambdaNorm && zs[i] < lambdaSign) benign.push(i);
  const fallback = benign.length === 0;
  if (fallback) benign = Array.from({ length: m }, (_, i) => i);
  return { benign, fallback };
}

/**
 * out[at + k − from] = (Σ over the benign clients of scaleᵢ·v, v = xᵢ[k] with |v| ≥ tᵢ) / #benign
 * for k in [from, to) (tᵢ = 0 when the layer is not sparsified), accumulated in float64 in
 * the order of `benign`. Shared by lasa and the shards of the sharded coordinator.
 *
 * @internal
 */
export function lasaLayerMean(
  rows: readonly Float32Array[],
  benign: readonly number[],
  threshold: ArrayLike<number>,
  scale: ArrayLike<number>,
  sparsified: boolean,
  from: number,
  to: number,
  out: Float32Array,
  at: number,
): void {
  const size = to - from;
  const acc = new Float64Array(size);
  for (const i of benign) {
    const x = rows[i];
    const t = sparsified ? threshold[i] : 0;
    const c = scale[i];
    for (let k = 0; k < size; k++) {
      const v = x[from + k];
      if (Math.abs(v) >= t) acc[k] += c * v;
    }
  }
  for (let k = 0; k < size; k++) out[at + k] = acc[k] / benign.length;
}

/** Median of a float64 array (mean of the two middle values for an even count); not modified. */
function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : sorted[n / 2 - 1] / 2 + sorted[n / 2] / 2;
}

/**
 * Median-based z-scores |vᵢ − median(v)| / scale: the population standard deviation (`'std'`) or
 * 1.4826 × the median absolute deviation (`'mad'`). 0/0 is 0; a non-zero deviation over a zero
 * scale is +∞.
 */
function zScores(v: Float64Array, kind: LasaZScore): Float64Array {
  const n = v.length;
  const med = median(v);
  let scale: number;
  if (kind === 'std') {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += v[i] / n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (v[i] - mean) ** 2;
    scale = Math.sqrt(s / n);
  } else {
    scale = 1.4826 * median(Float64Array.from(v, (x) => Math.abs(x - med)));
  }
  return Float64Array.from(v, (x) => {
    const dev = Math.abs(x - med);
    return dev === 0 ? 0 : scale === 0 ? Infinity : dev / scale;
  });
}
