// The library in a real browser: headless Chromium (the system one, from Debian's `chromium`
// package, driven by playwright-core) loads the library as a browser user gets it — the package's
// `browser` export (dist/browser/, built by tsup with the *.browser.ts swaps), bundled by esbuild —
// and runs the main rules on the default (fast) kernels, on the page's main thread and in a Web Worker.
// Results must equal Node's bit for bit, the fast kernels must really have loaded, and the page
// must log no error. CI installs Chromium (.ci/run); elsewhere the test is skipped with a reason
// when no Chromium is found.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCases, type GramRuleSnapshot } from './cases.js';
import { chromiumPath, serveDirectory } from './harness.js';

const root = new URL('../..', import.meta.url).pathname;
if (chromiumPath === undefined) {
  if (process.env.CI) throw new Error('browser test: no Chromium found (CI must install it: apt-get install -y chromium)');
  console.log('browser test skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
}

interface Run {
  results: Record<string, string>;
  status: { wasm: boolean };
}

const browserBuild = join(root, 'dist/browser/index.js');
if (chromiumPath !== undefined && !existsSync(browserBuild)) {
  if (process.env.CI) throw new Error('browser test: dist/browser/index.js is missing (npm test builds it first)');
  console.log('browser test skipped: no browser build at dist/browser/index.js (run npm run build)');
}

/**
 * page-entry.ts imports the library's source (for its types); in the page, that import must be the
 * published browser build instead, so the test checks what users ship, not what vitest compiles.
 */
const publishedBrowserBuild = {
  name: 'published-browser-build',
  setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string }) => { path: string }): void }) {
    b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: browserBuild }));
  },
};

describe.runIf(chromiumPath !== undefined && existsSync(browserBuild))('in headless Chromium', () => {
  let dir = '';
  let server: Server;
  let origin = '';
  let browser: import('playwright-core').Browser;
  const problems: string[] = [];
  let node: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'robust-agg-browser-'));
    await build({
      entryPoints: [join(root, 'test/browser/page-entry.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(dir, 'bundle.js'),
      logLevel: 'error',
      plugins: [publishedBrowserBuild],
    });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script>');
    ({ server, origin } = await serveDirectory(dir));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--headless=new'] });
    node = runCases(await import('../../src/index.js'));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function openPage() {
    problems.length = 0;
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'runInPage' in globalThis);
    return page;
  }

  it('the page bundle is the browser build: no Node-only worker code in it', () => {
    const bundle = readFileSync(join(dir, 'bundle.js'), 'utf8');
    expect(bundle).not.toMatch(/worker_threads/);
  });

  it('Node computes every case (no case throws)', () => {
    for (const [name, bits] of Object.entries(node)) expect(bits, name).not.toMatch(/^error/);
  });

  it('the main thread of a page gives the same bits as Node, on the WebAssembly kernels', async () => {
    const page = await openPage();
    const run = (await page.evaluate('runInPage()')) as Run;
    expect(run.status.wasm).toBe(true);
    expect(run.results).toEqual(node);
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('the relaxed-SIMD Gram module loads in Chromium and decides as the default one', async () => {
    const page = await openPage();
    const run = (await page.evaluate('runRelaxedInPage()')) as {
      enabled: boolean;
      disabled: boolean;
      before: GramRuleSnapshot;
      after: GramRuleSnapshot;
      back: GramRuleSnapshot;
      status: { wasm: boolean };
    };
    expect(run.enabled).toBe(true); // Chromium ≥ 114 validates relaxed SIMD
    expect(run.disabled).toBe(false);
    expect(run.status.wasm).toBe(true);
    expect(run.after.krumSelected).toEqual(run.before.krumSelected);
    expect(run.after.multiKrumSelected).toEqual(run.before.multiKrumSelected);
    // One rounding per product instead of two: within the Gram kernel's accuracy, not the same bits.
    for (let i = 0; i < run.before.krumScores.length; i++) {
      const a = run.before.krumScores[i];
      const b = run.after.krumScores[i];
      if (!Number.isFinite(a)) expect(b).toBe(a);
      else expect(Math.abs(a - b)).toBeLessThanOrEqual(2 ** -17 * Math.abs(a));
    }
    for (let k = 0; k < run.before.geometricMedian.length; k++) {
      expect(Math.abs(run.after.geometricMedian[k] - run.before.geometricMedian[k])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(run.before.geometricMedian[k])));
    }
    expect(run.back).toEqual(run.before); // back on the default module: the same bits again
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('a Web Worker gives the same bits as Node, on the WebAssembly kernels', async () => {
    const page = await openPage();
    const run = (await page.evaluate('runInWorker()')) as Run;
    expect(run.status.wasm).toBe(true);
    expect(run.results).toEqual(node);
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
