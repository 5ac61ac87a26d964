import { workerPool } from '../workers/pool.js';
import { configuredThreads, kernelConfig } from './config.js';
import { wasmModule } from './instance.js';
import type { Workspace } from './workspace.js';

/** Most chunks a call is cut into (more only when a slot would exceed SLOT_BYTES). */
const MAX_CHUNKS = 64;
/** Largest input of one chunk (bytes): bounds the worker slots. */
const SLOT_BYTES = 8 << 20;

/** How a call over n rows × d columns is cut: blocks (one kernel call each) and chunks (one job each). */
export interface Plan {
  readonly block: number;
  readonly chunk: number;
  readonly chunks: number;
}

function plan(n: number, d: number, block: number): Plan {
  const blocks = Math.ceil(d / block);
  const perSlot = Math.max(1, Math.floor(SLOT_BYTES / ((n + 1) * block * 4)));
  const perChunk = Math.max(1, Math.min(Math.ceil(blocks / MAX_CHUNKS), perSlot));
  const chunk = perChunk * block;
  return { block, chunk, chunks: Math.max(1, Math.ceil(d / chunk)) };
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));

/**
 * Blocks of the Gram kernel: n × block float32 values (about 128 KiB, at least 256 and at most
 * 2048 columns) stay in L2 while every pair of rows uses them. Depends on the shape only.
 *
 * @internal
 */
export function gramPlan(n: number, d: number): Plan {
  return plan(n, d, clamp(Math.floor(131072 / n / 16) * 16, 256, 2048));
}

/** Blocks of the selection kernel: m × block float32 values, 16 to 1024 columns. @internal */
export function selectPlan(m: number, d: number): Plan {
  return plan(m, d, clamp(Math.floor(131072 / m / 16) * 16, 16, 1024));
}

/** Workers to involve in a call with `chunks` chunks and `work` units of work above `threshold`. */
function workersFor(chunks: number, work: number, threshold: number): number {
  if (chunks < 2 || work < threshold) return 0;
  return Math.min(configuredThreads() - 1, chunks - 1);
}

/**
 * The centred Gram matrix on the WebAssembly kernels (and worker threads above the size
 * threshold): G = Σ_c P_c over the plan's chunks in chunk order, each P_c computed from zero, so
 * the bits do not depend on the thread count. `centre` as in `gram` ('robust': chosen per kernel
 * block, inside each chunk, from that chunk's values only). Null when an input value is NaN or
 * ±∞ (the caller then uses the float64 kernel).
 *
 * @internal
 */
export function gramWasm(
  ws: Workspace,
  rows: readonly Float32Array[],
  centre: Float32Array | null | 'robust',
): Float64Array | null {
  const n = rows.length;
  const d = rows[0].length;
  const p = gramPlan(n, d);
  const g = new Float64Array(n * n);
  const pending = new Map<number, Float64Array>();
  let nextToAdd = 0;
  let finite = true;
  const accept = (c: number, part: Float64Array): void => {
    pending.set(c, part);
    for (let q = pending.get(nextToAdd); q !== undefined; q = pending.get(nextToAdd)) {
      for (let k = 0; k < q.length; k++) g[k] += q[k];
      pending.delete(nextToAdd);
      nextToAdd++;
    }
  };
  const runLocal = (c: number): void => {
    const c0 = c * p.chunk;
    const part = new Float64Array(n * n);
    if (!ws.gramChunk(rows, centre, c0, Math.min(p.chunk, d - c0), p.block, part)) finite = false;
    accept(c, part);
  };
  const workers = workersFor(p.chunks, (n * n * d) / 2, kernelConfig.minParallelGram);
  const pool = workers > 0 ? workerPool(wasmModule()!, workers) : null;
  if (pool === null) {
    for (let c = 0; c < p.chunks; c++) runLocal(c);
  } else {
    const ref = centre === 'robust' ? null : centre;
    const rowsIn = ref === null ? n : n + 1;
    pool.run(
      {
        chunks: p.chunks,
        dataBytes: rowsIn * p.chunk * 4,
        resultBytes: n * n * 8,
        runLocal,
        pack(c, data) {
          const c0 = c * p.chunk;
          const cw = Math.min(p.chunk, d - c0);
          const view = new Float32Array(data, 0, rowsIn * cw);
          for (let i = 0; i < n; i++) view.set(rows[i].subarray(c0, c0 + cw), i * cw);
          if (ref !== null) view.set(ref.subarray(c0, c0 + cw), n * cw);
          return { kind: 'gram', n, cw, block: p.block, hasRef: ref !== null, robust: centre === 'robust', op: 0, param: 0 };
        },
        unpack(c, result) {
          accept(c, new Float64Array(result, 0, n * n).slice());
        },
      },
      workers,
    );
    // A worker that failed a chunk (a NaN or ±∞ input) made the calling thread redo it: `finite`
    // then already says so.
  }
  if (!finite) return null;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
  }
  return g;
}

/**
 * Column-wise selection on the WebAssembly kernels (op: 0 median, 1 trimmed mean with `param`
 * values per tail, 2 mean of the `param` values nearest the median), with worker threads above
 * the size threshold. Every column is computed alone, so the thread count changes nothing.
 *
 * @internal
 */
export function selectWasm(ws: Workspace, rows: readonly Float32Array[], op: number, param: number): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  const out = new Float32Array(d);
  const p = selectPlan(m, d);
  const runLocal = (c: number): void => {
    const c0 = c * p.chunk;
    ws.selectChunk(rows, c0, Math.min(p.chunk, d - c0), p.block, op, param, out, c0);
  };
  const workers = workersFor(p.chunks, m * d, kernelConfig.minParallelSelect);
  const pool = workers > 0 ? workerPool(wasmModule()!, workers) : null;
  if (pool === null) {
    for (let c = 0; c < p.chunks; c++) runLocal(c);
    return out;
  }
  pool.run(
    {
      chunks: p.chunks,
      dataBytes: m * p.chunk * 4,
      resultBytes: p.chunk * 4,
      runLocal,
      pack(c, data) {
        const c0 = c * p.chunk;
        const cw = Math.min(p.chunk, d - c0);
        const view = new Float32Array(data, 0, m * cw);
        for (let i = 0; i < m; i++) view.set(rows[i].subarray(c0, c0 + cw), i * cw);
        return { kind: 'select', n: m, cw, block: p.block, hasRef: false, op, param };
      },
      unpack(c, result) {
        const c0 = c * p.chunk;
        const cw = Math.min(p.chunk, d - c0);
        out.set(new Float32Array(result, 0, cw), c0);
      },
    },
    workers,
  );
  return out;
}
