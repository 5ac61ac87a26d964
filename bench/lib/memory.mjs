// Peak RSS and heap growth of one rule at the largest size, each rule in its own child process
// (bench/lib/memory-child.mjs), so that no rule inherits another's freed pages or retained heap.
//
// In the child: load the matrix from the run's float32 file, warm the rule up on a 1024-column
// slice (JIT, worker pools), collect garbage, reset the kernel's peak-RSS mark (Linux:
// /proc/self/clear_refs ← 5; elsewhere the lifetime peak from getrusage is used and said), call the
// rule once, read the new peak. "Beyond output" = peak RSS growth − the bytes of what the rule
// returned; a rule is flagged when that exceeds a quarter of the input, n·d·4 bytes: O(n² + d)
// scratch (an n×n float64 matrix, a few d-vectors, column blocks) is far below it at these sizes,
// a copy of the data is not. The same first call is the cell's first timed call; the cell then
// samples under the same rule as everywhere else (bench/lib/timing.mjs).
// (A rule is flagged only when the extra also exceeds an O(n² + d) allowance, see memoryAllowance.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));

/**
 * The O(n² + d) allowance: eight n×n float64 matrices, sixteen float32 d-vectors and 32 MiB of
 * fixed workspace (column blocks, WASM memory, worker stacks).
 */
export function memoryAllowance(n, d) {
  return 8 * n * n * 8 + 16 * d * 4 + 32 * 1024 * 1024;
}

/**
 * The flag rule, pure: the bytes beyond the output are flagged when they exceed both a quarter of
 * the input (n·d·4) and the O(n² + d) allowance — i.e. when the rule holds something like a copy of
 * the data.
 */
export function memoryVerdict({ peakRssGrowthBytes, outputBytes, n, d }) {
  const inputBytes = n * d * 4;
  const extra = Math.max(0, peakRssGrowthBytes - outputBytes);
  const ratioToInput = inputBytes > 0 ? extra / inputBytes : null;
  const flagged = ratioToInput !== null && ratioToInput > 0.25 && extra > memoryAllowance(n, d);
  return { inputBytes, extraBytes: extra, ratioToInput, flagged };
}

/**
 * Runs one child; resolves its JSON report (or { error }). `track` gets the child process (the
 * harness kills it on Ctrl-C). A child that crashes (rather than
 * reporting an error) is retried once: in a shared working tree a concurrent `npm run build` can
 * briefly remove dist/ under it.
 */
export async function runMemoryChild(args, track = () => {}) {
  const first = await runChildOnce(args, track);
  if (!first.crashed) return first;
  await new Promise((r) => setTimeout(r, 3000));
  const second = await runChildOnce(args, track);
  delete second.crashed;
  return second;
}

function runChildOnce(args, track) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b.toString()));
    child.stderr.on('data', (b) => (err += b.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(last));
      } catch {
        resolve({ crashed: true, error: `child exited with ${code}: ${err.trim().split('\n').filter((l) => l.trim() && !l.startsWith('    at ')).slice(-4).join(' / ') || 'no output'}` });
      }
    });
  });
}
