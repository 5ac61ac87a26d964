// FLDetector (src/aggregators/fl-detector.ts): the timeline of its state, round-by-round
// simulations on a quadratic loss where attackers are flagged, hostile clients, and the state as a
// value (never mutated, survives structuredClone and JSON).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coordinateMedian } from '../../src/aggregators/coordinate-median.js';
import {
  flDetector,
  flDetectorStateFromJSON,
  flDetectorStateToJSON,
  flDetectorWithDecision,
  type FlDetectorAggregation,
  type FlDetectorOptions,
  type FlDetectorState,
} from '../../src/aggregators/fl-detector.js';
import { mean } from '../../src/aggregators/mean.js';
import { createRng, type Rng } from '../../src/core/random.js';
import { cloneRows } from '../helpers/data.js';
import { expectError, expectFinite, HUGE } from '../helpers/hostile.js';
import { describeOptionReading } from '../helpers/option-checks.js';

/**
 * A federated run on F(w) = ½ Σₖ hₖ (wₖ − w*ₖ)², hₖ in [0.5, 2]: honest client i sends
 * ∇F(w) + noise·N(0, 1) (fresh each round), attacker i sends `attack(honestGradient, round, i)`.
 * The server steps w ← w − lr·aggregate. Returns every round's result.
 */
function simulate(spec: {
  n: number;
  d: number;
  attackers: readonly number[];
  attack: (g: Float32Array, round: number, i: number, rng: Rng) => Float32Array;
  rounds: number;
  window: number;
  seed: number;
  noise?: number;
  lr?: number;
  extra?: Partial<FlDetectorOptions>;
  /** Every hₖ equal to this (H = cI) instead of random in [0.5, 2]. */
  curvature?: number;
}): FlDetectorAggregation[] {
  const rng = createRng(spec.seed);
  const h = Float64Array.from({ length: spec.d }, () => spec.curvature ?? 0.5 + 1.5 * rng.next());
  const target = Float64Array.from({ length: spec.d }, () => 3 * rng.gaussian());
  let w = new Float32Array(spec.d);
  let state: FlDetectorState | undefined;
  const results: FlDetectorAggregation[] = [];
  for (let round = 0; round < spec.rounds; round++) {
    const updates = Array.from({ length: spec.n }, (_, i) => {
      const g = Float32Array.from(w, (wk, k) => h[k] * (wk - target[k]) + (spec.noise ?? 0.01) * rng.gaussian());
      return spec.attackers.includes(i) ? spec.attack(g, round, i, rng) : g;
    });
    const result = flDetectorWithDecision(updates, { globalModel: w, state, window: spec.window, seed: spec.seed + round, ...spec.extra });
    results.push(result);
    state = result.state;
    w = Float32Array.from(w, (wk, k) => wk - (spec.lr ?? 0.05) * result.aggregate[k]);
  }
  return results;
}

const signFlip = (g: Float32Array) => g.map((v) => -v);

describe('flDetector', () => {
  it('a first round has nothing to predict: the coordinate median of all clients, and a state', () => {
    const updates = [Float32Array.of(1, 2), Float32Array.of(1.1, 2.1), Float32Array.of(-9, 40)];
    const { aggregate, decision, state } = flDetectorWithDecision(updates, { globalModel: new Float32Array(2), seed: 1 });
    expect(Array.from(aggregate)).toEqual(Array.from(coordinateMedian(updates)));
    expect(decision).toMatchObject({ predicted: false, attackDetected: false, clusters: 0, flagged: [], selected: [0, 1, 2] });
    expect(decision.scores).toBeNull();
    expect(state).toMatchObject({ version: 1, n: 3, d: 2, round: 1, modelDiffs: [], aggregateDiffs: [], roundScores: [] });
    expect(Array.from(state.previousAggregate!)).toEqual(Array.from(aggregate));
  });

  it('follows the timeline: first prediction in round N + 1, first detection in round 2N (N = 3)', () => {
    const results = simulate({ n: 6, d: 8, attackers: [0], attack: signFlip, rounds: 9, window: 3, seed: 5 });
    expect(results.map((r) => r.decision.predicted)).toEqual([false, false, false, false, true, true, true, true, true]);
    expect(results.map((r) => r.decision.scores !== null)).toEqual([false, false, false, false, false, false, true, true, true]);
    expect(results.map((r) => r.state.modelDiffs.length)).toEqual([0, 1, 2, 3, 3, 3, 3, 3, 3]);
    expect(results.map((r) => r.state.roundScores.length)).toEqual([0, 0, 0, 0, 1, 2, 3, 3, 3]);
  });

  it('hand-computed round score: exact predictions on a quadratic give 0 to honest clients and the whole share to a sign-flipper', () => {
    // No noise and H = 2I: every honest client sends g^t = 2(w^t − w*), the median is g^t, so each
    // pair has y = g^t − g^{t−1} = 2s and L-BFGS gives σ = 2, Ĥ = 2I = H exactly. Then
    // ĝ = g^{t−1} + 2Δw = g^t for an honest client (error 0 up to float32 rounding), while the
    // sign-flipper sent −g^{t−1} and sends −g^t: its error ‖−g^{t−1} + 2Δw + g^t‖ = 2‖2Δw‖ is the only
    // non-zero one, so its share is 1.
    const results = simulate({ n: 5, d: 4, attackers: [3], attack: signFlip, rounds: 6, window: 2, seed: 9, noise: 0, lr: 0.1, curvature: 2 });
    const scored = results.filter((r) => r.decision.roundScores !== null);
    expect(scored.length).toBeGreaterThan(0);
    for (const r of scored) {
      const s = r.decision.roundScores!;
      for (const i of [0, 1, 2, 4]) expect(s[i]).toBeLessThan(1e-5);
      expect(s[3]).toBeGreaterThan(1 - 1e-4);
    }
  });

  it('flags consistent sign-flipping attackers round after round, and only them (n = 10, 3 attackers)', () => {
    for (const seed of [1, 2, 3]) {
      const results = simulate({ n: 10, d: 30, attackers: [1, 4, 7], attack: signFlip, rounds: 24, window: 5, seed });
      const detecting = results.slice(10);
      for (const r of detecting) {
        expect(r.decision.attackDetected).toBe(true);
        expect(r.decision.flagged).toEqual([1, 4, 7]);
        expect(r.decision.selected).toEqual([0, 2, 3, 5, 6, 8, 9]);
      }
    }
  });

  it('flags a scaled-noise attacker whose updates jump from round to round (the paper’s untargeted attacks)', () => {
    const results = simulate({
      n: 8, d: 20, attackers: [0, 5], rounds: 20, window: 4, seed: 4,
      attack: (g, _round, _i, rng) => g.map((v) => v + 3 * rng.gaussian()),
    });
    for (const r of results.slice(8)) expect(r.decision.flagged).toEqual([0, 5]);
  });

  it('is equivariant under a permutation of the clients applied in every round (flags follow the clients)', () => {
    const n = 9;
    const perm = [4, 7, 0, 8, 2, 6, 1, 3, 5]; // position p holds original client perm[p]
    const rng = createRng(21);
    const h = Float64Array.from({ length: 12 }, () => 0.5 + rng.next());
    let w = new Float32Array(12);
    let a: FlDetectorState | undefined;
    let b: FlDetectorState | undefined;
    for (let round = 0; round < 12; round++) {
      const updates = Array.from({ length: n }, (_, i) => {
        const g = Float32Array.from(w, (wk, k) => h[k] * (wk - 1) + 0.01 * rng.gaussian());
        return i === 2 || i === 5 ? g.map((v) => -v) : g;
      });
      const ra = flDetectorWithDecision(updates, { globalModel: w, state: a, window: 3, seed: round });
      const rb = flDetectorWithDecision(perm.map((i) => updates[i]), { globalModel: w, state: b, window: 3, seed: round });
      a = ra.state;
      b = rb.state;
      expect(rb.decision.flagged.map((p) => perm[p]).sort((x, y) => x - y)).toEqual(ra.decision.flagged);
      if (ra.decision.scores) for (let p = 0; p < n; p++) expect(rb.decision.scores![p]).toBeCloseTo(ra.decision.scores[perm[p]], 12);
      if (round >= 6) expect(ra.decision.flagged).toEqual([2, 5]);
      w = Float32Array.from(w, (wk, k) => wk - 0.05 * ra.aggregate[k]);
    }
  });

  it('detects no attack among honest clients with similar noise (most rounds)', () => {
    const results = simulate({ n: 12, d: 30, attackers: [], attack: signFlip, rounds: 22, window: 5, seed: 11, noise: 0.05 });
    const detecting = results.slice(10);
    const alarms = detecting.filter((r) => r.decision.attackDetected).length;
    expect(alarms).toBeLessThanOrEqual(3);
  });

  it('falls back to ĝᵢ = gᵢ^{t−1} when the model never moves (every s = 0, Ĥ undefined)', () => {
    const model = Float32Array.of(1, 1);
    let state: FlDetectorState | undefined;
    let last: FlDetectorAggregation | undefined;
    for (let round = 0; round < 4; round++) {
      const updates = [Float32Array.of(1, 0), Float32Array.of(1, 0.5), Float32Array.of(round, 0)];
      last = flDetectorWithDecision(updates, { globalModel: model, state, window: 1, seed: round });
      state = last.state;
    }
    // Errors ‖g^{t−1} − g^t‖: 0, 0 and 1 for the client whose update moves by 1 each round.
    expect(last!.decision.hvpFallback).toBe(true);
    expect(Array.from(last!.decision.roundScores!)).toEqual([0, 0, 1]);
  });

  it('aggregates with the caller’s rule: the mean of the clients not flagged', () => {
    const results = simulate({ n: 6, d: 10, attackers: [2], attack: signFlip, rounds: 10, window: 3, seed: 2, extra: { aggregator: (u) => mean(u) } });
    const last = results[results.length - 1];
    expect(last.decision.flagged).toEqual([2]);
    expect(last.decision.selected).toEqual([0, 1, 3, 4, 5]);
  });

  it('drops a client that sends NaN, gives it round score 1 and keeps its last finite update in the state', () => {
    let state: FlDetectorState | undefined;
    const rng = createRng(1);
    let w = new Float32Array(3);
    let result: FlDetectorAggregation | undefined;
    for (let round = 0; round < 6; round++) {
      const updates = Array.from({ length: 5 }, () => Float32Array.from(w, (wk) => wk - 1 + 0.01 * rng.gaussian()));
      if (round === 5) updates[2] = Float32Array.of(NaN, 0, 0);
      result = flDetectorWithDecision(updates, { globalModel: w, state, window: 2, seed: round });
      if (round === 4) expect(Array.from(result.state.previousUpdates![2])).toEqual(Array.from(updates[2]));
      if (round < 5) state = result.state;
      w = Float32Array.from(w, (wk, k) => wk - 0.1 * result!.aggregate[k]);
    }
    expect(result!.decision.dropped).toEqual([2]);
    expect(result!.decision.selected).not.toContain(2);
    expect(result!.decision.roundScores![2]).toBe(1);
    expect(Array.from(result!.state.previousUpdates![2])).toEqual(Array.from(state!.previousUpdates![2]));
    expectFinite(result!.aggregate);
  });

  it('stays finite with hostile attackers (3.4e38, sparse 1e30, alternating signs) at any position; inputs unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 9 }), fc.integer({ min: 1, max: 6 }), fc.integer(), fc.constantFrom('huge', 'blinder', 'alternate'), (n, d, seed, kind) => {
        const rng = createRng(seed);
        const attacker = rng.nextInt(n);
        let w = new Float32Array(d);
        let state: FlDetectorState | undefined;
        for (let round = 0; round < 9; round++) {
          const rows = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.gaussian()));
          const sign = round % 2 === 0 ? 1 : -1;
          rows[attacker] =
            kind === 'huge' ? new Float32Array(d).fill(sign * HUGE) : kind === 'blinder' ? Float32Array.from({ length: d }, (_, k) => (k === 0 ? 1e30 : 0)) : rows[attacker].map((v) => sign * 1e20 * v);
          const before = cloneRows(rows);
          const r = flDetectorWithDecision(rows, { globalModel: w, state, window: 2, seed: round });
          rows.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(before[i])));
          expectFinite(r.aggregate, `flDetector round ${round}`);
          if (r.decision.scores) expect(Array.from(r.decision.scores).every((s) => s >= 0 && s <= 1)).toBe(true);
          state = r.state;
          w = Float32Array.from(w, (wk, k) => wk - 0.01 * r.aggregate[k]);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('never mutates the state passed in; structuredClone and JSON round trips give the same next round', () => {
    const results = simulate({ n: 6, d: 5, attackers: [0], attack: signFlip, rounds: 8, window: 2, seed: 3 });
    const state = results[results.length - 1].state;
    const snapshot = JSON.stringify(flDetectorStateToJSON(state));
    const updates = Array.from({ length: 6 }, (_, i) => Float32Array.from({ length: 5 }, (_, k) => Math.sin(i + k)));
    const model = Float32Array.from({ length: 5 }, (_, k) => 0.1 * k);
    const run = (s: FlDetectorState) => flDetectorWithDecision(updates, { globalModel: model, state: s, window: 2, seed: 42 });
    const a = run(state);
    expect(JSON.stringify(flDetectorStateToJSON(state))).toBe(snapshot);
    const b = run(structuredClone(state));
    const c = run(flDetectorStateFromJSON(JSON.parse(snapshot)));
    for (const other of [b, c]) {
      expect(Array.from(other.aggregate)).toEqual(Array.from(a.aggregate));
      expect(other.decision.flagged).toEqual(a.decision.flagged);
      expect(Array.from(other.decision.scores ?? [])).toEqual(Array.from(a.decision.scores ?? []));
    }
    expect(JSON.stringify(flDetectorStateToJSON(b.state))).toBe(JSON.stringify(flDetectorStateToJSON(a.state)));
  });

  it('same seed, same result; the output is a new array even when the aggregator returns an input', () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6)];
    const out = flDetector(rows, { globalModel: new Float32Array(2), seed: 1, aggregator: (u) => u[0] });
    expect(out).not.toBe(rows[0]);
    expect(Array.from(out)).toEqual([1, 2]);
  });

  it('rejects a state of another shape, a bad aggregator output and bad options, naming them', () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
    const { state } = flDetectorWithDecision(rows, { globalModel: new Float32Array(2), seed: 1 });
    expectError(() => flDetector([...rows, rows[0]], { globalModel: new Float32Array(2), seed: 1, state }), 'INVALID_OPTION', /state was built for n=2/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(3), seed: 1 }), 'INVALID_OPTION', /globalModel/);
    expectError(() => flDetector(rows, { seed: 1 } as never), 'INVALID_OPTION', /globalModel .* is required/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2) } as never), 'INVALID_OPTION', /seed/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, window: 0 }), 'INVALID_OPTION', /window/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, window: 101 }), 'INVALID_OPTION', /window/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, maxClusters: 1 }), 'INVALID_OPTION', /maxClusters/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, references: 0 }), 'INVALID_OPTION', /references/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, aggregator: () => new Float32Array(3) }), 'INVALID_OPTION', /aggregator must return/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, aggregator: () => Float32Array.of(NaN, 0) }), 'INVALID_OPTION', /aggregator must return/);
    expectError(() => flDetector(rows, { globalModel: new Float32Array(2), seed: 1, state: { ...state, previousModel: Float32Array.of(NaN, 0) } }), 'INVALID_OPTION', /previousModel/);
    expectError(() => flDetectorStateFromJSON({ ...flDetectorStateToJSON(state), d: 0 }), 'INVALID_OPTION', /n and d/);
  });
});

describeOptionReading({
  name: 'flDetector',
  call: (u, o) => flDetectorWithDecision(u, o as FlDetectorOptions),
  updates: [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(0, 1)],
  valid: { globalModel: new Float32Array(2), seed: 1 },
  getter: { key: 'window', values: [3, 0] },
  required: true,
});
