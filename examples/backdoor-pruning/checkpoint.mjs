// Checkpoints of the backdoor examples: a model's weights and an Adam optimizer's state as raw
// float32 files (no tfjs-node here, so no file IO handler), so training can resume per epoch.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** Saves / loads a model's weights as raw float32 (no tfjs-node here, so no file IO handler). */
export function saveWeights(model, file) {
  const ws = model.getWeights();
  const shapes = ws.map((w) => w.shape);
  const total = ws.reduce((a, w) => a + w.size, 0);
  const buf = new Float32Array(total);
  let at = 0;
  for (const w of ws) {
    buf.set(w.dataSync(), at);
    at += w.size;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Buffer.from(buf.buffer));
  writeFileSync(`${file}.json`, JSON.stringify(shapes));
}

export function loadWeights(model, file) {
  const shapes = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
  const raw = readFileSync(file);
  const buf = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  let at = 0;
  const ts = shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const t = tf.tensor(buf.slice(at, at + n), s);
    at += n;
    return t;
  });
  model.setWeights(ts);
  tf.dispose(ts);
}

/** Saves Adam's state (step count, β-power accumulators, both moments) as raw float32; returns its layout. */
export function saveAdam(opt, file) {
  const moments = [...opt.accumulatedFirstMoment, ...opt.accumulatedSecondMoment].map((v) => v.variable);
  const total = moments.reduce((a, v) => a + v.size, 0);
  const buf = new Float32Array(total);
  let at = 0;
  for (const v of moments) {
    buf.set(v.dataSync(), at);
    at += v.size;
  }
  writeFileSync(file, Buffer.from(buf.buffer));
  return {
    iterations: opt.iterations,
    accBeta1: opt.accBeta1.dataSync()[0],
    accBeta2: opt.accBeta2.dataSync()[0],
    moments: moments.map((v, i) => ({ name: (i < moments.length / 2 ? opt.accumulatedFirstMoment[i] : opt.accumulatedSecondMoment[i - moments.length / 2]).originalName, shape: v.shape })),
  };
}

/** Restores what saveAdam wrote into a fresh Adam optimizer (through its public setWeights). */
export async function loadAdam(opt, file, layout) {
  const raw = readFileSync(file);
  const buf = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  let at = 0;
  const named = layout.moments.map((m) => {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const tensor = tf.tensor(buf.slice(at, at + n), m.shape);
    at += n;
    return { name: m.name, tensor };
  });
  const iter = tf.scalar(layout.iterations, 'int32');
  await opt.setWeights([{ name: 'iter', tensor: iter }, ...named]);
  tf.dispose([iter, ...named.map((w) => w.tensor)]);
  // setWeights recomputes β^(t+1) with pow; the saved products are what the run had.
  tf.tidy(() => {
    opt.accBeta1.assign(tf.scalar(layout.accBeta1));
    opt.accBeta2.assign(tf.scalar(layout.accBeta2));
  });
}

