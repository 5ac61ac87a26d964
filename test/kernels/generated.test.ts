// The committed build artefacts (the deflated kernel modules, the worker script) match their
// sources, and the library's own inflater gives back exactly the modules asc compiles.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflate } from '../../src/kernels/wasm/inflate.js';
import { COMBINE_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-combine.js';
import { GRAM_RELAXED_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-gram-relaxed.js';
import { GRAM_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-gram.js';
import { LP_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-lp.js';
import { PAIRS_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-pairs.js';
import { SELECT_WASM_BASE64 } from '../../src/kernels/wasm/module-bytes-select.js';

const root = new URL('../..', import.meta.url).pathname;

describe('generated kernel artefacts', () => {
  it('src/kernels/wasm/module-bytes-*.ts and src/kernels/workers/worker-source.ts are up to date', () => {
    // Exits non-zero (and execFileSync throws) when a file differs from a fresh build: a module
    // file's payload must inflate to the freshly compiled module, the rest of its text must match.
    expect(() => execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('one generated module file per kernel entry in assembly/entry/, and no other', () => {
    const entries = readdirSync(`${root}assembly/entry`).map((f) => f.replace(/\.ts$/, '')).sort();
    const files = readdirSync(`${root}src/kernels/wasm`)
      .filter((f) => f.startsWith('module-bytes'))
      .map((f) => f.replace(/^module-bytes-|\.ts$/g, ''))
      .sort();
    expect(entries).toEqual(expect.arrayContaining(['combine', 'gram', 'gram-relaxed', 'lp', 'pairs', 'select']));
    expect(files).toEqual(entries);
  });

  it.each([
    ['combine', COMBINE_WASM_BASE64],
    ['gram', GRAM_WASM_BASE64],
    ['select', SELECT_WASM_BASE64],
    ['lp', LP_WASM_BASE64],
    ['pairs', PAIRS_WASM_BASE64],
    ['gram-relaxed', GRAM_RELAXED_WASM_BASE64],
  ])('the %s module inflates (src/kernels/wasm/inflate.ts) to what zlib gives, a valid module', (_name, base64) => {
    const deflated = Buffer.from(base64, 'base64');
    const bytes = inflate(deflated);
    expect(Buffer.from(bytes).equals(inflateRawSync(deflated))).toBe(true);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
  });
});
