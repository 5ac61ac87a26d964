// When the WebAssembly module cannot be compiled (a browser page whose Content-Security-Policy
// lacks 'wasm-unsafe-eval' refuses every module), the rules fall back to the plain kernels and say
// so once on the console, with the reason and what to change.
import { afterEach, describe, expect, it, vi } from 'vitest';

// The tsconfig has no DOM lib, so WebAssembly is a type-only namespace here: go through a loose view.
interface WasmGlobal {
  WebAssembly: { CompileError: new (message: string) => Error; [key: string]: unknown } | undefined;
}
const g = globalThis as unknown as WasmGlobal;
const realWasm = g.WebAssembly!;

afterEach(() => {
  g.WebAssembly = realWasm;
  vi.restoreAllMocks();
  vi.resetModules();
});

function refuseCompilation(message: string): void {
  const refuse = function () {
    throw new realWasm.CompileError(message);
  };
  g.WebAssembly = {
    ...realWasm,
    Module: refuse,
    compile: () => Promise.reject(new realWasm.CompileError(message)),
  };
}

describe('fast kernels unavailable', () => {
  it("warns once, naming the CSP fix, and the rules still give the plain kernels' results", async () => {
    vi.resetModules();
    refuseCompilation("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script");
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await import('../../src/index.js');
    const rows = Array.from({ length: 40 }, (_, i) => Float32Array.from({ length: 4096 }, (_, k) => Math.sin(i * 31 + k)));
    const first = lib.coordinateMedian(rows);
    lib.coordinateMedian(rows);
    lib.krum(rows, { f: 3 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/could not load.*unsafe-eval.*plain kernels.*wasm-unsafe-eval/s);
    expect(lib.kernelStatus().wasm).toBe(false);
    expect(lib.kernelStatus().wasmError).toMatch(/CompileError: .*unsafe-eval/);
    lib.setKernelBackend('js');
    expect(Array.from(first)).toEqual(Array.from(lib.coordinateMedian(rows)));
  });

  it('says nothing where WebAssembly does not exist at all', async () => {
    vi.resetModules();
    g.WebAssembly = undefined;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lib = await import('../../src/index.js');
    const rows = Array.from({ length: 40 }, (_, i) => Float32Array.from({ length: 4096 }, (_, k) => Math.cos(i + k)));
    lib.coordinateMedian(rows);
    expect(warn).not.toHaveBeenCalled();
    expect(lib.kernelStatus().wasmError).toMatch(/no WebAssembly/);
  });
});
