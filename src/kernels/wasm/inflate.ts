/**
 * Inflates raw DEFLATE data (RFC 1951: stored, fixed-Huffman and dynamic-Huffman blocks). The
 * kernel modules ship deflated (scripts/build-wasm.mjs), which makes them about 2.8× smaller in
 * a bundle; this decoder is small (about 0.7 KB minified), synchronous (a browser worker or Node
 * compiles the kernels synchronously on first use) and runs once per module, on a few KB.
 * Codes are decoded canonically, one bit at a time, from the count of codes of each length.
 * Throws on malformed input (never the case for the generated modules, which the tests inflate).
 *
 * @internal
 */
export function inflate(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const fail = (): never => {
    throw new Error('inflate: corrupt data');
  };
  const out: number[] = [];
  let pos = 0; // in bits
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, pos++) {
      if (pos >>> 3 >= data.length) fail();
      v |= ((data[pos >>> 3] >>> (pos & 7)) & 1) << i;
    }
    return v;
  };
  // A canonical Huffman code from its code lengths: the count of codes of each length, and the
  // symbols in code order.
  type Code = [Uint16Array, Uint16Array];
  const code = (lengths: number[]): Code => {
    const counts = new Uint16Array(16);
    const next = new Uint16Array(16);
    const symbols = new Uint16Array(lengths.length);
    for (const l of lengths) counts[l]++;
    for (let l = 1; l < 15; l++) next[l + 1] = next[l] + counts[l];
    lengths.forEach((l, s) => {
      if (l > 0) symbols[next[l]++] = s;
    });
    return [counts, symbols];
  };
  const decode = ([counts, symbols]: Code): number => {
    // c: the code read so far; first: the first code of this length; index: its symbol's index.
    for (let l = 1, c = 0, first = 0, index = 0; l < 16; l++) {
      c |= bits(1);
      if (c - first < counts[l]) return symbols[index + c - first];
      index += counts[l];
      first = (first + counts[l]) << 1;
      c <<= 1;
    }
    return fail();
  };
  // Length (symbols 257..285, minus 257) or distance (0..29): base plus extra bits.
  const extra = (s: number, dist: boolean): number => (dist ? (s < 4 ? 0 : (s >> 1) - 1) : s < 8 ? 0 : (s >> 2) - 1);
  const amount = (s: number, dist: boolean): number => {
    if (!dist && s === 28) return 258;
    let base = dist ? 1 : 3;
    for (let i = 0; i < s; i++) base += 1 << extra(i, dist);
    return base + bits(extra(s, dist));
  };
  let last = 0;
  while (last === 0) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      pos = (pos + 7) & ~7;
      const length = bits(16);
      bits(16); // its one's complement
      for (let i = 0; i < length; i++) out.push(bits(8));
      continue;
    }
    let lengths: number[];
    let literals: number;
    if (type === 1) {
      literals = 288;
      lengths = Array.from({ length: 320 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : s < 288 ? 8 : 5));
    } else if (type === 2) {
      literals = bits(5) + 257;
      const count = literals + bits(5) + 1;
      const lengthCodes = bits(4) + 4;
      const codeLengths = new Array<number>(19).fill(0);
      for (let i = 0; i < lengthCodes; i++) codeLengths[[16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15][i]] = bits(3);
      const lengthCode = code(codeLengths);
      lengths = [];
      while (lengths.length < count) {
        const s = decode(lengthCode);
        if (s < 16) lengths.push(s);
        else {
          const repeat = s === 16 ? 3 + bits(2) : s === 17 ? 3 + bits(3) : 11 + bits(7);
          const value = s === 16 ? lengths[lengths.length - 1] : 0;
          if (value === undefined) fail();
          for (let i = 0; i < repeat; i++) lengths.push(value);
        }
      }
    } else return fail();
    const literal = code(lengths.slice(0, literals));
    const distance = code(lengths.slice(literals));
    for (let s = decode(literal); s !== 256; s = decode(literal)) {
      if (s < 256) {
        out.push(s);
        continue;
      }
      const length = amount(s - 257, false);
      const from = out.length - amount(decode(distance), true);
      if (from < 0) fail();
      for (let i = 0; i < length; i++) out.push(out[from + i]);
    }
  }
  return Uint8Array.from(out);
}
