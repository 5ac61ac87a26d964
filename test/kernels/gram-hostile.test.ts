// The Gram kernels under hostile finite clients (issue 14, item 1): one client holding 1e30 every
// 256 coordinates used to make the WebAssembly kernel scale whole blocks by that value, so every
// other product underflowed and Krum picked a poisoned client. Now every row has its own power of
// two and the centre is the row of median largest magnitude, so each pair's distance, cosine and
// norm is within the documented per-pair bound (GRAM_PAIR_EPSILON) of a float64 computation on
// those two rows, on both backends, whatever the other rows hold.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { krumWithDecision } from '../../src/aggregators/krum.js';
import { multiKrumWithDecision } from '../../src/aggregators/multi-krum.js';
import { createRng } from '../../src/core/random.js';
import { setKernelBackend, setKernelThreads } from '../../src/kernels/backend.js';
import { cosineDistancesFromGram } from '../../src/kernels/cosine-distances.js';
import {
  GRAM_PAIR_EPSILON,
  gram,
  gramPlain,
  medianMagnitudeRow,
  squaredDistancesFromGram,
} from '../../src/kernels/gram.js';
import { gramPlan } from '../../src/kernels/wasm/drivers.js';

const F32_MAX = 3.4028234663852886e38;
const EPS = GRAM_PAIR_EPSILON;

afterAll(() => {
  setKernelBackend('auto');
  setKernelThreads('auto');
});

/** Columns per centring block of each backend (the plain kernel's 1024; the WASM plan's). */
function centreBlock(backend: 'js' | 'wasm', n: number, d: number): number {
  return backend === 'js' ? 1024 : gramPlan(n, d).block;
}

/** The 'robust' centre as a float64 vector: per block, the row of lower-median largest magnitude. */
function robustCentre(rows: readonly Float32Array[], block: number): Float64Array {
  const d = rows[0].length;
  const r = new Float64Array(d);
  for (let c0 = 0; c0 < d; c0 += block) {
    const c1 = Math.min(d, c0 + block);
    const row = rows[medianMagnitudeRow(rows, c0, c1)];
    for (let k = c0; k < c1; k++) r[k] = row[k];
  }
  return r;
}

/** ‖a − c‖ in float64 (c null: ‖a‖); scaled sums so that nothing overflows or underflows. */
function norm(a: Float32Array, c: Float64Array | null): number {
  let big = 0;
  for (let k = 0; k < a.length; k++) big = Math.max(big, Math.abs(a[k] - (c === null ? 0 : c[k])));
  if (big === 0) return 0;
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const v = (a[k] - (c === null ? 0 : c[k])) / big;
    s += v * v;
  }
  return big * Math.sqrt(s);
}

/** ‖a − b‖² and ⟨a, b⟩ in float64 from the two rows alone (the reference). */
function exactSquaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const v = a[k] - b[k];
    s += v * v;
  }
  return s;
}
function exactDot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

const clampF32 = (v: number): number => Math.max(-F32_MAX, Math.min(F32_MAX, v));

type AttackKind = 'blinder' | 'strided' | 'dense' | 'tiny' | 'zero' | 'negZero' | 'flip' | 'copy';

interface Attacker {
  kind: AttackKind;
  /** Magnitude: 2^exp (with a sign), or the largest float32. */
  exp: number;
  negative: boolean;
  max: boolean;
  stride: number;
  offset: number;
}

interface Case {
  honest: number;
  d: number;
  scaleExp: number;
  /** Common honest centre, in units of the honest spread (close clients with large norms). */
  centre: number;
  sparsity: number;
  signedZeros: boolean;
  duplicate: boolean;
  attackers: Attacker[];
  attackerFirst: boolean;
  seed: number;
}

const attackerArb: fc.Arbitrary<Attacker> = fc.record({
  kind: fc.constantFrom<AttackKind>('blinder', 'strided', 'dense', 'tiny', 'zero', 'negZero', 'flip', 'copy'),
  exp: fc.integer({ min: -149, max: 127 }),
  negative: fc.boolean(),
  max: fc.boolean(),
  stride: fc.integer({ min: 1, max: 300 }),
  offset: fc.integer({ min: 0, max: 299 }),
});

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    honest: fc.integer({ min: 3, max: 10 }),
    d: fc.oneof(
      fc.constantFrom(1, 3, 4, 255, 256, 257, 1023, 1025, 2049),
      fc.integer({ min: 1, max: 1400 }),
      fc.integer({ min: 2000, max: 4300 }),
    ),
    scaleExp: fc.oneof(fc.constant(0), fc.integer({ min: -149, max: 115 })),
    centre: fc.constantFrom(0, 1, 1000),
    sparsity: fc.constantFrom(0, 0.6, 0.97),
    signedZeros: fc.boolean(),
    duplicate: fc.boolean(),
    attackers: fc.array(attackerArb, { minLength: 0, maxLength: 9 }),
    attackerFirst: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  })
  // Honest clients are more than half of the rows.
  .map((c) => ({ ...c, attackers: c.attackers.slice(0, c.honest - 1) }));

/** The rows of a case and which of them are honest. */
function buildCase(c: Case): { rows: Float32Array[]; honest: boolean[] } {
  const rng = createRng(c.seed);
  const sigma = 2 ** c.scaleExp;
  const mu = Float64Array.from({ length: c.d }, () => c.centre * rng.gaussian());
  const honestRows: Float32Array[] = [];
  for (let h = 0; h < c.honest; h++) {
    const x = new Float32Array(c.d);
    for (let k = 0; k < c.d; k++) {
      if (c.sparsity > 0 && rng.next() < c.sparsity) x[k] = c.signedZeros && (h + k) % 2 === 1 ? -0 : 0;
      else x[k] = clampF32(sigma * (mu[k] + rng.gaussian()));
    }
    honestRows.push(x);
  }
  if (c.duplicate && c.honest > 1) honestRows[1] = Float32Array.from(honestRows[0]);
  const mean = new Float64Array(c.d);
  for (const x of honestRows) for (let k = 0; k < c.d; k++) mean[k] += x[k] / c.honest;
  const attackRows = c.attackers.map((a) => {
    const m = (a.negative ? -1 : 1) * (a.max ? F32_MAX : Math.min(F32_MAX, 2 ** a.exp));
    const x = new Float32Array(c.d);
    switch (a.kind) {
      case 'blinder':
        for (let k = a.offset % 256; k < c.d; k += 256) x[k] = Math.abs(m);
        break;
      case 'strided':
        for (let k = a.offset % a.stride; k < c.d; k += a.stride) x[k] = (k / a.stride) % 2 === 0 ? m : -m;
        break;
      case 'dense':
        for (let k = 0; k < c.d; k++) x[k] = rng.next() < 0.5 ? m : -m;
        break;
      case 'tiny':
        for (let k = a.offset % a.stride; k < c.d; k += a.stride) x[k] = (rng.next() < 0.5 ? -1 : 1) * 2 ** (-149 + rng.nextInt(30));
        break;
      case 'zero':
        break;
      case 'negZero':
        x.fill(-0);
        break;
      case 'flip':
        for (let k = 0; k < c.d; k++) x[k] = clampF32(-(2 ** Math.min(a.exp, 100)) * mean[k]);
        break;
      case 'copy':
        x.set(honestRows[a.offset % c.honest]);
        break;
    }
    return x;
  });
  // Interleave: attackers at random places, the first at row 0 when asked.
  const rows: Float32Array[] = [...honestRows];
  const honest = rows.map(() => true);
  attackRows.forEach((x, t) => {
    const at = t === 0 && c.attackerFirst ? 0 : rng.nextInt(rows.length + 1);
    rows.splice(at, 0, x);
    honest.splice(at, 0, false);
  });
  return { rows, honest };
}

/** Checks every pair's squared distance from gram(rows, 'robust') against the per-pair bound. */
function checkDistances(rows: Float32Array[], backend: 'js' | 'wasm'): Float64Array {
  setKernelBackend(backend);
  const n = rows.length;
  const d = rows[0].length;
  const g = gram(rows, 'robust');
  expect(g.every(Number.isFinite)).toBe(true);
  const dist = squaredDistancesFromGram(g, n);
  const r = robustCentre(rows, centreBlock(backend, n, d));
  const y = rows.map((x) => norm(x, r));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const exact = exactSquaredDistance(rows[i], rows[j]);
      const bound = EPS * (y[i] + y[j]) ** 2;
      const err = Math.abs(dist[i * n + j] - exact);
      if (!(err <= bound)) {
        throw new Error(`${backend}: pair (${i}, ${j}) distance² ${dist[i * n + j]} vs ${exact}, error ${err} > bound ${bound}`);
      }
    }
  }
  return dist;
}

/** Checks the uncentred Gram (norms, inner products) and cosine distances against the bounds. */
function checkUncentred(rows: Float32Array[], backend: 'js' | 'wasm'): void {
  setKernelBackend(backend);
  const n = rows.length;
  const g = gram(rows, null);
  expect(g.every(Number.isFinite)).toBe(true);
  const nrm = rows.map((x) => norm(x, null));
  for (let i = 0; i < n; i++) {
    // Norms: ‖x‖ from √Gᵢᵢ within ε‖x‖.
    const ni = Math.sqrt(g[i * n + i]);
    if (!(Math.abs(ni - nrm[i]) <= EPS * nrm[i])) throw new Error(`${backend}: norm of ${i}: ${ni} vs ${nrm[i]}`);
    for (let j = 0; j < i; j++) {
      const err = Math.abs(g[i * n + j] - exactDot(rows[i], rows[j]));
      if (!(err <= EPS * nrm[i] * nrm[j])) {
        throw new Error(`${backend}: ⟨x${i}, x${j}⟩ off by ${err} > ${EPS * nrm[i] * nrm[j]}`);
      }
    }
  }
  const cos = cosineDistancesFromGram(g, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const exact = nrm[i] > 0 && nrm[j] > 0 ? 1 - exactDot(rows[i], rows[j]) / nrm[i] / nrm[j] : 1;
      const clamped = Math.min(2, Math.max(0, exact));
      if (!(Math.abs(cos[i * n + j] - clamped) <= 3 * EPS)) {
        throw new Error(`${backend}: cosine distance (${i}, ${j}) ${cos[i * n + j]} vs ${clamped}`);
      }
    }
  }
}

describe('Gram kernels: every pair within its own bound, whatever the other rows hold', () => {
  setKernelThreads(1);

  it('squared distances from the robust centre (js and wasm, and wasm against gramPlain)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { rows } = buildCase(c);
        const js = checkDistances(rows, 'js');
        const wasm = checkDistances(rows, 'wasm');
        // Both are within their bounds of the exact value, so within the sum of them of each other.
        const n = rows.length;
        const d = rows[0].length;
        const yj = rows.map((x) => norm(x, robustCentre(rows, 1024)));
        const yw = rows.map((x) => norm(x, robustCentre(rows, centreBlock('wasm', n, d))));
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < i; j++) {
            const bound = EPS * ((yj[i] + yj[j]) ** 2 + (yw[i] + yw[j]) ** 2);
            expect(Math.abs(wasm[i * n + j] - js[i * n + j])).toBeLessThanOrEqual(bound);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('inner products, norms and cosine distances of the uncentred Gram (js and wasm)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { rows } = buildCase(c);
        checkUncentred(rows, 'js');
        checkUncentred(rows, 'wasm');
      }),
      { numRuns: 60 },
    );
  });

  it('an honest pair keeps its distance to 1e-5 when the honest clients are a majority', () => {
    // The robust centre is a row whose largest magnitude is the median one, so for Gaussian
    // honest clients ‖y‖ stays near their own spread and the bound is tight in honest units.
    fc.assert(
      fc.property(caseArb, (c) => {
        const spec = { ...c, centre: 0, sparsity: 0, duplicate: false, d: Math.max(c.d, 64) };
        const { rows, honest } = buildCase(spec);
        for (const backend of ['js', 'wasm'] as const) {
          setKernelBackend(backend);
          const n = rows.length;
          const dist = squaredDistancesFromGram(gram(rows, 'robust'), n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < i; j++) {
              if (!honest[i] || !honest[j]) continue;
              const exact = exactSquaredDistance(rows[i], rows[j]);
              expect(Math.abs(dist[i * n + j] - exact)).toBeLessThanOrEqual(1e-5 * exact);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('the robust centre', () => {
  it('is the row of median largest magnitude per kernel block: same bits as centring on that vector', () => {
    setKernelBackend('wasm');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.boolean(),
        (n, d, seed, ties) => {
          const rng = createRng(seed);
          const rows = Array.from({ length: n }, (_, i) =>
            // With ties: a few distinct magnitudes, duplicates and zero rows.
            Float32Array.from({ length: d }, () => (ties ? (i % 3 === 0 ? 0 : (i % 4) * (rng.next() < 0.5 ? -1 : 1)) : rng.gaussian() * (1 + i))),
          );
          const centre = robustCentre(rows, gramPlan(n, d).block);
          expect(gram(rows, 'robust')).toEqual(gram(rows, Float32Array.from(centre)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('an attacker at row 0 cannot move the centre: the distances of the others keep their digits', () => {
    const rng = createRng(3);
    const d = 3000;
    const honest = Array.from({ length: 8 }, () => Float32Array.from({ length: d }, () => 1000 + rng.gaussian()));
    const attacker = new Float32Array(d).fill(1e30);
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const rows = [attacker, ...honest];
      const dist = squaredDistancesFromGram(gram(rows, 'robust'), rows.length);
      for (let i = 1; i < rows.length; i++) {
        for (let j = 1; j < i; j++) {
          const exact = exactSquaredDistance(rows[i], rows[j]);
          expect(Math.abs(dist[i * rows.length + j] - exact)).toBeLessThanOrEqual(1e-5 * exact);
        }
      }
    }
  });
});

describe('issue 14 regression: a blinder cannot make Krum pick a poisoned client', () => {
  /** 20 honest Gaussian clients, a −100·μ client and a client holding 1e30 every 256 coordinates. */
  function blinded(poisonAt: number, blinderAt: number, value = 1e30): { rows: Float32Array[]; poison: number; blinder: number } {
    const rng = createRng(7);
    const d = 4096;
    const rows = Array.from({ length: 20 }, () => Float32Array.from({ length: d }, () => rng.gaussian()));
    const mu = new Float64Array(d);
    for (const h of rows) for (let k = 0; k < d; k++) mu[k] += h[k] / rows.length;
    const poison = Float32Array.from(mu, (v) => -100 * v);
    const blind = new Float32Array(d);
    for (let k = 0; k < d; k += 256) blind[k] = value;
    rows.splice(poisonAt, 0, poison);
    rows.splice(blinderAt, 0, blind);
    const p = blinderAt <= poisonAt ? poisonAt + 1 : poisonAt;
    return { rows, poison: p, blinder: blinderAt };
  }

  it.each([
    [0, 21, 1e30],
    [0, 0, 1e30],
    [10, 0, 3.4e38],
    [21, 5, 1e20],
  ])('poison at %i, blinder at %i (%s) on wasm: Krum and Multi-Krum as on js', (poisonAt, blinderAt, value) => {
    const { rows, poison, blinder } = blinded(poisonAt, blinderAt, value);
    const picks: Record<string, number[]> = {};
    for (const backend of ['js', 'wasm'] as const) {
      setKernelBackend(backend);
      const k = krumWithDecision(rows, { f: 2 }).decision.selected;
      const mk = multiKrumWithDecision(rows, { f: 2 }).decision.selected;
      expect(k).not.toContain(poison);
      expect(k).not.toContain(blinder);
      expect(mk).not.toContain(poison);
      expect(mk).not.toContain(blinder);
      picks[backend] = [...k, -1, ...mk];
    }
    expect(picks.wasm).toEqual(picks.js);
  });

  it('the honest distances are those of the honest clients alone (no underflow to 0)', () => {
    const { rows, poison, blinder } = blinded(0, 21);
    setKernelBackend('wasm');
    const n = rows.length;
    const dist = squaredDistancesFromGram(gram(rows, 'robust'), n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        if ([i, j].includes(poison) || [i, j].includes(blinder)) continue;
        const exact = exactSquaredDistance(rows[i], rows[j]);
        expect(Math.abs(dist[i * n + j] - exact)).toBeLessThanOrEqual(1e-5 * exact);
      }
    }
    expect(gramPlain(rows, null).every(Number.isFinite)).toBe(true);
  });
});
