// npm run experiment:flame
//
// FedAvg on MNIST with 20 clients per round, 4 of them attackers that train on BadNets-poisoned
// data (3×3 white patch bottom-right, target 0) and submit model-replacement-boosted updates
// (Bagdasaryan et al. 2020). Compares the server rules mean (plain FedAvg), flame, krum, multiKrum
// and trimmedMean on main-task accuracy and backdoor accuracy per round, next to attack-free
// FedAvg. flame runs twice: as a user calls it with the global model (its default then clusters the
// local models G + Δᵢ, the paper's Algorithm 1) and with clusterOn: 'updates' (the seed code's sketch).
// Writes docs/results/flame-backdoor.md, flame-backdoor.svg and flame-backdoor.json.
//
// Options: --seed 1  --warmup 20  --rounds 40  --clients 100  --per-round 20  --attackers 4
//          --compromised 10  --local-epochs 2  --lr 0.1  --batch 32  --poison-fraction 0.5
//          --lambda 0.001  --rules mean,flame,flameUpdates,krum,multiKrum,trimmedMean  --out <file.md>
//          --flame-options '{"layout":...}'   (extra options passed to the flame row)
//          --docs-from docs/results/flame-backdoor.json [--out <file.md>]   (re-render the page, no training)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  createRng,
  flameWithDecision,
  krumWithDecision,
  meanWithDecision,
  multiKrumWithDecision,
  trimmedMeanWithDecision,
} from '../../dist/index.js';
import { assignWeights, flattenWeights } from '../../dist/tfjs/index.js';
import { setupBackend } from '../backdoor-pruning/backend.mjs';
import { loadMnist } from '../backdoor-pruning/data.mjs';
import { log, progress, seconds } from '../backdoor-pruning/progress.mjs';
import { attackerData, buildMlp, localUpdate, makeEvaluator, replacementUpdate, roundClients, splitClients } from './fl.mjs';
import { lineChart } from './svg.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv) {
  const o = {
    seed: 1,
    warmup: 20,
    rounds: 40,
    clients: 100,
    perRound: 20,
    attackers: 4,
    compromised: 10,
    localEpochs: 2,
    lr: 0.1,
    batch: 32,
    poisonFraction: 0.5,
    lambda: 0.001,
    target: 0,
    flameOptions: {},
    rules: ['mean', 'flame', 'flameUpdates', 'krum', 'multiKrum', 'trimmedMean'],
    out: resolve(root, 'docs/results/flame-backdoor.md'),
  };
  const num = { '--seed': 'seed', '--warmup': 'warmup', '--rounds': 'rounds', '--clients': 'clients', '--per-round': 'perRound',
    '--attackers': 'attackers', '--compromised': 'compromised', '--local-epochs': 'localEpochs', '--lr': 'lr', '--batch': 'batch',
    '--poison-fraction': 'poisonFraction', '--lambda': 'lambda', '--target': 'target' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in num) o[num[a]] = Number(argv[++i]);
    else if (a === '--rules') o.rules = argv[++i].split(',');
    else if (a === '--flame-options') o.flameOptions = JSON.parse(argv[++i]);
    else if (a === '--out') o.out = resolve(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** The server rules; f = the number of attackers per round. */
function aggregate(rule, updates, o, round, global) {
  const f = o.attackers;
  switch (rule) {
    case 'mean':
      return meanWithDecision(updates);
    case 'flame':
      // As a user calls it: with the global model, so the default clusters the local models G + Δᵢ.
      return flameWithDecision(updates, { lambda: o.lambda, seed: o.seed * 1000 + round, global, ...o.flameOptions });
    case 'flameUpdates':
      // The seed code's sketch: cosine distances between the updates Δᵢ.
      return flameWithDecision(updates, { lambda: o.lambda, seed: o.seed * 1000 + round, global, clusterOn: 'updates' });
    case 'flameModels':
      // Explicitly the paper's Algorithm 1 (the same as 'flame' without --flame-options).
      return flameWithDecision(updates, { lambda: o.lambda, seed: o.seed * 1000 + round, global, clusterOn: 'models' });
    case 'krum':
      return krumWithDecision(updates, { f });
    case 'multiKrum':
      return multiKrumWithDecision(updates, { f });
    case 'trimmedMean':
      return trimmedMeanWithDecision(updates, { f });
    default:
      throw new Error(`unknown rule ${rule}`);
  }
}

/** The name of a rule's row (also the SVG legend: keep it short). */
function label(rule) {
  if (rule === 'flame') return "flame with global → 'models' (default)";
  if (rule === 'flameUpdates') return "flame, clusterOn: 'updates'";
  if (rule === 'flameModels') return "flame, clusterOn: 'models'";
  return rule;
}

/** Mean distance of the pairs (i < j) selected by `keep`, their minimum and median. */
function pairStats(dist, n, keep) {
  const v = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (keep(i, j)) v.push(dist[i * n + j]);
  if (v.length === 0) return null;
  v.sort((a, b) => a - b);
  const mid = v.length >> 1;
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: v[0], median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2 };
}

/**
 * Cosine distances among honest clients, among attackers and between the two, under both
 * clusterOn settings on the same updates; the attackers the other setting would have admitted; ‖G‖ and S.
 */
function flameDiagnostics(decision, updates, global, attackers) {
  const n = updates.length;
  const bad = new Set(attackers);
  const otherSetting = decision.clusterOn === 'models' ? 'updates' : 'models';
  const other = flameWithDecision(updates, { lambda: 0, global, clusterOn: otherSetting }).decision;
  const groups = (dist) => ({
    hh: pairStats(dist, n, (i, j) => !bad.has(i) && !bad.has(j)),
    aa: pairStats(dist, n, (i, j) => bad.has(i) && bad.has(j)),
    ah: pairStats(dist, n, (i, j) => bad.has(i) !== bad.has(j)),
  });
  let g2 = 0;
  for (let k = 0; k < global.length; k++) g2 += global[k] * global[k];
  return {
    distances: { [decision.clusterOn]: groups(decision.cosineDistances), [otherSetting]: groups(other.cosineDistances) },
    otherAdmittedAttackers: attackers.filter((i) => other.admitted.includes(i)).length,
    globalNorm: Math.sqrt(g2),
    medianNorm: decision.medianNorm,
  };
}

function runRounds({ label, rule, attacked, start, o, model, shards, poisonedShards, evaluator, fromRound, rounds }) {
  let global = Float32Array.from(start);
  const history = [];
  const t0 = performance.now();
  for (let r = fromRound; r < fromRound + rounds; r++) {
    const participants = roundClients(o, r, attacked);
    const updates = participants.map(({ c, bad }, pos) => {
      const rng = createRng(o.seed * 104729 + r * 1009 + c);
      const settings = { epochs: o.localEpochs, learningRate: o.lr, batchSize: o.batch, rng };
      if (!bad) return localUpdate(model, global, shards[c], settings).delta;
      const { local } = localUpdate(model, global, poisonedShards[c], settings);
      return replacementUpdate(local, global, { n: o.perRound, eta: 1, attackers: o.attackers });
    });
    const { aggregate: delta, decision } = aggregate(rule, updates, o, r, global);
    const attackers = participants.flatMap((p, i) => (p.bad ? [i] : []));
    // For the flame rows: the cosine distances under both settings on the same updates (the other
    // setting is only measured; the row's own decision drives the model), and ‖G‖ against S.
    const flameStats = decision.clusterOn === undefined ? null : flameDiagnostics(decision, updates, global, attackers);
    const next = new Float32Array(global.length);
    for (let k = 0; k < next.length; k++) next[k] = global[k] + delta[k];
    global = next;
    assignWeights(model, global);
    const e = evaluator.evaluate(model);
    const selected = decision.selected ?? null;
    const admittedAttackers = selected === null ? null : attackers.filter((i) => selected.includes(i)).length;
    history.push({ round: r, acc: e.acc, asr: e.asr, admittedAttackers, selectedCount: selected?.length ?? null,
      ...(flameStats === null ? {} : { clusterOn: decision.clusterOn, ...flameStats }) });
    progress(label, r - fromRound + 1, rounds,
      `main ${(100 * e.acc).toFixed(1)} % backdoor ${(100 * e.asr).toFixed(1)} %` +
        (admittedAttackers === null ? '' : ` attackers admitted ${admittedAttackers}/${attackers.length}`) +
        ` ${seconds(t0).toFixed(0)} s`);
  }
  return { global, history, time: seconds(t0) };
}

const pct = (v) => (100 * v).toFixed(2);

/** Sum of the attackers a row admitted over the attack rounds, and the honest clients it admitted per round. */
function admissions(o, r) {
  if (r.history.every((h) => h.admittedAttackers === null)) return null;
  const attackers = r.history.reduce((s, h) => s + (h.admittedAttackers ?? 0), 0);
  const slots = r.attacked ? o.attackers * r.history.length : 0;
  const honestSlots = o.perRound - (r.attacked ? o.attackers : 0);
  const honest = r.history.reduce((s, h) => s + (h.selectedCount - h.admittedAttackers), 0) / r.history.length;
  const roundsWithAttacker = r.history.filter((h) => h.admittedAttackers > 0).length;
  return { attackers, slots, honest, honestSlots, roundsWithAttacker };
}

function markdown(o, res, backend, wall, svgName, machine) {
  const L = [];
  const base = res.find((r) => r.name === 'no attack (mean)');
  const last = (r) => r.history[r.history.length - 1];
  const tail = (r, k = 5) => r.history.slice(-k);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const maxAsr = (r) => Math.max(...r.history.map((h) => h.asr));
  const byRule = (rule) => res.find((r) => r.rule === rule && r.attacked);
  const firstAttack = o.warmup + 1;
  const lastRound = o.warmup + o.rounds;
  L.push('---', 'title: "Results: FLAME vs model replacement in FedAvg on MNIST"', '---', '');
  L.push('# FLAME vs model replacement in FedAvg on MNIST', '');
  L.push('Written by `npm run experiment:flame` (examples/flame-backdoor/run.mjs). Main accuracy = clean test accuracy of ' +
    'the global model; backdoor accuracy = the share of triggered test digits whose true label is not the target that ' +
    'the global model classifies as the target (ASR).', '');
  L.push('## Settings', '');
  L.push('| | |', '|---|---|');
  L.push(`| data | the \`mnist\` npm package (${res.meta.trainSize + res.meta.testSize} real MNIST digits, not the full 70 000): ${res.meta.testSize} held out for testing (${res.meta.testSize / 10} per class), ${res.meta.trainSize} for training, split IID (seeded shuffle) into ${o.clients} clients of ${res.meta.shard} digits |`);
  L.push(`| model | MLP 784 → 128 (ReLU) → 10, ${res.meta.d} parameters, He-normal / Glorot-uniform initialization (seeded) |`);
  L.push(`| clients | ${o.localEpochs} local epochs of plain SGD, lr ${o.lr}, batch ${o.batch}, from the current global model; update Δᵢ = Lᵢ − G |`);
  L.push(`| server | FedAvg step G ← G + agg(Δ₁, …, Δₙ) (η = 1), n = ${o.perRound} clients per round drawn from the ${o.clients} |`);
  L.push(`| schedule | rounds 1–${o.warmup}: attack-free FedAvg (mean) from the seeded initialization, shared by all rows; rounds ${firstAttack}–${lastRound}: ${o.rounds} rounds per row, attacked in every round (except the "no attack" row) |`);
  L.push(`| attack | ${o.compromised} of the ${o.clients} clients are compromised; every attack round ${o.attackers} of them are among the ${o.perRound} participants (seeded, shuffled positions). Each trains on its shard with ${pct(o.poisonFraction)} % of the digits carrying the BadNets trigger (white 3×3 patch, bottom-right) relabelled to ${o.target}, and submits the model-replacement update γ·(X − G) with γ = n/(η·k) = ${o.perRound}/${o.attackers} = ${o.perRound / o.attackers} (Bagdasaryan et al. 2020, the boost split over the k colluding attackers) |`);
  L.push(`| rules | mean (plain FedAvg); flame (λ = ${o.lambda}, HDBSCAN min cluster size ⌊n/2⌋+1 = ${Math.floor(o.perRound / 2) + 1}, min samples 1, single cluster allowed; clipping to the median norm S; N(0, (λS)²) per coordinate) called with \`global\`, so with its default \`clusterOn: 'models'\` (cosine distances between the local models G + Δᵢ, the paper's Algorithm 1)${Object.keys(o.flameOptions).length ? ` and the extra options ${JSON.stringify(o.flameOptions)}` : ''}, and again with \`clusterOn: 'updates'\` (between the updates Δᵢ, the seed code's sketch); krum (f = ${o.attackers}); multiKrum (f = ${o.attackers}, m = n − f); trimmedMean (f = ${o.attackers} per tail) |`);
  L.push(`| seed | ${o.seed}: data split, initialization, client sampling, local SGD order and FLAME's noise; identical across rows |`);
  const where = machine ? `Node ${machine.node ?? process.version}, ${machine.cpus} × ${machine.cpu}, load average at start ${machine.load}` : 'machine not recorded';
  L.push(`| run | backend tfjs-${backend}, ${where}; **${wall.toFixed(0)} s wall time in all** (per row in the table) |`, '');
  L.push('## Results', '');
  L.push(`Last round (${last(base).round}) and the mean over the last 5 rounds. "Attackers admitted" counts, over all ${o.rounds} attack rounds, the attacker submissions the rule selected (flame: the admitted cluster; krum/multiKrum: the selected clients), and in how many rounds at least one got in; "honest admitted" is the mean number of honest clients selected per round.`, '');
  L.push('| rule | main acc % (last) | backdoor acc % (last) | main acc % (last 5) | backdoor acc % (last 5) | max backdoor acc % | attackers admitted (rounds) | honest admitted / round | wall time s |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of res) {
    const a = admissions(o, r);
    const adm = a === null ? '—' : `${a.attackers} / ${a.slots} (${a.roundsWithAttacker})`;
    const hon = a === null ? '—' : `${a.honest.toFixed(1)} / ${a.honestSlots}`;
    L.push(`| ${r.name} | ${pct(last(r).acc)} | ${pct(last(r).asr)} | ${pct(avg(tail(r).map((h) => h.acc)))} | ${pct(avg(tail(r).map((h) => h.asr)))} | ${pct(maxAsr(r))} | ${adm} | ${hon} | ${r.time.toFixed(0)} |`);
  }
  L.push('');
  for (const fl of res.filter((r) => r.attacked && r.rule.startsWith('flame'))) {
    const gap = last(base).acc - last(fl).acc;
    const met = maxAsr(fl) < 0.05 && gap <= 0.02;
    L.push(`Target (issue 7) for ${fl.name}: backdoor accuracy < 5 % in every attack round with last-round main accuracy within 2 points of attack-free FedAvg — ` +
      `${met ? '**met**' : '**not met**'} (backdoor accuracy at most ${pct(maxAsr(fl))} %; ` +
      `main accuracy ${pct(last(fl).acc)} % vs ${pct(last(base).acc)} %).`, '');
  }
  L.push(`![main and backdoor accuracy per round](${svgName})`, '');

  const def = byRule('flame');
  const upd = byRule('flameUpdates');
  if (def && upd) {
    const ad = admissions(o, def);
    const au = admissions(o, upd);
    L.push('## Models or updates', '');
    L.push(`The only difference between the two flame rows is what HDBSCAN clusters; norms, S, clipping and noise are the same. ` +
      `Called with \`global\`, flame clusters the local models (the default since issue 16): it admitted ${ad.attackers} of ${ad.slots} attacker submissions, ` +
      `backdoor accuracy at most ${pct(maxAsr(def))} % (attack-free FedAvg: at most ${pct(maxAsr(base))} %). ` +
      `Clustering the updates admitted ${au.attackers} of ${au.slots}, in ${au.roundsWithAttacker} of ${o.rounds} rounds, and the backdoor crept in up to ${pct(maxAsr(upd))} %.`, '');
    const diag = [def, upd].filter((r) => r.history.every((h) => h.distances !== undefined));
    if (diag.length === 2) {
      const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
      const fmt = (v) => (v >= 0.01 ? v.toFixed(3) : v.toExponential(2));
      const over = (r, setting, group, key) => mean(r.history.map((h) => h.distances[setting][group][key]));
      const ratio = (r, setting) => mean(r.history.map((h) => h.distances[setting].ah.min / h.distances[setting].hh.median));
      const range = (x, y, digits) => `${Math.min(x, y).toFixed(digits)}–${Math.max(x, y).toFixed(digits)}`;
      const admittedBy = (r, setting) => r.history.reduce((t, h) => t + (h.clusterOn === setting ? h.admittedAttackers : h.otherAdmittedAttackers), 0);
      L.push('Cosine distances in the attack rounds, under both settings on the same updates (each flame row also computes the ' +
        'distances of the other setting, without using them), averaged over the rounds; the last column counts the attacker ' +
        'submissions each setting admits on those updates:', '');
      L.push('| trajectory | distances between | honest–honest | attacker–attacker | attacker–honest | min attacker–honest ÷ median honest–honest | attackers admitted |');
      L.push('|---|---|---:|---:|---:|---:|---:|');
      for (const r of diag) {
        for (const setting of ['models', 'updates']) {
          L.push(`| ${r.name} | ${setting === 'models' ? 'models G + Δᵢ' : 'updates Δᵢ'} | ${fmt(over(r, setting, 'hh', 'mean'))} | ${fmt(over(r, setting, 'aa', 'mean'))} | ` +
            `${fmt(over(r, setting, 'ah', 'mean'))} | ${ratio(r, setting).toFixed(2)} | ${admittedBy(r, setting)} / ${o.attackers * r.history.length} |`);
        }
      }
      const gNorm = mean(upd.history.map((h) => h.globalNorm));
      const sNorm = mean(upd.history.map((h) => h.medianNorm));
      L.push('');
      L.push(`Why: the updates are small next to the model (‖G‖ ≈ ${gNorm.toFixed(1)}, median update norm S ≈ ${sNorm.toFixed(2)}, ` +
        `an attacker's ≈ ${o.perRound / o.attackers}× more before clipping). For Wᵢ = G + Δᵢ with ‖Δ‖ ≪ ‖G‖, ` +
        '1 − cos(Wᵢ, Wⱼ) ≈ ‖P(Δᵢ − Δⱼ)‖² / (2‖G‖²), P the projection orthogonal to G: a squared Euclidean distance ' +
        'between the updates, which sees the boost. Clustering the models, the nearest attacker–honest pair is ' +
        `${range(ratio(upd, 'models'), ratio(def, 'models'), 0)}× farther apart than the median honest pair, so the attackers ` +
        'join the majority last. 1 − cos(Δᵢ, Δⱼ) ignores the boost: the honest updates of a converged model on ' +
        `${res.meta.shard}-digit shards are nearly orthogonal to each other (${fmt(over(upd, 'updates', 'hh', 'mean'))}), the attackers' updates, ` +
        `trained on the same poisoned task, are much closer to each other (${fmt(over(upd, 'updates', 'aa', 'mean'))}), and the nearest ` +
        `attacker–honest pair is closer than the median honest pair (ratio ${range(ratio(upd, 'updates'), ratio(def, 'updates'), 2)} on the two trajectories), ` +
        'so in many rounds the attackers\' group joins the single-linkage chain early and lies inside the first majority of ' +
        `⌊n/2⌋+1 = ${Math.floor(o.perRound / 2) + 1}: on the very same updates that the models setting filtered, clustering the updates would have admitted ` +
        `${admittedBy(def, 'updates')} of ${o.attackers * def.history.length} attacker submissions.`, '');
    }
  }

  L.push('## Differences from the reference', '');
  L.push('The reference is the paper (Nguyen et al., "FLAME: Taming Backdoors in Federated Learning", USENIX Security 2022, Algorithm 1) and the seed code\'s sketch of it. Ours differs in:', '');
  L.push('| | paper / seed code | this run |', '|---|---|---|');
  L.push("| what is clustered | paper: the local models Wᵢ; seed sketch: the flattened updates Δᵢ | both, as two rows; the library's default with `global` is the paper's |");
  L.push(`| HDBSCAN | paper: min cluster size n/2 + 1, cosine distance; seed code: the hdbscan package with min_samples 1, allow_single_cluster | the same (label-exact port of hdbscan 0.8.x), min cluster size ⌊n/2⌋+1 = ${Math.floor(o.perRound / 2) + 1}, min samples 1, single cluster allowed |`);
  L.push('| clipping bound S | median of ‖Wᵢ − G‖ over all clients | the same (S = median ‖Δᵢ‖ over all clients; mean of the two middle values for even n) |');
  L.push(`| noise | paper: N(0, (λS)²) on the aggregated model, λ = 0.001 for image classification; seed code: per layer, N(0, (λ·S·std(layer))²), none on biases and batch norm | per coordinate, σ = λS, λ = ${o.lambda} (the per-layer variant is flame's \`layout\` option; not used here) |`);
  L.push('| data | paper: image classification (e.g. CIFAR-10), word prediction (Reddit), IoT intrusion detection, on the full datasets | the `mnist` package\'s 10 000 digits (not the full 70 000), 80 per client, IID |');
  L.push(`| model | paper: much larger networks (e.g. ResNet-18 on CIFAR-10, an LSTM on Reddit) | MLP with ${res.meta.d} parameters |`);
  L.push(`| attack | paper: several backdoor attacks, among them constrain-and-scale / model replacement, at several shares of poisoned models | BadNets patch + model replacement (γ = ${o.perRound / o.attackers}), ${o.attackers} of ${o.perRound} per round (${pct(o.attackers / o.perRound)} %), no norm constraint |`);
  L.push(`| schedule | the paper's own per-dataset schedules | ${o.warmup} attack-free warm-up rounds, then ${o.rounds} attacked rounds, one seed, no error bars |`, '');
  L.push('Not reproduced here: the paper\'s datasets and models, its adaptive attacks, and its error bars over runs; this page measures the one claim robust-agg can check cheaply — that the filter, clipping and noise stop a model-replacement backdoor at a small cost in main accuracy.', '');

  L.push('## Per round', '');
  L.push('| round | ' + res.map((r) => `${r.name} main / backdoor %`).join(' | ') + ' |');
  L.push('|---:|' + res.map(() => '---:').join('|') + '|');
  base.history.forEach((h, i) => {
    L.push(`| ${h.round} | ` + res.map((r) => `${pct(r.history[i].acc)} / ${pct(r.history[i].asr)}`).join(' | ') + ' |');
  });
  L.push('', '## Reproduce', '', '```sh', 'npm run experiment:flame',
    '# larger: more rounds, another seed', 'npm run experiment:flame -- --warmup 30 --rounds 100 --seed 2', '```', '',
    `A smoke version (one FedAvg round on real digits, then a few rounds of the loop at a tiny scale) runs in the test suite: \`test/defenses/flame-round.test.ts\`.`, '');
  return L.join('\n');
}

async function main() {
  const argv = process.argv.slice(2);
  const from = argv.indexOf('--docs-from');
  if (from >= 0) {
    const rest = argv.filter((_, i) => i !== from && i !== from + 1);
    return renderSaved(resolve(argv[from + 1]), rest[0] === '--out' ? resolve(rest[1]) : undefined);
  }
  const o = parseArgs(argv);
  const backend = await setupBackend();
  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    load: loadavg().map((v) => v.toFixed(1)).join(' / '),
  };
  const t0 = performance.now();
  const { train, test } = loadMnist({ seed: o.seed });
  const shards = splitClients(train, o.clients, o.seed + 11);
  const poisonedShards = shards.map((s, c) =>
    c < o.compromised ? attackerData(s, { poisonFraction: o.poisonFraction, target: o.target, seed: o.seed * 31 + c }) : null);
  const evaluator = makeEvaluator(test, o.target);
  const model = buildMlp(o.seed);
  const init = flattenWeights(model).flat;
  log(`backend ${backend}; ${o.clients} clients × ${shards[0].y.length} digits; d = ${init.length}; rules ${o.rules.join(', ')}`);

  // Attack-free warm-up shared by all rows.
  const warm = runRounds({ label: 'warm-up (mean, no attack)', rule: 'mean', attacked: false, start: init, o, model, shards,
    poisonedShards, evaluator, fromRound: 1, rounds: o.warmup });
  const start = warm.global;

  const rows = [{ name: 'no attack (mean)', rule: 'mean', attacked: false }, ...o.rules.map((rule) => ({ name: label(rule), rule, attacked: true }))];
  const res = [];
  for (const row of rows) {
    const run = runRounds({ label: row.name, rule: row.rule, attacked: row.attacked, start, o, model, shards, poisonedShards,
      evaluator, fromRound: o.warmup + 1, rounds: o.rounds });
    res.push({ ...row, history: run.history, time: run.time });
  }
  res.meta = { trainSize: train.y.length, testSize: test.y.length, shard: shards[0].y.length, d: init.length };
  const wall = seconds(t0);

  writePage(o, res, backend, wall, machine);
  writeFileSync(o.out.replace(/\.md$/, '.json'), JSON.stringify({ options: { ...o, out: undefined }, backend, machine, wall, warmup: warm.history, rows: res, meta: res.meta }, null, 1));
  evaluator.dispose();
  model.dispose();
  log(`wrote ${o.out} (${wall.toFixed(0)} s); live tensors at the end: ${tf.memory().numTensors}`);
}

/** The page and its SVG from the results of a run. */
function writePage(o, res, backend, wall, machine) {
  mkdirSync(dirname(o.out), { recursive: true });
  const svgPath = o.out.replace(/\.md$/, '.svg');
  const xs = res[0].history.map((h) => h.round);
  const series = (key) => res.map((r) => ({ name: r.name, values: r.history.map((h) => 100 * h[key]), dashed: !r.attacked }));
  writeFileSync(svgPath, lineChart({
    title: `FedAvg on MNIST, ${o.perRound} clients/round, ${o.attackers} model-replacement attackers (seed ${o.seed})`,
    xs,
    panels: [
      { title: 'main-task accuracy', yLabel: 'accuracy %', yMin: 50, series: series('acc') },
      { title: 'backdoor accuracy (ASR)', yLabel: 'ASR %', series: series('asr') },
    ],
  }));
  writeFileSync(o.out, markdown(o, res, backend, wall, basename(svgPath), machine));
}

/** --docs-from run.json: re-render the page and the SVG from a saved run (no training). */
function renderSaved(file, out) {
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const o = { ...saved.options, out: out ?? resolve(root, 'docs/results/flame-backdoor.md') };
  // Names come from the current labels, so that a saved run renders as a new one would.
  const res = saved.rows.map((r) => (r.attacked ? { ...r, name: label(r.rule) } : r));
  res.meta = saved.meta;
  writePage(o, res, saved.backend, saved.wall, saved.machine);
  log(`re-rendered ${o.out} from ${file} (run of ${saved.wall.toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
