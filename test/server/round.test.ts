// Rounds: every rule through a round equals the one-shot call on the updates in arrival order (bit
// for bit, decision included), the decision is keyed by client id, updates are checked on arrival
// (shape, duplicates, NaN dropped and reported or refused), weights reach weighted rules and are
// refused by the others, foolsGold follows clients by id across rounds, and an aborted or closed
// round holds no memory.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as aggregators from '../../src/aggregators/index.js';
import { nnm } from '../../src/pre-aggregators/index.js';
import { RobustAggError } from '../../src/core/errors.js';
import { closeAggregationWorkers } from '../../src/server/async.js';
import { createAggregator } from '../../src/server/registry.js';
import { createRound } from '../../src/server/round.js';
import { gaussianRows } from '../helpers/data.js';
import { hugeRow } from '../helpers/hostile.js';
import { roundRows, ruleCases } from './cases.js';

afterAll(() => closeAggregationWorkers());

const d = 29;
const rows = roundRows(11, d, 3);
const ids = rows.map((_, i) => `client-${(i * 7) % 11}`);

function expectCode(run: () => unknown, code: string, message: RegExp): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    expect((e as RobustAggError).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('did not throw');
}

describe('a round equals the one-shot call', () => {
  it.each(ruleCases(d))('$name (a hostile client first, a NaN client dropped)', async ({ name, options }) => {
    const updates: Float32Array[] = rows.map((r) => r.slice());
    updates[0] = hugeRow(d); // arrives first: the attacker must not change anything the one-shot call does
    updates[6] = Float32Array.from(updates[6], (v, j) => (j === 2 ? Infinity : v));
    const oneShotOptions = name === 'foolsGold' ? { ...options, clientIds: ids } : options;
    const oneShot = (() => {
      try {
        return createAggregator(name, oneShotOptions).withDecision(updates);
      } catch (e) {
        return e as RobustAggError;
      }
    })();
    const round = createRound({ rule: name, options, d, expected: 4 }); // grows past the expected 4
    updates.forEach((u, i) => round.add(ids[i], u));
    expect(round.size).toBe(11);
    if (oneShot instanceof Error) {
      await expect(round.close()).rejects.toMatchObject({ code: oneShot.code, message: oneShot.message });
      expect(round.arenaBytes).toBe(0);
      return;
    }
    const got = await round.close();
    expect(got.aggregate).toEqual(oneShot.aggregate);
    expect(got.decision.raw).toEqual(oneShot.decision);
    expect(got.decision.clients).toEqual(ids);
    expect(got.decision.dropped).toEqual([ids[6]]);
    expect(got.decision.byClient.get(ids[6])).toMatchObject({ index: 6, dropped: true });
    if (oneShot.decision.selected !== undefined) {
      expect(got.decision.selected).toEqual(oneShot.decision.selected.map((i) => ids[i]));
      for (const i of oneShot.decision.selected) expect(got.decision.byClient.get(ids[i])!.selected).toBe(true);
    }
    if (oneShot.decision.weights !== undefined && oneShot.decision.weights.length === 11) {
      ids.forEach((id, i) => expect(got.decision.byClient.get(id)!.weight).toBe(oneShot.decision.weights![i]));
    }
    expect(round.state).toBe('closed');
    expect(round.arenaBytes).toBe(0);
  });

  it('property: any arrival order, any subset of NaN clients: the round equals the one-shot call (krum, mean, coordinateMedian)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 12 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer(),
        fc.array(fc.nat(11), { maxLength: 2 }),
        fc.constantFrom('krum', 'mean', 'coordinateMedian'),
        async (n, dd, seed, nanAt, name) => {
          const u = gaussianRows(n, dd, seed);
          for (const k of nanAt) if (k < n) u[k][0] = NaN;
          const options = name === 'krum' ? { f: 1 } : {};
          const round = createRound({ rule: name, options, d: dd });
          u.forEach((x, i) => round.add(i * 3, x));
          const sync = (() => {
            try {
              return createAggregator(name, options).withDecision(u);
            } catch (e) {
              return e as RobustAggError;
            }
          })();
          if (sync instanceof Error) {
            await expect(round.close()).rejects.toMatchObject({ code: sync.code });
            return;
          }
          const got = await round.close();
          expect(got.aggregate).toEqual(sync.aggregate);
          expect(got.decision.raw).toEqual(sync.decision);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('checks on arrival', () => {
  it('refuses a duplicate id, a wrong length, a non-Float32Array, a bad id, late arrivals', async () => {
    const round = createRound({ rule: 'mean', d: 3 });
    round.add('a', Float32Array.of(1, 2, 3));
    expectCode(() => round.add('a', Float32Array.of(1, 2, 3)), 'INVALID_OPTION', /client "a" already sent an update this round/);
    expectCode(() => round.add('b', Float32Array.of(1, 2)), 'LENGTH_MISMATCH', /client "b" sent length 2, the round has d=3/);
    expectCode(() => round.add('c', [1, 2, 3] as never), 'NOT_FLOAT32', /client "c" is not a Float32Array/);
    expectCode(() => round.add(NaN, Float32Array.of(1, 2, 3)), 'INVALID_OPTION', /client id must be a string or a finite number/);
    expectCode(() => round.add('e', Float32Array.of(1, 2, 3), { wieght: 2 } as never), 'UNKNOWN_OPTION', /unknown option 'wieght'/);
    expect(round.size).toBe(1);
    const input = Float32Array.of(3, 2, 1);
    await round.add('d', input);
    input[0] = 100; // the round copied it: the caller may reuse its buffer
    expect((await round.close()).aggregate).toEqual(Float32Array.of(2, 2, 2));
    expectCode(() => round.add('late', Float32Array.of(1, 2, 3)), 'UNSUPPORTED', /arrived after the round was closed/);
    await expect(round.close()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('NaN: dropped and reported by default; refused at arrival with nonFinite: throw (the round stays open)', async () => {
    const dropping = createRound({ rule: 'coordinateMedian', d: 2 });
    dropping.add('x', Float32Array.of(1, 1));
    dropping.add('bad', Float32Array.of(NaN, 1));
    dropping.add('y', Float32Array.of(3, 3));
    const r = await dropping.close();
    expect(r.aggregate).toEqual(Float32Array.of(2, 2));
    expect(r.decision.dropped).toEqual(['bad']);

    const strict = createRound({ rule: 'coordinateMedian', options: { nonFinite: 'throw' }, d: 2 });
    await strict.add('x', Float32Array.of(1, 1));
    await expect(strict.add('bad', Float32Array.of(-Infinity, 1))).rejects.toMatchObject({
      code: 'NON_FINITE_UPDATE',
      message: 'coordinateMedian: client "bad" sent NaN or ±Infinity',
    });
    expect(strict.size).toBe(1);
    void strict.add('y', Float32Array.of(3, 3));
    const r2 = await strict.close();
    expect(r2.aggregate).toEqual(Float32Array.of(2, 2));
    expect(r2.decision.clients).toEqual(['x', 'y']);
  });

  it('maxClients caps the round (and its arena)', async () => {
    const round = createRound({ rule: 'mean', d: 2, expected: 100, maxClients: 3 });
    for (const id of ['a', 'b', 'c']) void round.add(id, Float32Array.of(1, 2));
    expect(round.arenaBytes).toBe(3 * 2 * 4); // the first segment is cut to maxClients rows
    expectCode(() => round.add('d', Float32Array.of(1, 2)), 'UNSUPPORTED', /after the round's maxClients=3 updates/);
    expect((await round.close()).aggregate).toEqual(Float32Array.of(1, 2));
    expectCode(() => createRound({ rule: 'mean', d: 2, maxClients: 0 }), 'INVALID_OPTION', /maxClients must be an integer in \[1, 1000000\]/);
  });

  it('an empty round, bad round options', async () => {
    await expect(createRound({ rule: 'mean', d: 2 }).close()).rejects.toMatchObject({ code: 'EMPTY_UPDATES' });
    expectCode(() => createRound({ rule: 'mean', d: 0 }), 'INVALID_OPTION', /d must be an integer in \[1, 2147483647\]/);
    expectCode(() => createRound({ rule: 'mean', d: 2, expected: 0 }), 'INVALID_OPTION', /expected must be an integer/);
    expectCode(() => createRound({ rule: 'krum', d: 2 }), 'INVALID_OPTION', /krum: option f is required/);
    expectCode(() => createRound({ rule: 'krum', options: { f: 1, F: 2 }, d: 2 }), 'UNKNOWN_OPTION', /unknown option 'F'/);
    expectCode(() => createRound({ rule: 'mean', options: { weights: [1] }, d: 2 }), 'INVALID_OPTION', /give client weights per client/);
    expectCode(() => createRound({ rule: 'foolsGold', options: { clientIds: [] }, d: 2 }), 'INVALID_OPTION', /client ids/);
  });
});

describe('weights', () => {
  it('client weights reach a weighted rule; clients without one weigh 1', async () => {
    const round = createRound({ rule: 'mean', d });
    rows.forEach((u, i) => round.add(ids[i], u, i === 4 ? undefined : { weight: i + 1 }));
    const weights = rows.map((_, i) => (i === 4 ? 1 : i + 1));
    const got = await round.close();
    expect(got.aggregate).toEqual(aggregators.mean(rows, { weights }));
    expect(got.decision.byClient.get(ids[10])!.weight).toBeCloseTo(11 / weights.reduce((a, b) => a + b), 15);
  });

  it('a rule without a weighted form refuses a weight at arrival; bad weights are refused', () => {
    const round = createRound({ rule: 'krum', options: { f: 1 }, d: 2 });
    expectCode(() => round.add('a', Float32Array.of(1, 2), { weight: 3 }), 'INVALID_OPTION', /krum has no weighted form \(client weights are taken by .*\); client "a" gave weight 3/);
    const m = createRound({ rule: 'mean', d: 2 });
    expectCode(() => m.add('a', Float32Array.of(1, 2), { weight: -1 }), 'INVALID_OPTION', /weight of client "a" must be finite and ≥ 0/);
    expectCode(() => m.add('a', Float32Array.of(1, 2), { weight: Infinity }), 'INVALID_OPTION', /must be finite/);
    round.abort();
    m.abort();
  });
});

describe('state across rounds, abort, memory', () => {
  it('foolsGold follows clients by id whatever their arrival order', async () => {
    const order2 = [3, 1, 0, 2, 4];
    const r1rows = gaussianRows(5, d, 7);
    const r2rows = gaussianRows(5, d, 8);
    const names = ['ann', 'bo', 'cy', 'di', 'ed'];
    const round1 = createRound({ rule: 'foolsGold', d });
    r1rows.forEach((u, i) => round1.add(names[i], u));
    const g1 = await round1.close();
    const round2 = createRound({ rule: 'foolsGold', options: { history: g1.history }, d });
    for (const i of order2) round2.add(names[i], r2rows[i]);
    const g2 = await round2.close();
    const s1 = aggregators.foolsGoldWithDecision(r1rows, { clientIds: names });
    const s2 = aggregators.foolsGoldWithDecision(
      order2.map((i) => r2rows[i]),
      { clientIds: order2.map((i) => names[i]), history: s1.history },
    );
    expect(g2.aggregate).toEqual(s2.aggregate);
    expect(g2.decision.raw).toEqual(s2.decision);
  });

  it('a large update is copied in pieces while the event loop runs; close waits for the copies', async () => {
    const dd = 1 << 20;
    const big = [1, 2, 3].map((v) => new Float32Array(dd).fill(v));
    big[1][dd - 1] = NaN; // in the last piece
    const round = createRound({ rule: 'mean', d: dd });
    const adds = big.map((u, i) => round.add(i, u));
    const closing = round.close(); // before the copies finish
    await Promise.all(adds);
    const { aggregate, decision } = await closing;
    expect(decision.dropped).toEqual([1]);
    expect(aggregate[0]).toBe(2);
    expect(aggregate[dd - 1]).toBe(2);
  });

  it('abort by signal: a pending close rejects with the reason, the arena is released, later adds are refused', async () => {
    const controller = new AbortController();
    const big = gaussianRows(40, 20_000, 5);
    const round = createRound({ rule: 'geometricMedian', options: { maxIterations: 10_000, tolerance: 0 }, d: 20_000, signal: controller.signal });
    big.forEach((u, i) => round.add(i, u));
    expect(round.arenaBytes).toBeGreaterThanOrEqual(40 * 20_000 * 4);
    const closing = round.close();
    expect(round.state).toBe('closing');
    setTimeout(() => controller.abort(new Error('client gone')), 5);
    await expect(closing).rejects.toThrow('client gone');
    expect(round.state).toBe('aborted');
    expect(round.arenaBytes).toBe(0);
    expectCode(() => round.add('x', big[0]), 'UNSUPPORTED', /after the round was aborted/);
  });

  it('abort() before close, an already-aborted signal', async () => {
    const round = createRound({ rule: 'mean', d: 4, expected: 100 });
    round.add(1, Float32Array.of(1, 2, 3, 4));
    expect(round.arenaBytes).toBe(100 * 4 * 4);
    round.abort();
    expect(round.arenaBytes).toBe(0);
    await expect(round.close()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const c = new AbortController();
    c.abort(new Error('no'));
    expect(() => createRound({ rule: 'mean', d: 4, signal: c.signal })).toThrow('no');
  });

  it('a pipeline and a configured aggregator run through a round', async () => {
    const agg = createAggregator('pipeline', { pre: [{ name: 'nnm', options: { f: 1 } }], aggregator: 'coordinateMedian' });
    const round = createRound({ rule: agg, d });
    rows.forEach((u, i) => round.add(i, u));
    expect((await round.close()).aggregate).toEqual(aggregators.coordinateMedian(nnm(rows, { f: 1 })));
  });
});
