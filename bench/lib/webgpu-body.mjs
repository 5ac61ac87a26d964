// The WebGPU bench body, the same in Node (with the `webgpu` package) and in a Chromium page
// (bench/lib/webgpu.mjs bundles it with the library's browser build). Pure: no Node imports.
//
// Per cell (n, d): the matrix is generated on the host (the bench's shape: Gaussian clients around
// a common mean, every tenth one sign-flipped ×3), uploaded once with uploadUpdates (timed on its
// own: "upload"), then every rule is timed on the GPU-resident updates (data resident: what a GPU
// training loop pays), each call awaited until its queue is idle. Gram-based rules report the
// Gram's arithmetic rate, n²·d flops (n(n+1)/2·d multiply-adds) per second.

/** sfc32, seeded: the same numbers everywhere. */
function rng(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

function gaussian(out, next, scale = 1, base = null, baseScale = 0) {
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next())) * scale;
    const th = 6.283185307179586 * next();
    out[i] = r * Math.cos(th) + (base === null ? 0 : baseScale * base[i]);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(th) + (base === null ? 0 : baseScale * base[i + 1]);
  }
  return out;
}

/** n × d clients: honest ones around a common mean, every tenth sign-flipped ×3. */
export function benchMatrix(n, d, seed = 1) {
  const next = rng(seed * 1000003 + d);
  const mu = gaussian(new Float32Array(d), next);
  return Array.from({ length: n }, (_, i) => gaussian(new Float32Array(d), next, 1, mu, i % 10 === 9 ? -3 : 1));
}

/** A pre-aggregator's GPU-resident rows through a rule; the intermediate rows are destroyed. */
async function pre(rows, rule) {
  const mixed = await rows;
  try {
    return await rule(mixed);
  } finally {
    mixed.buffer.destroy();
  }
}

/** The rules timed, with the f the bench uses (⌊n/10⌋) and whether they make a Gram matrix. */
export function benchRules(lib, n) {
  const f = Math.floor(n / 10);
  const rules = [
    { name: 'mean', gram: false, run: (u) => lib.gpuMean(u) },
    { name: 'coordinateMedian', gram: false, run: (u) => lib.gpuCoordinateMedian(u) },
    { name: 'trimmedMean', gram: false, run: (u) => lib.gpuTrimmedMean(u, { f }) },
    { name: 'meamed', gram: false, run: (u) => lib.gpuMeamed(u, { f }) },
    { name: 'gram (kernel)', gram: true, run: (u) => lib.gpuGram(u) },
    { name: 'krum', gram: true, run: (u) => lib.gpuKrum(u, { f }) },
    { name: 'multiKrum', gram: true, run: (u) => lib.gpuMultiKrum(u, { f }) },
    { name: 'geometricMedian', gram: true, run: (u) => lib.gpuGeometricMedian(u) },
    // FLAME: uncentred Gram (cosines, norms) on the GPU, HDBSCAN on the host, combination on the
    // GPU; with λ > 0 the aggregate also makes a round trip for the host-drawn seeded noise.
    { name: 'flame (λ=0)', gram: true, run: (u) => lib.gpuFlame(u, { lambda: 0 }) },
    { name: 'flame', gram: true, run: (u) => lib.gpuFlame(u, { seed: 1 }) },
    // Five iterations, each one diagonal-only Gram pass (distances to v) and one combination.
    { name: 'centeredClipping', gram: false, run: (u) => lib.gpuCenteredClipping(u) },
    { name: 'bucketing+coordinateMedian', gram: false, run: (u) => pre(lib.gpuBucketing(u, { bucketSize: 2, seed: 1 }), (b) => lib.gpuCoordinateMedian(b)) },
  ];
  if (n >= 4 * f + 3) rules.push({ name: 'bulyan', gram: true, run: (u) => lib.gpuBulyan(u, { f }) });
  return rules;
}

/**
 * Times the cells on the device the library was initialised with (`initWebGPU` already called and
 * the backend set to 'webgpu'). `idle()` resolves when the device's queue is idle.
 * @returns {Promise<object[]>} one record per (cell, rule) and one 'upload' record per cell
 */
export async function runWebGPUBench(lib, { cells, samples = 5, only = null, idle, log = () => {} }) {
  const records = [];
  for (const { n, d } of cells) {
    const rows = benchMatrix(n, d);
    const uploads = [];
    let onGpu = null;
    for (let s = 0; s < Math.max(1, Math.min(samples, 3)); s++) {
      if (onGpu !== null) onGpu.buffer.destroy();
      const t0 = performance.now();
      onGpu = lib.uploadUpdates(rows);
      await idle();
      uploads.push(performance.now() - t0);
    }
    const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    const bytes = n * d * 4;
    records.push({ n, d, rule: 'upload', ms: median(uploads), samples: uploads, gbPerS: bytes / 1e6 / median(uploads) });
    log(`n=${n} d=${d} upload ${median(uploads).toFixed(1)} ms (${(bytes / 1e6 / median(uploads)).toFixed(2)} GB/s)`);
    for (const rule of benchRules(lib, n)) {
      if (only !== null && !only.includes(rule.name)) continue;
      const times = [];
      try {
        for (let s = 0; s <= samples; s++) {
          const t0 = performance.now();
          const out = await rule.run(onGpu);
          await idle();
          const ms = performance.now() - t0;
          if (out?.aggregate?.buffer?.destroy) out.aggregate.buffer.destroy();
          if (s > 0) times.push(ms); // the first call is a warm-up
        }
        const ms = median(times);
        const rec = { n, d, rule: rule.name, ms, samples: times };
        if (rule.gram) rec.gramGflops = (n * n * d) / 1e6 / ms;
        records.push(rec);
        log(`n=${n} d=${d} ${rule.name} ${ms.toFixed(1)} ms${rule.gram ? ` (Gram ${rec.gramGflops.toPrecision(3)} GFLOP/s)` : ''}`);
      } catch (e) {
        records.push({ n, d, rule: rule.name, error: String(e?.message ?? e) });
        log(`n=${n} d=${d} ${rule.name} failed: ${String(e?.message ?? e)}`);
      }
    }
    onGpu.buffer.destroy();
  }
  return records;
}
