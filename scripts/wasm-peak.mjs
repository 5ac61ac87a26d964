// The WebAssembly SIMD peak of this machine: how many f32x4 multiply-adds per second the engine
// running this script issues when nothing but arithmetic is in the way. The Gram kernel's roofline
// (bench --roofline, docs/performance.md "The Gram kernel") is measured against this number.
//
//   node scripts/wasm-peak.mjs [--threads N] [--ms 1000] [--json]
//
// Each probe is a loop of `chains` independent accumulators a_k ← a_k + x·b_k (f32x4.mul then
// f32x4.add, 4 multiply-adds per pair of instructions), written in WebAssembly text and assembled
// with binaryen (no optimisation: the loop is what the engine compiles). With few chains the loop
// is latency-bound (add latency × chains); with enough it is throughput-bound: that plateau is the
// peak. A second family of probes loads one f32x4 from L1 per `reuse` products, like a register-
// tiled kernel, to show what the load ports allow. Exported for bench/lib/roofline.mjs:
// measurePeak({ threads, ms }) → { perThread, total, probes, threads }.
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';

/** The wat of a probe: `chains` accumulators, `loads` f32x4 loads from a 4 KiB buffer per iteration. */
export function probeWat(chains, loads, relaxed) {
  // Two multipliers shared by the chains: every live v128 is a register (x64 has 16), so one per
  // chain would spill.
  const B = 2;
  const locals = [];
  for (let k = 0; k < chains; k++) locals.push(`(local $a${k} v128)`);
  for (let k = 0; k < B; k++) locals.push(`(local $b${k} v128)`);
  for (let l = 0; l < loads; l++) locals.push(`(local $x${l} v128)`);
  const init = [];
  for (let k = 0; k < B; k++) {
    init.push(`(local.set $b${k} (f32x4.splat (f32.const ${(1 + k) * 1e-9})))`);
  }
  const body = [];
  if (loads > 0) {
    for (let l = 0; l < loads; l++) {
      body.push(`(local.set $x${l} (v128.load offset=${l * 16} (local.get $p)))`);
    }
  }
  for (let k = 0; k < chains; k++) {
    const x = loads > 0 ? `(local.get $x${k % loads})` : '(local.get $x)';
    const b = `(local.get $b${k % B})`;
    body.push(
      relaxed
        ? `(local.set $a${k} (f32x4.relaxed_madd ${x} ${b} (local.get $a${k})))`
        : `(local.set $a${k} (f32x4.add (local.get $a${k}) (f32x4.mul ${x} ${b})))`,
    );
  }
  let sum = '(local.get $a0)';
  for (let k = 1; k < chains; k++) sum = `(f32x4.add ${sum} (local.get $a${k}))`;
  const advance =
    loads > 0 ? `(local.set $p (i32.and (i32.add (local.get $p) (i32.const ${loads * 16})) (i32.const 4095)))` : '';
  return `(module
  (memory (export "memory") 1)
  (func (export "run") (param $iters i32) (result f32)
    (local $i i32) (local $p i32) (local $x v128) ${locals.join(' ')}
    (local.set $x (f32x4.splat (f32.const 1.0000001)))
    ${init.join('\n    ')}
    (loop $l
      ${body.join('\n      ')}
      ${advance}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $iters))))
    (f32x4.extract_lane 0 ${sum})))`;
}

/**
 * The wat of the Gram kernel's register tile (assembly/gram.ts): 4 row vectors × 2 column vectors
 * loaded from L1 per step (six loads), eight accumulators a_rc ← a_rc + x_r·z_c. Not part of the
 * peak: it shows what the tile itself reaches.
 */
export function tileWat(relaxed = false) {
  const acc = [];
  for (let r = 0; r < 4; r++) for (let c = 0; c < 2; c++) acc.push(`$a${r}${c}`);
  const body = ['(local.set $z0 (v128.load (local.get $q)))', '(local.set $z1 (v128.load offset=16 (local.get $q)))'];
  for (let r = 0; r < 4; r++) {
    body.push(`(local.set $x (v128.load offset=${16 * r} (local.get $p)))`);
    for (let c = 0; c < 2; c++) {
      body.push(
        relaxed
          ? `(local.set $a${r}${c} (f32x4.relaxed_madd (local.get $x) (local.get $z${c}) (local.get $a${r}${c})))`
          : `(local.set $a${r}${c} (f32x4.add (local.get $a${r}${c}) (f32x4.mul (local.get $x) (local.get $z${c}))))`,
      );
    }
  }
  let sum = `(local.get ${acc[0]})`;
  for (let k = 1; k < acc.length; k++) sum = `(f32x4.add ${sum} (local.get ${acc[k]}))`;
  return `(module
  (memory (export "memory") 1)
  (func (export "run") (param $iters i32) (result f32)
    (local $i i32) (local $p i32) (local $q i32) (local $x v128) (local $z0 v128) (local $z1 v128) ${acc.map((a) => `(local ${a} v128)`).join(' ')}
    (loop $l
      ${body.join('\n      ')}
      (local.set $p (i32.and (i32.add (local.get $p) (i32.const 64)) (i32.const 2047)))
      (local.set $q (i32.add (i32.const 2048) (i32.and (i32.add (local.get $p) (i32.const 32)) (i32.const 2047))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $iters))))
    (f32x4.extract_lane 0 ${sum})))`;
}

export function assemble(wat, relaxed) {
  const mod = binaryen.parseText(wat);
  mod.setFeatures(binaryen.Features.SIMD128 | (relaxed ? binaryen.Features.RelaxedSIMD : 0));
  if (!mod.validate()) throw new Error('peak probe did not validate');
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}

/**
 * The probes: [name, chains, loads, relaxed]. MACs per iteration = 4 · chains. loads = 'tile' is
 * the Gram kernel's 4 × 2 register tile ({@link tileWat}), reported beside the peak, not in it.
 */
export const PROBES = [
  ['mul+add, 4 chains', 4, 0, false],
  ['mul+add, 6 chains', 6, 0, false],
  ['mul+add, 8 chains', 8, 0, false],
  ['mul+add, 10 chains', 10, 0, false],
  ['mul+add, 12 chains', 12, 0, false],
  ['mul+add, 8 chains, 2 loads', 8, 2, false],
  ['mul+add, 8 chains, 4 loads', 8, 4, false],
  ['Gram 4x2 tile, 6 loads (kernel)', 8, 'tile', false],
  ['relaxed_madd, 8 chains', 8, 0, true],
  ['relaxed_madd, 12 chains', 12, 0, true],
];

/** Whether this engine validates f32x4.relaxed_madd. */
export function hasRelaxedSimd() {
  try {
    return WebAssembly.validate(assemble(probeWat(1, 0, true), true));
  } catch {
    return false;
  }
}

/**
 * Runs every probe on this thread, `rounds` times in turn (about ms / rounds each), and keeps each
 * probe's best rate over single calls of CALL iterations: on a shared machine the fastest short
 * call is the closest to what the core can do. Returns [{ name, chains, loads, relaxed, gmacs }] (G multiply-adds/s).
 */
export function runProbes(ms = 300, rounds = 5) {
  const relaxedOk = hasRelaxedSimd();
  // Each probe is warmed up, then timed as many calls of CALL iterations each.
  const CALL = 1 << 14;
  const probes = [];
  for (const [name, chains, loads, relaxed] of PROBES) {
    if (relaxed && !relaxedOk) continue;
    // Compiled by the optimising tier at once (V8 would start with its baseline tier and swap in
    // optimised code only later, in the background, which a loaded machine can delay past the
    // timing); the flag is restored right after, so nothing else compiled later is affected.
    setFlagsFromString('--no-liftoff');
    let module;
    try {
      module = new WebAssembly.Module(assemble(loads === 'tile' ? tileWat() : probeWat(chains, loads, relaxed), relaxed));
    } finally {
      setFlagsFromString('--liftoff');
    }
    const inst = new WebAssembly.Instance(module);
    const run = inst.exports.run;
    const w0 = performance.now();
    while (performance.now() - w0 < 100) run(CALL);
    let calls = 1;
    for (;;) {
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) run(CALL);
      if (performance.now() - t0 > ms / rounds / 2 || calls > 1 << 20) break;
      calls *= 2;
    }
    probes.push({ name, chains, loads, relaxed, run, calls, gmacs: 0 });
  }
  // Each call is timed on its own (about 0.1 ms) and the fastest call counts: on a loaded machine
  // the fastest short call is the one no other process interrupted.
  for (let r = 0; r < rounds; r++) {
    for (const p of probes) {
      for (let c = 0; c < p.calls; c++) {
        const t0 = performance.now();
        p.run(CALL);
        const t = performance.now() - t0;
        p.gmacs = Math.max(p.gmacs, (CALL * p.chains * 4) / (t * 1e6));
      }
    }
  }
  return probes.map(({ name, chains, loads, relaxed, gmacs }) => ({ name, chains, loads, relaxed, gmacs }));
}

/**
 * The peak on `threads` threads at once (this one and threads − 1 workers, all started together):
 * per probe the sum of the threads' rates. perThread and total are the best plain (mul+add) probe
 * without loads; relaxed is the best relaxed_madd probe (null where the engine lacks it).
 */
export async function measurePeak({ threads = 1, ms = 1000 } = {}) {
  const here = fileURLToPath(import.meta.url);
  const workers = [];
  for (let t = 1; t < threads; t++) {
    workers.push(
      new Promise((resolve, reject) => {
        const w = new Worker(
          `import(${JSON.stringify('file://' + here)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.runProbes(${ms})));`,
          { eval: true },
        );
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      }),
    );
  }
  const mine = runProbes(ms);
  const others = await Promise.all(workers);
  const probes = mine.map((p, k) => ({ ...p, gmacs: p.gmacs + others.reduce((s, o) => s + o[k].gmacs, 0) }));
  const plain = probes.filter((p) => !p.relaxed && p.loads === 0);
  const relaxed = probes.filter((p) => p.relaxed);
  const total = Math.max(...plain.map((p) => p.gmacs));
  const tile = probes.find((p) => p.loads === 'tile');
  return {
    threads,
    total,
    tile: tile === undefined ? null : tile.gmacs,
    perThread: total / threads,
    relaxed: relaxed.length > 0 ? Math.max(...relaxed.map((p) => p.gmacs)) : null,
    probes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (flag, dflt) => {
    const i = args.indexOf(flag);
    return i < 0 ? dflt : Number(args[i + 1]);
  };
  const threadsList = args.includes('--threads') ? [get('--threads', 1)] : [1, Math.min(2, availableParallelism())];
  const ms = get('--ms', 1000);
  const results = [];
  for (const threads of threadsList) results.push(await measurePeak({ threads, ms }));
  if (args.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(`node ${process.version}, WebAssembly SIMD peak (G multiply-adds/s, f32)`);
    for (const r of results) {
      console.log(`\n${r.threads} thread(s): peak ${r.total.toFixed(1)} (${r.perThread.toFixed(1)} per thread), Gram tile ${r.tile.toFixed(1)}` +
        (r.relaxed !== null ? `, relaxed_madd ${r.relaxed.toFixed(1)}` : ', relaxed SIMD unavailable'));
      for (const p of r.probes) console.log(`  ${p.name.padEnd(30)} ${p.gmacs.toFixed(1).padStart(6)}`);
    }
  }
}
