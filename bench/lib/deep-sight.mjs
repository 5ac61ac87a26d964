// `npm run bench -- --deep-sight`: times robust-agg/tfjs's deepSight, which inspects client
// models (NEUPs, threshold exceedings, DDifs on random probes through the model, HDBSCAN over the
// merged distances) and so cannot be timed on an n×d matrix like the other rules. Model: a
// 784–100–10 MLP (ReLU, softmax; d = 79 510), n clients around a global model, one third of them
// pushing one output class through the output layer (a backdoor-like update). Backends: TF.js cpu, and wasm when it loads.
// Flags: --n a,b (default 10,50), --probes K (default deepSight's 1 000), --repeats K (default 3),
// --out FILE (JSON).
import { writeFileSync } from 'node:fs';

function parse(argv) {
  const o = { n: [10, 50], probes: undefined, repeats: 3, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--n') o.n = v().split(',').map(Number);
    else if (a === '--probes') o.probes = Number(v());
    else if (a === '--repeats') o.repeats = Number(v());
    else if (a === '--out') o.out = v();
  }
  return o;
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

export async function runDeepSight(argv) {
  const o = parse(argv);
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const backends = ['cpu'];
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    backends.push('wasm');
  } catch {
    console.log('deepSight bench: @tensorflow/tfjs-backend-wasm not installed, cpu only');
  }
  const { createLayout, createRng } = await import('../../dist/index.js');
  const { deepSightWithDecision } = await import('../../dist/tfjs/index.js');
  const [inp, hid, out] = [784, 100, 10];
  const layout = createLayout([
    { name: 'h/kernel', shape: [inp, hid], kind: 'kernel' },
    { name: 'h/bias', shape: [hid], kind: 'bias' },
    { name: 'out/kernel', shape: [hid, out], kind: 'kernel' },
    { name: 'out/bias', shape: [out], kind: 'bias' },
  ]);
  const d = inp * hid + hid + hid * out + out;
  const predict = (p, x) => {
    let at = 0;
    const take = (shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const t = shape.length === 2 ? tf.tensor2d(p.subarray(at, at + size), shape) : tf.tensor1d(p.subarray(at, at + size));
      at += size;
      return t;
    };
    const h = tf.relu(tf.add(tf.matMul(x, take([inp, hid])), take([hid])));
    return tf.softmax(tf.add(tf.matMul(h, take([hid, out])), take([out])));
  };
  const rng = createRng(1);
  const global = Float32Array.from({ length: d }, () => 0.05 * rng.gaussian());
  const rows = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const n of o.n) {
      const attackers = Math.floor(n / 3);
      const updates = Array.from({ length: n }, (_, i) =>
        Float32Array.from({ length: d }, (_, k) => {
          // Attackers push class 2: its column of the output kernel and its bias.
          const outputStart = d - out - hid * out;
          const push = i < attackers && k >= outputStart && (k - outputStart) % out === 2 ? 0.3 : 0;
          return push + 0.01 * rng.gaussian();
        }),
      );
      const options = { global, layout, predict, probeShape: [inp], seed: 1, ...(o.probes ? { probes: o.probes } : {}) };
      const times = [];
      let rejected = 0;
      let last = null;
      for (let r = 0; r < o.repeats; r++) {
        const t0 = performance.now();
        const { decision } = deepSightWithDecision(updates, options);
        times.push(performance.now() - t0);
        rejected = n - decision.selected.length;
        last = decision;
      }
      const row = { backend, n, d, probes: o.probes ?? 'default', ms: Math.round(median(times)), repeats: o.repeats, rejected, suspicious: last.suspicious.length };
      rows.push(row);
      console.log(`deepSight  tfjs-${backend}  n=${n}  d=${d}  ${row.ms} ms (median of ${o.repeats}); rejected ${rejected}, labelled suspicious ${row.suspicious} (${attackers} pushed class 2)`);
    }
  }
  if (o.out) writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
}
