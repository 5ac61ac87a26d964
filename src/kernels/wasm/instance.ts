import type { KernelExports } from './exports.js';
import { WASM_BASE64 } from './module-bytes.js';
import { wasmApi, type WasmModule } from './wasm-api.js';
import { Workspace } from './workspace.js';

let compiled: WasmModule | null | undefined;
let failure: unknown = null;
let main: Workspace | null = null;
let warned = false;

/**
 * Says once, on the console, that the fast kernels could not load and why. A silent fallback hid
 * a 15–35× slowdown: a browser page whose Content-Security-Policy lacks 'wasm-unsafe-eval'
 * refuses to compile any WebAssembly module. Environments without WebAssembly at all are not
 * warned about (nothing can be done there); `kernelStatus().wasmError` keeps the reason.
 */
function noteFailure(error: unknown): void {
  failure = error;
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

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The compiled kernels, compiled synchronously on first use (fine in Node, in Deno and in browser
 * workers; a browser's main thread refuses to compile modules over 4 KiB synchronously, so call
 * {@link loadWasmModule} there first). Null when WebAssembly SIMD is unavailable.
 *
 * @internal
 */
export function wasmModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  try {
    const api = wasmApi();
    if (api === null) throw new Error('no WebAssembly in this environment');
    compiled = new api.Module(wasmBytes());
  } catch (error) {
    compiled = null;
    noteFailure(error);
  }
  return compiled;
}

/**
 * Compiles and instantiates the kernels asynchronously (the browser way); afterwards
 * {@link mainWorkspace} answers without compiling. Resolves to false when WebAssembly SIMD is
 * unavailable.
 *
 * @internal
 */
export async function loadWasmModule(): Promise<boolean> {
  if (main !== null) return true;
  try {
    const api = wasmApi();
    if (api === null) throw new Error('no WebAssembly in this environment');
    if (!compiled) compiled = await api.compile(wasmBytes());
    const instance = await api.instantiate(compiled, {});
    main = new Workspace(instance.exports as unknown as KernelExports);
    return true;
  } catch (error) {
    compiled = null;
    noteFailure(error);
    return false;
  }
}

/**
 * The main thread's kernel instance, created on first use; null when the module cannot be
 * compiled or instantiated here.
 *
 * @internal
 */
export function mainWorkspace(): Workspace | null {
  if (main !== null) return main;
  const module = wasmModule();
  if (module === null) return null;
  try {
    const instance = new (wasmApi()!.Instance)(module, {});
    main = new Workspace(instance.exports as unknown as KernelExports);
  } catch (error) {
    noteFailure(error);
    return null;
  }
  return main;
}

/** Why the kernels could not load (null if they did or were never tried). @internal */
export function wasmFailure(): unknown {
  return failure;
}

/** Drops the main thread's instance and its memory; the next call creates a fresh one. @internal */
export function releaseMainWorkspace(): void {
  main = null;
}

/** Bytes of WebAssembly memory the main thread's instance holds (0 when none). @internal */
export function mainWorkspaceBytes(): number {
  return main === null ? 0 : main.memoryBytes;
}
