import { decode, gramKernels } from './wasm/instance.js';
import { GRAM_RELAXED_WASM_BASE64 } from './wasm/module-bytes-gram-relaxed.js';
import { GRAM_WASM_BASE64 } from './wasm/module-bytes-gram.js';
import { releaseKernelResources } from './backend.js';

/**
 * Switches the Gram kernel (Krum, Multi-Krum, Bulyan, the geometric median, FLAME and every other
 * rule that decides from the Gram matrix) to its relaxed-SIMD build, whose tile multiplies and adds
 * with `f32x4.relaxed_madd` (one fused multiply-add where the engine has it), when this JavaScript
 * engine supports relaxed SIMD (Chromium ≥ 114, Node ≥ 22; not Node 20). Returns whether it did;
 * where the engine lacks relaxed SIMD nothing changes. `enableRelaxedSimd(false)` goes back to the
 * default build.
 *
 * Why opt-in: relaxed SIMD lets an engine choose whether `relaxed_madd` rounds once (fused) or twice,
 * so the Gram matrix is no longer the same bits on every engine and machine (it stays within the
 * same accuracy bound: one rounding per product instead of two, see "Hostile inputs and the Gram
 * kernel" in the performance guide; every thread uses the same module, so results still do not
 * depend on the thread count). And its module (≈ 2.8 KB) stays out of every bundle that does not
 * call this function.
 *
 * Speed: on the 2-core AMD EPYC (Zen 4) of the project's benchmarks, in headless Chromium 156, the
 * Gram tile with `relaxed_madd` ran at 29–30 G multiply-adds/s per core against 25 with separate
 * multiplies and adds (`node scripts/wasm-peak-browser.mjs`): about 15–20 % faster Gram-based rules.
 * Zen 4 fuses into the same two pipes, so the gain is fewer instructions, not a higher peak.
 *
 * Call it before the first Gram computation or between calls: it stops the kernel worker threads
 * and drops this thread's instance (as {@link releaseKernelResources} does), so that every thread
 * then compiles the same build.
 *
 * @param enable - true (default) for the relaxed-SIMD build, false for the default one.
 * @returns true when the relaxed-SIMD build is in use afterwards.
 * @example
 * ```ts
 * import { enableRelaxedSimd, krum } from 'robust-agg';
 *
 * const relaxed = enableRelaxedSimd(); // false on Node 20: the default kernels stay
 * console.log(relaxed ? 'Gram kernel: relaxed SIMD (FMA)' : 'Gram kernel: 128-bit SIMD');
 * const updates = Array.from({ length: 20 }, (_, i) => new Float32Array(4096).fill(i % 5));
 * console.log(krum(updates, { f: 2 })[0]); // 2
 * ```
 */
export function enableRelaxedSimd(enable = true): boolean {
  const wanted = enable && relaxedSimdSupported() ? GRAM_RELAXED_WASM_BASE64 : GRAM_WASM_BASE64;
  if (gramKernels.base64 !== wanted) {
    releaseKernelResources();
    gramKernels.base64 = wanted;
    gramKernels.compiled = undefined;
    gramKernels.failure = null;
  }
  return gramKernels.base64 === GRAM_RELAXED_WASM_BASE64;
}

let supported: boolean | undefined;

/** Whether this engine validates the relaxed-SIMD Gram module (checked once). */
function relaxedSimdSupported(): boolean {
  if (supported === undefined) {
    const api = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    try {
      supported = api !== undefined && api.validate(decode(GRAM_RELAXED_WASM_BASE64));
    } catch {
      supported = false;
    }
  }
  return supported;
}
