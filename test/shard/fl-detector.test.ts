// Sharded FLDetector = single call, round after round: the per-coordinate state stays with the
// shards (slice.flDetector, serialised with flDetectorStateToJSON between rounds), the round
// scores with the coordinator (decision.state, serialised with stringifyShardMessage). The same
// clients are flagged and kept, the same coordinate-wise median is written (bit for bit, whatever
// S), each shard's state equals the columns of the single call's state, for S ∈ {1, 2, 7}.
import { describe, expect, it } from 'vitest';
import {
  flDetectorStateFromJSON,
  flDetectorStateToJSON,
  flDetectorWithDecision,
  type FlDetectorDecision,
  type FlDetectorState,
} from '../../src/index.js';
import { createRng } from '../../src/core/random.js';
import {
  aggregateSharded,
  createShardCoordinator,
  parseShardMessage,
  reduceShardStatistics,
  shardCombine,
  shardFlDetectorState,
  shardStatistics,
  shardRanges,
  stringifyShardMessage,
  type FlDetectorShardedState,
  type ShardCoordinator,
  type ShardSlice,
} from '../../src/shard/index.js';
import { HUGE } from '../helpers/hostile.js';

type Update = { window: number; clients: number[]; previousRound: number | null };

function sameBits(a: ArrayLike<number> & { buffer: ArrayBufferLike }, b: ArrayLike<number> & { buffer: ArrayBufferLike }): boolean {
  return Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
}

function expectClose(a: ArrayLike<number> | null, b: ArrayLike<number> | null, tolerance: number): void {
  if (b === null) return expect(a).toBeNull();
  expect(a).not.toBeNull();
  for (let k = 0; k < b.length; k++) expect(Math.abs((a as ArrayLike<number>)[k] - b[k])).toBeLessThanOrEqual(tolerance);
}

/**
 * A run on F(w) = ½ Σ hₖ(wₖ − w*ₖ)²: honest clients send the gradient plus noise, clients 1, 4, 7
 * flip its sign; client 5 sends NaN in the last coordinate in round 3; client 9 sends a huge
 * value in round 6 (finite hostile). The single call and the sharded run step the same model.
 */
function run(shards: number, rounds: number, window: number, d: number): void {
  const n = 10;
  const rng = createRng(5);
  const h = Float64Array.from({ length: d }, () => 0.5 + 1.5 * rng.next());
  const target = Float64Array.from({ length: d }, () => 3 * rng.gaussian());
  let w = new Float32Array(d);
  let single: FlDetectorState | undefined;
  let coordinatorText: string | undefined;
  let shardJson: (ReturnType<typeof flDetectorStateToJSON> | undefined)[] = shardRanges(d, shards).map(() => undefined);
  let detected = 0;
  let predicted = 0;
  for (let round = 0; round < rounds; round++) {
    const updates = Array.from({ length: n }, (_, i) => {
      const g = Float32Array.from(w, (wk, k) => h[k] * (wk - target[k]) + 0.01 * rng.gaussian());
      if ([1, 4, 7].includes(i)) return g.map((v) => -v);
      if (i === 5 && round === 3) g[d - 1] = NaN;
      if (i === 9 && round === 6) g[0] = HUGE;
      return g;
    });
    const options = { window, seed: 40 + round };
    const one = flDetectorWithDecision(updates, { ...options, globalModel: w, state: single });
    single = one.state;

    const state = coordinatorText === undefined ? undefined : (parseShardMessage(coordinatorText) as FlDetectorShardedState);
    const slices: ShardSlice[] = shardRanges(d, shards).map(({ offset, width }, k) => ({
      offset,
      d,
      rows: updates.map((u) => u.slice(offset, offset + width)),
      vectors: { globalModel: w.slice(offset, offset + width) },
      ...(shardJson[k] === undefined ? {} : { flDetector: flDetectorStateFromJSON(shardJson[k]!) }),
    }));
    const result = runSync(slices, { ...options, globalModel: true, ...(state === undefined ? {} : { state }) });
    const decision = result.decision as unknown as FlDetectorDecision & { state: FlDetectorShardedState; stateUpdate: Update };
    const ctx = `S=${shards}, round ${round}`;
    expect(decision.dropped, ctx).toEqual(one.decision.dropped);
    expect(decision.selected, ctx).toEqual(one.decision.selected);
    expect(decision.flagged, ctx).toEqual(one.decision.flagged);
    expect(decision.clusters, ctx).toBe(one.decision.clusters);
    expect(decision.predicted, ctx).toBe(one.decision.predicted);
    expect(decision.hvpFallback, ctx).toBe(one.decision.hvpFallback);
    expectClose(decision.roundScores, one.decision.roundScores, shards === 1 ? 0 : 1e-9);
    expectClose(decision.scores, one.decision.scores, shards === 1 ? 0 : 1e-9);
    const aggregate = new Float32Array(d);
    result.shards.forEach((part, k) => aggregate.set(part, slices[k].offset));
    expect(sameBits(aggregate, one.aggregate), ctx).toBe(true);
    if (one.decision.predicted) predicted++;
    if (one.decision.attackDetected) detected++;

    // The next round's states, serialised: each shard's is the columns of the single call's.
    const next = slices.map((s, k) => shardFlDetectorState(s, result.shards[k], decision.stateUpdate));
    next.forEach((st, k) => {
      const { offset } = slices[k];
      const width = slices[k].rows[0].length;
      const cut = (v: Float32Array | Float64Array) => v.slice(offset, offset + width);
      expect(sameBits(st.previousModel!, cut(one.state.previousModel!)), ctx).toBe(true);
      expect(sameBits(st.previousAggregate!, cut(one.state.previousAggregate!)), ctx).toBe(true);
      st.previousUpdates!.forEach((u, i) => expect(sameBits(u, cut(one.state.previousUpdates![i])), `${ctx}, client ${i}`).toBe(true));
      expect(st.modelDiffs.length).toBe(one.state.modelDiffs.length);
      st.modelDiffs.forEach((s2, j) => expect(sameBits(s2, cut(one.state.modelDiffs[j])), ctx).toBe(true));
      st.aggregateDiffs.forEach((y, j) => expect(sameBits(y, cut(one.state.aggregateDiffs[j])), ctx).toBe(true));
    });
    expect(decision.state.roundScores.length).toBe(one.state.roundScores.length);
    shardJson = next.map((st) => JSON.parse(JSON.stringify(flDetectorStateToJSON(st))));
    coordinatorText = stringifyShardMessage(decision.state);
    w = Float32Array.from(w, (wk, k) => wk - 0.05 * one.aggregate[k]);
  }
  expect(predicted).toBeGreaterThan(0);
  expect(detected).toBeGreaterThan(0);
}

/** The coordinator loop in this process, every ask and answer through the JSON message format. */
function runSync(slices: ShardSlice[], options: object): { decision: unknown; shards: Float32Array[] } {
  const coordinator = createShardCoordinator('flDetector', options, slices[0].rows.length, slices[0].d);
  return drive(coordinator, slices);
}

function drive(coordinator: ShardCoordinator, slices: ShardSlice[]): { decision: unknown; shards: Float32Array[] } {
  let step = coordinator.next();
  while (!step.done) {
    const { asks } = step;
    const parts = slices.map((s) => parseShardMessage(stringifyShardMessage(shardStatistics(s, parseShardMessage(stringifyShardMessage(asks)) as typeof asks))) as Float64Array[]);
    step = coordinator.next(reduceShardStatistics(asks, parts));
  }
  const { plan } = step;
  return { decision: step.decision, shards: slices.map((s) => shardCombine(s, plan)) };
}

describe('flDetector sharded across rounds', () => {
  for (const shards of [1, 2, 7]) {
    it(`S = ${shards}: 14 rounds, window 3, equal to the single call (states serialised between rounds)`, () => {
      run(shards, 14, 3, 41);
    });
  }

  it('refuses a caller aggregator, a state from another round on a shard, and a missing shard state', async () => {
    const rows = [Float32Array.of(1, 2, 3), Float32Array.of(1, 2, 4), Float32Array.of(0, 2, 3)];
    const slices = shardRanges(3, 2).map(({ offset, width }) => ({
      offset,
      d: 3,
      rows: rows.map((r) => r.slice(offset, offset + width)),
      vectors: { globalModel: new Float32Array(width) },
    }));
    await expect(aggregateSharded('flDetector', slices, { globalModel: true, seed: 1, aggregator: () => new Float32Array(3) })).rejects.toThrow(
      /only the default aggregator/,
    );
    const first = await aggregateSharded('flDetector', slices, { globalModel: true, seed: 1, window: 1 });
    const { state, stateUpdate } = first.decision as unknown as { state: FlDetectorShardedState; stateUpdate: Update };
    const states = slices.map((s, k) => shardFlDetectorState(s, first.shards[k], stateUpdate));
    // Round 2 without the shards' states, then with one shard's state from round 1 relabelled.
    await expect(aggregateSharded('flDetector', slices, { globalModel: true, seed: 1, window: 1, state })).resolves.toBeDefined(); // nothing to predict yet
    const second = await aggregateSharded(
      'flDetector',
      slices.map((s, k) => ({ ...s, flDetector: states[k] })),
      { globalModel: true, seed: 1, window: 1, state },
    );
    const update2 = (second.decision as unknown as { stateUpdate: Update }).stateUpdate;
    const states2 = slices.map((s, k) => shardFlDetectorState({ ...s, flDetector: states[k] }, second.shards[k], update2));
    const state2 = (second.decision as unknown as { state: FlDetectorShardedState }).state;
    expect(state2.pairs).toBe(1);
    await expect(aggregateSharded('flDetector', slices, { globalModel: true, seed: 1, window: 1, state: state2 })).rejects.toThrow(/holds no FLDetector state/);
    await expect(
      aggregateSharded('flDetector', slices.map((s, k) => ({ ...s, flDetector: k === 0 ? states[0] : states2[1] })), { globalModel: true, seed: 1, window: 1, state: state2 }),
    ).rejects.toThrow(/round 1, the coordinator's is round 2/);
    const tooMany = createShardCoordinator('flDetector', { globalModel: true, seed: 1, window: 1, state: { ...state2, round: 5, pairs: 2 } }, 3, 3);
    tooMany.next();
    expect(() => tooMany.next([new Float64Array(3)])).toThrow(/state holds 2 pairs, more than window=1/);
  });
});
