import { hdbscan, type HdbscanResult } from '../clustering/hdbscan.js';
import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, indicesOverInput, weightsOverInput } from '../core/finite-clients.js';
import type { Layout } from '../core/layout.js';
import { describeValue, readOptions, requireNumber, requireVector, type CommonOptions } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { columnMedian } from '../kernels/column-select.js';
import { combine } from '../kernels/combine.js';
import { cosineDistancesFromGram, shiftedGram } from '../kernels/cosine-distances.js';
import { isFiniteVector } from '../kernels/finite.js';
import { gram } from '../kernels/gram.js';
import { addGaussianNoise, addSegmentNoise, requireLayoutOf } from './flame-noise.js';

/** Options of {@link flame}. */
export interface FlameOptions extends CommonOptions, RandomOptions {
  /**
   * Noise level λ: the aggregate gets N(0, (λS)²) per coordinate, S the median update norm.
   * A number in [0, 1] (noise of standard deviation up to S per coordinate; the paper uses 0.001
   * for image classification and 0.01 for text). Default 0.001; 0 disables the noise (and then no
   * seed is needed). With λ > 0, pass `seed` or `rng`.
   */
  lambda?: number;
  /**
   * What is clustered: `'updates'` (default, as the seed code: the Δᵢ) or `'models'` (the paper's
   * wording: the local models G + Δᵢ, which needs `global`). Norms and clipping always use Δᵢ.
   * Prefer `'models'` when G is at hand: in the MNIST FedAvg experiment (guide "FLAME in a FedAvg
   * loop") four colluding model-replacement attackers were admitted in 14 of 40 rounds with
   * `'updates'` and in none with `'models'`. The default stays `'updates'` to match the seed code.
   */
  clusterOn?: 'updates' | 'models';
  /** The current global model G: a finite `Float32Array` of length d. Needed for
   * `clusterOn: 'models'`; with `layout`, the per-segment noise takes its standard deviations from
   * G + aggregate. */
  global?: Float32Array;
  /**
   * Per-segment noise (the seed code's variant): each segment s that is not a bias or batch-norm
   * segment gets N(0, (λ·S·std_s)²), std_s the sample standard deviation of that segment of the
   * new parameters (G + aggregate with `global`, else the aggregate); biases and batch-norm
   * segments get none. Without a layout, every coordinate gets N(0, (λS)²). The layout must cover
   * [0, d) with consecutive segments of known kinds; it is read once.
   */
  layout?: Layout;
}

/** Decision of {@link flame}. */
export interface FlameDecision extends Decision {
  /** The admitted clients (HDBSCAN label 0), ascending. */
  readonly selected: readonly number[];
  /** Same as `selected`, under the paper's name. */
  readonly admitted: readonly number[];
  /**
   * Output before noise = Σ wᵢ Δᵢ: wᵢ = clipFactorᵢ / |admitted| for admitted clients, 0 otherwise.
   */
  readonly weights: Float64Array;
  /** HDBSCAN label of each client (0 = admitted, −1 = outlier; −1 for dropped clients too). */
  readonly labels: Int32Array;
  /** ‖Δᵢ‖ of each client (+∞ for dropped ones). */
  readonly norms: Float64Array;
  /** S: median of ‖Δᵢ‖ over the finite clients (mean of the two middle values for even counts). */
  readonly medianNorm: number;
  /** min(1, S/‖Δᵢ‖) for admitted clients, 0 for the others. */
  readonly clipFactors: Float64Array;
  /** λ as used. */
  readonly lambda: number;
  /** σ = λS, the noise standard deviation per coordinate (the base that `segmentSigmas` scale). */
  readonly sigma: number;
  /** With `layout`: σ_s = λ·S·std_s per segment (0 for biases and batch norm); otherwise absent. */
  readonly segmentSigmas?: Float64Array;
  /** Input indices of the clustered clients (the finite ones), ascending: row k of the matrices below. */
  readonly clustered: readonly number[];
  /** Cosine distances among the clustered clients, row-major m×m float64. */
  readonly cosineDistances: Float64Array;
  /** The HDBSCAN run over the clustered clients (point k = client `clustered[k]`); null when m = 1. */
  readonly clustering: HdbscanResult | null;
}

/**
 * FLAME (Nguyen et al., "FLAME: Taming backdoors in federated learning", USENIX Security 2022),
 * exact: cosine distances between the updates Δᵢ → HDBSCAN(minClusterSize ⌊m/2⌋+1, minSamples 1,
 * allowSingleCluster) with the hdbscan package's semantics → admitted = label 0 (always at least
 * ⌊m/2⌋+1 clients) → S = median ‖Δᵢ‖ over all finite clients → mean of the admitted
 * Δ_b·min(1, S/‖Δ_b‖) → + N(0, (λS)²) per coordinate, λ = 0.001 by default.
 *
 * Clients that send NaN/±Infinity are dropped first (m = finite count) and reported. m = 1: the
 * client is admitted unclipped (S is its own norm). m = 2: HDBSCAN always admits both; the larger
 * update is clipped to the mean of the two norms (no protection is possible with two clients).
 * All-zero updates: distances 1, S = 0, output 0, no noise, no division by zero.
 *
 * Options: λ ∈ [0, 1] (default 0.001), clusterOn `'updates'` | `'models'`, global (finite, length
 * d), layout, seed or rng (checked draws), nonFinite; unknown keys throw `UNKNOWN_OPTION`. The
 * output is finite: the clipped mean is a convex combination of finite updates, and when the noise
 * would overflow float32 (λ·S near 3.4e38) the call throws `INVALID_OPTION` naming λ and S instead.
 *
 * Cost: one uncentred float64 Gram pass (m²d/2 multiply-adds; norms come from its diagonal), O(m²)
 * clustering, one combine pass, one noise pass. Returns the aggregated update (add it to G).
 *
 * @example
 * ```ts
 * import { flame, flameWithDecision } from 'robust-agg';
 * const delta = flame(updates, { seed: 1 });            // λ = 0.001
 * const { decision } = flameWithDecision(updates, { lambda: 0 });
 * decision.admitted; decision.medianNorm; decision.labels;
 * ```
 */
export function flame(updates: Updates, options?: FlameOptions): Float32Array {
  return flameWithDecision(updates, options).aggregate;
}

/**
 * {@link flame} together with its {@link FlameDecision}: labels, admitted clients, S, σ, clip
 * factors, the cosine distances and the HDBSCAN run.
 *
 * @example
 * ```ts
 * const { aggregate, decision } = flameWithDecision(updates, { seed: 7, clusterOn: 'models', global });
 * console.log(decision.admitted, decision.medianNorm, decision.sigma, decision.dropped);
 * ```
 */
export function flameWithDecision(updates: Updates, options?: FlameOptions): Aggregation<FlameDecision> {
  const rule = 'flame';
  const opts = readOptions(rule, options, ['lambda', 'clusterOn', 'global', 'layout', 'seed', 'rng', 'nonFinite']);
  const lambda = requireNumber(rule, 'lambda', opts.lambda ?? 0.001, 0, 1);
  const clusterOn = opts.clusterOn ?? 'updates';
  if (clusterOn !== 'updates' && clusterOn !== 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn must be 'updates' or 'models', got ${describeValue(clusterOn)}`);
  }
  const clients = finiteClients(updates, rule, opts.nonFinite);
  const { rows, d } = clients;
  const global = opts.global === undefined ? null : requireVector(rule, 'global', opts.global, d);
  if (global === null && clusterOn === 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn 'models' needs the global model (option global)`);
  }
  const layout = opts.layout === undefined ? undefined : requireLayoutOf(rule, opts.layout, d);
  const rng =
    lambda > 0 || opts.rng !== undefined || opts.seed !== undefined ? resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule) : null;
  const m = rows.length;

  // Statistics: one uncentred Gram pass (with G appended when clustering the models).
  const withGlobal = clusterOn === 'models';
  const g = gram(withGlobal ? [...rows, global as Float32Array] : rows, null);
  const stride = withGlobal ? m + 1 : m;
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) norms[i] = Math.sqrt(Math.max(0, g[i * stride + i]));

  // Decision, in client space.
  const cosine = cosineDistancesFromGram(withGlobal ? shiftedGram(g, m) : g, m);
  const clustering =
    m === 1 ? null : hdbscan(cosine, { minClusterSize: Math.floor(m / 2) + 1, minSamples: 1, allowSingleCluster: true });
  const localLabels = clustering === null ? Int32Array.of(0) : clustering.labels;
  const medianNorm = columnMedian(Float64Array.from(norms), 0, m);
  const admittedLocal: number[] = [];
  for (let k = 0; k < m; k++) if (localLabels[k] === 0) admittedLocal.push(k);
  const clip = new Float64Array(m);
  const w = new Float64Array(m);
  for (const k of admittedLocal) {
    clip[k] = norms[k] > medianNorm ? medianNorm / norms[k] : 1;
    w[k] = clip[k] / admittedLocal.length;
  }

  // Combine, then noise.
  const aggregate = combine(rows, w);
  const sigma = lambda * medianNorm;
  let segmentSigmas: Float64Array | undefined;
  if (rng !== null && lambda > 0) {
    if (layout !== undefined) segmentSigmas = addSegmentNoise(aggregate, layout, sigma, global, rng);
    else addGaussianNoise(aggregate, sigma, rng);
    if (!isFiniteVector(aggregate)) {
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: the noise (σ = λ·S = ${lambda}·${medianNorm}) overflowed float32 in the aggregate; lower lambda (S, the median update norm, is ${medianNorm})`,
      );
    }
  } else if (layout !== undefined) {
    segmentSigmas = new Float64Array(layout.length);
  }

  const labels = new Int32Array(clients.n).fill(-1);
  const inputNorms = new Float64Array(clients.n).fill(Infinity);
  for (let k = 0; k < m; k++) {
    labels[clients.index[k]] = localLabels[k];
    inputNorms[clients.index[k]] = norms[k];
  }
  const admitted = indicesOverInput(admittedLocal, clients);
  return {
    aggregate,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: admitted,
      admitted,
      weights: weightsOverInput(w, clients),
      labels,
      norms: inputNorms,
      medianNorm,
      clipFactors: weightsOverInput(clip, clients),
      lambda,
      sigma,
      ...(segmentSigmas !== undefined ? { segmentSigmas } : {}),
      clustered: [...clients.index],
      cosineDistances: cosine,
      clustering,
    },
  };
}
