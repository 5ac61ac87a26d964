// The cases the browser test runs in Node, in a page and in a Web Worker: the main rules on the
// default (fast) kernels, over data generated from the library's seeded integer RNG so that every
// environment sees the same bits. Results are compared as hex strings of their float32 bits, so
// −0 and +0 differ and nothing is rounded by JSON.
import type * as Library from '../../src/index.js';

type Lib = typeof Library;

/** n rows of length d: honest values k/1024 around a common vector, with two hostile rows. */
function rows(lib: Lib, n: number, d: number, seed: number): Float32Array[] {
  const rng = lib.createRng(seed);
  const base = Float32Array.from({ length: d }, () => Math.floor(rng.next() * 2048) / 1024 - 1);
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) out.push(base.map((v) => v + Math.floor(rng.next() * 64) / 1024));
  out[1] = base.map((v, k) => (k % 256 === 0 ? 1e30 : 0)); // a blinder
  out[n - 1] = base.map((v) => -40 * v); // a large sign flip
  return out;
}

function hex(x: Float32Array): string {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let s = '';
  for (const v of u) s += v.toString(16).padStart(8, '0');
  return s;
}

/** Runs every case and returns its output bits (or the error message). */
export function runCases(lib: Lib): Record<string, string> {
  const u = rows(lib, 24, 4099, 7); // n·d ≥ 2¹⁶: the fast kernels run
  const tied = rows(lib, 31, 2500, 9).map((r) => r.map((v) => Math.round(v * 4) / 4)); // many ties
  const cases: Record<string, () => Float32Array> = {
    mean: () => lib.mean(u),
    coordinateMedian: () => lib.coordinateMedian(u),
    coordinateMedianTied: () => lib.coordinateMedian(tied),
    trimmedMean: () => lib.trimmedMean(u, { f: 3 }),
    meamed: () => lib.meamed(tied, { f: 5 }),
    krum: () => lib.krum(u, { f: 3 }),
    multiKrum: () => lib.multiKrum(u, { f: 3 }),
    bulyan: () => lib.bulyan(tied, { f: 5 }),
    geometricMedian: () => lib.geometricMedian(u),
    centeredClipping: () => lib.centeredClipping(u, { center: lib.coordinateMedian(u), iterations: 3, tau: 1 }),
    flame: () => lib.flame(u, { seed: 3 }),
    nnmThenMedian: () => lib.pipeline((x) => lib.nnm(x, { f: 3 }), (x) => lib.coordinateMedian(x))(u),
  };
  const out: Record<string, string> = {};
  for (const [name, run] of Object.entries(cases)) {
    try {
      out[name] = hex(run());
    } catch (e) {
      out[name] = `error: ${(e as Error).message}`;
    }
  }
  return out;
}

/** What the relaxed-SIMD comparison reads: Krum's and Multi-Krum's choices and scores, the geometric median. */
export interface GramRuleSnapshot {
  krumSelected: number[];
  krumScores: number[];
  multiKrumSelected: number[];
  geometricMedian: number[];
}

/** The Gram rules on the same rows as {@link runCases}, as plain numbers (structured-cloneable). */
export function gramRuleSnapshot(lib: Lib): GramRuleSnapshot {
  const u = rows(lib, 24, 4099, 7);
  const k = lib.krumWithDecision(u, { f: 3 });
  return {
    krumSelected: [...k.decision.selected],
    krumScores: Array.from(k.decision.scores),
    multiKrumSelected: [...lib.multiKrumWithDecision(u, { f: 3 }).decision.selected],
    geometricMedian: Array.from(lib.geometricMedian(u)),
  };
}
