import { RobustAggError } from '../core/errors.js';
import { createLayout, type Layout } from '../core/layout.js';
import { describeValue, readOptions, requireInteger } from '../core/options.js';
import { validateRng, type Rng } from '../core/random.js';
import type { Evaluation } from './train-robust.js';
import { FUSED_SAGA_UPDATE, type FusedSagaUpdate } from './saga-factored.js';
import { FLOAT32_MIN_NORMAL, flushToFloat32 } from './sampling.js';
import type { FactoredGradientOracle } from './types.js';

/** Sizes of the one-hidden-layer network p → h (tanh) → k (softmax) of {@link mlpOracle}. */
export interface MlpShape {
  /** Input features p (784 for MNIST). */
  readonly inputSize: number;
  /** Hidden tanh units h (50 in the Byrd-SAGA experiments). */
  readonly hidden: number;
  /** Classes k (10 for MNIST). */
  readonly classes: number;
}

/** Labelled samples: `features` row-major (count × inputSize), one integer label in [0, k) per row. */
export interface LabeledSet {
  /** count × inputSize feature matrix, row-major. */
  readonly features: Float32Array;
  /** Class of each row. */
  readonly labels: ArrayLike<number>;
}

/**
 * The flat parameter layout of the {@link mlpOracle} network, in TF.js Dense order so that
 * `flattenWeights` of `dense(h, tanh) → dense(k)` gives the same vector: `dense/kernel` [p, h],
 * `dense/bias` [h], `dense_1/kernel` [h, k], `dense_1/bias` [k]; d = ph + h + hk + k (39 760 for
 * 784–50–10).
 *
 * @param shape - the network's sizes: `inputSize`, `hidden` and `classes`, each an integer ≥ 1.
 * @example
 * ```ts
 * import { mlpLayout } from 'robust-agg';
 *
 * const layout = mlpLayout({ inputSize: 784, hidden: 50, classes: 10 });
 * console.log(layout.map((s) => `${s.name} at ${s.offset}`)); // …, 'dense_1/bias at 39750'
 * console.log(layout[2].offset); // 39250
 * ```
 */
export function mlpLayout(shape: MlpShape): Layout {
  const { inputSize: p, hidden: h, classes: k } = checkShape('mlpLayout', shape);
  return createLayout([
    { name: 'dense/kernel', shape: [p, h], kind: 'kernel' },
    { name: 'dense/bias', shape: [h], kind: 'bias' },
    { name: 'dense_1/kernel', shape: [h, k], kind: 'kernel' },
    { name: 'dense_1/bias', shape: [k], kind: 'bias' },
  ]);
}

/**
 * How {@link initMlp} draws the first parameters: `'glorot'` (TF.js's Dense default) or
 * `'pytorch'` (PyTorch's `nn.Linear` default).
 */
export type MlpInit = 'glorot' | 'pytorch';

/** Options of {@link initMlp}. */
export interface InitMlpOptions {
  /** The scheme; default `'glorot'`. */
  scheme?: MlpInit;
}

/**
 * Initial parameters for {@link mlpLayout}. Default `'glorot'`: Glorot-uniform kernels, U(−a, a)
 * with a = √(6/(fan_in + fan_out)) (Glorot & Bengio, AISTATS 2010; TF.js's Dense default), zero
 * biases. `'pytorch'`: PyTorch's `nn.Linear` default, kernels and biases U(−1/√fan_in, 1/√fan_in)
 * (Kaiming-uniform with a = √5), as in the Byrd-SAGA seed notebook. Kernel entries are drawn in
 * layout order, then (pytorch only) the biases of each layer after its kernel.
 *
 * @param shape - the network's sizes.
 * @param rng - the generator (e.g. `createRng(seed)`).
 * @param options - `scheme` (default `'glorot'`).
 * @example
 * ```ts
 * import { createRng, initMlp } from 'robust-agg';
 *
 * const x0 = initMlp({ inputSize: 784, hidden: 50, classes: 10 }, createRng(1));
 * const torchLike = initMlp({ inputSize: 784, hidden: 50, classes: 10 }, createRng(1), { scheme: 'pytorch' });
 * console.log(x0.length, torchLike.length); // 39760 39760
 * ```
 */
export function initMlp(shape: MlpShape, rng: Rng, options?: InitMlpOptions): Float32Array {
  const rule = 'initMlp';
  const { inputSize: p, hidden: h, classes: k } = checkShape(rule, shape);
  const draw = validateRng(rng, rule);
  const o = readOptions<InitMlpOptions>(rule, options, ['scheme']);
  const scheme = o.scheme ?? 'glorot';
  if (scheme !== 'glorot' && scheme !== 'pytorch') {
    throw new RobustAggError('INVALID_OPTION', `initMlp: scheme must be 'glorot' or 'pytorch', got ${describeValue(scheme)}`);
  }
  const x = new Float32Array(p * h + h + h * k + k);
  const o2 = p * h + h;
  const uniform = (from: number, count: number, a: number): void => {
    for (let i = 0; i < count; i++) x[from + i] = (2 * draw.next() - 1) * a;
  };
  if (scheme === 'glorot') {
    uniform(0, p * h, Math.sqrt(6 / (p + h)));
    uniform(o2, h * k, Math.sqrt(6 / (h + k)));
  } else {
    uniform(0, p * h + h, 1 / Math.sqrt(p)); // W₁ then b₁, fan_in p
    uniform(o2, h * k + k, 1 / Math.sqrt(h)); // W₂ then b₂, fan_in h
  }
  return x;
}

/**
 * The loss of {@link mlpOracle} and {@link mlpEvaluator}: `'cross-entropy'` is softmax
 * cross-entropy on the logits, −log softmax(o)_y. `'double-softmax'` is what a network ending in a
 * softmax layer fed to PyTorch's `CrossEntropyLoss` computes (the Byrd-SAGA seed notebook):
 * −log softmax(softmax(o))_y, whose gradient is at most ~1/e of the first's and vanishes as the
 * model grows confident; predictions (argmax) are the same.
 */
export type MlpLoss = 'cross-entropy' | 'double-softmax';

/** Options of {@link mlpOracle} and {@link mlpEvaluator}. */
export interface MlpOptions {
  /** The loss; default `'cross-entropy'`. */
  loss?: MlpLoss;
}

function readLoss(rule: string, options: MlpOptions | undefined): MlpLoss {
  const o = readOptions<MlpOptions>(rule, options, ['loss']);
  const loss = o.loss ?? 'cross-entropy';
  if (loss !== 'cross-entropy' && loss !== 'double-softmax') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: loss must be 'cross-entropy' or 'double-softmax', got ${describeValue(loss)}`);
  }
  return loss;
}

/** The network's samples stored sparsely (MNIST pixels are ~80 % zero), with labels. */
class SparseSamples {
  readonly start: Int32Array;
  readonly index: Int32Array;
  readonly value: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;

  constructor(rule: string, data: LabeledSet, shape: MlpShape) {
    const p = shape.inputSize;
    if (data === null || typeof data !== 'object') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: data must be an object { features, labels }, got ${describeValue(data)}`);
    }
    const features = data.features;
    const labels = data.labels;
    if (labels === null || typeof labels !== 'object' || !Number.isSafeInteger(labels.length)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: labels must be an array of class indices, got ${describeValue(labels)}`);
    }
    const count = labels.length;
    if (!(features instanceof Float32Array) || features.length !== count * p) {
      throw new RobustAggError(
        'LENGTH_MISMATCH',
        `${rule}: features must be a Float32Array of count × inputSize = ${count} × ${p}, got ${features instanceof Float32Array ? `length ${features.length}` : describeValue(features)}`,
      );
    }
    this.count = count;
    this.labels = new Int32Array(count);
    this.start = new Int32Array(count + 1);
    let nnz = 0;
    for (let i = 0; i < features.length; i++) if (features[i] !== 0) nnz++;
    this.index = new Int32Array(nnz);
    this.value = new Float32Array(nnz);
    let at = 0;
    for (let j = 0; j < count; j++) {
      const y = labels[j];
      if (!Number.isInteger(y) || y < 0 || y >= shape.classes) {
        throw new RobustAggError('INVALID_OPTION', `${rule}: label of sample ${j} must be an integer in [0, ${shape.classes}), got ${y}`);
      }
      this.labels[j] = y;
      this.start[j] = at;
      for (let i = 0; i < p; i++) {
        const v = features[j * p + i];
        if (v !== 0) {
          this.index[at] = i;
          this.value[at] = v;
          at++;
        }
      }
    }
    this.start[count] = at;
  }
}

/** Scratch buffers and the forward/backward pass of one sample. */
class MlpPass {
  readonly hAct: Float64Array;
  readonly logits: Float64Array;
  readonly delta2: Float64Array;
  readonly probs: Float64Array;
  constructor(
    readonly shape: MlpShape,
    readonly loss: MlpLoss = 'cross-entropy',
  ) {
    this.hAct = new Float64Array(shape.hidden);
    this.logits = new Float64Array(shape.classes);
    this.delta2 = new Float64Array(shape.classes);
    this.probs = new Float64Array(shape.classes);
  }

  /** Forward pass of sample j; returns its cross-entropy loss and leaves softmax − onehot in delta2. */
  forward(params: Float32Array, s: SparseSamples, j: number): { loss: number; predicted: number } {
    const { inputSize: p, hidden: h, classes: k } = this.shape;
    const z = this.hAct;
    const b1 = p * h;
    // z = b₁ + Σₑ vₑ·W₁[iₑ], five hidden units at a time in registers (2× faster than the sums in
    // z); each unit still adds its terms in the order of the sample's pixels: the same bits.
    const { index, value } = s;
    const from = s.start[j];
    const to = s.start[j + 1];
    let u = 0;
    for (; u + 5 <= h; u += 5) {
      let z0 = params[b1 + u];
      let z1 = params[b1 + u + 1];
      let z2 = params[b1 + u + 2];
      let z3 = params[b1 + u + 3];
      let z4 = params[b1 + u + 4];
      for (let e = from; e < to; e++) {
        const r = index[e] * h + u;
        const v = value[e];
        z0 += v * params[r];
        z1 += v * params[r + 1];
        z2 += v * params[r + 2];
        z3 += v * params[r + 3];
        z4 += v * params[r + 4];
      }
      z[u] = z0;
      z[u + 1] = z1;
      z[u + 2] = z2;
      z[u + 3] = z3;
      z[u + 4] = z4;
    }
    for (; u < h; u++) {
      let zu = params[b1 + u];
      for (let e = from; e < to; e++) zu += value[e] * params[index[e] * h + u];
      z[u] = zu;
    }
    for (let u = 0; u < h; u++) z[u] = Math.tanh(z[u]);
    const w2 = b1 + h;
    const b2 = w2 + h * k;
    const o = this.logits;
    for (let c = 0; c < k; c++) o[c] = params[b2 + c];
    for (let u = 0; u < h; u++) {
      const a = z[u];
      const row = w2 + u * k;
      for (let c = 0; c < k; c++) o[c] += a * params[row + c];
    }
    let max = -Infinity;
    let predicted = 0;
    for (let c = 0; c < k; c++) {
      if (o[c] > max) {
        max = o[c];
        predicted = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(o[c] - max);
    const logSum = max + Math.log(sum);
    const y = s.labels[j];
    if (this.loss === 'cross-entropy') {
      for (let c = 0; c < k; c++) this.delta2[c] = Math.exp(o[c] - logSum) - (c === y ? 1 : 0);
      return { loss: logSum - o[y], predicted };
    }
    // Double softmax: p = softmax(o), loss −log softmax(p)_y; with g = softmax(p) − onehot,
    // ∂loss/∂o = p ⊙ (g − pᵀg). p ∈ [0, 1], so its softmax needs no shift.
    const pr = this.probs;
    let sum2 = 0;
    for (let c = 0; c < k; c++) {
      pr[c] = Math.exp(o[c] - logSum);
      sum2 += Math.exp(pr[c]);
    }
    let pg = 0;
    for (let c = 0; c < k; c++) {
      const g = Math.exp(pr[c]) / sum2 - (c === y ? 1 : 0);
      this.delta2[c] = g;
      pg += pr[c] * g;
    }
    for (let c = 0; c < k; c++) this.delta2[c] = pr[c] * (this.delta2[c] - pg);
    return { loss: Math.log(sum2) - pr[y], predicted };
  }

  /** After forward: writes the code [δ1 (h), tanh activations (h), δ2 (k)] of the sample. */
  code(params: Float32Array, out: Float32Array): void {
    const { inputSize: p, hidden: h, classes: k } = this.shape;
    const w2 = p * h + h;
    for (let u = 0; u < h; u++) {
      const row = w2 + u * k;
      let back = 0;
      for (let c = 0; c < k; c++) back += params[row + c] * this.delta2[c];
      const a = this.hAct[u];
      out[u] = back * (1 - a * a);
      out[h + u] = a;
    }
    for (let c = 0; c < k; c++) out[2 * h + c] = this.delta2[c];
  }
}

/** Adds scale × the gradient a sample's code stands for to out. */
function expand(shape: MlpShape, s: SparseSamples, j: number, code: Float32Array, scale: number, out: Float64Array): void {
  const { inputSize: p, hidden: h, classes: k } = shape;
  // out[W₁ row iₑ] += (scale·vₑ)·δ₁, five units of δ₁ at a time in registers (1.6× faster); every
  // entry still receives the one product it did before: the same bits.
  const { index, value } = s;
  const from = s.start[j];
  const to = s.start[j + 1];
  let u = 0;
  for (; u + 5 <= h; u += 5) {
    const c0 = code[u];
    const c1 = code[u + 1];
    const c2 = code[u + 2];
    const c3 = code[u + 3];
    const c4 = code[u + 4];
    for (let e = from; e < to; e++) {
      const r = index[e] * h + u;
      const v = scale * value[e];
      out[r] += v * c0;
      out[r + 1] += v * c1;
      out[r + 2] += v * c2;
      out[r + 3] += v * c3;
      out[r + 4] += v * c4;
    }
  }
  for (; u < h; u++) {
    const c = code[u];
    for (let e = from; e < to; e++) out[index[e] * h + u] += scale * value[e] * c;
  }
  const b1 = p * h;
  for (let u = 0; u < h; u++) out[b1 + u] += scale * code[u];
  const w2 = b1 + h;
  for (let u = 0; u < h; u++) {
    const a = scale * code[h + u];
    const row = w2 + u * k;
    for (let c = 0; c < k; c++) out[row + c] += a * code[2 * h + c];
  }
  const b2 = w2 + h * k;
  for (let c = 0; c < k; c++) out[b2 + c] += scale * code[2 * h + c];
}

/**
 * A worker oracle for the Byrd-SAGA experiments' network p → h (tanh) → k with softmax
 * cross-entropy, f_j(x) = −log softmax(W₂ᵀ tanh(W₁ᵀa_j + b₁) + b₂)_{y_j}, written on Float32Array
 * with float64 accumulation and sparse inputs (Wu, Ling, Chen & Giannakis, IEEE TSP 2020 use
 * 784–50–10 on MNIST). It is also a {@link FactoredGradientOracle}: the code of a sample is
 * [δ₁ (h), tanh activations (h), δ₂ = softmax − onehot (k)], c = 2h + k, and
 * ∇f_j = (a_j ⊗ δ₁, δ₁, act ⊗ δ₂, δ₂) — so {@link sagaFactored} keeps 110 numbers per sample for
 * 784–50–10 instead of 39 760, and its `supportRanges` (the kernel rows of the sample's non-zero
 * pixels, then b₁, W₂, b₂) let SAGA rewrite only those coordinates of each message. Gradients equal TF.js's for the same network (see the tests).
 *
 * Cost per sample: ≈ 2·nnz(a_j)·h + 3·h·k multiply-adds. Gradient entries below the smallest normal
 * float32 (≈1.18e−38, from saturated tanh units) are returned as 0: subnormals slow every later pass
 * over the vector by two orders of magnitude.
 *
 * @param data - the worker's local samples.
 * @param shape - the network's sizes; the layout is {@link mlpLayout}.
 * @param options - `loss` (default `'cross-entropy'`; `'double-softmax'` reproduces a softmax layer
 *   fed to PyTorch's `CrossEntropyLoss`, see {@link MlpLoss}).
 * @example
 * ```ts
 * import { createRng, initMlp, mlpOracle, sagaFactored } from 'robust-agg';
 *
 * // Four samples with 3 features, two classes (a real run: 784–50–10 on MNIST).
 * const shape = { inputSize: 3, hidden: 4, classes: 2 };
 * const data = { features: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0), labels: [0, 1, 1, 0] };
 * const worker = mlpOracle(data, shape);
 * const params = initMlp(shape, createRng(1));
 * console.log(worker.gradient(params, [0, 1, 2])); // mean gradient of three samples (d = 26)
 * const est = sagaFactored(worker, { seed: 1 });
 * console.log(est.next(params));
 * ```
 */
export function mlpOracle(data: LabeledSet, shape: MlpShape, options?: MlpOptions): FactoredGradientOracle {
  const rule = 'mlpOracle';
  const sh = checkShape(rule, shape);
  const loss = readLoss(rule, options);
  const samples = new SparseSamples(rule, data, sh);
  if (samples.count === 0) throw new RobustAggError('INVALID_OPTION', 'mlpOracle: the worker has no samples');
  const d = dimensionOf(sh);
  const pass = new MlpPass(sh, loss);
  const codeSize = 2 * sh.hidden + sh.classes;
  const scratch = new Float32Array(codeSize);
  const acc = new Float64Array(d);
  const touched = new Uint8Array(sh.inputSize);
  const touchedList = new Int32Array(sh.inputSize);
  let touchedCount = 0;
  const checkParams = (params: Float32Array): void => {
    if (params.length !== d) {
      throw new RobustAggError('LENGTH_MISMATCH', `mlpOracle: params have length ${params.length}, the network has d=${d}`);
    }
  };
  const checkIndex = (j: number): void => {
    if (!Number.isInteger(j) || j < 0 || j >= samples.count) {
      throw new RobustAggError('INVALID_OPTION', `mlpOracle: sample index ${j} is outside [0, ${samples.count})`);
    }
  };
  let widest = 0;
  for (let j = 0; j < samples.count; j++) widest = Math.max(widest, samples.start[j + 1] - samples.start[j]);
  // sagaFactored's one-pass update: each term as `expand` forms it (scale·value·code, scale·code,
  // (scale·act)·δ₂), added in the order of its four calls (fresh then old, message then φ̄). Written
  // out per block (no per-coordinate closure or `had` test; the 50 messages of a Byrd-SAGA step
  // ~10 % less CPU), with the same operations in the same order.
  const code64 = new Float64Array(2 * codeSize); // fresh then old, read once as float64
  const fused: FusedSagaUpdate = (j, fresh, old, had, inv, mean, meanF32, out) => {
    const { inputSize: p, hidden: h, classes: k } = sh;
    const c = codeSize;
    const cf = code64;
    for (let u = 0; u < c; u++) {
      cf[u] = fresh[u];
      cf[c + u] = old[u];
    }
    const ninv = -inv;
    const index = samples.index;
    const values = samples.value;
    // Kernel rows of the lit pixels: q = row + u, terms value·δ₁ of fresh (and −value·δ₁ of old).
    for (let e = samples.start[j], end = samples.start[j + 1]; e < end; e++) {
      const row = index[e] * h;
      const value = values[e];
      const vfn = inv * value;
      if (had) {
        const vo = -value;
        const von = ninv * value;
        for (let u = 0; u < h; u++) {
          const q = row + u;
          const f = cf[u];
          const o = cf[c + u];
          const m0 = mean[q];
          const a = m0 + value * f + vo * o;
          const m = m0 + vfn * f + von * o;
          out[q] = Math.abs(a) < FLOAT32_MIN_NORMAL ? 0 : a;
          mean[q] = m;
          meanF32[q] = Math.abs(m) < FLOAT32_MIN_NORMAL ? 0 : m;
        }
      } else {
        for (let u = 0; u < h; u++) {
          const q = row + u;
          const f = cf[u];
          const m0 = mean[q];
          const a = m0 + value * f;
          const m = m0 + vfn * f;
          out[q] = Math.abs(a) < FLOAT32_MIN_NORMAL ? 0 : a;
          mean[q] = m;
          meanF32[q] = Math.abs(m) < FLOAT32_MIN_NORMAL ? 0 : m;
        }
      }
    }
    // b₁, W₂ and b₂: one contiguous tail, q = p·h … d.
    const b1 = p * h;
    const w2 = b1 + h;
    const b2 = w2 + h * k;
    const tail = (q: number, tf: number, to: number, tfn: number, ton: number): void => {
      const m0 = mean[q];
      let a = m0 + tf;
      let m = m0 + tfn;
      if (had) {
        a += to;
        m += ton;
      }
      out[q] = Math.abs(a) < FLOAT32_MIN_NORMAL ? 0 : a;
      mean[q] = m;
      meanF32[q] = Math.abs(m) < FLOAT32_MIN_NORMAL ? 0 : m;
    };
    for (let u = 0; u < h; u++) tail(b1 + u, cf[u], -cf[c + u], inv * cf[u], ninv * cf[c + u]);
    for (let u = 0; u < h; u++) {
      const af = cf[h + u];
      const ao = -cf[c + h + u];
      const afn = inv * cf[h + u];
      const aon = ninv * cf[c + h + u];
      const row = w2 + u * k;
      for (let q = 0; q < k; q++) tail(row + q, af * cf[2 * h + q], ao * cf[c + 2 * h + q], afn * cf[2 * h + q], aon * cf[c + 2 * h + q]);
    }
    for (let q = 0; q < k; q++) tail(b2 + q, cf[2 * h + q], -cf[c + 2 * h + q], inv * cf[2 * h + q], ninv * cf[c + 2 * h + q]);
  };
  const oracle: FactoredGradientOracle = {
    sampleCount: samples.count,
    codeSize,
    supportRangeLimit: widest + 1,
    supportRanges(j, out) {
      checkIndex(j);
      // The kernel rows of the lit pixels (adjacent pixels merged into one range), then the bias
      // b₁, W₂ and b₂, which every sample touches.
      const h = sh.hidden;
      let n = 0;
      for (let e = samples.start[j]; e < samples.start[j + 1]; e++) {
        const row = samples.index[e] * h;
        if (n > 0 && out[2 * n - 1] === row) out[2 * n - 1] = row + h;
        else {
          out[2 * n] = row;
          out[2 * n + 1] = row + h;
          n++;
        }
      }
      out[2 * n] = sh.inputSize * h;
      out[2 * n + 1] = d;
      return n + 1;
    },
    gradient(params, indices) {
      checkParams(params);
      if (indices.length === 0) throw new RobustAggError('INVALID_OPTION', 'mlpOracle: gradient needs at least one sample index');
      // float64 accumulation in a persistent scratch; only the kernel rows of pixels that some
      // sample of the batch lights up are non-zero, so only those rows are copied out and reset.
      for (const j of indices) {
        checkIndex(j);
        pass.forward(params, samples, j);
        pass.code(params, scratch);
        expand(sh, samples, j, scratch, 1 / indices.length, acc);
        for (let e = samples.start[j]; e < samples.start[j + 1]; e++) {
          const i = samples.index[e];
          if (touched[i] === 0) {
            touched[i] = 1;
            touchedList[touchedCount++] = i;
          }
        }
      }
      const out = new Float32Array(d);
      const h = sh.hidden;
      for (let t = 0; t < touchedCount; t++) {
        const row = touchedList[t] * h;
        for (let u = 0; u < h; u++) out[row + u] = flushToFloat32(acc[row + u]);
        acc.fill(0, row, row + h);
        touched[touchedList[t]] = 0;
      }
      touchedCount = 0;
      const tail = sh.inputSize * h;
      for (let k = tail; k < d; k++) out[k] = flushToFloat32(acc[k]);
      acc.fill(0, tail, d);
      return out;
    },
    code(params, j, out) {
      checkParams(params);
      checkIndex(j);
      pass.forward(params, samples, j);
      pass.code(params, out);
    },
    addGradient(j, code, scale, out) {
      checkIndex(j);
      expand(sh, samples, j, code, scale, out);
    },
  };
  // Non-enumerable: a copy such as { ...oracle, addGradient: other } must not keep the fused path.
  Object.defineProperty(oracle, FUSED_SAGA_UPDATE, { value: fused, enumerable: false });
  return oracle;
}

/**
 * Mean loss (cross-entropy, or the `loss` option's, see {@link MlpLoss}) and accuracy of the
 * {@link mlpOracle} network on a labelled set, as a function of the parameters (the set is prepared
 * once), ready for `trainRobust`'s `evaluate`.
 *
 * @param data - the labelled samples.
 * @param shape - the network's sizes.
 * @param options - `loss` (default `'cross-entropy'`).
 * @example
 * ```ts
 * import { createRng, initMlp, mlpEvaluator } from 'robust-agg';
 *
 * // Four samples with 3 features, two classes (a real run: 784–50–10 on MNIST).
 * const shape = { inputSize: 3, hidden: 4, classes: 2 };
 * const data = { features: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0), labels: [0, 1, 1, 0] };
 * const evaluate = mlpEvaluator(data, shape);
 * console.log(evaluate(initMlp(shape, createRng(1)))); // { loss: ≈0.66, accuracy: 0.5 }
 * ```
 */
export function mlpEvaluator(
  data: LabeledSet,
  shape: MlpShape,
  options?: MlpOptions,
): {
  /**
   * The mean loss and accuracy of the network on the set.
   *
   * @param params - the network's parameters (length d, layout {@link mlpLayout}); not modified.
   */
  (params: Float32Array): Required<Evaluation>;
} {
  const rule = 'mlpEvaluator';
  const sh = checkShape(rule, shape);
  const loss = readLoss(rule, options);
  const samples = new SparseSamples(rule, data, sh);
  const d = dimensionOf(sh);
  const pass = new MlpPass(sh, loss);
  return (params) => {
    if (params.length !== d) {
      throw new RobustAggError('LENGTH_MISMATCH', `mlpEvaluator: params have length ${params.length}, the network has d=${d}`);
    }
    let loss = 0;
    let correct = 0;
    for (let j = 0; j < samples.count; j++) {
      const r = pass.forward(params, samples, j);
      loss += r.loss;
      if (r.predicted === samples.labels[j]) correct++;
    }
    const n = Math.max(1, samples.count);
    return { loss: loss / n, accuracy: correct / n };
  };
}

function dimensionOf({ inputSize: p, hidden: h, classes: k }: MlpShape): number {
  return p * h + h + h * k + k;
}

/** The most parameters d = ph + h + hk + k of an {@link mlpOracle} network (2²⁸, 1 GiB of float32). */
export const MAX_MLP_PARAMETERS = 268_435_456;

/** A checked copy of the shape (each size read once), d ≤ {@link MAX_MLP_PARAMETERS}. */
function checkShape(rule: string, shape: MlpShape): MlpShape {
  if (shape === null || typeof shape !== 'object') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: shape must be an object { inputSize, hidden, classes }, got ${describeValue(shape)}`);
  }
  const checked: MlpShape = {
    inputSize: requireInteger(rule, 'inputSize', shape.inputSize, 1, MAX_MLP_PARAMETERS),
    hidden: requireInteger(rule, 'hidden', shape.hidden, 1, MAX_MLP_PARAMETERS),
    classes: requireInteger(rule, 'classes', shape.classes, 2, MAX_MLP_PARAMETERS),
  };
  const d = dimensionOf(checked);
  if (d > MAX_MLP_PARAMETERS) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: the network has d = ph + h + hk + k = ${d} parameters, more than ${MAX_MLP_PARAMETERS}`,
    );
  }
  return checked;
}
