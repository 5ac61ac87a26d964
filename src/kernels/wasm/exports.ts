import type { WasmMemory } from './wasm-api.js';

// The functions exported by the three AssemblyScript kernel modules (assembly/entry/*.ts), one
// interface per module. Every argument named like an array is a byte address in that module's
// own memory; address 0 means "none".

/** The "combine" module: weighted combinations, the finiteness check, squared norms. @internal */
export interface CombineExports {
  readonly memory: WasmMemory;
  accInit(acc: number, offset: number, offsetWeight: number, width: number): void;
  accRows(acc: number, rows: number, count: number, stride: number, weights: number, width: number): void;
  accRowsChecked(acc: number, rows: number, count: number, stride: number, weights: number, width: number): number;
  allFinite(x: number, width: number): number;
  accStore(acc: number, out: number, width: number): void;
  sumSquares(a: number, b: number, width: number, state: number): void;
}

/** The "gram" module: the centred Gram matrix. @internal */
export interface GramExports {
  readonly memory: WasmMemory;
  gramRow(raw: number, ref: number, i: number, width: number, stride: number, y: number): number;
  gramMedianRow(mx: number, n: number, keys: number): number;
  gramScale(y: number, n: number, stride: number, mx: number, fac: number): number;
  gramRowWide(raw: number, ref: number, i: number, width: number, stride: number, y: number, fac: number): number;
  gramBlock(
    y: number,
    n: number,
    stride: number,
    g: number,
    fac: number,
    r: number,
    mx: number,
    c: number,
    jg: number,
  ): number;
}

/** The "select" module: column-wise selection. @internal */
export interface SelectExports {
  readonly memory: WasmMemory;
  selectColumns(
    rows: number,
    m: number,
    stride: number,
    width: number,
    op: number,
    param: number,
    out: number,
    col: number,
    dist: number,
  ): void;
  networkColumns(
    rows: number,
    m: number,
    stride: number,
    width: number,
    net: number,
    comparators: number,
    op: number,
    param: number,
    out: number,
    work: number,
  ): void;
}

/** Operation codes of `selectColumns` (assembly/select.ts). @internal */
export const SELECT_MEDIAN = 0;
/** @internal */
export const SELECT_TRIMMED_MEAN = 1;
/** @internal */
export const SELECT_MEAN_AROUND_MEDIAN = 2;

/** The "pairs" module: float64 dot products and squared distances for the rounds' precompute. @internal */
export interface PairsExports {
  readonly memory: WasmMemory;
  pairsBlock(x: number, rows: number, stride: number, count: number, width: number, out: number): void;
  pairsBlockF(x: number, rows: number, stride: number, count: number, width: number, out: number): void;
  pairsBlock4F(x: number, xstride: number, rows: number, stride: number, count: number, width: number, out: number): void;
  accRowsAt(acc: number, ptrs: number, weights: number, count: number, col: number, width: number): void;
  maxAbs(x: number, width: number): number;
  accInit(acc: number, offset: number, ow: number, width: number): void;
  accStore(acc: number, out: number, width: number): void;
}
