// enableRelaxedSimd() in headless Chromium (which has relaxed SIMD; Node 20 has not): Krum, Multi-Krum
// and the geometric median timed on the default Gram module and on the relaxed-SIMD one, in
// alternating calls in one page (one thread: a page's kernels do not use worker threads), so the
// machine's load falls on both alike. Prints the median time of each and the ratio.
//
//   npm run build && node scripts/relaxed-ab-browser.mjs [--n 100] [--d 200000] [--reps 7]
//   (CHROMIUM_PATH, else /usr/bin/chromium)
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const n = flag('--n', 100);
const d = flag('--d', 200_000);
const reps = flag('--reps', 7);
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p !== undefined && existsSync(p),
);
if (chromiumPath === undefined) {
  console.error('no Chromium (set CHROMIUM_PATH or apt-get install -y chromium)');
  process.exit(1);
}
const bundle = await build({
  entryPoints: ['dist/browser/index.js'],
  bundle: true,
  format: 'iife',
  globalName: 'RA',
  write: false,
  logLevel: 'error',
});
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--headless=new'] });
try {
  const page = await browser.newPage();
  await page.addScriptTag({ content: bundle.outputFiles[0].text });
  const result = await page.evaluate(
    async ({ n, d, reps }) => {
      const RA = globalThis.RA;
      const rng = RA.createRng(1);
      const u = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.next() - 0.5));
      const f = Math.floor(n / 10);
      const rules = {
        krum: () => RA.krum(u, { f }),
        multiKrum: () => RA.multiKrum(u, { f }),
        geometricMedian: () => RA.geometricMedian(u),
      };
      const times = {};
      let relaxedAvailable = false;
      for (let r = -1; r < reps; r++) {
        for (const relaxed of [false, true]) {
          const on = RA.enableRelaxedSimd(relaxed);
          if (relaxed) relaxedAvailable = on;
          await RA.initKernels();
          for (const [name, run] of Object.entries(rules)) {
            const t0 = performance.now();
            run();
            const ms = performance.now() - t0;
            if (r >= 0) (times[`${name} ${relaxed ? 'relaxed' : 'default'}`] ??= []).push(ms);
          }
        }
      }
      return { relaxedAvailable, times, userAgent: navigator.userAgent };
    },
    { n, d, reps },
  );
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(`${result.userAgent}\nn = ${n}, d = ${d}, ${reps} alternating calls each (medians, ms); relaxed SIMD available: ${result.relaxedAvailable}`);
  for (const rule of ['krum', 'multiKrum', 'geometricMedian']) {
    const a = median(result.times[`${rule} default`]);
    const b = median(result.times[`${rule} relaxed`]);
    console.log(`${rule.padEnd(16)} default ${a.toFixed(1).padStart(8)}  relaxed ${b.toFixed(1).padStart(8)}  relaxed/default ${(b / a).toFixed(3)}`);
  }
} finally {
  await browser.close();
}
