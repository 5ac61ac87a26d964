// Compares WebGPU results with the CPU kernels' (see webgpu-cases.ts): selections and decisions
// equal, medians and Krum picks bit for bit, means within float32 rounding of the values they
// average, Gram matrices within the per-pair bound GRAM_PAIR_EPSILON, and GPU-resident inputs
// giving the same bits as uploaded ones.
import { createRng, randomPermutation } from '../../src/core/random.js';
import { gramPlain, GRAM_PAIR_EPSILON } from '../../src/kernels/gram.js';
import { centerOf, type CaseResult, type DataSet } from './webgpu-cases.js';

/** Slack for values a GPU may flush to zero (WGSL allows flushing subnormals): 2⁻¹²⁰. */
const FLUSH = 2 ** -120;
/** Relative tolerance of float32 sums of the aggregates. */
const SUM_TOL = 2 ** -18;

type Dec = Record<string, unknown>;

function sortedColumn(rows: Float32Array[], c: number): number[] {
  return rows.map((r) => r[c]).sort((a, b) => a - b);
}

/** Per-column tolerance of an aggregate (0: bit-identical). */
function tolerances(rule: string, set: DataSet, dec: Dec): ((c: number) => number) | null {
  const rows = set.rows;
  const finite = rows.filter((r) => r.every(Number.isFinite));
  if (rule === 'coordinateMedian' || rule === 'krum') return null;
  if (rule === 'mean' || rule === 'weightedMean' || rule === 'geometricMedian' || rule === 'multiKrum') {
    const w = dec.weights as number[];
    return (c) => {
      let s = 0;
      for (let i = 0; i < rows.length; i++) if (w[i] !== 0) s += Math.abs(w[i] * rows[i][c]);
      return SUM_TOL * s;
    };
  }
  if (rule === 'bucketingThenMean') {
    // The mean of bucket means (each within float32 rounding of its members' values).
    return (c) => 2 * SUM_TOL * Math.max(...finite.map((r) => Math.abs(r[c])));
  }
  if (rule.startsWith('flame')) {
    // Σ wᵢΔᵢ with wᵢ from GPU norms (within 2⁻¹⁷), added in float32; the noise the same draws
    // times σ from S (and, with a layout, the segment's std) within the same bound.
    const w = dec.weights as number[];
    return (c) => {
      let s = 0;
      for (let i = 0; i < rows.length; i++) if (w[i] !== 0) s += Math.abs(w[i] * rows[i][c]);
      return 2 ** -15 * s;
    };
  }
  if (rule.startsWith('centeredClipping')) {
    // v_L = centerWeight·v₀ + Σ aᵢxᵢ: each of L ≤ 5 iterations rounds v to float32 and moves the
    // clip factors by the distance bound.
    const a = dec.weights as number[];
    const c0 = rule === 'centeredClippingCenter' ? centerOf(rows[0].length) : null;
    return (c) => {
      let s = c0 === null ? 0 : Math.abs((dec.centerWeight as number) * c0[c]);
      for (let i = 0; i < rows.length; i++) if (a[i] !== 0) s += Math.abs(a[i] * rows[i][c]);
      return 2 ** -14 * s;
    };
  }
  if (rule === 'bucketingThenMedian') {
    // The median of bucket means, each within ε_b = SUM_TOL·(its members' largest |value|): the
    // median moves by at most what moving every mean by ±ε_b moves it (buckets as the case's
    // bucketing({ bucketSize: 2, seed: 9 }) draws them).
    const order = randomPermutation(finite.length, createRng(9));
    const buckets: Float32Array[][] = [];
    for (let start = 0; start < order.length; start += 2) buckets.push(order.slice(start, start + 2).map((k) => finite[k]));
    const median = (v: number[]) => {
      const sorted = [...v].sort((a, b) => a - b);
      const k = sorted.length >> 1;
      return sorted.length % 2 === 1 ? sorted[k] : (sorted[k - 1] + sorted[k]) / 2;
    };
    return (c) => {
      const means = buckets.map((b) => b.reduce((s, r) => s + r[c], 0) / b.length);
      const eps = buckets.map((b) => SUM_TOL * Math.max(...b.map((r) => Math.abs(r[c]))));
      const mid = median(means);
      return Math.max(median(means.map((m, i) => m + eps[i])) - mid, mid - median(means.map((m, i) => m - eps[i])));
    };
  }
  if (rule === 'nnmThenMedian') {
    // A median of NNM's mixed rows (means of the clients): within float32 rounding of the values.
    return (c) => SUM_TOL * Math.max(...finite.map((r) => Math.abs(r[c])));
  }
  if (rule === 'trimmedMean') {
    const t = dec.trimmed as number;
    return (c) => {
      const s = sortedColumn(finite, c);
      return SUM_TOL * Math.max(Math.abs(s[t]), Math.abs(s[s.length - 1 - t]));
    };
  }
  const window = (used: Float32Array[], keep: number) => (c: number) => {
    const s = sortedColumn(used, c);
    const k = s.length >> 1;
    let mx = 0;
    for (let j = Math.max(0, k - keep); j <= Math.min(s.length - 1, k + keep); j++) mx = Math.max(mx, Math.abs(s[j]));
    return SUM_TOL * mx;
  };
  if (rule === 'meamed') {
    const f = Math.min(set.f, (rows.length - 1) >> 1);
    const dropped = (dec.dropped as number[]).length;
    return window(finite, finite.length - Math.max(0, f - dropped));
  }
  if (rule === 'bulyan') {
    const picked = (dec.selected as number[]).map((i) => rows[i]);
    return window(picked, dec.beta as number);
  }
  throw new Error(`no tolerance for ${rule}`);
}

function close(a: number, b: number, tol: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tol;
}

function num(v: unknown): number {
  return v === 'Infinity' ? Infinity : (v as number);
}

/** Decision fields computed from GPU norms or distances: equal within a relative 10⁻⁴ (and 10⁻¹² absolute for weights). */
const APPROX_FIELDS: Record<string, number> = {
  weights: 1e-12,
  clipFactors: 1e-12,
  centerWeight: 1e-12,
  norms: 0,
  medianNorm: 0,
  sigma: 0,
  segmentSigmas: 0,
};

function approx(a: unknown, b: unknown, abs: number): boolean {
  const xs = (Array.isArray(a) ? a : [a]).map(num);
  const ys = (Array.isArray(b) ? b : [b]).map(num);
  return xs.length === ys.length && xs.every((x, i) => x === ys[i] || Math.abs(x - ys[i]) <= Math.max(abs, 1e-4 * Math.max(Math.abs(x), Math.abs(ys[i]))));
}

/**
 * FLAME's and centered clipping's decisions: the choices (labels, admitted, clusters, dropped)
 * exactly; numbers from GPU norms within 10⁻⁴ relative; cosine distances within 3·2⁻¹⁷.
 */
function compareApproxDecision(key: string, want: Dec, got: Dec, problems: string[]): void {
  for (const field of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = want[field];
    const b = got[field];
    let ok: boolean;
    if (field in APPROX_FIELDS) {
      ok = approx(a, b, APPROX_FIELDS[field]);
    } else if (field === 'cosineDistances') {
      const xs = a as number[];
      const ys = b as number[];
      ok = xs.length === ys.length && xs.every((x, i) => Math.abs(x - ys[i]) <= 3 * GRAM_PAIR_EPSILON + 1e-9);
    } else if (field === 'clustering') {
      const pick = (c: unknown) => (c === null ? null : { labels: (c as Dec).labels, clusters: (c as Dec).clusters });
      ok = JSON.stringify(pick(a)) === JSON.stringify(pick(b));
    } else {
      ok = JSON.stringify(a) === JSON.stringify(b);
    }
    if (!ok) problems.push(`${key}: decision.${field} ${JSON.stringify(b)?.slice(0, 200)} ≠ ${JSON.stringify(a)?.slice(0, 200)}`);
  }
}

function compareDecision(key: string, rule: string, want: Dec, got: Dec, problems: string[]): void {
  if (rule.startsWith('flame') || rule.startsWith('centeredClipping')) {
    compareApproxDecision(key, want, got, problems);
    return;
  }
  for (const field of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = want[field];
    const b = got[field];
    if (field === 'weights' || field === 'scores') {
      const wa = a as unknown[];
      const wb = b as unknown[];
      const tol = field === 'scores' ? 1e-4 : rule === 'geometricMedian' ? 1e-4 : 0;
      if (wa.length !== wb.length || wa.some((v, i) => !close(num(v), num(wb[i]), tol * Math.max(1, Math.abs(num(v)))))) {
        problems.push(`${key}: decision.${field} ${JSON.stringify(wb).slice(0, 200)} ≠ ${JSON.stringify(wa).slice(0, 200)}`);
      }
    } else if (field === 'iterations') {
      if (Math.abs((a as number) - (b as number)) > 3) problems.push(`${key}: iterations ${String(b)} vs ${String(a)}`);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      problems.push(`${key}: decision.${field} ${JSON.stringify(b)} ≠ ${JSON.stringify(a)}`);
    }
  }
}

/** Every difference between the CPU results `want` and the WebGPU results `got` that exceeds its bound. */
export function compareWebGPU(
  sets: Record<string, DataSet>,
  want: Record<string, CaseResult>,
  got: Record<string, CaseResult>,
): string[] {
  const problems: string[] = [];
  for (const [key, w] of Object.entries(want)) {
    const g = got[key];
    const [setName, rule] = key.split('/');
    const set = sets[setName];
    if (g === undefined) {
      problems.push(`${key}: missing`);
      continue;
    }
    if (w.error !== undefined || g.error !== undefined) {
      if (w.error !== g.error) problems.push(`${key}: error ${String(g.error)} vs expected ${String(w.error)}`);
      continue;
    }
    if (w.matrix !== undefined) {
      const finite = set.rows.filter((r) => r.every(Number.isFinite));
      const n = finite.length;
      const m = g.matrix as number[];
      if (rule === 'gramRobust' || rule === 'gramPlain') {
        const exact = gramPlain(finite, rule === 'gramRobust' ? 'robust' : null);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const bound = GRAM_PAIR_EPSILON * Math.sqrt(exact[i * n + i] * exact[j * n + j]) + FLUSH;
            if (!(Math.abs(m[i * n + j] - exact[i * n + j]) <= bound)) {
              problems.push(`${key}[${i},${j}]: ${m[i * n + j]} vs ${exact[i * n + j]} (bound ${bound})`);
            }
          }
        }
      } else if (rule === 'norms') {
        const exact = gramPlain(finite, null);
        for (let i = 0; i < n; i++) {
          const e = Math.sqrt(exact[i * n + i]);
          if (!(Math.abs(m[i] - e) <= GRAM_PAIR_EPSILON * e + FLUSH)) problems.push(`${key}[${i}]: ${m[i]} vs ${e}`);
        }
      } else {
        const cw = w.matrix;
        for (let i = 0; i < cw.length; i++) {
          if (!(Math.abs(m[i] - cw[i]) <= 3 * GRAM_PAIR_EPSILON + 1e-9)) problems.push(`${key}[${i}]: ${m[i]} vs ${cw[i]}`);
        }
      }
      continue;
    }
    compareDecision(key, rule, w.decision as Dec, g.decision as Dec, problems);
    const tol = tolerances(rule, set, w.decision as Dec);
    if (tol === null) {
      if (g.bits !== w.bits) {
        const first = (w.values as number[]).findIndex((v, c) => !Object.is(v, (g.values as number[])[c]));
        problems.push(`${key}: bits differ first at column ${first}: ${String(g.values?.[first])} vs ${String(w.values?.[first])}`);
      }
    } else {
      const a = w.values as number[];
      const b = g.values as number[];
      let bad = 0;
      for (let c = 0; c < a.length; c++) {
        if (!close(a[c], b[c], tol(c) + FLUSH)) {
          if (bad++ < 3) problems.push(`${key}[${c}]: ${b[c]} vs ${a[c]} (tolerance ${tol(c) + FLUSH})`);
        }
      }
      if (bad > 3) problems.push(`${key}: ${bad} columns out of tolerance`);
    }
  }
  for (const [key, g] of Object.entries(got)) {
    if (!key.endsWith('/resident')) continue;
    const base = got[key.slice(0, -'/resident'.length)];
    if (g.error !== base?.error || g.bits !== base?.bits || JSON.stringify(g.decision) !== JSON.stringify(base?.decision)) {
      problems.push(`${key}: GPU-resident input differs from the uploaded one (${String(g.error ?? '')})`);
    }
  }
  return problems;
}
