// FLAME's steps that do not touch the n×d data: the decision from the Gram matrix (norms, cosine
// distances, HDBSCAN, the median norm, the clip factors, the averaging weights), the noise and the
// decision record (its options are read by readFlame in flame.ts). `flameWithDecision` (CPU kernels) and `gpuFlame` (WebGPU kernels) both
// run them, so the two cannot drift apart; only the Gram pass and the combination differ.
import { hdbscan, type HdbscanResult } from '../clustering/hdbscan.js';
import { RobustAggError } from '../core/errors.js';
import { indicesOverInput, weightsOverInput, type FiniteClients } from '../core/finite-clients.js';
import type { Layout } from '../core/layout.js';
import type { Rng } from '../core/random.js';
import { allEqual } from '../core/weights.js';
import { columnMedian } from '../kernels/column-select.js';
import { cosineDistancesFromGram, shiftedGram } from '../kernels/cosine-distances.js';
import { isFiniteVector } from '../kernels/finite.js';
import { addGaussianNoise, addSegmentNoise } from './flame-noise.js';
import type { FlameDecision } from './flame.js';

/**
 * FLAME's settings once the clients' shape is known. Tuples, not objects, here and below: a
 * minifier shortens neither property names nor keys, and the flame bundle has a size budget. @internal
 */
export type FlameSettings = readonly [
  lambda: number,
  clusterOn: 'updates' | 'models',
  global: Float32Array | null,
  layout: Layout | undefined,
  normalised: Float64Array | null,
  scaled: Float64Array | null,
  rng: Rng | null,
];

/**
 * What FLAME computes and decides from the Gram matrix (indices over the finite clients): the
 * norms, the cosine distances, the HDBSCAN run and its labels, S, the admitted clients, the clip
 * factors and the combination weights w (output before noise = Σ w[k]·rows[k]). @internal
 */
export type FlameChoice = readonly [
  norms: Float64Array,
  cosine: Float64Array,
  clustering: HdbscanResult | null,
  localLabels: Int32Array,
  medianNorm: number,
  admittedLocal: number[],
  clip: Float64Array,
  w: Float64Array,
];

/**
 * FLAME's decision in client space, from the uncentred Gram matrix g of the m finite rows (with G
 * appended as row m when clustering the models): the norms ‖Δᵢ‖ (its diagonal), the cosine
 * distances, HDBSCAN(minClusterSize ⌊m/2⌋+1, minSamples 1, allowSingleCluster) on them, admitted
 * = label 0, S = median norm, clip factors min(1, S/‖Δ‖) and the averaging weights (1/L, or the
 * admitted clients' weight shares from `scaled`). @internal
 */
export function flameDecisionFromGram(
  rule: string,
  g: Float64Array,
  m: number,
  withGlobal: boolean,
  scaled: Float64Array | null,
  index: readonly number[],
): FlameChoice {
  const stride = withGlobal ? m + 1 : m;
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) norms[i] = Math.sqrt(Math.max(0, g[i * stride + i]));
  const cosine = cosineDistancesFromGram(withGlobal ? shiftedGram(g, m) : g, m);
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
  return [norms, cosine, clustering, localLabels, medianNorm, admittedLocal, clip, w];
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
  [lambda, clusterOn, global, layout, normalised, , rng]: FlameSettings,
  [norms, cosine, clustering, localLabels, medianNorm, admittedLocal, clip, w]: FlameChoice,
): FlameDecision {
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
    labels[clients.index[k]] = localLabels[k];
    inputNorms[clients.index[k]] = norms[k];
  }
  const admitted = indicesOverInput(admittedLocal, all);
  return {
    rule,
    n: clients.n,
    dropped: clients.dropped,
    selected: admitted,
    admitted,
    weights: weightsOverInput(w, all),
    ...(normalised === null ? {} : { clientWeights: weightsOverInput(normalised, all) }),
    labels,
    norms: inputNorms,
    medianNorm,
    clipFactors: weightsOverInput(clip, all),
    clusterOn,
    lambda,
    sigma,
    ...(segmentSigmas !== undefined ? { segmentSigmas } : {}),
    clustered: [...clients.index],
    cosineDistances: cosine,
    clustering,
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
