import type { CombineExports, GramExports, SelectExports } from './exports.js';
import type { WasmMemory } from './wasm-api.js';

/** First byte the kernels use: address 0 stands for "no array" in the kernels' arguments. */
const BASE = 1024;

/** Columns per block of the weighted combination: a 32 KiB float64 accumulator stays in L1. */
const COMBINE_BLOCK = 4096;
/** Rows copied per kernel call of the combination (16 × 16 KiB). */
const COMBINE_GROUP = 16;
/** Values per block of the norm kernels. */
const NORM_BLOCK = 16384;

/**
 * Rows per group of the Gram kernel's cache blocking (assembly/gram.ts, gramBlock) for blocks of
 * `stride` columns: a group's rows (jg × stride float32, at most 512 KiB) stay in L2 while every
 * panel of rows below meets them. A multiple of 4, at least 4. @internal
 */
export function gramGroup(stride: number): number {
  return Math.max(4, Math.floor(131072 / stride / 4) * 4);
}

/** Scratch bytes of one binned sum in the selection kernels (32 float64 bins, assembly/select.ts). */
const BIN_BYTES = 256;

/**
 * Largest m the sorting-network selection handles for the median, twice that for the trimmed
 * mean and the mean around the median; the column kernel beyond (networks grow as m log² m; the
 * means read most ranks, and the column kernel needs two selections for them).
 */
export const NETWORK_MAX_ROWS = 512;

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

/**
 * Batcher's odd–even merge sort on m wires (as on the next power of two, whose extra wires hold
 * +∞ and so never move: comparators that touch them are dropped), pruned to the comparators that
 * can change the wires in [lo, hi). Returns pairs of byte offsets (wire · 16), the smaller first.
 *
 * @internal
 */
export function selectionNetwork(m: number, lo: number, hi: number): Uint32Array {
  let size = 1;
  while (size < m) size *= 2;
  const pairs: number[] = [];
  for (let p = 1; p < size; p *= 2) {
    for (let k = p; k >= 1; k = k >>> 1) {
      for (let j = k % p; j <= size - 1 - k; j += 2 * k) {
        for (let i = 0; i <= Math.min(k - 1, size - j - k - 1); i++) {
          const a = i + j;
          const b = i + j + k;
          if (Math.floor(a / (2 * p)) === Math.floor(b / (2 * p)) && b < m) pairs.push(a, b);
        }
      }
    }
  }
  const needed = new Uint8Array(m);
  needed.fill(1, Math.max(0, lo), Math.min(m, hi));
  const kept: number[] = [];
  for (let t = pairs.length - 2; t >= 0; t -= 2) {
    const a = pairs[t];
    const b = pairs[t + 1];
    if (needed[a] === 1 || needed[b] === 1) {
      needed[a] = 1;
      needed[b] = 1;
      kept.push(b * 16, a * 16);
    }
  }
  return Uint32Array.from(kept.reverse());
}

/** The wires (sorted ranks) a selection reads. */
function neededRanks(m: number, op: number, param: number): [number, number] {
  const k = m >>> 1;
  if (op === 0) return [(m & 1) === 1 ? k : k - 1, k + 1];
  if (op === 1) return [param, m - param];
  return [k - param - 1, k + param + 1];
}

/**
 * One instance of a WebAssembly kernel module with its memory, and the code that streams rows
 * through it: rows are copied into the module's memory one block of columns at a time (never all
 * of them), the kernel runs, results are copied out. The memory grows to the largest block layout
 * asked for and stays at that size (WebAssembly memory cannot shrink); drop the instance to
 * release it. One subclass per kernel module (combine, gram, select), so that a bundle carries
 * the streaming code of the kernels it uses only.
 *
 * The same classes run on the main thread (rows are the caller's arrays) and inside the worker
 * threads (rows are views of a SharedArrayBuffer slot), so both compute bit-identical chunks.
 *
 * @internal
 */
export class Workspace<E extends { readonly memory: WasmMemory }> {
  // Views of the memory, made by reserve (also in the constructor) whenever the memory is new.
  f32!: Float32Array;
  f64!: Float64Array;

  constructor(readonly ex: E) {
    this.reserve(0);
  }

  /** Bytes of WebAssembly memory held by this instance. */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * Makes `bytes` bytes from BASE addressable (grows the memory and refreshes the views: read
   * f32 and f64 again after calling it).
   */
  reserve(bytes: number): void {
    const memory = this.ex.memory;
    const grow = BASE + bytes - this.memoryBytes;
    if (grow > 0) memory.grow(Math.ceil(grow / 65536));
    const buffer = memory.buffer;
    if (this.f32?.buffer !== buffer) {
      this.f32 = new Float32Array(buffer);
      this.f64 = new Float64Array(buffer);
    }
  }
}

/** The "gram" module's instance: partial centred Gram matrices. @internal */
export class GramWorkspace extends Workspace<GramExports> {
  /**
   * Partial centred Gram matrix of the columns [c0, c0 + cw) of `rows`, in blocks of `block`
   * columns (a multiple of 16), written to out[0 .. n²) (lower triangle; the upper one is 0).
   * `centre`: 'robust' centres each block on the row whose largest magnitude in that block is the
   * lower median (ties: the lowest index): the rows are copied in as they are while their largest
   * magnitudes are measured, and the kernel centres each panel of 4 rows on the chosen row from
   * cache just before using it (every value is read from `rows` once); a vector (columns c0 … of
   * it) centres on that vector as the rows are copied in; null does not centre. Each row then gets
   * its own power-of-two scale (only when its block maximum leaves [2⁻⁴⁰, 2⁴⁰]) that the kernel
   * undoes per pair in float64; a row whose centred values could overflow float32 is centred in
   * float64 and scaled.
   *
   * Rows that are the same array object are computed once: the kernel runs on the m distinct
   * arrays (in order of first appearance) and the n×n result is read out of their m×m matrix.
   * Several clients sending one array is what Sybil clients do and what simulations of them pass
   * (the Byrd-SAGA experiment's 20 Byzantine workers send one message: 70 rows, 50 distinct, the
   * Gram's cost 2 485 → 1 326 pairs). The bits are the ones of n distinct copies, because a pair's
   * value depends on nothing but its two rows, the block's centre and the two rows' own scales
   * (each pair is summed alone, in the same order, wherever its rows sit in the panels; the scales
   * are powers of two, so fᵢ·fⱼ is exact and symmetric), and the robust centre is still the median
   * over all n rows, duplicates counted (its index mapped to the distinct row). Worker threads
   * receive copies of the rows, lose the identity and compute all n: the same bits
   * (test/kernels/gram-duplicates.test.ts).
   * Memory: one block of n rows in panels (n·block float32) plus n² float64.
   * Returns false when an input value is NaN or ±∞ (the caller falls back).
   */
  gramChunk(
    rows: readonly Float32Array[],
    centre: Float32Array | null | 'robust',
    c0: number,
    cw: number,
    block: number,
    out: Float64Array,
  ): boolean {
    const n = rows.length;
    // u[i]: which distinct array rows[i] is (the keys of `ids`, in order of first appearance).
    const ids = new Map<Float32Array, number>();
    const u = rows.map((x) => ids.get(x) ?? ids.set(x, ids.size).size - 1);
    const distinct = [...ids.keys()];
    const m = ids.size;
    const n4 = roundUp(n, 4);
    const stride = roundUp(Math.min(block, cw), 4);
    // A row's raw values at BASE, the centre at r, the largest magnitudes at mx (the m distinct
    // rows', then all n rows'), the rows' factors, the panels, the median's scratch, the m×m Gram.
    const r = BASE + stride * 4;
    const mx = r + stride * 4;
    const fac = roundUp(mx + n4 * 8, 16);
    const y = fac + n4 * 8;
    const keys = roundUp(y + n4 * stride * 4, 16);
    const g = keys + n4 * 8;
    this.reserve(g + n * n * 8 - BASE);
    const { f32, f64, ex } = this;
    const robust = centre === 'robust';
    const ref = robust ? null : centre;
    const at = ref ? r : 0;
    const g8 = g >>> 3;
    const mx4 = mx >>> 2;
    f64.fill(0, g8, g8 + m * m);
    for (let b0 = c0; b0 < c0 + cw; b0 += block) {
      const w = Math.min(block, c0 + cw - b0);
      const s = roundUp(w, 4);
      if (ref) f32.set(ref.subarray(b0, b0 + w), r >>> 2);
      // One row at a time through a small buffer that stays in L1, into the panels (centred there
      // on a given vector, or as they are for the robust centre).
      for (let i = 0; i < m; i++) {
        f32.set(distinct[i].subarray(b0, b0 + w), BASE >>> 2);
        if (isNaN((f32[mx4 + i] = ex.gramRow(BASE, at, i, w, s, y)))) return false;
      }
      let c = 0;
      if (robust) {
        // The row of median largest magnitude over all n rows (duplicates counted), as a
        // distinct row; the kernel centres every panel on it just before using it.
        for (let i = 0; i < n; i++) f32[mx4 + n4 + i] = f32[mx4 + u[i]];
        c = u[ex.gramMedianRow(mx + n4 * 4, n, keys)];
      } else {
        if (ex.gramScale(y, m, s, mx, fac) < 0) return false;
        // Rows whose centred values overflowed float32 (factor 0): again, in float64, and scaled.
        for (let i = 0; i < m; i++) {
          if (f64[(fac >>> 3) + i] !== 0) continue;
          f32.set(distinct[i].subarray(b0, b0 + w), BASE >>> 2);
          if (!ex.gramRowWide(BASE, at, i, w, s, y, fac)) return false;
        }
      }
      if (ex.gramBlock(y, m, s, g, fac, robust ? r : 0, mx, c, gramGroup(s)) < 0) return false;
    }
    if (m === n) out.set(f64.subarray(g8, g8 + n * n));
    else {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const a = u[i];
          const b = u[j];
          out[i * n + j] = j > i ? 0 : f64[g8 + (a > b ? a * m + b : b * m + a)];
        }
      }
    }
    return true;
  }
}

/** The "select" module's instance: column-wise selection. @internal */
export class SelectWorkspace extends Workspace<SelectExports> {
  private networkKey = '';
  private network: Uint32Array = new Uint32Array(0);

  /**
   * Reduces every column of [c0, c0 + cw) of `rows` (op: 0 median, 1 trimmed mean with `param`
   * values trimmed per tail, 2 mean of the `param` values nearest the median) into
   * out[outOffset ..], in blocks of `block` columns.
   */
  selectChunk(
    rows: readonly Float32Array[],
    c0: number,
    cw: number,
    block: number,
    op: number,
    param: number,
    out: Float32Array,
    outOffset: number,
  ): void {
    const m = rows.length;
    const useNetwork = m <= (op === 0 ? NETWORK_MAX_ROWS : 2 * NETWORK_MAX_ROWS);
    const stride = roundUp(Math.min(block, cw), 8);
    const data = BASE;
    const res = data + m * stride * 4;
    const col = res + stride * 4;
    const dist = roundUp(col + m * 4, 16);
    const work = roundUp(dist + m * 8 + BIN_BYTES, 16); // distances, then the bins of a sum
    let net = work + m * 32 + BIN_BYTES; // the two groups of four lanes, then the bins
    if (useNetwork) {
      const key = `${m}:${op}:${param}`;
      if (key !== this.networkKey) {
        this.network = selectionNetwork(m, ...neededRanks(m, op, param));
        this.networkKey = key;
      }
    }
    this.reserve(net + this.network.length * 4 - BASE);
    const f32 = this.f32;
    if (useNetwork) new Uint32Array(this.ex.memory.buffer, net, this.network.length).set(this.network);
    else net = 0;
    for (let b0 = c0; b0 < c0 + cw; b0 += block) {
      const w = Math.min(block, c0 + cw - b0);
      for (let i = 0; i < m; i++) f32.set(rows[i].subarray(b0, b0 + w), (data >>> 2) + i * stride);
      if (useNetwork) {
        this.ex.networkColumns(data, m, stride, w, net, this.network.length >>> 1, op, param, res, work);
      } else {
        this.ex.selectColumns(data, m, stride, w, op, param, res, col, dist);
      }
      out.set(f32.subarray(res >>> 2, (res >>> 2) + w), outOffset + (b0 - c0));
    }
  }
}

/**
 * The "combine" module's instance. Its kernels are functions, not methods, so that a bundle keeps
 * only those its rules call (mean never needs the norms, coordinateMedian only the finiteness
 * check). @internal
 */
export class CombineWorkspace extends Workspace<CombineExports> {}

/**
 * out = Σᵢ wᵢ rowsᵢ + offsetWeight · offset in float64, rounded once: the plain kernel's
 * operations in the plain kernel's order (rows with weight 0 are never read). With `checked`,
 * every row (weight 0 included) is also checked for NaN/±Infinity in the same pass, and the
 * result is false (out then holds garbage) when one is found.
 */
export function combineWasm(
  ws: CombineWorkspace,
  rows: readonly Float32Array[],
  weights: ArrayLike<number>,
  offset: Float32Array | null,
  offsetWeight: number,
  out: Float32Array,
  checked = false,
): boolean {
  const d = out.length;
  const used = rows.map((_, i) => i).filter((i) => checked || weights[i] !== 0);
  const block = Math.min(COMBINE_BLOCK, roundUp(d, 4));
  // The float64 accumulator at BASE, the offset, the rows, their weights, the result.
  const off = BASE + block * 8;
  const data = off + block * 4;
  const wts = data + COMBINE_GROUP * block * 4;
  const res = wts + COMBINE_GROUP * 8;
  ws.reserve(res + block * 4 - BASE);
  const { f32, f64, ex } = ws;
  const useOffset = offset !== null && offsetWeight !== 0;
  for (let c0 = 0; c0 < d; c0 += block) {
    const w = Math.min(block, d - c0);
    if (useOffset) f32.set(offset.subarray(c0, c0 + w), off >>> 2);
    ex.accInit(BASE, useOffset ? off : 0, offsetWeight, w);
    for (let g0 = 0; g0 < used.length; g0 += COMBINE_GROUP) {
      const count = Math.min(COMBINE_GROUP, used.length - g0);
      for (let k = 0; k < count; k++) {
        const i = used[g0 + k];
        f32.set(rows[i].subarray(c0, c0 + w), (data >>> 2) + k * block);
        f64[(wts >>> 3) + k] = weights[i];
      }
      if (!checked) ex.accRows(BASE, data, count, block, wts, w);
      else if (ex.accRowsChecked(BASE, data, count, block, wts, w) !== 0) return false;
    }
    ex.accStore(BASE, res, w);
    out.set(f32.subarray(res >>> 2, (res >>> 2) + w), c0);
  }
  return true;
}

/** Whether every value of x is finite (no NaN, no ±Infinity). */
export function allFiniteWasm(ws: CombineWorkspace, x: Float32Array): boolean {
  const d = x.length;
  const block = Math.min(NORM_BLOCK, roundUp(d, 4));
  ws.reserve(block * 4);
  for (let c0 = 0; c0 < d; c0 += block) {
    const w = Math.min(block, d - c0);
    ws.f32.set(x.subarray(c0, c0 + w), BASE >>> 2);
    if (!ws.ex.allFinite(BASE, w)) return false;
  }
  return true;
}

/** ‖a‖² (b null) or ‖a − b‖², float64, the plain kernel's order of operations. */
export function sumSquaresWasm(ws: CombineWorkspace, a: Float32Array, b: Float32Array | null): number {
  const d = a.length;
  const block = Math.min(NORM_BLOCK, roundUp(d, 4));
  const state = BASE;
  const pa = state + 16;
  const pb = pa + block * 4;
  ws.reserve(pb + block * 4 - BASE);
  ws.f64[state >>> 3] = 0;
  ws.f64[(state >>> 3) + 1] = 0;
  for (let c0 = 0; c0 < d; c0 += block) {
    const w = Math.min(block, d - c0);
    ws.f32.set(a.subarray(c0, c0 + w), pa >>> 2);
    if (b !== null) ws.f32.set(b.subarray(c0, c0 + w), pb >>> 2);
    ws.ex.sumSquares(pa, b === null ? 0 : pb, w, state);
  }
  return ws.f64[state >>> 3] + ws.f64[(state >>> 3) + 1];
}
