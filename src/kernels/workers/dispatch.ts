// Hands the chunks of a kernel call to the worker threads (Node). The browser build replaces this
// file by dispatch.browser.ts (tsup.config.ts), which runs everything on the calling thread, so
// that a browser bundle carries neither the pool nor the worker script nor this packing code.
import { configuredThreads, kernelConfig } from '../wasm/config.js';
import type { Plan } from '../wasm/drivers.js';
import { gramKernels, kernelModule, selectKernels } from '../wasm/instance.js';
import { workerPool } from './pool.js';

/** Workers to involve in a call with `chunks` chunks and `work` units of work above `threshold`. */
function workersFor(chunks: number, work: number, threshold: number): number {
  if (chunks < 2 || work < threshold) return 0;
  return Math.min(configuredThreads() - 1, chunks - 1);
}

/**
 * Runs the chunks of a Gram matrix (see `gramWasm`) on the calling thread and the worker threads
 * when the call is big enough and workers are available; false (nothing run) otherwise. Every
 * chunk's partial matrix goes to `accept`, from a worker or from `runLocal`.
 *
 * @internal
 */
export function gramOnWorkers(
  rows: readonly Float32Array[],
  centre: Float32Array | null | 'robust',
  p: Plan,
  runLocal: (c: number) => void,
  accept: (c: number, part: Float64Array) => void,
): boolean {
  const n = rows.length;
  const d = rows[0].length;
  const workers = workersFor(p.chunks, (n * n * d) / 2, kernelConfig.minParallelGram);
  const pool = workers > 0 ? workerPool(workers, { gram: kernelModule(gramKernels)! }) : null;
  if (pool === null) return false;
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
  return true;
}

/**
 * Runs the chunks of a column selection (see `selectWasm`) on the calling thread and the worker
 * threads when the call is big enough and workers are available, writing into `out`; false
 * (nothing run) otherwise.
 *
 * @internal
 */
export function selectOnWorkers(
  rows: readonly Float32Array[],
  op: number,
  param: number,
  p: Plan,
  runLocal: (c: number) => void,
  out: Float32Array,
): boolean {
  const m = rows.length;
  const d = rows[0].length;
  const workers = workersFor(p.chunks, m * d, kernelConfig.minParallelSelect);
  const pool = workers > 0 ? workerPool(workers, { select: kernelModule(selectKernels)! }) : null;
  if (pool === null) return false;
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
  return true;
}
