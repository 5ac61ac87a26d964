export {
  createAggregator,
  listAggregators,
  type AggregatorInfo,
  type ConfiguredAggregator,
  type OptionSchema,
  type OptionType,
  type RuleResult,
} from './registry.js';
export { aggregateAsync, closeAggregationWorkers, type AsyncRunOptions, type WorkerPriority } from './async.js';
export {
  createRound,
  PRECOMPUTED_RULES,
  type AddOptions,
  type ClientId,
  type ClientOutcome,
  type Round,
  type RoundDecision,
  type RoundOptions,
  type RoundResult,
} from './round.js';
