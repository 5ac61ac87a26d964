import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (format !== 'channelsLast') throw new Error('registerWasmConvGradients: only NHWC convolutions are supported');
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    format,
  );
}

function matMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (kernel === undefined) throw new Error('registerWasmConvGradients: the wasm backend has no BatchMatMul kernel');
  return kernel.kernelFunc({
    inputs: { a, b },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA, transposeB },
  }) as tf.TensorInfo;
}

/**
 * A batch transpose [1, r, c] → [1, c, r] by the backend's own Transpose kernel. The wasm
 * BatchMatMul is fast only without transpose flags: with transposeA or transposeB it falls off
 * XNNPACK's path and is 8–12× slower at the shapes of a small CNN's gradients (measured: a
 * 12 544 × 144 by 12 544 × 32 product in 67 ms with transposeA, 7.7 ms with the transpose
 * materialized first), so the gradient kernels transpose explicitly and multiply plainly.
 */
function transposed(backend: WasmBackendLike, t: tf.TensorInfo): tf.TensorInfo {
  const kernel = tf.getKernel('Transpose', 'wasm');
  if (kernel === undefined) throw new Error('registerWasmConvGradients: the wasm backend has no Transpose kernel');
  return kernel.kernelFunc({
    inputs: { x: t },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { perm: [0, 2, 1] },
  }) as tf.TensorInfo;
}

/** Runs one of the wasm backend's own kernels. */
function runKernel(backend: WasmBackendLike, name: string, inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`registerWasmConvGradients: the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** Stride 1, dilation 1: the input gradient is itself a convolution, run by XNNPACK's Conv2D. */
function unitStride(info: tf.backend_util.Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
}

/**
 * dx for stride 1 as a convolution of dy with the filter flipped in space and with its channel
 * axes swapped (W′[kh, kw, co, ci] = W[fh−1−kh, fw−1−kw, ci, co]), padded by fh−1−top above and
 * so that the output is H × W: dx[ih] = Σₖ dy[ih + top − k]·W[k].
 */
function inputGradByConv(backend: WasmBackendLike, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = info;
  const flipped = backend.makeOutput([fh, fw, co, ci], 'float32');
  const fv = backend.typedArrayFromHeap(flipped);
  const wv = backend.typedArrayFromHeap(filter);
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const src = ((fh - 1 - kh) * fw + (fw - 1 - kw)) * ci * co;
      const dst = (kh * fw + kw) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) fv[dst + o * ci + i] = wv[src + i * co + o];
    }
  }
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = info.inHeight - info.outHeight + fh - 1 - top;
  const right = info.inWidth - info.outWidth + fw - 1 - left;
  const out = runKernel(backend, 'Conv2D', { x: dy, filter: flipped }, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
  });
  backend.disposeData(flipped.dataId);
  return out;
}

/** Walks the (b, oh, ow) × (kh, kw, ci) patches of a convolution: visit(n·P + p, input offset or −1). */
function forEachPatch(info: tf.backend_util.Conv2DInfo, visit: (col: number, x: number, c: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let col = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh - top;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw - left;
            const x = ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth ? -1 : ((b * inHeight + ih) * inWidth + iw) * inChannels;
            visit(col, x, inChannels);
            col += inChannels;
          }
        }
      }
    }
  }
}

/** dW = colsᵀ · dy, cols the im2col matrix of x (N = B·OH·OW rows, P = kh·kw·ci columns). */
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as ConvAttrs;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, attrs);
  const n = info.batchSize * info.outHeight * info.outWidth;
  const p = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = backend.makeOutput([1, n, p], 'float32');
  const colv = backend.typedArrayFromHeap(cols); // views after the allocation: the heap may grow
  const xv = backend.typedArrayFromHeap(x);
  forEachPatch(info, (col, at, c) => {
    if (at < 0) colv.fill(0, col, col + c);
    else for (let k = 0; k < c; k++) colv[col + k] = xv[at + k];
  });
  const colsT = transposed(backend, cols);
  backend.disposeData(cols.dataId);
  const out = matMul(backend, colsT, { dataId: dy.dataId, shape: [1, n, info.outChannels], dtype: 'float32' }, false, false);
  backend.disposeData(colsT.dataId);
  return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
}

/** dx = col2im(dy · Wᵀ). */
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as ConvAttrs;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = convInfo(inputShape, filter.shape, attrs);
  if (unitStride(info)) {
    const g = inputGradByConv(backend, dy, filter, info);
    return { dataId: g.dataId, shape: [...inputShape], dtype: 'float32' };
  }
  const n = info.batchSize * info.outHeight * info.outWidth;
  const p = info.filterHeight * info.filterWidth * info.inChannels;
  const filterT = transposed(backend, { dataId: filter.dataId, shape: [1, p, info.outChannels], dtype: 'float32' });
  const cols = matMul(backend, { dataId: dy.dataId, shape: [1, n, info.outChannels], dtype: 'float32' }, filterT, false, false);
  backend.disposeData(filterT.dataId);
  const out = backend.makeOutput([...inputShape], 'float32');
  const dx = backend.typedArrayFromHeap(out);
  const colv = backend.typedArrayFromHeap(cols);
  dx.fill(0);
  forEachPatch(info, (col, at, c) => {
    if (at >= 0) for (let k = 0; k < c; k++) dx[at + k] += colv[col + k];
  });
  backend.disposeData(cols.dataId);
  return out;
}

/** Tile by block copies, innermost axis first. */
function tile(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const reps = (args.attrs as { reps: number[] }).reps;
  if (x.dtype !== 'float32') throw new Error('registerWasmConvGradients: Tile replacement handles float32 only');
  const out = backend.makeOutput(
    x.shape.map((s, i) => s * reps[i]),
    x.dtype,
  );
  let cur: Float32Array = backend.typedArrayFromHeap(x).slice();
  let inner = 1;
  for (let a = x.shape.length - 1; a >= 0; a--) {
    const block = inner * x.shape[a];
    if (reps[a] !== 1) {
      const outer = cur.length / block;
      const next = new Float32Array(cur.length * reps[a]);
      for (let o = 0; o < outer; o++) {
        const src = cur.subarray(o * block, (o + 1) * block);
        for (let r = 0; r < reps[a]; r++) next.set(src, (o * reps[a] + r) * block);
      }
      cur = next;
    }
    inner = block * reps[a];
  }
  backend.typedArrayFromHeap(out).set(cur);
  return out;
}

let registered = false;

/**
 * Makes `@tensorflow/tfjs-backend-wasm` (4.x) able to train convolutional models, so that
 * {@link finePruning} and {@link rnp} run on it. The wasm backend has no Conv2DBackpropFilter
 * kernel (training a Conv2D layer throws), and its Conv2DBackpropInput and Tile kernels are plain
 * loops. This registers, for the backend named 'wasm':
 * - Conv2DBackpropFilter: dW = colsᵀ·dy, cols the im2col matrix of the input (N = B·OH·OW rows,
 *   kh·kw·cᵢₙ columns), colsᵀ materialized by the backend's Transpose kernel and the product run
 *   by its BatchMatMul without transpose flags (XNNPACK's fast path; with the flags the same
 *   product is 8–12× slower);
 * - Conv2DBackpropInput: with stride 1 (dilation 1), dx as the convolution of dy with the
 *   spatially flipped, channel-swapped filter, run by the backend's own Conv2D (XNNPACK; about 2×
 *   faster than the product below at a small CNN's shapes); otherwise dx = col2im(dy·Wᵀ), Wᵀ
 *   materialized the same way;
 * - Tile: block copies (batch-norm gradients tile per-channel vectors to the activation shape).
 * NHWC, dilation 1, float32 — what tfjs-layers' Conv2D and BatchNormalization use. Call it once,
 * before `tf.setBackend('wasm')`; it does not import the wasm backend itself. Idempotent.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { registerWasmConvGradients, rnp } from 'robust-agg/defenses';
 *
 * registerWasmConvGradients();
 * await tf.setBackend('wasm');
 *
 * // A small CNN with a Conv2D → BatchNormalization pair (use your trained, suspect model).
 * const model = tfl.sequential({
 *   layers: [
 *     tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, useBias: false }),
 *     tfl.layers.batchNormalization(),
 *     tfl.layers.activation({ activation: 'relu' }),
 *     tfl.layers.globalAveragePooling2d({}),
 *     tfl.layers.dense({ units: 3 }),
 *   ],
 * });
 * // The defender's clean data: 48 made-up 8×8 images of 3 classes.
 * const n = 48;
 * const pixels = Float32Array.from({ length: n * 64 }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
 * const clean = { x: tf.tensor4d(pixels, [n, 8, 8, 1]), y: Int32Array.from({ length: n }, (_, i) => i % 3) };
 * const { model: repaired, report } = rnp(model, clean, { seed: 1, unlearningEpochs: 2, recoveryEpochs: 2 });
 * console.log(tf.getBackend(), report.unlearning.length, report.pruned.length); // wasm …
 * repaired.dispose();
 * ```
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  const replace = (kernelName: string, kernelFunc: (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: unknown }) => tf.TensorInfo) => {
    if (tf.getKernel(kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  };
  replace('Conv2DBackpropFilter', conv2DBackpropFilter);
  replace('Conv2DBackpropInput', conv2DBackpropInput);
  replace('Tile', tile);
  registered = true;
}
