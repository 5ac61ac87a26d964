// Entry of an aggregation worker: a Node worker thread or a browser Web Worker that runs whole
// rules by name (src/server/registry.ts) on rows that live in SharedArrayBuffers or transferred
// ArrayBuffers. scripts/build-server-worker.mjs bundles this file with its imports into
// src/server/worker-source.ts (an IIFE string); the library starts it with
// `new Worker(source, { eval: true })` in Node and from a Blob URL in browsers. It is never imported
// by the library itself.
import { RobustAggError } from '../core/errors.js';
import type { ReplyPort, RunJob, RunReply } from './protocol.js';
import { runByName } from './registry.js';
import { connect } from './worker-port.js';

let port: ReplyPort | null = null;

/** What a stateful rule returns besides its aggregate and decision (its next round's state). */
function extrasOf(result: object): Record<string, unknown> {
  const { aggregate: _a, decision: _d, ...extras } = result as Record<string, unknown>;
  return extras;
}

function run(job: RunJob): void {
  let reply: RunReply;
  const transfer: unknown[] = [];
  try {
    const rows: Float32Array[] = [];
    for (let i = 0; i < job.rowBuffer.length; i++) {
      rows.push(new Float32Array(job.buffers[job.rowBuffer[i]], job.rowOffset[i], job.d));
    }
    const result = runByName(job.name, rows, job.options);
    let aggregate = result.aggregate;
    if (aggregate.byteOffset !== 0 || aggregate.byteLength !== aggregate.buffer.byteLength || !(aggregate.buffer instanceof ArrayBuffer)) {
      aggregate = aggregate.slice();
    }
    transfer.push(aggregate.buffer);
    reply = {
      id: job.id,
      ok: true,
      aggregate,
      decision: result.decision as unknown as Record<string, unknown>,
      extras: extrasOf(result),
    };
  } catch (e) {
    reply = {
      id: job.id,
      ok: false,
      code: e instanceof RobustAggError ? e.code : null,
      message: e instanceof Error ? e.message : String(e),
    };
  }
  port!.postMessage(reply, transfer);
}

port = connect(run);
