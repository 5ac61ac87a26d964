/**
 * What a rule decided about its clients, in one shape across the library. Every index is an index
 * into the `updates` array the caller passed (dropped rows included), so decisions can be joined
 * with client ids directly.
 *
 * Rules that select clients fill `selected`; rules whose output is a fixed combination
 * `Σ wᵢ xᵢ` of the inputs fill `weights`; rules add their own fields (scores, clip bounds, labels)
 * in their own decision type, which extends this one.
 */
export interface Decision {
  /** Name of the rule that produced the decision, e.g. `'krum'`. */
  readonly rule: string;
  /** Number of clients given, dropped ones included. */
  readonly n: number;
  /** Clients removed before the rule ran because they sent NaN or ±Infinity (ascending). */
  readonly dropped: readonly number[];
  /** Clients the rule selected (ascending unless the rule documents an order). */
  readonly selected?: readonly number[];
  /** Weight of each client in the output, length n (0 for dropped clients), when output = Σ wᵢ xᵢ. */
  readonly weights?: Float64Array;
}

/**
 * The output of a rule together with its decision, as returned by the `…WithDecision` variant of
 * every rule (`krumWithDecision`, `geometricMedianWithDecision`, …).
 *
 * @typeParam D - the rule's decision type.
 */
export interface Aggregation<D extends Decision = Decision> {
  /** The aggregated vector, a new array of length d. */
  readonly aggregate: Float32Array;
  /** What the rule decided about its clients. */
  readonly decision: D;
}

/**
 * An aggregator bound to its options: what {@link pipeline} composes and what attacks and
 * simulations call.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 * @returns the aggregate, a new `Float32Array` of length d.
 */
export type Aggregator = (updates: readonly Float32Array[]) => Float32Array;

/**
 * A pre-aggregator bound to its options: maps n updates to m transformed updates.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 * @returns m new `Float32Array`s of length d (m depends on the pre-aggregator, e.g. ⌈n/s⌉ buckets).
 */
export type PreAggregator = (updates: readonly Float32Array[]) => Float32Array[];
