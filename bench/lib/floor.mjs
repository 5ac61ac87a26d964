// The physical floor of each row: the least time JavaScript / WebAssembly kernels could take on
// this machine (native BLAS with AVX2 / AVX-512 can beat the compute part; see docs/benchmarks.md).
//
//   bytes floor   n·d·4 bytes must be read once, at the machine's measured streaming bandwidth
//   compute floor for Gram-based rules, n²d/2 multiply-adds at the measured arithmetic peak
//   floor = max(bytes floor, compute floor);  "% of floor" = floor / measured time · 100
//
// Bandwidth and peak are measured at start-up and cached per machine (CPU model, cores, Node):
// a plain-JS loop (what the TS kernels can reach on one thread), WASM SIMD on one thread, and WASM
// SIMD on every core at once (worker threads). The floor uses the best of them: the limit of the
// best kernels JS can run here, not of the current ones, so 100% is reachable only by the best code.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  DOT_FLOATS,
  DOT_REPS,
  FLOOR_KERNELS_AS,
  READ_FLOATS,
  instantiateKernels,
  prepare,
  runDot,
  runRead,
} from './floor-kernels.mjs';

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/robust-agg-bench/', import.meta.url));
const CACHE_FILE = `${CACHE_DIR}floor.json`;
const ROUNDS = 5;

/** Floor in ms of one row. `cost` as in the registry; bandwidth in GB/s, peak in G multiply-adds/s. */
export function floorMs({ n, d, cost }, floor) {
  const bytes = n * d * 4;
  const readMs = (bytes / (floor.bandwidthGBs * 1e9)) * 1e3;
  if (cost === 'n2') return null; // works on an n×n matrix: no meaningful data floor
  const madds = cost === 'n2d' ? (n * n * d) / 2 : 0;
  const computeMs = (madds / (floor.peakGmadds * 1e9)) * 1e3;
  return Math.max(readMs, computeMs);
}

/** floor / measured, in percent (100 = at the floor). */
export function pctOfFloor(floor, measuredMs) {
  if (floor === null || !(measuredMs > 0)) return null;
  return (100 * floor) / measuredMs;
}

function machineKey() {
  return `${cpus()[0]?.model ?? 'unknown'}|${availableParallelism()}|${process.version}`;
}

async function compileKernels() {
  const { default: asc } = await import('assemblyscript/asc');
  const { error, binary, stderr } = await asc.compileString(
    { 'floor.ts': FLOOR_KERNELS_AS },
    { optimizeLevel: 3, runtime: 'stub', enable: ['simd'], importMemory: true, initialMemory: 2 },
  );
  if (error) throw new Error(`AssemblyScript: ${stderr.toString()}`);
  return binary;
}

function jsRead(a) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = a.length;
  for (let i = 0; i + 3 < n; i += 4) {
    s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3];
  }
  return s0 + s1 + s2 + s3;
}

function jsDot(a, b, reps) {
  let t = 0;
  const n = a.length;
  for (let r = 0; r < reps; r++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < n; i += 4) {
      s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    t += s0 + s1 + s2 + s3;
  }
  return t;
}

/** Best (smallest) time of `rounds` runs of fn, in ms. */
function best(fn, rounds = ROUNDS) {
  let m = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    fn();
    m = Math.min(m, performance.now() - t);
  }
  return m;
}

/** Runs the kernel on `threads` workers at once for ROUNDS rounds; returns the best round's max time. */
async function parallelBest(binary, kind, threads) {
  const barrier = new SharedArrayBuffer(4);
  const gate = new Int32Array(barrier);
  const url = new URL('./floor-worker.mjs', import.meta.url);
  const workers = [];
  const inbox = [];
  const waiters = [];
  const deliver = (m) => (waiters.length > 0 ? waiters.shift()(m) : inbox.push(m));
  const receive = () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));
  try {
    for (let t = 0; t < threads; t++) {
      const w = new Worker(url, { workerData: { binary, kind, rounds: ROUNDS, barrier } });
      w.on('message', deliver);
      w.on('error', (e) => deliver({ error: e }));
      workers.push(w);
    }
    for (let t = 0; t < threads; t++) {
      const m = await receive();
      if (m.error) throw m.error;
    }
    let bestMs = Infinity;
    for (let r = 1; r <= ROUNDS; r++) {
      Atomics.store(gate, 0, r);
      Atomics.notify(gate, 0);
      let worst = 0;
      for (let t = 0; t < threads; t++) {
        const m = await receive();
        if (m.error) throw m.error;
        worst = Math.max(worst, m.ms);
      }
      bestMs = Math.min(bestMs, worst);
    }
    return bestMs;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Measures everything; ~1–3 s. */
export async function measureFloor() {
  const threads = availableParallelism();
  const notes = [];
  const readBytes = READ_FLOATS * 4;
  const dotMadds = DOT_FLOATS * DOT_REPS;

  const big = new Float32Array(READ_FLOATS);
  for (let i = 0; i < big.length; i++) big[i] = (i & 1023) * 1e-3;
  jsRead(big);
  const jsReadGBs = readBytes / best(() => jsRead(big)) / 1e6;
  const a = big.subarray(0, DOT_FLOATS), b = big.subarray(DOT_FLOATS, 2 * DOT_FLOATS);
  jsDot(a, b, 100);
  const jsPeakGmadds = dotMadds / best(() => jsDot(a, b, DOT_REPS)) / 1e6;

  const m = {
    jsReadGBs,
    jsPeakGmadds,
    wasmReadGBs: null,
    wasmPeakGmadds: null,
    wasmReadAllGBs: null,
    wasmPeakAllGmadds: null,
  };
  try {
    const binary = await compileKernels();
    const k = await instantiateKernels(binary, readBytes);
    prepare(k, READ_FLOATS);
    runRead(k);
    m.wasmReadGBs = readBytes / best(() => runRead(k)) / 1e6;
    runDot(k);
    m.wasmPeakGmadds = dotMadds / best(() => runDot(k)) / 1e6;
    if (threads > 1) {
      m.wasmReadAllGBs = (threads * readBytes) / (await parallelBest(binary, 'read', threads)) / 1e6;
      m.wasmPeakAllGmadds = (threads * dotMadds) / (await parallelBest(binary, 'dot', threads)) / 1e6;
    }
  } catch (e) {
    notes.push(`WASM SIMD floor kernels unavailable (${e.message.split('\n')[0]}); the floor uses the plain-JS loops`);
  }
  const bandwidthGBs = Math.max(...[m.jsReadGBs, m.wasmReadGBs, m.wasmReadAllGBs].filter((x) => x !== null));
  const peakGmadds = Math.max(...[m.jsPeakGmadds, m.wasmPeakGmadds, m.wasmPeakAllGmadds].filter((x) => x !== null));
  return { bandwidthGBs, peakGmadds, threads, measured: m, notes, measuredAt: new Date().toISOString() };
}

/** The cached floor of this machine, or null (nothing measured here yet). Reads one small file. */
export function readCachedFloor() {
  if (!existsSync(CACHE_FILE)) return null;
  try {
    const cached = JSON.parse(readFileSync(CACHE_FILE, 'utf8'));
    return cached.key === machineKey() ? { ...cached.floor, cached: true } : null;
  } catch {
    return null;
  }
}

/** The cached floor of this machine, measured now when absent or when `refresh`. */
export async function loadFloor({ refresh = false } = {}) {
  const key = machineKey();
  if (!refresh && existsSync(CACHE_FILE)) {
    try {
      const cached = JSON.parse(readFileSync(CACHE_FILE, 'utf8'));
      if (cached.key === key) return { ...cached.floor, cached: true };
    } catch {
      // fall through and measure
    }
  }
  const floor = await measureFloor();
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(CACHE_FILE, JSON.stringify({ key, floor }, null, 2));
  } catch {
    // a read-only node_modules only costs a re-measurement next time
  }
  return { ...floor, cached: false };
}
