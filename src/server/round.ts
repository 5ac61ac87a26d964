import type { Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue, requireInteger } from '../core/options.js';
import { isFloat32Array } from '../core/updates.js';
import { noWeightedFormMessage } from '../core/weighted-rules.js';
import { isFiniteVector } from '../kernels/finite.js';
import { PIECE, resolveRule, sharedMemory, slicer, WorkerLease, type AsyncRunOptions, type WorkerPriority } from './async.js';
import { registryEntry, type ConfiguredAggregator } from './registry.js';

/**
 * A client's id in a round: a string or a finite number, unique within the round.
 *
 * @category Server
 */
export type ClientId = string | number;

/**
 * Options of {@link createRound}.
 *
 * @category Server
 */
export interface RoundOptions {
  /** The rule: a registry name (see {@link listAggregators}) or an aggregator from {@link createAggregator}. */
  rule: string | ConfiguredAggregator;
  /**
   * The rule's options for this round (merged over a configured aggregator's own), checked at
   * creation. Not `weights` (give each client's in {@link Round.add}) and, for foolsGold, not
   * `clientIds` (the round passes its client ids, so histories line up across rounds).
   */
  options?: Readonly<Record<string, unknown>>;
  /** Length of every update: an integer in [1, 2³¹ − 1]. */
  d: number;
  /**
   * Expected number of clients: an integer in [1, 10⁶]; sizes the arena up front (more clients
   * may still be added; the arena then grows by whole segments, never by copying). Default 8.
   */
  expected?: number;
  /**
   * Most clients the round accepts: an integer in [1, 10⁶]; `add` throws `UNSUPPORTED` beyond it, so
   * that a flood of client ids cannot grow the arena without bound (the arena holds at most
   * maxClients·d floats, plus the last segment's slack). Default 10⁶.
   */
  maxClients?: number;
  /** Aborts the round: its arena is released and a pending `close()` rejects with the reason. */
  signal?: AbortSignal;
  /** Scheduling priority of the round's worker (see {@link AsyncRunOptions.priority}). Default `'background'`. */
  priority?: WorkerPriority;
  /**
   * Work on the updates as they arrive, in the round's worker, so that `close()` only decides and
   * combines:
   * - **Gram rules** (Krum, Multi-Krum, Bulyan, the geometric median, FLAME, …): each new update's
   *   dot products and squared distances with every update already received are computed while
   *   the next one is in flight (float32 products summed into float64 every 256 columns, float64
   *   for a row whose largest magnitude leaves [2⁻⁴⁰, 2⁴⁰]), and the rule reads its Gram matrix
   *   from them: close() drops from an O(n²d) pass to O(nd). Distances come from the differences
   *   themselves (relative error about 10⁻⁶ of the distance, with no cancellation against the
   *   norms), so results equal the one-shot call's within the Gram kernel's documented bound (2⁻¹⁷
   *   of the pair's centred norms, see the performance guide), not bit for bit: a selection can
   *   differ only where two clients' scores are that close. Costs the worker a second copy of the
   *   updates (in its WebAssembly memory, up to 2 GiB; rows past that are paired at close) and
   *   O(n²d) work spread over the arrivals. Used at sizes where the rule would call the
   *   WebAssembly Gram kernel (n·d ≥ 2¹⁶, fast kernels on). At close the rule's combination is
   *   summed from the worker's copy in place (the combine kernel's operations in its order: the
   *   same bits as summing the arena), and the copies, checked on arrival, skip the rule's
   *   finiteness pass. The pairing runs in slices of at most 2²⁴ held values, so a close waits for
   *   one slice, not for a backlog; a round whose worker fell more than max(4, n/8) arrivals behind
   *   computes its Gram matrix at close instead.
   * - **flame** with a `seed`: the worker also draws the noise's Gaussians from the seed while it
   *   waits (up to 2²³ of them; the rest at close), the same stream in the same order, so the
   *   noise is the same bits.
   * - **mean**, when `expected` is given: the updates are summed as they arrive with the one-shot
   *   call's own operations, so the result is the same bits; a round that ends with another count,
   *   a dropped client or client weights computes at close.
   *
   * Only with SharedArrayBuffer (Node; browsers that are cross-origin isolated). Default: true for
   * {@link PRECOMPUTED_RULES}, false otherwise; false gives the one-shot call's bits for every rule.
   */
  precompute?: boolean;
}

/**
 * The rules whose rounds work on updates as they arrive by default (see
 * {@link RoundOptions.precompute}): `mean`, whose round sums the updates as they arrive when it
 * knows their number (`expected`; the same bits as the one-shot call), and every rule that asks
 * the Gram kernel for the Gram matrix of its clients (centred for distances, or not for cosines
 * and norms), whose round pairs them up.
 *
 * @category Server
 */
export const PRECOMPUTED_RULES: readonly string[] = [
  'mean',
  'krum',
  'multiKrum',
  'krumLp',
  'bulyan',
  'bulyanVariant',
  'geometricMedian',
  'flame',
  'mda',
  'caf',
  'smea',
  'dnc',
  'clippedClustering',
];

/**
 * Per-client options of {@link Round.add}.
 *
 * @category Server
 */
export interface AddOptions {
  /**
   * The client's weight, e.g. its number of training examples (Flower's `num_examples`): a finite
   * number ≥ 0. Only for rules that take weights ({@link AggregatorInfo.weights}); clients that
   * give none weigh 1 when any client gives one. Default: every client weighs the same.
   */
  weight?: number;
}

/**
 * The outcome of one client in a round.
 *
 * @category Server
 */
export interface ClientOutcome {
  /** The client's index in the rule's input (arrival order): the index its raw decision uses. */
  readonly index: number;
  /** True when its update held NaN or ±Infinity and was dropped. */
  readonly dropped: boolean;
  /** Whether the rule selected it (rules that select clients). */
  readonly selected?: boolean;
  /** Its weight in the aggregate (rules whose output is Σ wᵢ xᵢ). */
  readonly weight?: number;
}

/**
 * A round's decision keyed by client id: the rule's {@link Decision} with every client index
 * replaced by the id, plus the raw decision (indices in arrival order) for rule-specific fields.
 *
 * @category Server
 */
export interface RoundDecision {
  /** The rule's name. */
  readonly rule: string;
  /** The clients in arrival order (index i of the raw decision is `clients[i]`). */
  readonly clients: readonly ClientId[];
  /** Clients dropped for sending NaN or ±Infinity. */
  readonly dropped: readonly ClientId[];
  /** Clients the rule selected, when it selects. */
  readonly selected?: readonly ClientId[];
  /** Each client's outcome. */
  readonly byClient: ReadonlyMap<ClientId, ClientOutcome>;
  /** The rule's own decision (indices into `clients`). */
  readonly raw: Decision;
}

/**
 * What {@link Round.close} resolves with.
 *
 * @category Server
 */
export interface RoundResult {
  /** The aggregate, a new `Float32Array` of length d. */
  readonly aggregate: Float32Array;
  /** The decision, keyed by client id. */
  readonly decision: RoundDecision;
  /** foolsGold's history for the next round (pass it as the option `history`). */
  readonly history?: unknown;
  /** clippedClustering's norm history for the next round (the option `normHistory`). */
  readonly normHistory?: number[];
  /** flDetector's state for the next round (the option `state`). */
  readonly state?: unknown;
  /**
   * True when the work done as updates arrived was used ({@link RoundOptions.precompute}): the
   * rule read its Gram matrix from the pair statistics, or `mean` its running sum. Absent when the
   * rule computed everything at close (no precompute, sizes below the fast kernels, or a round
   * that closed with its pairing too far behind: more than max(4, n/8) arrivals still unpaired).
   */
  readonly precomputed?: boolean;
}

/**
 * One aggregation round: clients' updates arrive one at a time, each is checked and copied once
 * into the round's arena, and `close()` runs the rule off the calling thread.
 *
 * @category Server
 */
export interface Round {
  /** `'open'` (accepting updates), `'closing'`, `'closed'` or `'aborted'`. */
  readonly state: 'open' | 'closing' | 'closed' | 'aborted';
  /** Number of updates received (dropped non-finite ones included). */
  readonly size: number;
  /** Bytes of arena the round holds (0 once closed or aborted). */
  readonly arenaBytes: number;
  /**
   * Receives a client's update. Throws at once (`RobustAggError`) for a malformed arrival: a
   * client id already seen this round or not a string / finite number, an update that is not a
   * `Float32Array` of length d, a bad weight, a closed round. Otherwise the client takes the next
   * position (arrival order) and its update is copied once into the arena and checked for NaN and
   * ±Infinity, in pieces between which the event loop runs; the returned promise resolves when
   * that is done (do not modify `update` before). A non-finite update is kept and dropped by the
   * rule at close (reported in `decision.dropped`, counted against f as in the one-shot call);
   * under `nonFinite: 'throw'` the promise rejects with `NON_FINITE_UPDATE` naming the client, who
   * is then left out of the round (which stays open).
   *
   * @param clientId - the client's id, unique within the round.
   * @param update - its update; read, never kept or modified.
   * @param options - `weight` (e.g. its sample count).
   * @returns resolves once the update is in the arena.
   */
  add(clientId: ClientId, update: Float32Array, options?: AddOptions): Promise<void>;
  /**
   * Closes the round and runs the rule on the updates received, in arrival order, in a worker;
   * resolves with what the one-shot `…WithDecision` call gives on the same list (bit for bit, or
   * within the Gram kernel's bound for a precomputed Gram rule: {@link RoundOptions.precompute}),
   * plus the decision keyed by client id. The arena is released when it settles.
   */
  close(): Promise<RoundResult>;
  /**
   * Aborts the round: releases the arena, stops a running close (which rejects with `reason`).
   *
   * @param reason - the rejection reason of a pending close (default an `AbortError`).
   */
  abort(reason?: unknown): void;
}

/** One arrival: its id, where its row lives, its weight, and whether it was left out. */
interface Slot {
  readonly id: ClientId;
  readonly segment: number;
  readonly row: number;
  readonly weight: number;
  /** True when the client was left out (non-finite under nonFinite: 'throw'). */
  left: boolean;
}

/**
 * Copies `update` into `target` in pieces, checking each for NaN/±Infinity, and yields to the
 * event loop between pieces once a slice of time is used up. Resolves true when every value was
 * finite.
 */
async function copyChecked(update: Float32Array, target: Float32Array): Promise<boolean> {
  const d = update.length;
  const slice = slicer();
  let finite = true;
  for (let j = 0; j < d; j += PIECE) {
    const piece = j === 0 && d <= PIECE ? update : update.subarray(j, Math.min(d, j + PIECE));
    target.set(piece, j);
    if (finite && !isFiniteVector(piece)) finite = false;
    const wait = slice.tick();
    if (wait !== undefined) await wait;
  }
  return finite;
}

/** The arrival number of each client kept for the rule (those not left out), in order. */
function arrivalsOf(slots: readonly Slot[]): Int32Array {
  const out: number[] = [];
  for (let a = 0; a < slots.length; a++) if (!slots[a].left) out.push(a);
  return Int32Array.from(out);
}

const MAX_EXPECTED = 1_000_000;
let nextRound = 1;
const MIN_SEGMENT_ROWS = 8;

interface Segment {
  buffer: ArrayBuffer | SharedArrayBuffer;
  rows: number;
  used: number;
}

function abortError(): unknown {
  const g = globalThis as { DOMException?: new (m: string, n: string) => unknown };
  return g.DOMException !== undefined ? new g.DOMException('the round was aborted', 'AbortError') : new Error('the round was aborted');
}

/**
 * Opens an aggregation round for a server that receives client updates one at a time
 * (Flower-style: a round per training step). `round.add(id, update, { weight })` checks each update
 * on arrival and copies it once into the round's arena — SharedArrayBuffer segments that the
 * worker reads in place — and `await round.close()` runs the rule in a worker (a worker thread in
 * Node, a Web Worker in browsers; started when the round opens, so it is ready at close) and
 * resolves with `{ aggregate, decision }`, the decision keyed by client id. The result is the
 * one-shot `…WithDecision` call's on the updates in arrival order, dropped clients included as in
 * the one-shot call (counted against f): bit for bit without precompute and for `mean`; for the
 * Gram rules, whose worker pairs updates up as they arrive by default, within the Gram kernel's
 * bound (see {@link RoundOptions.precompute}). Every rule of the registry works; the calling
 * thread never runs more than one O(d) check and copy at a time.
 *
 * Client weights (`add(…, { weight })`) become the rule's `weights` option; rules without a
 * weighted form throw `INVALID_OPTION` at the first weight. foolsGold gets the client ids as its
 * `clientIds`, so its history follows clients across rounds. A round can be aborted with
 * `signal` or `abort()`; closed or aborted, it holds no memory.
 *
 * @param options - see {@link RoundOptions}: `rule`, `options`, `d`, `expected`, `maxClients`, `signal`,
 *   `priority`.
 * @returns the open round.
 * @example
 * ```ts
 * import { createRound } from 'robust-agg';
 *
 * const round = createRound({ rule: 'multiKrum', options: { f: 1 }, d: 3, expected: 5 });
 * round.add('alice', Float32Array.of(1, 0, 0.5));
 * round.add('bob', Float32Array.of(1.1, 0.1, 0.4));
 * round.add('carol', Float32Array.of(0.9, -0.1, 0.6));
 * round.add('dave', Float32Array.of(1, 0.05, 0.5));
 * round.add('mallory', Float32Array.of(40, -40, 40));
 * const { aggregate, decision } = await round.close();
 * console.log(aggregate);          // ≈ (1, 0.01, 0.5): mallory is left out
 * console.log(decision.selected);  // [ 'alice', 'bob', 'carol', 'dave' ]
 * console.log(round.arenaBytes);   // 0: the arena is released
 * ```
 * @category Server
 */
export function createRound(options: RoundOptions): Round {
  const who = 'createRound';
  if (options === null || typeof options !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${who}: options must be an object, got ${describeValue(options)}`);
  }
  const { rule, options: ruleOptions, d, expected, signal, priority, maxClients: maxGiven, precompute: precomputeGiven } = options;
  if (precomputeGiven !== undefined && typeof precomputeGiven !== 'boolean') {
    throw new RobustAggError('INVALID_OPTION', `${who}: precompute must be true or false, got ${describeValue(precomputeGiven)}`);
  }
  requireInteger(who, 'd', d, 1, 2 ** 31 - 1);
  if (expected !== undefined) requireInteger(who, 'expected', expected, 1, MAX_EXPECTED);
  const maxClients = maxGiven === undefined ? MAX_EXPECTED : requireInteger(who, 'maxClients', maxGiven, 1, MAX_EXPECTED);
  const name = typeof rule === 'function' ? rule.ruleName : rule;
  const { info } = registryEntry(name, who);
  if (ruleOptions !== undefined && ruleOptions !== null && typeof ruleOptions === 'object') {
    if ('weights' in ruleOptions) {
      throw new RobustAggError('INVALID_OPTION', `${who}: give client weights per client, round.add(id, update, { weight }), not as the option weights`);
    }
    if (info.name === 'foolsGold' && 'clientIds' in ruleOptions) {
      throw new RobustAggError('INVALID_OPTION', `${who}: foolsGold gets the round's client ids as clientIds; do not pass them`);
    }
  }
  const resolved = resolveRule(rule, ruleOptions, who);
  const nonFinite = resolved.options.nonFinite === 'throw' ? 'throw' : 'drop';
  const shared = sharedMemory();
  // Pairing happens in the worker, which reads the arena in place: only over SharedArrayBuffers.
  const precompute =
    shared && (precomputeGiven ?? PRECOMPUTED_RULES.includes(info.name)) && (info.name !== 'mean' || expected !== undefined);
  const meanOf = info.name === 'mean' ? expected : undefined;
  // FLAME with a seed: the worker draws the noise's Gaussians from it while updates arrive.
  const noiseSeed =
    info.name === 'flame' && typeof resolved.options.seed === 'number' && resolved.options.rng === undefined && resolved.options.lambda !== 0
      ? resolved.options.seed
      : undefined;
  const roundNumber = nextRound++;
  signal?.throwIfAborted();

  let state: Round['state'] = 'open';
  let segments: Segment[] = [];
  /** One per arrival, in arrival order (clients left out under nonFinite: 'throw' included, marked). */
  const slots: Slot[] = [];
  const seen = new Set<ClientId>();
  /** Copies still running (each settles, never rejects). */
  const pending = new Set<Promise<unknown>>();
  let weighted = false;
  let lease: WorkerLease | null = new WorkerLease(priority);
  const controller = new AbortController();

  const allocate = (rows: number): Segment => {
    try {
      const bytes = rows * d * 4;
      return { buffer: shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), rows, used: 0 };
    } catch (e) {
      throw new RobustAggError('INVALID_OPTION', `${who}: cannot allocate an arena of ${rows} rows × d=${d} (${e instanceof Error ? e.message : String(e)})`);
    }
  };
  const release = (): void => {
    segments = [];
    lease?.release(state !== 'aborted');
    lease = null;
  };
  const onAbort = (): void => round.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });

  const round: Round = {
    get state() {
      return state;
    },
    get size() {
      let k = 0;
      for (const s of slots) if (!s.left) k++;
      return k;
    },
    get arenaBytes() {
      let b = 0;
      for (const s of segments) b += s.buffer.byteLength;
      return b;
    },
    add(clientId, update, addOptions) {
      if (state !== 'open') {
        throw new RobustAggError('UNSUPPORTED', `round: client ${describeValue(clientId)} arrived after the round was ${state === 'aborted' ? 'aborted' : 'closed'}`);
      }
      if (!(typeof clientId === 'string' || (typeof clientId === 'number' && Number.isFinite(clientId)))) {
        throw new RobustAggError('INVALID_OPTION', `round: a client id must be a string or a finite number, got ${describeValue(clientId)}`);
      }
      if (seen.has(clientId)) {
        throw new RobustAggError('INVALID_OPTION', `round: client ${describeValue(clientId)} already sent an update this round`);
      }
      if (!isFloat32Array(update)) {
        throw new RobustAggError('NOT_FLOAT32', `round: the update of client ${describeValue(clientId)} is not a Float32Array (got ${describeValue(update)})`);
      }
      if (update.length !== d) {
        throw new RobustAggError('LENGTH_MISMATCH', `round: client ${describeValue(clientId)} sent length ${update.length}, the round has d=${d}`);
      }
      let weight: number | undefined;
      if (addOptions !== undefined) {
        if (addOptions === null || typeof addOptions !== 'object') {
          throw new RobustAggError('INVALID_OPTION', `round: add options must be an object, got ${describeValue(addOptions)}`);
        }
        for (const key of Object.keys(addOptions)) {
          if (key !== 'weight') throw new RobustAggError('UNKNOWN_OPTION', `round: unknown option '${key}' of add (known: weight)`);
        }
        weight = addOptions.weight;
        if (weight !== undefined) {
          if (!info.weights) {
            throw new RobustAggError('INVALID_OPTION', `${noWeightedFormMessage(info.name)}; client ${describeValue(clientId)} gave weight ${describeValue(weight)}`);
          }
          if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
            throw new RobustAggError('INVALID_OPTION', `round: the weight of client ${describeValue(clientId)} must be finite and ≥ 0, got ${describeValue(weight)}`);
          }
        }
      }
      if (slots.length >= maxClients) {
        throw new RobustAggError('UNSUPPORTED', `round: client ${describeValue(clientId)} arrived after the round's maxClients=${maxClients} updates`);
      }
      let seg = segments[segments.length - 1];
      if (seg === undefined || seg.used === seg.rows) {
        const wanted = segments.length === 0 ? (expected ?? MIN_SEGMENT_ROWS) : Math.max(MIN_SEGMENT_ROWS, slots.length);
        const rows = Math.max(1, Math.min(wanted, maxClients - slots.length));
        seg = allocate(rows);
        segments.push(seg);
      }
      const slot: Slot = { id: clientId, segment: segments.length - 1, row: seg.used, weight: weight ?? 1, left: false };
      seg.used++;
      slots.push(slot);
      seen.add(clientId);
      if (weight !== undefined) weighted = true;
      const target = new Float32Array(seg.buffer, slot.row * d * 4, d);
      const arrival = slots.length - 1;
      const buffer = seg.buffer;
      const task = copyChecked(update, target).then((finite) => {
        if (precompute && state !== 'aborted') {
          lease?.send({
            kind: 'row',
            round: roundNumber,
            arrival,
            d,
            buffer: buffer as SharedArrayBuffer,
            offset: slot.row * d * 4,
            finite,
            ...(meanOf === undefined ? {} : { meanOf }),
            ...(noiseSeed === undefined ? {} : { noiseSeed }),
          });
        }
        if (!finite && nonFinite === 'throw') {
          slot.left = true;
          throw new RobustAggError('NON_FINITE_UPDATE', `${info.name}: client ${describeValue(clientId)} sent NaN or ±Infinity`);
        }
      });
      const settled: Promise<unknown> = task.then(
        () => pending.delete(settled),
        () => pending.delete(settled),
      );
      pending.add(settled);
      return task;
    },
    async close() {
      if (state !== 'open') {
        throw new RobustAggError('UNSUPPORTED', `round: close() on a round that is ${state}`);
      }
      state = 'closing';
      try {
        while (pending.size > 0) await Promise.all(pending);
        if (controller.signal.aborted) throw controller.signal.reason;
        const kept = slots.filter((s) => !s.left);
        if (kept.length === 0) {
          throw new RobustAggError('EMPTY_UPDATES', `${info.name}: the round has no client updates`);
        }
        const ids = kept.map((s) => s.id);
        const n = kept.length;
        const buffers: (ArrayBuffer | SharedArrayBuffer)[] = segments.map((s) => s.buffer);
        const rowBuffer = Int32Array.from(kept, (s) => s.segment);
        const rowOffset = Float64Array.from(kept, (s) => s.row * d * 4);
        const runOptions: Record<string, unknown> = { ...resolved.options };
        if (weighted) runOptions.weights = Float64Array.from(kept, (s) => s.weight);
        if (info.name === 'foolsGold') runOptions.clientIds = ids.slice();
        const job = {
          name: resolved.name,
          options: runOptions,
          d,
          buffers,
          rowBuffer,
          rowOffset,
          ...(precompute ? { arrivals: arrivalsOf(slots) } : {}),
        };
        const transfer = shared ? [] : (buffers as ArrayBuffer[]);
        const result = await lease!.run(job, transfer, controller.signal);
        lease = null; // run() gave the worker back
        const raw = result.decision;
        const byClient = new Map<ClientId, ClientOutcome>();
        const dropped = new Set(raw.dropped);
        const selected = raw.selected === undefined ? undefined : new Set(raw.selected);
        for (let i = 0; i < n; i++) {
          byClient.set(ids[i], {
            index: i,
            dropped: dropped.has(i),
            ...(selected === undefined ? {} : { selected: selected.has(i) }),
            ...(raw.weights === undefined || raw.weights.length !== n ? {} : { weight: raw.weights[i] }),
          });
        }
        const decision: RoundDecision = {
          rule: raw.rule,
          clients: ids.slice(),
          dropped: raw.dropped.map((i) => ids[i]),
          ...(raw.selected === undefined ? {} : { selected: raw.selected.map((i) => ids[i]) }),
          byClient,
          raw,
        };
        state = 'closed';
        const { aggregate: _a, decision: _d, ...extras } = result;
        return { ...extras, aggregate: result.aggregate, decision };
      } finally {
        if (state === 'closing') state = 'closed';
        signal?.removeEventListener('abort', onAbort);
        release();
      }
    },
    abort(reason?: unknown) {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      signal?.removeEventListener('abort', onAbort);
      controller.abort(reason ?? abortError());
      release();
    },
  };
  return round;
}
