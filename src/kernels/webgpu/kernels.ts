import { RobustAggError } from '../../core/errors.js';
import { validateUpdates } from '../../core/updates.js';
import { columnMedian, meanAroundMedianReducer, trimmedMeanReducer, type ColumnReducer } from '../column-select.js';
import { GpuCall, grid } from './device.js';
import { CENTRE_BLOCK, MAX_GRAM_CHUNK, PANEL, SELECT_FLAG_CAP, SELECT_TILE, TILE } from './shaders.js';
import { USAGE, type GpuBuffer, type GpuBufferLike } from './types.js';

/**
 * Client updates already on the GPU: one storage buffer holding n rows of d float32 values,
 * row-major (row i at byte offset 4·i·d), created on the device given to (or requested by)
 * `initWebGPU` with `STORAGE` usage (and `COPY_SRC`, so rows can be copied out). The kernels only
 * read it.
 */
export interface GpuUpdates {
  /** The buffer (`GPUBuffer`). */
  readonly buffer: GpuBufferLike;
  /** Number of clients (rows). */
  readonly n: number;
  /** Length of every update (columns). */
  readonly d: number;
}

/** A vector on the GPU: what the `gpu…` rules return for {@link GpuUpdates} inputs. */
export interface GpuVector {
  /** A new buffer of `length` float32 values (STORAGE, COPY_SRC, COPY_DST); the caller destroys it. */
  readonly buffer: GpuBufferLike;
  /** Number of values. */
  readonly length: number;
}

/** Most rows the selection kernels take (columns are sorted in 16 KiB of shared memory). */
export const MAX_GPU_SELECT_ROWS = 1024;

/** Whether `value` has the shape of {@link GpuUpdates}. @internal */
export function isGpuUpdates(value: unknown): value is GpuUpdates {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as GpuUpdates).n === 'number' &&
    typeof (value as GpuUpdates).d === 'number' &&
    typeof (value as GpuUpdates).buffer === 'object'
  );
}

/** Checks a GpuUpdates value (shape, buffer size and usage, binding limit). @internal */
export function checkGpuUpdates(updates: GpuUpdates, rule: string, maxBinding: number): void {
  const { n, d, buffer } = updates;
  if (!Number.isInteger(n) || n < 1) throw new RobustAggError('EMPTY_UPDATES', `${rule}: GpuUpdates.n must be an integer ≥ 1, got ${String(n)}`);
  if (!Number.isInteger(d) || d < 1) throw new RobustAggError('EMPTY_VECTOR', `${rule}: GpuUpdates.d must be an integer ≥ 1, got ${String(d)}`);
  if (buffer === null || typeof buffer.size !== 'number' || buffer.size < n * d * 4) {
    throw new RobustAggError('LENGTH_MISMATCH', `${rule}: GpuUpdates.buffer holds ${String(buffer?.size)} bytes, n·d·4 = ${n * d * 4} needed`);
  }
  if ((buffer.usage & USAGE.STORAGE) === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: GpuUpdates.buffer needs STORAGE usage`);
  }
  checkSize(rule, n, d, maxBinding);
}

/** Throws UNSUPPORTED when n·d·4 bytes exceed the device's storage binding limit or the grid. @internal */
export function checkSize(rule: string, n: number, d: number, maxBinding: number): void {
  if (n * d * 4 > maxBinding) {
    throw new RobustAggError(
      'UNSUPPORTED',
      `${rule}: n·d·4 = ${n * d * 4} bytes exceed this WebGPU device's maxStorageBufferBindingSize (${maxBinding})`,
    );
  }
  if (n > 65535 || Math.ceil(d / CENTRE_BLOCK) > 65535) {
    throw new RobustAggError('UNSUPPORTED', `${rule}: the WebGPU kernels take n ≤ 65535 and d ≤ ${65535 * CENTRE_BLOCK}, got n=${n}, d=${d}`);
  }
}

/** Uploads validated Float32Array rows into one new buffer (the caller destroys it). @internal */
export function uploadRows(call: GpuCall, rows: readonly Float32Array[], d: number): GpuBuffer {
  const buffer = call.device.createBuffer({
    size: Math.max(16, rows.length * d * 4),
    usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST,
  });
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    call.device.queue.writeBuffer(buffer, i * d * 4, r.buffer, r.byteOffset, d * 4);
  }
  return buffer;
}

/**
 * A new buffer holding the n rows of x followed by `extra` rows (one of them may be left zero,
 * as a slot the caller writes later): for kernels that need one more vector among the rows (G
 * for FLAME's models, the centre of centered clipping). Throws UNSUPPORTED when (n + extra)·d·4
 * bytes exceed the binding limit. The caller destroys the buffer. @internal
 */
export function extendRows(
  call: GpuCall,
  rule: string,
  x: GpuBuffer,
  n: number,
  d: number,
  extra: ReadonlyArray<Float32Array | null>,
): GpuBuffer {
  const rows = n + extra.length;
  checkSize(rule, rows, d, call.device.limits.maxStorageBufferBindingSize ?? 134217728);
  const buffer = call.device.createBuffer({ size: Math.max(16, rows * d * 4), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
  call.copy(x, 0, buffer, 0, n * d * 4);
  extra.forEach((r, k) => {
    if (r !== null) call.device.queue.writeBuffer(buffer, (n + k) * d * 4, r.buffer, r.byteOffset, d * 4);
  });
  return buffer;
}

/**
 * Copies client updates into one new GPU buffer in the {@link GpuUpdates} layout (row i at byte
 * offset 4·i·d) on the device `initWebGPU` set up: what the `gpu…` rules do with Float32Array
 * inputs, exposed so that an upload can be timed, reused across rules, or skipped when the
 * updates are produced on the GPU. Destroy the buffer (`result.buffer.destroy()`) when done.
 *
 * @param updates - n Float32Array updates of equal length d (validated as the rules do).
 * @returns the uploaded updates.
 * @category Kernels
 * @example
 * ```ts
 * import { gpuKrum, initWebGPU, setKernelBackend, uploadUpdates } from 'robust-agg';
 *
 * const updates = [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v));
 * if ((await initWebGPU()) === null) console.log('no WebGPU adapter here');
 * else {
 *   setKernelBackend('webgpu');
 *   const onGpu = uploadUpdates(updates);
 *   const { aggregate, decision } = await gpuKrum(onGpu, { f: 2 });
 *   console.log(decision.selected, aggregate.length); // [1] 2: aggregate is a GpuVector
 *   aggregate.buffer.destroy();
 *   onGpu.buffer.destroy();
 * }
 * ```
 */
export function uploadUpdates(updates: readonly Float32Array[]): GpuUpdates {
  const { n, d } = validateUpdates(updates, 'uploadUpdates');
  const call = new GpuCall('uploadUpdates');
  return { buffer: uploadRows(call, updates, d), n, d };
}

/** Row flags from one pass: each row's block maxima (kept on the GPU for the centre) and overall maximum. @internal */
export interface RowScan {
  /** n × nb block maxima (float32 magnitude bits; 0xffffffff: non-finite). */
  readonly mags: GpuBuffer;
  /** Per row: true when the row holds NaN or ±∞. */
  readonly nonFinite: boolean[];
}

/** Scans every row: block maxima for the robust centre and the non-finite flags (n values read back). @internal */
export async function scanRows(call: GpuCall, x: GpuBuffer, n: number, d: number): Promise<RowScan> {
  const nb = Math.ceil(d / CENTRE_BLOCK);
  const mags = call.storage(n * nb * 4);
  const rowmax = call.storage(n * 4);
  const dummy = call.storage(16);
  call.run('BLOCKMAX', [x, dummy, dummy, mags, call.params({ n, d, nb })], nb, n);
  call.run('ROWMAX', [mags, rowmax, call.params({ nb })], n);
  const [bits] = await call.read([rowmax, n * 4]);
  const u = new Uint32Array(bits);
  return { mags, nonFinite: Array.from(u, (v) => v === 0xffffffff) };
}

/**
 * The Gram matrix of the rows `rows` (buffer row indices) of x on the GPU, as the plain kernel's
 * `gram(rows, centre)` returns it (row-major m×m float64, both halves), centred on the robust
 * centre (`mags` from {@link scanRows}), on one row of x (a number: that row is subtracted from
 * every row, so the diagonal holds the squared distances to it), or not. With `diagonalOnly`,
 * only the diagonal (squared norms) is computed; the rest is 0. @internal
 */
export async function gramOnGpu(
  call: GpuCall,
  x: GpuBuffer,
  d: number,
  rows: readonly number[],
  centredOn: RowScan | number | null,
  diagonalOnly = false,
): Promise<Float64Array> {
  const centred = centredOn !== null;
  const m = rows.length;
  const nb = Math.ceil(d / CENTRE_BLOCK);
  const sel = call.upload(Uint32Array.from(rows));
  const centre = typeof centredOn === 'number' ? call.upload(new Uint32Array(nb).fill(centredOn)) : call.storage(nb * 4);
  const cm = call.storage(m * nb * 4);
  const rowM = call.storage(m * 4);
  const ts = call.storage(m * 4);
  if (centredOn !== null && typeof centredOn !== 'number') {
    call.run('CENTRE', [centredOn.mags, sel, centre, call.params({ m, nb })], Math.ceil(nb / 64));
  }
  call.run('BLOCKMAX', [x, sel, centre, cm, call.params({ d, m, nb, c: centred ? 1 : 2 })], nb, m);
  call.run('ROWMAX', [cm, rowM, call.params({ nb })], m);
  call.run('SCALES', [rowM, ts, call.params({ m })], Math.ceil(m / 64));
  const tiles = Math.ceil(m / TILE);
  const tilePairs = diagonalOnly ? tiles : (tiles * (tiles + 1)) / 2;
  if (tilePairs > 65535) {
    throw new RobustAggError('UNSUPPORTED', `webgpu gram: n=${m} rows need ${tilePairs} tiles of ${TILE}×${TILE} pairs, at most 65535 (n ≤ 5776)`);
  }
  // Enough workgroups to fill a big GPU, chunks of whole panels, at most MAX_GRAM_CHUNK columns.
  const wanted = Math.max(1, Math.ceil(2048 / tilePairs));
  let chunk = Math.ceil(Math.ceil(d / wanted) / PANEL) * PANEL;
  chunk = Math.min(MAX_GRAM_CHUNK, Math.max(PANEL * 16, chunk));
  const chunks = Math.ceil(d / chunk);
  if (chunks > 65535) throw new RobustAggError('UNSUPPORTED', `webgpu gram: d=${d} needs more than 65535 chunks`);
  const partSize = diagonalOnly ? chunks * m : chunks * m * m; // the diagonal alone comes back compact
  const part = call.storage(partSize * 4);
  call.run(
    'GRAM',
    [x, sel, centre, ts, part, call.params({ d, m, a: chunk, b: tiles, c: centred ? 1 : 0, e: diagonalOnly ? 1 : 0 })],
    tilePairs,
    chunks,
  );
  const [partBytes, tsBytes] = await call.read([part, partSize * 4], [ts, m * 4]);
  const partials = new Float32Array(partBytes);
  const t = new Int32Array(tsBytes);
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = diagonalOnly ? i : 0; j <= i; j++) {
      let s = 0;
      if (diagonalOnly) for (let c = 0; c < chunks; c++) s += partials[c * m + i];
      else for (let c = 0; c < chunks; c++) s += partials[c * m * m + i * m + j];
      const v = s * 2 ** -(t[i] + t[j]);
      g[i * m + j] = v;
      g[j * m + i] = v;
    }
  }
  return g;
}

/**
 * out = Σₖ weights[k]·x[rows[k]] (+ offsetWeight·offset) on the GPU, into a new buffer of d
 * float32 values (rows with weight 0 are skipped). @internal
 */
export function combineOnGpu(
  call: GpuCall,
  x: GpuBuffer,
  d: number,
  rows: readonly number[],
  weights: ArrayLike<number>,
  offset: GpuBuffer | null = null,
  offsetWeight = 0,
): GpuBuffer {
  const used: number[] = [];
  const w: number[] = [];
  for (let k = 0; k < rows.length; k++) {
    if (weights[k] !== 0) {
      used.push(rows[k]);
      w.push(weights[k]);
    }
  }
  const out = call.storage(d * 4, true);
  const sel = call.upload(Uint32Array.from(used));
  // Each weight as a float32 mantissa in [1/2, 1) and a power of two, applied to the values first.
  const packed = new Uint32Array(2 * w.length);
  const mant = new Float32Array(1);
  const mantBits = new Uint32Array(mant.buffer);
  for (let k = 0; k < w.length; k++) {
    let e = Math.floor(Math.log2(Math.abs(w[k]))) + 1;
    let frac = w[k] / 2 ** e;
    if (Math.abs(frac) >= 1) {
      e++;
      frac /= 2;
    } else if (Math.abs(frac) < 0.5) {
      e--;
      frac *= 2;
    }
    mant[0] = frac;
    packed[2 * k] = mantBits[0];
    packed[2 * k + 1] = e >>> 0;
  }
  const wb = call.upload(packed);
  const off = offset ?? call.storage(16);
  const ow = new Uint32Array(Float32Array.of(offsetWeight).buffer)[0];
  const [gx, gy] = grid(Math.ceil(d / 256));
  call.run('COMBINE', [x, sel, wb, off, out, call.params({ d, m: used.length, c: offset !== null ? 1 : 0, e: ow, gx })], gx, gy);
  return out;
}

/** Column operations of the selection kernel. @internal */
export type SelectOp = { op: 'median' } | { op: 'trimmed'; trim: number } | { op: 'meamed'; keep: number };

function reducerOf(op: SelectOp): ColumnReducer {
  if (op.op === 'median') return columnMedian;
  return op.op === 'trimmed' ? trimmedMeanReducer(op.trim) : meanAroundMedianReducer(op.keep);
}

/**
 * Column-wise selection over the rows `rows` of x on the GPU, into a new buffer of d float32
 * values, equal to the plain kernel's `reduceColumns` with the same reducer: the selections are
 * exact, and the columns the kernel flags (where float32 arithmetic could round differently from
 * the plain kernel's float64) are recomputed on the host from their m values. @internal
 */
export async function selectOnGpu(
  call: GpuCall,
  x: GpuBuffer,
  d: number,
  rows: readonly number[],
  op: SelectOp,
): Promise<GpuBuffer> {
  const m = rows.length;
  if (m > MAX_GPU_SELECT_ROWS) {
    throw new RobustAggError('UNSUPPORTED', `webgpu column selection takes at most ${MAX_GPU_SELECT_ROWS} rows, got ${m}`);
  }
  const cols = Math.min(256, Math.floor(SELECT_TILE / m));
  const out = call.storage(d * 4, true);
  const sel = call.upload(Uint32Array.from(rows));
  const flags = call.upload(new Uint32Array(SELECT_FLAG_CAP + 1));
  const code = op.op === 'median' ? 0 : op.op === 'trimmed' ? 1 : 2;
  const param = op.op === 'median' ? 0 : op.op === 'trimmed' ? op.trim : op.keep;
  const [gx, gy] = grid(Math.ceil(d / cols));
  call.run('SELECT', [x, sel, out, flags, call.params({ d, m, a: code, b: param, c: cols, e: SELECT_FLAG_CAP, gx })], gx, gy);
  const [flagBytes] = await call.read([flags, (SELECT_FLAG_CAP + 1) * 4]);
  const f = new Uint32Array(flagBytes);
  const count = f[0];
  if (count === 0) return out;
  const reducer = reducerOf(op);
  // Recompute the flagged columns (all of them, in batches, if the list overflowed) on the host.
  const all = count > SELECT_FLAG_CAP;
  const list = all ? null : Array.from(f.subarray(1, 1 + count));
  const total = all ? d : count;
  for (let start = 0; start < total; start += SELECT_FLAG_CAP) {
    const batch = list !== null ? list.slice(start, start + SELECT_FLAG_CAP) : Array.from({ length: Math.min(SELECT_FLAG_CAP, d - start) }, (_, q) => start + q);
    const colBuf = call.upload(Uint32Array.from(batch));
    const gathered = call.storage(batch.length * m * 4);
    call.run('GATHER', [x, sel, colBuf, gathered, call.params({ d, m, a: batch.length })], Math.ceil((batch.length * m) / 256));
    const [bytes] = await call.read([gathered, batch.length * m * 4]);
    const values = new Float32Array(bytes);
    const results = new Float32Array(1);
    for (let q = 0; q < batch.length; q++) {
      const col = values.slice(q * m, (q + 1) * m);
      results[0] = reducer(col, 0, m);
      if (results[0] === 0) results[0] = 0;
      call.device.queue.writeBuffer(out, batch[q] * 4, results.buffer, 0, 4);
    }
  }
  return out;
}
