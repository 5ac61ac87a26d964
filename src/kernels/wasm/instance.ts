import type { CombineExports, GramExports, SelectExports } from './exports.js';
import { COMBINE_WASM_BASE64 } from './module-bytes-combine.js';
import { GRAM_WASM_BASE64 } from './module-bytes-gram.js';
import { inflate } from './inflate.js';
import { SELECT_WASM_BASE64 } from './module-bytes-select.js';
import { wasmApi, type WasmModule } from './wasm-api.js';
import { CombineWorkspace, GramWorkspace, SelectWorkspace } from './workspace.js';

let warned = false;

/**
 * Says once, on the console, that the fast kernels could not load and why (once for all kernel
 * modules). A silent fallback hid a 15–35× slowdown: a browser page whose Content-Security-Policy
 * lacks 'wasm-unsafe-eval' refuses to compile any WebAssembly module. Environments without
 * WebAssembly at all are not warned about (nothing can be done there); `kernelStatus().wasmError`
 * keeps the reason.
 */
function warnOnce(error: unknown): void {
  if (warned || wasmApi() === null) return;
  warned = true;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const hint = /unsafe-eval|Content Security Policy|CSP/i.test(reason)
    ? " Allow 'wasm-unsafe-eval' in the page's Content-Security-Policy (script-src) to enable them."
    : /main thread|4\s?KB|synchronous/i.test(reason)
      ? ' On a browser main thread, call `await initKernels()` once before the first rule.'
      : '';
  console.warn(`robust-agg: the WebAssembly kernels could not load (${reason}); using the plain kernels, which are much slower.${hint}`);
}

/** A module's bytes from its generated constant (deflated, base64). @internal */
export function decode(base64: string): Uint8Array<ArrayBuffer> {
  return inflate(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

/** The kernel modules, by name (the worker threads receive them under these names). @internal */
export type KernelFamilyName = 'combine' | 'gram' | 'select' | 'pairs';

/**
 * One WebAssembly kernel module (combine, gram or select: each its own module, deflated in its own
 * generated file, so a bundle carries only the modules its rules use): compiled on first use and
 * instantiated once on this thread, with its own memory. Plain state plus functions (not a class),
 * so that a bundle leaves out the functions it never calls (the asynchronous {@link loadKernels}
 * unless initKernels is used).
 *
 * @internal
 */
export interface KernelFamily<W extends { readonly memoryBytes: number }> {
  readonly name: KernelFamilyName;
  /** The module's bytes, deflated, base64 (module-bytes-<name>.ts); enableRelaxedSimd swaps gram's. */
  base64: string;
  /** Wraps an instance's exports in its workspace class. */
  readonly wrap: (exports: unknown) => W;
  /** The compiled module; null after a failure, undefined before the first try. */
  compiled: WasmModule | null | undefined;
  /** This thread's instance. */
  main: W | null;
  /** Why the module could not load (null if it did or was never tried). */
  failure: unknown;
}

/** A kernel module's state before its first use. @internal */
export function family<W extends { readonly memoryBytes: number }>(
  name: KernelFamilyName,
  base64: string,
  wrap: (exports: unknown) => W,
): KernelFamily<W> {
  return { name, base64, wrap, compiled: undefined, main: null, failure: null };
}

function fail(kernels: KernelFamily<{ readonly memoryBytes: number }>, error: unknown): void {
  kernels.failure = error;
  warnOnce(error);
}

/**
 * The compiled module, compiled synchronously on first use (fine in Node, in Deno and in browser
 * workers; a browser's main thread refuses to compile modules over 4 KiB synchronously, so call
 * {@link loadKernels} there first). Null when WebAssembly SIMD is unavailable.
 *
 * @internal
 */
export function kernelModule(kernels: KernelFamily<{ readonly memoryBytes: number }>): WasmModule | null {
  if (kernels.compiled !== undefined) return kernels.compiled;
  try {
    const api = wasmApi();
    if (api === null) throw new Error('no WebAssembly in this environment');
    kernels.compiled = new api.Module(decode(kernels.base64));
    kernels.failure = null;
  } catch (error) {
    kernels.compiled = null;
    fail(kernels, error);
  }
  return kernels.compiled;
}

/**
 * Compiles and instantiates the module asynchronously (the browser way); afterwards
 * {@link kernelWorkspace} answers without compiling. Resolves to false when WebAssembly SIMD is
 * unavailable.
 *
 * @internal
 */
export async function loadKernels(kernels: KernelFamily<{ readonly memoryBytes: number }>): Promise<boolean> {
  if (kernels.main !== null) return true;
  try {
    const api = wasmApi();
    if (api === null) throw new Error('no WebAssembly in this environment');
    if (!kernels.compiled) kernels.compiled = await api.compile(decode(kernels.base64));
    const instance = await api.instantiate(kernels.compiled, {});
    kernels.main = kernels.wrap(instance.exports);
    kernels.failure = null;
    return true;
  } catch (error) {
    kernels.compiled = null;
    fail(kernels, error);
    return false;
  }
}

/**
 * This thread's instance of the module, created on first use; null when the module cannot be
 * compiled or instantiated here.
 *
 * @internal
 */
export function kernelWorkspace<W extends { readonly memoryBytes: number }>(kernels: KernelFamily<W>): W | null {
  if (kernels.main !== null) return kernels.main;
  const module = kernelModule(kernels);
  if (module === null) return null;
  try {
    const instance = new (wasmApi()!.Instance)(module, {});
    kernels.main = kernels.wrap(instance.exports);
  } catch (error) {
    fail(kernels, error);
    return null;
  }
  return kernels.main;
}

/** Weighted combinations, the finiteness check and squared norms (2.1 KB of WebAssembly, 1.3 KB in a bundle). @internal */
export const combineKernels = /* @__PURE__ */ family(
  'combine',
  COMBINE_WASM_BASE64,
  (ex) => new CombineWorkspace(ex as CombineExports),
);

/** The centred Gram matrix (5.9 KB of WebAssembly, 2.8 KB in a bundle). @internal */
export const gramKernels = /* @__PURE__ */ family('gram', GRAM_WASM_BASE64, (ex) => new GramWorkspace(ex as GramExports));

/** Column-wise selection (4.1 KB of WebAssembly, 2.4 KB in a bundle). @internal */
export const selectKernels = /* @__PURE__ */ family(
  'select',
  SELECT_WASM_BASE64,
  (ex) => new SelectWorkspace(ex as SelectExports),
);

/** Every kernel module (for initKernels, kernelStatus and releaseKernelResources). @internal */
export function allKernelFamilies(): readonly KernelFamily<{ readonly memoryBytes: number }>[] {
  return [combineKernels, gramKernels, selectKernels];
}

/**
 * Every kernel module's instance on this thread (compiling and instantiating them synchronously
 * where needed), or null when one of them cannot load here.
 *
 * @internal
 */
export function mainWorkspace(): { combine: CombineWorkspace; gram: GramWorkspace; select: SelectWorkspace } | null {
  const combine = kernelWorkspace(combineKernels);
  const gram = kernelWorkspace(gramKernels);
  const select = kernelWorkspace(selectKernels);
  return combine === null || gram === null || select === null ? null : { combine, gram, select };
}
