// The registry of what the bench times: one entry per row name, with the options each rule gets at
// n clients. An entry whose export is missing from dist/index.js is skipped silently, so rules are
// timed as soon as they land. To add a rule, add an entry here (read its TSDoc for the options).
//
// Every entry:
//   name    the row label (unique); `--only flame` selects 'flame' and its stages 'flame:…'
//   needs   exports that must be functions for the entry to run
//   group   'aggregator' | 'pre-aggregator' | 'stage' | 'attack' | 'clustering'
//   cost    'nd'  — one pass over the n×d data is the floor
//           'n2d' — a Gram/distance matrix: n²d/2 multiply-adds on top of the pass
//           'n2'  — works on an n×n matrix only (hdbscan)
//   peer    the name the Python peers use for the same computation (bench/peers/reference.py)
//   fMax(n) the largest f the rule accepts at n (f = min(⌊n/10⌋, fMax(n)))
//   make(lib, ctx) → () => result; make does the untimed preparation (e.g. a distance matrix),
//           the returned closure is what is timed. ctx: { n, d, f, rows, honest, reference, seed }.
//           The closure is synchronous or declared `async`, never a plain function returning a
//           promise (bench/lib/timing.mjs tells the two apart by declaration).
//   note    a short label printed with the row

const fOf = (ctx, entry) => Math.max(0, Math.min(ctx.f, entry.fMax ? entry.fMax(ctx.n) : ctx.f));

/** Runs `fn` with the library's default (fast) kernels, then restores the backend being timed. */
function onFastKernels(lib, fn) {
  if (typeof lib.setKernelBackend !== 'function' || typeof lib.getKernelBackend !== 'function') return fn();
  const timed = lib.getKernelBackend();
  lib.setKernelBackend('auto');
  try {
    return fn();
  } finally {
    lib.setKernelBackend(timed);
  }
}

const kruml = (n) => Math.floor((n - 3) / 2); // n ≥ 2f+3
const bulyanMax = (n) => Math.floor((n - 3) / 4); // n ≥ 4f+3

/** @type {Array<object>} */
export const RULES = [
  // ---- classic aggregators (src/aggregators) ----
  { name: 'mean', needs: ['mean'], group: 'aggregator', cost: 'nd', peer: 'mean',
    make: (lib, ctx) => () => lib.mean(ctx.rows) },
  { name: 'coordinateMedian', needs: ['coordinateMedian'], group: 'aggregator', cost: 'nd', peer: 'coordinateMedian',
    make: (lib, ctx) => () => lib.coordinateMedian(ctx.rows) },
  { name: 'trimmedMean', needs: ['trimmedMean'], group: 'aggregator', cost: 'nd', peer: 'trimmedMean',
    fMax: (n) => Math.floor((n - 1) / 2),
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.trimmedMean(ctx.rows, { f }); } },
  // Client weights (sample counts 1..7, unequal: the weighted plain-TypeScript path, docs/client-weights.md).
  { name: 'coordinateMedian:weighted', needs: ['coordinateMedian'], group: 'stage', cost: 'nd',
    note: 'weights 1..7',
    make: (lib, ctx) => { const weights = ctx.rows.map((_, i) => 1 + (i % 7)); return () => lib.coordinateMedian(ctx.rows, { weights }); } },
  { name: 'trimmedMean:weighted', needs: ['trimmedMean'], group: 'stage', cost: 'nd',
    fMax: (n) => Math.floor((n - 1) / 2), note: 'weights 1..7',
    make: (lib, ctx, e) => {
      const f = fOf(ctx, e);
      const weights = ctx.rows.map((_, i) => 1 + (i % 7));
      return () => lib.trimmedMean(ctx.rows, { f, weights });
    } },
  { name: 'meamed', needs: ['meamed'], group: 'aggregator', cost: 'nd',
    fMax: (n) => Math.floor((n - 1) / 2),
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.meamed(ctx.rows, { f }); } },
  { name: 'geometricMedian', needs: ['geometricMedian'], group: 'aggregator', cost: 'n2d', peer: 'geometricMedian',
    note: 'Weiszfeld, tol 1e-5, ≤ 80 it.',
    make: (lib, ctx) => () => lib.geometricMedian(ctx.rows) },
  { name: 'krum', needs: ['krum'], group: 'aggregator', cost: 'n2d', peer: 'krum', fMax: kruml,
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.krum(ctx.rows, { f }); } },
  { name: 'multiKrum', needs: ['multiKrum'], group: 'aggregator', cost: 'n2d', peer: 'multiKrum', fMax: kruml,
    note: 'm = n − f',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.multiKrum(ctx.rows, { f }); } },
  { name: 'bulyan', needs: ['bulyan'], group: 'aggregator', cost: 'n2d', fMax: bulyanMax, peer: 'bulyan',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.bulyan(ctx.rows, { f }); } },
  { name: 'krumLp', needs: ['krumLp'], group: 'aggregator', cost: 'n2d', fMax: kruml,
    note: 'p = 1: ℓ1 distances, no Gram shortcut',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.krumLp(ctx.rows, { f, p: 1 }); } },
  { name: 'bulyanVariant', needs: ['bulyanVariant'], group: 'aggregator', cost: 'n2d', fMax: bulyanMax,
    note: 'selection geometricMedian, aggregation coordinateMedian',
    make: (lib, ctx, e) => {
      const f = fOf(ctx, e);
      return () => lib.bulyanVariant(ctx.rows, { f, selection: 'geometricMedian', aggregation: 'coordinateMedian' });
    } },
  { name: 'centeredClipping', needs: ['centeredClipping'], group: 'aggregator', cost: 'nd', peer: 'centeredClipping',
    note: 'τ 10, L 5, centre 0',
    make: (lib, ctx) => () => lib.centeredClipping(ctx.rows) },

  // ---- FLAME and its stages (issue 3) ----
  { name: 'flame', needs: ['flame'], group: 'aggregator', cost: 'n2d',
    make: (lib, ctx) => () => lib.flame(ctx.rows, { seed: ctx.seed }) },
  { name: 'flame:noNoise', needs: ['flame'], group: 'stage', cost: 'n2d',
    note: 'λ = 0: Gram + clustering + clip + mean, without the d Gaussian draws',
    make: (lib, ctx) => () => lib.flame(ctx.rows, { seed: ctx.seed, lambda: 0 }) },
  { name: 'hdbscan', needs: ['hdbscan', 'cosineDistances'], group: 'clustering', cost: 'n2',
    note: "FLAME's clustering alone, on the n×n cosine distances",
    make: (lib, ctx) => {
      // Untimed preparation, shared by every backend of the (n, d) cell and done on the fast
      // kernels whatever backend is being timed: the distances depend on the data only, and on the
      // plain kernels they would cost more than all of the cell's timed calls (40 s at n=200, d=1e6).
      ctx.cosineDistances ??= onFastKernels(lib, () => lib.cosineDistances(ctx.rows));
      const dist = ctx.cosineDistances;
      const n = ctx.n;
      const options = { n, minClusterSize: Math.floor(n / 2) + 1, minSamples: 1, allowSingleCluster: true };
      return () => lib.hdbscan(dist, options);
    } },

  // ---- the wider catalogue (issues 4 and 8) ----
  { name: 'mixTailor', needs: ['mixTailor'], group: 'aggregator', cost: 'n2d', fMax: bulyanMax,
    note: 'one seeded draw from the default pool',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.mixTailor(ctx.rows, { f, seed: ctx.seed }); } },
  { name: 'signMajority', needs: ['signMajority'], group: 'aggregator', cost: 'nd',
    make: (lib, ctx) => () => lib.signMajority(ctx.rows) },
  { name: 'fltrust', needs: ['fltrust'], group: 'aggregator', cost: 'nd', note: 'server reference g₀ given',
    make: (lib, ctx) => () => lib.fltrust(ctx.rows, { serverUpdate: ctx.reference }) },
  { name: 'foolsGold', needs: ['foolsGold'], group: 'aggregator', cost: 'n2d', note: 'first round (empty history) each call',
    make: (lib, ctx) => () => lib.foolsGold(ctx.rows) },
  { name: 'dnc', needs: ['dnc'], group: 'aggregator', cost: 'nd', note: '5 subsamples of min(d, 1e4) coordinates',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.dnc(ctx.rows, { f, seed: ctx.seed }); } },
  { name: 'caf', needs: ['caf'], group: 'aggregator', cost: 'n2d',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.caf(ctx.rows, { f }); } },
  { name: 'mda', needs: ['mda'], group: 'aggregator', cost: 'n2d', note: 'exact search; refuses C(n, f) > 1e6 subsets',
    fMax: (n) => Math.floor((n - 1) / 2),
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.mda(ctx.rows, { f }); } },
  { name: 'smea', needs: ['smea'], group: 'aggregator', cost: 'n2d',
    note: 'exact search; f capped so that C(n, f) ≤ 1e5 and C(n, f)·(n − f)³/6 ≤ 1e9',
    fMax: (n) => {
      let f = 0;
      for (let c = 1, k = 1; k <= Math.floor((n - 1) / 2); k++) {
        c = (c * (n - k + 1)) / k;
        if (c > 1e5 || (c * (n - k) ** 3) / 6 > 1e9) break;
        f = k;
      }
      return f;
    },
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.smea(ctx.rows, { f }); } },
  { name: 'lasa', needs: ['lasa'], group: 'aggregator', cost: 'nd', note: 'one layer, sparsity 0.3 (quickselect per client)',
    make: (lib, ctx) => () => lib.lasa(ctx.rows) },
  { name: 'crfl', needs: ['crfl'], group: 'aggregator', cost: 'nd', note: 'mean + model clipping ρ = 1 + N(0, 0.01²) noise',
    make: (lib, ctx) => () => lib.crfl(ctx.rows, { clipNorm: 1, sigma: 0.01, seed: ctx.seed, global: ctx.reference }) },
  { name: 'auror', needs: ['auror'], group: 'aggregator', cost: 'nd', note: 'α 0.5, every coordinate examined: a sort of n values per coordinate',
    make: (lib, ctx) => () => lib.auror(ctx.rows, { threshold: 0.5 }) },
  { name: 'normClippingDp', needs: ['normClippingDp'], group: 'aggregator', cost: 'nd', note: 'M = 1, σ = 0.025 (Sun et al.)',
    make: (lib, ctx) => () => lib.normClippingDp(ctx.rows, { maxNorm: 1, sigma: 0.025, seed: ctx.seed }) },
  { name: 'monna', needs: ['monna'], group: 'aggregator', cost: 'nd', note: 'trusted vector given',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.monna(ctx.rows, { f, trusted: ctx.reference }); } },
  { name: 'signGuard', needs: ['signGuard'], group: 'aggregator', cost: 'nd',
    make: (lib, ctx) => () => lib.signGuard(ctx.rows, { seed: ctx.seed }) },
  { name: 'signGuard:dbscan', needs: ['signGuard'], group: 'stage', cost: 'nd', note: "clustering 'dbscan' (eps 0.05, minSamples 3: FLPoison's default)",
    make: (lib, ctx) => () => lib.signGuard(ctx.rows, { seed: ctx.seed, clustering: 'dbscan' }) },
  { name: 'clippedClustering', needs: ['clippedClustering'], group: 'aggregator', cost: 'n2d',
    make: (lib, ctx) => () => lib.clippedClustering(ctx.rows) },
  { name: 'flDetector', needs: ['flDetectorWithDecision'], group: 'aggregator', cost: 'nd',
    note: 'window 2, state prepared by 4 rounds: L-BFGS prediction + gap statistic (B 20) + median each call',
    make: (lib, ctx) => {
      // Four untimed rounds on shifted copies of the rows fill the window (2 pairs, 2 round scores).
      const d = ctx.rows[0].length;
      let state;
      let model = new Float32Array(d);
      for (let round = 0; round < 4; round++) {
        const rows = ctx.rows.map((x) => x.map((v) => v * (1 - 0.1 * round)));
        const r = lib.flDetectorWithDecision(rows, { globalModel: model, state, window: 2, seed: ctx.seed + round });
        state = r.state;
        model = model.map((w, k) => w - 0.1 * r.aggregate[k]);
      }
      return () => lib.flDetector(ctx.rows, { globalModel: model, state, window: 2, seed: ctx.seed });
    } },

  // ---- pre-aggregators (src/pre-aggregators): n×d in, n×d (or fewer rows) out ----
  { name: 'nnm', needs: ['nnm'], group: 'pre-aggregator', cost: 'n2d',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.nnm(ctx.rows, { f }); } },
  { name: 'bucketing', needs: ['bucketing'], group: 'pre-aggregator', cost: 'nd', note: 'bucket size 2',
    make: (lib, ctx) => () => lib.bucketing(ctx.rows, { bucketSize: 2, seed: ctx.seed }) },
  { name: 'clipping', needs: ['clipping'], group: 'pre-aggregator', cost: 'nd', note: 'τ 1',
    make: (lib, ctx) => () => lib.clipping(ctx.rows, { tau: 1 }) },
  { name: 'arc', needs: ['arc'], group: 'pre-aggregator', cost: 'nd',
    make: (lib, ctx, e) => { const f = fOf(ctx, e); return () => lib.arc(ctx.rows, { f }); } },

  // ---- attacks (issue 4): honest = the n − f honest rows, f Byzantine vectors out ----
  { name: 'alie', needs: ['alie'], group: 'attack', cost: 'nd',
    make: (lib, ctx) => () => lib.alie(ctx.honest, { f: Math.max(1, ctx.f) }) },
  { name: 'minMax', needs: ['minMax'], group: 'attack', cost: 'n2d', note: 'γ by bisection',
    make: (lib, ctx) => () => lib.minMax(ctx.honest, { f: Math.max(1, ctx.f) }) },
  { name: 'minSum', needs: ['minSum'], group: 'attack', cost: 'n2d', note: 'γ by bisection',
    make: (lib, ctx) => () => lib.minSum(ctx.honest, { f: Math.max(1, ctx.f) }) },
  { name: 'fang', needs: ['fang'], group: 'attack', cost: 'n2d', note: 'against Krum',
    make: (lib, ctx) => () => lib.fang(ctx.honest, { f: Math.max(1, ctx.f), target: 'krum' }) },
  { name: 'optimal', needs: ['optimal', 'coordinateMedian'], group: 'attack', cost: 'nd',
    note: "ByzFL's line search (16 evaluations) of IPM against coordinateMedian",
    make: (lib, ctx) => {
      const attack = lib.optimal('ipm', (u) => lib.coordinateMedian(u));
      return () => attack(ctx.honest, { f: Math.max(1, ctx.f) });
    } },
  { name: 'adaptive', needs: ['adaptive', 'krum'], group: 'attack', cost: 'n2d',
    note: "MixTailor's adaptive ε-reverse attack (10 candidate ε) against Krum",
    make: (lib, ctx) => {
      const f = Math.max(1, Math.min(ctx.f, kruml(ctx.n)));
      return () => lib.adaptive(ctx.honest, { f, target: (u) => lib.krum(u, { f }) });
    } },
];

/** Whether `name` is selected by a list of names (a list entry also selects its stages `entry:…`). */
export function nameSelected(name, list) {
  return list.some((x) => name === x || name.startsWith(`${x}:`));
}

/**
 * The registry entries to run: exported by the library, selected by --only / --skip.
 * @returns {{ rules: object[], missing: string[], unknown: string[] }}
 */
export function selectRules(lib, only, skip = []) {
  const exported = (e) => e.needs.every((name) => typeof lib[name] === 'function');
  const known = new Set(RULES.map((e) => e.name));
  const unknown = (only ?? []).filter((x) => !RULES.some((e) => nameSelected(e.name, [x])) && !known.has(x));
  const rules = RULES.filter(
    (e) => exported(e) && (only === null || nameSelected(e.name, only)) && !nameSelected(e.name, skip),
  );
  const missing = RULES.filter((e) => !exported(e) && only !== null && nameSelected(e.name, only)).map((e) => e.name);
  return { rules, missing, unknown };
}

/** The id of one (backend or peer, rule, n, d) cell: the progress bar's task and the timing process's message key. */
export const cellId = (impl, rule, n, d) => `cell|${impl}|${rule}|${n}|${d}`;

/** Relative cost at (n, d), to predict a cell's time from a smaller one of the same rule. */
export function costScale(cost, n, d) {
  if (cost === 'n2d') return n * n * d + 8 * n * d;
  if (cost === 'n2') return n * n;
  return n * d;
}

/** Bytes the result occupies (one Float32Array, or an array of them), 0 for anything else. */
export function resultBytes(result) {
  if (result instanceof Float32Array || result instanceof Float64Array) return result.byteLength;
  if (Array.isArray(result)) return result.reduce((s, r) => s + resultBytes(r), 0);
  if (result && typeof result === 'object' && 'aggregate' in result) return resultBytes(result.aggregate);
  return 0;
}
