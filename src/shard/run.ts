import type { Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, requireInteger } from '../core/options.js';
import { createShardCoordinator, type ShardRuleName } from './coordinator.js';
import {
  reduceShardStatistics,
  shardCombine,
  shardStatistics,
  type ShardAsk,
  type ShardCombinePlan,
  type ShardSlice,
} from './protocol.js';

/**
 * A coordinate range of the d columns: shard s holds [offset, offset + width).
 *
 * @category Sharding
 */
export interface ShardRange {
  /** First column. */
  readonly offset: number;
  /** Number of columns (≥ 1). */
  readonly width: number;
}

/**
 * Splits d columns into `shards` contiguous ranges of ⌈d/S⌉ columns (the last one ragged), in
 * order. Fewer ranges come back when d < S·⌈d/S⌉ leaves later ones empty.
 *
 * @param d - number of columns, an integer ≥ 1.
 * @param shards - number of shards, an integer in [1, d].
 * @returns the ranges, covering [0, d) without overlap.
 * @example
 * ```ts
 * import { shardRanges } from 'robust-agg/shard';
 *
 * console.log(shardRanges(10, 3)); // [{ offset: 0, width: 4 }, { offset: 4, width: 4 }, { offset: 8, width: 2 }]
 * ```
 * @category Sharding
 */
export function shardRanges(d: number, shards: number): ShardRange[] {
  if (!Number.isSafeInteger(d) || d < 1) throw new RobustAggError('INVALID_OPTION', `shardRanges: d must be an integer ≥ 1, got ${describeValue(d)}`);
  requireInteger('shardRanges', 'shards', shards, 1, d);
  const size = Math.ceil(d / shards);
  const out: ShardRange[] = [];
  for (let offset = 0; offset < d; offset += size) out.push({ offset, width: Math.min(size, d - offset) });
  return out;
}

/**
 * Where the shards of a sharded aggregation run: worker processes on one machine
 * ({@link createProcessShardEngine}), a job queue on many (the BullMQ engine of
 * examples/sharded/), or anything else that can run {@link shardStatistics} and
 * {@link shardCombine} next to each shard's columns. The coordinator
 * ({@link runShardedAggregation}) sees only these two calls.
 *
 * @typeParam R - what a shard's combine returns (its output columns, a file name, …).
 * @category Sharding
 */
export interface ShardEngine<R = unknown> {
  /** Number of shards. */
  readonly shards: number;
  /**
   * Runs {@link shardStatistics} with `asks` on every shard; resolves with each shard's answer, in
   * shard order. Any shard order of execution, retries and duplicate runs are fine (the answers are
   * pure functions of the shard and the asks).
   *
   * @param asks - the round's asks.
   * @param round - the round's number (0, 1, …), e.g. for job ids.
   */
  statistics(asks: readonly ShardAsk[], round: number): Promise<Float64Array[][]>;
  /**
   * Runs {@link shardCombine} with `plan` on every shard; resolves with each shard's result, in order.
   *
   * @param plan - the coordinator's combine plan.
   */
  combine(plan: ShardCombinePlan): Promise<R[]>;
}

/**
 * The outcome of a sharded aggregation.
 *
 * @typeParam R - what each shard's combine returned.
 * @category Sharding
 */
export interface ShardedAggregation<R = Float32Array> {
  /** Each shard's result of the combine, in shard order (the aggregate's columns, or where they were written). */
  readonly shards: R[];
  /** The rule's decision (clients selected, weights, …), as the single call reports it. */
  readonly decision: Decision;
  /** The plan every shard combined with. */
  readonly plan: ShardCombinePlan;
  /** Number of statistics rounds before the combine. */
  readonly rounds: number;
}

/**
 * Runs a sharded aggregation on an {@link ShardEngine}: the coordinator loop (rounds of statistics,
 * reduced here; the decision; one combine on every shard). Only n- and n²-sized arrays pass
 * through this process.
 *
 * @param engine - where the shards run.
 * @param rule - one of the sharded rules (see {@link createShardCoordinator}).
 * @param options - the rule's options, vectors given as `true`.
 * @param n - number of clients.
 * @param d - length of the updates (all shards together).
 * @returns the decision, the plan and each shard's combine result.
 * @example
 * ```ts
 * import { runShardedAggregation, shardCombine, shardStatistics, type ShardEngine } from 'robust-agg/shard';
 *
 * // An engine of two in-memory shards (a real one would run them elsewhere).
 * const slices = [
 *   { offset: 0, d: 3, rows: [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6)] },
 *   { offset: 2, d: 3, rows: [Float32Array.of(7), Float32Array.of(8), Float32Array.of(90)] },
 * ];
 * const engine: ShardEngine<Float32Array> = {
 *   shards: 2,
 *   statistics: async (asks) => slices.map((s) => shardStatistics(s, asks)),
 *   combine: async (plan) => slices.map((s) => shardCombine(s, plan)),
 * };
 * const result = await runShardedAggregation(engine, 'coordinateMedian', {}, 3, 3);
 * console.log(result.shards); // [Float32Array [3, 4], Float32Array [8]]
 * ```
 * @category Sharding
 */
export async function runShardedAggregation<R>(
  engine: ShardEngine<R>,
  rule: ShardRuleName,
  options: object | undefined,
  n: number,
  d: number,
): Promise<ShardedAggregation<R>> {
  const coordinator = createShardCoordinator(rule, options, n, d);
  let step = coordinator.next();
  let rounds = 0;
  while (!step.done) {
    const parts = await engine.statistics(step.asks, rounds);
    if (!Array.isArray(parts) || parts.length !== engine.shards) {
      throw new RobustAggError('LENGTH_MISMATCH', `${rule}: the engine answered for ${describeValue(parts?.length)} shards, not ${engine.shards}`);
    }
    rounds++;
    step = coordinator.next(reduceShardStatistics(step.asks, parts));
  }
  const shards = await engine.combine(step.plan);
  return { shards, decision: step.decision, plan: step.plan, rounds };
}

/**
 * A sharded aggregation in this process over slices already in memory: the reference the engines
 * are tested against, and the simplest way to see the decomposition. Every slice holds all n
 * clients; together the slices cover [0, d) (any order).
 *
 * @param rule - one of the sharded rules (see {@link createShardCoordinator}).
 * @param slices - the shards' columns (see {@link ShardSlice}).
 * @param options - the rule's options, vectors given as `true` and held in the slices.
 * @returns the decision and each slice's columns of the aggregate.
 * @example
 * ```ts
 * import { geometricMedianWithDecision } from 'robust-agg';
 * import { aggregateSharded } from 'robust-agg/shard';
 *
 * const updates = [Float32Array.of(0, 0, 1), Float32Array.of(1, 0, 1), Float32Array.of(0, 1, 1), Float32Array.of(9, 9, 9)];
 * const slices = [0, 2].map((offset) => ({ offset, d: 3, rows: updates.map((u) => u.slice(offset, offset + 2)) }));
 * const sharded = await aggregateSharded('geometricMedian', slices);
 * const single = geometricMedianWithDecision(updates);
 * console.log(sharded.shards, single.aggregate); // the same values (to float64 rounding of the weights)
 * ```
 * @category Sharding
 */
export async function aggregateSharded(
  rule: ShardRuleName,
  slices: readonly ShardSlice[],
  options?: object,
): Promise<ShardedAggregation<Float32Array>> {
  if (!Array.isArray(slices) || slices.length === 0) throw new RobustAggError('EMPTY_UPDATES', `${rule}: no shards given`);
  const n = slices[0].rows.length;
  const d = slices[0].d;
  let covered = 0;
  for (const s of slices) {
    if (s.rows.length !== n || s.d !== d) {
      throw new RobustAggError('LENGTH_MISMATCH', `${rule}: every shard must hold the same n=${n} clients of d=${d}`);
    }
    covered += s.rows[0]?.length ?? 0;
  }
  if (covered !== d) throw new RobustAggError('LENGTH_MISMATCH', `${rule}: the shards cover ${covered} columns, not d=${d}`);
  return runShardedAggregation<Float32Array>(
    {
      shards: slices.length,
      statistics: async (asks) => slices.map((s) => shardStatistics(s, asks)),
      combine: async (plan) => slices.map((s) => shardCombine(s, plan)),
    },
    rule,
    options,
    n,
    d,
  );
}

const TYPED = { Float64Array, Float32Array, Int32Array, Uint8Array } as const;
type TypedName = keyof typeof TYPED;

/**
 * A shard message (asks, answers, plans, decisions) as JSON text that keeps typed arrays exact:
 * each `Float64Array`, `Float32Array`, `Int32Array` or `Uint8Array` becomes
 * `{ "$typed": name, "base64": bytes }` (little-endian). For job queues that store JSON (BullMQ).
 *
 * @param value - plain data: objects, arrays, numbers (±Infinity and NaN kept), strings, booleans, null and typed arrays.
 * @returns the JSON text.
 * @example
 * ```ts
 * import { parseShardMessage, stringifyShardMessage } from 'robust-agg/shard';
 *
 * const text = stringifyShardMessage({ parts: [Float64Array.of(0.1, Infinity)] });
 * console.log(parseShardMessage(text)); // { parts: [Float64Array [0.1, Infinity]] }
 * ```
 * @category Sharding
 */
export function stringifyShardMessage(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string) {
    const v = this[key];
    for (const name of Object.keys(TYPED) as TypedName[]) {
      if (v instanceof TYPED[name]) {
        const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        return { $typed: name, base64: bytes.toString('base64') };
      }
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  });
}

/**
 * Reads a message written by {@link stringifyShardMessage}, typed arrays restored bit for bit.
 *
 * @param text - the JSON text.
 * @returns the message.
 * @example
 * ```ts
 * import { parseShardMessage, stringifyShardMessage } from 'robust-agg/shard';
 *
 * console.log(parseShardMessage(stringifyShardMessage([Int32Array.of(1, -2), NaN]))); // [Int32Array [1, -2], NaN]
 * ```
 * @category Sharding
 */
export function parseShardMessage(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$typed === 'string' && typeof o.base64 === 'string' && Object.hasOwn(TYPED, o.$typed)) {
        const bytes = Buffer.from(o.base64, 'base64');
        const Ctor = TYPED[o.$typed as TypedName];
        const copy = new Uint8Array(bytes.length);
        copy.set(bytes);
        return new Ctor(copy.buffer, 0, bytes.length / Ctor.BYTES_PER_ELEMENT);
      }
      if (typeof o.$number === 'string' && Object.keys(o).length === 1) return Number(o.$number);
    }
    return v;
  });
}
