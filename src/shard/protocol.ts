import { aurorVotes } from '../aggregators/auror.js';
import { coordinateMedianWithDecision } from '../aggregators/coordinate-median.js';
import { crflNorm, crflOutput, crflSum } from '../aggregators/crfl.js';
import { checkState, flDetectorNextState, predictionError, type FlDetectorState } from '../aggregators/fl-detector.js';
import { accumulate, historyOf, largestMagnitude, scaledGram, type FoolsGoldClientId, type FoolsGoldHistory } from '../aggregators/fools-gold.js';
import { lasaLayerMean, lasaLayerStats, lasaSquaredNorm } from '../aggregators/lasa.js';
import { meamedWithDecision } from '../aggregators/meamed.js';
import { meanWithDecision } from '../aggregators/mean.js';
import { signMajorityWithDecision } from '../aggregators/sign-majority.js';
import { trimmedMeanWithDecision } from '../aggregators/trimmed-mean.js';
import { RobustAggError } from '../core/errors.js';
import { createRng } from '../core/random.js';
import { columnMedian, meanAroundMedianReducer, reduceColumns } from '../kernels/column-select.js';
import { combine } from '../kernels/combine.js';
import { lbfgsApply, lbfgsDots } from '../core/lbfgs-hvp.js';
import { isFiniteVector } from '../kernels/finite.js';
import { gram } from '../kernels/gram.js';
import { lpDistances } from '../kernels/lp-distances.js';
import { squaredDistance, squaredNorm } from '../kernels/norms.js';

/**
 * What one shard holds: columns [offset, offset + width) of every client's update, and the same
 * columns of any side vectors the rule needs (FLAME's `global`, FLTrust's `serverUpdate`, MoNNA's
 * `trusted`, centered clipping's `center`), by option name. Nothing else of the d coordinates.
 *
 * @category Sharding
 */
export interface ShardSlice {
  /** First coordinate of the shard, an integer in [0, d). */
  readonly offset: number;
  /** Length of the full updates (all shards together). */
  readonly d: number;
  /** The n clients' columns [offset, offset + width), all of the same length width ≥ 1, in client order. */
  readonly rows: readonly Float32Array[];
  /** The same columns of named side vectors (e.g. `{ serverUpdate }`), each of length width. */
  readonly vectors?: Readonly<Record<string, Float32Array>>;
  /**
   * FoolsGold's history restricted to the same columns: each client's accumulated update, of
   * length width (see {@link shardFoolsGoldHistory}). Only for `foolsGold`.
   */
  readonly history?: FoolsGoldHistory;
  /**
   * FLDetector's state restricted to the same columns: a {@link FlDetectorState} with d = width
   * (see {@link shardFlDetectorState}; serialise it with flDetectorStateToJSON). Only for
   * `flDetector`, from its second round on.
   */
  readonly flDetector?: FlDetectorState;
}

/**
 * One member of FoolsGold's history in a sharded round: its id, whether the shards hold its
 * previous sum (`previous`), and the input index of its update this round (null when absent).
 *
 * @category Sharding
 */
export interface ShardHistoryMember {
  /** The client's id. */
  readonly id: FoolsGoldClientId;
  /** Whether the history of the previous round holds this id. */
  readonly previous: boolean;
  /** Input index of this round's update, or null when the client sent none (or a non-finite one). */
  readonly client: number | null;
}

/**
 * A layout segment as the shards see it: its columns and whether LASA sparsifies it.
 *
 * @category Sharding
 */
export interface ShardSegment {
  /** First column (over all d). */
  readonly offset: number;
  /** Number of columns. */
  readonly size: number;
  /** Whether magnitudes below the client's threshold are dropped (kernel and other segments). */
  readonly sparsified: boolean;
}

/**
 * One statistic a coordinator asks every shard for. Each shard answers with one `Float64Array`
 * per ask (see {@link shardStatistics}); the answers of all shards reduce element-wise
 * ({@link reduceShardStatistics}): sums, except `lpDistances` (a p-norm of the per-shard norms).
 * `clients` lists input indices (the finite clients, ascending); the answer is over them, in that
 * order. Every ask is plain data (numbers and arrays): it survives structured clone and JSON.
 *
 * - `nonFinite`: n numbers, 1 where the client holds NaN or ±Infinity in this shard.
 * - `gram`: the m×m Gram matrix of the clients' columns (then of the named `vectors`, appended as
 *   rows), centred with the kernel's robust per-block centre (`centre: 'robust'`) or not (`'none'`).
 * - `squaredDistances`: m numbers, ‖xᵢ − t‖² over the shard, t a named vector or a client's row.
 * - `dots`: 2m + 1 numbers: ⟨xᵢ, t⟩ for each client, then ‖xᵢ‖², then ‖t‖² (t a named vector).
 * - `lpDistances`: m×m ℓp distances of the shard (p ≥ 1 or Infinity).
 * - `signCounts`: 3m numbers per client: its positives and negatives in the window
 *   [start, start + length) (the part inside the shard), and its squared norm over the shard.
 * - `subsampledGram`: the m×m robust-centred Gram of the listed coordinates (in list order).
 * - `medianDistances`: m numbers, ‖xᵢ − z‖² over the shard with z the coordinate-wise median of
 *   the listed clients.
 * - `clipDistances`: m numbers, ‖xᵢ − v‖² with v centered clipping's centre after `steps.length`
 *   replayed steps (see {@link ShardCombinePlan}).
 * - `norms`: m numbers, ‖xᵢ‖ over the shard; they reduce as ℓ2 norms (like `lpDistances`, p = 2).
 * - `squaredNorms`: m numbers, Σ xᵢ² over the shard, summed in column order.
 * - `weightedNorm`: 1 number, ‖t + Σ wᵢxᵢ‖ over the shard (t a named vector or 0); ℓ2 reduction.
 * - `aurorVotes`: m + 1 numbers: Auror's votes per client over the shard's part of the window
 *   [start, start + length), then the number of indicative coordinates there.
 * - `magnitudeHistogram`: 256·m numbers: per client, a histogram of the byte `level` (0 = the
 *   top byte) of the float32 bit patterns of |xᵢ| over the sparsified segments, among the values
 *   whose higher bytes equal the client's `prefixes` entry (a radix selection in 4 trips).
 * - `layerStats`: 3·m·L numbers: per segment and client, Σ v², the positive and the non-zero
 *   count over the values with |v| ≥ the client's threshold (LASA).
 * - `historyLargest`: K numbers: per history member, max |Hᵢ + xᵢ| over the shard (NaN when
 *   not finite); the answers reduce by maximum.
 * - `historyGram`: K×K numbers: the uncentred Gram of the members' new sums Hᵢ + xᵢ, each scaled
 *   by its `scales` entry and rounded to float32 (FoolsGold's `scaledGram`).
 * - `lbfgsDots`: 2w² + 2w numbers: FLDetector's L-BFGS dot products SᵀS, SᵀY, Sᵀv, Yᵀv over the
 *   shard (w pairs of the shard's state, v = globalModel − previousModel).
 * - `predictionErrors`: m numbers, ‖gᵢ + Bv − xᵢ‖ over the shard (gᵢ the client's previous update,
 *   Bv from the compact L-BFGS coefficients, or 0); ℓ2 reduction.
 * - `hvpNonFinite`: 1 number, how many coordinates of Bv in the shard are not finite.
 *
 * @category Sharding
 */
export type ShardAsk =
  | {
      /** Which clients hold NaN or ±Infinity in this shard. */
      readonly kind: 'nonFinite';
    }
  | {
      /** A partial Gram matrix. */
      readonly kind: 'gram';
      /** Input indices of the clients (rows), in order. */
      readonly clients: readonly number[];
      /** `'robust'`: the kernel's robust per-block centre; `'none'`: uncentred (norms, cosines). */
      readonly centre: 'robust' | 'none';
      /** Names of side vectors appended as extra rows (e.g. `['global']`). */
      readonly vectors?: readonly string[];
    }
  | {
      /** Partial squared distances to one target. */
      readonly kind: 'squaredDistances';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The target: a named side vector or one client's row. */
      readonly to:
        | {
            /** Name of the side vector. */
            readonly vector: string;
          }
        | {
            /** Input index of the client. */
            readonly client: number;
          };
    }
  | {
      /** Partial dot products with a side vector, the clients' squared norms and the vector's. */
      readonly kind: 'dots';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** Name of the side vector. */
      readonly vector: string;
    }
  | {
      /** The shard's ℓp distances between the clients. */
      readonly kind: 'lpDistances';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The norm, ≥ 1 or Infinity. */
      readonly p: number;
    }
  | {
      /** Sign counts in a window of coordinates, and squared norms. */
      readonly kind: 'signCounts';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** First coordinate of the window (over all d). */
      readonly start: number;
      /** Number of coordinates in the window. */
      readonly length: number;
    }
  | {
      /** The robust-centred Gram of a sample of coordinates. */
      readonly kind: 'subsampledGram';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The sampled coordinates (over all d), in order; each shard uses those it holds. */
      readonly columns: readonly number[];
    }
  | {
      /** Partial squared distances to the coordinate-wise median of the clients. */
      readonly kind: 'medianDistances';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
    }
  | {
      /** Partial squared distances to centered clipping's current centre. */
      readonly kind: 'clipDistances';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** Name of the side vector the centre starts from, or null for 0. */
      readonly center: string | null;
      /** The step weights so far (over `clients`), one array per iteration. */
      readonly steps: readonly (readonly number[])[];
      /** The centre's weight in each step. */
      readonly centerWeights: readonly number[];
    }
  | {
      /** Partial Euclidean norms (ℓ2 reduction). */
      readonly kind: 'norms';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
    }
  | {
      /** Partial sums of squares, in column order. */
      readonly kind: 'squaredNorms';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
    }
  | {
      /** The partial norm of a weighted sum plus a side vector (ℓ2 reduction). */
      readonly kind: 'weightedNorm';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** One weight per entry of `clients`. */
      readonly weights: readonly number[];
      /** Name of the side vector added, or null for none. */
      readonly vector: string | null;
    }
  | {
      /** Auror's per-coordinate votes. */
      readonly kind: 'aurorVotes';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** First coordinate of the feature window (over all d). */
      readonly start: number;
      /** Number of coordinates in the window. */
      readonly length: number;
      /** The gap a coordinate's split needs to be indicative. */
      readonly threshold: number;
    }
  | {
      /** One level of a per-client radix selection of |x| over the sparsified segments. */
      readonly kind: 'magnitudeHistogram';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The segments whose values take part (over all d). */
      readonly segments: readonly ShardSegment[];
      /** The byte counted: 0 (bits 24–31) to 3 (bits 0–7). */
      readonly level: number;
      /** Per client, the bytes above `level` found so far (as one integer; 0 at level 0). */
      readonly prefixes: readonly number[];
    }
  | {
      /** LASA's per-layer statistics. */
      readonly kind: 'layerStats';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The layout's segments, in order. */
      readonly segments: readonly ShardSegment[];
      /** Per client, the magnitude threshold of sparsified segments. */
      readonly thresholds: readonly number[];
    }
  | {
      /** Per history member, the largest magnitude of its new sum (maximum reduction). */
      readonly kind: 'historyLargest';
      /** The members, in history order. */
      readonly members: readonly ShardHistoryMember[];
    }
  | {
      /** The Gram matrix of the members' scaled new sums. */
      readonly kind: 'historyGram';
      /** The members, in history order. */
      readonly members: readonly ShardHistoryMember[];
      /** One power of two per member. */
      readonly scales: readonly number[];
    }
  | {
      /** FLDetector's L-BFGS dot products over the shard's state. */
      readonly kind: 'lbfgsDots';
      /** The number of pairs the shard's state must hold. */
      readonly pairs: number;
      /** The round its state must be from (`round` of the state). */
      readonly round: number;
    }
  | {
      /** FLDetector's per-client prediction errors (ℓ2 reduction). */
      readonly kind: 'predictionErrors';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** The compact L-BFGS coefficients (σ, q), or null for Bv = 0. */
      readonly hvp: {
        /** σ = yₘᵀsₘ / sₘᵀsₘ. */
        readonly sigma: number;
        /** q = M⁻¹ [σ Sᵀv; Yᵀv] (2w numbers). */
        readonly q: readonly number[];
      } | null;
      /** The round the shard's state must be from. */
      readonly round: number;
    }
  | {
      /** How many coordinates of FLDetector's Bv are not finite in the shard. */
      readonly kind: 'hvpNonFinite';
      /** σ. */
      readonly sigma: number;
      /** q (2w numbers). */
      readonly q: readonly number[];
      /** The round the shard's state must be from. */
      readonly round: number;
    };

/**
 * What every shard does with its columns once the coordinator has decided. Plain data.
 *
 * - `rule`: a coordinate-wise rule (mean, coordinateMedian, trimmedMean, meamed, signMajority)
 *   called on the shard's columns, with the globally `dropped` clients' rows replaced by NaN so
 *   every shard drops the same clients: bit for bit the single call's columns.
 * - `linear`: Σ wᵢ xᵢ over the clients with a non-zero weight (the library's combine kernel, float64
 *   accumulation; with `clients`, `weights[k]` belongs to `clients[k]`, summed in that order), plus FLAME's noise N(0, σ²) drawn from `createRng(seed)` after skipping the
 *   `offset` draws of the shards before (so one shard with the rule's seed is the single call).
 * - `copy`: the shard's columns of one client.
 * - `median`: the coordinate-wise median of the listed clients.
 * - `meanAroundMedian`: Bulyan's second stage, per coordinate the mean of the `keep` values closest
 *   to the median of the listed clients.
 * - `clipping`: centered clipping's centre, replaying v ← (centerWeight)·v + Σ stepᵢ xᵢ from the
 *   `center` vector (or 0).
 * - `crfl`: (t + Σ wᵢxᵢ)·clipFactor in float64 (t a named vector or 0), plus σ·N(0, 1) from
 *   `createRng(seed)` after skipping the shards before, rounded to float32 (CRFL's output).
 * - `lasa`: per segment, the mean over its benign clients of scaleᵢ·v for |v| ≥ thresholdᵢ
 *   (threshold 0 where the segment is not sparsified).
 *
 * @category Sharding
 */
export type ShardCombinePlan =
  | {
      /** Run a coordinate-wise rule on the shard's columns. */
      readonly kind: 'rule';
      /** The rule. */
      readonly rule: CoordinateWiseRule;
      /** The rule's options. */
      readonly options: Readonly<Record<string, unknown>>;
      /** Clients every shard drops (their rows become NaN). */
      readonly dropped: readonly number[];
    }
  | {
      /** A weighted sum of clients (and noise). */
      readonly kind: 'linear';
      /** One weight per client (or per entry of `clients`). */
      readonly weights: readonly number[];
      /** Input indices the weights belong to, in summation order (default: all clients, in order). */
      readonly clients?: readonly number[];
      /** Gaussian noise N(0, σ²) from `createRng(seed)`, drawn in coordinate order. */
      readonly noise?: {
        /** The generator's seed. */
        readonly seed: number;
        /** The standard deviation. */
        readonly sigma: number;
      };
    }
  | {
      /** A copy of one client's columns. */
      readonly kind: 'copy';
      /** Its input index. */
      readonly client: number;
    }
  | {
      /** Per coordinate, the mean of the `keep` values closest to the median. */
      readonly kind: 'meanAroundMedian';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** How many values to average. */
      readonly keep: number;
    }
  | {
      /** The coordinate-wise median of some clients. */
      readonly kind: 'median';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
    }
  | {
      /** Centered clipping's final centre. */
      readonly kind: 'clipping';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** Name of the side vector the centre starts from, or null for 0. */
      readonly center: string | null;
      /** The step weights (over `clients`), one array per iteration. */
      readonly steps: readonly (readonly number[])[];
      /** The centre's weight in each step. */
      readonly centerWeights: readonly number[];
    }
  | {
      /** CRFL's clipped, noised weighted sum. */
      readonly kind: 'crfl';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** One weight per entry of `clients`. */
      readonly weights: readonly number[];
      /** Name of the side vector added (the global model), or null. */
      readonly vector: string | null;
      /** The factor min(1, clipNorm/‖sum‖). */
      readonly clipFactor: number;
      /** Gaussian noise N(0, σ²) from `createRng(seed)`, drawn in coordinate order. */
      readonly noise?: {
        /** The generator's seed. */
        readonly seed: number;
        /** The standard deviation. */
        readonly sigma: number;
      };
    }
  | {
      /** LASA's per-layer means. */
      readonly kind: 'lasa';
      /** Input indices of the clients, in order. */
      readonly clients: readonly number[];
      /** Per client (entry of `clients`), the clipping factor. */
      readonly scale: readonly number[];
      /** Per client, the magnitude threshold of sparsified segments. */
      readonly thresholds: readonly number[];
      /** The segments, each with its benign clients (positions in `clients`, in order). */
      readonly segments: readonly (ShardSegment & {
        /** Positions in `clients` of the segment's benign clients, in summation order. */
        readonly benign: readonly number[];
      })[];
    };

/**
 * The coordinate-wise rules: no statistic crosses shards (only which clients are non-finite), and
 * each shard's output columns are the single call's, bit for bit.
 *
 * @category Sharding
 */
export type CoordinateWiseRule = 'mean' | 'coordinateMedian' | 'trimmedMean' | 'meamed' | 'signMajority';

const COORDINATE_WISE = {
  mean: meanWithDecision,
  coordinateMedian: coordinateMedianWithDecision,
  trimmedMean: trimmedMeanWithDecision,
  meamed: meamedWithDecision,
  signMajority: signMajorityWithDecision,
} as const;

/** The rule function of a coordinate-wise rule (the coordinator probes options with it). */
export function coordinateWiseRule(
  rule: CoordinateWiseRule,
): (rows: readonly Float32Array[], options: Record<string, unknown>) => { aggregate: Float32Array } {
  return COORDINATE_WISE[rule] as (rows: readonly Float32Array[], options: Record<string, unknown>) => { aggregate: Float32Array };
}

/** Checks a slice's shape once; returns its width. */
function sliceWidth(slice: ShardSlice, what: string): number {
  const rows = slice?.rows;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new RobustAggError('EMPTY_UPDATES', `${what}: the shard holds no client rows`);
  }
  const width = rows[0]?.length;
  for (let i = 0; i < rows.length; i++) {
    if (!(rows[i] instanceof Float32Array)) {
      throw new RobustAggError('NOT_FLOAT32', `${what}: client ${i}'s shard row is not a Float32Array`);
    }
    if (rows[i].length !== width) {
      throw new RobustAggError(
        'LENGTH_MISMATCH',
        `${what}: client ${i}'s shard row has ${rows[i].length} values, client 0's has ${width}`,
      );
    }
  }
  if (width === 0) throw new RobustAggError('EMPTY_VECTOR', `${what}: the shard has no columns`);
  const { offset, d } = slice;
  if (!Number.isInteger(offset) || !Number.isInteger(d) || offset < 0 || offset + width > d) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${what}: the shard's columns [${String(offset)}, ${String(offset)} + ${width}) do not lie inside [0, d=${String(d)})`,
    );
  }
  return width;
}

function sliceVector(slice: ShardSlice, name: string, width: number, what: string): Float32Array {
  const v = slice.vectors?.[name];
  if (!(v instanceof Float32Array) || v.length !== width) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${what}: the shard at offset ${slice.offset} needs its ${width} columns of the vector '${name}' in slice.vectors`,
    );
  }
  return v;
}

function pick(slice: ShardSlice, clients: readonly number[], what: string): Float32Array[] {
  return clients.map((i) => {
    const row = slice.rows[i];
    if (row === undefined) throw new RobustAggError('INVALID_OPTION', `${what}: client ${i} is not in the shard (n=${slice.rows.length})`);
    return row;
  });
}

/** Centered clipping's centre over one shard after the given steps (the single call's float32 sequence). */
function replayClipping(
  slice: ShardSlice,
  rows: Float32Array[],
  center: string | null,
  steps: readonly (readonly number[])[],
  centerWeights: readonly number[],
  width: number,
  what: string,
): Float32Array {
  let v: Float32Array = center === null ? new Float32Array(width) : Float32Array.from(sliceVector(slice, center, width, what));
  for (let t = 0; t < steps.length; t++) v = combine(rows, steps[t], v, centerWeights[t]);
  return v;
}

/**
 * A shard's answer to a round of asks: one `Float64Array` per {@link ShardAsk}, computed from the
 * shard's columns only. Pure: the same slice and asks give the same bits, so a retried or
 * duplicated shard job is harmless.
 *
 * Gram asks run the library's Gram kernel on the shard's columns, so every guarantee of
 * docs/performance.md ("Hostile inputs and the Gram kernel") holds per shard: each row gets its own
 * power-of-two scale per block, and the centre of each block is the row whose largest magnitude
 * there is the lower median (a minority cannot choose it). The shard's blocks are its own, so the
 * whole matrix is centred on one vector r pieced together from those blocks: the partial Grams
 * add up to (X − r)(X − r)ᵀ exactly in exact arithmetic, and distances do not depend on r.
 *
 * @param slice - the shard's columns of every client (and of named side vectors).
 * @param asks - what to compute (from a {@link ShardCoordinator} step).
 * @returns one array per ask.
 * @example
 * ```ts
 * import { shardStatistics } from 'robust-agg/shard';
 *
 * // Columns 2..3 of three clients' updates (d = 4).
 * const slice = { offset: 2, d: 4, rows: [Float32Array.of(1, 2), Float32Array.of(1, NaN), Float32Array.of(3, 4)] };
 * const [bad, g] = shardStatistics(slice, [
 *   { kind: 'nonFinite' },
 *   { kind: 'gram', clients: [0, 2], centre: 'none' },
 * ]);
 * console.log(bad); // Float64Array [0, 1, 0]
 * console.log(g);   // Float64Array [5, 11, 11, 25]: the partial Gram of clients 0 and 2
 * ```
 * @category Sharding
 */
export function shardStatistics(slice: ShardSlice, asks: readonly ShardAsk[]): Float64Array[] {
  const what = 'shardStatistics';
  const width = sliceWidth(slice, what);
  return asks.map((ask) => {
    switch (ask.kind) {
      case 'nonFinite':
        return Float64Array.from(slice.rows, (row) => (isFiniteVector(row) ? 0 : 1));
      case 'gram': {
        const rows = pick(slice, ask.clients, what);
        for (const name of ask.vectors ?? []) rows.push(sliceVector(slice, name, width, what));
        return gram(rows, ask.centre === 'robust' ? 'robust' : null);
      }
      case 'squaredDistances': {
        const rows = pick(slice, ask.clients, what);
        const target = 'vector' in ask.to ? sliceVector(slice, ask.to.vector, width, what) : pick(slice, [ask.to.client], what)[0];
        return Float64Array.from(rows, (row) => squaredDistance(row, target));
      }
      case 'dots': {
        const rows = pick(slice, ask.clients, what);
        const t = sliceVector(slice, ask.vector, width, what);
        const m = rows.length;
        const out = new Float64Array(2 * m + 1);
        for (let k = 0; k < m; k++) {
          const x = rows[k];
          let dot = 0;
          let norm2 = 0;
          for (let c = 0; c < width; c++) {
            const v = x[c];
            dot += v * t[c];
            norm2 += v * v;
          }
          out[k] = dot;
          out[m + k] = norm2;
        }
        let t2 = 0;
        for (let c = 0; c < width; c++) t2 += t[c] * t[c];
        out[2 * m] = t2;
        return out;
      }
      case 'lpDistances':
        return lpDistances(pick(slice, ask.clients, what), ask.p);
      case 'signCounts': {
        const rows = pick(slice, ask.clients, what);
        const out = new Float64Array(3 * rows.length);
        const from = Math.max(ask.start - slice.offset, 0);
        const to = Math.min(ask.start + ask.length - slice.offset, width);
        rows.forEach((x, k) => {
          let pos = 0;
          let neg = 0;
          for (let c = from; c < to; c++) {
            if (x[c] > 0) pos++;
            else if (x[c] < 0) neg++;
          }
          out[3 * k] = pos;
          out[3 * k + 1] = neg;
          out[3 * k + 2] = squaredNorm(x);
        });
        return out;
      }
      case 'subsampledGram': {
        const rows = pick(slice, ask.clients, what);
        const local: number[] = [];
        for (const c of ask.columns) if (c >= slice.offset && c < slice.offset + width) local.push(c - slice.offset);
        const m = rows.length;
        if (local.length === 0) return new Float64Array(m * m);
        const sub = rows.map((x) => Float32Array.from(local, (c) => x[c]));
        return gram(sub, 'robust');
      }
      case 'medianDistances': {
        const rows = pick(slice, ask.clients, what);
        const z = reduceColumns(rows, columnMedian);
        return Float64Array.from(rows, (row) => squaredDistance(row, z));
      }
      case 'clipDistances': {
        const rows = pick(slice, ask.clients, what);
        const v = replayClipping(slice, rows, ask.center, ask.steps, ask.centerWeights, width, what);
        return Float64Array.from(rows, (row) => squaredDistance(row, v));
      }
      case 'norms':
        return Float64Array.from(pick(slice, ask.clients, what), (row) => Math.sqrt(squaredNorm(row)));
      case 'squaredNorms':
        return Float64Array.from(pick(slice, ask.clients, what), (row) => lasaSquaredNorm(row, 0, width));
      case 'weightedNorm': {
        const rows = pick(slice, ask.clients, what);
        const t = ask.vector === null ? null : sliceVector(slice, ask.vector, width, what);
        return Float64Array.of(crflNorm(crflSum(rows, ask.weights, t, width)));
      }
      case 'aurorVotes': {
        const rows = pick(slice, ask.clients, what);
        const counts = new Float64Array(rows.length + 1);
        const from = Math.max(ask.start - slice.offset, 0);
        const to = Math.min(ask.start + ask.length - slice.offset, width);
        if (from < to) counts[rows.length] = aurorVotes(rows, from, to, ask.threshold, counts).length;
        return counts;
      }
      case 'magnitudeHistogram':
        return magnitudeHistogram(slice, pick(slice, ask.clients, what), ask.segments, ask.level, ask.prefixes, width);
      case 'layerStats': {
        const rows = pick(slice, ask.clients, what);
        const m = rows.length;
        const out = new Float64Array(3 * m * ask.segments.length);
        ask.segments.forEach((seg, l) => {
          const from = Math.max(seg.offset - slice.offset, 0);
          const to = Math.min(seg.offset + seg.size - slice.offset, width);
          if (from >= to) return;
          for (let k = 0; k < m; k++) lasaLayerStats(rows[k], from, to, seg.sparsified ? ask.thresholds[k] : 0, out, 3 * (l * m + k));
        });
        return out;
      }
      case 'historyLargest': {
        const previous = historyOf(what, slice.history, width);
        const scratch = new Float64Array(width);
        return Float64Array.from(ask.members, (member) => {
          const h = memberHistory(previous, member, what);
          return member.client === null
            ? largestMagnitude(h as Float64Array)
            : accumulate(h, pick(slice, [member.client], what)[0], scratch);
        });
      }
      case 'historyGram': {
        const previous = historyOf(what, slice.history, width);
        const sums = ask.members.map((member) => newSum(slice, previous, member, width, what));
        return scaledGram(sums, ask.scales, width);
      }
      case 'lbfgsDots': {
        const { state, v } = flDetectorShardState(slice, width, ask.round, what);
        if (state.modelDiffs.length !== ask.pairs) {
          throw new RobustAggError(
            'INVALID_OPTION',
            `${what}: the shard's FLDetector state holds ${state.modelDiffs.length} pairs, the coordinator's ${ask.pairs}`,
          );
        }
        return lbfgsDots(state.modelDiffs, state.aggregateDiffs, v, width);
      }
      case 'predictionErrors': {
        const { state, v } = flDetectorShardState(slice, width, ask.round, what);
        const hvp = ask.hvp === null ? new Float64Array(width) : lbfgsApply(state.modelDiffs, state.aggregateDiffs, v, ask.hvp, width);
        const previous = state.previousUpdates as readonly Float32Array[];
        return Float64Array.from(ask.clients, (i) => predictionError(previous[i], hvp, pick(slice, [i], what)[0]));
      }
      case 'hvpNonFinite': {
        const { state, v } = flDetectorShardState(slice, width, ask.round, what);
        const hvp = lbfgsApply(state.modelDiffs, state.aggregateDiffs, v, ask, width);
        let bad = 0;
        for (let k = 0; k < width; k++) if (!Number.isFinite(hvp[k])) bad++;
        return Float64Array.of(bad);
      }
      default:
        throw new RobustAggError('INVALID_OPTION', `${what}: unknown ask ${JSON.stringify((ask as { kind?: unknown }).kind)}`);
    }
  });
}

/** The shard's FLDetector state (checked, from the given round, with a previous model) and v = w − w_prev. */
function flDetectorShardState(slice: ShardSlice, width: number, round: number, what: string): { state: FlDetectorState; v: Float64Array } {
  if (slice.flDetector === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${what}: the shard at offset ${slice.offset} holds no FLDetector state (slice.flDetector)`);
  }
  const state = checkState(what, 'slice.flDetector', slice.flDetector, slice.rows.length, width);
  if (state.round !== round || state.previousModel === null) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${what}: the shard at offset ${slice.offset} holds the FLDetector state of round ${state.round}, the coordinator's is round ${round}`,
    );
  }
  const model = sliceVector(slice, 'globalModel', width, what);
  const v = new Float64Array(width);
  for (let k = 0; k < width; k++) v[k] = model[k] - state.previousModel[k];
  return { state, v };
}

/**
 * A shard's FLDetector state after the round, over its columns: the new (model, aggregate)
 * difference pair appended to its window, this round's model, aggregate and finite clients'
 * updates (the rule's own next-state step, flDetectorNextState, over width columns). The round
 * scores stay with the coordinator (the decision's `state`). Keep it with the shard for the next
 * round (slice.flDetector); flDetectorStateToJSON / flDetectorStateFromJSON serialise it.
 *
 * @param slice - the shard's columns of this round's updates, of `vectors.globalModel`, and its
 *   previous `flDetector` state (absent in the first round).
 * @param aggregate - the shard's columns of this round's aggregate ({@link shardCombine}'s output).
 * @param update - the decision's `stateUpdate`.
 * @returns the shard's new state (d = the shard's width, roundScores empty).
 * @example
 * ```ts
 * import { aggregateSharded, shardCombine, shardFlDetectorState } from 'robust-agg/shard';
 *
 * const model = Float32Array.of(0, 0, 0, 0);
 * const updates = [Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 2, 3, 5), Float32Array.of(0, 2, 3, 4)];
 * const slices = [0, 2].map((offset) => ({
 *   offset,
 *   d: 4,
 *   rows: updates.map((u) => u.slice(offset, offset + 2)),
 *   vectors: { globalModel: model.slice(offset, offset + 2) },
 * }));
 * const run = await aggregateSharded('flDetector', slices, { globalModel: true, seed: 1 });
 * const { stateUpdate } = run.decision as unknown as { stateUpdate: { window: number; clients: number[]; previousRound: number | null } };
 * const states = slices.map((s, k) => shardFlDetectorState(s, run.shards[k], stateUpdate));
 * console.log(states[1].previousAggregate); // Float32Array [3, 4]: the aggregate's columns 2..3
 * ```
 * @category Sharding
 */
export function shardFlDetectorState(
  slice: ShardSlice,
  aggregate: Float32Array,
  update: { readonly window: number; readonly clients: readonly number[]; readonly previousRound: number | null },
): FlDetectorState {
  const what = 'shardFlDetectorState';
  const width = sliceWidth(slice, what);
  if (!(aggregate instanceof Float32Array) || aggregate.length !== width) {
    throw new RobustAggError('LENGTH_MISMATCH', `${what}: aggregate must be the shard's ${width} columns of the aggregate`);
  }
  const n = slice.rows.length;
  let state: FlDetectorState | null = null;
  if (update.previousRound !== null) {
    if (slice.flDetector === undefined) {
      throw new RobustAggError('INVALID_OPTION', `${what}: the shard at offset ${slice.offset} holds no FLDetector state (slice.flDetector)`);
    }
    state = checkState(what, 'slice.flDetector', slice.flDetector, n, width);
    if (state.round !== update.previousRound) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${what}: the shard at offset ${slice.offset} holds the state of round ${state.round}, the coordinator's is round ${update.previousRound}`,
      );
    }
  }
  const model = sliceVector(slice, 'globalModel', width, what);
  return flDetectorNextState(state, model, aggregate, pick(slice, update.clients, what), update.clients, n, width, update.window, []);
}

/** A member's previous sum over the shard (undefined for a new client), checked present. */
function memberHistory(previous: Map<FoolsGoldClientId, Float64Array>, member: ShardHistoryMember, what: string): Float64Array | undefined {
  const h = previous.get(member.id);
  if (member.previous && h === undefined) {
    throw new RobustAggError('INVALID_OPTION', `${what}: the shard at this offset holds no history for client ${String(member.id)} (slice.history)`);
  }
  if (!member.previous && member.client === null) {
    throw new RobustAggError('INVALID_OPTION', `${what}: history member ${String(member.id)} has neither a previous sum nor an update`);
  }
  return member.previous ? h : undefined;
}

/** A member's sum after this round over the shard: H + x (a copy of x for a new client, H when absent). */
function newSum(slice: ShardSlice, previous: Map<FoolsGoldClientId, Float64Array>, member: ShardHistoryMember, width: number, what: string): Float64Array {
  const h = memberHistory(previous, member, what);
  if (member.client === null) return h as Float64Array;
  const out = new Float64Array(width);
  accumulate(h, pick(slice, [member.client], what)[0], out);
  return out;
}

const BITS_VIEW = new Uint32Array(1);
const FLOAT_VIEW = new Float32Array(BITS_VIEW.buffer);

/** The float32 bit pattern of |v| (v a float32 value). */
function magnitudeBits(v: number): number {
  FLOAT_VIEW[0] = v;
  return BITS_VIEW[0] & 0x7fffffff;
}

/**
 * The float32 value of a bit pattern (for the coordinator of a radix selection).
 *
 * @internal
 */
export function floatOfBits(bits: number): number {
  BITS_VIEW[0] = bits;
  return FLOAT_VIEW[0];
}

function magnitudeHistogram(
  slice: ShardSlice,
  rows: Float32Array[],
  segments: readonly ShardSegment[],
  level: number,
  prefixes: readonly number[],
  width: number,
): Float64Array {
  if (!Number.isInteger(level) || level < 0 || level > 3) {
    throw new RobustAggError('INVALID_OPTION', `shardStatistics: magnitudeHistogram level must be 0, 1, 2 or 3, got ${String(level)}`);
  }
  const m = rows.length;
  const out = new Float64Array(256 * m);
  const shift = 24 - 8 * level;
  for (const seg of segments) {
    if (!seg.sparsified) continue;
    const from = Math.max(seg.offset - slice.offset, 0);
    const to = Math.min(seg.offset + seg.size - slice.offset, width);
    for (let k = 0; k < m; k++) {
      const x = rows[k];
      const prefix = prefixes[k];
      const base = 256 * k;
      for (let c = from; c < to; c++) {
        const bits = magnitudeBits(x[c]);
        if (level > 0 && bits >>> (shift + 8) !== prefix) continue;
        out[base + ((bits >>> shift) & 255)]++;
      }
    }
  }
  return out;
}

/**
 * A shard's FoolsGold history after the round: each member's sum over the shard's columns,
 * Hᵢ + xᵢ for the members that sent an update (a copy of xᵢ for new clients), the previous sum
 * for the others, in the members' order (the `historyMembers` of the sharded decision). The
 * slice's history is not modified. Keep it with the shard for the next round (slice.history).
 *
 * @param slice - the shard's columns of this round's updates, with its `history` (absent in the first round).
 * @param members - the decision's `historyMembers`.
 * @returns the shard's new history: a `Map` from client id to a `Float64Array` of length width.
 * @example
 * ```ts
 * import { aggregateSharded, shardFoolsGoldHistory } from 'robust-agg/shard';
 *
 * const updates = [Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0), Float32Array.of(-1, -1, 2), Float32Array.of(-1, -1, 2)];
 * const slices = [0, 2].map((offset) => ({ offset, d: 3, rows: updates.map((u) => u.slice(offset, offset + 2)) }));
 * const run = await aggregateSharded('foolsGold', slices);
 * const histories = slices.map((s) => shardFoolsGoldHistory(s, (run.decision as unknown as { historyMembers: [] }).historyMembers));
 * console.log(histories[1].sums.get(2)); // Float64Array [2]: client 2's sum over column 2
 * ```
 * @category Sharding
 */
export function shardFoolsGoldHistory(slice: ShardSlice, members: readonly ShardHistoryMember[]): FoolsGoldHistory {
  const what = 'shardFoolsGoldHistory';
  const width = sliceWidth(slice, what);
  const previous = historyOf(what, slice.history, width);
  if (!Array.isArray(members)) throw new RobustAggError('INVALID_OPTION', `${what}: members must be the decision's historyMembers`);
  const sums = new Map<FoolsGoldClientId, Float64Array>();
  for (const member of members) sums.set(member.id, newSum(slice, previous, member, width, what));
  return { sums };
}

/**
 * Reduces the shards' answers to one round of asks: element-wise sums of the small arrays, except
 * `lpDistances`, `norms`, `weightedNorm` and `predictionErrors`, whose per-shard ℓp norms combine
 * as (Σₛ dₛᵖ)^(1/p) (p = 2 for the last three; the maximum for p = ∞), scaled by the largest shard
 * value so no power overflows, and `historyLargest`, reduced by maximum (NaN wins). The order of the shards does not
 * matter beyond float64 rounding.
 *
 * @param asks - the round's asks.
 * @param parts - `parts[s]` is shard s's answer ({@link shardStatistics}).
 * @returns one reduced array per ask.
 * @example
 * ```ts
 * import { reduceShardStatistics } from 'robust-agg/shard';
 *
 * const asks = [{ kind: 'nonFinite' }] as const;
 * console.log(reduceShardStatistics(asks, [[Float64Array.of(0, 1)], [Float64Array.of(0, 1)]])); // [Float64Array [0, 2]]
 * ```
 * @category Sharding
 */
export function reduceShardStatistics(
  asks: readonly ShardAsk[],
  parts: readonly (readonly Float64Array[])[],
): Float64Array[] {
  if (parts.length === 0) throw new RobustAggError('EMPTY_UPDATES', 'reduceShardStatistics: no shard answered');
  return asks.map((ask, a) => {
    const first = parts[0][a];
    for (let s = 0; s < parts.length; s++) {
      if (!(parts[s][a] instanceof Float64Array) || parts[s][a].length !== first.length) {
        throw new RobustAggError(
          'LENGTH_MISMATCH',
          `reduceShardStatistics: shard ${s}'s answer to ask ${a} (${ask.kind}) has the wrong length`,
        );
      }
    }
    const out = new Float64Array(first.length);
    if (ask.kind === 'historyLargest') {
      for (let t = 0; t < out.length; t++) {
        let top = 0;
        for (const part of parts) {
          const v = part[a][t];
          if (!(v <= top)) top = v; // NaN sticks
          if (Number.isNaN(top)) break;
        }
        out[t] = top;
      }
      return out;
    }
    if (ask.kind === 'lpDistances' || ask.kind === 'norms' || ask.kind === 'weightedNorm' || ask.kind === 'predictionErrors') {
      const p = ask.kind === 'lpDistances' ? ask.p : 2;
      for (let t = 0; t < out.length; t++) {
        let top = 0;
        for (const part of parts) if (part[a][t] > top) top = part[a][t];
        if (top === 0 || p === Infinity) {
          out[t] = top;
          continue;
        }
        let s = 0;
        for (const part of parts) s += p === 1 ? part[a][t] / top : Math.pow(part[a][t] / top, p);
        out[t] = top * (p === 1 ? s : Math.pow(s, 1 / p));
      }
      return out;
    }
    for (const part of parts) {
      const v = part[a];
      for (let t = 0; t < out.length; t++) out[t] += v[t];
    }
    return out;
  });
}

/**
 * A shard's output columns given the coordinator's {@link ShardCombinePlan}: columns
 * [offset, offset + width) of the aggregate. Pure (the noise is seeded), so a retried job writes
 * the same bits.
 *
 * @param slice - the shard's columns of every client (and of named side vectors).
 * @param plan - the coordinator's plan (the `done` step of a {@link ShardCoordinator}).
 * @returns the aggregate's columns of this shard, a new `Float32Array` of length width.
 * @example
 * ```ts
 * import { shardCombine } from 'robust-agg/shard';
 *
 * const slice = { offset: 0, d: 2, rows: [Float32Array.of(1, 2), Float32Array.of(3, 6)] };
 * console.log(shardCombine(slice, { kind: 'linear', weights: [0.5, 0.5] })); // Float32Array [2, 4]
 * ```
 * @category Sharding
 */
export function shardCombine(slice: ShardSlice, plan: ShardCombinePlan): Float32Array {
  const what = 'shardCombine';
  const width = sliceWidth(slice, what);
  switch (plan.kind) {
    case 'rule': {
      const fn = COORDINATE_WISE[plan.rule] as (rows: readonly Float32Array[], o: unknown) => { aggregate: Float32Array };
      if (fn === undefined) throw new RobustAggError('INVALID_OPTION', `${what}: ${String(plan.rule)} is not a coordinate-wise rule`);
      const dropped = new Set(plan.dropped);
      const nan = dropped.size > 0 ? new Float32Array(width).fill(NaN) : null;
      const rows = slice.rows.map((row, i) => (dropped.has(i) ? (nan as Float32Array) : row));
      return fn(rows, plan.options).aggregate;
    }
    case 'linear': {
      const rows: Float32Array[] = [];
      const w: number[] = [];
      plan.weights.forEach((wi, k) => {
        if (wi !== 0) {
          rows.push(pick(slice, [plan.clients === undefined ? k : plan.clients[k]], what)[0]);
          w.push(wi);
        }
      });
      const out = rows.length > 0 ? combine(rows, w) : new Float32Array(width);
      if (plan.noise !== undefined && plan.noise.sigma !== 0) {
        const { seed, sigma } = plan.noise;
        const rng = createRng(seed);
        for (let k = 0; k < slice.offset; k++) rng.gaussian();
        for (let k = 0; k < width; k++) out[k] += sigma * rng.gaussian();
        if (!isFiniteVector(out)) {
          throw new RobustAggError(
            'INVALID_OPTION',
            `flame: the noise (σ = ${sigma}) overflowed float32 in the aggregate's columns from ${slice.offset}; lower lambda`,
          );
        }
      }
      return out;
    }
    case 'copy':
      return Float32Array.from(pick(slice, [plan.client], what)[0]);
    case 'meanAroundMedian':
      return reduceColumns(pick(slice, plan.clients, what), meanAroundMedianReducer(plan.keep));
    case 'median':
      return reduceColumns(pick(slice, plan.clients, what), columnMedian);
    case 'clipping':
      return replayClipping(
        slice,
        pick(slice, plan.clients, what),
        plan.center,
        plan.steps,
        plan.centerWeights,
        width,
        what,
      );
    case 'crfl': {
      const rows = pick(slice, plan.clients, what);
      const t = plan.vector === null ? null : sliceVector(slice, plan.vector, width, what);
      const acc = crflSum(rows, plan.weights, t, width);
      const sigma = plan.noise?.sigma ?? 0;
      let rng: { gaussian(): number } | null = null;
      if (plan.noise !== undefined && sigma > 0) {
        const r = createRng(plan.noise.seed);
        for (let k = 0; k < slice.offset; k++) r.gaussian();
        rng = r;
      }
      return crflOutput(acc, plan.clipFactor, sigma, rng);
    }
    case 'lasa': {
      const rows = pick(slice, plan.clients, what);
      const out = new Float32Array(width);
      for (const seg of plan.segments) {
        const from = Math.max(seg.offset - slice.offset, 0);
        const to = Math.min(seg.offset + seg.size - slice.offset, width);
        if (from < to) lasaLayerMean(rows, seg.benign, plan.thresholds, plan.scale, seg.sparsified, from, to, out, from);
      }
      return out;
    }
    default:
      throw new RobustAggError('INVALID_OPTION', `${what}: unknown plan ${JSON.stringify((plan as { kind?: unknown }).kind)}`);
  }
}
