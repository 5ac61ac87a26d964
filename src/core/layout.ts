/**
 * What a segment of a flat parameter vector holds. Noise and pruning rules treat kinds differently
 * (FLAME's per-layer noise skips biases and batch-norm statistics; CLP prunes batch-norm scales).
 */
export type SegmentKind = 'kernel' | 'bias' | 'batchnorm-gamma' | 'batchnorm-beta' | 'batchnorm-statistic' | 'other';

/** One named tensor inside a flat vector: `flat.subarray(offset, offset + size)` reshaped to `shape`. */
export interface LayoutSegment {
  /** The weight's name, e.g. `'dense_1/kernel'`. */
  readonly name: string;
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** Start of the segment in the flat vector. */
  readonly offset: number;
  /** Number of values, the product of `shape`. */
  readonly size: number;
  /** Whether training updates it (batch-norm moving statistics are not trainable). */
  readonly trainable: boolean;
  /** What the segment holds. */
  readonly kind: SegmentKind;
}

/**
 * The map from a model's named tensors to ranges of a flat `Float32Array`, in order and without
 * gaps. Produced by the TF.js adapter (`flattenWeights`) or built by hand with {@link createLayout}.
 */
export type Layout = readonly LayoutSegment[];

/**
 * Builds a {@link Layout} from segment descriptions, assigning consecutive offsets.
 *
 * @param segments - the tensors in the order they appear in the flat vector: each with a `name`, a
 *   `shape` (its size is the product of the dimensions; `[]` is a scalar of size 1), an optional
 *   `kind` (default `'other'`) and an optional `trainable` flag (default true).
 * @example
 * ```ts
 * import { createLayout, layoutSize } from 'robust-agg';
 *
 * const layout = createLayout([
 *   { name: 'dense/kernel', shape: [784, 50], kind: 'kernel' },
 *   { name: 'dense/bias', shape: [50], kind: 'bias' },
 * ]);
 * console.log(layout[1].offset);   // 39200 (= 784 · 50)
 * console.log(layoutSize(layout)); // 39250
 * ```
 */
export function createLayout(
  segments: readonly { name: string; shape: readonly number[]; kind?: SegmentKind; trainable?: boolean }[],
): Layout {
  let offset = 0;
  return segments.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const segment: LayoutSegment = {
      name: s.name,
      shape: [...s.shape],
      offset,
      size,
      trainable: s.trainable ?? true,
      kind: s.kind ?? 'other',
    };
    offset += size;
    return segment;
  });
}

/**
 * Total number of values a layout describes: the length of the flat vector.
 *
 * @param layout - the layout, e.g. from {@link createLayout} or `flattenWeights`.
 */
export function layoutSize(layout: Layout): number {
  return layout.reduce((sum, s) => sum + s.size, 0);
}
