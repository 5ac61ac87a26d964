/**
 * robust-agg/shard: coordinate-sharded aggregation. Every rule splits by coordinate ranges with
 * only O(n²) numbers crossing between shards: per-shard statistics ({@link shardStatistics}),
 * their element-wise reduction ({@link reduceShardStatistics}), the decision in client space
 * ({@link createShardCoordinator}) and the per-shard combine ({@link shardCombine}). Engines run
 * the shards: worker processes on one machine ({@link createProcessShardEngine}), or a job queue
 * (examples/sharded/ has one on BullMQ) behind the {@link ShardEngine} interface. Node only.
 *
 * @module robust-agg/shard
 */
export {
  shardStatistics,
  reduceShardStatistics,
  shardCombine,
  shardFlDetectorState,
  shardFoolsGoldHistory,
  type CoordinateWiseRule,
  type ShardAsk,
  type ShardCombinePlan,
  type ShardHistoryMember,
  type ShardSegment,
  type ShardSlice,
} from './protocol.js';
export {
  createShardCoordinator,
  SHARD_MAX_CLIENTS,
  type FlDetectorShardedState,
  SHARD_RULES,
  type ShardCoordinator,
  type ShardRuleName,
  type ShardStep,
} from './coordinator.js';
export {
  aggregateSharded,
  parseShardMessage,
  runShardedAggregation,
  shardRanges,
  stringifyShardMessage,
  type ShardedAggregation,
  type ShardEngine,
  type ShardRange,
} from './run.js';
export {
  createProcessShardEngine,
  type ProcessShardEngine,
  type ProcessShardEngineOptions,
  type ProcessShardEngineStats,
  type ShardPassRecord,
  type ShardPassRequest,
  type ShardProcessMemory,
} from './process-engine.js';
export { loadShardSlice, type ShardSource } from './load.js';
