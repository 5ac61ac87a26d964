// The kernel modules' inflater (src/kernels/wasm/inflate.ts) against zlib: every block type
// (stored, fixed and dynamic Huffman), long matches and distances, empty and random input, and
// refusal of corrupt data (an error, never a hang).
import { constants, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inflate } from '../../src/kernels/wasm/inflate.js';

const OPTIONS = [
  { level: 0 }, // stored blocks
  { level: 1 },
  { level: 9 },
  { level: 9, strategy: constants.Z_FIXED }, // fixed Huffman codes only
  { level: 6, strategy: constants.Z_HUFFMAN_ONLY }, // no matches
  { level: 9, strategy: constants.Z_RLE }, // distance-1 matches
];

function roundTrip(data: Uint8Array): void {
  for (const options of OPTIONS) {
    const back = inflate(deflateRawSync(data, options));
    expect(Buffer.from(back).equals(Buffer.from(data)), JSON.stringify(options)).toBe(true);
  }
}

describe('inflate equals zlib', () => {
  it('empty input, one byte, long runs (length 258 matches), text, 70 000 random bytes (several blocks)', () => {
    roundTrip(new Uint8Array(0));
    roundTrip(Uint8Array.of(42));
    roundTrip(new Uint8Array(100_000).fill(7));
    roundTrip(new TextEncoder().encode('robust aggregation '.repeat(500)));
    let x = 12345;
    roundTrip(Uint8Array.from({ length: 70_000 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24)));
  });

  it('any bytes from a small alphabet (matches at every distance), fast-check', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 255 }), (raw, mod) => {
        roundTrip(raw.map((b) => b % mod));
      }),
      { numRuns: 60 },
    );
  });

  it('throws on corrupt or truncated data instead of hanging', () => {
    const good = deflateRawSync(new TextEncoder().encode('abcabcabcabc'.repeat(50)), { level: 9 });
    expect(() => inflate(good.subarray(0, good.length - 3))).toThrow(/corrupt/);
    expect(() => inflate(Uint8Array.of(0b111))).toThrow(/corrupt/); // block type 3 does not exist
    expect(() => inflate(new Uint8Array(0))).toThrow(/corrupt/);
  });
});
