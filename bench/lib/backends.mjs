// Backends the bench can time the rules on.
//
//   ts         the plain TypeScript kernels (always)
//   fast       the fast kernels (WASM SIMD, worker threads), compiled by initKernels() before timing
//   tfjs-*     TensorFlow.js backends present at run time, on the tensor formulation of the rules
//              that have one (bench/lib/tfjs.mjs)
//
// HOOK for the fast kernels. The bench switches kernels through ONE exported function; the first of
// KERNEL_SWITCHES that dist/index.js exports is used:
//   setKernelBackend(name)   a plain name ('js' or 'ts') selects the plain TypeScript kernels; a fast
//                            name ('auto' = the library's default choice by size, 'wasm' = always
//                            WASM SIMD) the fast path; an unknown name throws
//   getKernelBackend()       optional: the current name (restored after the run)
// When the library grows another name for it, add it to KERNEL_SWITCHES / the name lists below.
import { TFJS_BACKENDS, loadTfjs } from './tfjs.mjs';

export const KERNEL_SWITCHES = ['setKernelBackend', 'setKernels', 'useKernels'];
export const PLAIN_KERNELS = ['js', 'ts'];
export const FAST_KERNELS = ['auto', 'wasm'];

/** The first of `names` the switch accepts, or null. */
function firstAccepted(set, names) {
  for (const name of names) {
    try {
      set(name);
      return name;
    } catch {
      // not this one
    }
  }
  return null;
}

/** The library's kernel switch with its plain and fast names, or null when it exports none. */
export function kernelSwitch(lib) {
  const name = KERNEL_SWITCHES.find((k) => typeof lib[k] === 'function');
  if (!name) return null;
  const set = (b) => lib[name](b);
  const initial = typeof lib.getKernelBackend === 'function' ? lib.getKernelBackend() : null;
  const plain = firstAccepted(set, PLAIN_KERNELS);
  const fast = firstAccepted(set, FAST_KERNELS);
  if (initial !== null) firstAccepted(set, [initial]);
  return { name, set, plain, fast, initial };
}

/**
 * Resolves the requested backends (null = the default: ts, plus fast when present).
 * @returns {Promise<{ backends: object[], messages: string[] }>}
 */
export async function resolveBackends(lib, requested) {
  const messages = [];
  const backends = [];
  const sw = kernelSwitch(lib);
  const all = requested !== null && requested.includes('all');
  const want = (b) => (requested === null ? b === 'ts' || b === 'fast' : all || requested.includes(b));

  if (want('ts')) {
    if (sw && sw.plain) {
      backends.push({
        name: 'ts',
        kind: 'lib',
        label: `robust-agg, plain TS kernels (${sw.name}('${sw.plain}'))`,
        activate: () => sw.set(sw.plain),
      });
    } else {
      const hint = Object.keys(lib).some((k) => /wasm|simd|worker|thread|kernel/i.test(k));
      backends.push({
        name: hint ? 'default' : 'ts',
        kind: 'lib',
        label: hint ? "robust-agg, the library's default kernels (no plain-kernel switch found)" : 'robust-agg, plain TS kernels',
        activate: () => {},
      });
    }
  }
  if (want('fast')) {
    if (sw && sw.fast) {
      backends.push({
        name: 'fast',
        kind: 'lib',
        label: `robust-agg, fast kernels (${sw.name}('${sw.fast}'): WASM SIMD, worker threads)`,
        activate: async () => {
          sw.set(sw.fast);
          // Compile the WebAssembly module before the first timed call, not inside it.
          if (typeof lib.initKernels === 'function') await lib.initKernels();
        },
      });
    } else if (requested !== null) {
      messages.push(`fast kernels: dist/index.js exports no ${KERNEL_SWITCHES.join(' / ')} accepting ${FAST_KERNELS.join(' / ')} yet; skipped`);
    }
  }
  for (const name of Object.keys(TFJS_BACKENDS)) {
    if (!want(name) || requested === null) continue;
    const loaded = await loadTfjs(name);
    if (loaded.error) messages.push(`${name}: ${loaded.error}; skipped`);
    else backends.push({ name, kind: 'tfjs', label: `${loaded.label} (tensor formulation)`, tf: loaded.tf, activate: () => loaded.activate() });
  }
  return { backends, messages };
}
