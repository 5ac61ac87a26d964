import type { Aggregation, Decision } from '../core/decision.js';
import { finiteClients, weightsOverInput } from '../core/finite-clients.js';
import { requireInteger, requireNumber, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';
import { gram, squaredDistancesToCombination, squaredGramNormOfDifference } from '../kernels/gram.js';

/** Options of {@link geometricMedian}. */
export interface GeometricMedianOptions extends CommonOptions {
  /** Most Weiszfeld iterations. Default 80 (the Byrd-SAGA reference). */
  maxIterations?: number;
  /** Stop once the estimate moves by at most this much (Euclidean) in one iteration. Default 1e-5. */
  tolerance?: number;
  /**
   * Smoothing ν of RFA (Pillutla, Kakade & Harchaoui, IEEE TSP 2022): weights 1/max(ν, ‖xᵢ − z‖).
   * Default 0 (plain Weiszfeld; a distance that is exactly 0 is floored at 1e-12 × the largest one).
   */
  nu?: number;
}

/** Decision of {@link geometricMedian}. */
export interface GeometricMedianDecision extends Decision {
  /** The output is Σ wᵢ xᵢ with these weights (they sum to 1). */
  readonly weights: Float64Array;
  /** Weiszfeld iterations run. */
  readonly iterations: number;
  /** Whether the last move was ≤ tolerance (false: stopped at maxIterations). */
  readonly converged: boolean;
}

/**
 * Geometric median, argmin_z Σᵢ ‖xᵢ − z‖, by Weiszfeld's algorithm started from the mean:
 * z ← Σ βᵢ xᵢ / Σ βᵢ with βᵢ = 1/max(ν, ‖xᵢ − z‖), until ‖Δz‖ ≤ tolerance or maxIterations.
 * As robust aggregator: Chen, Su & Xu (2017), Byrd-SAGA (Wu et al., IEEE TSP 2020), RFA (Pillutla
 * et al. 2022). Breakdown point 1/2; needs no f.
 *
 * Every iterate is a combination z = Σ wⱼ xⱼ, so the iterations run in client space on the centred
 * Gram matrix (‖xᵢ − z‖² = Gᵢᵢ − 2(Gw)ᵢ + wᵀGw): one Gram pass (n²d/2 multiply-adds), O(n²) per
 * iteration, one combine pass.
 *
 * @example
 * ```ts
 * import { geometricMedian } from 'robust-agg';
 * const gm = geometricMedian(updates);                          // tol 1e-5, ≤ 80 iterations
 * const rfa = geometricMedian(updates, { nu: 1e-6, maxIterations: 3 });
 * ```
 */
export function geometricMedian(updates: Updates, options: GeometricMedianOptions = {}): Float32Array {
  return geometricMedianWithDecision(updates, options).aggregate;
}

/**
 * {@link geometricMedian} together with its {@link GeometricMedianDecision}.
 *
 * @example
 * ```ts
 * const { decision } = geometricMedianWithDecision(updates);
 * decision.iterations; decision.converged; decision.weights;
 * ```
 */
export function geometricMedianWithDecision(
  updates: Updates,
  options: GeometricMedianOptions = {},
): Aggregation<GeometricMedianDecision> {
  const rule = 'geometricMedian';
  const maxIterations = requireInteger(rule, 'maxIterations', options.maxIterations ?? 80, 0);
  const tolerance = requireNumber(rule, 'tolerance', options.tolerance ?? 1e-5, 0);
  const nu = requireNumber(rule, 'nu', options.nu ?? 0, 0);
  const clients = finiteClients(updates, rule, options.nonFinite);
  const rows = clients.rows;
  const m = rows.length;
  const { weights, iterations, converged } = weiszfeld(m === 1 ? null : gram(rows, 'robust'), m, {
    maxIterations,
    tolerance,
    nu,
  });
  return {
    aggregate: combine(rows, weights),
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      weights: weightsOverInput(weights, clients),
      iterations,
      converged,
    },
  };
}

/**
 * Weiszfeld's iterations in client space on a centred Gram matrix. Returns the weights of the
 * final estimate over the m rows. Exported for rules that reuse it on their own Gram matrix.
 */
export function weiszfeld(
  g: Float64Array | null,
  m: number,
  { maxIterations, tolerance, nu }: { maxIterations: number; tolerance: number; nu: number },
): { weights: Float64Array; iterations: number; converged: boolean } {
  let w = new Float64Array(m).fill(1 / m);
  if (g === null || m === 1) return { weights: w, iterations: 0, converged: true };
  const dist = new Float64Array(m);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    squaredDistancesToCombination(g, m, w, dist);
    let largest = 0;
    for (let i = 0; i < m; i++) {
      dist[i] = Math.sqrt(dist[i]);
      if (dist[i] > largest) largest = dist[i];
    }
    if (largest === 0) {
      converged = true; // every client sits on the estimate
      break;
    }
    const floor = Math.max(nu, 1e-12 * largest);
    const next = new Float64Array(m);
    let total = 0;
    for (let i = 0; i < m; i++) {
      next[i] = 1 / Math.max(floor, dist[i]);
      total += next[i];
    }
    for (let i = 0; i < m; i++) next[i] /= total;
    const move = Math.sqrt(squaredGramNormOfDifference(g, m, next, w));
    w = next;
    iterations++;
    if (move <= tolerance) {
      converged = true;
      break;
    }
  }
  return { weights: w, iterations, converged };
}
