// The WebGPU cases: the same rules and kernels on the same data in Node (CPU kernels: the
// expected values) and on a WebGPU device (headless Chromium's SwiftShader adapter, or Node's
// `webgpu` package where it finds an adapter). Data comes from the library's seeded RNG, so every
// environment builds the same bits; hostile rows (±3.4e38, subnormals, ±0, a blinder, the
// attacker at row 0, a NaN row) are part of it.
import type * as Library from '../../src/index.js';

type Lib = typeof Library;

/** A named data set and the f its rules use. */
export interface DataSet {
  readonly rows: Float32Array[];
  readonly f: number;
  /** f for Bulyan (n ≥ 4f+3), or null to skip it. */
  readonly fBulyan: number | null;
  /**
   * Only the coordinate-wise rules: distances between these rows differ by less than float
   * rounding (everything is dominated by ±3.4e38 entries), so a client-space decision is a tie
   * that every kernel breaks by its own rounding.
   */
  readonly coordinateOnly?: boolean;
}

/** One case's outcome: the aggregate's float32 bits (hex), its values, the decision, or an error. */
export interface CaseResult {
  readonly bits?: string;
  readonly values?: number[];
  readonly decision?: unknown;
  readonly matrix?: number[];
  readonly error?: string;
}

const HOSTILE = [0, -0, 1e-45, -1e-45, 1e-40, -3e-39, 1, -1, 0.5, 3.4028234663852886e38, -3.4028234663852886e38, 1e30, 2 ** -100];

/** The data sets. */
export function dataSets(lib: Lib): Record<string, DataSet> {
  const rng = lib.createRng(20261203);
  const r = () => rng.next();
  const out: Record<string, DataSet> = {};
  // Honest rows around a common vector (values k/1024), a blinder and a sign flip.
  {
    const n = 24;
    const d = 2051;
    const base = Float32Array.from({ length: d }, () => Math.floor(r() * 2048) / 1024 - 1);
    const rows = Array.from({ length: n }, () => base.map((v) => v + Math.floor(r() * 64) / 1024));
    rows[1] = base.map((_, k) => (k % 256 === 0 ? 1e30 : 0));
    rows[n - 1] = base.map((v) => -40 * v);
    out.random = { rows, f: 3, fBulyan: 5 };
  }
  // Quantized to quarters: ties in every column.
  {
    const n = 31;
    const d = 1100;
    const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => Math.round((r() * 4 - 2) * 4) / 4));
    out.tied = { rows, f: 5, fBulyan: 5 };
  }
  // The attacker at row 0 with ±3.4e38 at random strides, a subnormal row, a 1e30 blinder, a NaN
  // row; honest rows near 1 (Gaussian-like noise) with some exact zeros.
  {
    const n = 14;
    const d = 2100;
    const base = Float32Array.from({ length: d }, () => r() * 2 - 1);
    const rows = Array.from({ length: n }, () => base.map((v) => (r() < 0.05 ? 0 : v + (r() - 0.5) * 0.01)));
    rows[0] = Float32Array.from({ length: d }, () => (r() < 0.15 ? (r() < 0.5 ? 3.4028234663852886e38 : -3.4028234663852886e38) : 0));
    rows[3] = Float32Array.from({ length: d }, () => (r() - 0.5) * 2e-40);
    rows[7] = Float32Array.from({ length: d }, (_, k) => (k % 97 === 0 ? 1e30 : 0));
    rows[11] = base.map((v, k) => (k === 1000 ? NaN : v));
    out.hostile = { rows, f: 4, fBulyan: 2 };
  }
  // The hostile kinds of test/helpers/hostile.ts, rebuilt here (that module imports vitest, and
  // this one runs in a page): every coordinate ±3.4e38 (signs alternating in blocks of three) at
  // row 0 and both signs in the middle, a 1e30 blinder on every 256th coordinate last, among
  // honest rows near a common vector.
  {
    const n = 15;
    const d = 777;
    const HUGE = Math.fround(3.4e38);
    const huge = (sign: number) => Float32Array.from({ length: d }, (_, k) => sign * (k % 3 === 2 ? -HUGE : HUGE));
    const base = Float32Array.from({ length: d }, () => r() * 2 - 1);
    const rows = Array.from({ length: n }, () => base.map((v) => v + (r() - 0.5) * 0.2));
    rows[0] = huge(1);
    rows[7] = huge(-1);
    rows[n - 1] = Float32Array.from({ length: d }, (_, k) => (k % 256 === 0 ? 1e30 : 0));
    out.hostileKinds = { rows, f: 3, fBulyan: 3 };
  }
  // Columns of hostile values only (ties, ±0, subnormals, ±3.4e38), even n: the median's
  // (u + v)/2 and meamed's windows at the edges of float32.
  {
    const n = 16;
    const d = 700;
    const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => HOSTILE[Math.floor(r() * HOSTILE.length)]));
    out.extremes = { rows, f: 3, fBulyan: null, coordinateOnly: true };
  }
  // Random shapes (n = 2, d = 1 included, d not a multiple of 4, d across a centre block): honest
  // rows around a common vector with the attacker at row 0 (1e20 × noise); and the same shapes
  // with 5% of all values replaced by hostile ones, for the coordinate-wise rules.
  for (const [n, d] of [
    [2, 1],
    [3, 5],
    [17, 63],
    [40, 257],
    [9, 1031],
  ]) {
    const base = Float32Array.from({ length: d }, () => r() * 4 - 2);
    const rows = Array.from({ length: n }, () => base.map((v) => v + (r() - 0.5) * 0.1));
    rows[0] = Float32Array.from({ length: d }, () => (r() - 0.5) * 1e20);
    const f = Math.max(0, Math.floor((n - 3) / 4));
    out[`shape${n}x${d}`] = { rows, f, fBulyan: n >= 4 * f + 3 ? f : null };
    const sprinkled = rows.map((row) => row.map((v) => (r() < 0.05 ? HOSTILE[Math.floor(r() * HOSTILE.length)] : v)));
    out[`sprinkled${n}x${d}`] = { rows: sprinkled, f: Math.floor((n - 1) / 2), fBulyan: null, coordinateOnly: true };
  }
  // Small shapes.
  out.one = { rows: [Float32Array.of(2.5)], f: 0, fBulyan: null };
  // Exact ties (dyadic values: every kernel computes these distances exactly): the lowest index wins.
  out.small = { rows: [0, 1, 2, 3, 4, 5, 100].map((v) => Float32Array.of(v, -v, v / 4, 7)), f: 2, fBulyan: 1 };
  return out;
}

function hex(x: Float32Array): string {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let s = '';
  for (const v of u) s += v.toString(16).padStart(8, '0');
  return s;
}

function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_, v) => {
      if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (e) => (e === Infinity ? 'Infinity' : e));
      return v;
    }),
  );
}

/** FLAME's global model G for the cases that cluster the models: dyadic values, the same bits everywhere. */
export function globalOf(d: number): Float32Array {
  return Float32Array.from({ length: d }, (_, k) => (((k * 37) % 64) - 32) / 8);
}

/** Centered clipping's starting point v₀ for the case that sets one. */
export function centerOf(d: number): Float32Array {
  return Float32Array.from({ length: d }, (_, k) => (((k * 11) % 16) - 8) / 16);
}

/** A two-segment layout (weights, then one bias) for FLAME's per-segment noise. */
function layoutOf(d: number): Library.Layout {
  if (d === 1) return [{ name: 'w', shape: [1], offset: 0, size: 1, trainable: true, kind: 'kernel' }];
  return [
    { name: 'w', shape: [d - 1], offset: 0, size: d - 1, trainable: true, kind: 'kernel' },
    { name: 'b', shape: [1], offset: d - 1, size: 1, trainable: true, kind: 'bias' },
  ];
}

/** Runs a pre-aggregator's output through a rule, destroying GPU-resident intermediate rows. */
async function then<R>(rows: Float32Array[] | Library.GpuUpdates, rule: (u: Library.GpuInput) => Promise<R>): Promise<R> {
  const r = await rule(rows);
  if (!Array.isArray(rows)) rows.buffer.destroy();
  return r;
}

/** The rule cases of a data set: name → run. */
function ruleCases(lib: Lib, set: DataSet): Record<string, (u: Library.GpuInput) => Promise<Library.GpuAggregation<Library.Decision, unknown>>> {
  const { f } = set;
  const cases: Record<string, (u: Library.GpuInput) => Promise<Library.GpuAggregation<Library.Decision, unknown>>> = {
    mean: (u) => lib.gpuMean(u),
    weightedMean: (u) => lib.gpuMean(u, { weights: Array.from({ length: set.rows.length }, (_, i) => (i % 3) + 0.5) }),
    coordinateMedian: (u) => lib.gpuCoordinateMedian(u),
    trimmedMean: (u) => lib.gpuTrimmedMean(u, { f: Math.min(f, (set.rows.length - 1) >> 1) }),
    meamed: (u) => lib.gpuMeamed(u, { f: Math.min(f, (set.rows.length - 1) >> 1) }),
    bucketingThenMedian: async (u) => then(await lib.gpuBucketing(u, { bucketSize: 2, seed: 9 }), (b) => lib.gpuCoordinateMedian(b)),
  };
  if (set.coordinateOnly === true) return cases;
  const n = set.rows.length;
  const d = set.rows[0].length;
  cases.geometricMedian = (u) => lib.gpuGeometricMedian(u);
  cases.bucketingThenMean = async (u) => then(await lib.gpuBucketing(u, { bucketSize: 3, seed: 4 }), (b) => lib.gpuMean(b));
  cases.flame = (u) => lib.gpuFlame(u, { lambda: 0 });
  cases.flameNoise = (u) => lib.gpuFlame(u, { seed: 7 });
  cases.flameModels = (u) => lib.gpuFlame(u, { lambda: 0.01, seed: 3, global: globalOf(d) });
  cases.flameWeightedLayout = (u) =>
    lib.gpuFlame(u, { seed: 5, global: globalOf(d), clusterOn: 'updates', layout: layoutOf(d), weights: Array.from({ length: n }, (_, i) => 1 + (i % 4)) });
  cases.centeredClipping = (u) => lib.gpuCenteredClipping(u);
  cases.centeredClippingCenter = (u) =>
    lib.gpuCenteredClipping(u, { tau: 0.5, iterations: 3, center: centerOf(d), weights: Array.from({ length: n }, (_, i) => 2 + (i % 3)) });
  if (set.rows.length >= 2 * f + 3) {
    cases.krum = (u) => lib.gpuKrum(u, { f });
    cases.multiKrum = (u) => lib.gpuMultiKrum(u, { f });
  }
  if (set.rows.length >= 2 * f + 1) {
    cases.nnmThenMedian = async (u) => {
      const mixed = await lib.gpuNnm(u, { f });
      const r = await lib.gpuCoordinateMedian(mixed);
      if (!Array.isArray(mixed)) (mixed as Library.GpuUpdates).buffer.destroy();
      return r;
    };
  }
  if (set.fBulyan !== null) cases.bulyan = (u) => lib.gpuBulyan(u, { f: set.fBulyan as number });
  return cases;
}

/**
 * Runs every case with the library's current backend. With `readBack` (in a page with its own
 * device) it also runs the rules of two sets on updates uploaded with `uploadUpdates` and reads
 * the GpuVector back with `readBack`, recording them as `<set>/<rule>/resident`.
 */
export async function runWebGPUCases(
  lib: Lib,
  readBack?: (v: Library.GpuVector) => Promise<Float32Array>,
  sets: Record<string, DataSet> = dataSets(lib),
): Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const [setName, set] of Object.entries(sets)) {
    for (const [name, run] of Object.entries(ruleCases(lib, set))) {
      const key = `${setName}/${name}`;
      try {
        const { aggregate, decision } = await run(set.rows);
        const a = aggregate as Float32Array;
        out[key] = { bits: hex(a), values: Array.from(a), decision: plain(decision) };
      } catch (e) {
        out[key] = { error: (e as Error).message };
      }
      if (readBack !== undefined && (setName === 'hostile' || setName === 'one')) {
        try {
          const onGpu = lib.uploadUpdates(set.rows);
          const { aggregate, decision } = await run(onGpu);
          const a = await readBack(aggregate as Library.GpuVector);
          (aggregate as Library.GpuVector).buffer.destroy();
          onGpu.buffer.destroy();
          out[`${key}/resident`] = { bits: hex(a), values: Array.from(a), decision: plain(decision) };
        } catch (e) {
          out[`${key}/resident`] = { error: (e as Error).message };
        }
      }
    }
    const finite = set.rows.filter((row) => row.every(Number.isFinite));
    for (const [name, run] of Object.entries({
      gramRobust: () => lib.gpuGram(finite),
      gramPlain: () => lib.gpuGram(finite, { centre: null }),
      norms: () => lib.gpuRowNorms(finite),
      cosine: () => lib.gpuCosineDistances(finite),
    })) {
      try {
        out[`${setName}/${name}`] = { matrix: Array.from(await run()) };
      } catch (e) {
        out[`${setName}/${name}`] = { error: (e as Error).message };
      }
    }
  }
  return out;
}

/** Data sets as plain numbers (each value's float32 bits), to cross into a page exactly (−0 included). */
export type EncodedSets = Record<string, { rows: number[][]; f: number; fBulyan: number | null; coordinateOnly?: boolean }>;

/** Encodes data sets for page.evaluate. */
export function encodeSets(sets: Record<string, DataSet>): EncodedSets {
  const out: EncodedSets = {};
  for (const [name, set] of Object.entries(sets)) {
    out[name] = { ...set, rows: set.rows.map((r) => Array.from(new Uint32Array(r.buffer, r.byteOffset, r.length))) };
  }
  return out;
}

/** Decodes {@link encodeSets}. */
export function decodeSets(encoded: EncodedSets): Record<string, DataSet> {
  const out: Record<string, DataSet> = {};
  for (const [name, set] of Object.entries(encoded)) {
    out[name] = { ...set, rows: set.rows.map((r) => new Float32Array(Uint32Array.from(r).buffer)) };
  }
  return out;
}
