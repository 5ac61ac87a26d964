// A robust aggregation server over HTTP (node:http, no dependencies): clients POST their update as
// raw little-endian float32 bytes, the server adds each one to the current round as it arrives
// (checked and copied once into the round's arena while the event loop keeps serving), closes the
// round when the expected number of clients has sent, and serves the result. The rule runs in a
// worker thread, so the server keeps answering requests while it aggregates.
//
//   npm run build && node examples/server/http-server.mjs                 # 20 simulated clients, d = 100 000
//   node examples/server/http-server.mjs --clients 50 --d 1000000 --rule geometricMedian
//
// Protocol (one round at a time, numbered from 1):
//   POST /rounds/<r>/updates?client=<id>&weight=<w>   body: d float32 values (4·d bytes)
//        → 202 {"received": k} | 400/409 {"error": code, "message": …}
//   GET  /rounds/<r>/result → 200 {"round", "aggregate" (first 8 values), "norm", "decision"} once closed, 404 before
//   GET  /health            → 200 {"round", "received"}: answered at once even while a rule runs
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

/**
 * Starts the server. `lib` is the robust-agg module (the tests pass the sources; the command line
 * uses the build). Resolves with { url, close(), results } once listening.
 */
export async function startServer({ lib, rule, options = {}, d, expected, port = 0, log = () => {} }) {
  const results = new Map(); // round number → result JSON
  let roundNumber = 1;
  let round = lib.createRound({ rule, options, d, expected });

  const reply = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  async function closeRound() {
    const number = roundNumber;
    const closing = round;
    roundNumber++;
    round = lib.createRound({ rule, options, d, expected }); // the next round opens at once
    const started = performance.now();
    const { aggregate, decision } = await closing.close();
    let norm = 0;
    for (const v of aggregate) norm += v * v;
    const result = {
      round: number,
      aggregate: Array.from(aggregate.subarray(0, 8)),
      norm: Math.sqrt(norm),
      decision: {
        rule: decision.rule,
        clients: decision.clients,
        dropped: decision.dropped,
        selected: decision.selected ?? null,
        weights: Object.fromEntries([...decision.byClient].map(([id, o]) => [id, o.weight ?? null])),
      },
      closeMs: performance.now() - started,
    };
    results.set(number, result);
    log(`round ${number} closed in ${result.closeMs.toFixed(0)} ms: selected ${JSON.stringify(result.decision.selected)}`);
    return result;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/health') return reply(res, 200, { round: roundNumber, received: round.size });
    if (parts[0] !== 'rounds' || parts.length !== 3) return reply(res, 404, { error: 'NOT_FOUND' });
    const r = Number(parts[1]);
    if (req.method === 'GET' && parts[2] === 'result') {
      return results.has(r) ? reply(res, 200, results.get(r)) : reply(res, 404, { error: 'NOT_CLOSED' });
    }
    if (req.method !== 'POST' || parts[2] !== 'updates') return reply(res, 404, { error: 'NOT_FOUND' });
    if (r !== roundNumber) return reply(res, 409, { error: 'WRONG_ROUND', message: `round ${roundNumber} is open` });
    const client = url.searchParams.get('client');
    const weight = url.searchParams.has('weight') ? Number(url.searchParams.get('weight')) : undefined;
    const chunks = [];
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes > 4 * d) req.destroy(); // no client makes the server buffer more than one update
      else chunks.push(chunk);
    });
    req.on('end', async () => {
      if (bytes !== 4 * d) return reply(res, 400, { error: 'LENGTH_MISMATCH', message: `expected ${4 * d} bytes, got ${bytes}` });
      const body = Buffer.concat(chunks, bytes); // a fresh, 4-byte-aligned buffer for bodies over 4 KiB
      const update =
        body.byteOffset % 4 === 0 ? new Float32Array(body.buffer, body.byteOffset, d) : new Float32Array(Uint8Array.from(body).buffer);
      const open = round;
      try {
        // add() checks the arrival at once (duplicate id, length, weight) and copies the update in
        // pieces; it resolves once the update is in the round's arena.
        await open.add(client, update, weight === undefined ? undefined : { weight });
      } catch (e) {
        return reply(res, e.code === 'INVALID_OPTION' ? 409 : 400, { error: e.code ?? 'ERROR', message: e.message });
      }
      reply(res, 202, { received: open.size });
      if (open === round && open.size === expected) closeRound().catch((e) => log(`round failed: ${e.message}`));
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    results,
    close: () => {
      round.abort();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Deterministic update of client i (honest ones agree up to noise; attackers send a scaled flip). */
export function clientUpdate(i, d, attacker) {
  const x = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const honest = Math.sin(j * 0.01) + 0.05 * Math.sin(i * 12.9898 + j * 78.233);
    x[j] = attacker ? -10 * honest : honest;
  }
  return x;
}

/** n simulated clients sending round `r` concurrently; the first `attackers` are Byzantine. */
export async function simulateClients({ url, round = 1, n, d, attackers = 0, weights = false }) {
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const body = clientUpdate(i, d, i < attackers);
      const query = `client=c${i}${weights ? `&weight=${10 + i}` : ''}`;
      const res = await fetch(`${url}/rounds/${round}/updates?${query}`, { method: 'POST', body: new Uint8Array(body.buffer) });
      if (res.status !== 202) throw new Error(`client ${i}: ${res.status} ${await res.text()}`);
    }),
  );
}

/** Waits for round `r`'s result, polling /health meanwhile (which must answer while the rule runs). */
export async function awaitResult(url, r, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  let healthChecks = 0;
  for (;;) {
    const res = await fetch(`${url}/rounds/${r}/result`);
    if (res.status === 200) return { result: await res.json(), healthChecks };
    if (Date.now() > until) throw new Error(`round ${r}: no result after ${timeoutMs} ms`);
    if ((await fetch(`${url}/health`)).status === 200) healthChecks++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function parseArgs(argv) {
  const args = { clients: 20, d: 100_000, attackers: 3, rule: 'multiKrum', rounds: 2 };
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k].replace(/^--/, '');
    if (!(key in args)) throw new Error(`unknown flag ${argv[k]} (known: ${Object.keys(args).map((a) => `--${a}`).join(', ')})`);
    args[key] = key === 'rule' ? argv[k + 1] : Number(argv[k + 1]);
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const lib = await import('../../dist/index.js');
  const info = lib.listAggregators().find((r) => r.name === args.rule);
  const options = 'f' in (info?.options ?? {}) ? { f: args.attackers } : {};
  const server = await startServer({ lib, rule: args.rule, options, d: args.d, expected: args.clients, log: console.log });
  console.log(`${args.rule} server at ${server.url}: ${args.rounds} rounds of ${args.clients} clients (${args.attackers} attackers), d = ${args.d}`);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let r = 1; r <= args.rounds; r++) {
    await simulateClients({ url: server.url, round: r, n: args.clients, d: args.d, attackers: args.attackers });
    const { result, healthChecks } = await awaitResult(server.url, r);
    console.log(`round ${r}: aggregate[0..3] = ${result.aggregate.slice(0, 4).map((v) => v.toFixed(4)).join(', ')}; norm ${result.norm.toFixed(2)}; ` +
      `attackers selected: ${(result.decision.selected ?? []).filter((id) => Number(id.slice(1)) < args.attackers).length}; ` +
      `/health answered ${healthChecks}× while the round closed`);
  }
  h.disable();
  console.log(`event-loop delay over the run: max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
  await server.close();
  lib.closeAggregationWorkers();
}
