import { gramOnWorkers, selectOnWorkers } from '../workers/dispatch.js';
import { precomputedGram } from '../gram-source.js';
import type { GramWorkspace, SelectWorkspace } from './workspace.js';

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
 * Blocks of the Gram kernel: about 1 MiB of rows (n × block float32, at least 512 and at most
 * 8192 columns, a multiple of 64). A block is the unit of centring and scaling (one robust centre
 * and one power of two per row per block) and of copying (each row's block is one contiguous
 * copy, so long blocks keep the memory streams long); the kernel's cache blocking (groups of rows, see
 * gramGroup in workspace.ts) keeps the working set in L2 whatever the block. Depends on the shape only.
 *
 * @internal
 */
export function gramPlan(n: number, d: number): Plan {
  return plan(n, d, clamp(Math.floor(262144 / n / 64) * 64, 512, 8192));
}

/** Blocks of the selection kernel: m × block float32 values, 16 to 1024 columns. @internal */
export function selectPlan(m: number, d: number): Plan {
  return plan(m, d, clamp(Math.floor(131072 / m / 16) * 16, 16, 1024));
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
  ws: GramWorkspace,
  rows: readonly Float32Array[],
  centre: Float32Array | null | 'robust',
): Float64Array | null {
  const known = precomputedGram.lookup?.(rows, centre);
  if (known) return known;
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
  // On worker threads in Node above the size threshold (a worker that failed a chunk, a NaN or
  // ±∞ input, made the calling thread redo it: `finite` then already says so); here otherwise.
  if (!gramOnWorkers(rows, centre, p, runLocal, accept)) {
    for (let c = 0; c < p.chunks; c++) runLocal(c);
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
export function selectWasm(ws: SelectWorkspace, rows: readonly Float32Array[], op: number, param: number): Float32Array {
  const m = rows.length;
  const d = rows[0].length;
  const out = new Float32Array(d);
  const p = selectPlan(m, d);
  const runLocal = (c: number): void => {
    const c0 = c * p.chunk;
    ws.selectChunk(rows, c0, Math.min(p.chunk, d - c0), p.block, op, param, out, c0);
  };
  if (!selectOnWorkers(rows, op, param, p, runLocal, out)) {
    for (let c = 0; c < p.chunks; c++) runLocal(c);
  }
  return out;
}
