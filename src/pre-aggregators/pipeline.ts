import type { Aggregator, PreAggregator } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import { describeValue } from '../core/options.js';
import { isFloat32Array } from '../core/updates.js';
import { isFiniteVector } from '../kernels/finite.js';

/**
 * Composes pre-aggregators with a final aggregator: `pipeline(p₁, …, p_k, agg)(updates)` is
 * `agg(p_k(…p₁(updates)))`. Each stage is a function of the updates alone, so bind options with an
 * arrow function; every stage drops non-finite rows itself.
 *
 * Checks: at least one stage, every stage a function (`INVALID_OPTION` naming the stage, when the
 * pipeline is built); when it runs, each pre-aggregator must return an array and the final
 * aggregator a finite `Float32Array` of the length its input rows have (`INVALID_OPTION` naming the
 * stage otherwise), so a faulty custom stage cannot pass NaN or a wrong shape on.
 *
 * @param stages - zero or more pre-aggregators (updates → updates), then one aggregator
 *   (updates → vector), each bound to its options with an arrow function; applied left to right.
 * @returns the composed aggregator.
 * @example
 * ```ts
 * import { bucketing, createRng, krum, nnm, pipeline } from 'robust-agg';
 *
 * // Ten clients, d = 3: nine honest ones near (1, −1, 0.5) and one attacker (f = 1).
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20)];
 *
 * // Buckets of 2 give 5 inputs and the attacker spoils at most one of them, so the later stages
 * // keep f = 1 (Krum needs 2f+3 = 5 inputs).
 * const rng = createRng(7);
 * const robustKrum = pipeline(
 *   (u) => bucketing(u, { bucketSize: 2, rng }),
 *   (u) => nnm(u, { f: 1 }),
 *   (u) => krum(u, { f: 1 }),
 * );
 * console.log(robustKrum(updates));
 * ```
 */
export function pipeline(...stages: [...PreAggregator[], Aggregator]): Aggregator {
  const rule = 'pipeline';
  if (stages.length === 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule} needs at least one stage (the final aggregator), got none`);
  }
  for (let k = 0; k < stages.length; k++) {
    if (typeof stages[k] !== 'function') {
      throw new RobustAggError('INVALID_OPTION', `${rule}: stage ${k} must be a function of the updates, got ${describeValue(stages[k])}`);
    }
  }
  const pre = stages.slice(0, -1) as PreAggregator[];
  const last = stages[stages.length - 1] as Aggregator;
  const lastIndex = stages.length - 1;
  return (updates) => {
    let current: readonly Float32Array[] = updates;
    for (let k = 0; k < pre.length; k++) {
      const next: unknown = pre[k](current);
      if (!Array.isArray(next)) {
        throw new RobustAggError(
          'INVALID_OPTION',
          `${rule}: stage ${k} (a pre-aggregator) returned ${describeValue(next)}, expected an array of Float32Array updates`,
        );
      }
      current = next as Float32Array[];
    }
    const out: unknown = last(current);
    const first: unknown = Array.isArray(current) ? current[0] : undefined;
    const d = isFloat32Array(first) ? first.length : undefined;
    if (!isFloat32Array(out) || (d !== undefined && out.length !== d)) {
      const got = isFloat32Array(out) ? `a vector of length ${out.length}` : describeValue(out);
      throw new RobustAggError(
        'INVALID_OPTION',
        `${rule}: stage ${lastIndex} (the aggregator) returned ${got}, expected a Float32Array of length d=${String(d)}`,
      );
    }
    if (!isFiniteVector(out)) {
      throw new RobustAggError('INVALID_OPTION', `${rule}: stage ${lastIndex} (the aggregator) returned NaN or ±Infinity`);
    }
    return out;
  };
}
