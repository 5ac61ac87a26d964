// The roofline of a bench run (`npm run bench -- --roofline`): for every timed row, what the call
// achieved against what this machine can do.
//
//   Gram rules (cost 'n2d': krum, multiKrum, bulyan, geometricMedian, flame, …): G multiply-adds
//     per second, counting the symmetric half n(n+1)/2 · d that the Gram kernel computes, against
//     the measured WebAssembly SIMD peak (scripts/wasm-peak.mjs: f32x4 mul+add chains, no loads)
//     on the threads the fast kernels use;
//   the rest (cost 'nd'): GB/s of the n·d float32 input read once, against the streaming
//     bandwidth the bench's floor measured (bench/lib/floor.mjs), when it has one.
//
// A rule's time includes everything it does beyond the kernel (the finiteness pass, the final
// combination, FLAME's clustering and noise), so its share of the peak is a lower bound on the
// kernel's. The peak is measured once per run, before the timed calls, so that it sees the same
// machine load.
import { availableParallelism } from 'node:os';
import { measurePeak } from '../../scripts/wasm-peak.mjs';

/** The peak on `threads` threads (default: the cores, at most 8, as the kernels' 'auto'). */
export async function measureRooflinePeak({ threads = Math.min(8, availableParallelism()), ms = 400 } = {}) {
  const one = await measurePeak({ threads: 1, ms });
  const all = threads > 1 ? await measurePeak({ threads, ms }) : one;
  return {
    threads,
    perThreadGmacs: one.total,
    totalGmacs: all.total,
    relaxedGmacs: all.relaxed,
    /** The Gram kernel's 4 × 2 register tile alone, from L1, on all threads. */
    tileGmacs: all.tile,
    probes: all.probes.map(({ name, gmacs }) => ({ name, gmacs })),
  };
}

/** Multiply-adds of a Gram-based call: the symmetric half, n(n+1)/2 · d. */
export const gramMacs = (n, d) => ((n * (n + 1)) / 2) * d;

/**
 * One roofline row per timed record: { rule, impl, n, d, ms, unit, achieved, ceiling, pct }.
 * `costOf(rec)` gives the record's cost class ('n2d', 'nd', 'n2'); rows of cost 'n2' (work on the
 * n×n matrix only) and failed records are left out.
 */
export function rooflineRows(records, { peak, bandwidthGBs = null, costOf }) {
  const rows = [];
  for (const rec of records) {
    if (rec.error || !(rec.medianMs > 0)) continue;
    const cost = costOf(rec);
    const s = rec.medianMs / 1e3;
    if (cost === 'n2d') {
      const achieved = gramMacs(rec.n, rec.d) / s / 1e9;
      rows.push({ rule: rec.rule, impl: rec.impl, n: rec.n, d: rec.d, ms: rec.medianMs, unit: 'G MAC/s', achieved, ceiling: peak.totalGmacs, pct: (100 * achieved) / peak.totalGmacs });
    } else if (cost === 'nd') {
      const achieved = (rec.n * rec.d * 4) / s / 1e9;
      const ceiling = bandwidthGBs ?? null;
      rows.push({ rule: rec.rule, impl: rec.impl, n: rec.n, d: rec.d, ms: rec.medianMs, unit: 'GB/s', achieved, ceiling, pct: ceiling === null ? null : (100 * achieved) / ceiling });
    }
  }
  return rows;
}

/** The roofline as a text table, Gram rules first. */
export function textRoofline(rows, peak) {
  const head = `Roofline: WebAssembly SIMD peak ${peak.totalGmacs.toFixed(1)} G MAC/s on ${peak.threads} thread(s) ` +
    `(${peak.perThreadGmacs.toFixed(1)} on one; the Gram kernel's register tile alone ${peak.tileGmacs?.toFixed(1)}; scripts/wasm-peak.mjs${peak.relaxedGmacs ? `, relaxed_madd ${peak.relaxedGmacs.toFixed(1)}` : ', no relaxed SIMD here'})`;
  const cells = [['rule', 'impl', 'n', 'd', 'ms', 'achieved', 'of ceiling']];
  const sorted = [...rows].sort((a, b) => (a.unit === b.unit ? 0 : a.unit === 'G MAC/s' ? -1 : 1) || a.rule.localeCompare(b.rule) || a.n - b.n || a.d - b.d);
  for (const r of sorted) {
    cells.push([
      r.rule,
      r.impl,
      String(r.n),
      r.d.toExponential(0).replace('e+', 'e'),
      r.ms.toFixed(r.ms < 10 ? 2 : 0),
      `${r.achieved.toFixed(1)} ${r.unit}`,
      r.pct === null ? '—' : `${r.pct.toFixed(0)} %`,
    ]);
  }
  const widths = cells[0].map((_, k) => Math.max(...cells.map((c) => c[k].length)));
  const lines = cells.map((c) => c.map((x, k) => (k < 2 ? x.padEnd(widths[k]) : x.padStart(widths[k]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return `${head}\n${lines.join('\n')}`;
}
