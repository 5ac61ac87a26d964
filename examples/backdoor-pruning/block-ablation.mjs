// node examples/backdoor-pruning/block-ablation.mjs [--dataset mnist] [--epochs 10] [--checkpoints <dir>]
//
// In a ResNet a block's output channel c is relu(branch_bn2[c] + shortcut_bn[c]): switching off one
// input's BN channel leaves the other carrying the feature. This ablates RNP's t = 0 set of the
// ResNet run (backdoor-pruning.<dataset>.resnet.json) by output channel of the last block: the
// channels whose mask is 0 in BOTH the branch (s3_bn2) and the shortcut (s3_short_bn), switched off
// together, one output channel at a time and all at once. Writes
// docs/results/backdoor-pruning.<dataset>.resnet.blocks.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateBackdoor } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { loadFashion, loadMnist, stamp, subset } from './data.mjs';
import { images } from './model.mjs';
import { buildResnet } from './resnet.mjs';
import { loadWeights, withChannelsOff } from './run.mjs';
import { log, progress, seconds } from './progress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dataset = arg('--dataset', 'mnist');
const epochs = Number(arg('--epochs', '10'));
const checkpoints = resolve(arg('--checkpoints', join(tmpdir(), 'robust-agg-backdoor')));
const state = JSON.parse(readFileSync(resolve(root, `docs/results/backdoor-pruning.${dataset}.resnet.json`), 'utf8'));
const { seed, widths } = state.opts;
const t0 = performance.now();

await setupBackend();
const { test } = dataset === 'mnist' ? loadMnist({ seed, testPerClass: 200 }) : loadFashion({ seed, perClass: 1000, testPerClass: 200 });
const model = buildResnet(seed, { widths });
// The run's own epoch count and lr milestones name its checkpoint (--epochs overrides the count).
const asked = args.includes('--epochs') ? epochs : state.opts.epochs;
const milestones = state.opts.lrMilestones ? `-m${state.opts.lrMilestones.join('_')}` : '';
loadWeights(model, join(checkpoints, `${dataset}-resnet-${widths.join('x')}-aug-e${asked}${milestones}-s${seed}.f32`));
const full = { clean: { x: images(test.x), y: test.y }, poisoned: { x: images(stamp(test.x)), y: test.y }, target: 0 };
const few = subset(test, Array.from({ length: 200 }, (_, i) => Math.floor((i * test.y.length) / 200)));
const fewData = { clean: { x: images(few.x), y: few.y }, poisoned: { x: images(stamp(few.x)), y: few.y }, target: 0 };
const measure = (channels, data) => {
  const m = withChannelsOff(model, channels);
  const e = evaluateBackdoor(m, data);
  m.dispose();
  return { acc: e.acc, asr: e.asr };
};
const masks = state.phases.rnp.masks;
const last = widths.length;
const branch = `s${last}_bn2`;
const short = `s${last}_short_bn`;
const zero = (layer) => masks[layer].flatMap((v, c) => (v <= 0 ? [c] : []));
const both = zero(branch).filter((c) => zero(short).includes(c));
log(`${dataset}: ${both.length} output channels of the last block with mask 0 in both ${branch} and ${short}`);
const pairs = both.map((c, i) => {
  const r = { channel: c, ...measure([{ layer: branch, channel: c }, { layer: short, channel: c }], fewData) };
  progress('pairs', i + 1, both.length);
  return r;
});
const off = (cs, layer) => cs.map((channel) => ({ layer, channel }));
const groups = {
  pairsTogether: { count: both.length, ...measure([...off(both, branch), ...off(both, short)], full) },
  lastStageZeroSet: { count: zero(branch).length + zero(short).length, ...measure([...off(zero(branch), branch), ...off(zero(short), short)], full) },
  unpruned: { ...measure([], full) },
};
const out = resolve(root, `docs/results/backdoor-pruning.${dataset}.resnet.blocks.json`);
writeFileSync(out, JSON.stringify({ dataset, seed, widths, branch, shortcut: short, probe: '200 clean / 200 triggered test images (pairs); whole test set (groups)', pairs, groups, time: seconds(t0) }, null, 1));
log(JSON.stringify(groups));
model.dispose();
tf.dispose([full.clean.x, full.poisoned.x, fewData.clean.x, fewData.poisoned.x]);
