// The WebGPU kernels in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core, with --enable-unsafe-webgpu: a SwiftShader adapter on a machine without a GPU)
// runs every gpu… rule and kernel on the WGSL kernels, on random, tie-heavy and hostile data
// (±3.4e38, subnormals, ±0, the attacker at row 0, a NaN row), from Float32Array inputs and from
// GPU-resident buffers. Node computes the same cases on the CPU kernels; webgpu-compare.ts says
// what must match. CI installs Chromium (.ci/run); elsewhere the test is skipped with a reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dataSets, decodeSets, encodeSets, runWebGPUCases, type CaseResult, type DataSet } from './webgpu-cases.js';
import { compareWebGPU } from './webgpu-compare.js';
import { chromiumPath, serveDirectory } from './harness.js';

const root = new URL('../..', import.meta.url).pathname;
if (chromiumPath === undefined) {
  if (process.env.CI) throw new Error('webgpu browser test: no Chromium found (CI must install it: apt-get install -y chromium)');
  console.log('webgpu browser test skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
}

interface PageRun {
  adapter: Record<string, unknown> | null;
  reason?: string;
  info?: Record<string, unknown>;
  backend?: string;
  results?: Record<string, CaseResult>;
  fallbackMatches?: boolean;
  propertyResults?: Record<string, CaseResult>;
}

/** Any finite float32: ordinary values, ±0, subnormals, ±3.4e38, repeated values (ties). */
const value = fc.oneof(
  fc.float({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e-45, -1e-45, 3.4028234663852886e38, -3.4028234663852886e38, 1, -1),
  fc.integer({ min: -8, max: 8 }).map((k) => k / 4),
);

/** Random shapes (n = 1 and d = 1 included) of random finite values; the coordinate-wise rules and the kernels. */
const dataSetArb = fc
  .record({ n: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 40 }) })
  .chain(({ n, d }) => fc.array(fc.array(value, { minLength: d, maxLength: d }), { minLength: n, maxLength: n }))
  .map((rows): DataSet => ({ rows: rows.map((r) => Float32Array.from(r)), f: Math.floor((rows.length - 1) / 2), fBulyan: null, coordinateOnly: true }));

/** 40 generated data sets (fast-check, fixed seed): checked in one page run. */
function propertySets(): Record<string, DataSet> {
  const samples = fc.sample(dataSetArb, { seed: 20261203, numRuns: 40 });
  return Object.fromEntries(samples.map((set, i) => [`prop${i}`, set]));
}

describe.runIf(chromiumPath !== undefined)('WebGPU kernels in headless Chromium', () => {
  let dir = '';
  let server: Server;
  let browser: import('playwright-core').Browser;
  let run: PageRun;
  let node: Record<string, CaseResult>;
  let property: Record<string, DataSet> = {};
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'robust-agg-webgpu-'));
    await build({
      entryPoints: [join(root, 'test/browser/webgpu-entry.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(dir, 'bundle.js'),
      logLevel: 'error',
    });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script>');
    const served = await serveDirectory(dir);
    server = served.server;
    const { origin } = served;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu'],
    });
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'runWebGPU' in globalThis);
    property = propertySets();
    run = (await page.evaluate((p) => (globalThis as unknown as { runWebGPU(p: unknown): Promise<unknown> }).runWebGPU(p), encodeSets(property))) as PageRun;
    await page.close();
    const lib = await import('../../src/index.js');
    node = await runWebGPUCases(lib);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('Chromium exposes a WebGPU adapter and the kernels compile on it', () => {
    if (run.adapter === null) {
      console.log(`webgpu browser test: Chromium has no WebGPU adapter (${String(run.reason)})`);
      if (process.env.CI) throw new Error(`no WebGPU adapter in Chromium: ${String(run.reason)}`);
      return;
    }
    console.log(`webgpu browser test: adapter ${JSON.stringify(run.adapter)} (SwiftShader is a CPU emulation)`);
    expect(run.backend).toBe('webgpu');
    expect(run.info).toMatchObject({ source: 'device option' });
    expect(problems).toEqual([]);
  });

  it('Node computes every case on the CPU kernels (no case throws)', () => {
    const errors = Object.entries(node).filter(([, r]) => r.error !== undefined);
    expect(errors).toEqual([]);
  });

  it('every rule and kernel on WebGPU matches the CPU kernels: same decisions, same medians and picks bit for bit, sums within float32 rounding, Gram within the per-pair bound', () => {
    if (run.adapter === null) return;
    const results = run.results as Record<string, CaseResult>;
    expect(compareWebGPU(dataSetsForNode(), node, results)).toEqual([]);
  });

  it('GPU-resident inputs (uploadUpdates, GpuVector outputs) give the bits of the Float32Array path', () => {
    if (run.adapter === null) return;
    const results = run.results as Record<string, CaseResult>;
    const resident = Object.keys(results).filter((k) => k.endsWith('/resident'));
    expect(resident.length).toBeGreaterThan(12);
    for (const key of resident) {
      expect(results[key].error, key).toBeUndefined();
      expect(results[key].bits, key).toBe(results[key.slice(0, -'/resident'.length)].bits);
    }
  });

  it('property: on 40 random shapes of random finite values (fast-check), medians bit for bit, trimmed means and means around the median within float32 rounding, Gram, norms and cosines within the bound', async () => {
    if (run.adapter === null) return;
    const lib = await import('../../src/index.js');
    const want = await runWebGPUCases(lib, undefined, decodeSets(encodeSets(property)));
    expect(Object.keys(run.propertyResults ?? {}).length).toBeGreaterThan(300);
    expect(compareWebGPU(property, want, run.propertyResults as Record<string, CaseResult>)).toEqual([]);
  });

  it('GPU-resident updates under another backend run on the CPU kernels (read back, result uploaded)', () => {
    if (run.adapter === null) return;
    expect(run.fallbackMatches).toBe(true);
  });

  it('the comparison is not vacuous: a changed median bit or a changed pick is caught', () => {
    if (run.adapter === null) return;
    const results = structuredClone(run.results as Record<string, CaseResult>);
    const med = results['random/coordinateMedian'];
    results['random/coordinateMedian'] = { ...med, bits: `${(med.bits as string).slice(0, -1)}f`, values: [...(med.values as number[]).slice(0, -1), 12345] };
    const krum = results['random/krum'];
    results['random/krum'] = { ...krum, decision: { ...(krum.decision as object), selected: [0] } };
    const found = compareWebGPU(dataSetsForNode(), node, results);
    expect(found.some((p) => p.startsWith('random/coordinateMedian'))).toBe(true);
    expect(found.some((p) => p.startsWith('random/krum'))).toBe(true);
  });
});

let cachedSets: ReturnType<typeof dataSets> | null = null;
function dataSetsForNode(): ReturnType<typeof dataSets> {
  return cachedSets as ReturnType<typeof dataSets>;
}
beforeAll(async () => {
  cachedSets = dataSets(await import('../../src/index.js'));
});
