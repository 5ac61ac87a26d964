// aggregateAsync runs every rule in a worker and returns exactly what the synchronous call returns
// (aggregate, decision and next-round state, bit for bit), with the rule's own errors; it never
// modifies the caller's arrays; options that cannot cross to a worker are refused with a clear
// message; an abort stops the worker and rejects with the signal's reason.
import { afterAll, describe, expect, it } from 'vitest';
import * as aggregators from '../../src/aggregators/index.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { aggregateAsync, closeAggregationWorkers } from '../../src/server/async.js';
import { createAggregator } from '../../src/server/registry.js';
import { cloneRows, gaussianRows } from '../helpers/data.js';
import { hugeRow } from '../helpers/hostile.js';
import { roundRows, ruleCases } from './cases.js';

afterAll(() => closeAggregationWorkers());

const d = 37;
const rows = roundRows(11, d, 2);
/** Hostile: a huge attacker in row 0, a NaN client in row 5 (dropped), a sparse one in row 9. */
const hostile: Float32Array[] = rows.map((r) => Float32Array.from(r));
hostile[0] = hugeRow(d);
hostile[5] = Float32Array.from(hostile[5], (v, j) => (j === 3 ? NaN : v));
hostile[9] = Float32Array.from({ length: d }, (_, j) => (j === 0 ? 3e38 : 0));

describe('aggregateAsync equals the synchronous call', () => {
  it.each(ruleCases(d))('$name on plain and hostile data', async ({ name, options }) => {
    for (const updates of [rows, hostile]) {
      const before = cloneRows(updates);
      const sync = (() => {
        try {
          return createAggregator(name, options).withDecision(updates);
        } catch (e) {
          return e as RobustAggError;
        }
      })();
      if (sync instanceof Error) {
        // The rule refuses this input: the async call refuses it the same way.
        await expect(aggregateAsync(name, updates, options)).rejects.toMatchObject({ code: sync.code, message: sync.message });
        continue;
      }
      const got = await aggregateAsync(name, updates, options);
      expect(got.aggregate).toEqual(sync.aggregate);
      expect(got.decision).toEqual(sync.decision);
      const { aggregate: _a, decision: _d, ...extras } = sync;
      const { aggregate: _b, decision: _e, ...gotExtras } = got;
      expect(gotExtras).toEqual(extras);
      expect(updates).toEqual(before);
    }
  });

  it('a configured aggregator, with per-call options merged over its own', async () => {
    const agg = createAggregator('mean');
    const weights = Array.from({ length: 11 }, (_, i) => i + 1);
    const got = await aggregateAsync(agg, rows, { weights });
    expect(got.aggregate).toEqual(aggregators.mean(rows, { weights }));
    const gm = createAggregator('geometricMedian', { maxIterations: 3 });
    expect((await aggregateAsync(gm, rows)).aggregate).toEqual(aggregators.geometricMedian(rows, { maxIterations: 3 }));
  });

  it('foolsGold: the history comes back and the next round equals the synchronous chain', async () => {
    const clientIds = rows.map((_, i) => `c${i}`);
    const r1 = await aggregateAsync('foolsGold', rows, { clientIds });
    const s1 = aggregators.foolsGoldWithDecision(rows, { clientIds });
    expect(r1.history).toEqual(s1.history);
    const next = gaussianRows(11, d, 4);
    const r2 = await aggregateAsync('foolsGold', next, { clientIds, history: r1.history });
    const s2 = aggregators.foolsGoldWithDecision(next, { clientIds, history: s1.history });
    expect(r2.aggregate).toEqual(s2.aggregate);
    expect(r2.decision).toEqual(s2.decision);
  });

  it('updates already in SharedArrayBuffers are read in place, with the same result', async () => {
    const arena = new SharedArrayBuffer(11 * d * 4 + 8);
    const shared: Float32Array[] = rows.map((r, i) => {
      const view = new Float32Array(arena, 8 + i * d * 4, d); // an offset into one buffer
      view.set(r);
      return view;
    });
    shared[3] = Float32Array.from(rows[3]); // one ordinary row: everything is copied then
    for (const updates of [shared, shared.map((r, i) => (i === 3 ? Float32Array.from(r) : r))]) {
      const got = await aggregateAsync('coordinateMedian', updates);
      expect(got.aggregate).toEqual(aggregators.coordinateMedian(rows));
    }
    shared[3] = new Float32Array(new SharedArrayBuffer(d * 4));
    shared[3].set(rows[3]); // rows in two shared buffers
    expect((await aggregateAsync('krum', shared, { f: 1 })).aggregate).toEqual(aggregators.krum(rows, { f: 1 }));
    expect(shared.map((r) => Array.from(r))).toEqual(rows.map((r) => Array.from(r)));
  });

  it('concurrent calls each get their own result', async () => {
    const sets = [1, 2, 3, 4].map((s) => gaussianRows(9, 20, s));
    const got = await Promise.all(sets.map((u) => aggregateAsync('krum', u, { f: 2 })));
    got.forEach((g, k) => expect(g.aggregate).toEqual(aggregators.krum(sets[k], { f: 2 })));
  });
});

describe('aggregateAsync refuses what it cannot run', () => {
  it('the rule’s own errors, same code and message', async () => {
    const few = gaussianRows(5, 4, 1);
    await expect(aggregateAsync('krum', few, { f: 2 })).rejects.toMatchObject({
      code: 'TOO_FEW_CLIENTS',
      message: 'krum needs n ≥ 2f+3, got n=5, f=2',
    });
    await expect(aggregateAsync('krum', [new Float32Array(3).fill(NaN)], { f: 0 })).rejects.toMatchObject({ code: 'NO_FINITE_UPDATES' });
  });

  it('bad shapes and options, before any worker runs', async () => {
    await expect(aggregateAsync('mean', [])).rejects.toMatchObject({ code: 'EMPTY_UPDATES' });
    await expect(aggregateAsync('mean', [Float32Array.of(1), Float32Array.of(1, 2)])).rejects.toMatchObject({ code: 'LENGTH_MISMATCH' });
    await expect(aggregateAsync('krum', rows, { f: 1, tol: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(aggregateAsync('nope', rows)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/unknown rule "nope"/) });
    await expect(aggregateAsync('flame', rows, { rng: createRng(1) })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'flame: option rng cannot be sent to a worker; pass seed instead',
    });
    await expect(aggregateAsync('mixTailor', rows, { pool: [(u: Float32Array[]) => aggregators.mean(u)], seed: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/pool members must be given by name/),
    });
  });

  it('an abort rejects with the signal’s reason and the next call still works', async () => {
    const big = gaussianRows(60, 20_000, 3);
    const controller = new AbortController();
    const pending = aggregateAsync('geometricMedian', big, { maxIterations: 10_000, tolerance: 0 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 5);
    await expect(pending).rejects.toThrow('stop');
    const already = new AbortController();
    already.abort(new Error('before'));
    await expect(aggregateAsync('mean', rows, {}, { signal: already.signal })).rejects.toThrow('before');
    expect((await aggregateAsync('mean', rows)).aggregate).toEqual(aggregators.mean(rows));
  });

  it('priority: normal gives the same result; anything else is refused', async () => {
    const got = await aggregateAsync('geometricMedian', rows, {}, { priority: 'normal' });
    expect(got.aggregate).toEqual(aggregators.geometricMedian(rows));
    await expect(aggregateAsync('mean', rows, {}, { priority: 'high' as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/priority must be 'background' or 'normal', got "high"/),
    });
  });

  it('errors are RobustAggErrors', async () => {
    const e = await aggregateAsync('krum', gaussianRows(3, 2, 1), { f: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RobustAggError);
  });
});
