// Bundled for the browser: in a page, runs the cases on the main thread (after the asynchronous
// compile a browser's main thread requires) and in a Web Worker started from this same bundle.
import * as lib from '../../src/index.js';
import { gramRuleSnapshot, runCases } from './cases.js';

// The tsconfig has no DOM lib: the few browser names this file uses, declared.
declare const self: { postMessage(m: unknown): void; onmessage: ((e: unknown) => void) | null };
declare const Worker: new (url: URL, options: { type: 'module' }) => {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(m: unknown): void;
};

const inWorker = typeof (globalThis as { document?: unknown }).document === 'undefined';

if (inWorker) {
  self.onmessage = () => {
    // Workers may compile synchronously: no initKernels needed here.
    self.postMessage({ results: runCases(lib as never), status: lib.kernelStatus() });
  };
} else {
  (globalThis as Record<string, unknown>).runInPage = async () => {
    await lib.initKernels();
    return { results: runCases(lib as never), status: lib.kernelStatus() };
  };
  // The Gram rules on the default module, then on the relaxed-SIMD one (Chromium has relaxed SIMD).
  (globalThis as Record<string, unknown>).runRelaxedInPage = async () => {
    await lib.initKernels();
    const before = gramRuleSnapshot(lib as never);
    const enabled = lib.enableRelaxedSimd();
    await lib.initKernels(); // a page's main thread compiles the new module asynchronously
    const after = gramRuleSnapshot(lib as never);
    const disabled = lib.enableRelaxedSimd(false);
    await lib.initKernels();
    const back = gramRuleSnapshot(lib as never);
    return { enabled, disabled, before, after, back, status: lib.kernelStatus() };
  };
  (globalThis as Record<string, unknown>).runInWorker = () =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { type: 'module' });
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage('run');
    });
}
