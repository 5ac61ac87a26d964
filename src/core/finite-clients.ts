import { RobustAggError } from './errors.js';
import type { NonFinitePolicy } from './options.js';
import { validateUpdates, type Updates } from './updates.js';
import { isFiniteVector } from '../kernels/finite.js';

/** The finite clients of a validated update list, as every rule sees them. */
export interface FiniteClients {
  /** The finite rows, in input order (the caller's arrays, not copies: never write to them). */
  readonly rows: Float32Array[];
  /** `index[k]` is the input index of `rows[k]`. */
  readonly index: readonly number[];
  /** Input indices of the rows dropped for holding NaN or ±Infinity. */
  readonly dropped: readonly number[];
  /** Number of clients given, dropped ones included. */
  readonly n: number;
  /** Length of every update. */
  readonly d: number;
}

/**
 * Validates `updates` and splits off clients that sent NaN or ±Infinity (DESIGN §5): with
 * `'drop'` they are removed and listed in `dropped`, with `'throw'` the first one raises
 * `NON_FINITE_UPDATE`. Throws `NO_FINITE_UPDATES` when none is finite.
 */
export function finiteClients(updates: Updates, rule: string, policy: NonFinitePolicy = 'drop'): FiniteClients {
  const { n, d } = validateUpdates(updates, rule);
  requireNonFinitePolicy(rule, policy);
  const rows: Float32Array[] = [];
  const index: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < n; i++) {
    if (isFiniteVector(updates[i])) {
      rows.push(updates[i]);
      index.push(i);
    } else if (policy === 'throw') {
      throw new RobustAggError('NON_FINITE_UPDATE', `${rule}: client ${i} sent NaN or ±Infinity`);
    } else {
      dropped.push(i);
    }
  }
  if (rows.length === 0) {
    throw new RobustAggError('NO_FINITE_UPDATES', `${rule}: all ${n} clients sent NaN or ±Infinity`);
  }
  return { rows, index, dropped, n, d };
}

/** Throws `INVALID_OPTION` unless `policy` is `'drop'`, `'throw'` or undefined (meaning `'drop'`). */
export function requireNonFinitePolicy(rule: string, policy: NonFinitePolicy | undefined): void {
  if (policy !== undefined && policy !== 'drop' && policy !== 'throw') {
    throw new RobustAggError('INVALID_OPTION', `${rule}: nonFinite must be 'drop' or 'throw', got ${String(policy)}`);
  }
}

/**
 * Number of Byzantine clients still hidden among the finite rows: dropped clients count against the
 * declared f, so f' = max(0, f − dropped).
 */
export function remainingByzantine(f: number, clients: FiniteClients): number {
  return Math.max(0, f - clients.dropped.length);
}

/**
 * Checks a rule's requirement on the number of clients, `n ≥ a·f + b`, and throws
 * `TOO_FEW_CLIENTS` with the formula otherwise ("krum needs n ≥ 2f+3, got n=5, f=2").
 * Also checks that f is a non-negative integer.
 */
export function requireClients(rule: string, n: number, f: number, a: number, b: number): void {
  if (!Number.isInteger(f) || f < 0) {
    throw new RobustAggError('INVALID_OPTION', `${rule}: f must be a non-negative integer, got ${String(f)}`);
  }
  if (n < a * f + b) {
    const formula = a === 0 ? `n ≥ ${b}` : `n ≥ ${a === 1 ? '' : a}f+${b}`;
    throw new RobustAggError('TOO_FEW_CLIENTS', `${rule} needs ${formula}, got n=${n}, f=${f}`);
  }
}

/** Maps weights over the finite rows to weights over all n input clients (0 for dropped ones). */
export function weightsOverInput(weights: ArrayLike<number>, clients: FiniteClients): Float64Array {
  const out = new Float64Array(clients.n);
  for (let k = 0; k < clients.index.length; k++) out[clients.index[k]] = weights[k];
  return out;
}

/** Maps row positions among the finite rows to input indices, ascending. */
export function indicesOverInput(positions: Iterable<number>, clients: FiniteClients): number[] {
  return Array.from(positions, (k) => clients.index[k]).sort((a, b) => a - b);
}
