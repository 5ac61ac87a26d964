import { finiteClients } from '../core/finite-clients.js';
import { readOptions, requireInteger, type CommonOptions } from '../core/options.js';
import { randomPermutation, resolveValidRng, type RandomOptions } from '../core/random.js';
import type { Updates } from '../core/updates.js';
import { combine } from '../kernels/combine.js';

/** Options of {@link bucketing}. */
export interface BucketingOptions extends CommonOptions, RandomOptions {
  /**
   * Bucket size s: an integer ≥ 1 (any size up to 2⁵³; s ≥ n gives one bucket, the mean). Default 2
   * (the paper's choice).
   */
  bucketSize?: number;
}

/**
 * Bucketing (Karimireddy, He & Jaggi, "Byzantine-robust learning on heterogeneous datasets via
 * bucketing", ICLR 2022): shuffle the clients at random, split them into ⌈n/s⌉ buckets of s
 * (the last may be smaller) and return the mean of each bucket. Reduces heterogeneity before a
 * robust rule; with s buckets a Byzantine client can spoil at most one bucket, so pass the same f to
 * the rule after it (and check that it still fits ⌈n/s⌉ inputs). Seeded: pass `seed` or `rng`.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped before shuffling (or throw, see `nonFinite`).
 * @param options - see {@link BucketingOptions}: `seed` or `rng` (required: the shuffle is
 *   random), `bucketSize` (s, an integer ≥ 1; default 2), `nonFinite` (default `'drop'`).
 * @returns ⌈n'/s⌉ new `Float32Array`s (n' finite clients), the bucket means.
 * @example
 * ```ts
 * import { bucketing, coordinateMedian, createRng, pipeline } from 'robust-agg';
 *
 * // Nine clients, d = 3: eight honest ones near (1, −1, 0.5) and one attacker.
 * const honest = Array.from({ length: 8 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20)];
 * console.log(bucketing(updates, { bucketSize: 2, seed: 1 }).length); // ⌈9/2⌉ = 5 bucket means
 * // In a training loop, one generator advances so that every round shuffles afresh.
 * const rng = createRng(1);
 * const robust = pipeline((u) => bucketing(u, { bucketSize: 2, rng }), (u) => coordinateMedian(u));
 * console.log(robust(updates)); // the attacker spoils one bucket of five: close to (1, −1, 0.5)
 * ```
 */
export function bucketing(updates: Updates, options: BucketingOptions): Float32Array[] {
  const opts = readOptions('bucketing', options, ['bucketSize', 'seed', 'rng', 'nonFinite']);
  const s = requireInteger('bucketing', 'bucketSize', opts.bucketSize ?? 2, 1, Number.MAX_SAFE_INTEGER);
  const rng = resolveValidRng({ seed: opts.seed, rng: opts.rng }, 'bucketing');
  const { rows } = finiteClients(updates, 'bucketing', opts.nonFinite);
  const order = randomPermutation(rows.length, rng);
  const out: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += s) {
    const members = order.slice(start, start + s).map((k) => rows[k]);
    out.push(combine(members, new Float64Array(members.length).fill(1 / members.length)));
  }
  return out;
}
