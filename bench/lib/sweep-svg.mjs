// The chart of `npm run bench -- --sweep`: one log–log panel per rule, median time per call
// against the rule's nominal work, fast kernels / plain kernels / fastest peer as series.
//
// The x axis is the cost model's work, not always n·d: n·d for the rules that pass over the data a
// fixed number of times, n²·d for the rules built on the n×n Gram (distance) matrix. With x the
// model's own work, a rule whose cost follows its model puts all its points — every n, every d —
// on ONE line of slope 1 (the dashed grey reference, drawn through the series' largest point), and
// a departure is visible as a slope or a step between the n's. Against n·d alone, a Gram rule's
// points would split into one line per n (a factor of n apart), and reading "quadratic in n" would
// mean comparing the gaps between lines rather than checking one slope. The marker shape says n
// (circle 10, square 100, triangle 1000, diamond any other), lines join the cells of one n.
// Written by hand, no plotting library. Every point carries data-rule, data-impl, data-n, data-d,
// data-ms so a test can check the chart against the JSON.
import { formatD, formatMs } from './report.mjs';

const STYLE = {
  fast: { color: '#d62728', label: 'robust-agg, fast kernels' },
  ts: { color: '#1f77b4', label: 'robust-agg, plain kernels' },
  peer: { color: '#2ca02c', label: 'fastest of numpy / torch' },
};
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x) => Number(x.toFixed(1));

/** The x of a record: its rule's nominal work (n·d, or n²·d for cost 'n2d'). */
export function workOf(r) {
  return r.cost === 'n2d' ? r.n * r.n * r.d : r.n * r.d;
}

function marker(shape, x, y, color, attrs) {
  const s = 3.5;
  if (shape === 0) return `<circle cx="${num(x)}" cy="${num(y)}" r="${s}" fill="${color}" ${attrs}/>`;
  if (shape === 1) return `<rect x="${num(x - s)}" y="${num(y - s)}" width="${2 * s}" height="${2 * s}" fill="${color}" ${attrs}/>`;
  if (shape === 2) return `<path d="M${num(x)},${num(y - s - 1)} L${num(x + s + 1)},${num(y + s)} L${num(x - s - 1)},${num(y + s)} Z" fill="${color}" ${attrs}/>`;
  return `<path d="M${num(x)},${num(y - s - 1)} L${num(x + s + 1)},${num(y)} L${num(x)},${num(y + s + 1)} L${num(x - s - 1)},${num(y)} Z" fill="${color}" ${attrs}/>`;
}
const shapeOfN = (n) => ({ 10: 0, 100: 1, 1000: 2 })[n] ?? 3;

/**
 * Renders the sweep chart.
 * @param records  the sweep's records (impl 'fast', 'ts', 'numpy', 'torch'; peers are reduced to
 *                 the fastest per cell, impl 'peer')
 * @param opts     { rules, summary, subtitle, partial }
 */
export function renderSweepSvg(records, { rules, summary = {}, subtitle = '', partial = false } = {}) {
  const timed = records.filter((r) => !r.error && r.medianMs > 0);
  const best = new Map();
  for (const r of timed) {
    if (r.impl !== 'numpy' && r.impl !== 'torch') continue;
    const k = `${r.rule}|${r.n}|${r.d}`;
    if (!best.has(k) || r.medianMs < best.get(k).medianMs) best.set(k, r);
  }
  const pts = [
    ...timed.filter((r) => r.impl === 'fast' || r.impl === 'ts'),
    ...[...best.values()].map((r) => ({ ...r, impl: 'peer', peerLib: r.impl })),
  ];
  const cols = 2;
  const pw = 430;
  const ph = 310;
  const top = 84;
  const W = cols * pw + 20;
  const H = top + Math.ceil(rules.length / cols) * ph + 30;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="600">${esc(`robust-agg: time against size${partial ? ' (partial run)' : ''}`)}</text>`);
  out.push(`<text x="10" y="37" fill="#444">${esc(subtitle)}</text>`);
  out.push(`<text x="10" y="53" fill="#444">${esc('median time per call, log–log, against the model\'s work: n·d (one pass) or n²·d (Gram rules); dashed grey: slope 1, what the model predicts')}</text>`);
  let lx = 10;
  for (const impl of ['fast', 'ts', 'peer']) {
    out.push(`<line x1="${lx}" y1="70" x2="${lx + 22}" y2="70" stroke="${STYLE[impl].color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 27}" y="74">${esc(STYLE[impl].label)}</text>`);
    lx += 40 + STYLE[impl].label.length * 6;
  }
  for (const [i, n] of [[0, 10], [1, 100], [2, 1000]]) {
    out.push(marker(i, lx + 6, 70, '#555', ''));
    out.push(`<text x="${lx + 14}" y="74">n = ${n}</text>`);
    lx += 66;
  }

  rules.forEach((rule, idx) => {
    const ox = 10 + (idx % cols) * pw;
    const oy = top + Math.floor(idx / cols) * ph;
    const mine = pts.filter((r) => r.rule === rule);
    const ml = 58;
    const mr = 12;
    const mt = 24;
    const mb = 56;
    const x0 = ox + ml;
    const x1 = ox + pw - mr;
    const y0 = oy + ph - mb;
    const y1 = oy + mt;
    const cost = summary[rule]?.cost ?? mine[0]?.cost ?? 'nd';
    const xLabel = cost === 'n2d' ? 'n²·d' : 'n·d';
    out.push(`<g data-panel="${esc(rule)}" data-x="${cost === 'n2d' ? 'n2d' : 'nd'}">`);
    out.push(`<text x="${x0}" y="${oy + 16}" font-weight="600">${esc(rule)}</text>`);
    out.push(`<text x="${x0 + 120}" y="${oy + 16}" fill="#555">${esc(`cost model O(${cost === 'n2d' ? 'n²d' : 'nd'})`)}</text>`);
    out.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#999"/>`);
    if (mine.length === 0) {
      out.push(`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" fill="#888">no timed cell</text></g>`);
      return;
    }
    const xs = mine.map(workOf);
    const ys = mine.map((r) => r.medianMs);
    const lxMin = Math.floor(Math.log10(Math.min(...xs)));
    const lxMax = Math.max(lxMin + 1, Math.ceil(Math.log10(Math.max(...xs))));
    const lyMin = Math.floor(Math.log10(Math.min(...ys)));
    const lyMax = Math.max(lyMin + 1, Math.ceil(Math.log10(Math.max(...ys))));
    const X = (v) => x0 + ((Math.log10(v) - lxMin) / (lxMax - lxMin)) * (x1 - x0);
    const Y = (v) => y0 - ((Math.log10(v) - lyMin) / (lyMax - lyMin)) * (y0 - y1);
    const xStep = Math.max(1, Math.ceil((lxMax - lxMin) / 8));
    for (let e = lxMin; e <= lxMax; e += xStep) {
      const x = X(10 ** e);
      out.push(`<line x1="${num(x)}" y1="${y1}" x2="${num(x)}" y2="${y0}" stroke="#eee"/>`);
      out.push(`<text x="${num(x)}" y="${y0 + 13}" text-anchor="middle" fill="#444">1e${e}</text>`);
    }
    const yStep = Math.max(1, Math.ceil((lyMax - lyMin) / 7));
    for (let e = lyMin; e <= lyMax; e += yStep) {
      const y = Y(10 ** e);
      out.push(`<line x1="${x0}" y1="${num(y)}" x2="${x1}" y2="${num(y)}" stroke="#eee"/>`);
      out.push(`<text x="${x0 - 4}" y="${num(y + 3)}" text-anchor="end" fill="#444">${esc(formatMs(10 ** e))}</text>`);
    }
    out.push(`<text x="${(x0 + x1) / 2}" y="${y0 + 27}" text-anchor="middle" fill="#444">${esc(xLabel)}</text>`);
    // reference slope 1 through the largest point of the fast series (else of any series)
    const anchorSet = mine.filter((r) => r.impl === 'fast').length ? mine.filter((r) => r.impl === 'fast') : mine;
    const anchor = anchorSet.reduce((a, r) => (workOf(r) > workOf(a) ? r : a));
    const clipId = `clip-${idx}`;
    out.push(`<clipPath id="${clipId}"><rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/></clipPath>`);
    const refAt = (x) => anchor.medianMs * (x / workOf(anchor));
    const xa = 10 ** lxMin;
    const xb = 10 ** lxMax;
    out.push(`<line data-reference="slope-1" x1="${num(X(xa))}" y1="${num(Y(refAt(xa)))}" x2="${num(X(xb))}" y2="${num(Y(refAt(xb)))}" stroke="#888" stroke-dasharray="6 4" clip-path="url(#${clipId})"/>`);
    for (const impl of ['ts', 'peer', 'fast']) {
      const color = STYLE[impl].color;
      const ofImpl = mine.filter((r) => r.impl === impl);
      for (const n of [...new Set(ofImpl.map((r) => r.n))].sort((a, b) => a - b)) {
        const line = ofImpl.filter((r) => r.n === n).sort((a, b) => a.d - b.d);
        if (line.length > 1) {
          out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" opacity="0.8" points="${line.map((r) => `${num(X(workOf(r)))},${num(Y(r.medianMs))}`).join(' ')}"/>`);
        }
        for (const r of line) {
          const attrs = `data-rule="${esc(rule)}" data-impl="${impl}" data-n="${r.n}" data-d="${r.d}" data-ms="${r.medianMs}"${r.peerLib ? ` data-peer="${r.peerLib}"` : ''}`;
          out.push(marker(shapeOfN(r.n), X(workOf(r)), Y(r.medianMs), color, attrs).replace('/>', `><title>${esc(`${impl === 'peer' ? r.peerLib : impl} n=${r.n} d=${formatD(r.d)}: ${formatMs(r.medianMs)}`)}</title></${shapeOfN(r.n) === 0 ? 'circle' : shapeOfN(r.n) === 1 ? 'rect' : 'path'}>`));
        }
      }
    }
    // fitted exponents under the axis
    const s = summary[rule];
    if (s) {
      const f = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));
      const parts = ['fast', 'ts', 'peer'].filter((k) => s.fits?.[k]).map((k) => `${k === 'ts' ? 'plain' : k} ${f(s.fits[k].a)}/${f(s.fits[k].b)}`);
      out.push(`<text x="${x0}" y="${y0 + 40}" fill="#333">${esc(`fitted exponents n/d: ${parts.join(' · ') || '—'}`)}</text>`);
      const v = s.violations ?? [];
      const vText = v.length === 0 ? 'fast ≤ plain wherever both were timed' : `fast > plain at ${v.map((x) => `n=${x.n} d=${formatD(x.d)} (${x.ratio.toFixed(2)}×)`).join(', ')}`;
      out.push(`<text x="${x0}" y="${y0 + 53}" fill="${v.length ? '#b00' : '#333'}" data-violations="${v.length}">${esc(vText)}</text>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
