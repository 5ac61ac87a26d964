import type { Aggregation } from '../core/decision.js';
import { RobustAggError } from '../core/errors.js';
import {
  finiteClients,
  indicesOverInput,
  remainingByzantine,
  requireClients,
} from '../core/finite-clients.js';
import { describeValue, readOptions, type CommonOptions } from '../core/options.js';
import type { Updates } from '../core/updates.js';
import { columnMedian, meanAroundMedianReducer, reduceColumns } from '../kernels/column-select.js';
import { combine, meanOfRows } from '../kernels/combine.js';
import { gram, squaredDistancesFromGram } from '../kernels/gram.js';
import { squaredDistance } from '../kernels/norms.js';
import type { BulyanDecision } from './bulyan.js';
import { bulyanSelection } from './bulyan.js';
import { weiszfeld, type WeiszfeldSettings } from './geometric-median.js';
import { krumScores, lowestScores } from './krum-scores.js';

/** The rule applied recursively in Bulyan's selection phase. */
export type BulyanSelectionRule = 'krum' | 'geometricMedian' | 'coordinateMedian' | 'mean';

/**
 * The rule applied to the θ selected clients: `'meamed'` is Bulyan's own (per coordinate, the mean
 * of the β = θ − 2f values closest to the median); the others apply that rule to the selection.
 */
export type BulyanAggregationRule = 'meamed' | 'krum' | 'geometricMedian' | 'coordinateMedian' | 'mean';

/** Options of {@link bulyanVariant}. */
export interface BulyanVariantOptions extends CommonOptions {
  /** Declared number of Byzantine clients: an integer ≥ 0 with n ≥ 4f+3. Required. */
  f: number;
  /** Selection rule. Default `'krum'`. */
  selection?: BulyanSelectionRule;
  /** Aggregation rule. Default `'meamed'`. */
  aggregation?: BulyanAggregationRule;
}

/** Decision of {@link bulyanVariant}. */
export interface BulyanVariantDecision extends BulyanDecision {
  /** The selection rule used. */
  readonly selection: BulyanSelectionRule;
  /** The aggregation rule used. */
  readonly aggregation: BulyanAggregationRule;
}

/** geometricMedian's defaults (the Byrd-SAGA reference), used by the GM selection and aggregation. */
const GEOMETRIC_MEDIAN_DEFAULTS: WeiszfeldSettings = { maxIterations: 80, tolerance: 1e-5, nu: 0 };

const SELECTIONS: readonly BulyanSelectionRule[] = ['krum', 'geometricMedian', 'coordinateMedian', 'mean'];
const AGGREGATIONS: readonly BulyanAggregationRule[] = ['meamed', 'krum', 'geometricMedian', 'coordinateMedian', 'mean'];

/**
 * Bulyan with a chosen (selection, aggregation) pair (El Mhamdi, Guerraoui & Rouault, ICML 2018,
 * state Bulyan for any selection rule A; MixTailor, Ramezani-Kebrya et al. TMLR 2022, mixes such
 * pairs). Selection: θ = n − 2f rounds, each applies A to the clients not yet picked and picks the
 * one closest (ℓ2) to A's output; for A = Krum that is Krum's pick, with max(1, n' − f − 2)
 * neighbours as in {@link bulyan}. Aggregation: `'meamed'` (Bulyan's own, default), or Krum (with
 * f), geometric median, coordinate median or mean of the θ picked clients. Ties: lowest index.
 * `{ selection: 'krum', aggregation: 'meamed' }` is exactly {@link bulyan}. Needs n ≥ 4f+3.
 *
 * Cost: one centred Gram pass; each selection round is O(n²) in client space (Krum, mean, Weiszfeld
 * up to 80 iterations) or O(n·d) (coordinate median); then one aggregation over θ rows.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link BulyanVariantOptions}: `f` (required, an integer ≥ 0 with
 *   n ≥ 4f+3), `selection` (default `'krum'`), `aggregation` (default `'meamed'`), `nonFinite`
 *   (default `'drop'`).
 * @returns a new `Float32Array` of length d.
 * @example
 * ```ts
 * import { bulyanVariant } from 'robust-agg';
 *
 * // Eleven clients, d = 3 (n ≥ 4f+3 with f = 2): nine honest ones near (1, −1, 0.5), two attackers.
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 * console.log(bulyanVariant(updates, { f: 2, selection: 'geometricMedian', aggregation: 'coordinateMedian' }));
 * ```
 */
export function bulyanVariant(updates: Updates, options: BulyanVariantOptions): Float32Array {
  return bulyanVariantWithDecision(updates, options).aggregate;
}

/**
 * {@link bulyanVariant} together with its {@link BulyanVariantDecision}.
 *
 * @param updates - the n client updates, each a `Float32Array` of the same length d; not modified.
 *   Clients holding NaN or ±Inf are dropped and counted against f (or throw, see `nonFinite`).
 * @param options - see {@link BulyanVariantOptions}: `f` (required, an integer ≥ 0 with
 *   n ≥ 4f+3), `selection` (default `'krum'`), `aggregation` (default `'meamed'`), `nonFinite`
 *   (default `'drop'`).
 * @example
 * ```ts
 * import { bulyanVariantWithDecision } from 'robust-agg';
 *
 * // Eleven clients, d = 3 (n ≥ 4f+3 with f = 2): nine honest ones near (1, −1, 0.5), two attackers.
 * const honest = Array.from({ length: 9 }, (_, i) => Float32Array.of(1 + 0.1 * Math.sin(i), -1 + 0.1 * Math.cos(i), 0.5));
 * const updates = [...honest, Float32Array.of(20, 20, 20), Float32Array.of(-20, 20, -20)];
 * const { decision } = bulyanVariantWithDecision(updates, { f: 2, selection: 'mean' });
 * console.log(decision.selection, decision.aggregation); // mean meamed
 * console.log(decision.selectionOrder); // the 7 clients closest to the running mean, in pick order
 * ```
 */
export function bulyanVariantWithDecision(
  updates: Updates,
  options: BulyanVariantOptions,
): Aggregation<BulyanVariantDecision> {
  const rule = 'bulyanVariant';
  const opts = readOptions(rule, options, ['f', 'selection', 'aggregation', 'nonFinite']);
  const selection = opts.selection ?? 'krum';
  const aggregation = opts.aggregation ?? 'meamed';
  if (!SELECTIONS.includes(selection)) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: selection must be one of ${SELECTIONS.join(', ')}, got ${describeValue(selection)}`);
  }
  if (!AGGREGATIONS.includes(aggregation)) {
    throw new RobustAggError(
      'INVALID_OPTION',
      `${rule}: aggregation must be one of ${AGGREGATIONS.join(', ')}, got ${describeValue(aggregation)}`,
    );
  }
  const clients = finiteClients(updates, rule, opts.nonFinite);
  requireClients(rule, clients.n, opts.f as number, 4, 3);
  const rows = clients.rows;
  const count = rows.length;
  const f = remainingByzantine(opts.f as number, clients);
  const theta = count - 2 * f;
  const beta = theta - 2 * f;
  const g = gram(rows, 'robust');
  const dist = squaredDistancesFromGram(g, count);
  const order =
    selection === 'krum' ? bulyanSelection(dist, count, f, theta) : recursiveSelection(rows, g, selection, theta);
  const picked = order.map((k) => rows[k]);
  let aggregate: Float32Array;
  if (aggregation === 'meamed') {
    aggregate = reduceColumns(picked, meanAroundMedianReducer(beta));
  } else if (aggregation === 'coordinateMedian') {
    aggregate = reduceColumns(picked, columnMedian);
  } else if (aggregation === 'mean') {
    aggregate = meanOfRows(picked);
  } else {
    const sub = subMatrix(dist, count, order);
    if (aggregation === 'krum') {
      const [best] = lowestScores(krumScores(sub, theta, theta - f - 2), 1);
      aggregate = Float32Array.from(picked[best]);
    } else {
      const { weights } = weiszfeld(subMatrix(g, count, order), theta, GEOMETRIC_MEDIAN_DEFAULTS);
      aggregate = combine(picked, weights);
    }
  }
  return {
    aggregate,
    decision: {
      rule,
      n: clients.n,
      dropped: clients.dropped,
      selected: indicesOverInput(order, clients),
      selectionOrder: order.map((k) => clients.index[k]),
      beta,
      selection,
      aggregation,
    },
  };
}

/** θ rounds: apply the rule to the active clients, pick the active client closest to its output. */
function recursiveSelection(
  rows: readonly Float32Array[],
  g: Float64Array,
  selection: Exclude<BulyanSelectionRule, 'krum'>,
  theta: number,
): number[] {
  const n = rows.length;
  const active = new Array<boolean>(n).fill(true);
  const order: number[] = [];
  const toOutput = new Float64Array(n);
  while (order.length < theta) {
    const members = [];
    for (let i = 0; i < n; i++) if (active[i]) members.push(i);
    if (selection === 'coordinateMedian') {
      const z = reduceColumns(
        members.map((i) => rows[i]),
        columnMedian,
      );
      for (const i of members) toOutput[i] = squaredDistance(rows[i], z);
    } else {
      let local: Float64Array;
      if (selection === 'mean') {
        local = new Float64Array(members.length).fill(1 / members.length);
      } else {
        local = weiszfeld(subMatrix(g, n, members), members.length, GEOMETRIC_MEDIAN_DEFAULTS).weights;
      }
      const w = new Float64Array(n);
      members.forEach((i, k) => (w[i] = local[k]));
      rankToCombination(g, n, w, members, toOutput);
    }
    let best = -1;
    for (const i of members) if (best < 0 || toOutput[i] < toOutput[best]) best = i;
    order.push(best);
    active[best] = false;
  }
  return order;
}

/**
 * Gᵢᵢ − 2(Gw)ᵢ for the members i: ‖xᵢ − z‖² without the term wᵀGw that all of them share, so the
 * order is the distances' order. Ranking on the full distance fails against one huge client: when
 * it dominates z = Σ wⱼxⱼ, wᵀGw is of order B² and swallows the differences between the near
 * clients' distances in float64 (they all came out equal and the lowest index, possibly a second
 * attacker, was picked).
 */
function rankToCombination(g: Float64Array, n: number, w: Float64Array, members: readonly number[], out: Float64Array): void {
  for (const i of members) {
    let gw = 0;
    for (let j = 0; j < n; j++) if (w[j] !== 0) gw += g[i * n + j] * w[j];
    out[i] = g[i * n + i] - 2 * gw;
  }
}

/** The rows and columns `idx` of a row-major n×n matrix. */
function subMatrix(m: Float64Array, n: number, idx: readonly number[]): Float64Array {
  const k = idx.length;
  const out = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[a * k + b] = m[idx[a] * n + idx[b]];
  return out;
}
