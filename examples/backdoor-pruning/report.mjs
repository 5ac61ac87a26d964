// node examples/backdoor-pruning/report.mjs
//
// Builds docs/results/backdoor-pruning.md and its SVG curves from the JSON files the experiment
// writes (docs/results/backdoor-pruning.mnist.json, .fashion.json). Phases not yet run are listed
// as missing, so the page can be rebuilt while a run is in progress.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChart } from './svg.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? resolve(process.argv[dirArg + 1]) : resolve(root, 'docs/results');
const NAMES = {
  mnist: 'MNIST',
  fashion: 'Fashion-MNIST',
  'fashion.resnet': 'ResNet-8, Fashion-MNIST',
  'mnist.resnet': 'ResNet-8, MNIST',
  'mnist.resnet-wide': 'ResNet-8 32/64/128, MNIST',
  'fashion.resnet-wide': 'ResNet-8 32/64/128, Fashion-MNIST',
};
const isResnet = (s) => s.opts.model === 'resnet';
const epochsOf = (s) => s.phases.train.epochsTrained ?? s.opts.epochs;
const pct = (v) => (v == null ? '—' : (100 * v).toFixed(2));
const der = (before, after) => (Math.max(0, before.asr - after.asr) - Math.max(0, before.acc - after.acc) + 1) / 2;
// The reference's own unlearning log (bboylyg/RNP README: ResNet-18, CIFAR-10, BadNets 10 %, 500 images).
const REFERENCE_UNLEARNING = [0.978, 0.976, 0.974, 0.972, 0.964, 0.95, 0.922, 0.87, 0.67, 0.454, 0.292, 0.236, 0.198];

function load(name) {
  const file = resolve(dir, `backdoor-pruning.${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

// Phase 9 of run.mjs (ResNet): two selections over the lr-0.001 masks.
const slowVariants = (p) => {
  const v = p.rnpSlowVariants;
  if (!v) return [];
  return [
    ["last stage's BN layers only", v.lastStage],
    ['branch and shortcut BN of a projection block pruned together', v.pairedBlockOutputs],
  ].filter(([, r]) => r);
};

function rowsOf(s) {
  const p = s.phases;
  const before = p.train.eval;
  const rows = [{ name: 'BadNets, no defense', e: before, time: p.train.time, note: `training, ${epochsOf(s)} epochs` }];
  const add = (name, e, time, note = '') => e && rows.push({ name, e, time, note, der: der(before, e) });
  if (p.rnp) {
    const b = p.rnp.budget;
    add('RNP, reference defaults; pick: 2-point budget (our default)', b.eval, b.time, b.chosen ? `t = ${b.chosen.value.toFixed(2)}, ${b.pruned.length} channels` : 'nothing pruned');
    add('RNP, reference defaults; pick: fixed t = 0.70 (BackdoorBench)', p.rnp.fixed.eval, null, `${p.rnp.fixed.pruned.length} channels`);
  }
  if (p.rnpLastLayer) {
    const r = p.rnpLastLayer;
    add(`RNP masks, ${r.layer.includes('+') ? "last stage's BN layers" : 'last BN layer'} only (not the reference); 2-point budget`, r.eval, r.time, r.chosen ? `t = ${r.chosen.value.toFixed(2)}, ${r.pruned.length} channels` : 'nothing pruned');
  }
  if (p.rnpSlow) {
    const r = p.rnpSlow;
    add('RNP, unlearning lr 0.001; 2-point budget', r.eval, r.time, r.chosen ? `t = ${r.chosen.value.toFixed(2)}, ${r.pruned.length} channels` : 'nothing pruned');
    add('RNP, unlearning lr 0.001; fixed t = 0.70', r.fixed.eval, null, `${r.fixed.pruned.length} channels`);
  }
  for (const [label, r] of slowVariants(p)) {
    add(`RNP, unlearning lr 0.001 masks, ${label} (not the reference); 2-point budget`, r.eval, r.time, r.chosen ? `t = ${r.chosen.value.toFixed(2)}, ${r.pruned.length} channels` : 'nothing pruned');
  }
  for (const v of Object.values(s.variants ?? {})) {
    add(`RNP, ${v.label}; 2-point budget`, v.eval, v.time, v.chosen ? `t = ${v.chosen.value.toFixed(2)}, ${v.pruned.length} channels` : 'nothing pruned');
    add(`RNP, ${v.label}; fixed t = 0.70`, v.fixed.eval, null, `${v.fixed.pruned.length} channels`);
  }
  if (p.finePruning) {
    const f = p.finePruning;
    add(`Fine-Pruning (${f.cleanCount} clean${s.opts.fpAt === 'block-output' ? ", last block's output channels" : ''}), pruned + fine-tuned`, f.eval, f.time, `${f.pruned.length} of ${f.order.length} channels; pruned only: ACC ${pct(f.prunedOnly.acc)}, ASR ${pct(f.prunedOnly.asr)} (200/200 test subset)`);
  }
  if (p.clp) add('CLP (data-free, u = 3)', p.clp.eval, p.clp.time, `${p.clp.prunedCount} channels`);
  return rows;
}

function charts(name, s) {
  const p = s.phases;
  const files = [];
  if (p.finePruningCurve) {
    const c = p.finePruningCurve;
    const probed = c.steps.filter((x) => x.acc !== undefined);
    const total = c.channels;
    const svg = lineChart({
      title: `${NAMES[name]}: Fine-Pruning's pruning curve (${s.opts.fpAt === 'block-output' ? "last block's output" : 'last conv layer'}, prune only)`,
      xLabel: `fraction of the ${total} channels pruned (lowest mean clean activation first)`,
      yLabel: '%',
      xMin: 0,
      xMax: 1,
      series: [
        { label: 'clean test ACC', points: probed.map((x) => ({ x: x.prunedCount / total, y: 100 * x.acc })) },
        { label: 'ASR', points: probed.map((x) => ({ x: x.prunedCount / total, y: 100 * x.asr })) },
        { label: 'validation ACC (defender)', dashed: true, points: c.steps.map((x) => ({ x: x.prunedCount / total, y: 100 * x.validationAccuracy })) },
      ],
      markers: p.finePruning ? [{ x: p.finePruning.pruned.length / total, label: 'FP stops (4-point drop)' }] : [],
    });
    const file = `backdoor-pruning.${name}.fine-pruning.svg`;
    writeFileSync(resolve(dir, file), svg);
    files.push({ file, what: `Fine-Pruning's curve: accuracy and ASR against the share of ${s.opts.fpAt === 'block-output' ? "the last block's output" : 'last-layer'} channels pruned (the CSAW lab's plot)` });
  }
  const sweeps = [];
  if (p.rnp) sweeps.push({ label: 'reference defaults', sweep: p.rnp.budget.sweep });
  if (p.rnpLastLayer) sweeps.push({ label: p.rnpLastLayer.layer.includes('+') ? 'last stage only' : 'last BN only', sweep: p.rnpLastLayer.sweep, dashed: true });
  if (p.rnpSlow) sweeps.push({ label: 'unlearning lr 0.001', sweep: p.rnpSlow.sweep, dotted: true });
  // The ResNet's extra runs (rnp-variants.mjs) are drawn too; the CNN's charts stay as they were.
  if (isResnet(s)) for (const v of Object.values(s.variants ?? {})) if (!(p.rnpSlow && v.options?.unlearningRate === 0.001)) sweeps.push({ label: v.label.replace(' (with augmentation)', ''), sweep: v.sweep });
  if (sweeps.length > 0) {
    const series = [];
    sweeps.forEach((sw, i) => {
      series.push({ label: `ACC, ${sw.label}`, color: ['#1f77b4', '#2ca02c', '#9467bd'][i], dashed: i > 0, points: sw.sweep.map((x) => ({ x: x.value, y: 100 * x.probe.acc })) });
      series.push({ label: `ASR, ${sw.label}`, color: ['#d62728', '#ff7f0e', '#8c564b'][i], dashed: i > 0, points: sw.sweep.map((x) => ({ x: x.value, y: 100 * x.probe.asr })) });
    });
    const svg = lineChart({
      title: `${NAMES[name]}: RNP's pruning sweep (channels with mask ≤ t pruned)`,
      xLabel: 'threshold t',
      yLabel: '% (200 clean / 200 triggered test images)',
      xMin: 0,
      xMax: 0.9,
      series,
      markers: [{ x: 0.7, label: 'BackdoorBench 0.70' }],
    });
    const file = `backdoor-pruning.${name}.rnp.svg`;
    writeFileSync(resolve(dir, file), svg);
    files.push({ file, what: "RNP's sweep: accuracy and ASR against the threshold" });
  }
  return files;
}

function section(name, s, lines) {
  const p = s.phases;
  lines.push(`## ${NAMES[name]}`, '');
  if (!p.train) {
    lines.push('Not run yet.', '');
    return;
  }
  const missing = ['rnp', 'ablation', 'rnpLastLayer', 'finePruning', 'finePruningCurve', 'clp', 'rnpSlow'].filter((k) => !p[k]);
  const model = isResnet(s)
    ? `ResNet-8 with widths ${s.opts.widths.join('/')} (examples/backdoor-pruning/resnet.mjs), ${(p.train.params / 1000).toFixed(1)} k parameters, trained ${p.train.augment ? 'with the random crop' + (name.startsWith('fashion') ? ' + flip' : '') : 'without augmentation'}, ` +
      `${epochsOf(s)} epochs${epochsOf(s) < s.opts.epochs ? ` (of ${s.opts.epochs} asked: stopped by the wall-clock cap --train-until ${s.opts.trainUntil ?? ''})` : ''}` +
      `${s.opts.lrMilestones ? ` (Adam lr 1e-3, ×0.1 after epoch ${s.opts.lrMilestones.join(', ')})` : ''}`
    : `model ${s.opts.filters.join('/')} filters, ${(p.train.params / 1000).toFixed(1)} k parameters, ${epochsOf(s)} epochs`;
  lines.push(`${s.data.train} training images (${s.data.poisoned} poisoned), ${s.data.test} test images; ${model} (${p.train.stepsPerEpoch} steps of 64 each) in ${p.train.time.toFixed(0)} s. Backend ${s.backend}. ` +
    `Wall time: training ${p.train.time.toFixed(0)} s, then the defense phases ${s.complete ? `${(s.trainWall !== undefined ? s.wall - s.trainWall : isResnet(s) ? s.wall - p.train.time : s.wall).toFixed(0)} s` : 'in progress'}${isResnet(s) && !s.opts.trainOnly ? ' (same process)' : ' (a second process, after reloading the checkpoint)'}` +
    `${s.variants ? `, then the extra RNP variants ${Object.values(s.variants).reduce((a, v) => a + v.time, 0).toFixed(0)} s (examples/backdoor-pruning/rnp-variants.mjs)` : ''}` +
    `${missing.length ? ` — phases not finished yet: ${missing.join(', ')} (rerun the same command to continue)` : ''}.`, '');
  const rows = rowsOf(s);
  lines.push('| model | ACC % | ASR % | RA % | DER | wall time s | notes |', '|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    lines.push(`| ${r.name} | ${pct(r.e.acc)} | ${pct(r.e.asr)} | ${pct(r.e.ra)} | ${r.der == null ? '—' : r.der.toFixed(3)} | ${r.time == null ? '(same run)' : r.time.toFixed(0)} | ${r.note} |`);
  }
  lines.push('');
  if (p.train.epochEvals?.length) {
    lines.push(`Training, per epoch (200 clean / 200 triggered test images; cumulative wall time): ` +
      p.train.epochEvals.map((e, i) => `${e.epoch}: ACC ${pct(e.acc)} / ASR ${pct(e.asr)} (${p.train.epochTimes[i].toFixed(0)} s)`).join('; ') + '.', '');
  }
  const before = p.train.eval;
  const met = (e) => e && e.asr < 0.05 && before.acc - e.acc <= 0.03;
  if (p.rnp) {
    const budget = met(p.rnp.budget.eval);
    const fixed = met(p.rnp.fixed.eval);
    lines.push(`**Target** (ASR < 5 % with clean accuracy within 3 points, reference defaults): ` +
      `with our default pick **${budget ? 'met' : 'not met'}** (ASR ${pct(p.rnp.budget.eval.asr)} %, ACC ${pct(p.rnp.budget.eval.acc)} % vs ${pct(before.acc)} %); ` +
      `with BackdoorBench's fixed 0.70 **${fixed ? 'met' : 'not met'}** (ASR ${pct(p.rnp.fixed.eval.asr)} %, ACC ${pct(p.rnp.fixed.eval.acc)} %). ` +
      `RNP rows of the table that meet it, any setting: ${rows.filter((r) => r.name.startsWith('RNP') && met(r.e)).map((r) => r.name).join('; ') || 'none'}.`, '');
  }
  if (p.ablation) {
    const a = p.ablation;
    lines.push(`### Is the t = 0 set harmless? Single-channel ablation`, '');
    lines.push(`The channels whose recovered mask is exactly 0 (RNP's first pruning step), each switched off alone (γ = 0, as RNP prunes), then per layer and all together; ` +
      `measured on 200 clean / 200 triggered test images (the whole test set for the groups). Backdoored model: ACC ${pct(before.acc)} %, ASR ${pct(before.asr)} %.`, '');
    if (a.rows.length === 0) lines.push('No channel reached mask 0.', '');
    else {
      lines.push('| layer | channel | ACC % | ASR % |', '|---|---:|---:|---:|');
      for (const r of a.rows) lines.push(`| ${r.layer} | ${r.channel} | ${pct(r.acc)} | ${pct(r.asr)} |`);
      lines.push('');
    }
    lines.push('| switched off | channels | ACC % | ASR % |', '|---|---:|---:|---:|');
    for (const g of a.groups) lines.push(`| ${g.layer === 'all' ? 'the whole t = 0 set' : `${g.layer} (of ${g.channels})`} | ${g.count} | ${pct(g.acc)} | ${pct(g.asr)} |`);
    lines.push('');
  }
  const curves = [];
  if (p.rnp) curves.push({ label: 'unlearning lr 0.01 (reference)', u: p.rnp.budget.unlearning, rec: p.rnp.budget.recovery });
  if (p.rnpSlow) curves.push({ label: 'unlearning lr 0.001', u: p.rnpSlow.unlearning, rec: p.rnpSlow.recovery });
  for (const v of Object.values(s.variants ?? {})) curves.push({ label: v.label, u: v.unlearning, rec: v.recovery });
  if (curves.length) {
    lines.push('### Unlearning and recovery against the reference\'s log', '');
    lines.push(`Clean training accuracy per unlearning epoch (stops at ≤ 20 %); the reference's log (ResNet-18, CIFAR-10, 500 images) stops after 13 epochs: ` +
      REFERENCE_UNLEARNING.map((v) => (100 * v).toFixed(1)).join(' → ') + ' %.', '');
    for (const c of curves) {
      lines.push(`- ${c.label}: ${c.u.length} epochs, ` + c.u.map((e) => (100 * e.trainAccuracy).toFixed(1)).join(' → ') + ' % ' +
        `(lr ${[...new Set(c.u.map((e) => e.learningRate))].join(' then ')}); recovery: masked train ACC ${pct(c.rec[0]?.trainAccuracy)} → ${pct(c.rec.at(-1)?.trainAccuracy)} % (reference 19.8 → 65.2 %).`);
    }
    lines.push('');
  }
  const sweeps = [];
  if (p.rnp) sweeps.push(['reference defaults', p.rnp.budget]);
  if (p.rnpLastLayer) sweeps.push([`masks of the reference run, ${p.rnpLastLayer.layer} only`, p.rnpLastLayer]);
  if (p.rnpSlow) sweeps.push(['unlearning lr 0.001', p.rnpSlow]);
  for (const [label, r] of slowVariants(p)) sweeps.push([`masks of the lr 0.001 run, ${label}`, r]);
  for (const v of Object.values(s.variants ?? {})) sweeps.push([v.label, v]);
  for (const [label, r] of sweeps) {
    lines.push(`### RNP sweep, ${label}`, '');
    lines.push(`Validation = the ${s.phases.rnp.cleanCount} clean images (unpruned ${pct(r.baseValidationAccuracy)} %); test ACC / ASR on 200 clean / 200 triggered test images, for reading only.`, '');
    lines.push('| t | channels pruned | validation ACC % | test ACC % | test ASR % | picked |', '|---:|---:|---:|---:|---:|:---:|');
    for (const x of r.sweep) lines.push(`| ${x.value.toFixed(2)} | ${x.prunedCount} | ${pct(x.validationAccuracy)} | ${pct(x.probe.acc)} | ${pct(x.probe.asr)} | ${r.chosen && x.value === r.chosen.value ? '✓' : ''} |`);
    const byLayer = {};
    for (const c of r.pruned) byLayer[c.layer] = (byLayer[c.layer] ?? 0) + 1;
    const m = r.masks ?? (r === p.rnp?.budget || r === p.rnpLastLayer ? p.rnp.masks : null);
    const zeros = m ? Object.entries(m).map(([k, v]) => `${k} ${v.filter((x) => x <= 0).length} of ${v.length}`).join(', ') : null;
    lines.push('', `Picked: ${r.chosen ? r.chosen.value.toFixed(2) : 'none'}; pruned per layer: ${Object.entries(byLayer).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.` +
      (zeros ? ` Channels with mask 0 (the t = 0 set): ${zeros}.` : ''), '');
  }
  // The recovered masks per layer (ResNet sections): where the low masks are.
  const maskSets = [];
  if (isResnet(s) && p.rnp) maskSets.push(['unlearning lr 0.01 (reference)', p.rnp.masks]);
  if (isResnet(s) && p.rnpSlow?.masks) maskSets.push(['unlearning lr 0.001', p.rnpSlow.masks]);
  if (maskSets.length) {
    lines.push('### Recovered masks per layer', '');
    lines.push('Per BN layer: channels, how many masks are 0 / ≤ 0.05 / ≤ 0.2 / ≤ 0.7, and the median mask.', '');
    lines.push('| run | layer | channels | = 0 | ≤ 0.05 | ≤ 0.2 | ≤ 0.7 | median |', '|---|---|---:|---:|---:|---:|---:|---:|');
    for (const [label, masks] of maskSets) {
      for (const [layer, m] of Object.entries(masks)) {
        const sorted = [...m].sort((a, b) => a - b);
        const median = sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        const le = (t) => m.filter((v) => v <= t).length;
        lines.push(`| ${label} | ${layer} | ${m.length} | ${le(0)} | ${le(0.05)} | ${le(0.2)} | ${le(0.7)} | ${median.toFixed(2)} |`);
      }
    }
    lines.push('');
  }
  if (p.finePruning) {
    const f = p.finePruning;
    lines.push('### Fine-Pruning', '');
    lines.push(`Layer ${f.layer}; ${f.pruned.length} of ${f.order.length} channels pruned before the 4-point validation drop (stopped by ${f.stoppedBy}); ` +
      `pruned only: ACC ${pct(f.prunedOnly.acc)} %, ASR ${pct(f.prunedOnly.asr)} % (200/200 subset); after 10 fine-tuning epochs: ACC ${pct(f.eval.acc)} %, ASR ${pct(f.eval.asr)} % (whole test set).`, '');
  }
  if (p.finePruningCurve) {
    const c = p.finePruningCurve;
    const probed = c.steps.filter((x) => x.acc !== undefined);
    lines.push(`Prune-only curve (every ${c.probedEvery}th step probed):`, '');
    lines.push('| channels pruned | share | validation ACC % | test ACC % | ASR % |', '|---:|---:|---:|---:|---:|');
    for (const x of probed.filter((_, i) => i % 2 === 0 || i === probed.length - 1)) lines.push(`| ${x.prunedCount} | ${(x.prunedCount / c.channels).toFixed(2)} | ${pct(x.validationAccuracy)} | ${pct(x.acc)} | ${pct(x.asr)} |`);
    lines.push('');
  }
  if (p.clp) {
    lines.push('### CLP', '');
    lines.push('| conv → BN | threshold (mean + 3·std) | max bound | pruned |', '|---|---:|---:|---|');
    for (const l of p.clp.layers) lines.push(`| ${l.conv} → ${l.batchNorm} | ${l.threshold.toFixed(3)} | ${l.max.toFixed(3)} | ${l.pruned.join(', ') || 'none'} |`);
    lines.push('', 'Over u (200/200 test subset):', '', '| u | channels pruned | ACC % | ASR % |', '|---:|---:|---:|---:|');
    for (const x of p.clp.curve) lines.push(`| ${x.u} | ${x.prunedCount} | ${pct(x.acc)} | ${pct(x.asr)} |`);
    lines.push('');
  }
  for (const c of charts(name, s)) lines.push(`![${c.what}](${c.file})`, '');
}

export function buildPage({ prose = {} } = {}) {
  const lines = [];
  lines.push('---', 'title: "Results: BadNets vs RNP, Fine-Pruning and CLP (MNIST, Fashion-MNIST)"', '---', '');
  lines.push('# BadNets on MNIST and Fashion-MNIST vs RNP, Fine-Pruning and CLP', '');
  lines.push(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), 'page-intro.md'), 'utf8').trim(), '');
  for (const name of ['mnist', 'fashion']) {
    const s = load(name);
    const variants = load(`${name}.variants`);
    if (s !== null && variants !== null) s.variants = variants.variants;
    if (s === null) {
      lines.push(`## ${NAMES[name]}`, '', 'Not run yet.', '');
      continue;
    }
    section(name, s, lines);
    if (prose[name]) lines.push(prose[name], '');
  }
  // The CNN's reading of the results, then the small ResNet's part (run.mjs --model resnet), then
  // the rest of the outro (the earlier run, training speed, how to reproduce).
  const outro = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), 'page-outro.md'), 'utf8').trim();
  const cut = outro.indexOf('## The earlier run');
  lines.push(cut < 0 ? outro : outro.slice(0, cut).trim(), '');
  const resnetRuns = ['mnist.resnet', 'fashion.resnet'].map((name) => [name, load(name)]).filter(([, s]) => s?.phases?.train);
  for (const [name, s] of resnetRuns) {
    const variants = load(`${name}.variants`);
    if (variants !== null) s.variants = variants.variants;
  }
  if (resnetRuns.length > 0) {
    const here = dirname(fileURLToPath(import.meta.url));
    lines.push(readFileSync(resolve(here, 'page-resnet.md'), 'utf8').trim(), '');
    for (const [name, s] of resnetRuns) section(name, s, lines);
    if (existsSync(resolve(here, 'page-resnet-reading.md'))) lines.push(readFileSync(resolve(here, 'page-resnet-reading.md'), 'utf8').trim(), '');
  }
  // The wider ResNet (stage widths 32/64/128), its own part with its own reading.
  const wideRuns = ['mnist.resnet-wide', 'fashion.resnet-wide'].map((name) => [name, load(name)]).filter(([, s]) => s?.phases?.train);
  if (wideRuns.length > 0) {
    const here = dirname(fileURLToPath(import.meta.url));
    lines.push(readFileSync(resolve(here, 'page-resnet-wide.md'), 'utf8').trim(), '');
    for (const [name, s] of wideRuns) {
      const variants = load(`${name}.variants`);
      if (variants !== null) s.variants = variants.variants;
      section(name, s, lines);
    }
  }
  if (cut >= 0) lines.push(outro.slice(cut).trim(), '');
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(resolve(dir, 'backdoor-pruning.md'), buildPage());
  console.log('wrote docs/results/backdoor-pruning.md');
}
