// FLAME's steps that do not touch the n×d data: its options, the decision from the norms and the
// cosine distances (HDBSCAN, the median norm, the clip factors, the averaging weights), the noise
// and the decision record. `flameWithDecision` (CPU kernels) and `gpuFlame` (WebGPU kernels) both
// run them, so the two cannot drift apart; only the Gram pass and the combination differ.
import { hdbscan, type HdbscanResult } from '../clustering/hdbscan.js';
import { RobustAggError } from '../core/errors.js';
import { indicesOverInput, weightsOverInput, type FiniteClients } from '../core/finite-clients.js';
import type { Layout } from '../core/layout.js';
import { requireVector } from '../core/options.js';
import { resolveValidRng, type Rng } from '../core/random.js';
import { allEqual, normalisedClientWeights, readClientWeights, scaledClientWeights } from '../core/weights.js';
import { columnMedian } from '../kernels/column-select.js';
import { cosineDistancesFromGram, shiftedGram } from '../kernels/cosine-distances.js';
import { isFiniteVector } from '../kernels/finite.js';
import { addGaussianNoise, addSegmentNoise, requireLayoutOf } from './flame-noise.js';
import type { FlameDecision, FlameOptions } from './flame.js';

/** FLAME's options read once, with the checks that come before the clients are looked at. @internal */
export interface FlameRead {
  readonly opts: Partial<FlameOptions>;
  readonly lambda: number;
}

/** FLAME's settings once the clients' shape is known. @internal */
export interface FlameSettings {
  readonly lambda: number;
  readonly clusterOn: 'updates' | 'models';
  readonly global: Float32Array | null;
  readonly layout: Layout | undefined;
  readonly normalised: Float64Array | null;
  readonly scaled: Float64Array | null;
  readonly rng: Rng | null;
}

/** What FLAME decides from the norms and the cosine distances (indices over the finite clients). @internal */
export interface FlameChoice {
  readonly clustering: HdbscanResult | null;
  readonly localLabels: Int32Array;
  readonly medianNorm: number;
  readonly admittedLocal: number[];
  readonly clip: Float64Array;
  /** The combination weights: output before noise = Σ w[k]·rows[k]. */
  readonly w: Float64Array;
}

/** The rest of FLAME's options, checked against the clients (d, n, the finite ones). @internal */
export function flameSettings(rule: string, read: FlameRead, clients: Pick<FiniteClients, 'n' | 'd' | 'index'>): FlameSettings {
  const { opts, lambda } = read;
  const { d } = clients;
  const global = opts.global === undefined ? null : requireVector(rule, 'global', opts.global, d);
  // With G at hand, cluster the local models (the paper's Algorithm 1): see FlameOptions.clusterOn.
  const clusterOn = opts.clusterOn ?? (global === null ? 'updates' : 'models');
  if (global === null && clusterOn === 'models') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: clusterOn 'models' needs the global model (option global)`);
  }
  const layout = opts.layout === undefined ? undefined : requireLayoutOf(rule, opts.layout, d);
  const given = opts.weights === undefined ? null : readClientWeights(rule, opts.weights, clients.n);
  const normalised = given === null ? null : normalisedClientWeights(rule, given, clients.index);
  const scaled = given === null ? null : scaledClientWeights(rule, given, clients.index);
  const rng =
    lambda > 0 || opts.rng !== undefined || opts.seed !== undefined ? resolveValidRng({ seed: opts.seed, rng: opts.rng }, rule) : null;
  return { lambda, clusterOn, global, layout, normalised, scaled, rng };
}

/**
 * The norms ‖Δᵢ‖ and the cosine distances FLAME clusters, from the uncentred Gram matrix of the m
 * finite rows (with G appended as row m when clustering the models). @internal
 */
export function flameDistances(g: Float64Array, m: number, withGlobal: boolean): { norms: Float64Array; cosine: Float64Array } {
  const stride = withGlobal ? m + 1 : m;
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) norms[i] = Math.sqrt(Math.max(0, g[i * stride + i]));
  const cosine = cosineDistancesFromGram(withGlobal ? shiftedGram(g, m) : g, m);
  return { norms, cosine };
}

/**
 * FLAME's decision in client space: HDBSCAN(minClusterSize ⌊m/2⌋+1, minSamples 1,
 * allowSingleCluster) on the cosine distances, admitted = label 0, S = median norm, clip factors
 * min(1, S/‖Δ‖) and the averaging weights (1/L, or the admitted clients' weight shares). @internal
 */
export function flameDecisionFromDistances(
  rule: string,
  norms: Float64Array,
  cosine: Float64Array,
  scaled: Float64Array | null,
  index: readonly number[],
): FlameChoice {
  const m = norms.length;
  const clustering =
    m === 1 ? null : hdbscan(cosine, { minClusterSize: Math.floor(m / 2) + 1, minSamples: 1, allowSingleCluster: true });
  const localLabels = clustering === null ? Int32Array.of(0) : clustering.labels;
  const medianNorm = columnMedian(Float64Array.from(norms), 0, m);
  const admittedLocal: number[] = [];
  for (let k = 0; k < m; k++) if (localLabels[k] === 0) admittedLocal.push(k);
  const clip = new Float64Array(m);
  const w = new Float64Array(m);
  // The admitted clients' weights (equal ones: the paper's 1/L, with its exact operations).
  const share = scaled === null ? null : admittedShares(rule, scaled, admittedLocal, index);
  for (const k of admittedLocal) {
    clip[k] = norms[k] > medianNorm ? medianNorm / norms[k] : 1;
    w[k] = share === null ? clip[k] / admittedLocal.length : clip[k] * share[k];
  }
  return { clustering, localLabels, medianNorm, admittedLocal, clip, w };
}

/**
 * Adds FLAME's noise to `aggregate` in place (drawn in index order, or segment by segment with a
 * layout) and returns the decision record. Throws `INVALID_OPTION` when the noise overflows
 * float32. @internal
 */
export function finishFlame(
  rule: string,
  aggregate: Float32Array,
  clients: Pick<FiniteClients, 'n' | 'index' | 'dropped'>,
  settings: FlameSettings,
  choice: FlameChoice,
  norms: Float64Array,
  cosine: Float64Array,
): FlameDecision {
  const { lambda, layout, rng, global } = settings;
  const { medianNorm } = choice;
  const m = norms.length;
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

  const all = clients as FiniteClients;
  const labels = new Int32Array(clients.n).fill(-1);
  const inputNorms = new Float64Array(clients.n).fill(Infinity);
  for (let k = 0; k < m; k++) {
    labels[clients.index[k]] = choice.localLabels[k];
    inputNorms[clients.index[k]] = norms[k];
  }
  const admitted = indicesOverInput(choice.admittedLocal, all);
  return {
    rule,
    n: clients.n,
    dropped: clients.dropped,
    selected: admitted,
    admitted,
    weights: weightsOverInput(choice.w, all),
    ...(settings.normalised === null ? {} : { clientWeights: weightsOverInput(settings.normalised, all) }),
    labels,
    norms: inputNorms,
    medianNorm,
    clipFactors: weightsOverInput(choice.clip, all),
    clusterOn: settings.clusterOn,
    lambda,
    sigma,
    ...(segmentSigmas !== undefined ? { segmentSigmas } : {}),
    clustered: [...clients.index],
    cosineDistances: cosine,
    clustering: choice.clustering,
  };
}

/**
 * The admitted clients' shares p_b / Σ_admitted p (indexed like `scaled`, the finite clients'
 * weights), or null when they are all equal (then the unweighted 1/L applies). Throws
 * `INVALID_OPTION` when every admitted client has weight 0.
 */
function admittedShares(
  rule: string,
  scaled: Float64Array,
  admitted: readonly number[],
  index: readonly number[],
): Float64Array | null {
  const mine = admitted.map((k) => scaled[k]);
  if (allEqual(mine) && mine[0] > 0) return null;
  let total = 0;
  for (const p of mine) total += p;
  if (!(total > 0)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: every admitted client (${admitted.map((k) => index[k]).join(', ')}) has weight 0: nothing to average`,
    );
  }
  const share = new Float64Array(scaled.length);
  for (const k of admitted) share[k] = scaled[k] / total;
  return share;
}
