// `npm run bench -- --backend webgpu`: the WGSL kernels (robust-agg's gpu… rules) timed on a WebGPU
// device. Node first, through the `webgpu` package (Dawn), when it finds an adapter; otherwise
// headless Chromium (/usr/bin/chromium, --enable-unsafe-webgpu) through a bench page that bundles
// the library's browser build with bench/lib/webgpu-body.mjs. Reports the adapter (vendor,
// architecture), the upload time apart from the compute time (rules run on GPU-resident updates),
// and the Gram's GFLOP/s. On a machine without a GPU, Chromium's adapter is SwiftShader, a CPU
// emulation: its numbers are labelled so and say nothing about a GPU.
//
// Flags (after --backend webgpu): --n a,b  --d a,b  (default: n=100, d=1e6,1e7 and n=1000, d=1e6 on
// a real adapter; n=100, d=1e5 on an emulated one), --only rule,rule, --samples k (default 5),
// --out file.json, --chromium path.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runWebGPUBench } from './webgpu-body.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GPU_GRID = [{ n: 100, d: 1e6 }, { n: 100, d: 1e7 }, { n: 1000, d: 1e6 }];
const EMULATED_GRID = [{ n: 100, d: 1e5 }];

/** Whether the argv asks for the webgpu backend (`--backend webgpu` or a list holding it). */
export function wantsWebGPU(argv) {
  const i = argv.indexOf('--backend');
  return i >= 0 && (argv[i + 1] ?? '').split(',').includes('webgpu');
}

/** argv without webgpu in its --backend list (null when nothing else was asked for). */
export function withoutWebGPU(argv) {
  const i = argv.indexOf('--backend');
  const rest = argv[i + 1].split(',').filter((b) => b !== 'webgpu');
  if (rest.length === 0) return null;
  return [...argv.slice(0, i + 1), rest.join(','), ...argv.slice(i + 2)];
}

function parse(argv) {
  const o = { n: null, d: null, only: null, samples: 5, out: null, chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--n') o.n = v().split(',').map(Number);
    else if (a === '--d') o.d = v().split(',').map(Number);
    else if (a === '--only') o.only = v().split(',');
    else if (a === '--samples') o.samples = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--chromium') o.chromium = v();
  }
  return o;
}

function cellsFor(o, emulated) {
  if (o.n === null && o.d === null) return emulated ? EMULATED_GRID : GPU_GRID;
  const ns = o.n ?? [100];
  const ds = o.d ?? [emulated ? 1e5 : 1e6];
  return ns.flatMap((n) => ds.map((d) => ({ n, d })));
}

function describeInfo(raw) {
  const info = { vendor: raw?.vendor ?? '', architecture: raw?.architecture ?? '', device: raw?.device ?? '', description: raw?.description ?? '' };
  const all = Object.values(info).join(' ').toLowerCase();
  return { ...info, emulated: /swiftshader|llvmpipe|lavapipe|software/.test(all) };
}

/** Node + Dawn: the bench in this process, or null when Dawn finds no adapter. */
async function inNode(o, log) {
  let gpu;
  try {
    gpu = (await import('webgpu')).create([]);
  } catch (e) {
    log(`webgpu bench: the webgpu package did not load (${e.message})`);
    return null;
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    log("webgpu bench: Node's webgpu package (Dawn) found no adapter here; trying headless Chromium");
    return null;
  }
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  const lib = await import(pathToFileURL(join(ROOT, 'dist/index.js')).href);
  await lib.initWebGPU({ device });
  lib.setKernelBackend('webgpu');
  const adapterInfo = describeInfo(adapter.info);
  const records = await runWebGPUBench(lib, {
    cells: cellsFor(o, adapterInfo.emulated),
    samples: o.samples,
    only: o.only,
    idle: () => device.queue.onSubmittedWorkDone(),
    log,
  });
  lib.releaseWebGPU();
  device.destroy();
  return { where: 'node (webgpu package, Dawn)', adapter: adapterInfo, records };
}

/** Headless Chromium: the bench page. */
async function inChromium(o, log) {
  if (!existsSync(o.chromium)) {
    log(`webgpu bench: no Chromium at ${o.chromium} (apt-get install -y chromium, or --chromium path)`);
    return null;
  }
  const browserBuild = join(ROOT, 'dist/browser/index.js');
  if (!existsSync(browserBuild)) throw new Error('webgpu bench: dist/browser/index.js is missing (npm run build)');
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'robust-agg-webgpu-bench-'));
  const entry = join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    `import * as lib from ${JSON.stringify(browserBuild)};
import { runWebGPUBench } from ${JSON.stringify(join(ROOT, 'bench/lib/webgpu-body.mjs'))};
globalThis.benchWebGPU = async (o) => {
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  await lib.initWebGPU({ device });
  lib.setKernelBackend('webgpu');
  const info = { vendor: adapter.info?.vendor, architecture: adapter.info?.architecture, device: adapter.info?.device, description: adapter.info?.description };
  const emulated = /swiftshader|llvmpipe|lavapipe|software/.test(Object.values(info).join(' ').toLowerCase());
  const cells = o.cells ?? (emulated ? o.emulatedGrid : o.gpuGrid);
  const records = await runWebGPUBench(lib, { cells, samples: o.samples, only: o.only, idle: () => device.queue.onSubmittedWorkDone(), log: (m) => console.log(m) });
  lib.releaseWebGPU();
  device.destroy();
  return { info, records };
};
`,
  );
  await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'bundle.js'), logLevel: 'error' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script>');
  const server = createServer((req, res) => {
    const file = req.url === '/bundle.js' ? 'bundle.js' : 'index.html';
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(readFileSync(join(dir, file)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: o.chromium,
    // Vulkan where a GPU driver exists; SwiftShader (CPU) otherwise.
    args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu', '--enable-features=Vulkan'],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(`  [page] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => 'benchWebGPU' in globalThis);
    const cells = o.n === null && o.d === null ? null : cellsFor(o, false);
    const result = await page.evaluate(
      (arg) => globalThis.benchWebGPU(arg),
      { cells, samples: o.samples, only: o.only, gpuGrid: GPU_GRID, emulatedGrid: EMULATED_GRID },
    );
    if (result === null) {
      log('webgpu bench: Chromium exposes no WebGPU adapter');
      return null;
    }
    return { where: `headless Chromium ${browser.version()}`, adapter: describeInfo(result.info), records: result.records };
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the WebGPU bench from the bench's argv; prints a table and writes JSON. */
export async function runWebGPUFromArgs(argv, log = (m) => console.log(m)) {
  const o = parse(argv);
  const result = (await inNode(o, log)) ?? (await inChromium(o, log));
  if (result === null) {
    log('webgpu bench: no WebGPU adapter in Node or Chromium; nothing measured');
    return null;
  }
  const { adapter } = result;
  const label = adapter.emulated
    ? 'CPU EMULATION (SwiftShader): these are not GPU numbers'
    : 'GPU';
  log(`\nwebgpu bench on ${result.where}: adapter ${adapter.vendor} / ${adapter.architecture} ${adapter.description} — ${label}`);
  log('| n | d | rule | ms (median) | Gram GFLOP/s | upload GB/s |');
  log('|---|---|---|---|---|---|');
  for (const r of result.records) {
    const ms = r.error ? `failed: ${r.error}` : r.ms.toFixed(1);
    log(`| ${r.n} | ${r.d} | ${r.rule} | ${ms} | ${r.gramGflops ? r.gramGflops.toPrecision(3) : ''} | ${r.gbPerS ? r.gbPerS.toFixed(2) : ''} |`);
  }
  const out = o.out ?? join(ROOT, 'bench/results', `webgpu-${adapter.emulated ? 'swiftshader' : adapter.vendor || 'gpu'}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), where: result.where, adapter, label, note: 'rules timed on GPU-resident updates (uploadUpdates once per cell, timed as "upload"); each call awaited until the queue is idle, first call a warm-up', records: result.records }, null, 1)}\n`,
  );
  log(`webgpu bench: wrote ${out}`);
  return result;
}
