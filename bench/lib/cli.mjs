// Command-line flags of `npm run bench`, and the plan each mode runs. Pure: parseArgs(argv) ->
// options and planFor(options) -> the cells and settings, no side effects, so the tests in
// test/bench/ can check them without running anything.
//
// Three modes:
//   default  a few minutes: every rule at the headline size n = 100, d = 1e6 on the library's default
//            (fast) kernels against the fastest peer, after a small sweep (d = 1e4 at n ∈ {10, 50, 100},
//            then n = 100 at d = 1e5) that shows how the times scale and warms the JIT
//   --quick  under 2 minutes: n ∈ {10, 50} × d ∈ {1e4, 1e5}, fast kernels, fastest peer
//   --full   the whole grid n ∈ {10, 50, 100, 200} × d ∈ {1e4, 1e5, 1e6}, plain and fast kernels,
//            every peer everywhere, memory at the largest size

export const FULL_N = [10, 50, 100, 200];
export const FULL_D = [1e4, 1e5, 1e6];
export const QUICK_N = [10, 50];
export const QUICK_D = [1e4, 1e5];
/** The size the default run answers for: n = 100 clients, d = 1e6 coordinates. */
export const HEADLINE = { n: 100, d: 1e6 };
/** The default run: a small sweep, then the headline cell (attacks only in the sweep). */
export const DEFAULT_CELLS = [
  { n: 10, d: 1e4 },
  { n: 50, d: 1e4 },
  { n: 100, d: 1e4 },
  { n: 100, d: 1e5 },
  { n: HEADLINE.n, d: HEADLINE.d, skipGroups: ['attack'] },
];

/** At least this many timed calls per cell, unless one call is slow (see MODES.maxCellMs). */
export const MIN_SAMPLES = 5;

/**
 * Settings per mode. budgetMs: time a cell keeps sampling (beyond MIN_SAMPLES calls) at d = 1e6, a
 * third at 1e5, a sixth at 1e4. maxCellMs: a cell stops sampling before a call would take it past
 * this, so a cell takes fewer than MIN_SAMPLES calls only when one call takes more than
 * maxCellMs / MIN_SAMPLES (it is then marked). maxCallS: a cell whose one call is predicted above
 * this is skipped (and says so).
 */
export const MODES = {
  default: { budgetMs: 200, maxCellMs: 2500, maxCallS: 20, memory: false, peers: 'fastest', backends: ['fast'] },
  quick: { budgetMs: 100, maxCellMs: 1500, maxCallS: 15, memory: false, peers: 'fastest', backends: ['fast'] },
  full: { budgetMs: 500, maxCellMs: 4000, maxCallS: 20, memory: true, peers: 'all', backends: null },
};

/** Backends `--backend` accepts; `all` means every one present at run time. */
export const BACKEND_NAMES = ['ts', 'fast', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu', 'tensorflow', 'webgpu'];

export const HELP = `npm run bench -- [flags]

Times every aggregator robust-agg exports next to numpy/torch peers on the same matrices, against
the machine's physical floor. It prints the estimated duration first and an ETA on the progress bar;
Ctrl-C stops it within a second and still writes what was measured (labelled partial).

  (no flag)            the default run, a few minutes: every rule at n=100, d=1e6 on the default
                       (fast) kernels against the fastest peer, after a small sweep (d=1e4 at
                       n in {10,50,100}, n=100 at d=1e5); attacks only in the sweep
  --quick              n in {10,50} x d in {1e4,1e5}, short budgets (under 2 min)
  --full               the whole grid: n in {10,50,100,200} x d in {1e4,1e5,1e6}, plain and fast
                       kernels, every peer everywhere, memory at the largest size (tens of minutes)
  --only a,b           only these rules (a name also selects its stages: --only flame)
  --skip a,b           all rules but these
  --n 50[,100]         client counts (with --d: their cross product replaces the mode's cells)
  --d 1e6[,1e5]        dimensions
  --backend a,b        ts, fast, tfjs-cpu, tfjs-wasm, tfjs-webgpu, tensorflow, webgpu (the WGSL
                       kernels: Node's webgpu package, else headless Chromium), or all
                       (default: fast; --full: ts and fast)
  --no-peers           do not run the Python (numpy / torch) peers
  --all-peers          run every peer at every size (default: a peer more than 2x slower than
                       another at a smaller size of the run is not run at the larger ones)
  --memory, --no-memory  measure peak RSS / heap growth at the largest size (default: only --full)
  --no-progress        no progress bar (it goes to stderr, only on a terminal)
  --samples K          at least K timed calls per cell (default ${MIN_SAMPLES}) unless one call is slow
  --budget-ms X        keep sampling a cell for X ms at d = 1e6 (default 200; quick 100; full 500);
                       smaller d get less
  --max-cell-s X       stop sampling a cell before it passes X s (default 2.5; quick 1.5; full 4):
                       a cell takes fewer than K calls only when one call takes more than X/K s,
                       and is then marked
  --max-call-s X       skip a cell whose one call is predicted above X s (default 20; quick 15)
  --chart-n N          which n the SVG chart shows (default: the headline n, else the largest)
  --seed S             data seed (default 1)
  --out DIR            where JSON + SVG + markdown go (default bench/results)
  --write-docs         also write bench/results/benchmarks.{json,svg} and docs/benchmarks.md
                       (the page says which run it shows; a partial run never writes them)
  --docs-from FILE     render docs/benchmarks.md (and the SVG next to FILE) from a saved run's JSON,
                       without running anything
  --refresh-floor      re-measure bandwidth and arithmetic peak instead of using the cache
  --no-floor           neither measure nor show the floor (its columns show a dash)
  --python PATH        Python interpreter for the peers (default: python3, then /usr/bin/python3)
  --peer-threads N     run the peers with N threads (OPENBLAS/OMP/MKL_NUM_THREADS, torch.set_num_threads);
                       default: the libraries' own choice
  --roofline           also report every row's achieved G multiply-adds/s (Gram rules) or GB/s (the
                       rest) against this machine's measured WebAssembly SIMD peak
  --rounds             instead of the table: aggregation rounds and aggregateAsync against the
                       one-shot call (latency from the last arrival, event-loop delay; n=100,
                       d=1e6 unless --n/--d; arrivals paced as a --link-mbps link, default 1000;
                       --only, --repeats K, --no-peers, --out FILE)
  --deep-sight         instead of the table: robust-agg/tfjs's deepSight on a 784-100-10 MLP (n=10,50;
                       --n, --probes K, --repeats K, --out FILE)
  --byrd-saga-step     instead of the table: CPU ms of one SAGA + GM server step of the Byrd-SAGA experiment
                       (50 + 20 workers, d = 39 760, one thread; --steps N, --warmup N, --out FILE)
  --sweep              instead of the table: the headline rules on fast and plain kernels and the fastest
                       peer over n in {10,100,1000} x d in {1e4..1e7}, fitted exponents in n and d,
                       fast <= plain check, log-log SVG (--n, --d, --only, --max-gib, --max-seconds,
                       --out PATH, --no-peers; npm run bench -- --sweep --help)
  --help               this text
`;

/** Parses "1e6", "100000", "1e4,1e5" into positive integers. */
export function parseNumberList(text, flag) {
  if (text === undefined || text === '') throw new Error(`${flag} needs a value`);
  return String(text)
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const v = Number(s.trim());
      if (!Number.isFinite(v) || v < 1 || Math.round(v) !== v) {
        throw new Error(`${flag}: "${s}" is not a positive integer`);
      }
      return v;
    });
}

function parseNameList(text, flag) {
  if (text === undefined || text === '') throw new Error(`${flag} needs a value`);
  return String(text)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function positive(text, flag) {
  const v = Number(text);
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${flag} must be a positive number`);
  return v;
}

/**
 * Parses the flags after `npm run bench --`. Accepts `--flag value` and `--flag=value`.
 * Throws an Error with a readable message on an unknown flag or a bad value.
 */
export function parseArgs(argv) {
  const o = {
    quick: false,
    full: false,
    only: null,
    skip: [],
    n: null,
    d: null,
    backends: null,
    peers: true,
    allPeers: false,
    memory: null,
    progress: true,
    samples: null,
    budgetMs: null,
    maxCellS: null,
    maxCallS: null,
    chartN: null,
    seed: 1,
    out: 'bench/results',
    writeDocs: false,
    docsFrom: null,
    refreshFloor: false,
    floor: true,
    python: null,
    peerThreads: null,
    help: false,
  };
  const args = [];
  for (const a of argv) {
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) args.push(a.slice(0, eq), a.slice(eq + 1));
    else args.push(a);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--full': o.full = true; break;
      case '--only': o.only = parseNameList(value(), a); break;
      case '--skip': o.skip = parseNameList(value(), a); break;
      case '--n': o.n = parseNumberList(value(), a); break;
      case '--d': o.d = parseNumberList(value(), a); break;
      case '--backend': {
        const list = parseNameList(value(), a);
        for (const b of list) {
          if (b !== 'all' && !BACKEND_NAMES.includes(b)) {
            throw new Error(`--backend: unknown "${b}" (one of ${BACKEND_NAMES.join(', ')}, all)`);
          }
        }
        o.backends = list;
        break;
      }
      case '--no-peers': o.peers = false; break;
      case '--all-peers': o.allPeers = true; break;
      case '--memory': o.memory = true; break;
      case '--no-memory': o.memory = false; break;
      case '--no-progress': o.progress = false; break;
      case '--samples': o.samples = parseNumberList(value(), a)[0]; break;
      case '--budget-ms': o.budgetMs = positive(value(), a); break;
      case '--max-cell-s': o.maxCellS = positive(value(), a); break;
      case '--max-call-s': o.maxCallS = positive(value(), a); break;
      case '--chart-n': o.chartN = parseNumberList(value(), a)[0]; break;
      case '--seed': {
        const v = Number(value());
        if (!Number.isInteger(v)) throw new Error('--seed must be an integer');
        o.seed = v;
        break;
      }
      case '--out': o.out = value(); break;
      case '--write-docs': o.writeDocs = true; break;
      case '--docs-from': o.docsFrom = value(); break;
      case '--refresh-floor': o.refreshFloor = true; break;
      case '--no-floor': o.floor = false; break;
      case '--python': o.python = value(); break;
      case '--peer-threads': o.peerThreads = parseNumberList(value(), a)[0]; break;
      case '--help': case '-h': o.help = true; break;
      default:
        throw new Error(`unknown flag "${a}" (npm run bench -- --help)`);
    }
  }
  if (o.quick && o.full) throw new Error('--quick and --full exclude each other');
  return o;
}

/** 'full' | 'quick' | 'default', from the parsed options. */
export function modeOf(o) {
  return o.full ? 'full' : o.quick ? 'quick' : 'default';
}

const uniqSorted = (xs) => [...new Set(xs)].sort((a, b) => a - b);

/**
 * What a run does, from its options. Pure.
 * @returns {{ mode, cells: Array<{ n, d, skipGroups?: string[] }>, ns, ds, headline, budgetMs,
 *   maxCellMs, maxCallMs, minSamples, memory, peers: 'fastest' | 'all' | 'none', backends, custom }}
 *   cells sorted by d, then n (the order the run takes them: small to large)
 */
export function planFor(o) {
  const mode = modeOf(o);
  const m = MODES[mode];
  let cells;
  if (mode === 'full') cells = FULL_N.flatMap((n) => FULL_D.map((d) => ({ n, d })));
  else if (mode === 'quick') cells = QUICK_N.flatMap((n) => QUICK_D.map((d) => ({ n, d })));
  else cells = DEFAULT_CELLS.map((c) => ({ ...c }));
  const custom = o.n !== null || o.d !== null;
  if (custom) {
    const ns = o.n ?? uniqSorted(cells.map((c) => c.n));
    const ds = o.d ?? uniqSorted(cells.map((c) => c.d));
    cells = ns.flatMap((n) => ds.map((d) => ({ n, d })));
  }
  const seen = new Set();
  cells = cells
    .filter((c) => {
      const k = `${c.n}|${c.d}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.d - b.d || a.n - b.n);
  const ns = uniqSorted(cells.map((c) => c.n));
  const ds = uniqSorted(cells.map((c) => c.d));
  const hasHeadline = cells.some((c) => c.n === HEADLINE.n && c.d === HEADLINE.d);
  return {
    mode,
    custom,
    cells,
    ns,
    ds,
    headline: hasHeadline ? { ...HEADLINE } : null,
    minSamples: o.samples ?? MIN_SAMPLES,
    budgetMs: o.budgetMs ?? m.budgetMs,
    maxCellMs: (o.maxCellS ?? m.maxCellMs / 1e3) * 1e3,
    maxCallMs: (o.maxCallS ?? m.maxCallS) * 1e3,
    memory: o.memory ?? m.memory,
    peers: !o.peers ? 'none' : o.allPeers ? 'all' : m.peers,
    backends: o.backends ?? m.backends,
  };
}

/** The cells of one d, in n order (the run draws one nMax × d matrix per d). */
export function groupsOf(cells) {
  const byD = new Map();
  for (const c of cells) {
    if (!byD.has(c.d)) byD.set(c.d, []);
    byD.get(c.d).push(c);
  }
  return [...byD.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([d, cs]) => {
      const sorted = [...cs].sort((a, b) => a.n - b.n);
      return { d, cells: sorted, nMax: sorted[sorted.length - 1].n };
    });
}
