// Entry of a kernel worker thread. scripts/build-wasm.mjs bundles this file with its imports into
// worker-source.ts (an IIFE), which the pool starts with `new Worker(source, { eval: true })`; it
// is never imported by the library itself. It uses neither `require` nor `import`, so it runs
// whether Node evaluates it as a script or as a module (`--input-type=module` is inherited).
import type { MessagePort } from 'node:worker_threads';
import { nodeBuiltin } from '../wasm/node-builtin.js';
import type { KernelExports } from '../wasm/exports.js';
import { wasmApi } from '../wasm/wasm-api.js';
import { Workspace } from '../wasm/workspace.js';
import { DONE, POSTED, READY, SLOT, SlotState, type JobMessage, type WorkerInit } from './protocol.js';

const { receiveMessageOnPort, workerData } = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads')!;
const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const done = new Int32Array(init.done);
const port = init.port as MessagePort;
const instance = new (wasmApi()!.Instance)(init.module, {});
const ws = new Workspace(instance.exports as unknown as KernelExports);

function run(job: JobMessage): boolean {
  const rows: Float32Array[] = [];
  for (let i = 0; i < job.n; i++) rows.push(new Float32Array(job.data, i * job.cw * 4, job.cw));
  if (job.kind === 'gram') {
    const centre = job.robust === true ? 'robust' : job.hasRef ? new Float32Array(job.data, job.n * job.cw * 4, job.cw) : null;
    return ws.gramChunk(rows, centre, 0, job.cw, job.block, new Float64Array(job.result, 0, job.n * job.n));
  }
  ws.selectChunk(rows, 0, job.cw, job.block, job.op, job.param, new Float32Array(job.result, 0, job.cw), 0);
  return true;
}

function handle(job: JobMessage): void {
  const state = SLOT + job.slot;
  if (Atomics.compareExchange(control, state, SlotState.POSTED, SlotState.RUNNING) !== SlotState.POSTED) {
    // The caller took this job back and ran it itself: hand the slot back.
    Atomics.store(control, state, SlotState.FREE);
    return;
  }
  let ok = false;
  try {
    ok = run(job);
  } catch {
    ok = false;
  }
  Atomics.store(control, state, ok ? SlotState.DONE : SlotState.FAILED);
  Atomics.add(done, DONE, 1);
  Atomics.notify(done, DONE);
}

Atomics.store(control, READY, 1);
Atomics.notify(control, READY);
let seen = 0;
for (;;) {
  Atomics.wait(control, POSTED, seen);
  seen = Atomics.load(control, POSTED);
  for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) {
    handle(msg.message as JobMessage);
  }
}
