// TF.js backends, loaded by dynamic import only when asked for (`--backend tfjs-cpu` …), and the
// tensor formulation of the rules that have one. These rows time what a TF.js user would run:
// the input is already an n×d tensor on the backend (upload not timed), the result is read back
// (timed). The formulations are float32 throughout and use an uncentred Gram matrix, so they are
// not numerically identical to robust-agg's float64 centred path; they answer "how fast is the
// tensor engine on these shapes", nothing more.
//
//   mean              tf.mean(X, 0)
//   coordinateMedian  topk over the transpose (k = ⌊n/2⌋+1), the middle one or two values
//   trimmedMean       topk over the transpose (k = n − f), drop the f largest, mean of the rest
//   krum, multiKrum   G = matMul(X, Xᵀ), squared distances from G, topk of the n − f − 1 smallest
//   geometricMedian   G = matMul(X, Xᵀ), Weiszfeld in client space on the n×n matrix (float64, JS),
//                     then one matMul(w, X)

export const TFJS_BACKENDS = {
  'tfjs-cpu': {
    tfName: 'cpu',
    imports: ['@tensorflow/tfjs-backend-cpu'],
    install: 'npm install @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu',
  },
  'tfjs-wasm': {
    tfName: 'wasm',
    imports: ['@tensorflow/tfjs-backend-wasm'],
    install: 'npm install @tensorflow/tfjs-core @tensorflow/tfjs-backend-wasm',
  },
  tensorflow: {
    tfName: 'tensorflow',
    // tfjs-node(-gpu) bundle their own tfjs: the tf namespace is the package itself
    bundles: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
    install: 'npm install @tensorflow/tfjs-node (CPU, downloads libtensorflow) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8)',
  },
  'tfjs-webgpu': {
    tfName: 'webgpu',
    imports: ['@tensorflow/tfjs-backend-webgpu'],
    install: 'npm install @tensorflow/tfjs-backend-webgpu, and a WebGPU implementation for Node (navigator.gpu), or run in a browser',
  },
};

/** Loads a TF.js backend. Returns { tf, label, activate } or { error } saying what to install. */
export async function loadTfjs(name) {
  const spec = TFJS_BACKENDS[name];
  try {
    let tf;
    let pkg;
    if (spec.bundles) {
      for (const p of spec.bundles) {
        try {
          tf = await import(p);
          pkg = p;
          break;
        } catch {
          // next
        }
      }
      if (!tf) return { error: `not installed (${spec.install})` };
    } else {
      try {
        tf = await import('@tensorflow/tfjs-core');
        for (const p of spec.imports) await import(p);
        pkg = spec.imports[0];
      } catch (e) {
        return { error: `not installed (${spec.install}) [${e.code ?? e.message}]` };
      }
    }
    if (name === 'tfjs-webgpu' && !globalThis.navigator?.gpu) {
      return { error: `no navigator.gpu in this Node (${spec.install})` };
    }
    const activate = async () => {
      const ok = await tf.setBackend(spec.tfName);
      await tf.ready();
      if (!ok || tf.getBackend() !== spec.tfName) throw new Error(`tf.setBackend('${spec.tfName}') failed`);
    };
    await activate();
    const version = tf.version?.['tfjs-core'] ?? tf.version_core ?? '?';
    return { tf, label: `TF.js ${version} ${spec.tfName} backend (${pkg})`, activate };
  } catch (e) {
    return { error: `${e.message.split('\n')[0]} (${spec.install})` };
  }
}

/** Weiszfeld in client space on a (row-major, n×n) Gram matrix; returns the weights. */
export function weiszfeldWeights(g, n, { maxIterations = 80, tolerance = 1e-5, nu = 1e-8 } = {}) {
  let w = new Float64Array(n).fill(1 / n);
  const gw = new Float64Array(n);
  for (let it = 0; it < maxIterations; it++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i * n + j] * w[j];
      gw[i] = s;
    }
    let wgw = 0;
    for (let i = 0; i < n; i++) wgw += w[i] * gw[i];
    const beta = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const dist = Math.sqrt(Math.max(0, g[i * n + i] - 2 * gw[i] + wgw));
      beta[i] = 1 / Math.max(nu, dist);
      sum += beta[i];
    }
    for (let i = 0; i < n; i++) beta[i] /= sum;
    let moved = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i * n + j] * (beta[j] - w[j]);
      moved += (beta[i] - w[i]) * s;
    }
    w = beta;
    if (Math.sqrt(Math.max(0, moved)) <= tolerance) break;
  }
  return w;
}

/**
 * Tensor formulations by rule name: make(tf, X, { n, f }) → async () => Float32Array.
 * X is an n×d tf.Tensor2D already on the backend.
 */
export const TENSOR_RULES = {
  mean: (tf, X) => async () => readBack(tf, tf.tidy(() => tf.mean(X, 0))),
  coordinateMedian: (tf, X, { n }) => async () =>
    readBack(tf, tf.tidy(() => {
      const k = Math.floor(n / 2) + 1;
      const { values } = tf.topk(tf.transpose(X), k); // d × k, descending
      const mid = tf.slice(values, [0, k - 1], [-1, 1]);
      if (n % 2 === 1) return tf.reshape(mid, [-1]);
      const other = tf.slice(values, [0, k - 2], [-1, 1]);
      return tf.reshape(tf.div(tf.add(mid, other), 2), [-1]);
    })),
  trimmedMean: (tf, X, { n, f }) => async () =>
    readBack(tf, tf.tidy(() => {
      const { values } = tf.topk(tf.transpose(X), n - f); // the n − f largest, descending
      return tf.mean(tf.slice(values, [0, f], [-1, n - 2 * f]), 1);
    })),
  krum: (tf, X, { n, f }) => async () => readBack(tf, tf.tidy(() => tf.reshape(tf.gather(X, krumOrder(tf, X, n, f, 1)), [-1]))),
  multiKrum: (tf, X, { n, f }) => async () => readBack(tf, tf.tidy(() => tf.mean(tf.gather(X, krumOrder(tf, X, n, f, n - f)), 0))),
  geometricMedian: (tf, X, { n }) => async () => {
    const G = tf.matMul(X, X, false, true);
    const g = await G.data();
    G.dispose();
    const w = weiszfeldWeights(g, n);
    return readBack(tf, tf.tidy(() => tf.reshape(tf.matMul(tf.tensor2d(Float32Array.from(w), [1, n]), X), [-1])));
  },
};

/** Positions of the m best Krum scores (inside a tidy). */
function krumOrder(tf, X, n, f, m) {
  const G = tf.matMul(X, X, false, true);
  const sq = tf.reshape(tf.sum(tf.mul(X, X), 1), [n, 1]);
  const D = tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(G, 2));
  const k = Math.max(1, n - f - 1); // the n − f − 2 nearest others plus the row itself (distance ≈ 0)
  const scores = tf.neg(tf.sum(tf.topk(tf.neg(D), k).values, 1));
  return tf.topk(tf.neg(scores), m).indices;
}

async function readBack(tf, t) {
  const v = await t.data();
  t.dispose();
  return v;
}

/** An n×d tensor of the rows (one copy; untimed). */
export function toTensor(tf, rows) {
  const n = rows.length, d = rows[0].length;
  const flat = new Float32Array(n * d);
  for (let i = 0; i < n; i++) flat.set(rows[i], i * d);
  return tf.tensor2d(flat, [n, d]);
}
