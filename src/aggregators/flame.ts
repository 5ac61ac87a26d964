import type { HdbscanResult } from '../clustering/hdbscan.js';
import type { Aggregation, Decision } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { finiteClients, type FiniteClients } from '../core/finite-clients.js';
import type { Layout } from '../core/layout.js';
import { describeValue, readOptions, requireNumber, requireVector, type CommonOptions, type NonFinitePolicy } from '../core/options.js';
import { resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { normalisedClientWeights, readClientWeights, scaledClientWeights } from '../core/weights.js';
import { combine } from '../kernels/combine.js';
import { gram } from '../kernels/gram.js';
import { finishFlame, flameDecisionFromGram, type FlameSettings } from './flame-decision.js';
import { requireLayoutOf } from './flame-noise.js';

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
   * What is clustered. Default: `'models'` when `global` is given, `'updates'` otherwise; an
   * explicit value wins (`'models'` without `global` throws `INVALID_OPTION`). Norms, S and the
   * clipping always use the updates Δᵢ; only the cosine distances, hence the admitted cluster, change.
   *
   * - `'models'` (the paper, Algorithm 1: HDBSCAN over the local models Wᵢ = G + Δᵢ): distances
   *   dᵢⱼ = 1 − cos(G + Δᵢ, G + Δⱼ). When ‖Δ‖ ≪ ‖G‖ (any trained model),
   *   dᵢⱼ ≈ ‖P(Δᵢ − Δⱼ)‖² / (2‖G‖²), P the projection orthogonal to G: a squared Euclidean
   *   distance between the updates, so an update scaled up by model replacement sits far from
   *   the honest ones even when it points their way, and joins the majority last.
   * - `'updates'` (the seed code's sketch: HDBSCAN over the flattened Δᵢ): dᵢⱼ = 1 − cos(Δᵢ, Δⱼ)
   *   ignores norms. Colluders trained on the same poisoned task are much closer to each other
   *   than honest clients are, and when honest updates are nearly orthogonal to each other (small
   *   shards, a converged model) the colluders' group often lies inside the first majority that
   *   single linkage assembles.
   *
   * Measured (docs/results/flame-backdoor.md: FedAvg on MNIST, 20 clients per round, 4
   * model-replacement attackers with γ = 5 in each of 40 rounds after a 20-round warm-up, MLP with
   * 101 770 parameters, seed 1): `'updates'` admitted 56 of the 160 attacker submissions, with
   * backdoor accuracy up to 26.7 %; `'models'` admitted none, backdoor accuracy ≤ 0.72 % (as
   * without attack) at 90.6 % main accuracy against 90.75 % without attack. Mean cosine distances
   * of the updates there: honest pairs 0.97, attacker pairs 0.36; of the models, the nearest
   * attacker–honest pair was 67–114× farther apart than the median honest pair.
   */
  clusterOn?: 'updates' | 'models';
  /**
   * The current global model G: a finite `Float32Array` of length d. Giving it makes `'models'` the
   * default of `clusterOn` (needed for `clusterOn: 'models'`); with `layout`, the per-segment noise
   * takes its standard deviations from G + aggregate. Read, never modified.
   */
  global?: Float32Array;
  /**
   * Per-segment noise (the seed code's variant): each segment s that is not a bias or batch-norm
   * segment gets N(0, (λ·S·std_s)²), std_s the sample standard deviation of that segment of the
   * new parameters (G + aggregate with `global`, else the aggregate); biases and batch-norm
   * segments get none. Without a layout, every coordinate gets N(0, (λS)²). The layout must cover
   * [0, d) with consecutive segments of known kinds; it is read once.
   */
  layout?: Layout;
  /**
   * One weight per client (e.g. local sample counts nᵢ): an array-like of n finite numbers ≥ 0,
   * not all 0 over the finite clients, read once; clients dropped as non-finite lose theirs, the
   * rest are normalised to sum to 1 (as {@link mean} does). They weight the average of the
   * admitted, clipped updates only (see {@link flame}); clustering, S and the noise stay per
   * client. Default: equal weights (the paper's 1/L). Equal weights give the unweighted result,
   * bit for bit.
   */
  weights?: ArrayLike<number>;
}

/** Decision of {@link flame}. */
export interface FlameDecision extends Decision {
  /** The admitted clients (HDBSCAN label 0), ascending. */
  readonly selected: readonly number[];
  /** Same as `selected`, under the paper's name. */
  readonly admitted: readonly number[];
  /**
   * Output before noise = Σ wᵢ Δᵢ: wᵢ = clipFactorᵢ / |admitted| for admitted clients (with
   * `weights`: clipFactorᵢ·pᵢ / Σ_admitted p, p the client weights), 0 otherwise.
   */
  readonly weights: Float64Array;
  /**
   * The normalised client weights applied (sum 1 over the finite clients, 0 for dropped ones);
   * present only when `weights` was given.
   */
  readonly clientWeights?: Float64Array;
  /** HDBSCAN label of each client (0 = admitted, −1 = outlier; −1 for dropped clients too). */
  readonly labels: Int32Array;
  /** ‖Δᵢ‖ of each client (+∞ for dropped ones). */
  readonly norms: Float64Array;
  /** S: median of ‖Δᵢ‖ over the finite clients (mean of the two middle values for even counts). */
  readonly medianNorm: number;
  /** min(1, S/‖Δᵢ‖) for admitted clients, 0 for the others. */
  readonly clipFactors: Float64Array;
  /** What was clustered: `'models'` (G + Δᵢ) or `'updates'` (Δᵢ), after the default was applied. */
  readonly clusterOn: 'updates' | 'models';
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
 * exact: cosine distances between the local models G + Δᵢ (when `global` is given; the paper's
 * Algorithm 1) or between the updates Δᵢ (without it; the seed code) → HDBSCAN(minClusterSize
 * ⌊m/2⌋+1, minSamples 1, allowSingleCluster) with the hdbscan package's semantics → admitted =
 * label 0 (always at least ⌊m/2⌋+1 clients) → S = median ‖Δᵢ‖ over all finite clients → mean of
 * the admitted Δ_b·min(1, S/‖Δ_b‖) → + N(0, (λS)²) per coordinate, λ = 0.001 by default.
 *
 * Pass `global` whenever you have it: clustering the models rejects scaled-up (model-replacement)
 * updates that clustering the updates admits (in our MNIST FedAvg experiment, 0 against 56 of 160
 * attacker submissions; see {@link FlameOptions.clusterOn} for the math and the measurement).
 *
 * Clients that send NaN/±Infinity are dropped first (m = finite count) and reported. m = 1: the
 * client is admitted unclipped (S is its own norm). m = 2: HDBSCAN always admits both; the larger
 * update is clipped to the mean of the two norms (no protection is possible with two clients).
 * All-zero updates (clustering the updates): distances 1, S = 0, output 0, no noise, no division
 * by zero.
 *
 * **Client weights** (`weights`, e.g. sample counts nᵢ, normalised to pᵢ over the finite
 * clients). The paper's Algorithm 1 averages the L admitted, clipped models with equal weights
 * (G ← Σ_l W_l^c / L), while its FedAvg background weights local models by nᵢ/n. With `weights`
 * the FedAvg weights enter at that averaging step only:
 * out = Σ_{b admitted} p_b·Δ_b·min(1, S/‖Δ_b‖) / Σ_{b admitted} p_b (+ noise). The clustering, S
 * (the median norm over clients) and the noise stay unweighted, so a weight can neither buy
 * admission nor move the clipping bound. Throws `INVALID_OPTION` when every admitted client has
 * weight 0.
 *
 * **Weight liars.** A client's weight is its word. A rejected client gains nothing by lying. An
 * admitted one that claims nearly all the weight makes the output its own clipped update (norm
 * ≤ S, the direction its own) instead of 1/L of it: the clustering and the clipping bound the
 * damage, the averaging no longer dilutes it. Cap or verify sample counts before passing them.
 *
 * Options: λ ∈ [0, 1] (default 0.001), clusterOn `'updates'` | `'models'` (default `'models'`
 * with `global`, else `'updates'`), global (finite, length d), layout, seed or rng (checked
 * draws), weights, nonFinite; unknown keys throw `UNKNOWN_OPTION`. The output is finite: the clipped mean
 * is a convex combination of finite updates, and when the noise would overflow float32 (λ·S near
 * 3.4e38) the call throws `INVALID_OPTION` naming λ and S instead.
 *
 * Cost: one uncentred float64 Gram pass (m²d/2 multiply-adds, G as one more row when clustering
 * the models; norms come from its diagonal), O(m²) clustering, one combine pass, one noise pass.
 * Returns the aggregated update (add it to G).
 *
 * @param updates - the n client updates Δᵢ = Wᵢ − G, each a `Float32Array` of the same length d;
 *   not modified. Clients holding NaN or ±Infinity are dropped (or throw, see `nonFinite`).
 * @param options - see {@link FlameOptions}: `seed` or `rng` (required while λ > 0), `lambda`
 *   (default 0.001, in [0, 1]), `global` (G; makes `clusterOn` default to `'models'`), `clusterOn`,
 *   `layout`, `weights` (one finite weight ≥ 0 per client, for the average of the admitted
 *   updates; default equal), `nonFinite`.
 * @returns the aggregated update: the mean of the admitted, clipped updates plus N(0, (λS)²) noise.
 *
 * @example
 * ```ts
 * import { flame, flameWithDecision } from 'robust-agg';
 *
 * // The global model G and this round's updates Δᵢ = Lᵢ − G: 8 honest clients, 2 boosted colluders.
 * const d = 50;
 * const global = Float32Array.from({ length: d }, (_, k) => Math.cos(k));
 * const updates = Array.from({ length: 10 }, (_, i) =>
 *   Float32Array.from({ length: d }, (_, k) => (i < 8 ? 0.01 * Math.sin(k + i) : 0.05 * Math.sin(3 * k))),
 * );
 * const round = 7;
 *
 * const delta = flame(updates, { seed: round, global }); // λ = 0.001; clusters the models G + Δᵢ
 * global.forEach((g, k) => (global[k] = g + delta[k])); // FedAvg step, η = 1
 *
 * const { decision } = flameWithDecision(updates, { lambda: 0 }); // no G: clusters the Δᵢ
 * console.log(decision.clusterOn, decision.admitted, decision.medianNorm);
 *
 * // Sample counts weight the average of the admitted, clipped updates (clustering and S unchanged).
 * const samples = [600, 500, 400, 300, 300, 200, 200, 100, 100, 100];
 * console.log(flame(updates, { seed: round, global, weights: samples }).length);
 * ```
 */
export function flame(updates: Updates, options?: FlameOptions): Float32Array {
  return flameWithDecision(updates, options).aggregate;
}

/**
 * {@link flame} together with its {@link FlameDecision}: labels, admitted clients, S, σ, clip
 * factors, the cosine distances and the HDBSCAN run.
 *
 * @param updates - the n client updates Δᵢ, as for {@link flame}.
 * @param options - as for {@link flame}.
 * @returns `{ aggregate, decision }`: the output of {@link flame} and the {@link FlameDecision}
 *   behind it (admitted clients, labels, S, σ, clip factors, weights, the clustering).
 *
 * @example
 * ```ts
 * import { flameWithDecision } from 'robust-agg';
 *
 * const d = 50;
 * const global = Float32Array.from({ length: d }, (_, k) => Math.cos(k));
 * const updates = Array.from({ length: 10 }, (_, i) =>
 *   Float32Array.from({ length: d }, (_, k) => (i < 8 ? 0.01 * Math.sin(k + i) : 0.05 * Math.sin(3 * k))),
 * );
 *
 * const { aggregate, decision } = flameWithDecision(updates, { seed: 7, global }); // clusterOn 'models'
 * console.log(decision.clusterOn, decision.admitted, decision.medianNorm, decision.sigma, decision.dropped);
 * const byUpdates = flameWithDecision(updates, { seed: 7, global, clusterOn: 'updates' }); // the seed code's choice
 * console.log(byUpdates.decision.admitted, aggregate.length);
 * ```
 */
export function flameWithDecision(updates: Updates, options?: FlameOptions): Aggregation<FlameDecision> {
  const rule = 'flame';
  const [clients, settings] = readFlame(rule, options, (nonFinite) => finiteClients(updates, rule, nonFinite));
  const { rows } = clients;
  // One uncentred Gram pass (with G appended when clustering the models), then the decision in
  // client space (flame-decision.ts, shared with gpuFlame), combine, then noise.
  const withGlobal = settings[1] === 'models';
  const choice = flameDecisionFromGram(rule, gram(withGlobal ? [...rows, settings[2] as Float32Array] : rows, null), rows.length, withGlobal, settings[5], clients.index);
  const aggregate = combine(rows, choice[7]);
  return { aggregate, decision: finishFlame(rule, aggregate, clients, settings, choice) };
}

/**
 * Reads FLAME's options once and checks them in the rule's order: λ and `clusterOn`, then the
 * clients (`clientsOf`, given the `nonFinite` policy), then G, the layout, the weights and the
 * generator against them. Returns the clients and the settings. Shared by `flameWithDecision` and
 * `gpuFlame`. @internal
 */
export function readFlame<C extends Pick<FiniteClients, 'n' | 'd' | 'index'>>(
  rule: string,
  options: FlameOptions | undefined,
  clientsOf: (nonFinite: NonFinitePolicy | undefined) => C,
): [C, FlameSettings] {
  const opts = readOptions(rule, options, ['lambda', 'clusterOn', 'global', 'layout', 'seed', 'rng', 'weights', 'nonFinite']);
  const lambda = requireNumber(rule, 'lambda', opts.lambda ?? 0.001, 0, 1);
  const explicitClusterOn = opts.clusterOn;
  if (explicitClusterOn !== undefined && explicitClusterOn !== 'updates' && explicitClusterOn !== 'models') {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: clusterOn must be 'updates' or 'models', got ${describeValue(explicitClusterOn)}`,
    );
  }
  const clients = clientsOf(opts.nonFinite);
  const { d } = clients;
  const global = opts.global === undefined ? null : requireVector(rule, 'global', opts.global, d);
  // With G at hand, cluster the local models (the paper's Algorithm 1): see FlameOptions.clusterOn.
  const clusterOn = explicitClusterOn ?? (global === null ? 'updates' : 'models');
  if (global === null && clusterOn === 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn 'models' needs the global model (option global)`);
  }
  const layout = opts.layout === undefined ? undefined : requireLayoutOf(rule, opts.layout, d);
  const given = opts.weights === undefined ? null : readClientWeights(rule, opts.weights, clients.n);
  const normalised = given === null ? null : normalisedClientWeights(rule, given, clients.index);
  const scaled = given === null ? null : scaledClientWeights(rule, given, clients.index);
  const rng =
    lambda > 0 || opts.rng !== undefined || opts.seed !== undefined ? resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule) : null;
  return [clients, [lambda, clusterOn, global, layout, normalised, scaled, rng]];
}
