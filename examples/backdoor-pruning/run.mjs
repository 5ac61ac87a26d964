// npm run experiment:backdoor [-- --dataset mnist|fashion ...]
//
// BadNets (10 % poisoned, white 3×3 patch bottom-right, all-to-one target 0) against the three
// model-level defenses of robust-agg/defenses, on a CNN with BatchNormalization whose early layers
// are wide enough for RNP's premise (default filters 32/64/128):
//   1. train the backdoored model (checkpointed: a rerun reloads it);
//   2. RNP with the reference's defaults on 500 clean images (unlearning lr 0.01 + MultiStepLR,
//      recovery lr 0.2, α 0.2, batch 128 → 4 batches per epoch, random-crop augmentation), the
//      pruned set picked by the accuracy budget (our default) and by BackdoorBench's fixed
//      threshold 0.70 — both from the same masks;
//   3. a single-channel ablation of the t = 0 set (is what RNP prunes first harmless?);
//   5. CLP (data-free) at u = 3 and over a range of u;
//   6. RNP restricted to the last BN layer (not the reference; same masks);
//   4. Fine-Pruning (5 % clean), run after 5 and 6 (the phases are independent: own seeds, the
//      trained model never changes);
//   7. Fine-Pruning's accuracy/ASR-vs-channels-pruned curve (prune only, the CSAW lab's plot);
//   8. RNP with unlearning lr 0.001;
//   9. (ResNet) two selections over phase 8's masks, not the reference: the last stage only, and
//      each projection block's output channel pruned in its branch and shortcut BN together.
// Sweeps, curves and the ablation are probed on 200 clean + 200 triggered test images (every 10th);
// the rows of the results table on the whole test set.
// Every phase writes the JSON (docs/results/backdoor-pruning.<dataset>.json) when it ends, and a
// rerun skips the phases already there: stop it any time and run the same command to continue.
// `node examples/backdoor-pruning/report.mjs` builds the page and the SVG curves from the JSONs.
//
// Options: --dataset mnist|fashion  --filters 32,64,128  --epochs 3  --seed 1  --rnp-clean 500
//          --fp-fraction 0.05  --test-per-class 200  --out <json>  --checkpoints <dir>  --smoke
//          --no-augment
//          --model resnet --widths 16,32,64   the small ResNet of resnet.mjs instead of the CNN
//            (JSON: backdoor-pruning.<dataset>.resnet.json); its "last layer" row uses the last
//            stage's BN layers
//          --train-augment   train the backdoored model with the same crop (+ flip) as RNP's clean set
//          --train-until HH:MM   (UTC) stop training after an epoch when one more epoch, as long as
//            the last, would end past this time; the
//            epochs actually trained are recorded (Adam, constant lr: the same as a run with that
//            --epochs, which is what a rerun reloading the checkpoint then uses)
//          --lr-milestones 14   multiply Adam's lr (1e-3) by 0.1 after each of these epochs
//          --train-only   stop after training (the defenses then run in a second process, same
//            command without it, which reloads the trained model)
//          --fp-at block-output|last-conv   (ResNet only) where Fine-Pruning prunes: the last
//            block's output channels relu(branch + shortcut) (default; fine-pruning-block.mjs: the
//            paper's "last convolutional layer" for a residual network) or the library's default
//            layer, the last Conv2D of the layer list (here the stage-3 1×1 shortcut conv)
// Training is checkpointed after every epoch (weights + Adam's state + the per-epoch log, in
// --checkpoints): a stopped run resumes at the next epoch, with the same batches and crops as an
// uninterrupted one (examples/backdoor-pruning/resume-check.mjs checks the weights are identical).
// Backend: wasm (default; with the conv-gradient kernels of robust-agg/defenses) or TFJS_BACKEND=cpu.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { clp, evaluateBackdoor, finePruning, randomCropFlip, rnp } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { cleanCount, cleanFraction, loadFashion, loadMnist, poisonBadNets, stamp, subset } from './data.mjs';
import { buildCnn, images, trainModel } from './model.mjs';
import { buildResnet } from './resnet.mjs';
import { finePruneBlock } from './fine-pruning-block.mjs';
import { loadAdam, loadWeights, saveAdam, saveWeights } from './checkpoint.mjs';

export { loadWeights, saveWeights };
import { log, progress, seconds } from './progress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function parseArgs(argv) {
  const o = {
    dataset: 'mnist',
    filters: [32, 64, 128],
    epochs: 3,
    seed: 1,
    poisonRate: 0.1,
    target: 0,
    rnpClean: 500,
    fpFraction: 0.05,
    testPerClass: 200,
    augment: true,
    smoke: false,
    out: null,
    checkpoints: join(tmpdir(), 'robust-agg-backdoor'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--dataset') o.dataset = next();
    else if (a === '--filters') o.filters = next().split(',').map(Number);
    else if (a === '--epochs') o.epochs = Number(next());
    else if (a === '--seed') o.seed = Number(next());
    else if (a === '--poison-rate') o.poisonRate = Number(next());
    else if (a === '--target') o.target = Number(next());
    else if (a === '--rnp-clean') o.rnpClean = Number(next());
    else if (a === '--fp-fraction') o.fpFraction = Number(next());
    else if (a === '--test-per-class') o.testPerClass = Number(next());
    else if (a === '--out') o.out = resolve(next());
    else if (a === '--checkpoints') o.checkpoints = resolve(next());
    else if (a === '--no-augment') o.augment = false;
    else if (a === '--model') o.model = next();
    else if (a === '--widths') o.widths = next().split(',').map(Number);
    else if (a === '--train-augment') o.trainAugment = true;
    else if (a === '--train-until') o.trainUntil = next();
    else if (a === '--lr-milestones') o.lrMilestones = next().split(',').map(Number);
    else if (a === '--train-only') o.trainOnly = true;
    else if (a === '--fp-at') o.fpAt = next();
    else if (a === '--smoke') o.smoke = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.dataset !== 'mnist' && o.dataset !== 'fashion') throw new Error(`--dataset must be mnist or fashion, got ${o.dataset}`);
  // model, widths and trainAugment stay absent for the CNN, so the committed CNN runs keep their key.
  if (o.model !== undefined && o.model !== 'cnn' && o.model !== 'resnet') throw new Error(`--model must be cnn or resnet, got ${o.model}`);
  if (o.model === 'cnn') delete o.model;
  if (o.model === 'resnet') o.widths ??= [16, 32, 64];
  // Fine-Pruning's layer on the ResNet: the last block's output (default) or the library's default
  // (the last Conv2D in the layer list, the stage-3 1×1 shortcut conv). Absent for the CNN.
  if (o.model === 'resnet') o.fpAt ??= 'block-output';
  if (o.fpAt !== undefined && o.fpAt !== 'block-output' && o.fpAt !== 'last-conv') throw new Error(`--fp-at must be block-output or last-conv, got ${o.fpAt}`);
  if (o.fpAt !== undefined && o.model !== 'resnet') throw new Error('--fp-at applies to --model resnet only');
  // last-conv is what runs made before the option existed did: absent from the settings key, so
  // their JSONs stay valid.
  if (o.fpAt === 'last-conv') delete o.fpAt;
  if (o.lrMilestones !== undefined && !o.lrMilestones.every((m) => Number.isInteger(m) && m >= 1)) throw new Error('--lr-milestones must be epoch numbers ≥ 1, e.g. 14');
  if (o.trainUntil !== undefined && !/^\d{1,2}:\d{2}$/.test(o.trainUntil)) throw new Error(`--train-until must be HH:MM (UTC), got ${o.trainUntil}`);
  o.out ??= resolve(root, `docs/results/backdoor-pruning.${o.dataset}${o.model === 'resnet' ? '.resnet' : ''}${o.smoke ? '.smoke' : ''}.json`);
  return o;
}

const pct = (v) => (100 * v).toFixed(2);

/** The settings a JSON's phases were computed with; a rerun with other settings starts over. */
function configKey(o) {
  const { out, checkpoints, trainUntil, trainOnly, ...rest } = o;
  return JSON.stringify(rest);
}

/** Zeroes γ of the given (layer, channel) pairs in a copy of the model; the caller disposes it. */
export function withChannelsOff(model, channels) {
  const copy = model.constructor.fromConfig(model.constructor, model.getConfig(), undefined, true);
  copy.setWeights(model.getWeights());
  for (const layer of copy.layers) {
    const off = channels.filter((c) => c.layer === layer.name);
    if (off.length === 0) continue;
    const gamma = layer.weights.find((w) => w.originalName.split('/').pop() === 'gamma');
    const g = Float32Array.from(gamma.read().dataSync());
    for (const c of off) g[c.channel] = 0;
    tf.tidy(() => gamma.write(tf.tensor(g, gamma.shape)));
  }
  return copy;
}

function rnpSummary(r, evaluation, time) {
  return {
    time,
    unlearning: r.report.unlearning,
    recovery: r.report.recovery,
    baseValidationAccuracy: r.report.baseValidationAccuracy,
    selection: r.report.selection,
    sweep: r.report.sweep,
    chosen: r.report.chosen,
    pruned: r.report.pruned,
    eval: evaluation,
  };
}

export async function runExperiment(opts) {
  const t0 = performance.now();
  const key = configKey(opts);
  let state = existsSync(opts.out) ? JSON.parse(readFileSync(opts.out, 'utf8')) : null;
  if (state?.key !== key) state = { key, opts: { ...opts, out: undefined, checkpoints: undefined }, phases: {}, backend: null };
  const save = () => {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, JSON.stringify(state, null, 1));
  };
  const done = (name) => state.phases[name] !== undefined;
  state.backend = `tfjs-${tf.getBackend()} (Node ${process.version})`;

  const smoke = opts.smoke;
  const { train, test } =
    opts.dataset === 'mnist'
      ? loadMnist({ seed: opts.seed, testPerClass: smoke ? 10 : opts.testPerClass })
      : loadFashion({ seed: opts.seed, perClass: smoke ? 70 : 1000, testPerClass: smoke ? 10 : opts.testPerClass });
  const trainSet = smoke ? subset(train, Array.from({ length: 600 }, (_, i) => i)) : train;
  const poisoned = poisonBadNets(trainSet, { rate: opts.poisonRate, target: opts.target, seed: opts.seed + 101 });
  state.data = { train: trainSet.y.length, poisoned: poisoned.poisoned.length, test: test.y.length };
  log(`${opts.dataset}: ${trainSet.y.length} training images (${poisoned.poisoned.length} poisoned), ${test.y.length} test images`);

  const cleanX = images(test.x);
  const trigX = images(stamp(test.x));
  const evalData = { clean: { x: cleanX, y: test.y }, poisoned: { x: trigX, y: test.y }, target: opts.target };
  const evaluate = (m) => evaluateBackdoor(m, evalData);
  const probe = (m) => {
    const e = evaluate(m);
    return { acc: e.acc, asr: e.asr };
  };
  // A cheaper probe for the sweeps and curves: 200 clean and 200 triggered test images (every 10th).
  const fewCount = Math.min(200, test.y.length);
  const few = Array.from({ length: fewCount }, (_, i) => Math.floor((i * test.y.length) / fewCount));
  const fewSet = subset(test, few);
  const fewData = { clean: { x: images(fewSet.x), y: fewSet.y }, poisoned: { x: images(stamp(fewSet.x)), y: fewSet.y }, target: opts.target };
  const probeFew = (m) => {
    const e = evaluateBackdoor(m, fewData);
    return { acc: e.acc, asr: e.asr };
  };

  // 1. The backdoored model (checkpointed).
  const resnet = opts.model === 'resnet';
  const model = resnet ? buildResnet(opts.seed, { widths: opts.widths }) : buildCnn(opts.seed, { filters: opts.filters });
  const arch = resnet ? `resnet-${opts.widths.join('x')}${opts.trainAugment ? '-aug' : ''}` : opts.filters.join('x');
  const milestones = opts.lrMilestones ? `-m${opts.lrMilestones.join('_')}` : '';
  const ckpt = join(opts.checkpoints, `${opts.dataset}-${arch}-e${opts.epochs}${milestones}-s${opts.seed}${smoke ? '-smoke' : ''}.f32`);
  // After every epoch: the weights, Adam's state and the progress so far (a stopped run resumes
  // at the next epoch; removed when training ends). Named without the schedule (epochs, lr
  // milestones): a run with another schedule resumes from it when every epoch it holds had the
  // learning rate the new schedule gives that epoch (then the trajectory so far is the new run's).
  const epochCkpt = join(opts.checkpoints, `${opts.dataset}-${arch}-s${opts.seed}${smoke ? '-smoke' : ''}.epoch`);
  const lrOf = (epoch) => 1e-3 * 0.1 ** (opts.lrMilestones ?? []).filter((m) => epoch > m).length;
  const { epochs: _e, lrMilestones: _m, ...trainRest } = JSON.parse(key);
  const trainKey = JSON.stringify(trainRest);
  const trainAugment = opts.trainAugment ? randomCropFlip({ padding: 4, flip: opts.dataset === 'fashion' }) : undefined;
  let stopAfterEpoch;
  if (opts.trainUntil) {
    const [hh, mm] = opts.trainUntil.split(':').map(Number);
    const until = new Date();
    until.setUTCHours(hh, mm, 0, 0);
    let last = Date.now();
    stopAfterEpoch = () => {
      const now = Date.now();
      const epochMs = now - last;
      last = now;
      return now + epochMs > until.getTime();
    };
  }
  if (done('train') && existsSync(ckpt)) {
    loadWeights(model, ckpt);
    log(`loaded the trained model from ${ckpt}`);
  } else {
    let t = performance.now();
    let losses = [];
    let epochTimes = [];
    let epochEvals = [];
    const opt = tf.train.adam(1e-3);
    let startEpoch = 1;
    let resumedFrom;
    if (existsSync(`${epochCkpt}.meta.json`)) {
      const meta = JSON.parse(readFileSync(`${epochCkpt}.meta.json`, 'utf8'));
      const sameSchedule = meta.epoch < opts.epochs && meta.lrs.every((lr, i) => Math.abs(lr - lrOf(i + 1)) <= 1e-15);
      if (meta.trainKey === trainKey && sameSchedule) {
        loadWeights(model, `${epochCkpt}.weights.f32`);
        await loadAdam(opt, `${epochCkpt}.adam.f32`, meta.adam);
        ({ losses, epochTimes, epochEvals } = meta);
        startEpoch = meta.epoch + 1;
        resumedFrom = meta.resumedFrom ?? (meta.key !== key ? { epoch: meta.epoch, key: meta.key } : undefined);
        t -= 1000 * epochTimes.at(-1); // the cumulative training time goes on from the checkpoint's
        log(`resuming training after epoch ${meta.epoch} from ${epochCkpt}.*`);
      }
    }
    const trained = trainModel(model, poisoned, {
      epochs: smoke ? 1 : opts.epochs,
      seed: opts.seed + 202,
      optimizer: opt,
      startEpoch,
      ...(opts.lrMilestones ? { lrMilestones: opts.lrMilestones } : {}),
      ...(trainAugment ? { augment: trainAugment } : {}),
      stopAfterEpoch,
      onEpoch: (epoch, o) => {
        saveWeights(model, `${epochCkpt}.weights.f32`);
        const adam = saveAdam(o, `${epochCkpt}.adam.f32`);
        const lrs = Array.from({ length: epoch }, (_, i) => lrOf(i + 1));
        writeFileSync(`${epochCkpt}.meta.json`, JSON.stringify({ key, trainKey, epoch, lrs, adam, losses, epochTimes, epochEvals, ...(resumedFrom ? { resumedFrom } : {}) }));
      },
      onBatch: (epoch, b, batches, loss) => {
        if (b === batches) {
          losses.push(loss);
          epochTimes.push(seconds(t));
          // Partial results as training goes (the 200/200 test subset).
          if (resnet) {
            epochEvals.push({ epoch, ...probeFew(model) });
            log(`epoch ${epoch}: ${seconds(t).toFixed(0)} s, subset ACC ${pct(epochEvals.at(-1).acc)} ASR ${pct(epochEvals.at(-1).asr)}`);
            state.progress = { epochTimes, epochEvals };
            save();
          }
        }
        progress(`train epoch ${epoch}/${opts.epochs}`, b, batches, `loss ${loss.toFixed(3)} ${seconds(t).toFixed(0)} s`);
      },
    });
    const time = seconds(t);
    opt.dispose();
    saveWeights(model, ckpt);
    state.phases.train = {
      time,
      params: model.countParams(),
      lastBatchLoss: losses,
      eval: evaluate(model),
      stepsPerEpoch: Math.ceil(trainSet.y.length / 64),
      epochsTrained: smoke ? 1 : trained,
      epochTimes,
      ...(resnet ? { epochEvals, augment: Boolean(opts.trainAugment) } : {}),
      ...(opts.lrMilestones ? { lrMilestones: opts.lrMilestones } : {}),
      ...(startEpoch > 1 ? { resumedAfterEpoch: startEpoch - 1 } : {}),
      // epochs 1..resumedFrom.epoch were trained by a run asking for another schedule (same lr in them)
      ...(resumedFrom ? { resumedFrom } : {}),
    };
    delete state.progress;
    save();
    for (const f of ['weights.f32', 'weights.f32.json', 'adam.f32', 'meta.json']) rmSync(`${epochCkpt}.${f}`, { force: true });
  }
  if (opts.trainOnly) {
    log(`trained: ACC ${pct(state.phases.train.eval.acc)} % ASR ${pct(state.phases.train.eval.asr)} %; --train-only: stopping before the defenses`);
    model.dispose();
    tf.dispose([cleanX, trigX, fewData.clean.x, fewData.poisoned.x]);
    state.wall = (state.wall ?? 0) + seconds(t0);
    state.trainWall = state.wall; // the training process's wall time (the defenses' process adds to wall)
    save();
    return state;
  }
  const before = state.phases.train.eval;
  log(`backdoored: ACC ${pct(before.acc)} % ASR ${pct(before.asr)} % (${state.phases.train.time.toFixed(0)} s training)`);

  const rnpData = cleanCount(train, smoke ? 64 : opts.rnpClean, opts.seed + 303).data;
  const rnpX = images(rnpData.x);
  const rnpClean = { x: rnpX, y: rnpData.y };
  // The reference augments its clean CIFAR-10 set with random crop (padding 4) and flip; digits are
  // not mirror-symmetric, so MNIST gets the crop only, Fashion-MNIST both.
  const augment = opts.augment ? randomCropFlip({ padding: 4, flip: opts.dataset === 'fashion' }) : undefined;
  const short = smoke ? { unlearningEpochs: 2, recoveryEpochs: 2 } : {};
  const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name);
  // The CNN: its last BN layer. The ResNet: the last stage's BN layers (both convs and the shortcut).
  const lastLayers = resnet ? bnLayers.filter((n) => n.startsWith(`s${opts.widths.length}_`)) : [bnLayers.at(-1)];

  // 2. RNP, reference defaults; the accuracy-budget pick (default) and BackdoorBench's fixed 0.70.
  if (!done('rnp')) {
    const t = performance.now();
    log(`RNP (reference defaults) on ${rnpData.y.length} clean images …`);
    const r = rnp(model, rnpClean, { seed: opts.seed + 404, probe: probeFew, ...(augment ? { augment } : {}), ...short });
    const time = seconds(t);
    const masks = Object.fromEntries(Object.entries(r.report.masks).map(([k, v]) => [k, Array.from(v)]));
    const budget = rnpSummary(r, evaluate(r.model), time);
    r.model.dispose();
    const f = rnp(model, rnpClean, { seed: 0, masks, selection: 'fixed', pruningValue: 0.7, thresholds: [0.7] });
    const fixed = { chosen: f.report.chosen, pruned: f.report.pruned, eval: evaluate(f.model) };
    f.model.dispose();
    state.phases.rnp = { cleanCount: rnpData.y.length, augment: opts.augment, masks, budget, fixed };
    save();
    log(`RNP: ${time.toFixed(0)} s; budget pick ${budget.chosen?.value ?? 'none'}: ACC ${pct(budget.eval.acc)} ASR ${pct(budget.eval.asr)}; fixed 0.70: ACC ${pct(fixed.eval.acc)} ASR ${pct(fixed.eval.asr)}`);
  }
  const masks = state.phases.rnp.masks;

  // 3. Single-channel ablation of the t = 0 set (and of the whole set, per layer and together).
  if (!done('ablation')) {
    const zero = [];
    for (const [layer, m] of Object.entries(masks)) m.forEach((v, channel) => v <= 0 && zero.push({ layer, channel, mask: v }));
    const rows = [];
    zero.forEach((c, i) => {
      const m = withChannelsOff(model, [c]);
      rows.push({ ...c, ...probeFew(m) });
      m.dispose();
      progress('ablation', i + 1, zero.length);
    });
    const groups = [];
    for (const layer of Object.keys(masks)) {
      const set = zero.filter((c) => c.layer === layer);
      if (set.length === 0) continue;
      const m = withChannelsOff(model, set);
      groups.push({ layer, count: set.length, channels: Object.values(masks[layer]).length, ...probe(m) });
      m.dispose();
    }
    const all = withChannelsOff(model, zero);
    groups.push({ layer: 'all', count: zero.length, ...probe(all) });
    all.dispose();
    state.phases.ablation = { rows, groups };
    save();
  }

  // 5. CLP at u = 3 (default) and over u.
  if (!done('clp')) {
    const t = performance.now();
    const c = clp(model);
    const time = seconds(t);
    const main = {
      time,
      prunedCount: c.report.prunedCount,
      layers: c.report.layers.map((l) => ({ conv: l.conv, batchNorm: l.batchNorm, threshold: l.threshold, pruned: l.pruned, max: Math.max(...l.upperBounds) })),
      eval: evaluate(c.model),
    };
    c.model.dispose();
    const curve = [];
    for (const u of smoke ? [1, 3] : [0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5]) {
      const cu = clp(model, { u });
      curve.push({ u, prunedCount: cu.report.prunedCount, ...probeFew(cu.model) });
      cu.model.dispose();
    }
    state.phases.clp = { ...main, curve };
    save();
    log(`CLP: ${main.prunedCount} channels: ACC ${pct(main.eval.acc)} ASR ${pct(main.eval.asr)}`);
  }

  // 6. RNP restricted to the last BN layer (not the reference), same masks.
  if (!done('rnpLastLayer')) {
    const t = performance.now();
    const r = rnp(model, rnpClean, { seed: 0, masks, layers: lastLayers, probe: probeFew });
    state.phases.rnpLastLayer = { layer: lastLayers.join(' + '), ...rnpSummary(r, evaluate(r.model), seconds(t)) };
    r.model.dispose();
    save();
    const p = state.phases.rnpLastLayer;
    log(`RNP, ${p.layer} only: pick ${p.chosen?.value ?? 'none'}: ACC ${pct(p.eval.acc)} ASR ${pct(p.eval.asr)}`);
  }

  // 4. Fine-Pruning (5 % clean), after CLP and the last-layer RNP (the RNP phases first: they are
  // what a time-capped run must reach); its prune-only curve over every channel is phase 7.
  const fpData = cleanFraction(trainSet, opts.fpFraction, opts.seed + 505).data;
  // The ResNet's default: prune the last block's output channels (fine-pruning-block.mjs);
  // --fp-at last-conv: the library's default layer (the last Conv2D, the stage-3 shortcut conv).
  const lastStage = resnet ? `s${opts.widths.length}` : null;
  const fp =
    opts.fpAt === 'block-output'
      ? (m, data, o) => finePruneBlock(m, data, { ...o, output: `${lastStage}_relu2`, convs: [[`${lastStage}_conv2`, `${lastStage}_bn2`], [`${lastStage}_short_conv`, `${lastStage}_short_bn`]] })
      : finePruning;
  const fpX = images(fpData.x);
  if (!done('finePruning')) {
    const t = performance.now();
    log(`Fine-Pruning on ${fpData.y.length} clean images …`);
    const f = fp(model, { x: fpX, y: fpData.y }, { seed: opts.seed + 606, probe: probeFew, ...(smoke ? { epochs: 1 } : {}) });
    const time = seconds(t);
    const lastKept = [...f.report.steps].reverse().find((s) => s.kept);
    state.phases.finePruning = {
      cleanCount: fpData.y.length,
      time,
      layer: f.report.layer,
      order: f.report.order,
      pruned: f.report.pruned,
      steps: f.report.steps,
      stoppedBy: f.report.stoppedBy,
      prunedOnly: lastKept?.probe ?? probeFew(model),
      fineTuning: f.report.fineTuning,
      eval: evaluate(f.model),
    };
    f.model.dispose();
    save();
    const p = state.phases.finePruning;
    log(`Fine-Pruning: ${time.toFixed(0)} s, ${p.pruned.length} channels: ACC ${pct(p.eval.acc)} ASR ${pct(p.eval.asr)}`);
  }
  fpX.dispose();

  // 7. Fine-Pruning's prune-only curve (the CSAW lab's plot).
  const fpX2 = images(fpData.x);
  if (!done('finePruningCurve')) {
    const t = performance.now();
    const every = smoke ? 1 : 4;
    let k = 0;
    // Prune only (epochs 0), never stop (budget 100 points): the curve the CSAW lab plots.
    const f = fp(model, { x: fpX2, y: fpData.y }, {
      epochs: 0,
      maxAccuracyDrop: 100,
      probe: (m) => (++k % every === 0 ? probeFew(m) : {}),
    });
    state.phases.finePruningCurve = {
      time: seconds(t),
      channels: f.report.order.length,
      probedEvery: every,
      steps: f.report.steps.map((s) => ({ prunedCount: s.prunedCount, channel: s.channel, validationAccuracy: s.validationAccuracy, ...(s.probe ?? {}) })),
    };
    f.model.dispose();
    save();
  }
  fpX2.dispose();

  // 8. RNP with unlearning lr 0.001 (everything else the reference's).
  if (!done('rnpSlow')) {
    const t = performance.now();
    log('RNP (unlearning lr 0.001) …');
    const r = rnp(model, rnpClean, { seed: opts.seed + 404, probe: probeFew, unlearningRate: 0.001, ...(augment ? { augment } : {}), ...short });
    const time = seconds(t);
    state.phases.rnpSlow = { ...rnpSummary(r, evaluate(r.model), time), masks: Object.fromEntries(Object.entries(r.report.masks).map(([k, v]) => [k, Array.from(v)])) };
    r.model.dispose();
    const f = rnp(model, rnpClean, { seed: 0, masks: r.report.masks, selection: 'fixed', pruningValue: 0.7, thresholds: [0.7] });
    state.phases.rnpSlow.fixed = { chosen: f.report.chosen, pruned: f.report.pruned, eval: evaluate(f.model) };
    f.model.dispose();
    save();
    const p = state.phases.rnpSlow;
    log(`RNP lr 0.001: ${time.toFixed(0)} s; pick ${p.chosen?.value ?? 'none'}: ACC ${pct(p.eval.acc)} ASR ${pct(p.eval.asr)}`);
  }

  // 9. Over phase 8's masks (not the reference). A projection block's output channel c is
  // relu(branch BN[c] + shortcut BN[c]): pruning one of the two BNs halves the channel at most, so
  // the paired selection gives both BNs max(m_branch[c], m_shortcut[c]) and the global threshold
  // prunes them together or not at all.
  if (resnet && !done('rnpSlowVariants')) {
    const t = performance.now();
    const slow = Object.fromEntries(Object.entries(state.phases.rnpSlow.masks).map(([k, v]) => [k, Float32Array.from(v)]));
    const paired = { ...slow };
    for (const name of Object.keys(slow)) {
      const short = name.replace(/_bn2$/, '_short_bn');
      if (short === name || !(short in slow)) continue;
      const both = slow[name].map((m, c) => Math.max(m, slow[short][c]));
      paired[name] = both;
      paired[short] = both;
    }
    const variants = {};
    for (const [key, options] of [
      ['lastStage', { masks: slow, layers: lastLayers }],
      ['pairedBlockOutputs', { masks: paired }],
    ]) {
      const v = performance.now();
      const r = rnp(model, rnpClean, { seed: 0, probe: probeFew, ...options });
      variants[key] = { ...rnpSummary(r, evaluate(r.model), seconds(v)), ...(key === 'lastStage' ? { layer: lastLayers.join(' + ') } : {}) };
      r.model.dispose();
      log(`RNP lr 0.001 masks, ${key}: pick ${variants[key].chosen?.value ?? 'none'}: ACC ${pct(variants[key].eval.acc)} ASR ${pct(variants[key].eval.asr)}`);
    }
    state.phases.rnpSlowVariants = { ...variants, time: seconds(t) };
    save();
  }

  rnpX.dispose();
  model.dispose();
  tf.dispose([cleanX, trigX, fewData.clean.x, fewData.poisoned.x]);
  state.wall = (state.wall ?? 0) + seconds(t0);
  state.complete = true;
  save();
  return state;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const backend = await setupBackend();
  log(`backend: ${backend}; ${opts.dataset}, ${opts.model === 'resnet' ? `ResNet widths ${opts.widths.join('/')}` : `filters ${opts.filters.join('/')}`}, ${opts.epochs} epochs → ${opts.out}`);
  const state = await runExperiment(opts);
  log(`done (${state.wall.toFixed(0)} s this run); live tensors at the end: ${tf.memory().numTensors}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
