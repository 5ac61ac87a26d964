// enableRelaxedSimd: the relaxed-SIMD build of the Gram module is used only where the engine
// validates it (Chromium ≥ 114, Node ≥ 22; the browser suite runs it), and switching back gives the
// default module's bits again. On Node 20 nothing changes.
import { afterAll, describe, expect, it } from 'vitest';
import { krumWithDecision } from '../../src/aggregators/index.js';
import { enableRelaxedSimd } from '../../src/kernels/relaxed-simd.js';
import { decode, gramKernels } from '../../src/kernels/wasm/instance.js';
import { GRAM_RELAXED_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-gram-relaxed.js';
import { GRAM_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-gram.js';
import { gaussianRows } from '../helpers/data.js';

afterAll(() => enableRelaxedSimd(false));

/** Whether `bytes` holds the opcode 0xfd 0x85 0x02 (f32x4.relaxed_madd, 0x105 as LEB128). */
function hasRelaxedMadd(bytes: Uint8Array): boolean {
  for (let k = 0; k + 2 < bytes.length; k++) if (bytes[k] === 0xfd && bytes[k + 1] === 0x85 && bytes[k + 2] === 0x02) return true;
  return false;
}

describe('enableRelaxedSimd', () => {
  const relaxed = decode(GRAM_RELAXED_WASM_BASE64);
  const plain = decode(GRAM_WASM_BASE64);
  const engineHasIt = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(relaxed);

  it('the relaxed build multiplies and adds with relaxed_madd; the default build does not', () => {
    expect(hasRelaxedMadd(relaxed)).toBe(true);
    expect(hasRelaxedMadd(plain)).toBe(false);
  });

  it('switches only where the engine validates relaxed SIMD, and back', () => {
    const u = gaussianRows(30, 4096, 2);
    u[0] = u[0].map((v) => v * 1e30);
    const before = krumWithDecision(u, { f: 4 });
    expect(enableRelaxedSimd()).toBe(engineHasIt); // Node 20: false
    expect(gramKernels.base64 === GRAM_RELAXED_WASM_BASE64).toBe(engineHasIt);
    const during = krumWithDecision(u, { f: 4 });
    expect(during.decision.selected).toEqual(before.decision.selected);
    expect(enableRelaxedSimd(false)).toBe(false);
    expect(gramKernels.base64).toBe(GRAM_WASM_BASE64);
    const after = krumWithDecision(u, { f: 4 });
    expect(Array.from(after.decision.scores)).toEqual(Array.from(before.decision.scores));
  });
});
