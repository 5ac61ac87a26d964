import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, remainingByzantine, requireClients, weightsOverInput } from '../core/finite-clients.js';
import { readOptions, type CommonOptions } from '../core/options.js';
import { validateUpdates, type Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { finiteClientsGram, gram } from '../kernels/gram.js';
import { largestEigenpair } from './dnc.js';

/** Options of {@link caf}. Unknown keys throw `UNKNOWN_OPTION`. */
export interface CafOptions extends CommonOptions {
  /** Declared number of Byzantine clients f: an integer ≥ 0 with n ≥ 2f+1. */
  f: number;
}

/** Decision of {@link caf}. */
export interface CafDecision extends Decision {
  /** Output = Σ wᵢ xᵢ: the normalised filter weights cᵢ/Σc of the returned mean (they sum to 1). */
  readonly weights: Float64Array;
  /**
   * λ_max of the weighted covariance at the returned mean (0 when its weighted rows coincide; NaN
   * when no iteration ran, f' = 0).
   */
  readonly largestEigenvalue: number;
  /** Filter iterations run (0 when f' = 0: the output is then the plain mean). */
  readonly iterations: number;
}

/**
 * CAF, the covariance-bound agnostic filter (Allouah, Guerraoui & Stephan, "Towards trustworthy
 * federated learning with untrusted participants", ICML 2025, Algorithm 2), a spectral filter that
 * needs no bound on the honest covariance. Start from weights cᵢ = 1; while Σᵢ cᵢ > n − 2f:
 * μ_c = Σ cᵢxᵢ/Σ c, Σ_c = Σ cᵢ(xᵢ − μ_c)(xᵢ − μ_c)ᵀ/Σ c with top eigenpair (λ, v),
 * τᵢ = ⟨xᵢ − μ_c, v⟩², cᵢ ← cᵢ·(1 − τᵢ/max τ). Return the μ_c whose λ was the smallest.
 *
 * Our reading, where the description leaves room (we could not consult the paper's full text, so
 * this follows the algorithm as ByzFL documents it; see docs/choosing-an-aggregator.md):
 * - λ and v are exact (a full symmetric eigen-decomposition of an n×n matrix), not one power-iteration step
 *   from a random start as in ByzFL: the rule is deterministic and needs no seed.
 * - max τ is taken over clients whose weight is still positive, so each iteration zeroes at least
 *   one of them and the loop ends after at most n iterations (a zero-weight outlier far away
 *   would otherwise dominate max τ and stall the filter).
 * - The candidates are the means evaluated at the start of each iteration (as ByzFL); with f' = 0
 *   no iteration runs and the output is the plain mean. The first smallest λ wins ties. If λ = 0
 *   the weighted rows coincide: that mean is returned at once.
 * Non-finite clients are dropped and count against f (the loop runs while Σ c > n' − 2f' on the
 * n' finite rows).
 *
 * Hostile numbers: every quantity is float64 from a Gram matrix centred on a reference no
 * minority can choose (`'robust'`), so finite float32 updates up to ±3.4·10³⁸ (or a sparse 10³⁰
 * blinder, at row 0 or anywhere) give finite eigenpairs; such a client dominates λ and τ and is
 * zeroed at once, exactly (cᵢ = 0), so it drops out of later means. The output is a convex
 * combination of the finite updates (finite, inside their per-coordinate range); with f' such
 * clients it is a weighted mean of the honest ones (tested on both kernels). Identical clients
 * give λ = 0 and their plain mean.
 *
 * In client space: with Y the rows minus μ_c and D = diag(c), the non-zero spectrum of Σ_c is that
 * of D^½ Y Yᵀ D^½ / Σc (n×n), Y Yᵀ follows from the centred Gram matrix, and
 * τᵢ = ((Y Yᵀ D^½ u)ᵢ)² / (λ Σc) for the top eigenvector u. Cost: one Gram pass (n²d/2; on the
 * WebAssembly kernels it is also the finiteness check), at most 2f' iterations of O(n³), one
 * combine pass.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link CafOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `nonFinite` (default `'drop'`).
 * @returns the weighted mean μ_c with the smallest λ, a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { caf } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * console.log(caf(updates, { f: 2 })); // close to the honest clients' mean
 * ```
 */
export function caf(updates: Updates, options: CafOptions): Float32Array {
  return cafWithDecision(updates, options).aggregate;
}

/**
 * {@link caf} together with its {@link CafDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link CafOptions}: `f` (required, an integer ≥ 0 with n ≥ 2f+1),
 *   `nonFinite` (default `'drop'`).
 * @example
 * ```ts
 * import { cafWithDecision } from 'robust-agg';
 *
 * // Seven clients, d = 3: five honest ones near (1, −1, 0.5) and two attackers.
 * const updates = [
 *   Float32Array.of(1.0, -1.0, 0.5),
 *   Float32Array.of(1.1, -0.9, 0.4),
 *   Float32Array.of(0.9, -1.1, 0.6),
 *   Float32Array.of(1.0, -0.9, 0.5),
 *   Float32Array.of(1.1, -1.0, 0.4),
 *   Float32Array.of(20, 20, 20),
 *   Float32Array.of(-20, 20, -20),
 * ];
 * const { decision } = cafWithDecision(updates, { f: 2 });
 * console.log(decision.weights);           // 0 for both attackers (and here one honest client)
 * console.log(decision.largestEigenvalue); // λ_max at the returned mean: small
 * console.log(decision.iterations);
 * ```
 */
export function cafWithDecision(updates: Updates, options: CafOptions): Aggregation<CafDecision> {
  const rule = 'caf';
  const opts = readOptions(rule, options, ['f', 'nonFinite']);
  const f = opts.f as number;
  // The Gram pass doubles as the finiteness check (finiteClientsGram) when the client count check
  // passes with all n clients; otherwise the separate finiteness pass runs first and the call fails
  // before any Gram pass, with today's errors.
  const { n } = validateUpdates(updates, rule);
  const fused = Number.isInteger(f) && f >= 0 && n >= 2 * f + 1;
  const { clients, g: fusedGram } = fused
    ? finiteClientsGram(updates, rule, opts.nonFinite, 'robust')
    : { clients: finiteClients(updates, rule, opts.nonFinite), g: null };
  requireClients(rule, clients.n, f, 2, 1);
  const rows = clients.rows;
  const m = rows.length;
  const fLeft = remainingByzantine(f, clients);
  const threshold = m - 2 * fLeft;
  const g = m > 1 ? (fusedGram ?? gram(rows, 'robust')) : new Float64Array(1);

  const { best, bestLambda, iterations } = cafFilter(g, m, threshold);
  return {
    aggregate: combine(rows, best),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(best, clients),
      largestEigenvalue: iterations === 0 ? NaN : bestLambda,
      iterations,
    },
  };
}

/**
 * CAF's filter in client space: from the centred Gram matrix g (m×m) of the finite clients, the
 * spectral filtering loop (weights c, down-weighted along the top eigenvector of the weighted
 * covariance, until Σc ≤ threshold = m − 2f). Returns the weights of the smallest top eigenvalue
 * seen, that eigenvalue and the iteration count. Shared with the sharded coordinator.
 *
 * @internal
 */
export function cafFilter(g: Float64Array, m: number, threshold: number): { best: Float64Array; bestLambda: number; iterations: number } {
  const c = new Float64Array(m).fill(1);
  let best = new Float64Array(m).fill(1 / m);
  let bestLambda = Infinity;
  let iterations = 0;
  let total = m;
  while (total > threshold) {
    iterations++;
    const w = new Float64Array(m);
    for (let i = 0; i < m; i++) w[i] = c[i] / total;
    // K = Y Yᵀ for Y = rows − μ_c, from the centred Gram: K = G − (Gw)1ᵀ − 1(Gw)ᵀ + wᵀGw.
    const gw = new Float64Array(m);
    let wgw = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += g[i * m + j] * w[j];
      gw[i] = s;
      wgw += w[i] * s;
    }
    const k = new Float64Array(m * m);
    const root = new Float64Array(m);
    for (let i = 0; i < m; i++) root[i] = Math.sqrt(c[i]);
    const scaled = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const kij = g[i * m + j] - gw[i] - gw[j] + wgw;
        k[i * m + j] = kij;
        scaled[i * m + j] = (root[i] * root[j] * kij) / total;
      }
    }
    const { value, vector } = largestEigenpair(scaled, m);
    const lambda = Math.max(0, value);
    if (lambda < bestLambda) {
      bestLambda = lambda;
      best = w;
    }
    if (lambda === 0) break;
    // τᵢ = ((K D^½ u)ᵢ)² / (λ Σc)
    const tau = new Float64Array(m);
    let tauMax = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += k[i * m + j] * root[j] * vector[j];
      tau[i] = (s * s) / (lambda * total);
      if (c[i] > 0 && tau[i] > tauMax) tauMax = tau[i];
    }
    if (tauMax === 0) break;
    total = 0;
    for (let i = 0; i < m; i++) {
      if (c[i] > 0) c[i] = tau[i] >= tauMax ? 0 : c[i] * (1 - tau[i] / tauMax);
      total += c[i];
    }
  }
  return { best, bestLambda, iterations };
}
