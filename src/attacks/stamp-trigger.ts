import { RobustAggError } from '../core/errors.js';
import { describeValue, readOptions, requireInteger, requireNumber } from '../core/options.js';

/** Typed arrays that can hold a batch of images. */
export type ImageArray = Float32Array | Float64Array | Uint8Array | Uint8ClampedArray | Uint16Array | Int32Array;

/** Which corner of the image the trigger patch sits in. */
export type TriggerCorner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** Options of {@link stampTrigger}. */
export interface StampTriggerOptions {
  /** Image height H in pixels: an integer ≥ 1 (H·W·C must divide the batch length). */
  height: number;
  /** Image width W in pixels: an integer ≥ 1. */
  width: number;
  /** Channels C per pixel: an integer ≥ 1. Default 1. */
  channels?: number;
  /** Memory layout of the batch: `'NHWC'` (TF.js, default) or `'NCHW'` (PyTorch). */
  layout?: 'NHWC' | 'NCHW';
  /** Side k of the square patch: an integer ≥ 1 with k + margin ≤ min(H, W). Default 3. */
  size?: number;
  /** Corner of the patch. Default `'bottom-right'` (BadNets). */
  corner?: TriggerCorner;
  /** Pixels left between the patch and the two image borders at its corner: an integer ≥ 0. Default 0. */
  margin?: number;
  /**
   * The patch: `'solid'` (every pixel `value`, default), `'checkerboard'` (`value` where row + column
   * is even, `off` elsewhere), or explicit values: k·k numbers in row-major order (the same for every
   * channel) or k·k·C numbers ordered (row, column, channel).
   */
  pattern?: 'solid' | 'checkerboard' | ArrayLike<number>;
  /**
   * Value of an "on" pixel. Default 1 (images scaled to [0, 1]; pass 255 for 8-bit images). Every
   * patch value must be finite and fit the batch's type: an integer in the type's range for
   * integer arrays, a value that stays finite in float32 for a `Float32Array` (else `INVALID_OPTION`).
   */
  value?: number;
  /** Value of an "off" checkerboard pixel. Default 0. Same range as `value`. */
  off?: number;
  /** Which images of the batch to stamp: an array of integers in [0, N). Default: all of them. */
  images?: readonly number[];
}

/**
 * BadNets trigger (Gu, Dolan-Gavitt & Garg, "BadNets: identifying vulnerabilities in the machine
 * learning model supply chain", 2017): overwrites a k×k patch at a corner of every image of a
 * batch (or of the images listed in `images`) with a fixed pattern. The batch is a flat typed
 * array of N·H·W·C values in `NHWC` or `NCHW` layout (N is inferred). Returns a new array of the
 * same type; `batch` is not modified.
 * Defaults: k = 3, bottom-right corner, margin 0, solid pattern of value 1, NHWC, C = 1.
 *
 * @typeParam T - the batch's type; the result has the same type.
 * @param batch - N images as one flat typed array of N·H·W·C values (N ≥ 1) in the given layout;
 *   not modified.
 * @param options - see {@link StampTriggerOptions}: `height` and `width` (required, integers ≥ 1),
 *   `channels` (default 1), `layout` (default `'NHWC'`), `size` (default 3), `corner` (default
 *   `'bottom-right'`), `margin` (default 0), `pattern` (default `'solid'`), `value` (default 1),
 *   `off` (default 0), `images` (default: all).
 * @returns a new array of the same type and length with the patch written into the chosen images.
 * @example
 * ```ts
 * import { stampTrigger } from 'robust-agg';
 *
 * // Two 4×4 grey-scale images in [0, 1], all zero: a white 2×2 square in the bottom-right corner.
 * const digits = new Float32Array(2 * 4 * 4);
 * const poisoned = stampTrigger(digits, { height: 4, width: 4, size: 2 });
 * console.log(poisoned.subarray(0, 16)); // rows [0,0,0,0], [0,0,0,0], [0,0,1,1], [0,0,1,1]
 *
 * // One 8-bit RGB image of 6×6 pixels in NCHW (PyTorch) layout: a 4×4 checkerboard one pixel
 * // away from the top-left corner, in every channel.
 * const rgb = new Uint8Array(3 * 6 * 6).fill(128);
 * const stamped = stampTrigger(rgb, { height: 6, width: 6, channels: 3, layout: 'NCHW', size: 4,
 *   corner: 'top-left', margin: 1, pattern: 'checkerboard', value: 255 });
 * // The red channel (the first 6·6 values), row by row:
 * for (let y = 0; y < 6; y++) console.log(stamped.subarray(y * 6, y * 6 + 6).join(' '));
 * // 128 128 128 128 128 128
 * // 128 255 0 255 0 128
 * // 128 0 255 0 255 128
 * // 128 255 0 255 0 128
 * // 128 0 255 0 255 128
 * // 128 128 128 128 128 128
 * ```
 */
export function stampTrigger<T extends ImageArray>(batch: T, options: StampTriggerOptions): T {
  const rule = 'stampTrigger';
  const kind = Object.prototype.toString.call(batch).slice(8, -1);
  if (!ArrayBuffer.isView(batch) || !IMAGE_TYPES.includes(kind)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: batch must be a ${IMAGE_TYPES.join(', ')}, got ${describeValue(batch)}`,
    );
  }
  const o = readOptions<StampTriggerOptions>(rule, options, STAMP_KEYS);
  const h = requireInteger(rule, 'height', o.height as number, 1);
  const w = requireInteger(rule, 'width', o.width as number, 1);
  const c = requireInteger(rule, 'channels', o.channels ?? 1, 1);
  const layout = o.layout ?? 'NHWC';
  if (layout !== 'NHWC' && layout !== 'NCHW') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: layout must be 'NHWC' or 'NCHW', got ${describeValue(layout)}`);
  }
  const k = requireInteger(rule, 'size', o.size ?? 3, 1);
  const margin = requireInteger(rule, 'margin', o.margin ?? 0, 0);
  if (k + margin > h || k + margin > w) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: size + margin must fit the image, got size=${k}, margin=${margin}, image ${h}×${w}`,
    );
  }
  const corner = o.corner ?? 'bottom-right';
  if (!(CORNERS as readonly unknown[]).includes(corner)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: unknown corner ${describeValue(corner)}`);
  }
  const value = requireNumber(rule, 'value', o.value ?? 1);
  const off = requireNumber(rule, 'off', o.off ?? 0);
  const pixels = h * w * c;
  if (batch.length === 0 || batch.length % pixels !== 0) {
    throw new RobustAggError(
      'LENGTH_MISMATCH',
      `${rule}: batch length ${batch.length} is not a positive multiple of H·W·C = ${pixels}`,
    );
  }
  const count = batch.length / pixels;
  const patch = patchValues(o.pattern ?? 'solid', k, c, value, off, rule);
  checkFits(rule, batch, patch);
  const top = corner.startsWith('top') ? margin : h - margin - k;
  const left = corner.endsWith('left') ? margin : w - margin - k;
  const images = o.images;
  if (images !== undefined && !Array.isArray(images)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: images must be an array of image indices`);
  }
  const targets = images ?? Array.from({ length: count }, (_, i) => i);
  const out = batch.slice() as T;
  for (let t = 0; t < targets.length; t++) {
    const img = requireInteger(rule, `images[${t}]`, targets[t], 0, count - 1);
    for (let r = 0; r < k; r++) {
      for (let col = 0; col < k; col++) {
        const y = top + r;
        const x = left + col;
        for (let ch = 0; ch < c; ch++) {
          const at =
            layout === 'NHWC' ? ((img * h + y) * w + x) * c + ch : ((img * c + ch) * h + y) * w + x;
          out[at] = patch[(r * k + col) * c + ch];
        }
      }
    }
  }
  return out;
}

const STAMP_KEYS = [
  'height',
  'width',
  'channels',
  'layout',
  'size',
  'corner',
  'margin',
  'pattern',
  'value',
  'off',
  'images',
] as const;

const IMAGE_TYPES = ['Float32Array', 'Float64Array', 'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int32Array'];

const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;

/** Throws unless every patch value is stored unchanged (integer arrays) or finite (float arrays). */
function checkFits(rule: string, batch: ImageArray, patch: Float64Array): void {
  const probe = new (batch.constructor as new (n: number) => ImageArray)(1);
  const float = probe instanceof Float32Array || probe instanceof Float64Array;
  for (let p = 0; p < patch.length; p++) {
    probe[0] = patch[p];
    const ok = float ? Number.isFinite(probe[0]) : probe[0] === patch[p];
    if (!ok) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: patch value ${patch[p]} does not fit a ${Object.prototype.toString.call(batch).slice(8, -1)} (check value, off and pattern)`,
      );
    }
  }
}

/** The patch as k·k·C values in (row, column, channel) order. */
function patchValues(
  pattern: NonNullable<StampTriggerOptions['pattern']>,
  k: number,
  c: number,
  value: number,
  off: number,
  rule: string,
): Float64Array {
  const out = new Float64Array(k * k * c);
  if (pattern === 'solid' || pattern === 'checkerboard') {
    for (let r = 0; r < k; r++) {
      for (let col = 0; col < k; col++) {
        const v = pattern === 'solid' || (r + col) % 2 === 0 ? value : off;
        for (let ch = 0; ch < c; ch++) out[(r * k + col) * c + ch] = v;
      }
    }
    return out;
  }
  if (typeof pattern !== 'object' || pattern === null || !Number.isSafeInteger(pattern.length)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: pattern must be 'solid', 'checkerboard' or an array of values`);
  }
  const perChannel = pattern.length === k * k * c;
  if (!perChannel && pattern.length !== k * k) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: pattern must hold k·k = ${k * k} or k·k·C = ${k * k * c} values, got ${pattern.length}`,
    );
  }
  for (let p = 0; p < k * k; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = perChannel ? pattern[p * c + ch] : pattern[p];
      out[p * c + ch] = requireNumber(rule, 'pattern[…]', v);
    }
  }
  return out;
}
