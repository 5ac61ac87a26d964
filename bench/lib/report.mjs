// The table (stdout and markdown) from the records of a run. Table, JSON and SVG are all rendered
// from the same `result.records`, never from separate bookkeeping.
import { cpus, availableParallelism, totalmem, platform, arch, release } from 'node:os';

export const PEER_IMPLS = ['numpy', 'torch'];

/** Human time: 0.0123 ms → "12.3 µs", 1234 ms → "1.23 s". Three significant digits. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${sig(ms * 1e3)} µs`;
  if (ms < 1000) return `${sig(ms)} ms`;
  return `${sig(ms / 1e3)} s`;
}

function sig(x) {
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "1e4", "1e5", "2.5e5", "300". */
export function formatD(d) {
  if (d < 1000) return String(d);
  const e = Math.floor(Math.log10(d));
  return `${Number((d / 10 ** e).toPrecision(3))}e${e}`;
}

export function formatRatio(r) {
  if (r === null || !Number.isFinite(r)) return '—';
  return r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(2)}×`;
}

export function formatBytes(b) {
  if (b === null || b === undefined || !Number.isFinite(b)) return '—';
  const s = b < 0 ? '−' : '';
  const a = Math.abs(b);
  if (a < 1024 * 1024) return `${s}${(a / 1024).toFixed(0)} KiB`;
  if (a < 1024 ** 3) return `${s}${(a / 1024 ** 2).toFixed(1)} MiB`;
  return `${s}${(a / 1024 ** 3).toFixed(2)} GiB`;
}

/** The machine a run was on. */
export function machineInfo() {
  return {
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    platform: `${platform()} ${release()} ${arch()}`,
  };
}

const key = (r) => `${r.rule}|${r.n}|${r.d}`;

/**
 * Rows of the table: one per robust-agg / TF.js record, with the peer times and ratios of the
 * same (rule, n, d) attached. Peer records without a robust-agg row of that rule get their own
 * rows (impl = numpy / torch) so nothing measured is hidden.
 */
export function tableRows(records) {
  const peers = new Map();
  for (const r of records) {
    if (PEER_IMPLS.includes(r.impl) && !r.error) peers.set(`${r.impl}|${key(r)}`, r);
  }
  const rows = [];
  const covered = new Set();
  for (const r of records) {
    if (PEER_IMPLS.includes(r.impl)) continue;
    const row = { ...r, peers: {} };
    for (const p of PEER_IMPLS) {
      const pr = peers.get(`${p}|${key(r)}`);
      if (pr) {
        covered.add(`${p}|${key(r)}`);
        row.peers[p] = {
          medianMs: pr.medianMs,
          ratio: r.error || !(pr.medianMs > 0) ? null : r.medianMs / pr.medianMs,
        };
      }
    }
    rows.push(row);
  }
  for (const r of records) {
    if (PEER_IMPLS.includes(r.impl) && !covered.has(`${r.impl}|${key(r)}`)) rows.push({ ...r, peers: {} });
  }
  // Grouped for reading: by rule (in the order the run met them), then backend, then n, then d.
  const ruleOrder = new Map();
  const implOrder = new Map();
  for (const r of records) {
    if (!ruleOrder.has(r.rule)) ruleOrder.set(r.rule, ruleOrder.size);
    if (!implOrder.has(r.impl)) implOrder.set(r.impl, implOrder.size);
  }
  const peerLast = (r) => (PEER_IMPLS.includes(r.impl) ? 1 : 0);
  return rows
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        peerLast(a.r) - peerLast(b.r) ||
        ruleOrder.get(a.r.rule) - ruleOrder.get(b.r.rule) ||
        implOrder.get(a.r.impl) - implOrder.get(b.r.impl) ||
        a.r.n - b.r.n ||
        a.r.d - b.r.d ||
        a.i - b.i,
    )
    .map((x) => x.r);
}

/** What the table shows instead of a time: the rule refused the size, was skipped, or failed. */
export function errorLabel(r) {
  if (r.errorCode === 'UNSUPPORTED') return 'refused';
  if (String(r.error).startsWith('skipped')) return 'skipped';
  return 'error';
}

/**
 * The dispersion as printed: the median absolute deviation when it was measured (two calls up),
 * a dash otherwise — never "0" for a single call.
 */
export function madText(r) {
  if (r.error) return '';
  if (!(r.samples >= 2) || r.madMs === null || r.madMs === undefined || !Number.isFinite(r.madMs)) return '—';
  return formatMs(r.madMs);
}

/** Whether a cell took fewer timed calls than the run's target (marked in the table). */
export function isFewSamples(r) {
  if (r.error) return false;
  if (typeof r.fewSamples === 'boolean') return r.fewSamples;
  return typeof r.samplesTarget === 'number' && r.samples < r.samplesTarget;
}

/** The samples column: "7", or "2 of 5" for a cell marked with fewer calls than the target. */
export function samplesText(r) {
  if (r.error || r.samples === undefined || r.samples === null) return '';
  return isFewSamples(r) ? `${r.samples} of ${r.samplesTarget}` : String(r.samples);
}

/** The line under a table that explains the "k of K" marks, or null when no cell is marked. */
export function fewSamplesLegend(records) {
  const few = records.filter(isFewSamples);
  if (few.length === 0) return null;
  const target = few[0].samplesTarget;
  const slow = few.find((r) => r.slowCallMs > 0)?.slowCallMs;
  return `"k of ${target}": ${few.length} cell(s) took fewer than ${target} timed calls because one call took more than ` +
    `${slow ? formatMs(slow) : 'the slow-call threshold'} (a cell stops sampling before ${slow ? formatMs(slow * target) : 'its cap'}); ` +
    'their median rests on those calls only, and one call has no dispersion (—).';
}

const COLUMNS = [
  ['rule', (r) => r.rule],
  ['impl', (r) => r.impl],
  ['n', (r) => String(r.n)],
  ['d', (r) => formatD(r.d)],
  ['median', (r) => (r.error ? errorLabel(r) : formatMs(r.medianMs))],
  ['±MAD', madText],
  ['samples', samplesText],
  ['floor', (r) => formatMs(r.floorMs)],
  ['% floor', (r) => (r.floorPct === null || r.floorPct === undefined ? '—' : `${r.floorPct < 1 ? r.floorPct.toFixed(2) : r.floorPct.toFixed(1)}%`)],
  ['numpy', (r) => formatMs(r.peers.numpy?.medianMs)],
  ['÷numpy', (r) => formatRatio(r.peers.numpy?.ratio ?? null)],
  ['torch', (r) => formatMs(r.peers.torch?.medianMs)],
  ['÷torch', (r) => formatRatio(r.peers.torch?.ratio ?? null)],
];

/** The table as cells (header + rows of strings). */
export function tableCells(records) {
  const rows = tableRows(records);
  return [COLUMNS.map((c) => c[0]), ...rows.map((r) => COLUMNS.map((c) => c[1](r)))];
}

/** Plain-text rendering of cells (header first); `left` = indices of left-aligned columns. */
export function textGrid(cells, left = new Set([0, 1])) {
  const widths = cells[0].map((_, j) => Math.max(...cells.map((row) => [...row[j]].length)));
  const line = (row) =>
    row.map((c, j) => (left.has(j) ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Plain-text table for stdout. */
export function textTable(records) {
  return textGrid(tableCells(records));
}

/** Markdown table. */
export function markdownTable(records) {
  const cells = tableCells(records);
  const esc = (s) => s.replace(/\|/g, '\\|');
  const head = `| ${cells[0].map(esc).join(' | ')} |`;
  const align = `|${cells[0].map((_, j) => (j < 2 ? ' :-- ' : ' --: ')).join('|')}|`;
  return [head, align, ...cells.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** Errors and notes of the records, one line each, deduplicated. */
export function recordNotes(records) {
  const seen = new Map();
  for (const r of records) {
    const text = r.error ? `${errorLabel(r)}: ${r.error.replace(/^skipped: /, '')}` : r.note;
    if (!text) continue;
    const k = `${r.rule} (${r.impl}): ${text}`;
    if (!seen.has(k)) seen.set(k, []);
    seen.get(k).push(`n=${r.n} d=${formatD(r.d)}`);
  }
  return [...seen.entries()].map(([k, cells]) => (/: (error|refused|skipped): /.test(k) ? `${k} [${cells.join(', ')}]` : k));
}

const MEM_COLUMNS = [
  ['rule', (m) => m.rule],
  ['impl', (m) => m.impl],
  ['n', (m) => String(m.n)],
  ['d', (m) => formatD(m.d)],
  ['peak RSS growth', (m) => formatBytes(m.peakRssGrowthBytes)],
  ['heap+buffers growth', (m) => formatBytes(m.heapGrowthBytes)],
  ['output', (m) => formatBytes(m.outputBytes)],
  ['beyond output ÷ n·d·4', (m) => (m.ratioToInput === null ? '—' : m.ratioToInput.toFixed(2))],
  ['flag', (m) => (m.error ? `${errorLabel(m)} (see notes)` : m.flagged ? 'more than O(n²+d)' : '')],
];

export function memoryCells(memory) {
  return [MEM_COLUMNS.map((c) => c[0]), ...memory.map((m) => MEM_COLUMNS.map((c) => c[1](m)))];
}

export function textMemoryTable(memory) {
  const cells = memoryCells(memory);
  const widths = cells[0].map((_, j) => Math.max(...cells.map((row) => [...row[j]].length)));
  const line = (row) => row.map((c, j) => (j < 2 || j === 8 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function markdownMemoryTable(memory) {
  const cells = memoryCells(memory);
  return [
    `| ${cells[0].join(' | ')} |`,
    `|${cells[0].map((_, j) => (j < 2 || j === 8 ? ' :-- ' : ' --: ')).join('|')}|`,
    ...cells.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
