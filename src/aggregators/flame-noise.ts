import { RobustAggError } from '../core/errors.js';
import type { Layout, LayoutSegment, SegmentKind } from '../core/layout.js';
import { describeValue } from '../core/options.js';
import type { Rng } from '../core/random.js';

/** Segment kinds that FLAME's per-segment noise leaves alone (the seed code skips biases and batch norm). */
const NOISELESS_KINDS: ReadonlySet<SegmentKind> = new Set<SegmentKind>([
  'bias',
  'batchnorm-gamma',
  'batchnorm-beta',
  'batchnorm-statistic',
]);

/** Adds N(0, σ²) to every value of `out` in place, drawing in index order. Nothing is drawn when σ = 0. */
export function addGaussianNoise(out: Float32Array, sigma: number, rng: Rng): void {
  if (sigma === 0) return;
  for (let k = 0; k < out.length; k++) out[k] += sigma * rng.gaussian();
}

/** The kinds a layout segment may have. */
const SEGMENT_KINDS: ReadonlySet<string> = new Set<SegmentKind>([
  'kernel',
  'bias',
  'batchnorm-gamma',
  'batchnorm-beta',
  'batchnorm-statistic',
  'other',
]);

/**
 * Checks that a layout covers [0, d) with consecutive segments, so that per-segment noise touches
 * every value exactly once, and returns a snapshot of it (each segment's name, offset, size and
 * kind read once: what was checked is what runs). Throws `INVALID_OPTION` naming the first bad
 * segment.
 */
export function requireLayoutOf(rule: string, layout: Layout, d: number): Layout {
  if (!Array.isArray(layout)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: layout must be an array of segments, got ${describeValue(layout)}`);
  }
  const count = layout.length;
  const out: LayoutSegment[] = [];
  let offset = 0;
  for (let s = 0; s < count; s++) {
    const seg: unknown = layout[s];
    if (seg === null || typeof seg !== 'object') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: layout segment ${s} must be an object, got ${describeValue(seg)}`);
    }
    const { name, shape, offset: start, size, trainable, kind } = seg as LayoutSegment;
    if (start !== offset || !Number.isInteger(size) || size < 0) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: layout segment ${s} ('${String(name)}') starts at ${describeValue(start)} with size ${describeValue(size)}; expected offset ${offset}`,
      );
    }
    if (!SEGMENT_KINDS.has(kind)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: layout segment ${s} ('${String(name)}') has unknown kind ${describeValue(kind)}`);
    }
    out.push({ name, shape, offset: start, size, trainable, kind });
    offset += size;
  }
  if (offset !== d) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: layout covers ${offset} values, the updates have d=${d}`);
  }
  return out;
}

/**
 * FLAME's per-segment noise (the seed code's variant): for every segment whose kind is not a bias
 * or batch-norm kind, σ_s = base · std_s, where std_s is the sample standard deviation (n − 1 in
 * the denominator, as `torch.std`) of the segment's parameters `reference[s] + out[s]` (or of
 * `out[s]` alone when `reference` is null), taken before any noise is added; a segment of one value
 * has std 0. Noise is drawn segment by segment in layout order. Returns σ_s per segment (0 for
 * skipped ones). Writes into `out`.
 */
export function addSegmentNoise(
  out: Float32Array,
  layout: Layout,
  base: number,
  reference: Float32Array | null,
  rng: Rng,
): Float64Array {
  const sigmas = new Float64Array(layout.length);
  for (let s = 0; s < layout.length; s++) {
    const seg = layout[s];
    if (NOISELESS_KINDS.has(seg.kind) || seg.size === 0) continue;
    sigmas[s] = base * segmentStd(out, reference, seg.offset, seg.size);
  }
  for (let s = 0; s < layout.length; s++) {
    const sigma = sigmas[s];
    if (sigma === 0) continue;
    const seg = layout[s];
    for (let k = seg.offset; k < seg.offset + seg.size; k++) out[k] += sigma * rng.gaussian();
  }
  return sigmas;
}

/** Sample standard deviation of (reference + x) over [offset, offset + size), two-pass in float64. */
function segmentStd(x: Float32Array, reference: Float32Array | null, offset: number, size: number): number {
  if (size < 2) return 0;
  const value = (k: number): number => (reference === null ? x[k] : reference[k] + x[k]);
  let sum = 0;
  for (let k = offset; k < offset + size; k++) sum += value(k);
  const mean = sum / size;
  let sq = 0;
  for (let k = offset; k < offset + size; k++) {
    const u = value(k) - mean;
    sq += u * u;
  }
  return Math.sqrt(sq / (size - 1));
}
