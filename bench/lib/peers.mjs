// The Python peers: numpy and torch formulations (bench/peers/reference.py) timed on the same
// float32 matrices, in the same run. Nothing here is a dependency: when no python3 can import
// numpy or torch the bench says so and carries on.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../peers/reference.py', import.meta.url));

/** The rules bench/peers/reference.py formulates, per library (keep in step with the script). */
export const PEER_RULES = {
  numpy: ['mean', 'coordinateMedian', 'trimmedMean', 'krum', 'multiKrum', 'geometricMedian', 'bulyan'],
  torch: ['mean', 'coordinateMedian', 'trimmedMean', 'krum', 'multiKrum', 'geometricMedian', 'centeredClipping'],
};
const PROBE = `
import json, sys
r = {"executable": sys.executable, "python": sys.version.split()[0], "numpy": None, "torch": None}
try:
    import numpy; r["numpy"] = numpy.__version__
except Exception:
    pass
try:
    import torch; r["torch"] = torch.__version__
except Exception:
    pass
print(json.dumps(r))
`;

/**
 * The environment for the peer processes, and what was changed in it (said in the output):
 * OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed so OpenBLAS picks its own kernels, and with
 * `threads` the BLAS / OpenMP thread counts are pinned.
 */
export function peerEnvironment(env = process.env, threads = null) {
  const out = { ...env };
  const removed = [];
  const set = [];
  for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) {
    if (k in out) {
      removed.push(`${k}=${out[k]}`);
      delete out[k];
    }
  }
  if (threads !== null) {
    for (const k of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) {
      out[k] = String(threads);
      set.push(`${k}=${threads}`);
    }
  }
  return { env: out, removed, set };
}

/** Runs `python -c PROBE`; resolves its JSON or null. `track` gets the child (to kill it on Ctrl-C). */
function probe(python, env, track) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(python, ['-c', PROBE], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      resolve(null);
      return;
    }
    track(child);
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (b) => (out += b.toString()));
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve(null);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        resolve(null);
      }
    });
  });
}

/**
 * Finds interpreters for numpy and torch: the first candidate that imports each. Asynchronous
 * (importing torch takes seconds), so that Ctrl-C is answered meanwhile.
 * @returns {Promise<{ groups: Array<{ python: string, libs: string[], probe: object }>, message: string | null }>}
 */
export async function detectPeers(candidates, env, track = () => {}) {
  const probes = [];
  const seen = new Set();
  for (const python of candidates) {
    const p = await probe(python, env, track);
    if (!p || seen.has(p.executable)) continue;
    seen.add(p.executable);
    probes.push({ python, probe: p });
  }
  const groups = [];
  for (const lib of ['numpy', 'torch']) {
    const hit = probes.find((p) => p.probe[lib] !== null);
    if (!hit) continue;
    let g = groups.find((x) => x.python === hit.python);
    if (!g) groups.push((g = { python: hit.python, libs: [], probe: hit.probe }));
    g.libs.push(lib);
  }
  let message = null;
  if (probes.length === 0) {
    message = `no Python found (tried ${candidates.join(', ')}): peers skipped`;
  } else if (groups.length === 0) {
    message = `no Python that imports numpy or torch (tried ${candidates.join(', ')}): peers skipped — ` +
      'e.g. apt-get install python3-numpy python3-torch, or pip install numpy torch';
  } else {
    const missing = ['numpy', 'torch'].filter((l) => !groups.some((g) => g.libs.includes(l)));
    if (missing.length > 0) message = `no Python imports ${missing.join(' or ')}: those peers skipped`;
  }
  return { groups, message };
}

/**
 * The peers to run at the next sizes when only the fastest matters (the default run): for each
 * rule, a library that took more than `factor` times the best library's time on the largest cell
 * of this run where both were timed (or that was skipped there while another was timed) is
 * dropped. Pure.
 * @param records  this run's peer records so far
 * @param libsByRule  rule → the libraries that formulate it and are present
 * @returns {{ keep: Record<string, string[]>, dropped: Array<{ rule, lib, ratio, n, d }> }}
 *   keep: rule → libraries still to run
 */
export function fastestPeers(records, libsByRule, factor = 2) {
  const keep = {};
  const dropped = [];
  for (const [rule, libs] of Object.entries(libsByRule)) {
    keep[rule] = [...libs];
    if (libs.length < 2) continue;
    const mine = records.filter((r) => r.rule === rule && libs.includes(r.impl));
    const cells = [...new Set(mine.map((r) => `${r.d}|${r.n}`))]
      .map((k) => k.split('|').map(Number))
      .sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    for (const [d, n] of cells) {
      const here = mine.filter((r) => r.n === n && r.d === d);
      const timed = here.filter((r) => !r.error && r.medianMs > 0);
      if (timed.length === 0 || here.length < 2) continue;
      const best = Math.min(...timed.map((r) => r.medianMs));
      for (const r of here) {
        const skipped = r.error && String(r.error).startsWith('skipped');
        if (skipped || (!r.error && r.medianMs > factor * best)) {
          keep[rule] = keep[rule].filter((l) => l !== r.impl);
          dropped.push({ rule, lib: r.impl, ratio: skipped ? null : r.medianMs / best, n, d });
        }
      }
      break;
    }
  }
  return { keep, dropped };
}

/**
 * Runs one interpreter's peers on one matrix file. `onRecord` gets each timing record as it comes;
 * `track` gets the child process (the harness kills it on Ctrl-C).
 * @returns {Promise<{ info: object | null, records: object[], stderr: string }>}
 */
export function runPeerGroup(group, config, env, onRecord = () => {}, track = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(group.python, [SCRIPT, JSON.stringify({ ...config, libs: group.libs })], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let stderr = '';
    let info = null;
    const records = [];
    child.stderr.on('data', (b) => (stderr += b.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.info) info = m.info;
      else {
        records.push(m);
        onRecord(m);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) {
        reject(new Error(`${group.python} ${SCRIPT} stopped by ${signal}`));
      } else if (code !== 0 && records.length === 0) {
        reject(new Error(`${group.python} ${SCRIPT} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
      } else resolve({ info, records, stderr });
    });
  });
}
