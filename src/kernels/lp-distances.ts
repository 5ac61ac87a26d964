import { RobustAggError } from '../core/errors.js';
import { kernelConfig } from './wasm/config.js';
import { inflate } from './wasm/inflate.js';
import { LP_WASM_BASE64 } from './wasm/module-bytes-lp.js';
import { wasmApi, type WasmMemory, type WasmModule } from './wasm/wasm-api.js';

/** Columns per block: the n × 512 float64 block stays in cache while every pair walks it. */
const LP_BLOCK = 512;

/** Largest integer p that runs by repeated squaring (and on the WebAssembly kernel); `Math.pow` above. */
const LP_MAX_INTEGER_POWER = 64;

/** How the per-block statistics of a pair merge: Σ|Δ| (p = 1), max |Δ| (p = ∞), or scaled sums. */
type LpMode = 'one' | 'max' | 'scaled';

/**
 * Pairwise ℓp distances ‖xᵢ − xⱼ‖_p = (Σₖ |xᵢₖ − xⱼₖ|^p)^{1/p} between the rows, as a row-major n×n
 * `Float64Array` (symmetric, zero diagonal), for any p ≥ 1 including `Infinity` (max |xᵢₖ − xⱼₖ|).
 * The Gram identity only holds for p = 2, so this walks every pair over blocks of 512 columns, in
 * float64. For p other than 1 and ∞ each pair keeps a running scale (the largest |difference| so
 * far) and a sum of (|difference| / scale)^p, as LAPACK's dnrm2 does, so |difference|^p can neither
 * overflow nor underflow (|Δ| = 1e20 and p = 16 would overflow a plain sum). Integer p up to 64
 * uses repeated squaring, other p `Math.pow`.
 *
 * Dispatch (see `setKernelBackend`): for p = 1, p = ∞ and integer p in [2, 64], from n·d = 2¹⁶ on
 * (or always with backend 'wasm'), a WebAssembly f64x2 kernel computes each block's per-pair
 * statistics (four pairs per pass over a row) with the very operations of the plain kernel in
 * the same order — float64 differences of the float32 inputs, sums in two lanes (even columns,
 * odd columns) then lane 0 + lane 1 — so both kernels give the same bits. Other p, or backend
 * 'js', run {@link lpDistancesPlain}.
 *
 * Cost: n(n−1)/2 · d differences (two sweeps per block for p ∉ {1, ∞}). Memory: 3n² + 512·n
 * float64.
 *
 * @param rows - n rows of equal length d (finite values).
 * @param p - the norm: a number ≥ 1 or `Infinity`.
 * @returns the n×n distances, row-major.
 */
export function lpDistances(rows: readonly Float32Array[], p: number): Float64Array {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0].length;
  if (n >= 2 && d > 0 && lpFastPower(p) !== null) {
    const backend = kernelConfig.backend;
    if (backend === 'wasm' || (backend === 'auto' && n * d >= kernelConfig.minWasmWork)) {
      const ws = lpWorkspace();
      if (ws === null && backend === 'wasm') {
        throw new RobustAggError(
          'INVALID_OPTION',
          `kernel backend 'wasm' was requested but WebAssembly SIMD is unavailable here: ${String(lpFailure)}`,
        );
      }
      if (ws !== null) {
        const out = ws.distances(rows, p);
        if (out !== null) return out;
      }
    }
  }
  return lpDistancesPlain(rows, p);
}

/**
 * The plain TypeScript kernel of {@link lpDistances} (float64 throughout): the fallback and the
 * oracle the WebAssembly kernel is tested against, bit for bit.
 *
 * @internal
 */
export function lpDistancesPlain(rows: readonly Float32Array[], p: number): Float64Array {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0].length;
  const acc = new LpAccumulator(n, p);
  if (n < 2) return acc.distances();
  const block = new Float64Array(n * Math.min(LP_BLOCK, d));
  const power = powerFunction(p);
  for (let c0 = 0; c0 < d; c0 += LP_BLOCK) {
    const width = Math.min(LP_BLOCK, d - c0);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const base = i * width;
      for (let k = 0; k < width; k++) block[base + k] = row[c0 + k];
    }
    const body = width & ~1;
    let pair = 0;
    for (let i = 1; i < n; i++) {
      const bi = i * width;
      for (let j = 0; j < i; j++, pair++) {
        const bj = j * width;
        if (acc.mode === 'one') {
          let s0 = 0;
          let s1 = 0;
          for (let k = 0; k < body; k += 2) {
            s0 += Math.abs(block[bi + k] - block[bj + k]);
            s1 += Math.abs(block[bi + k + 1] - block[bj + k + 1]);
          }
          let s = s0 + s1;
          if (body < width) s += Math.abs(block[bi + body] - block[bj + body]);
          acc.blockSum[pair] = s;
          continue;
        }
        let m = 0;
        for (let k = 0; k < width; k++) {
          const a = Math.abs(block[bi + k] - block[bj + k]);
          if (a > m) m = a;
        }
        acc.blockMax[pair] = m;
        if (acc.mode === 'max') continue;
        const inv = m > 0 ? 1 / m : 0;
        let s0 = 0;
        let s1 = 0;
        for (let k = 0; k < body; k += 2) {
          s0 += power(Math.abs(block[bi + k] - block[bj + k]) * inv);
          s1 += power(Math.abs(block[bi + k + 1] - block[bj + k + 1]) * inv);
        }
        let s = s0 + s1;
        if (body < width) s += power(Math.abs(block[bi + body] - block[bj + body]) * inv);
        acc.blockSum[pair] = s;
      }
    }
    acc.merge();
  }
  return acc.distances();
}

/**
 * Each pair's running ℓp statistics and the merge of one block's (the same for both kernels):
 * p = 1 adds the block sums, p = ∞ keeps the largest maximum, other p merge (m, s) into a running
 * (scale, sum) with Σ|Δ|^p = scale^p · sum.
 */
class LpAccumulator {
  readonly mode: LpMode;
  readonly pairs: number;
  /** This block's per-pair Σ (p = 1) or scaled Σ (other p); pair (i, j), j < i, is i(i−1)/2 + j. */
  blockSum: Float64Array;
  /** This block's per-pair max |Δ| (p ≠ 1). */
  blockMax: Float64Array;
  private readonly scale: Float64Array;
  private readonly sum: Float64Array;
  private readonly power: (x: number) => number;

  constructor(
    readonly n: number,
    readonly p: number,
  ) {
    this.mode = p === 1 ? 'one' : p === Infinity ? 'max' : 'scaled';
    this.pairs = (n * (n - 1)) / 2;
    this.scale = new Float64Array(this.pairs);
    this.sum = new Float64Array(this.pairs);
    this.blockSum = new Float64Array(this.pairs);
    this.blockMax = new Float64Array(this.pairs);
    this.power = powerFunction(p);
  }

  merge(): void {
    const { scale, sum, blockSum, blockMax, power } = this;
    if (this.mode === 'one') {
      for (let t = 0; t < this.pairs; t++) sum[t] += blockSum[t];
      return;
    }
    if (this.mode === 'max') {
      for (let t = 0; t < this.pairs; t++) if (blockMax[t] > scale[t]) scale[t] = blockMax[t];
      return;
    }
    for (let t = 0; t < this.pairs; t++) {
      const m = blockMax[t];
      if (m === 0) continue;
      const s = blockSum[t];
      const old = scale[t];
      if (m > old) {
        sum[t] = old === 0 ? s : sum[t] * power(old / m) + s;
        scale[t] = m;
      } else {
        sum[t] += s * power(m / old);
      }
    }
  }

  distances(): Float64Array {
    const { n, p, scale, sum } = this;
    const out = new Float64Array(n * n);
    let pair = 0;
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++, pair++) {
        const v = this.mode === 'one' ? sum[pair] : this.mode === 'max' ? scale[pair] : scale[pair] * Math.pow(sum[pair], 1 / p);
        out[i * n + j] = v;
        out[j * n + i] = v;
      }
    }
    return out;
  }
}

/**
 * FLTrust's statistics in float64: `[⟨x₀, g⟩, …, ⟨x_{m−1}, g⟩, ‖x₀‖², …, ‖x_{m−1}‖²]`. Products
 * of float32 values are exact in float64; each sum runs in two lanes (even columns, odd columns,
 * an odd last column into the even lane) and ends with lane 0 + lane 1. From n·d = 2¹⁶ on (or
 * with backend 'wasm') the "lp" WebAssembly module does it with the same operations in the same
 * order, so both kernels give the same bits.
 *
 * @internal
 */
export function dotsAndSquaredNorms(rows: readonly Float32Array[], g: Float32Array): Float64Array {
  const m = rows.length;
  const d = g.length;
  const backend = kernelConfig.backend;
  if (m > 0 && d > 0 && (backend === 'wasm' || (backend === 'auto' && m * d >= kernelConfig.minWasmWork))) {
    const ws = lpWorkspace();
    if (ws === null && backend === 'wasm') {
      throw new RobustAggError(
        'INVALID_OPTION',
        `kernel backend 'wasm' was requested but WebAssembly SIMD is unavailable here: ${String(lpFailure)}`,
      );
    }
    if (ws !== null) return ws.dots(rows, g);
  }
  return dotsAndSquaredNormsPlain(rows, g);
}

/** The plain kernel of {@link dotsAndSquaredNorms} (the oracle of the WebAssembly one). @internal */
export function dotsAndSquaredNormsPlain(rows: readonly Float32Array[], g: Float32Array): Float64Array {
  const m = rows.length;
  const d = g.length;
  const out = new Float64Array(2 * m);
  const body = d & ~1;
  for (let r = 0; r < m; r++) {
    const x = rows[r];
    let d0 = 0;
    let d1 = 0;
    let q0 = 0;
    let q1 = 0;
    for (let k = 0; k < body; k += 2) {
      const a = x[k];
      const b = x[k + 1];
      d0 += a * g[k];
      d1 += b * g[k + 1];
      q0 += a * a;
      q1 += b * b;
    }
    if (body < d) {
      const a = x[body];
      d0 += a * g[body];
      q0 += a * a;
    }
    out[r] = d0 + d1;
    out[m + r] = q0 + q1;
  }
  return out;
}

/**
 * signMajority's vote counts: out[k] = Σᵢ sign(xᵢₖ) over the rows (sign(±0) = 0), exact integers.
 * From n·d = 2¹⁶ on (or with backend 'wasm') a WebAssembly SIMD kernel counts and also checks
 * every value: the result is `null` when a row holds a NaN or ±∞ (the caller drops such rows and
 * counts again). Otherwise, or with backend 'js', `undefined`: use {@link signVoteCountsPlain} on
 * finite rows. Both kernels give the same counts.
 *
 * @internal
 */
export function signVoteCountsChecked(rows: readonly Float32Array[], d: number): Int32Array | null | undefined {
  const backend = kernelConfig.backend;
  if (rows.length > 0 && d > 0 && (backend === 'wasm' || (backend === 'auto' && rows.length * d >= kernelConfig.minWasmWork))) {
    const ws = lpWorkspace();
    if (ws === null && backend === 'wasm') {
      throw new RobustAggError(
        'INVALID_OPTION',
        `kernel backend 'wasm' was requested but WebAssembly SIMD is unavailable here: ${String(lpFailure)}`,
      );
    }
    if (ws !== null) return ws.votes(rows, d);
  }
  return undefined;
}

/** signMajority's vote counts over finite rows, on whichever kernel {@link signVoteCountsChecked} picks. @internal */
export function signVoteCounts(rows: readonly Float32Array[], d: number): Int32Array {
  return signVoteCountsChecked(rows, d) ?? signVoteCountsPlain(rows, d);
}

/** Columns per block of {@link signVoteCountsPlain}: 4096 int32 counts (16 KiB) stay in L1. */
const VOTE_BLOCK = 4096;

/** The plain loop of {@link signVoteCounts}: row by row over blocks of columns. @internal */
export function signVoteCountsPlain(rows: readonly Float32Array[], d: number): Int32Array {
  const out = new Int32Array(d);
  for (let c0 = 0; c0 < d; c0 += VOTE_BLOCK) {
    const width = Math.min(VOTE_BLOCK, d - c0);
    const votes = out.subarray(c0, c0 + width);
    for (const row of rows) {
      for (let k = 0; k < width; k++) {
        const v = row[c0 + k];
        votes[k] += (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0);
      }
    }
  }
  return out;
}

/** The integer power the fast kernel uses for p (1 for p = 1, 0 for ∞), or null when it has none. */
function lpFastPower(p: number): number | null {
  if (p === Infinity) return 0;
  return Number.isInteger(p) && p >= 1 && p <= LP_MAX_INTEGER_POWER ? p : null;
}

/** x ↦ x^p for x in [0, 1]: repeated squaring for integer p ≤ 64, `Math.pow` otherwise. */
function powerFunction(p: number): (x: number) => number {
  if (Number.isInteger(p) && p > 0 && p <= LP_MAX_INTEGER_POWER) {
    return (x) => {
      let result = 1;
      let base = x;
      let e = p;
      while (e > 0) {
        if (e & 1) result *= base;
        base *= base;
        e >>>= 1;
      }
      return result;
    };
  }
  return (x) => Math.pow(x, p);
}

/** The "lp" module's exports (assembly/lp.ts). */
interface LpExports {
  readonly memory: WasmMemory;
  lpOne(base: number, n: number, width: number, stride: number, sums: number): void;
  lpScaled(base: number, n: number, width: number, stride: number, p: number, maxima: number, sums: number): void;
  dotNorm(x: number, g: number, width: number, state: number): void;
  signAdd(x: number, votes: number, width: number): number;
}

/** First byte the kernel uses. */
const LP_BASE = 1024;
/** Most bytes of WebAssembly memory one call may use; past it the plain kernel runs. */
const LP_MAX_BYTES = 2 ** 31;

let lpModule: WasmModule | null | undefined;
let lpInstance: LpWorkspace | null = null;
let lpFailure: unknown = null;

/** This thread's instance of the "lp" module, compiled on first use; null where it cannot load. */
function lpWorkspace(): LpWorkspace | null {
  if (lpInstance !== null) return lpInstance;
  if (lpModule === null) return null;
  try {
    const api = wasmApi();
    if (api === null) throw new Error('no WebAssembly in this environment');
    lpModule ??= new api.Module(inflate(Uint8Array.from(atob(LP_WASM_BASE64), (c) => c.charCodeAt(0))));
    lpInstance = new LpWorkspace(new api.Instance(lpModule, {}).exports as LpExports);
  } catch (error) {
    lpModule = null;
    lpFailure = error;
    return null;
  }
  return lpInstance;
}

/** Columns per block of {@link dotsAndSquaredNorms} (even, so the two lanes stay aligned across blocks). */
const DOT_BLOCK = 16384;

/** The WebAssembly side of {@link lpDistances} and {@link dotsAndSquaredNorms}. */
class LpWorkspace {
  constructor(private readonly ex: LpExports) {}

  /**
   * Per column, Σᵢ sign(xᵢₖ) (see {@link signVoteCounts}), block by block; null as soon as a row
   * holds a NaN or ±∞.
   */
  votes(rows: readonly Float32Array[], d: number): Int32Array | null {
    const block = Math.min(DOT_BLOCK, d);
    const xAt = LP_BASE;
    const votesAt = xAt + Math.ceil(block / 4) * 16;
    const need = votesAt + Math.ceil(block / 4) * 16;
    const memory = this.ex.memory;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const f32 = new Float32Array(memory.buffer);
    const counts = new Int32Array(memory.buffer, votesAt, block);
    const out = new Int32Array(d);
    for (let c0 = 0; c0 < d; c0 += block) {
      const width = Math.min(block, d - c0);
      counts.fill(0);
      for (const row of rows) {
        f32.set(row.subarray(c0, c0 + width), xAt / 4);
        if (this.ex.signAdd(xAt, votesAt, width) !== 0) return null;
      }
      out.set(counts.subarray(0, width), c0);
    }
    return out;
  }

  /** Σₖ xₖgₖ and Σₖ xₖ² of every row (see {@link dotsAndSquaredNorms}), block by block. */
  dots(rows: readonly Float32Array[], g: Float32Array): Float64Array {
    const m = rows.length;
    const d = g.length;
    const block = Math.min(DOT_BLOCK, d);
    const gAt = LP_BASE;
    const xAt = gAt + Math.ceil(block / 4) * 16;
    const state = xAt + Math.ceil(block / 4) * 16;
    const need = state + m * 32;
    const memory = this.ex.memory;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const f32 = new Float32Array(memory.buffer);
    const f64 = new Float64Array(memory.buffer, state, 4 * m);
    f64.fill(0);
    for (let c0 = 0; c0 < d; c0 += block) {
      const width = Math.min(block, d - c0);
      f32.set(g.subarray(c0, c0 + width), gAt / 4);
      for (let k = 0; k < m; k++) {
        f32.set(rows[k].subarray(c0, c0 + width), xAt / 4);
        this.ex.dotNorm(xAt, gAt, width, state + 32 * k);
      }
    }
    const out = new Float64Array(2 * m);
    for (let k = 0; k < m; k++) {
      out[k] = f64[4 * k] + f64[4 * k + 1];
      out[m + k] = f64[4 * k + 2] + f64[4 * k + 3];
    }
    return out;
  }

  distances(rows: readonly Float32Array[], p: number): Float64Array | null {
    const n = rows.length;
    const d = rows[0].length;
    const acc = new LpAccumulator(n, p);
    const width0 = Math.min(LP_BLOCK, d);
    const stride = Math.ceil(width0 / 2) * 16;
    const sums = LP_BASE + n * stride;
    const maxima = sums + acc.pairs * 8;
    const need = maxima + acc.pairs * 8;
    if (need > LP_MAX_BYTES) return null;
    const memory = this.ex.memory;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
    const heap = new Float64Array(memory.buffer);
    acc.blockSum = new Float64Array(memory.buffer, sums, acc.pairs);
    acc.blockMax = new Float64Array(memory.buffer, maxima, acc.pairs);
    const power = lpFastPower(p)!;
    for (let c0 = 0; c0 < d; c0 += LP_BLOCK) {
      const width = Math.min(LP_BLOCK, d - c0);
      for (let i = 0; i < n; i++) heap.set(rows[i].subarray(c0, c0 + width), (LP_BASE + i * stride) / 8);
      if (power === 1) this.ex.lpOne(LP_BASE, n, width, stride, sums);
      else this.ex.lpScaled(LP_BASE, n, width, stride, power, maxima, sums);
      acc.merge();
    }
    return acc.distances();
  }
}
