// node examples/backdoor-pruning/rnp-variants.mjs --dataset mnist [--variants no-augment,no-augment-lr0.003]
//   ResNet (run.mjs --model resnet --train-augment): add --model resnet [--widths 16,32,64]
//   --train-augment --epochs <the epochs asked of run.mjs> (the checkpoint's name); writes
//   backdoor-pruning.<dataset>.resnet.variants.json
//
// Extra RNP runs on the model checkpointed by run.mjs (same data, same seeds, same 500 clean
// images), written to docs/results/backdoor-pruning.<dataset>.variants.json one variant at a time
// (a rerun skips the variants already there). Which variants: see VARIANTS below.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateBackdoor, randomCropFlip, rnp } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { loadWeights } from './checkpoint.mjs';
import { cleanCount, loadFashion, loadMnist, stamp, subset } from './data.mjs';
import { buildCnn, images } from './model.mjs';
import { buildResnet } from './resnet.mjs';
import { log, seconds } from './progress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const VARIANTS = {
  // The backdoored model was trained without augmentation, so the reference's random crop is a
  // distribution shift for it (the reference's ResNet was trained with the same augmentation).
  'no-augment': { label: 'reference defaults, no augmentation', options: {}, augment: false },
  'no-augment-lr0.003': { label: 'no augmentation, unlearning lr 0.003', options: { unlearningRate: 0.003 }, augment: false },
  'lr0.003': { label: 'unlearning lr 0.003 (with augmentation)', options: { unlearningRate: 0.003 }, augment: true },
  'lr0.001': { label: 'unlearning lr 0.001 (with augmentation)', options: { unlearningRate: 0.001 }, augment: true },
};

const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dataset = arg('--dataset', 'mnist');
const filters = arg('--filters', '32,64,128').split(',').map(Number);
const epochs = Number(arg('--epochs', '3'));
const seed = Number(arg('--seed', '1'));
const wanted = arg('--variants', 'no-augment,no-augment-lr0.003').split(',');
const checkpoints = resolve(arg('--checkpoints', join(tmpdir(), 'robust-agg-backdoor')));
const resnet = arg('--model', 'cnn') === 'resnet';
const widths = arg('--widths', '16,32,64').split(',').map(Number);
const arch = resnet ? `resnet-${widths.join('x')}${args.includes('--train-augment') ? '-aug' : ''}` : filters.join('x');
const out = resolve(arg('--out', resolve(root, `docs/results/backdoor-pruning.${dataset}${resnet ? '.resnet' : ''}.variants.json`)));

await setupBackend();
const { train, test } = dataset === 'mnist' ? loadMnist({ seed, testPerClass: 200 }) : loadFashion({ seed, perClass: 1000, testPerClass: 200 });
const model = resnet ? buildResnet(seed, { widths }) : buildCnn(seed, { filters });
const ckpt = join(checkpoints, `${dataset}-${arch}-e${epochs}-s${seed}.f32`);
loadWeights(model, ckpt);

const evalData = { clean: { x: images(test.x), y: test.y }, poisoned: { x: images(stamp(test.x)), y: test.y }, target: 0 };
const few = Array.from({ length: 200 }, (_, i) => Math.floor((i * test.y.length) / 200));
const fewSet = subset(test, few);
const fewData = { clean: { x: images(fewSet.x), y: fewSet.y }, poisoned: { x: images(stamp(fewSet.x)), y: fewSet.y }, target: 0 };
const probeFew = (m) => {
  const e = evaluateBackdoor(m, fewData);
  return { acc: e.acc, asr: e.asr };
};
const rnpData = cleanCount(train, 500, seed + 303).data;
const clean = { x: images(rnpData.x), y: rnpData.y };
const state = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { dataset, ...(resnet ? { model: 'resnet', widths } : { filters }), epochs, seed, machine: `${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}`, variants: {} };
log(`${dataset}: backdoored ${JSON.stringify(evaluateBackdoor(model, evalData))}`);
for (const name of wanted) {
  if (state.variants[name]) continue;
  const v = VARIANTS[name];
  const t = performance.now();
  const augment = v.augment ? randomCropFlip({ padding: 4, flip: dataset === 'fashion' }) : undefined;
  const r = rnp(model, clean, { seed: seed + 404, probe: probeFew, ...(augment ? { augment } : {}), ...v.options });
  const time = seconds(t);
  const e = evaluateBackdoor(r.model, evalData);
  r.model.dispose();
  const f = rnp(model, clean, { seed: 0, masks: r.report.masks, selection: 'fixed', thresholds: [0.7] });
  const fixed = { chosen: f.report.chosen, pruned: f.report.pruned, eval: evaluateBackdoor(f.model, evalData) };
  f.model.dispose();
  state.variants[name] = {
    label: v.label,
    options: v.options,
    augment: v.augment,
    time,
    unlearning: r.report.unlearning,
    recovery: r.report.recovery,
    baseValidationAccuracy: r.report.baseValidationAccuracy,
    sweep: r.report.sweep,
    chosen: r.report.chosen,
    pruned: r.report.pruned,
    masks: Object.fromEntries(Object.entries(r.report.masks).map(([k, m]) => [k, Array.from(m)])),
    eval: e,
    fixed,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(state, null, 1));
  log(`${name}: ${time.toFixed(0)} s, unlearning ${r.report.unlearning.map((u) => (100 * u.trainAccuracy).toFixed(1)).join(' → ')}; pick ${r.report.chosen?.value ?? 'none'}: ACC ${(100 * e.acc).toFixed(2)} ASR ${(100 * e.asr).toFixed(2)}; fixed 0.70: ACC ${(100 * fixed.eval.acc).toFixed(2)} ASR ${(100 * fixed.eval.asr).toFixed(2)}`);
}
model.dispose();
