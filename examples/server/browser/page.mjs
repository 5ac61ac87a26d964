// A browser page that aggregates without freezing: robust-agg's aggregateAsync and rounds run the
// rule in a Web Worker (started from the library's own worker script), so the page keeps animating
// while krum and a round of geometricMedian run over the clients' updates. With cross-origin
// isolation (COOP/COEP headers) the updates go to the worker in SharedArrayBuffers; without it
// they are copied and transferred.
//
//   npm run build && node examples/server/browser/serve.mjs   # then open the printed address
import { aggregateAsync, createRound } from '../../../dist/browser/index.js';
import { exampleUpdates } from './data.mjs';

const params = new URLSearchParams(location.search);
const n = Number(params.get('n') ?? 20);
const d = Number(params.get('d') ?? 100_000);
const attackers = Number(params.get('attackers') ?? 3);
const out = document.getElementById('out');
const show = (line) => (out.textContent += `${line}\n`);

// The page's heartbeat: a frame counter that keeps moving while the worker aggregates.
let frames = 0;
let longestGapMs = 0;
let last = performance.now();
(function tick() {
  const now = performance.now();
  longestGapMs = Math.max(longestGapMs, now - last);
  last = now;
  frames++;
  document.getElementById('frames').textContent = String(frames);
  requestAnimationFrame(tick);
})();

async function run() {
  const updates = exampleUpdates(n, d, attackers);
  show(`${n} clients (${attackers} attackers), d = ${d}, shared memory: ${typeof SharedArrayBuffer !== 'undefined'}`);
  longestGapMs = 0;
  const krum = await aggregateAsync('krum', updates, { f: attackers });
  show(`krum picked client ${krum.decision.selected[0]}`);
  const round = createRound({ rule: 'geometricMedian', d, expected: n });
  for (let i = 0; i < n; i++) await round.add(`client-${i}`, updates[i]);
  const gm = await round.close();
  show(`geometric median: aggregate[0..2] = ${Array.from(gm.aggregate.subarray(0, 3), (v) => v.toFixed(4)).join(', ')}`);
  show(`longest gap between frames while aggregating: ${longestGapMs.toFixed(0)} ms`);
  return {
    shared: typeof SharedArrayBuffer !== 'undefined',
    krum: { selected: krum.decision.selected, aggregate: Array.from(krum.aggregate) },
    gm: { clients: gm.decision.clients, aggregate: Array.from(gm.aggregate) },
    longestGapMs,
  };
}

globalThis.exampleResult = run().catch((e) => {
  show(`error: ${e.message}`);
  throw e;
});
