/**
 * The bound each member of MixTailor's default pool keeps against attackers separated from the
 * honest clients (derivations in docs/security.md), shared by catalogue.test.ts and
 * open-findings.test.ts.
 */
import { dist, honestStats, lpDist, roundingSlack, type HostileCase } from './hostile-data.js';

/** Slack of a few float32 ulps for an output whose entries are at most `scale`. */
const ulps = (scale: number, k = 4) => k * 2 ** -23 * scale + 4 * 2 ** -149;

/** The bound a member of the default pool keeps against attackers separated from the honest clients. */
export function memberBound(name: string, c: HostileCase, f: number): (out: Float32Array) => string | null {
  const s = honestStats(c.honest);
  const h = c.honest.length;
  const b = c.attackerIdx.length;
  const slack = roundingSlack(c.d, s.maxAbs, 8);
  const theta = c.n - 2 * f;
  const ball = (radius: number) => (out: Float32Array) => {
    const e = dist(out, s.mean);
    return e <= radius + slack ? null : `distance ${e} to the honest mean > ${radius}`;
  };
  const box = (widen: number) => (out: Float32Array) => {
    for (let k = 0; k < c.d; k++) {
      const w = widen * (s.hi[k] - s.lo[k]);
      const u = ulps(Math.max(Math.abs(s.lo[k]), Math.abs(s.hi[k])));
      if (!(out[k] >= s.lo[k] - w - u && out[k] <= s.hi[k] + w + u)) return `coordinate ${k} = ${out[k]} outside the honest box`;
    }
    return null;
  };
  const krumLike = (p: number, m: number) => (out: Float32Array) => {
    let deltaP = 0;
    for (let i = 0; i < h; i++) for (let j = 0; j < i; j++) deltaP = Math.max(deltaP, lpDist(c.honest[i], c.honest[j], p));
    const near = Math.min(...c.honest.map((x) => lpDist(out, x, p)));
    const reach = Math.sqrt(Math.max(1, m - f - 2)) * deltaP;
    return near <= reach * (1 + 1e-5) + slack ? null : `ℓ${p} distance ${near} to the nearest honest client > ${reach}`;
  };
  if (name.startsWith('krum-l')) return krumLike(Number(name.slice(6)), c.n);
  if (name === 'coordinateMedian') return box(0);
  if (name === 'geometricMedian') return ball((2 * h * s.radius) / (h - b) + c.n * 1e-5);
  const [, selection, aggregation] = /^bulyan\((\w+),(\w+)\)$/.exec(name) ?? [];
  if (aggregation === 'coordinateMedian') return box(0);
  if (aggregation === 'krum') return krumLike(2, theta);
  if (aggregation === 'geometricMedian') return ball((2 * (theta - f) * s.radius) / (theta - 2 * f) + c.n * 1e-5);
  if (aggregation === 'mean') return ball(s.radius * (1 + 1e-5)); // the θ selected are honest
  throw new Error(`no bound for member ${name} (selection ${selection})`);
}
