// docs/benchmarks.md, rendered from the same result object as the table, the JSON and the SVG.
import { beforeAfterSection } from './before-after.mjs';
import { formatMs, markdownMemoryTable, markdownTable, recordNotes } from './report.mjs';

export function renderDocs(result, { svgPath = '../bench/results/benchmarks.svg', jsonPath = '../bench/results/benchmarks.json' } = {}) {
  const m = result.machine;
  const fl = result.floor;
  const q = result.options.quick;
  const lines = [];
  lines.push('---', 'title: Benchmarks', '---', '', '# Benchmarks', '');
  if (q) {
    lines.push(
      '> **This is a `--quick` run** (n ∈ {10, 50}, d ∈ {1e4, 1e5}, short budgets) on a machine shared',
      '> with other jobs: the numbers are noisy and small. The full grid (n ∈ {10, 50, 100, 200} ×',
      '> d ∈ {1e4, 1e5, 1e6}) replaces it with `npm run bench -- --write-docs`.',
      '',
    );
  }
  lines.push(
    '`npm run bench` answers: how fast is each rule on my machine, on my backend, against what I would',
    'otherwise use (numpy, torch), and how far from the physical limit? This page shows the run',
    `committed in \`bench/results/\` ([JSON](${jsonPath}), [SVG](${svgPath})); rerun it on your machine with`,
    '',
    '```sh',
    'npm ci && npm run bench            # the full grid, ~20 minutes on 2 cores',
    'npm run bench -- --quick           # n ∈ {10,50}, d ∈ {1e4,1e5}, under 2 minutes',
    'npm run bench -- --only krum,flame --n 100 --d 1e6',
    'npm run bench -- --backend ts,tfjs-wasm --no-peers',
    '```',
    '',
    '## This run',
    '',
    `- Command: \`${result.command}\``,
    `- Date: ${result.createdAt}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node} (V8 ${m.v8})`,
    `- Backends: ${result.backends.map((b) => `\`${b.name}\` — ${b.label}`).join('; ')}`,
  );
  if (result.peers.groups.length > 0) {
    for (const g of result.peers.groups) {
      const i = g.info ?? {};
      const libs = g.libs.map((l) => `${l} ${i[l] ?? '?'}`).join(', ');
      const threads = i.torch_threads !== undefined ? `, torch.get_num_threads() = ${i.torch_threads}` : '';
      lines.push(`- Peers: ${libs} (Python ${i.python ?? '?'}, \`${g.python}\`${threads})`);
    }
  } else {
    lines.push(`- Peers: none (${result.peers.message ?? 'disabled with --no-peers'})`);
  }
  if (result.peers.envRemoved?.length) {
    lines.push(`- Peer environment: unset ${result.peers.envRemoved.map((x) => `\`${x}\``).join(', ')} for the Python processes only, so that OpenBLAS picks its own kernels`);
  }
  if (result.peers.envSet?.length) {
    lines.push(`- Peer threads: ${result.peers.envSet.map((x) => `\`${x}\``).join(', ')} (\`--peer-threads\`)`);
  }
  lines.push(
    `- Floor: streaming read ${fl.bandwidthGBs.toFixed(1)} GB/s, arithmetic peak ${fl.peakGmadds.toFixed(1)} G multiply-adds/s ` +
      `(best of plain JS ${fl.measured.jsReadGBs.toFixed(1)} GB/s / ${fl.measured.jsPeakGmadds.toFixed(2)} G/s on one thread` +
      (fl.measured.wasmReadGBs !== null
        ? `, WASM SIMD ${fl.measured.wasmReadGBs.toFixed(1)} GB/s / ${fl.measured.wasmPeakGmadds.toFixed(1)} G/s on one thread` +
          (fl.measured.wasmReadAllGBs !== null
            ? ` and ${fl.measured.wasmReadAllGBs.toFixed(1)} GB/s / ${fl.measured.wasmPeakAllGmadds.toFixed(1)} G/s on ${fl.threads} threads`
            : '')
        : '') +
      ')',
    `- Wall time of the run: ${formatMs(result.wallMs)}`,
    '',
    `![Median time per call against d, one panel per rule](${svgPath})`,
    '',
    ...beforeAfterSection(result.records),
    '## How to read the table',
    '',
    '- **median ± MAD**: median time of one call and the median absolute deviation over **runs**',
    '  calls (tinybench). The input is the same n×d float32 matrix for every rule, backend and peer:',
    '  honest rows μ + N(0, 1), every tenth row a sign flip −3μ + N(0, 1); f = ⌊n/10⌋ (or the largest',
    '  f the rule allows).',
    '- **floor**: the least time JavaScript / WebAssembly kernels need on this machine — n·d·4 bytes at',
    '  the measured streaming bandwidth, and for Gram-based rules (Krum, Multi-Krum, Bulyan, geometric',
    '  median, NNM, FLAME, …) n²d/2 multiply-adds at the measured WASM SIMD (f32x4) peak of all cores,',
    '  whichever is larger. **% floor** = floor / median: 100% is the limit of these kernels, 1% means a',
    '  hundred times slower. Native BLAS with wider vectors (AVX2 / AVX-512, as numpy uses for `X @ X.T`)',
    '  can go below the compute floor, so peers may show more than 100%. The bandwidth is',
    '  measured on 128 MiB, far beyond the caches; at small sizes (n·d·4 of a few MiB) the matrix sits in',
    '  cache and a fast implementation can beat this floor — read it as a bound for d = 1e6.',
    '- **numpy / torch**: the same computation as a Python user writes it today, on the same matrix',
    '  (bench/peers/reference.py: `np.median`, sort-based trimmed mean, `X @ X.T` or `torch.cdist`',
    '  Krum and Multi-Krum, the Byrd-SAGA-style Weiszfeld loop on the data, `torch.median` — which',
    '  returns the lower middle value where robust-agg averages the two). **÷numpy**, **÷torch** =',
    '  robust-agg time / peer time: below 1× robust-agg is faster.',
    '- **Threads**: `ts` runs on one thread; `fast` uses WASM SIMD and, above a size threshold, worker',
    '  threads on every core; numpy’s matmul uses OpenBLAS threads; torch uses `torch.get_num_threads()`',
    '  (listed above). The peers’ sorts, medians and Weiszfeld loops are single-threaded. On a machine',
    '  busy with other work, multi-threaded BLAS can collapse (OpenBLAS threads wait on each other):',
    '  run the bench on a quiet machine, or compare with `--peer-threads 1`.',
    '- TF.js rows (`--backend tfjs-*`) time the tensor formulation of the rules that have one (mean,',
    '  topk median and trimmed mean, matMul Gram for Krum / Multi-Krum / geometric median), float32,',
    '  input already a tensor, result read back.',
    '',
    '## Time budget',
    '',
    `Each (rule, backend, n, d) cell gets a budget: ${formatMs(result.budgets.base)} at d = 1e6, a third at 1e5, a sixth at`,
    '1e4. tinybench runs the rule until the budget is spent (at least once), after one untimed warm-up',
    'call. The grid runs from small to large sizes and predicts each cell from the previous one of the',
    'same rule (× n·d, or × n²d for Gram-based rules); a cell predicted to exceed its budget runs exactly',
    'once without warm-up (the JIT is already warm from the smaller sizes), so the largest cells cost one',
    'call each; a call predicted above the per-call limit is skipped and says so. The Python peers use the',
    'same budgets and predictions. At the largest size each rule runs in its own child process, which',
    'measures memory on its first call and uses that call as the timing when it is slower than the budget',
    '(for one backend: the fast kernels when present). Attacks run on one backend (the same): they',
    'call the aggregators, whose backends the table already compares.',
    '',
    result.budgets.estimate,
    '',
    'The full grid is meant to fit in 20 minutes on 2 cores: the budgets above bound the fast cells, the',
    'per-call limit bounds the slow ones (skipped cells say so in the table), and the largest cells cost one',
    'call each. On a slower or busier machine, `--budget-ms` and `--max-call-s` trade precision and',
    'coverage for time; `--only`, `--n`, `--d` narrow the grid.',
    '',
    '## Results',
    '',
    markdownTable(result.records),
    '',
  );
  if (result.memory.length > 0) {
    lines.push(
      '## Memory at the largest size',
      '',
      'Each rule runs once in its own Node process on the largest matrix of the run. **peak RSS growth**:',
      'the rise of the process’s peak resident memory during the call (Linux `VmHWM`, reset through',
      '`/proc/self/clear_refs` just before); **heap+buffers growth**: V8 heap plus typed-array memory',
      'right after the call, garbage included. **beyond output ÷ n·d·4**: (peak growth − the bytes',
      'returned) over the input size. A rule is flagged when that extra exceeds both a quarter of the input',
      'and an O(n² + d) allowance (eight n×n float64 matrices, sixteen float32 d-vectors, 32 MiB of fixed',
      'workspace): it then holds something like a copy of the data.',
      '',
      markdownMemoryTable(result.memory),
      '',
    );
  }
  const notes = [...result.messages, ...recordNotes(result.records)];
  if (notes.length > 0) {
    lines.push('## Notes', '', ...notes.map((x) => `- ${x}`), '');
  }
  return `${lines.join('\n')}\n`;
}
