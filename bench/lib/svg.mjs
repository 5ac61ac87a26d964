// The chart: one small panel per rule, time against d on log–log axes, one line per backend or
// peer, at one n (the headline n or the largest of the run unless --chart-n), and the rule's
// physical floor as a dotted grey line. A rule whose input is the n×n distance matrix (cost 'n2':
// hdbscan) does not depend on d: its panel plots time against n instead (one point per n, from the
// largest d timed there). Written by hand, no plotting library.
// Every point carries its record (data-rule, data-impl, data-n, data-d, data-ms) so a test can check
// that the chart says what the table and the JSON say.
import { formatD, formatMs } from './report.mjs';
import { RULES } from './rules.mjs';

export const IMPL_STYLE = {
  ts: { color: '#1f77b4', dash: '' },
  default: { color: '#1f77b4', dash: '' },
  fast: { color: '#d62728', dash: '' },
  numpy: { color: '#2ca02c', dash: '5 3' },
  torch: { color: '#ff7f0e', dash: '5 3' },
  'tfjs-cpu': { color: '#9467bd', dash: '2 2' },
  'tfjs-wasm': { color: '#8c564b', dash: '2 2' },
  tensorflow: { color: '#e377c2', dash: '2 2' },
  webgpu: { color: '#17becf', dash: '2 2' },
};
const FALLBACK = ['#7f7f7f', '#bcbd22', '#393b79', '#637939'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The n the chart shows: the requested one, else the largest n with a timed record. */
export function chartN(records, requested = null) {
  if (requested !== null) return requested;
  const ns = records.filter((r) => !r.error && r.medianMs > 0).map((r) => r.n);
  return ns.length ? Math.max(...ns) : null;
}

/** The cost class of a record: its own, else the registry's, else one pass ('nd'). */
export function costOf(r) {
  return r.cost ?? RULES.find((e) => e.name === r.rule)?.cost ?? 'nd';
}

/** Whether a rule's panel is plotted against n (its input is n×n, d plays no part). */
export const plottedAgainstN = (r) => costOf(r) === 'n2';

/** The points of the panels against d: { rule, impl, n, d, ms } at one n, in record order. */
export function chartPoints(records, n) {
  return records
    .filter((r) => r.n === n && !r.error && r.medianMs > 0 && !plottedAgainstN(r))
    .map((r) => ({ rule: r.rule, impl: r.impl, n: r.n, d: r.d, ms: r.medianMs }));
}

/** The points of the panels against n: per (rule, impl, n) the record at the largest d timed there. */
export function chartPointsByN(records) {
  const best = new Map();
  for (const r of records) {
    if (r.error || !(r.medianMs > 0) || !plottedAgainstN(r)) continue;
    const k = `${r.rule}|${r.impl}|${r.n}`;
    const prev = best.get(k);
    if (!prev || r.d > prev.d) best.set(k, r);
  }
  return [...best.values()].map((r) => ({ rule: r.rule, impl: r.impl, n: r.n, d: r.d, ms: r.medianMs }));
}

/** A decade as a short label: 1e-3 ms → "1 µs", 100 → "100 ms", 1e4 → "10 s". */
export function decadeLabel(ms) {
  if (ms < 1e-3) return `${Math.round(ms * 1e6)} ns`;
  if (ms < 1) return `${Math.round(ms * 1e3)} µs`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 1e3)} s`;
}

function decadeTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) if (e >= lo - 1e-9 && e <= hi + 1e-9) out.push(e);
  return out;
}

/** Renders the SVG text. */
export function renderSvg(records, { n = null, title = 'robust-agg benchmark', subtitle = '' } = {}) {
  const N = chartN(records, n);
  const points = N === null ? [] : chartPoints(records, N);
  const nPoints = chartPointsByN(records);
  const nRules = [...new Set(nPoints.map((p) => p.rule))];
  const rules = [...new Set(points.map((p) => p.rule)), ...nRules];
  const allPoints = [...points, ...nPoints];
  // the physical floor of each rule at this n, one value per d (the same for every backend)
  const floors = new Map();
  for (const r of records) {
    if (r.n !== N || !(r.floorMs > 0) || !rules.includes(r.rule)) continue;
    if (!floors.has(r.rule)) floors.set(r.rule, new Map());
    floors.get(r.rule).set(r.d, r.floorMs);
  }
  const impls = [...new Set(allPoints.map((p) => p.impl))];
  const style = (impl) => IMPL_STYLE[impl] ?? { color: FALLBACK[impls.indexOf(impl) % FALLBACK.length], dash: '' };

  const cols = Math.min(4, Math.max(1, rules.length));
  const pw = 250, ph = 190; // panel
  const ml = 52, mr = 12, mt = 26, mb = 34; // plot margins inside a panel
  const top = 78;
  const width = cols * pw + 20;
  const height = top + Math.ceil(rules.length / cols) * ph + 20;

  const range = (xs) => {
    let lo = Math.min(...xs), hi = Math.max(...xs);
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    return [lo, hi];
  };
  const [dlo, dhi] = range(points.map((p) => Math.log10(p.d)));
  const [nlo, nhi] = range(nPoints.map((p) => Math.log10(p.n)));
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="600">${esc(title)}</text>`);
  const against = nRules.length > 0 ? ` (${nRules.join(', ')}: against n, its input is n×n)` : '';
  out.push(`<text x="10" y="38" fill="#444">${esc(`${subtitle ? `${subtitle} · ` : ''}n = ${N ?? '—'} clients · median time per call against d, log–log${against}`)}</text>`);
  // legend
  let lx = 10;
  if (floors.size > 0) {
    out.push(`<line x1="${lx}" y1="58" x2="${lx + 22}" y2="58" stroke="#999" stroke-width="1.5" stroke-dasharray="1 3"/>`);
    out.push(`<text x="${lx + 27}" y="62">floor</text>`);
    lx += 40 + 5 * 7;
  }
  for (const impl of impls) {
    const s = style(impl);
    out.push(`<line x1="${lx}" y1="58" x2="${lx + 22}" y2="58" stroke="${s.color}" stroke-width="2.5" stroke-dasharray="${s.dash}"/>`);
    out.push(`<text x="${lx + 27}" y="62">${esc(impl)}</text>`);
    lx += 40 + impl.length * 7;
  }
  rules.forEach((rule, k) => {
    const ox = 10 + (k % cols) * pw, oy = top + Math.floor(k / cols) * ph;
    const byN = nRules.includes(rule);
    const mine = (byN ? nPoints : points).filter((p) => p.rule === rule);
    const xOf = (p) => (byN ? p.n : p.d);
    const [xlo, xhi] = byN ? [nlo, nhi] : [dlo, dhi];
    const floorLine = byN ? [] : [...(floors.get(rule) ?? new Map()).entries()].sort((a, b) => a[0] - b[0]);
    const ys = [...mine.map((p) => p.ms), ...floorLine.map(([, ms]) => ms)].map((ms) => Math.log10(ms));
    let ylo = Math.floor(Math.min(...ys)), yhi = Math.ceil(Math.max(...ys));
    if (yhi === ylo) yhi = ylo + 1;
    const X = (x) => ox + ml + ((Math.log10(x) - xlo) / (xhi - xlo)) * (pw - ml - mr);
    const Y = (ms) => oy + ph - mb - ((Math.log10(ms) - ylo) / (yhi - ylo)) * (ph - mt - mb);
    out.push(`<g data-panel="${esc(rule)}" data-x="${byN ? 'n' : 'd'}">`);
    out.push(`<text x="${ox + ml}" y="${oy + 16}" font-weight="600">${esc(rule)}</text>`);
    out.push(`<rect x="${ox + ml}" y="${oy + mt}" width="${pw - ml - mr}" height="${ph - mt - mb}" fill="none" stroke="#bbb"/>`);
    for (const e of decadeTicks(ylo, yhi)) {
      const y = Y(10 ** e);
      out.push(`<line x1="${ox + ml}" y1="${y}" x2="${ox + pw - mr}" y2="${y}" stroke="#eee"/>`);
      out.push(`<text x="${ox + ml - 4}" y="${y + 4}" text-anchor="end" fill="#555">${esc(decadeLabel(10 ** e))}</text>`);
    }
    const xTicks = byN ? [...new Set(mine.map((p) => p.n))].sort((a, b) => a - b) : decadeTicks(dlo, dhi).map((e) => 10 ** e);
    for (const t of xTicks) {
      const x = X(t);
      out.push(`<line x1="${x}" y1="${oy + mt}" x2="${x}" y2="${oy + ph - mb}" stroke="#eee"/>`);
      out.push(`<text x="${x}" y="${oy + ph - mb + 14}" text-anchor="middle" fill="#555">${esc(byN ? String(t) : formatD(t))}</text>`);
    }
    out.push(`<text x="${ox + ml + (pw - ml - mr) / 2}" y="${oy + ph - 6}" text-anchor="middle" fill="#777">${byN ? 'n (input n×n, any d)' : 'd'}</text>`);
    if (floorLine.length > 1) {
      const path = floorLine.map(([d, ms], i) => `${i ? 'L' : 'M'}${X(d).toFixed(1)},${Y(ms).toFixed(1)}`).join(' ');
      out.push(`<path d="${path}" fill="none" stroke="#999" stroke-width="1.5" stroke-dasharray="1 3" data-kind="floor"/>`);
    }
    for (const impl of impls) {
      const line = mine.filter((p) => p.impl === impl).sort((a, b) => xOf(a) - xOf(b));
      if (line.length === 0) continue;
      const s = style(impl);
      if (line.length > 1) {
        const path = line.map((p, i) => `${i ? 'L' : 'M'}${X(xOf(p)).toFixed(1)},${Y(p.ms).toFixed(1)}`).join(' ');
        out.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`);
      }
      for (const p of line) {
        out.push(
          `<circle cx="${X(xOf(p)).toFixed(1)}" cy="${Y(p.ms).toFixed(1)}" r="3" fill="${s.color}" ` +
            `data-rule="${esc(p.rule)}" data-impl="${esc(p.impl)}" data-n="${p.n}" data-d="${p.d}" data-ms="${p.ms}">` +
            `<title>${esc(`${p.rule} · ${p.impl} · n=${p.n} d=${formatD(p.d)}: ${formatMs(p.ms)}`)}</title></circle>`,
        );
      }
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Reads the points back out of an SVG produced by renderSvg (for the agreement test). */
export function parseSvgPoints(svg) {
  const pts = [];
  const re = /data-rule="([^"]*)" data-impl="([^"]*)" data-n="(\d+)" data-d="(\d+)" data-ms="([^"]+)"/g;
  let m;
  const unesc = (s) => s.replace(/&quot;/g, '"').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
  while ((m = re.exec(svg)) !== null) {
    pts.push({ rule: unesc(m[1]), impl: unesc(m[2]), n: Number(m[3]), d: Number(m[4]), ms: Number(m[5]) });
  }
  return pts;
}
