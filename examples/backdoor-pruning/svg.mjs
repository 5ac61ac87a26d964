// A minimal line chart as an SVG string (no dependency): series of {x, y} points on shared axes.
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function ticks(min, max, count) {
  const step = (max - min) / count;
  return Array.from({ length: count + 1 }, (_, i) => min + i * step);
}

/**
 * lineChart({ title, xLabel, yLabel, series: [{ label, points: [{x, y}], dashed? }], xMin, xMax, yMin, yMax,
 *             markers: [{ x, label }] }) → SVG text.
 */
export function lineChart({ title, xLabel, yLabel, series, xMin, xMax, yMin = 0, yMax = 100, markers = [], width = 640, height = 360 }) {
  const m = { left: 56, right: 16, top: 36, bottom: 72 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const x0 = xMin ?? Math.min(...all.map((p) => p.x));
  const x1 = xMax ?? Math.max(...all.map((p) => p.x));
  const sx = (x) => m.left + ((x - x0) / (x1 - x0 || 1)) * w;
  const sy = (y) => m.top + h - ((y - yMin) / (yMax - yMin || 1)) * h;
  const f = (v) => v.toFixed(1);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${title}</text>`);
  for (const t of ticks(yMin, yMax, 5)) {
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${+t.toFixed(2)}</text>`);
  }
  for (const t of ticks(x0, x1, 6)) {
    out.push(`<text x="${f(sx(t))}" y="${m.top + h + 16}" text-anchor="middle">${+t.toFixed(2)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${m.top + h + 34}" text-anchor="middle">${xLabel}</text>`);
  out.push(`<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`);
  for (const mk of markers) {
    out.push(`<line x1="${f(sx(mk.x))}" x2="${f(sx(mk.x))}" y1="${m.top}" y2="${m.top + h}" stroke="#888" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${f(sx(mk.x) + 3)}" y="${m.top + 12}" fill="#555">${mk.label}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${f(sx(p.x))},${f(sy(p.y))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    for (const p of s.points.length <= 40 ? s.points : []) out.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="2.2" fill="${color}"/>`);
    const lx = m.left + (i % 3) * (w / 3);
    const ly = m.top + h + 52 + Math.floor(i / 3) * 14;
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${lx + 22}" y="${ly}">${s.label}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
