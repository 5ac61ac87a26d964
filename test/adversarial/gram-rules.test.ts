// Red-team properties of the distance-based rules (issue 14, items 1 and 2): no finite client, at
// any magnitude, stride or position (row 0 included), may blind the Gram matrix, push a
// breakdown-point rule past its guarantee or change another pair's distance, on either backend.
//
// Notation: h honest clients, b ≤ f attackers, μ the honest mean, r = max ‖xᵢ − μ‖ (honest radius),
// δ = max ‖xᵢ − xⱼ‖ (honest diameter), both over honest clients, exact in float64.
// Bounds asserted (each derived in docs/security.md):
// - Krum / Multi-Krum / Krum-ℓp, n ≥ 2f+3: every selected client is within √(n−f−2)·δ_p of some
//   honest client (an honest score is ≤ (n−f−2)δ_p², an attacker's includes at least one honest
//   neighbour); so an attacker farther than that from every honest client is never selected.
// - geometricMedian, b < n/2: ‖GM − μ‖ ≤ 2h·r/(h − b) for the exact minimiser; Weiszfeld's stop
//   adds at most about (b/(h−b))·tolerance ≤ n·tolerance.
// - mda, n ≥ 2f+1: the selected subset has diameter ≤ δ and holds an honest client: ‖out − μ‖ ≤ δ + r.
// - monna, n ≥ 2f+1, honest trusted t: ‖out − t‖ ≤ max over honest ‖xᵢ − t‖.
// - centeredClipping from a centre v₀: ‖out − v₀‖ ≤ L·τ; with v₀ = μ, τ ≥ r, L = 1: ‖out − μ‖ ≤ bτ/n.
// - caf and dnc (no worst-case bound of the same form): attackers separated from the honest
//   clients by ≥ 10⁴·(r + δ) are filtered out, so the output is within r of μ.
// Backends: the 'js' (float64) and 'wasm' kernels take the decision of an exact float64 oracle
// whenever that decision is not a near-tie (relative gap ≤ 1e-5), and agree on values within
// float32 tolerance.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bulyanWithDecision,
  cafWithDecision,
  centeredClippingWithDecision,
  cosineDistances,
  dncWithDecision,
  flameWithDecision,
  geometricMedianWithDecision,
  krumLpWithDecision,
  krumWithDecision,
  mdaWithDecision,
  monnaWithDecision,
  multiKrumWithDecision,
  RobustAggError,
} from '../../src/index.js';
import { gram, squaredDistancesFromGram } from '../../src/kernels/gram.js';
import {
  buildCase,
  caseArb,
  dist,
  dist2,
  expectFinite,
  expectSameBits,
  expectUnchanged,
  expectWithin,
  FAR_ATTACKS,
  fastPathD,
  honestStats,
  lpDist,
  norm,
  onBackends,
  roundingSlack,
  RUNS,
  snapshot,
  type CaseSpec,
  type HostileCase,
} from './hostile-data.js';
import { diameter2, exactDistances, krumScoresExact, lowestExact, medianFinite, nearTie, TIE_TOLERANCE } from './oracle.js';

/** A declared f in [b, fMax], drawn from the case's seed. */
function declaredF(spec: CaseSpec, fMax: number): number {
  return spec.b + (Math.abs(spec.seed) % (fMax - spec.b + 1));
}

/** Smallest exact distance from an attacker to an honest client (∞ without attackers). */
function attackerGap(c: HostileCase, p = 2): number {
  let gap = Infinity;
  for (const a of c.attackerIdx) for (const h of c.honest) gap = Math.min(gap, lpDist(c.rows[a], h, p));
  return gap;
}

/** Honest ℓp diameter. */
function honestDiameter(c: HostileCase, p: number): number {
  let d = 0;
  for (let i = 0; i < c.honest.length; i++) for (let j = 0; j < i; j++) d = Math.max(d, lpDist(c.honest[i], c.honest[j], p));
  return d;
}

/** ℓp distance from x to its nearest honest client. */
function nearestHonest(c: HostileCase, x: ArrayLike<number>, p: number): number {
  return Math.min(...c.honest.map((h) => lpDist(x, h, p)));
}

describe('the Gram kernel under hostile clients (issue 14, item 1)', () => {
  it('keeps every honest pair distance and cosine within float32 tolerance whatever the other clients send', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 24], maxAttackers: (n) => Math.ceil(n / 2) - 1 }), (spec) => {
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        for (const backend of ['js', 'wasm'] as const) {
          const { [backend]: got } = onBackends(() => ({
            d2: squaredDistancesFromGram(gram(c.rows, 'robust'), c.n),
            cos: cosineDistances(c.rows),
          }));
          for (const i of c.honestIdx) {
            for (const j of c.honestIdx) {
              if (j >= i) continue;
              const exact = dist2(c.rows[i], c.rows[j]);
              // Per-pair bound: float32 products of rows centred on a row of honest magnitude.
              const scale = (norm(c.rows[i]) + norm(c.rows[j]) + 2 * s.maxNorm) ** 2;
              const err = Math.abs(got.d2[i * c.n + j] - exact);
              if (!(err <= 2e-5 * scale + 1e-300)) {
                throw new Error(`${backend}: squared distance of honest clients ${i}, ${j} is ${got.d2[i * c.n + j]}, exact ${exact} (error ${err}, bound ${2e-5 * scale})`);
              }
              const ni = norm(c.rows[i]);
              const nj = norm(c.rows[j]);
              let dot = 0;
              for (let k = 0; k < c.d; k++) dot += c.rows[i][k] * c.rows[j][k];
              const cosExact = ni > 0 && nj > 0 ? Math.min(2, Math.max(0, 1 - dot / (ni * nj))) : 1;
              const cosErr = Math.abs(got.cos[i * c.n + j] - cosExact);
              if (!(cosErr <= 1e-5)) {
                throw new Error(`${backend}: cosine distance of honest clients ${i}, ${j} is ${got.cos[i * c.n + j]}, exact ${cosExact}`);
              }
            }
          }
        }
      }),
      RUNS(20),
    );
  });
});

describe('krum, multiKrum and krumLp under hostile clients', () => {
  it('select only clients near the honest ones, never a far attacker, and take the exact decision on both backends', () => {
    fc.assert(
      fc.property(
        caseArb({ n: [5, 31], maxAttackers: (n) => Math.floor((n - 3) / 2) }),
        fc.constantFrom('krum', 'multiKrum', 'krumLp') as fc.Arbitrary<'krum' | 'multiKrum' | 'krumLp'>,
        fc.constantFrom(1, 2, 3, 7.5, Infinity),
        fc.nat(),
        (spec, rule, pRaw, mRaw) => {
          const c = buildCase(spec);
          const f = declaredF(spec, Math.floor((c.n - 3) / 2));
          const p = rule === 'krumLp' ? pRaw : 2;
          const m = rule === 'multiKrum' && mRaw % 3 !== 0 ? 1 + (mRaw % (c.n - f)) : undefined;
          const before = snapshot(c.rows);
          const run = () =>
            rule === 'krum'
              ? krumWithDecision(c.rows, { f })
              : rule === 'multiKrum'
                ? multiKrumWithDecision(c.rows, m === undefined ? { f } : { f, m })
                : krumLpWithDecision(c.rows, { f, p });
          const { js, wasm } = onBackends(run);
          expectUnchanged(c.rows, before, rule);
          const name = `${rule}${rule === 'krumLp' ? ` p=${p}` : ''}${m ? ` m=${m}` : ''}`;

          // The exact decision, from float64 ℓp distances.
          const exactD = new Float64Array(c.n * c.n);
          for (let i = 0; i < c.n; i++) for (let j = 0; j < i; j++) exactD[i * c.n + j] = exactD[j * c.n + i] = lpDist(c.rows[i], c.rows[j], p) ** 2;
          const scores = krumScoresExact(exactD, c.n, c.n - f - 2);
          const picks = rule === 'multiKrum' ? (m ?? c.n - f) : 1;
          const exact = lowestExact(scores, picks, medianFinite(scores));
          const deltaP = honestDiameter(c, p);
          const reach = Math.sqrt(c.n - f - 2) * deltaP;
          const gap = attackerGap(c, p);
          const best = Math.min(...scores);
          for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
            const what = `${name} (${backend})`;
            expectFinite(r.aggregate, what);
            if (!exact.ambiguous) expect(r.decision.selected, `${what} vs the exact decision`).toEqual(exact.picks);
            for (const i of r.decision.selected) {
              // Near-optimal on the exact scores, within float32 tolerance.
              const worstAllowed = Math.max(...exact.picks.map((k) => scores[k]));
              if (!(scores[i] <= worstAllowed + TIE_TOLERANCE * Math.max(worstAllowed, medianFinite(scores)))) {
                throw new Error(`${what} selected client ${i} with exact score ${scores[i]}, the ${picks}-th best is ${worstAllowed} (best ${best})`);
              }
              const near = nearestHonest(c, c.rows[i], p);
              if (!(near <= reach * (1 + 1e-5) + 1e-300)) {
                throw new Error(`${what} selected client ${i} at ℓ${p} distance ${near} from the honest clients, more than √(n−f−2)·δ = ${reach}`);
              }
              if (c.attackerIdx.includes(i) && gap > 2 * reach) {
                throw new Error(`${what} selected attacker ${i} at ℓ${p} distance ≥ ${gap} from every honest client (honest diameter ${deltaP})`);
              }
            }
            if (picks === 1) {
              expectSameBits(r.aggregate, c.rows[r.decision.selected[0]], `${what} returns the selected row`);
            }
          }
          if (!exact.ambiguous && picks === 1) expectSameBits(wasm.aggregate, js.aggregate, `${name}: wasm vs js`);
        },
      ),
      RUNS(30),
    );
  });
});

describe('the blinder of issue 14, item 1, on the default backend', () => {
  it('a blinder at 1e10 … 3.4e38 every 256th coordinate and a −100·μ client are excluded by krum, krumLp, multiKrum, bulyan, mda and flame', () => {
    const d = 8192; // n·d ≥ 2¹⁶: the default backend takes the WebAssembly path
    const base = buildCase({
      n: 9, d, b: 0, honestKind: 'gaussian', scaleExp: 0, centre: 1, spread: 0.1, sparsity: 0.6, honestDuplicate: false,
      attacks: ['mimic'], collude: false, magnitudeExp: 0, stride: 1, offset: 0, signPattern: 0, base: 0, placement: 'last', seed: 14,
    });
    const s = honestStats(base.honest);
    const poisoned = Float32Array.from(s.mean, (v) => -100 * v);
    const failures: string[] = [];
    for (let e = 10; e <= 38; e += 2) {
      const blinder = new Float32Array(d);
      for (let k = 0; k < d; k += 256) blinder[k] = Math.min(3.4028234663852886e38, 10 ** e);
      for (const order of ['blinder first', 'blinder last'] as const) {
        const rows = order === 'blinder first' ? [blinder, ...base.honest, poisoned] : [poisoned, ...base.honest, blinder];
        const hostile = [0, rows.length - 1]; // the blinder and the poisoned client
        const picks: [string, readonly number[]][] = [
          ['krum', krumWithDecision(rows, { f: 2 }).decision.selected],
          ['krumLp p=2', krumLpWithDecision(rows, { f: 2, p: 2 }).decision.selected],
          ['multiKrum', multiKrumWithDecision(rows, { f: 2 }).decision.selected],
          ['bulyan', bulyanWithDecision(rows, { f: 2 }).decision.selected],
          ['mda', mdaWithDecision(rows, { f: 2 }).decision.selected],
          ['flame', flameWithDecision(rows, { lambda: 0 }).decision.admitted],
        ];
        for (const [rule, chosen] of picks) {
          const bad = chosen.filter((i) => hostile.includes(i));
          if (bad.length > 0) failures.push(`${rule} (${order}, blinder 1e${e}) chose ${bad}`);
        }
        const S = flameWithDecision(rows, { lambda: 0 }).decision.medianNorm;
        if (!(S >= s.minNorm * (1 - 1e-5) && S <= s.maxNorm * (1 + 1e-5))) failures.push(`flame (${order}, blinder 1e${e}): S = ${S}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('geometricMedian under hostile clients (issue 14, item 2)', () => {
  it('stays within 2h·r/(h−b) of the honest mean for b < n/2 at any attacker magnitude, on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 25], maxAttackers: (n) => Math.ceil(n / 2) - 1 }), (spec) => {
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        const h = c.honest.length;
        const before = snapshot(c.rows);
        const { js, wasm } = onBackends(() => geometricMedianWithDecision(c.rows));
        expectUnchanged(c.rows, before, 'geometricMedian');
        const tolerance = 1e-5;
        const bound = (2 * h * s.radius) / (h - spec.b) + c.n * tolerance + roundingSlack(c.d, s.maxAbs, 8);
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const what = `geometricMedian (${backend}, ${r.decision.iterations} iterations, converged ${r.decision.converged})`;
          expectFinite(r.aggregate, what);
          expectFinite(r.decision.weights, `${what} weights`);
          expectWithin(r.aggregate, s.mean, bound, what);
        }
        // Both backends minimise the same Σ‖xᵢ − z‖ (the minimiser's location can be ill-conditioned
        // where the objective is flat, its value is not): equal within float32 tolerance and the
        // stopping rule's n·tolerance.
        const objective = (z: ArrayLike<number>) => c.rows.reduce((t, x) => t + dist(x, z), 0);
        const [fj, fw] = [objective(js.aggregate), objective(wasm.aggregate)];
        const agree = 1e-5 * Math.max(fj, fw) + 2 * c.n * c.n * tolerance + c.n * roundingSlack(c.d, s.maxAbs, 8);
        if (!(Math.abs(fw - fj) <= agree)) {
          throw new Error(`geometricMedian: Σ‖xᵢ − z‖ is ${fw} on wasm, ${fj} on js (the outputs are ${dist(wasm.aggregate, js.aggregate)} apart)`);
        }
      }),
      RUNS(25),
    );
  });
});

describe('geometricMedian at the edge of its breakdown point (issue 14, item 2)', () => {
  it('b = ⌈n/2⌉ − 1 colluding clients at ±3.4e38 on every coordinate, row 0 included, move it by at most 2h·r/(h−b)', () => {
    for (const n of [3, 4, 10, 11]) {
      for (const placement of ['first', 'last'] as const) {
        const spec: CaseSpec = {
          n, d: fastPathD(n) + 3, b: Math.ceil(n / 2) - 1, honestKind: 'gaussian', scaleExp: 0, centre: 1, spread: 1,
          sparsity: 0.6, honestDuplicate: false, attacks: ['huge'], collude: true, magnitudeExp: 1, stride: 1,
          offset: 0, signPattern: 2, base: 0, placement, seed: n,
        };
        const c = buildCase(spec);
        const s = honestStats(c.honest);
        const h = c.honest.length;
        const bound = (2 * h * s.radius) / (h - spec.b) + n * 1e-5 + roundingSlack(c.d, s.maxAbs, 8);
        const { js, wasm } = onBackends(() => geometricMedianWithDecision(c.rows));
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const what = `geometricMedian (${backend}, n=${n}, attackers ${placement}, ${r.decision.iterations} iterations)`;
          expectFinite(r.aggregate, what);
          expectWithin(r.aggregate, s.mean, bound, what);
        }
      }
    }
  });
});

describe('mda under hostile clients', () => {
  it('selects a subset no wider than the honest diameter, excludes far attackers, same decision on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 14], maxAttackers: (n) => Math.floor((n - 1) / 2) }), (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const { js, wasm } = onBackends(() => mdaWithDecision(c.rows, { f }));
        const exactD = exactDistances(c.rows);
        const gap = attackerGap(c);
        const d2 = [js, wasm].map((r) => diameter2(exactD, c.n, r.decision.selected));
        for (const [r, backend, dd] of [[js, 'js', d2[0]], [wasm, 'wasm', d2[1]]] as const) {
          const what = `mda (${backend})`;
          expectFinite(r.aggregate, what);
          if (!(dd <= s.diameter ** 2 * (1 + TIE_TOLERANCE) + 1e-300)) {
            throw new Error(`${what}: selected subset ${r.decision.selected} has diameter ${Math.sqrt(dd)} > honest diameter ${s.diameter}`);
          }
          expectWithin(r.aggregate, s.mean, s.diameter + s.radius + roundingSlack(c.d, s.maxAbs, 8), what);
          if (gap > s.diameter * 1.01) {
            const bad = r.decision.selected.filter((i) => c.attackerIdx.includes(i));
            if (bad.length > 0) throw new Error(`${what} selected far attacker(s) ${bad} (gap ${gap}, honest diameter ${s.diameter})`);
          }
        }
        if (!nearTie(d2[0], d2[1], 0)) throw new Error(`mda: exact diameters of the js and wasm subsets differ: ${d2[0]} vs ${d2[1]}`);
      }),
      RUNS(20),
    );
  });
});

describe('monna under hostile clients', () => {
  it('stays within the farthest honest client of a trusted honest vector; same selection on both backends', () => {
    fc.assert(
      fc.property(caseArb({ n: [3, 31], maxAttackers: (n) => Math.floor((n - 1) / 2) }), fc.boolean(), (spec, byIndex) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const trustedIndex = c.honestIdx[Math.abs(spec.seed) % c.honestIdx.length];
        const trusted = byIndex ? c.rows[trustedIndex] : Float32Array.from(s.mean);
        const options = byIndex ? { f, trustedIndex } : { f, trusted };
        const { js, wasm } = onBackends(() => monnaWithDecision(c.rows, options));
        const reach = Math.max(...c.honest.map((x) => dist(x, trusted)));
        const toT = new Float64Array(c.rows.map((x) => dist2(x, trusted)));
        const exact = lowestExact(toT, c.n - f, medianFinite(toT));
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const what = `monna (${backend})`;
          expectFinite(r.aggregate, what);
          expectWithin(r.aggregate, trusted, reach * (1 + 1e-6) + roundingSlack(c.d, s.maxAbs, 8), what);
          if (!exact.ambiguous) expect(r.decision.selected, `${what} vs the exact decision`).toEqual(exact.picks);
        }
      }),
      RUNS(20),
    );
  });
});

describe('centeredClipping under hostile clients', () => {
  it('moves at most L·τ from a sane centre (and bτ/n for L=1, τ ≥ r from the honest mean), on both backends', () => {
    fc.assert(
      fc.property(
        caseArb({ n: [2, 31], maxAttackers: (n) => n - 1 }),
        fc.constantFrom(0.5, 1, 2, 10),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        (spec, tauFactor, iterations, fromMean) => {
          const c = buildCase(spec);
          const s = honestStats(c.honest);
          const center = fromMean ? Float32Array.from(s.mean) : Float32Array.from(c.honest[0]);
          const tau = tauFactor * (s.radius > 0 ? s.radius : 1);
          if (!Number.isFinite(tau) || tau === 0) return;
          const before = snapshot(c.rows);
          const { js, wasm } = onBackends(() => centeredClippingWithDecision(c.rows, { tau, iterations, center }));
          expectUnchanged(c.rows, before, 'centeredClipping');
          const slack = roundingSlack(c.d, s.maxAbs + iterations * tau, 8 * iterations);
          for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
            const what = `centeredClipping (${backend}, τ=${tau}, L=${iterations})`;
            expectFinite(r.aggregate, what);
            expectWithin(r.aggregate, center, iterations * tau * (1 + 1e-6) + slack, what);
            if (fromMean && iterations === 1 && tau >= s.radius) {
              expectWithin(r.aggregate, center, (spec.b * tau) / c.n * (1 + 1e-6) + slack, `${what}, one step from the honest mean`);
            }
          }
          const e = dist(wasm.aggregate, js.aggregate);
          const agree = 1e-5 * (norm(center) + iterations * tau) + slack;
          if (!(e <= agree)) throw new Error(`centeredClipping: wasm and js differ by ${e}, more than ${agree}`);
        },
      ),
      RUNS(25),
    );
  });

  it('rejects a non-finite centre and keeps a huge finite one finite or refuses it (issue 14, item 7)', () => {
    const rows = buildCase({
      n: 8, d: 9000, b: 0, honestKind: 'gaussian', scaleExp: 0, centre: 1, spread: 1, sparsity: 0.6,
      honestDuplicate: false, attacks: ['mimic'], collude: false, magnitudeExp: 0, stride: 1, offset: 0,
      signPattern: 0, base: 0, placement: 'last', seed: 7,
    }).rows;
    for (const v of [NaN, Infinity, -Infinity]) {
      const center = new Float32Array(9000);
      center[4500] = v;
      expect(() => centeredClippingWithDecision(rows, { center })).toThrow(RobustAggError);
    }
    const huge = new Float32Array(9000).fill(3.4e38);
    try {
      expectFinite(centeredClippingWithDecision(rows, { center: huge }).aggregate, 'centeredClipping from a 3.4e38 centre');
    } catch (e) {
      expect(e).toBeInstanceOf(RobustAggError);
    }
  });
});

describe('caf and dnc under hostile clients', () => {
  /** Cases whose attackers all sit ≥ 10⁴·(r + δ) away from every honest client. */
  const separated = caseArb({ n: [5, 25], maxAttackers: (n) => Math.floor((n - 1) / 2), attacks: FAR_ATTACKS });

  it('caf: filters separated attackers out (‖out − μ‖ ≤ r) on both backends; finite always', () => {
    fc.assert(
      fc.property(separated, (spec) => {
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const { js, wasm } = onBackends(() => cafWithDecision(c.rows, { f }));
        const gap = attackerGap(c);
        const far = gap > 0 && gap >= 1e4 * (s.radius + s.diameter);
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const what = `caf (${backend}, ${r.decision.iterations} iterations)`;
          expectFinite(r.aggregate, what);
          if (far) expectWithin(r.aggregate, s.mean, s.radius * (1 + 1e-5) + roundingSlack(c.d, s.maxAbs, 8), what);
        }
      }),
      RUNS(20),
    );
  });

  it('dnc: removes colluding separated attackers, same seed same bits, same selection on both backends', () => {
    fc.assert(
      fc.property(separated, (spec0) => {
        const spec = { ...spec0, collude: true };
        const c = buildCase(spec);
        const f = declaredF(spec, Math.floor((c.n - 1) / 2));
        const s = honestStats(c.honest);
        const options = { f, seed: spec.seed, subsampleDimension: c.d, iterations: 2 };
        const { js, wasm } = onBackends(() => dncWithDecision(c.rows, options));
        const again = dncWithDecision(c.rows, options);
        expectSameBits(again.aggregate, dncWithDecision(c.rows, options).aggregate, 'dnc twice with the same seed');
        const gap = attackerGap(c);
        const far = gap > 0 && gap >= 1e4 * (s.radius + s.diameter);
        for (const [r, backend] of [[js, 'js'], [wasm, 'wasm']] as const) {
          const what = `dnc (${backend})`;
          expectFinite(r.aggregate, what);
          if (far) {
            const bad = r.decision.selected.filter((i) => c.attackerIdx.includes(i));
            if (bad.length > 0) throw new Error(`${what} kept separated attacker(s) ${bad}`);
            expectWithin(r.aggregate, s.mean, s.radius * (1 + 1e-5) + roundingSlack(c.d, s.maxAbs, 8), what);
          }
        }
        // With f = b the removed clients are exactly the attackers; with f > b, which honest
        // clients are also removed is decided by projections ~(r/B)² of the attackers' and is
        // below float32 resolution.
        if (far && f === spec.b) expect(wasm.decision.selected).toEqual(js.decision.selected);
      }),
      RUNS(15),
    );
  });
});
