// Command-line flags of `npm run bench`. Pure: parseArgs(argv) -> options, no side effects, so the
// test in test/bench/ can check it without running anything.

export const FULL_N = [10, 50, 100, 200];
export const FULL_D = [1e4, 1e5, 1e6];
export const QUICK_N = [10, 50];
export const QUICK_D = [1e4, 1e5];
/** Per-cell budget at d = 1e6 (ms) and per-call limit (s): sized so the full grid fits 20 min on 2 cores. */
export const FULL_BUDGET_MS = 500;
export const FULL_MAX_CALL_S = 20;
export const QUICK_BUDGET_MS = 150;
export const QUICK_MAX_CALL_S = 15;

/** Backends `--backend` accepts; `all` means every one present at run time. */
export const BACKEND_NAMES = ['ts', 'fast', 'tfjs-cpu', 'tfjs-wasm', 'tensorflow', 'webgpu'];

export const HELP = `npm run bench -- [flags]

Times every aggregator robust-agg exports over a grid of n clients x d coordinates, next to
numpy/torch peers on the same matrices, against the machine's physical floor.

  --quick              short grid (n in {10,50}, d in {1e4,1e5}) and short budgets (< 2 min)
  --only a,b           only these rules (a name also selects its stages: --only flame)
  --skip a,b           all rules but these
  --n 50[,100]         client counts (default 10,50,100,200)
  --d 1e6[,1e5]        dimensions (default 1e4,1e5,1e6)
  --backend a,b        ts, fast, tfjs-cpu, tfjs-wasm, tensorflow, webgpu, or all
                       (default: ts, plus fast when the library has fast kernels)
  --no-peers           do not run the Python (numpy / torch) peers
  --no-memory          do not measure peak RSS / heap growth
  --no-progress        no progress bar (it goes to stderr, only on a terminal)
  --budget-ms X        time budget per (rule, n, d) cell for d = 1e6 (default 500; quick 150); smaller d get less
  --max-call-s X       skip a cell whose one call is predicted above X s (default 20; quick 15)
  --chart-n N          which n the SVG chart shows (default: the largest n of the run)
  --seed S             data seed (default 1)
  --out DIR            where JSON + SVG go (default bench/results)
  --write-docs         also write bench/results/benchmarks.{json,svg} and docs/benchmarks.md
  --refresh-floor      re-measure bandwidth and arithmetic peak instead of using the cache
  --python PATH        Python interpreter for the peers (default: python3, then /usr/bin/python3)
  --peer-threads N     run the peers with N threads (OPENBLAS/OMP/MKL_NUM_THREADS, torch.set_num_threads);
                       default: the libraries' own choice
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

/**
 * Parses the flags after `npm run bench --`. Accepts `--flag value` and `--flag=value`.
 * Throws an Error with a readable message on an unknown flag or a bad value.
 */
export function parseArgs(argv) {
  const o = {
    quick: false,
    only: null,
    skip: [],
    n: null,
    d: null,
    backends: null,
    peers: true,
    memory: true,
    progress: true,
    budgetMs: null,
    maxCallS: null,
    chartN: null,
    seed: 1,
    out: 'bench/results',
    writeDocs: false,
    refreshFloor: false,
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
      case '--no-memory': o.memory = false; break;
      case '--no-progress': o.progress = false; break;
      case '--budget-ms': {
        const v = Number(value());
        if (!(v > 0)) throw new Error('--budget-ms must be a positive number');
        o.budgetMs = v;
        break;
      }
      case '--max-call-s': {
        const v = Number(value());
        if (!(v > 0)) throw new Error('--max-call-s must be a positive number');
        o.maxCallS = v;
        break;
      }
      case '--chart-n': o.chartN = parseNumberList(value(), a)[0]; break;
      case '--seed': {
        const v = Number(value());
        if (!Number.isInteger(v)) throw new Error('--seed must be an integer');
        o.seed = v;
        break;
      }
      case '--out': o.out = value(); break;
      case '--write-docs': o.writeDocs = true; break;
      case '--refresh-floor': o.refreshFloor = true; break;
      case '--python': o.python = value(); break;
      case '--peer-threads': o.peerThreads = parseNumberList(value(), a)[0]; break;
      case '--help': case '-h': o.help = true; break;
      default:
        throw new Error(`unknown flag "${a}" (npm run bench -- --help)`);
    }
  }
  return o;
}
