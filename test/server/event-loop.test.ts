// The event loop stays responsive: at n = 50, d = 10⁶ (200 MB of updates; issue 18 measured a
// 756 ms block for krum + geometricMedian called synchronously), the largest event-loop delay that
// perf_hooks.monitorEventLoopDelay sees during aggregateAsync, and during a round whose 50 updates
// arrive one at a time and which then closes, stays ≤ 20 ms.
//
// What the calling thread does: copies of at most 1 MiB between which it yields once 4 ms have
// passed (aggregateAsync), one O(d) finiteness check and one 4 MB copy per arrival (a round),
// posting a message and receiving the result (a transferred buffer). The rule runs in a worker.
// The rule's worker runs at a lower priority (nice +10 in Node) so that the event loop wins a
// contended CPU.
//
// Margin, for loaded machines only: the bound checked is 20 ms plus the machine's own scheduling
// noise over the same window, measured by a reference thread of this process (a worker thread at
// the same priority as the event loop that does nothing but run the same histogram: whatever delay
// it sees, the event loop would see with no work at all). On a quiet machine that noise is ~1 ms;
// on our shared 2-core box at load 15–18 it reaches tens of milliseconds, because a runnable thread
// waits that long for a core. The histogram's resolution is 1 ms. This is not a timing benchmark:
// the calling thread's slices are ~2 ms of work each.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregateAsync, closeAggregationWorkers } from '../../src/server/async.js';
import { createRound } from '../../src/server/round.js';

afterAll(() => closeAggregationWorkers());

const n = 50;
const d = 1_000_000;
const LIMIT_MS = 20;

/** 50 rows of 10⁶: a shared pattern plus a per-client offset; rows 0 and 1 are attackers. */
function bigRows(): Float32Array[] {
  const base = new Float32Array(d);
  for (let j = 0; j < d; j++) base[j] = Math.sin(j * 0.001);
  return Array.from({ length: n }, (_, i) => {
    const row = base.slice();
    const shift = i < 2 ? 50 : 0.01 * i;
    for (let j = 0; j < d; j += 97) row[j] += shift;
    return row;
  });
}

/** A thread that only measures its own event-loop delay until told to stop (the machine's noise). */
const REFERENCE = `
const { parentPort } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
parentPort.postMessage('started');
parentPort.once('message', () => {
  h.disable();
  parentPort.postMessage({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 });
});`;

interface Delay {
  maxMs: number;
  p99Ms: number;
  /** The reference thread's delays over the same window. */
  noise: { maxMs: number; p99Ms: number };
}

async function maxDelayDuring(body: () => Promise<unknown>): Promise<Delay> {
  const reference = new Worker(REFERENCE, { eval: true });
  await new Promise((resolve) => reference.once('message', resolve));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    await body();
  } finally {
    h.disable();
  }
  reference.postMessage('stop');
  const noise = (await new Promise((resolve) => reference.once('message', resolve))) as Delay['noise'];
  await reference.terminate();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, noise };
}

const describeDelay = (what: string, d: Delay): string =>
  `${what}: event-loop delay max ${d.maxMs.toFixed(1)} ms, p99 ${d.p99Ms.toFixed(1)} ms; ` +
  `an idle reference thread over the same window: max ${d.noise.maxMs.toFixed(1)} ms, p99 ${d.noise.p99Ms.toFixed(1)} ms`;

describe('the event loop is never blocked for more than 20 ms (n = 50, d = 10⁶)', () => {
  const rows = bigRows();

  it('aggregateAsync (krum, then geometricMedian)', async () => {
    let selected: readonly number[] | undefined;
    const delay = await maxDelayDuring(async () => {
      selected = (await aggregateAsync('krum', rows, { f: 2 })).decision.selected;
      await aggregateAsync('geometricMedian', rows, { maxIterations: 20 });
    });
    console.log(describeDelay('aggregateAsync', delay));
    expect(selected).toHaveLength(1);
    expect(selected![0]).toBeGreaterThanOrEqual(2); // not an attacker
    expect(delay.maxMs).toBeLessThanOrEqual(LIMIT_MS + delay.noise.maxMs);
  }, 120_000);

  it('a round: 50 arrivals, then close (krum)', async () => {
    let aggregateLength = 0;
    const delay = await maxDelayDuring(async () => {
      const round = createRound({ rule: 'krum', options: { f: 2 }, d, expected: n });
      for (let i = 0; i < n; i++) {
        await new Promise((resolve) => setImmediate(resolve)); // the next update "arrives"
        await round.add(`client-${i}`, rows[i]);
      }
      const { aggregate, decision } = await round.close();
      aggregateLength = aggregate.length;
      expect(decision.selected![0]).not.toMatch(/^client-[01]$/);
    });
    console.log(describeDelay('round', delay));
    expect(aggregateLength).toBe(d);
    expect(delay.maxMs).toBeLessThanOrEqual(LIMIT_MS + delay.noise.maxMs);
  }, 120_000);
});
