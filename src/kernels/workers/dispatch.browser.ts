// The browser build's dispatch.ts (tsup.config.ts): no worker threads in a browser, so every chunk
// of a kernel call runs on the calling thread (the callers' loop) and the packing code is left out.
import type { Plan } from '../wasm/drivers.js';

/** Never runs anything: false. @internal */
export function gramOnWorkers(
  _rows: readonly Float32Array[],
  _centre: Float32Array | null | 'robust',
  _p: Plan,
  _runLocal: (c: number) => void,
  _accept: (c: number, part: Float64Array) => void,
): boolean {
  return false;
}

/** Never runs anything: false. @internal */
export function selectOnWorkers(
  _rows: readonly Float32Array[],
  _op: number,
  _param: number,
  _p: Plan,
  _runLocal: (c: number) => void,
  _out: Float32Array,
): boolean {
  return false;
}
