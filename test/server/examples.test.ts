// The examples of examples/server/ at small size: the HTTP aggregation server (simulated clients
// over real HTTP, the result equal to the one-shot call on the arrival order, /health answering
// while rounds close, bad requests refused), the Flower-style strategy (FoolsGold's history carried
// across rounds by client id; FedAvg weights from num_examples) and the browser page aggregating in
// a Web Worker in headless Chromium (same bits as Node, with and without cross-origin isolation).
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import { chromiumPath } from '../browser/harness.js';

/** The examples are plain ES modules (no types): loaded by URL. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (path: string): Promise<any> => import(/* @vite-ignore */ new URL(path, import.meta.url).href);
const { awaitResult, clientUpdate, simulateClients, startServer } = await load('../../examples/server/http-server.mjs');
const { runFederation } = await load('../../examples/server/flower-strategy.mjs');
const { exampleUpdates } = await load('../../examples/server/browser/data.mjs');
const { serve } = await load('../../examples/server/browser/serve.mjs');

afterAll(() => lib.closeAggregationWorkers());

describe('examples/server/http-server.mjs', () => {
  it('aggregates rounds of simulated clients over HTTP like the one-shot call', async () => {
    const d = 3000;
    const n = 9;
    const server = await startServer({ lib, rule: 'multiKrum', options: { f: 2 }, d, expected: n });
    try {
      for (const r of [1, 2]) {
        await simulateClients({ url: server.url, round: r, n, d, attackers: 2 });
        const { result } = await awaitResult(server.url, r);
        // Clients arrive concurrently: rebuild the list in the order the round received them.
        const order = result.decision.clients;
        const updates = order.map((id: string) => clientUpdate(Number(id.slice(1)), d, Number(id.slice(1)) < 2));
        const oneShot = lib.multiKrumWithDecision(updates, { f: 2 });
        expect(result.aggregate).toEqual(Array.from(oneShot.aggregate.subarray(0, 8)));
        expect(result.decision.selected).toEqual(oneShot.decision.selected!.map((i) => order[i]));
        expect(result.decision.selected).not.toContain('c0');
        expect(result.decision.selected).not.toContain('c1');
      }
      // Refusals: a wrong length, a duplicate client, a closed round.
      const short = await fetch(`${server.url}/rounds/3/updates?client=x`, { method: 'POST', body: new Uint8Array(8) });
      expect(short.status).toBe(400);
      const body = new Uint8Array(clientUpdate(0, d, false).buffer);
      expect((await fetch(`${server.url}/rounds/3/updates?client=y`, { method: 'POST', body })).status).toBe(202);
      const dup = await fetch(`${server.url}/rounds/3/updates?client=y`, { method: 'POST', body });
      expect(dup.status).toBe(409);
      expect(((await dup.json()) as { message: string }).message).toMatch(/already sent an update/);
      expect((await fetch(`${server.url}/rounds/1/updates?client=z`, { method: 'POST', body })).status).toBe(409);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('weights from the query reach a weighted rule', async () => {
    const d = 2000;
    const server = await startServer({ lib, rule: 'mean', d, expected: 5 });
    try {
      await simulateClients({ url: server.url, n: 5, d, weights: true });
      const { result } = await awaitResult(server.url, 1);
      const order = result.decision.clients;
      const updates = order.map((id: string) => clientUpdate(Number(id.slice(1)), d, false));
      const weights = order.map((id: string) => 10 + Number(id.slice(1)));
      expect(result.aggregate).toEqual(Array.from(lib.mean(updates, { weights }).subarray(0, 8)));
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('examples/server/flower-strategy.mjs', () => {
  it('FoolsGold: the strategy carries the history across rounds and equals the direct chain', async () => {
    const { history } = await runFederation(lib, { rule: 'foolsGold', options: {}, rounds: 3, clients: 6, sybilCount: 2, d: 40 });
    let carried: lib.FoolsGoldHistory | undefined;
    for (const h of history) {
      const updates = h.results.map((r: { parameters: Float32Array }) => r.parameters);
      const clientIds = h.results.map((r: { cid: string }) => r.cid);
      const direct = lib.foolsGoldWithDecision(updates, { clientIds, ...(carried === undefined ? {} : { history: carried }) });
      carried = direct.history;
      expect(h.aggregate).toEqual(direct.aggregate);
    }
    // By the last round the sybils (c0, c1) carry less weight than any honest client.
    const last = history[history.length - 1].weights;
    expect(Math.max(last.c0, last.c1)).toBeLessThan(Math.min(last.c2, last.c3, last.c4, last.c5));
  }, 60_000);

  it('FedAvg: mean weighted by num_examples', async () => {
    const { history } = await runFederation(lib, { rule: 'mean', options: {}, rounds: 2, clients: 4, sybilCount: 0, d: 30 });
    for (const h of history) {
      const updates = h.results.map((r: { parameters: Float32Array }) => r.parameters);
      const weights = h.results.map((r: { numExamples: number }) => r.numExamples);
      expect(h.aggregate).toEqual(lib.mean(updates, { weights }));
    }
  }, 60_000);
});

const browserBuild = new URL('../../dist/browser/index.js', import.meta.url).pathname;
if (chromiumPath === undefined || !existsSync(browserBuild)) {
  console.log('browser example skipped: needs Chromium (/usr/bin/chromium or CHROMIUM_PATH) and the browser build (npm run build)');
}

describe.runIf(chromiumPath !== undefined && existsSync(browserBuild))('examples/server/browser (headless Chromium)', () => {
  it.each([true, false])('aggregates in a Web Worker with the same bits as Node (cross-origin isolated: %s)', async (isolated) => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--headless=new'] });
    const server = await serve({ isolated });
    const problems: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      const [n, d, attackers] = [9, 3000, 2];
      await page.goto(`${server.url}?n=${n}&d=${d}&attackers=${attackers}`);
      const got = (await page.evaluate('globalThis.exampleResult')) as {
        shared: boolean;
        krum: { selected: number[]; aggregate: number[] };
        gm: { clients: string[]; aggregate: number[] };
      };
      expect(got.shared).toBe(isolated);
      const updates = exampleUpdates(n, d, attackers);
      const krum = lib.krumWithDecision(updates, { f: attackers });
      expect(got.krum.selected).toEqual(krum.decision.selected);
      expect(got.krum.aggregate).toEqual(Array.from(krum.aggregate));
      expect(got.gm.aggregate).toEqual(Array.from(lib.geometricMedian(updates)));
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});
