// "Before and after": for each aggregator at one size, the plain kernels (before), the fast kernels
// (after), the speed-up, and the fastest peer on the same matrix. Rendered from the run's records.
import { PEER_IMPLS, errorLabel, formatD, formatMs, formatRatio, madText, samplesText } from './report.mjs';

/**
 * The size the summary shows: the largest d of the run, and there the n closest to 100 (the
 * issue's reference size) that both library backends timed.
 * @returns {{ n: number, d: number } | null}
 */
export function summarySize(records) {
  const timed = (impl) => records.filter((r) => r.impl === impl && !r.error && r.medianMs > 0);
  const ts = timed('ts');
  const fast = timed('fast');
  if (ts.length === 0 || fast.length === 0) return null;
  const d = Math.max(...fast.map((r) => r.d));
  const ns = [...new Set(fast.filter((r) => r.d === d).map((r) => r.n))];
  const n = ns.sort((a, b) => Math.abs(a - 100) - Math.abs(b - 100) || b - a)[0];
  return { n, d };
}

/**
 * Rows { rule, before, after, speedup, peer, peerMs, vsPeer } of the aggregators timed by the fast
 * kernels at (n, d); before is null where the plain cell was skipped or refused.
 */
export function beforeAfterRows(records, { n, d }) {
  const at = (impl, rule) => records.find((r) => r.impl === impl && r.rule === rule && r.n === n && r.d === d && !r.error && r.medianMs > 0);
  const rows = [];
  for (const r of records) {
    if (r.impl !== 'fast' || r.group !== 'aggregator' || r.n !== n || r.d !== d || r.error || !(r.medianMs > 0)) continue;
    const before = at('ts', r.rule)?.medianMs ?? null;
    const peers = PEER_IMPLS.map((impl) => at(impl, r.rule)).filter(Boolean);
    const best = peers.sort((a, b) => a.medianMs - b.medianMs)[0] ?? null;
    rows.push({
      rule: r.rule,
      before,
      after: r.medianMs,
      speedup: before === null ? null : before / r.medianMs,
      peer: best?.impl ?? null,
      peerMs: best?.medianMs ?? null,
      vsPeer: best ? r.medianMs / best.medianMs : null,
    });
  }
  return rows;
}

/** The markdown section, or no lines when the run lacks either library backend. */
export function beforeAfterSection(records) {
  const size = summarySize(records);
  if (size === null) return [];
  const lines = [
    `## Before and after: plain against fast kernels at n = ${size.n}, d = ${formatD(size.d)}`,
    '',
    'Before: the plain TypeScript kernels (`ts`). After: the default fast kernels (`fast`). The peer is the',
    'faster of numpy and torch on the same matrix; fast ÷ peer below 1× means robust-agg is faster. A dash',
    'marks a cell skipped (above the per-call limit) or a rule without a peer.',
    '',
    '| rule | before (ts) | after (fast) | speed-up | fastest peer | fast ÷ peer |',
    '| :-- | --: | --: | --: | :-- | --: |',
  ];
  for (const r of beforeAfterRows(records, size)) {
    const peer = r.peer === null ? '—' : `${r.peer} ${formatMs(r.peerMs)}`;
    lines.push(`| ${r.rule} | ${formatMs(r.before)} | ${formatMs(r.after)} | ${formatRatio(r.speedup)} | ${peer} | ${formatRatio(r.vsPeer)} |`);
  }
  lines.push('');
  return lines;
}

/**
 * The headline answer: every rule timed by `impl` at (n, d) — the default run's n = 100, d = 1e6 —
 * with the faster of the peers on the same matrix. Rows { rule, group, record, peer, peerMs, vsPeer }
 * in the order the run met the rules; refused, skipped and failed cells included (record.error).
 */
export function headlineRows(records, { n, d }, impl) {
  const peerAt = (rule) =>
    records
      .filter((r) => PEER_IMPLS.includes(r.impl) && r.rule === rule && r.n === n && r.d === d && !r.error && r.medianMs > 0)
      .sort((a, b) => a.medianMs - b.medianMs)[0] ?? null;
  return records
    .filter((r) => r.impl === impl && r.n === n && r.d === d)
    .map((r) => {
      const best = peerAt(r.rule);
      return {
        rule: r.rule,
        group: r.group,
        record: r,
        peer: best?.impl ?? null,
        peerMs: best?.medianMs ?? null,
        vsPeer: best && !r.error && r.medianMs > 0 ? r.medianMs / best.medianMs : null,
      };
    });
}

/** The implementation the headline shows: fast kernels when timed at (n, d), else the first library one. */
export function headlineImpl(records, { n, d }) {
  const here = records.filter((r) => r.n === n && r.d === d && !PEER_IMPLS.includes(r.impl));
  if (here.some((r) => r.impl === 'fast')) return 'fast';
  return here[0]?.impl ?? null;
}

/** Cells (header first) of the headline table. */
export function headlineCells(records, size, impl) {
  const head = ['rule', impl, '±MAD', 'samples', 'fastest peer', `${impl} ÷ peer`];
  const rows = headlineRows(records, size, impl).map((h) => [
    h.rule,
    h.record.error ? errorLabel(h.record) : formatMs(h.record.medianMs),
    madText(h.record),
    samplesText(h.record),
    h.peer === null ? '—' : `${h.peer} ${formatMs(h.peerMs)}`,
    formatRatio(h.vsPeer),
  ]);
  return [head, ...rows];
}

/** The markdown section of the headline, or no lines when the run did not time (n, d). */
export function headlineSection(records, size) {
  if (!size) return [];
  const impl = headlineImpl(records, size);
  if (impl === null) return [];
  const cells = headlineCells(records, size, impl);
  if (cells.length < 2) return [];
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [
    `## Headline: every rule at n = ${size.n}, d = ${formatD(size.d)} against the fastest peer`,
    '',
    `\`${impl}\` is robust-agg${impl === 'fast' ? "'s default kernels (WASM SIMD, worker threads)" : ''}; the peer is the faster of numpy and torch`,
    `on the same matrix (a dash: no peer formulates the rule, or it was not run at this size). ${impl} ÷ peer below 1× means`,
    'robust-agg is faster.',
    '',
    `| ${cells[0].map(esc).join(' | ')} |`,
    '| :-- | --: | --: | --: | :-- | --: |',
    ...cells.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ];
}
