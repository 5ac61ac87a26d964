// docs/benchmarks.md (and bench/results/last-run.md), rendered from the same result object as the
// table, the JSON and the SVG. The page always says which run it shows (default, --quick, --full or
// a custom grid), when, and whether it is partial (interrupted); a saved run of an older harness
// (schema 1) is rendered with that harness's sampling rule described, not today's.
import { beforeAfterSection, headlineSection } from './before-after.mjs';
import { FULL_D, FULL_N, HEADLINE } from './cli.mjs';
import { formatDuration } from './estimate.mjs';
import { fewSamplesLegend, formatD, formatMs, markdownMemoryTable, markdownTable, recordNotes } from './report.mjs';

/** 'default' | 'quick' | 'full' | 'custom' of a saved run (schema 1 runs did not record it). */
export function runMode(result) {
  if (result.mode) return result.custom ? 'custom' : result.mode;
  const o = result.options ?? {};
  if (o.quick) return 'quick';
  const ns = o.n ?? [];
  const ds = o.d ?? [];
  if (!o.only && FULL_N.every((x) => ns.includes(x)) && FULL_D.every((x) => ds.includes(x))) return 'full';
  return 'custom';
}

const MODE_TEXT = {
  full: 'the **full grid** (`npm run bench -- --full`: n ∈ {10, 50, 100, 200} × d ∈ {1e4, 1e5, 1e6}, plain and fast kernels, every peer, memory at the largest size)',
  default: '**the default run** (`npm run bench`: every rule at n = 100, d = 1e6 on the fast kernels against the fastest peer, after a sweep at d = 1e4 and n = 100, d = 1e5)',
  quick: 'a **`--quick` run** (n ∈ {10, 50} × d ∈ {1e4, 1e5}, short budgets: small, noisy numbers)',
  custom: 'a **custom run** (its own selection of rules and sizes, see the command)',
};

/** The one-line description of the run a page shows ("This page shows … of <date>"). */
export function runLabel(result) {
  const mode = runMode(result);
  const date = String(result.createdAt ?? '').replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `This page shows ${MODE_TEXT[mode]}, run on ${date}${result.partial ? ' — **partial: interrupted before the end**' : ''}.`;
}

function samplingLines(result) {
  const s = result.sampling;
  if (!s) {
    // schema 1: the harness of that run
    return [
      '- **samples**: timed calls of the cell. **This run predates the ≥ 5 samples rule**: a cell ran its',
      `  rule until a budget was spent (${formatMs(result.budgets?.base)} at d = 1e6, a third at 1e5, a sixth at 1e4) and at`,
      '  least once, so a call slower than the budget was timed **once**; such a cell shows no dispersion',
      '  (—), and its median is that one call. Runs of today\'s harness take at least',
      '  five calls per cell (see *Time budget*).',
    ];
  }
  return [
    `- **samples**: timed calls of the cell: at least ${s.minSamples}, more while the cell's budget lasts. A cell takes fewer`,
    `  only when one call takes more than ${formatMs(s.slowCallMs)} (a cell stops sampling before ${formatMs(s.maxCellMs)}); it then`,
    `  shows "k of ${s.minSamples}", and its median rests on those k calls. One call has no dispersion: **±MAD** shows a dash.`,
  ];
}

function budgetLines(result) {
  const s = result.sampling;
  if (!s) {
    return [
      'This run used the harness of its date: each (rule, backend, n, d) cell ran its rule until the budget',
      'was spent (at least once) after one untimed warm-up call; a cell predicted above its budget ran exactly',
      'once, a call predicted above the per-call limit was skipped and says so.',
      '',
      result.budgets?.estimate ?? '',
    ];
  }
  const lines = [
    `Each (rule, backend, n, d) cell gets one untimed warm-up call (none when a call is predicted above ${formatMs(s.slowCallMs)}:`,
    'the run goes from small to large sizes, so the JIT is already warm), then at least',
    `${s.minSamples} timed calls, more until its budget is spent (${formatMs(s.budgetMs)} at d = 1e6, a third at 1e5, a sixth at 1e4).`,
    `A cell never starts a call that would take it past ${formatMs(s.maxCellMs)} once its calls take more than ${formatMs(s.slowCallMs)}`,
    `each: such cells keep fewer calls (at least one) and are marked "k of ${s.minSamples}". A call predicted (from this`,
    `run's smaller cells, × n·d or × n²d for Gram-based rules) above ${formatMs(s.maxCallMs)} is skipped and says so. The Python`,
    'peers follow the same rule.',
  ];
  if (result.peers?.mode === 'fastest') {
    lines.push(
      '',
      'Only the fastest peer matters at the larger sizes: a peer library more than 2× slower than another on a',
      'smaller cell of the run (or skipped there) is not run at the larger ones (`--all-peers` runs every one).',
    );
  }
  if (result.memory?.length > 0) {
    lines.push(
      '',
      'At the largest size each rule runs in its own child process (one backend: the fast kernels when present),',
      'which measures memory on its first timed call and goes on sampling under the same rule.',
    );
  }
  const est = result.estimate;
  if (est?.upfrontMs > 0) {
    lines.push(
      '',
      `The run was estimated at ${formatDuration(est.upfrontMs)} before it started (${est.basis}) and took ${formatDuration(result.wallMs)}` +
        `${result.partial ? ' before it was interrupted' : ''}.` +
        (est.fullGridMs > 0 && runMode(result) !== 'full' ? ` The full grid (\`--full\`) would take about ${formatDuration(est.fullGridMs)} on this machine (same model, with this run's timings).` : ''),
    );
  }
  lines.push(
    '',
    'On a slower or busier machine, `--budget-ms`, `--max-cell-s` and `--max-call-s` trade precision and',
    'coverage for time; `--only`, `--n`, `--d` narrow the grid.',
  );
  return lines;
}

export function renderDocs(result, { svgPath = '../bench/results/benchmarks.svg', jsonPath = '../bench/results/benchmarks.json' } = {}) {
  const m = result.machine;
  const fl = result.floor;
  const mode = runMode(result);
  const lines = [];
  lines.push('---', 'title: Benchmarks', '---', '', '# Benchmarks', '');
  lines.push(`> ${runLabel(result)}`);
  if (result.partial) {
    lines.push(
      '>',
      `> **Partial run**: ${result.interrupted?.reason ?? 'interrupted'} after ${formatDuration(result.wallMs)}; ` +
        `${result.interrupted?.cellsDone ?? '?'} of ${result.interrupted?.cellsPlanned ?? '?'} cells were measured and are shown below.`,
    );
  }
  if (mode === 'quick') {
    lines.push('>', '> The machine may have been shared with other jobs: read the numbers as rough.');
  }
  lines.push(
    '',
    '`npm run bench` answers: how fast is each rule on my machine, on my backend, against what I would',
    'otherwise use (numpy, torch), and how far from the physical limit? This page shows the run',
    `saved in \`bench/results/\` ([JSON](${jsonPath}), [SVG](${svgPath})); rerun it on your machine with`,
    '',
    '```sh',
    'npm ci && npm run bench            # a few minutes: every rule at n=100, d=1e6 vs the fastest peer, + a small sweep',
    'npm run bench -- --quick           # n ∈ {10,50}, d ∈ {1e4,1e5}, under 2 minutes',
    'npm run bench -- --full            # the whole grid (ts and fast kernels, every peer, memory): tens of minutes',
    'npm run bench -- --only krum,flame --n 100 --d 1e6',
    'npm run bench -- --backend ts,tfjs-wasm --no-peers',
    '```',
    '',
    'Each run prints its estimated duration first and an ETA on its progress bar; `npm run bench` rebuilds',
    '`dist/` first only when a source or config file is newer than it. Ctrl-C stops a run within a second',
    'and still writes what was measured, labelled partial, to `bench/results/last-run.{json,md,svg}`.',
    '`npm run bench -- --full --write-docs` regenerates this page from a new full-grid run;',
    '`npm run bench -- --docs-from bench/results/benchmarks.json` re-renders it from the saved one.',
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
  if (fl) {
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
    );
  }
  lines.push(
    `- Wall time of the run: ${formatMs(result.wallMs)}${result.partial ? ' (interrupted)' : ''}`,
    '',
    `![Median time per call against d, one panel per rule (hdbscan against n)](${svgPath})`,
    '',
    ...headlineSection(result.records, result.headline ?? (result.records.some((r) => r.n === HEADLINE.n && r.d === HEADLINE.d) ? HEADLINE : null)),
    ...beforeAfterSection(result.records),
    '## How to read the table',
    '',
    '- **median ± MAD**: median time of one call and the median absolute deviation over the **samples**',
    '  (timed calls). The input is the same n×d float32 matrix for every rule, backend and peer:',
    '  honest rows μ + N(0, 1), every tenth row a sign flip −3μ + N(0, 1); f = ⌊n/10⌋ (or the largest',
    '  f the rule allows).',
    ...samplingLines(result),
    '- **floor**: the least time JavaScript / WebAssembly kernels need on this machine — n·d·4 bytes at',
    '  the measured streaming bandwidth, and for Gram-based rules (Krum, Multi-Krum, Bulyan, geometric',
    '  median, NNM, FLAME, …) n²d/2 multiply-adds at the measured WASM SIMD (f32x4) peak of all cores,',
    '  whichever is larger. **% floor** = floor / median: 100% is the limit of these kernels, 1% means a',
    '  hundred times slower. Native BLAS with wider vectors (AVX2 / AVX-512, as numpy uses for `X @ X.T`)',
    '  can go below the compute floor, so peers may show more than 100%. The bandwidth is',
    '  measured on 128 MiB, far beyond the caches; at small sizes (n·d·4 of a few MiB) the matrix sits in',
    '  cache and a fast implementation can beat this floor — read it as a bound for d = 1e6. hdbscan works',
    '  on the n×n distances only: no data floor, and its chart panel is plotted against n.',
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
    ...budgetLines(result),
    '',
    '## Results',
    '',
    markdownTable(result.records),
    '',
  );
  const legend = fewSamplesLegend(result.records);
  if (legend) lines.push(legend, '');
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
