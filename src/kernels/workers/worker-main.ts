// Entry of a kernel worker thread. scripts/build-wasm.mjs bundles this file with its imports into
// worker-source.ts (an IIFE), which the pool starts with `new Worker(source, { eval: true })`; it
// is never imported by the library itself. It uses neither `require` nor `import`, so it runs
// whether Node evaluates it as a script or as a module (`--input-type=module` is inherited).
import type { MessagePort } from 'node:worker_threads';
import { nodeBuiltin } from '../wasm/node-builtin.js';
import type { GramExports, SelectExports } from '../wasm/exports.js';
import { wasmApi, type WasmModule } from '../wasm/wasm-api.js';
import { GramWorkspace, SelectWorkspace } from '../wasm/workspace.js';
import {
  DONE,
  POSTED,
  READY,
  SLOT,
  SlotState,
  type JobMessage,
  type ModuleMessage,
  type WorkerInit,
  type WorkerKernel,
} from './protocol.js';

const { receiveMessageOnPort, workerData } = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads')!;
const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const done = new Int32Array(init.done);
const port = init.port as MessagePort;
let gramWs: GramWorkspace | null = null;
let selectWs: SelectWorkspace | null = null;

/** Instantiates a kernel module the calling thread compiled (at start, or just before a job). */
function instantiate(kind: WorkerKernel, module: WasmModule): void {
  const exports = new (wasmApi()!.Instance)(module, {}).exports;
  if (kind === 'gram') gramWs = new GramWorkspace(exports as GramExports);
  else selectWs = new SelectWorkspace(exports as SelectExports);
}
for (const kind of ['gram', 'select'] as const) {
  const module = init.modules[kind];
  if (module !== undefined) instantiate(kind, module);
}

function run(job: JobMessage): boolean {
  const rows: Float32Array[] = [];
  for (let i = 0; i < job.n; i++) rows.push(new Float32Array(job.data, i * job.cw * 4, job.cw));
  if (job.kind === 'gram') {
    if (gramWs === null) return false;
    const centre = job.robust === true ? 'robust' : job.hasRef ? new Float32Array(job.data, job.n * job.cw * 4, job.cw) : null;
    return gramWs.gramChunk(rows, centre, 0, job.cw, job.block, new Float64Array(job.result, 0, job.n * job.n));
  }
  if (selectWs === null) return false;
  selectWs.selectChunk(rows, 0, job.cw, job.block, job.op, job.param, new Float32Array(job.result, 0, job.cw), 0);
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
    const message = msg.message as JobMessage | ModuleMessage;
    if ('load' in message) {
      try {
        instantiate(message.load, message.module);
      } catch {
        // Its jobs then fail, and the calling thread runs them.
      }
    } else handle(message);
  }
}
