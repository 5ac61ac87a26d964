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
// Margin, for loaded machines only: the bound checked is 20 ms plus the largest delay the same
// histogram records over 2 s of doing nothing, measured in the same run just before (the machine's
// own scheduling noise: ~1 ms on a quiet machine, 10–15 ms on our shared 2-core CI box at load
// 15, where the main thread waits for a core whatever it runs). The histogram's resolution is
// 1 ms. This is not a timing benchmark: the calling thread's slices are ~2 ms of work each.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function maxDelayDuring(body: () => Promise<unknown>): Promise<{ maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    await body();
  } finally {
    h.disable();
  }
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

describe('the event loop is never blocked for more than 20 ms (n = 50, d = 10⁶)', () => {
  const rows = bigRows();
  let noiseMs = 0;

  beforeAll(async () => {
    const idle = await maxDelayDuring(() => new Promise((resolve) => setTimeout(resolve, 2000)));
    noiseMs = idle.maxMs;
    console.log(`idle for 2 s: event-loop delay max ${idle.maxMs.toFixed(1)} ms, p99 ${idle.p99Ms.toFixed(1)} ms (the machine's noise)`);
  });

  it('aggregateAsync (krum, then geometricMedian)', async () => {
    let selected: readonly number[] | undefined;
    const delay = await maxDelayDuring(async () => {
      selected = (await aggregateAsync('krum', rows, { f: 2 })).decision.selected;
      await aggregateAsync('geometricMedian', rows, { maxIterations: 20 });
    });
    console.log(`aggregateAsync: event-loop delay max ${delay.maxMs.toFixed(1)} ms, p99 ${delay.p99Ms.toFixed(1)} ms`);
    expect(selected).toHaveLength(1);
    expect(selected![0]).toBeGreaterThanOrEqual(2); // not an attacker
    expect(delay.maxMs).toBeLessThanOrEqual(LIMIT_MS + noiseMs);
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
    console.log(`round: event-loop delay max ${delay.maxMs.toFixed(1)} ms, p99 ${delay.p99Ms.toFixed(1)} ms`);
    expect(aggregateLength).toBe(d);
    expect(delay.maxMs).toBeLessThanOrEqual(LIMIT_MS + noiseMs);
  }, 120_000);
});
