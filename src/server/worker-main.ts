// Entry of an aggregation worker: a Node worker thread or a browser Web Worker that runs whole
// rules by name (src/server/registry.ts) on rows that live in SharedArrayBuffers or transferred
// ArrayBuffers. scripts/build-server-worker.mjs bundles this file with its imports into
// src/server/worker-source.ts (an IIFE string); the library starts it with
// `new Worker(source, { eval: true })` in Node and from a Blob URL in browsers. It is never imported
// by the library itself.
import { RobustAggError } from '../core/errors.js';
import { createDrawAheadRng } from '../core/random.js';
import { heldCombine } from '../kernels/combine.js';
import { heldFinite } from '../kernels/finite.js';
import { precomputedGram } from '../kernels/gram-source.js';
import { MeanSum } from './mean-sum.js';
import { PairTable } from './pair-table.js';
import type { ReplyPort, RowMessage, RunJob, RunReply, WorkerMessage } from './protocol.js';
import { runByName } from './registry.js';
import { connect } from './worker-port.js';

let port: ReplyPort | null = null;
/** The current round's pair statistics (one round per worker at a time). */
let table: PairTable | null = null;
/** The current round's running sum (rule `mean`). */
let sum: MeanSum | null = null;
let tableRound = -1;
/** FLAME's noise for the current round, drawn ahead from its seed while the worker waits. */
let noise: { seed: number; draws: ReturnType<typeof createDrawAheadRng> } | null = null;
/** Most Gaussians drawn ahead (64 MiB); past them the rule draws the rest itself, in the same stream. */
const MAX_DRAWN_AHEAD = 2 ** 23;
/** Gaussians drawn ahead per turn of the worker's event loop (a few ms, so a close job never waits long). */
const DRAWS_PER_TURN = 65536;

function pairRow(message: RowMessage): void {
  const row = new Float32Array(message.buffer, message.offset, message.d);
  if (tableRound !== message.round) {
    tableRound = message.round;
    table = message.meanOf === undefined ? new PairTable(message.d) : null;
    sum = message.meanOf === undefined ? null : new MeanSum(message.d, message.meanOf);
    noise =
      message.noiseSeed === undefined
        ? null
        : { seed: message.noiseSeed, draws: createDrawAheadRng(message.noiseSeed, Math.min(message.d, MAX_DRAWN_AHEAD)) };
  }
  if (sum !== null) {
    sum.add(message.arrival, row, message.finite);
    return;
  }
  if (table === null) return;
  table.add(message.arrival, row, message.finite);
  schedulePairing();
}

/**
 * Pairs queued arrivals a slice at a time, one slice per turn of the worker's event loop. While the
 * worker keeps up, each arrival is paired as soon as it comes, so close() has at most one to do;
 * when arrivals come faster than one pass over the held rows, they queue meanwhile and the next
 * pass takes four at once: each pass reads every held row once (the bound: they stream from
 * memory), so four per pass cut that traffic by four. A slice pairs with at most SLICE_VALUES
 * held values (16 rows at d = 10⁶, some 10–20 ms), so a close job waits for one slice at most,
 * never behind a whole pass or a backlog.
 */
function schedulePairing(): void {
  if (flushing || table === null) return;
  const drawing = noise !== null && !noise.draws.full;
  if (table.queued === 0 && !drawing) return;
  flushing = true;
  setTimeout(() => {
    flushing = false;
    // Pairing first; FLAME's Gaussians only when no arrival waits.
    if (table !== null && table.queued > 0) table.pairSome(Math.max(4, Math.floor(SLICE_VALUES / table.d)));
    else noise?.draws.ahead(DRAWS_PER_TURN);
    schedulePairing();
  }, 0);
}
/** Held values one pairing slice reads (64 MiB of rows). */
const SLICE_VALUES = 2 ** 24;
let flushing = false;

/** What a stateful rule returns besides its aggregate and decision (its next round's state). */
function extrasOf(result: object): Record<string, unknown> {
  const { aggregate: _a, decision: _d, ...extras } = result as Record<string, unknown>;
  return extras;
}

function run(job: RunJob): void {
  let reply: RunReply;
  const pairs = job.arrivals !== undefined ? table : null;
  const running = job.arrivals !== undefined && job.name === 'mean' && !('weights' in job.options) ? sum : null;
  // FLAME's noise drawn ahead from the round's seed: the same stream, so the same draws.
  const drawnAhead = job.arrivals !== undefined && job.name === 'flame' && noise !== null && job.options.seed === noise.seed && job.options.rng === undefined ? noise : null;
  table = null;
  sum = null;
  noise = null;
  tableRound = -1;
  const transfer: unknown[] = [];
  try {
    const rows: Float32Array[] = [];
    for (let i = 0; i < job.rowBuffer.length; i++) {
      rows.push(new Float32Array(job.buffers[job.rowBuffer[i]], job.rowOffset[i], job.d));
    }
    let result;
    let precomputed = false;
    let options = job.options;
    if (drawnAhead !== null) {
      const { seed: _seed, ...rest } = job.options;
      options = { ...rest, rng: drawnAhead.draws.rng };
    }
    const summed = running?.result(job.arrivals!) ?? null;
    if (summed !== null) {
      const n = rows.length;
      result = { aggregate: summed, decision: { rule: 'mean', n, dropped: [], weights: new Float64Array(n).fill(1 / n) } };
      precomputed = true;
    } else if (pairs !== null && pairs.active) {
      // The rows still queued cost about as much to pair as the one-shot Gram pass once they pass
      // n/8 (pairing costs a few times the Gram kernel per pair): behind that far, the rule
      // computes its Gram matrix itself. Either way the rows the table holds are combined in
      // place and not checked for finiteness again.
      const paired = pairs.queued <= Math.max(4, rows.length / 8);
      if (paired) pairs.flush();
      pairs.bind(rows, job.arrivals!);
      if (paired) {
        precomputedGram.lookup = (r, centre) => {
          const g = pairs.lookup(r, centre);
          if (g !== null) precomputed = true;
          return g;
        };
      }
      heldCombine.sum = (r, w, offset, offsetWeight) => pairs.combine(r, w, offset, offsetWeight);
      heldFinite.holds = (row) => pairs.holds(row);
      try {
        result = runByName(job.name, rows, options);
      } finally {
        precomputedGram.lookup = null;
        heldCombine.sum = null;
        heldFinite.holds = null;
      }
    } else {
      result = runByName(job.name, rows, options);
    }
    let aggregate = result.aggregate;
    if (aggregate.byteOffset !== 0 || aggregate.byteLength !== aggregate.buffer.byteLength || !(aggregate.buffer instanceof ArrayBuffer)) {
      aggregate = aggregate.slice();
    }
    transfer.push(aggregate.buffer);
    reply = {
      id: job.id,
      ok: true,
      aggregate,
      decision: result.decision as unknown as Record<string, unknown>,
      extras: precomputed ? { ...extrasOf(result), precomputed } : extrasOf(result),
    };
  } catch (e) {
    reply = {
      id: job.id,
      ok: false,
      code: e instanceof RobustAggError ? e.code : null,
      message: e instanceof Error ? e.message : String(e),
    };
  }
  port!.postMessage(reply, transfer);
}

port = connect((message: WorkerMessage) => ('kind' in message ? pairRow(message) : run(message)));
