import * as tf from '@tensorflow/tfjs-core';
import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import type { Layout, LayoutSegment } from '../core/layout.js';
import { describeValue, readOptions, requireInteger, requireNumber, requireVector, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { medianOf } from '../aggregators/catalogue-similarity.js';
import { cosineDistances } from '../clustering/cosine-distances.js';
import { hdbscan } from '../clustering/hdbscan.js';
import { combine } from '../kernels/combine.js';
import { rowNorms } from '../kernels/norms.js';

/**
 * The model as {@link deepSight} runs it: class probabilities (softmax outputs, shape
 * [b, P]) of the model with flat weights `params` (in the order of the `layout` option) on a batch
 * of probe inputs of shape [b, …probeShape]. Called inside `tf.tidy`; the returned tensor is
 * read and disposed by deepSight. It must not keep `params` (a scratch array reused between
 * calls).
 *
 * @param params - the model's flat weights, in the order of `layout`.
 * @param inputs - a batch of probe inputs, shape [b, …probeShape], values uniform in [0, 1).
 * @returns the class probabilities, shape [b, P].
 */
export type DeepSightPredict = (params: Float32Array, inputs: tf.Tensor) => tf.Tensor;

/** Options of {@link deepSight}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface DeepSightOptions extends CommonOptions, RandomOptions {
  /** The global model G the updates were trained from: a finite `Float32Array` of length d. Required. */
  global: Float32Array;
  /**
   * The layout of the flat weights (as `flattenWeights(model).layout`, or `createLayout`): it
   * locates the output layer. Its total size must be d. Required.
   */
  layout: Layout;
  /** Runs the model (see {@link DeepSightPredict}). Required. */
  predict: DeepSightPredict;
  /** Shape of one probe input, e.g. `[28, 28, 1]`: a non-empty array of integers ≥ 1. Required. */
  probeShape: readonly number[];
  /**
   * Name of the output layer's kernel segment, shape [fanIn, P]. Default: the last segment of
   * kind `'kernel'` in `layout`.
   */
  outputKernel?: string;
  /** Name of the output layer's bias segment, shape [P]. Default: the last segment of kind `'bias'`. */
  outputBias?: string;
  /**
   * Random probe inputs per seed for the DDifs: an integer in [1, 10⁶]. Default 1000 (FLPoison
   * uses 20 000; more probes, less noise in the DDifs, proportionally more forward passes).
   */
  probes?: number;
  /** Number of probe sets (seeds), each giving one DDif clustering: an integer in [1, 20]. Default 3. */
  seeds?: number;
  /** Probe inputs per forward pass: an integer in [1, 10⁵]. Default 500. */
  batchSize?: number;
  /**
   * A cluster is accepted when fewer than τ·|cluster| of its models are suspicious: a number in
   * (0, 1]. Default 1/3 (the paper; FLPoison 0.33).
   */
  tau?: number;
  /**
   * Threshold exceedings count the classes whose NEUP exceeds max(thresholdFactor, 1/P)·max NEUP: a
   * number in [0, 1]. Default 0.01.
   */
  thresholdFactor?: number;
  /** HDBSCAN's minimum cluster size for every clustering: an integer ≥ 2. Default 5 (the hdbscan package's, as FLPoison). */
  minClusterSize?: number;
  /** HDBSCAN's min_samples (the point itself excluded): an integer ≥ 1. Default 3 (FLPoison). */
  minSamples?: number;
  /** ε added to the global model's probabilities in the DDif ratio: a number in [0, 1]. Default 1e-6. */
  epsilon?: number;
}

/** Decision of {@link deepSight}. */
export interface DeepSightDecision extends Decision {
  /** Accepted clients (ascending): the members of every accepted cluster. */
  readonly selected: readonly number[];
  /** Output = Σ wᵢ xᵢ with wᵢ = min(1, S/‖xᵢ‖)/|selected| for the accepted clients. */
  readonly weights: Float64Array;
  /** S, the median update norm of the finite clients: the clipping bound. */
  readonly clipBound: number;
  /**
   * Clients labelled suspicious: threshold exceedings ≤ median/2, or predictions that were not
   * finite probabilities (ascending).
   */
  readonly suspicious: readonly number[];
  /** Clients whose model gave non-finite (or negative) probabilities on the probes: never accepted (ascending). */
  readonly invalid: readonly number[];
  /** Threshold exceedings of each client (−1 for dropped clients). */
  readonly thresholdExceedings: Int32Array;
  /** NEUPs, row-major n × P (0 for dropped clients). */
  readonly neups: Float64Array;
  /** DDifs, seeds × n × P (seed-major; 0 for dropped and invalid clients). */
  readonly ddifs: Float64Array;
  /** Number of classes P (the output layer's units). */
  readonly classes: number;
  /**
   * Final cluster of each client (HDBSCAN on the merged cluster distances; −1: an outlier, judged
   * as a cluster of its own; −2: dropped or invalid).
   */
  readonly labels: Int32Array;
  /** The three component clusterings' labels (same conventions as `labels`). */
  readonly componentLabels: {
    /** On the cosine distances of the output-layer bias updates. */
    readonly cosine: Int32Array;
    /** On the NEUPs (Euclidean). */
    readonly neup: Int32Array;
    /** On the DDifs of each seed (Euclidean). */
    readonly ddif: readonly Int32Array[];
  };
}

/**
 * DeepSight (Rieger, Nguyen, Miettinen & Sadeghi, "DeepSight: Mitigating backdoor attacks in
 * federated learning through deep model inspection", NDSS 2022): inspects each client model
 * Wᵢ = G + Δᵢ and removes clusters of models that look backdoored, then clips.
 * 1. Per client, from the output layer's update (kernel ΔW of shape [fanIn, P], bias Δb):
 *    energies eₖ = |Δbₖ| + Σⱼ |ΔWⱼₖ|, NEUPs cₖ = eₖ² / Σₗ eₗ², threshold exceedings
 *    TE = #{k : cₖ > max(thresholdFactor, 1/P)·maxₗ cₗ}; a client is suspicious when
 *    TE ≤ median(TE)/2 (a backdoor concentrates the update on few classes).
 * 2. DDifs: for each of `seeds` sets of `probes` uniform random inputs x,
 *    DDifₖ = (1/N) Σₓ pᵢ(x)ₖ / (p_G(x)ₖ + ε), pᵢ and p_G the class probabilities of Wᵢ and G.
 * 3. Ensemble clustering: HDBSCAN on the cosine distances of the bias updates, on the NEUPs and on
 *    each seed's DDifs; each clustering gives a 0/1 distance (0 in the same cluster); their mean
 *    (DDif distances averaged over the seeds first, then the three averaged) is clustered again by
 *    HDBSCAN (single cluster allowed).
 * 4. A cluster is accepted when fewer than τ·|cluster| of its models are suspicious.
 * 5. The accepted updates are clipped to S = the median update norm and averaged:
 *    out = Σ_{i∈A} Δᵢ·min(1, S/‖Δᵢ‖) / |A|.
 * Needs no f. Returns an aggregated update (add it to G).
 *
 * Our choices where the paper leaves room (FLPoison's, where they differ): HDBSCAN with the
 * hdbscan package's semantics (our {@link hdbscan}) and its default min cluster size 5, min
 * samples 3; an outlier of any clustering is a cluster of its own (distance 1 to everyone;
 * FLPoison puts all outliers in one cluster, and never accepts the final outliers, which we judge
 * as singleton clusters: accepted when not suspicious); the median of an even count is the mean
 * of the two middle values; probes are drawn from robust-agg's seeded generator, so the DDifs
 * differ from FLPoison's torch draws for the same seed number; no accepted client gives the zero
 * vector. Non-finite clients are dropped.
 *
 * Hostile clients: a client whose model gives NaN, ±Infinity or negative probabilities on the
 * probes (e.g. weights of 10³⁸) is invalid: suspicious, never accepted, left out of the
 * clusterings. NEUPs and norms are float64 (finite for any finite float32 update); accepted
 * updates are clipped to S, so ‖out‖ ≤ S and a minority of huge updates cannot move S beyond the
 * honest norms. Attackers that spread their output-layer update over many classes (TE like the
 * honest clients') and imitate honest DDifs are not caught by the classification; the clipping
 * still bounds them.
 *
 * Cost: seeds × ⌈probes/batchSize⌉ × (n + 1) forward passes, n output-layer passes, O(n²) distances,
 * 2 + seeds HDBSCAN runs on n points, one combine pass. Limits: probes ≤ 10⁶, seeds ≤ 20.
 *
 * @param updates - the n client updates Δᵢ = Wᵢ − G, flat in the order of `layout`, each a
 *   `Float32Array` of length d; not modified. Clients holding NaN or ±Inf are dropped (or throw,
 *   see `nonFinite`).
 * @param options - see {@link DeepSightOptions}: `global`, `layout`, `predict`, `probeShape`
 *   (required), `seed` or `rng` (required: the probes are random), `outputKernel` / `outputBias`
 *   (default the last kernel and bias segments), `probes` ([1, 10⁶]; default 1000), `seeds`
 *   ([1, 20]; default 3), `batchSize` ([1, 10⁵]; default 500), `tau` ((0, 1]; default 1/3),
 *   `thresholdFactor` ([0, 1]; default 0.01), `minClusterSize` (≥ 2; default 5), `minSamples`
 *   (≥ 1; default 3), `epsilon` ([0, 1]; default 1e-6), `nonFinite` (default `'drop'`).
 * @returns the clipped mean of the accepted updates, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { createLayout } from 'robust-agg';
 * import { deepSightWithDecision } from 'robust-agg/tfjs';
 *
 * await tf.setBackend('cpu');
 * // A softmax regression on 4 inputs and 5 classes: kernel [4, 5] then bias [5].
 * const layout = createLayout([
 *   { name: 'dense/kernel', shape: [4, 5], kind: 'kernel' },
 *   { name: 'dense/bias', shape: [5], kind: 'bias' },
 * ]);
 * const predict = (params: Float32Array, x: tf.Tensor) =>
 *   tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(params.subarray(0, 20), [4, 5])), tf.tensor1d(params.subarray(20))));
 * const global = new Float32Array(25);
 * // Eight honest updates spread over the classes; three backdoor updates pushing class 2 only.
 * const honest = Array.from({ length: 8 }, (_, i) => Float32Array.from({ length: 25 }, (_, k) => 0.1 * Math.sin(7 * i + 3 * k + 1)));
 * const backdoor = Array.from({ length: 3 }, (_, i) => Float32Array.from({ length: 25 }, (_, k) => (k % 5 === 2 ? 0.8 + 0.01 * i : 0)));
 * const { decision } = deepSightWithDecision([...honest, ...backdoor], {
 *   global, layout, predict, probeShape: [4], probes: 200, seed: 1, minClusterSize: 2, minSamples: 1,
 * });
 * console.log(decision.thresholdExceedings); // 5 for the honest clients, 1 for the backdoors
 * console.log(decision.selected);            // [0, …, 7]: the backdoor cluster is rejected
 * ```
 */
export function deepSight(updates: Updates, options: DeepSightOptions): Float32Array {
  return deepSightWithDecision(updates, options).aggregate;
}

/**
 * {@link deepSight} together with its {@link DeepSightDecision}.
 *
 * @param updates - the n client updates Δᵢ = Wᵢ − G, flat in the order of `layout`; not modified.
 * @param options - see {@link DeepSightOptions} (`global`, `layout`, `predict`, `probeShape` and
 *   `seed` or `rng` are required).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { createLayout } from 'robust-agg';
 * import { deepSightWithDecision } from 'robust-agg/tfjs';
 *
 * await tf.setBackend('cpu');
 * const layout = createLayout([
 *   { name: 'out/kernel', shape: [2, 2], kind: 'kernel' },
 *   { name: 'out/bias', shape: [2], kind: 'bias' },
 * ]);
 * const predict = (params: Float32Array, x: tf.Tensor) =>
 *   tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(params.subarray(0, 4), [2, 2])), tf.tensor1d(params.subarray(4))));
 * const updates = [Float32Array.of(0.1, 0.2, 0.2, 0.1, 0.1, 0.1), Float32Array.of(0.2, 0.1, 0.1, 0.2, 0.1, 0.1)];
 * const { aggregate, decision } = deepSightWithDecision(updates, { global: new Float32Array(6), layout, predict, probeShape: [2], probes: 50, seed: 3 });
 * console.log(decision.neups, decision.ddifs.length); // 2 × 2 NEUPs, 3 seeds × 2 clients × 2 classes
 * console.log(aggregate);
 * ```
 */
export function deepSightWithDecision(updates: Updates, options: DeepSightOptions): Aggregation<DeepSightDecision> {
  const rule = 'deepSight';
  const opts = readOptions(rule, options, [
    'global',
    'layout',
    'predict',
    'probeShape',
    'outputKernel',
    'outputBias',
    'probes',
    'seeds',
    'batchSize',
    'tau',
    'thresholdFactor',
    'minClusterSize',
    'minSamples',
    'epsilon',
    'seed',
    'rng',
    'nonFinite',
  ]);
  const probes = requireInteger(rule, 'probes', opts.probes ?? 1000, 1, 1_000_000);
  const seeds = requireInteger(rule, 'seeds', opts.seeds ?? 3, 1, 20);
  const batchSize = requireInteger(rule, 'batchSize', opts.batchSize ?? 500, 1, 100_000);
  const tau = requireNumber(rule, 'tau', opts.tau ?? 1 / 3, 0, 1);
  if (tau === 0) throw new RobustAggError('INVALID_OPTION', `${rule}: tau must be > 0, got 0`);
  const thresholdFactor = requireNumber(rule, 'thresholdFactor', opts.thresholdFactor ?? 0.01, 0, 1);
  const minClusterSize = requireInteger(rule, 'minClusterSize', opts.minClusterSize ?? 5, 2, 2 ** 31 - 1);
  const minSamples = requireInteger(rule, 'minSamples', opts.minSamples ?? 3, 1, 2 ** 31 - 1);
  const epsilon = requireNumber(rule, 'epsilon', opts.epsilon ?? 1e-6, 0, 1);
  const predict = opts.predict;
  if (typeof predict !== 'function') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: predict must be a function (params, inputs) => probabilities, got ${describeValue(predict)}`);
  }
  const probeShape = checkProbeShape(rule, opts.probeShape);
  const rng = resolveValidRng(opts, rule);
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { n, d, rows } = clients;
  if (opts.global === undefined) throw new RobustAggError('INVALID_OPTION', `${rule}: global (the model G the updates start from) is required`);
  const global = requireVector(rule, 'global', opts.global, d);
  const { kernel, bias } = outputLayer(rule, opts.layout, d, opts.outputKernel, opts.outputBias);
  const P = bias.size;
  const fanIn = kernel.shape[0];
  const m = rows.length;

  // 1. NEUPs and threshold exceedings.
  const neups = new Float64Array(m * P);
  const te = new Int32Array(m);
  const factor = Math.max(thresholdFactor, 1 / P);
  for (let r = 0; r < m; r++) {
    const x = rows[r];
    const energy = new Float64Array(P);
    for (let k = 0; k < P; k++) energy[k] = Math.abs(x[bias.offset + k]);
    for (let j = 0; j < fanIn; j++) for (let k = 0; k < P; k++) energy[k] += Math.abs(x[kernel.offset + j * P + k]);
    // Scale by the largest energy before squaring so no square overflows.
    let largest = 0;
    for (const e of energy) largest = Math.max(largest, e);
    let total = 0;
    for (let k = 0; k < P; k++) {
      const e = largest > 0 ? energy[k] / largest : 1;
      energy[k] = e * e;
      total += energy[k];
    }
    let maxNeup = 0;
    for (let k = 0; k < P; k++) {
      neups[r * P + k] = energy[k] / total;
      maxNeup = Math.max(maxNeup, neups[r * P + k]);
    }
    let count = 0;
    for (let k = 0; k < P; k++) if (neups[r * P + k] > factor * maxNeup) count++;
    te[r] = count;
  }

  // 2. DDifs on random probes.
  const ddifs = new Float64Array(seeds * m * P);
  const valid = new Array<boolean>(m).fill(true);
  const probeSize = probeShape.reduce((a, b) => a * b, 1);
  const scratch = new Float32Array(d);
  const runModel = (params: Float32Array, input: tf.Tensor, b: number, who: string): Float32Array | null => {
    const out = tf.tidy(() => {
      const y = predict(params, input);
      if (!(y instanceof tf.Tensor)) {
        throw new RobustAggError('INVALID_OPTION', `${rule}: predict must return a tf.Tensor of class probabilities, got ${describeValue(y)} for ${who}`);
      }
      if (y.rank !== 2 || y.shape[0] !== b || y.shape[1] !== P) {
        throw new RobustAggError('INVALID_OPTION', `${rule}: predict must return probabilities of shape [${b}, ${P}] (the output layer's ${P} classes), got [${y.shape.join(', ')}] for ${who}`);
      }
      return tf.cast(y, 'float32');
    });
    const values = out.dataSync() as Float32Array;
    out.dispose();
    for (const v of values) if (!(v >= 0) || !Number.isFinite(v)) return null;
    return Float32Array.from(values);
  };
  for (let s = 0; s < seeds; s++) {
    for (let startAt = 0; startAt < probes; startAt += batchSize) {
      const b = Math.min(batchSize, probes - startAt);
      const data = new Float32Array(b * probeSize);
      for (let t = 0; t < data.length; t++) data[t] = rng.next();
      const input = tf.tensor(data, [b, ...probeShape], 'float32');
      try {
        const pG = runModel(global, input, b, 'the global model');
        if (pG === null) throw new RobustAggError('INVALID_OPTION', `${rule}: predict gave non-finite or negative probabilities for the global model`);
        for (let r = 0; r < m; r++) {
          if (!valid[r]) continue;
          const x = rows[r];
          for (let k = 0; k < d; k++) scratch[k] = global[k] + x[k];
          const pI = runModel(scratch, input, b, `client ${clients.index[r]}`);
          if (pI === null) {
            valid[r] = false;
            continue;
          }
          const base = (s * m + r) * P;
          for (let t = 0; t < b; t++) for (let k = 0; k < P; k++) ddifs[base + k] += pI[t * P + k] / (pG[t * P + k] + epsilon);
        }
      } finally {
        input.dispose();
      }
    }
    for (let r = 0; r < m; r++) {
      const base = (s * m + r) * P;
      for (let k = 0; k < P; k++) ddifs[base + k] = valid[r] ? ddifs[base + k] / probes : 0;
      if (valid[r]) for (let k = 0; k < P; k++) if (!Number.isFinite(ddifs[base + k])) valid[r] = false;
    }
  }
  for (let r = 0; r < m; r++) if (!valid[r]) for (let s = 0; s < seeds; s++) ddifs.fill(0, (s * m + r) * P, (s * m + r + 1) * P);

  // 3. Ensemble clustering over the valid clients.
  const members: number[] = [];
  for (let r = 0; r < m; r++) if (valid[r]) members.push(r);
  const v = members.length;
  const hdb = { minClusterSize, minSamples };
  const cluster = (dist: Float64Array, single = false): Int32Array =>
    v >= 2 ? hdbscan(dist, { ...hdb, n: v, allowSingleCluster: single }).labels : new Int32Array(v).fill(-1);
  const cosineLabels = v >= 2 ? cluster(cosineDistances(members.map((r) => rows[r].subarray(bias.offset, bias.offset + P)))) : new Int32Array(v).fill(-1);
  const neupLabels = cluster(euclidean(members.map((r) => neups.subarray(r * P, (r + 1) * P))));
  const ddifLabels: Int32Array[] = [];
  for (let s = 0; s < seeds; s++) ddifLabels.push(cluster(euclidean(members.map((r) => ddifs.subarray((s * m + r) * P, (s * m + r + 1) * P)))));
  const merged = new Float64Array(v * v);
  for (let i = 0; i < v; i++) {
    for (let j = 0; j < v; j++) {
      if (i === j) continue;
      let ddif = 0;
      for (const l of ddifLabels) ddif += apart(l, i, j);
      merged[i * v + j] = (ddif / seeds + apart(neupLabels, i, j) + apart(cosineLabels, i, j)) / 3;
    }
  }
  const finalLabels = cluster(merged, true);

  // 4. Suspicious models and accepted clusters.
  const validTe: number[] = members.map((r) => te[r]);
  const teMedian = v > 0 ? medianOf(validTe) : 0;
  const suspicious = new Array<boolean>(m).fill(true);
  for (const r of members) suspicious[r] = te[r] <= teMedian / 2;
  const groups = new Map<string, number[]>();
  members.forEach((r, i) => {
    const key = finalLabels[i] >= 0 ? `c${finalLabels[i]}` : `o${r}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [r]);
    else g.push(r);
  });
  const accepted: number[] = [];
  for (const g of groups.values()) {
    const count = g.filter((r) => suspicious[r]).length;
    if (count < tau * g.length) accepted.push(...g);
  }
  accepted.sort((a, b) => a - b);

  // 5. Clip to the median norm and average.
  const norms = rowNorms(rows);
  const clipBound = medianOf(norms);
  const w = new Float64Array(m);
  for (const r of accepted) w[r] = (norms[r] > clipBound ? clipBound / norms[r] : 1) / accepted.length;

  const overInput = (labels: Int32Array): Int32Array => {
    const out = new Int32Array(n).fill(-2);
    members.forEach((r, i) => (out[clients.index[r]] = labels[i]));
    return out;
  };
  const teOut = new Int32Array(n).fill(-1);
  const neupOut = new Float64Array(n * P);
  const ddifOut = new Float64Array(seeds * n * P);
  for (let r = 0; r < m; r++) {
    const i = clients.index[r];
    teOut[i] = te[r];
    neupOut.set(neups.subarray(r * P, (r + 1) * P), i * P);
    for (let s = 0; s < seeds; s++) ddifOut.set(ddifs.subarray((s * m + r) * P, (s * m + r + 1) * P), (s * n + i) * P);
  }
  const suspiciousRows: number[] = [];
  for (let r = 0; r < m; r++) if (suspicious[r]) suspiciousRows.push(r);
  return {
    aggregate: combine(rows, w),
    decision: {
      rule,
      n,
      dropped: clients.dropped,
      selected: indicesOverInput(accepted, clients),
      weights: weightsOverInput(w, clients),
      clipBound,
      suspicious: indicesOverInput(suspiciousRows, clients),
      invalid: indicesOverInput(
        Array.from({ length: m }, (_, r) => r).filter((r) => !valid[r]),
        clients,
      ),
      thresholdExceedings: teOut,
      neups: neupOut,
      ddifs: ddifOut,
      classes: P,
      labels: overInput(finalLabels),
      componentLabels: { cosine: overInput(cosineLabels), neup: overInput(neupLabels), ddif: ddifLabels.map(overInput) },
    },
  };
}

/** 0 when points i and j share a cluster (label ≥ 0), 1 otherwise (an outlier is a cluster of its own). */
function apart(labels: Int32Array, i: number, j: number): number {
  return labels[i] >= 0 && labels[i] === labels[j] ? 0 : 1;
}

/** Euclidean distances between rows, n × n row-major (float64, scaled per pair against overflow). */
function euclidean(rows: readonly Float64Array[]): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let largest = 0;
      for (let k = 0; k < rows[i].length; k++) largest = Math.max(largest, Math.abs(rows[i][k] - rows[j][k]));
      let sum = 0;
      if (largest > 0) for (let k = 0; k < rows[i].length; k++) sum += ((rows[i][k] - rows[j][k]) / largest) ** 2;
      const dij = largest * Math.sqrt(sum);
      out[i * n + j] = dij;
      out[j * n + i] = dij;
    }
  }
  return out;
}

function checkProbeShape(rule: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: probeShape must be a non-empty array of integers ≥ 1 (one probe input's shape), got ${describeValue(shape)}`);
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (size > 2 ** 24) throw new RobustAggError('INVALID_OPTION', `${rule}: probeShape holds ${size} values per input, more than 2²⁴`);
  return [...(shape as number[])];
}

/** The output layer's kernel [fanIn, P] and bias [P] segments of `layout`, checked. */
function outputLayer(
  rule: string,
  layout: unknown,
  d: number,
  kernelName: unknown,
  biasName: unknown,
): { kernel: LayoutSegment; bias: LayoutSegment } {
  if (!Array.isArray(layout) || layout.length === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: layout must be a non-empty Layout (flattenWeights(model).layout or createLayout), got ${describeValue(layout)}`);
  }
  const segments = layout as LayoutSegment[];
  let total = 0;
  for (const s of segments) {
    if (s === null || typeof s !== 'object' || !Number.isInteger(s.offset) || !Number.isInteger(s.size) || s.offset !== total) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: layout must list consecutive segments (name, shape, offset, size) without gaps`);
    }
    total += s.size;
  }
  if (total !== d) throw new RobustAggError('INVALID_OPTION', `${rule}: layout covers ${total} values, the updates have d=${d}`);
  const find = (name: unknown, kind: 'kernel' | 'bias', option: string): LayoutSegment => {
    let found: LayoutSegment | undefined;
    if (name === undefined) {
      for (const s of segments) if (s.kind === kind) found = s;
      if (found === undefined) throw new RobustAggError('INVALID_OPTION', `${rule}: layout has no segment of kind '${kind}'; name the output layer with ${option}`);
    } else {
      if (typeof name !== 'string') throw new RobustAggError('INVALID_OPTION', `${rule}: ${option} must be a segment name, got ${describeValue(name)}`);
      found = segments.find((s) => s.name === name);
      if (found === undefined) throw new RobustAggError('INVALID_OPTION', `${rule}: ${option} '${name}' is not a segment of layout`);
    }
    return found;
  };
  const kernel = find(kernelName, 'kernel', 'outputKernel');
  const bias = find(biasName, 'bias', 'outputBias');
  if (kernel.shape.length !== 2 || kernel.shape[1] !== bias.size || bias.size < 1 || kernel.shape[0] * kernel.shape[1] !== kernel.size) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the output kernel '${kernel.name}' must have shape [fanIn, P] with P = the bias '${bias.name}' size ${bias.size}, got [${kernel.shape.join(', ')}]`,
    );
  }
  return { kernel, bias };
}
