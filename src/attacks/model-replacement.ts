import { RobustAggError } from '../core/errors.js';
import { readOptions, requireInteger, requireNumber } from '../core/options.js';
import { toFloat32 } from './common.js';

/** Options of {@link modelReplacement}: give `n` (and optionally `eta`), or `gamma`. */
export interface ModelReplacementOptions {
  /** Number of clients whose updates the server averages in the round: an integer ≥ 1. */
  n?: number;
  /** The server's global learning rate η (FedAvg: G ← G + (η/n) Σ (Lᵢ − G)): finite, > 0. Default 1. */
  eta?: number;
  /** The boost γ itself, instead of n/η: any finite number. */
  gamma?: number;
}

/**
 * Model replacement (Bagdasaryan, Veit, Hua, Estrin & Shmatikov, "How to backdoor federated
 * learning", AISTATS 2020): the attacker submits L̃ = γ·(X − G) + G with γ = n/η, where X is the
 * backdoored model it wants, G the current global model, n the clients per round and η the global
 * learning rate; when the honest updates nearly cancel, the averaged global model becomes ≈ X.
 * Default η = 1. In update space (send L̃ − G) pass a zero `global`: the result is γ·(X − G).
 * Computed in float64; when a value of L̃ overflows float32 (γ·|Xₖ − Gₖ| too large) it throws
 * `INVALID_OPTION` naming γ and the coordinate.
 *
 * @param local - the backdoored model X, a `Float32Array` of finite values; not modified.
 * @param global - the current global model G, a `Float32Array` of finite values and the same length
 *   as `local`; not modified.
 * @param options - see {@link ModelReplacementOptions}: `n` (an integer ≥ 1) and `eta` (> 0,
 *   default 1), or `gamma` (any finite number) alone.
 * @returns a new `Float32Array` L̃ = γ·(X − G) + G.
 * @example
 * ```ts
 * import { mean, modelReplacement } from 'robust-agg';
 *
 * const globalModel = Float32Array.of(0.5, -0.2, 1.0);
 * const backdoored = Float32Array.of(0.6, 0.4, 0.8); // the model the attacker wants
 * // Nine honest clients send models close to G; the attacker's one is boosted by γ = n = 10.
 * const honest = Array.from({ length: 9 }, (_, i) =>
 *   globalModel.map((g, k) => g + 0.01 * Math.sin(i + k)));
 * const submitted = modelReplacement(backdoored, globalModel, { n: 10 });
 * console.log(submitted); // 10·(X − G) + G ≈ (1.5, 5.8, −1)
 * // FedAvg with η = 1 (G ← mean of the local models): the new global model is ≈ X.
 * console.log(mean([...honest, submitted])); // ≈ (0.6, 0.4, 0.8)
 * console.log(modelReplacement(backdoored, globalModel, { gamma: 5 })); // 5·(X − G) + G ≈ (1, 2.8, 0)
 * ```
 */
export function modelReplacement(
  local: Float32Array,
  global: Float32Array,
  options: ModelReplacementOptions,
): Float32Array {
  const rule = 'modelReplacement';
  if (!(local instanceof Float32Array) || !(global instanceof Float32Array)) {
    throw new RobustAggError('NOT_FLOAT32', `${rule}: local and global must be Float32Arrays`);
  }
  if (local.length !== global.length) {
    throw new RobustAggError(
      'LENGTH_MISMATCH',
      `${rule}: local has length ${local.length}, global has length ${global.length}`,
    );
  }
  const o = readOptions<ModelReplacementOptions>(rule, options, ['n', 'eta', 'gamma']);
  let gamma: number;
  if (o.gamma !== undefined) {
    if (o.n !== undefined || o.eta !== undefined) {
      throw new RobustAggError('INVALID_OPTION', `${rule} takes { gamma } or { n, eta }, not both`);
    }
    gamma = requireNumber(rule, 'gamma', o.gamma);
  } else {
    if (o.n === undefined) {
      throw new RobustAggError('INVALID_OPTION', `${rule} needs { n } (clients per round) or { gamma }`);
    }
    const n = requireInteger(rule, 'n', o.n, 1);
    const eta = requireNumber(rule, 'eta', o.eta ?? 1, 0, Infinity, true);
    gamma = n / eta;
    if (!Number.isFinite(gamma)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: γ = n/η = ${n}/${eta} overflows; use a larger eta`);
    }
  }
  for (let k = 0; k < local.length; k++) {
    if (local[k] - local[k] !== 0 || global[k] - global[k] !== 0) {
      throw new RobustAggError(
        'NON_FINITE_UPDATE',
        `${rule}: ${local[k] - local[k] !== 0 ? 'local' : 'global'} holds ${local[k] - local[k] !== 0 ? local[k] : global[k]} at coordinate ${k}`,
      );
    }
  }
  const out = new Float64Array(local.length);
  for (let k = 0; k < local.length; k++) out[k] = gamma * (local[k] - global[k]) + global[k];
  return toFloat32(out, rule, (k, v) => `γ·(X − G) + G = ${v} overflows float32 at coordinate ${k} (γ = ${gamma})`);
}
