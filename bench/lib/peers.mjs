// The Python peers: numpy and torch formulations (bench/peers/reference.py) timed on the same
// float32 matrices, in the same run. Nothing here is a dependency: when no python3 can import
// numpy or torch the bench says so and carries on.
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Finds interpreters for numpy and torch: the first candidate that imports each.
 * @returns {{ groups: Array<{ python: string, libs: string[], probe: object }>, message: string | null }}
 */
export function detectPeers(candidates, env) {
  const probes = [];
  const seen = new Set();
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', env, timeout: 60_000 });
    if (r.status !== 0 || !r.stdout) continue;
    try {
      const probe = JSON.parse(r.stdout.trim().split('\n').pop());
      if (seen.has(probe.executable)) continue;
      seen.add(probe.executable);
      probes.push({ python, probe });
    } catch {
      // not a usable python
    }
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
 * Runs one interpreter's peers on one matrix file. `onRecord` gets each timing record as it comes.
 * @returns {Promise<{ info: object | null, records: object[], stderr: string }>}
 */
export function runPeerGroup(group, config, env, onRecord = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(group.python, [SCRIPT, JSON.stringify({ ...config, libs: group.libs })], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
    child.on('close', (code) => {
      if (code !== 0 && records.length === 0) {
        reject(new Error(`${group.python} ${SCRIPT} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
      } else resolve({ info, records, stderr });
    });
  });
}
