// The peak probes of scripts/wasm-peak.mjs in headless Chromium, which has relaxed SIMD (Node 20
// has not): f32x4 mul+add chains, f32x4.relaxed_madd chains, and the Gram kernel's 4 × 2 register
// tile both ways. Says what a relaxed-SIMD build of the Gram kernel could gain where it runs.
//
//   node scripts/wasm-peak-browser.mjs [--ms 1500]        (CHROMIUM_PATH, else /usr/bin/chromium)
//
// The page's clock is coarse (about 0.1 ms without cross-origin isolation), so each call runs
// about 2 ms and the fastest of many calls counts, as in the Node probe.
import { existsSync } from 'node:fs';
import { assemble, probeWat, tileWat } from './wasm-peak.mjs';

const args = process.argv.slice(2);
const ms = Number(args[args.indexOf('--ms') + 1] ?? 1500) || 1500;
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p !== undefined && existsSync(p),
);
if (chromiumPath === undefined) {
  console.error('no Chromium (set CHROMIUM_PATH or apt-get install -y chromium)');
  process.exit(1);
}
const probes = [
  ['mul+add, 8 chains', 8, assemble(probeWat(8, 0, false), false)],
  ['mul+add, 12 chains', 12, assemble(probeWat(12, 0, false), false)],
  ['relaxed_madd, 8 chains', 8, assemble(probeWat(8, 0, true), true)],
  ['relaxed_madd, 12 chains', 12, assemble(probeWat(12, 0, true), true)],
  ['Gram 4x2 tile, mul+add', 8, assemble(tileWat(false), false)],
  ['Gram 4x2 tile, relaxed_madd', 8, assemble(tileWat(true), true)],
].map(([name, chains, bytes]) => ({ name, chains, b64: Buffer.from(bytes).toString('base64') }));

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--headless=new'] });
try {
  const page = await browser.newPage();
  const results = await page.evaluate(
    ({ probes, ms }) => {
      const out = [];
      for (const p of probes) {
        const bytes = Uint8Array.from(atob(p.b64), (c) => c.charCodeAt(0));
        if (!WebAssembly.validate(bytes)) {
          out.push({ name: p.name, gmacs: null });
          continue;
        }
        const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run;
        let iters = 1 << 14;
        const w0 = performance.now();
        while (performance.now() - w0 < 300) run(iters); // into the optimising tier
        for (;;) {
          const t0 = performance.now();
          run(iters);
          if (performance.now() - t0 > 2 || iters > 1 << 26) break;
          iters *= 2;
        }
        let best = Infinity;
        const s0 = performance.now();
        while (performance.now() - s0 < ms / probes.length) {
          const t0 = performance.now();
          run(iters);
          best = Math.min(best, performance.now() - t0);
        }
        out.push({ name: p.name, gmacs: (iters * p.chains * 4) / (best * 1e6) });
      }
      return { ua: navigator.userAgent, out };
    },
    { probes, ms: ms * probes.length },
  );
  console.log(`${results.ua}\nWebAssembly SIMD in Chromium, one thread (G multiply-adds/s, f32)`);
  for (const r of results.out) console.log(`  ${r.name.padEnd(30)} ${r.gmacs === null ? 'not supported' : r.gmacs.toFixed(1).padStart(6)}`);
} finally {
  await browser.close();
}
