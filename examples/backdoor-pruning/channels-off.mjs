// node examples/backdoor-pruning/channels-off.mjs --dataset mnist --channels s1_bn1:14,s1_bn2:3 [--checkpoints <dir>]
//
// Switches off (γ = 0, as RNP prunes) the given BN channels of the trained ResNet of
// backdoor-pruning.<dataset>.resnet.json, each alone and all together, and measures ACC / ASR on
// the whole test set. Writes docs/results/backdoor-pruning.<dataset>.resnet.channels.json.
import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { evaluateBackdoor } from '../../dist/defenses/index.js';
import { setupBackend } from './backend.mjs';
import { loadFashion, loadMnist, stamp } from './data.mjs';
import { images } from './model.mjs';
import { buildResnet } from './resnet.mjs';
import { loadWeights, withChannelsOff } from './run.mjs';
import { log, seconds } from './progress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dataset = arg('--dataset', 'mnist');
const checkpoints = resolve(arg('--checkpoints', join(tmpdir(), 'robust-agg-backdoor')));
const channels = arg('--channels', '').split(',').filter(Boolean).map((s) => {
  const [layer, c] = s.split(':');
  return { layer, channel: Number(c) };
});
const state = JSON.parse(readFileSync(resolve(root, `docs/results/backdoor-pruning.${dataset}.resnet.json`), 'utf8'));
const { seed, widths, epochs, lrMilestones } = state.opts;
const t0 = performance.now();
await setupBackend();
const { test } = dataset === 'mnist' ? loadMnist({ seed, testPerClass: 200 }) : loadFashion({ seed, perClass: 1000, testPerClass: 200 });
const model = buildResnet(seed, { widths });
const milestones = lrMilestones ? `-m${lrMilestones.join('_')}` : '';
loadWeights(model, join(checkpoints, `${dataset}-resnet-${widths.join('x')}-aug-e${epochs}${milestones}-s${seed}.f32`));
const data = { clean: { x: images(test.x), y: test.y }, poisoned: { x: images(stamp(test.x)), y: test.y }, target: 0 };
const measure = (cs) => {
  const m = withChannelsOff(model, cs);
  const e = evaluateBackdoor(m, data);
  m.dispose();
  return { acc: e.acc, asr: e.asr };
};
const rows = [{ off: 'none', ...measure([]) }];
for (const c of channels) rows.push({ off: `${c.layer}[${c.channel}]`, ...measure([c]) });
if (channels.length > 1) rows.push({ off: 'all of them', ...measure(channels) });
for (const r of rows) log(`${r.off}: ACC ${(100 * r.acc).toFixed(2)} ASR ${(100 * r.asr).toFixed(2)}`);
writeFileSync(resolve(root, `docs/results/backdoor-pruning.${dataset}.resnet.channels.json`), JSON.stringify({ dataset, seed, widths, epochs, lrMilestones, probe: 'whole test set (2 000 clean / 1 800 triggered)', rows, time: seconds(t0) }, null, 1));
model.dispose();
tf.dispose([data.clean.x, data.poisoned.x]);
