// A round's running sum for `mean` (runs in the aggregation worker): Σ xᵢ/n accumulated in float64
// as the updates arrive, in arrival order, with exactly the operations of the combination kernel
// (acc ← acc + (1/n)·xᵢ, one row after the other, rounded to float32 once), so that close() only
// rounds and the result is the one-shot call's bit for bit. It needs n before the first arrival:
// the round's `expected`. When the round ends with another count, a dropped (non-finite) client or
// client weights, the worker runs the rule on the arena instead.

/** Running float64 sum of a round's updates for `mean`. @internal */
export class MeanSum {
  private readonly acc: Float64Array;
  /** Rows that arrived ahead of an earlier arrival (copies can finish out of order). */
  private readonly early = new Map<number, Float32Array>();
  private next = 0;
  private broken = false;

  constructor(
    d: number,
    /** The number of clients the round expects: each row weighs 1/expected. */
    private readonly expected: number,
  ) {
    this.acc = new Float64Array(d);
  }

  /** Takes arrival number `arrival` (its row stays valid: it lives in the round's arena). */
  add(arrival: number, row: Float32Array, finite: boolean): void {
    if (!finite || arrival >= this.expected) this.broken = true;
    if (this.broken) return;
    this.early.set(arrival, row);
    const w = 1 / this.expected;
    const acc = this.acc;
    for (let x = this.early.get(this.next); x !== undefined; x = this.early.get(this.next)) {
      this.early.delete(this.next);
      for (let k = 0; k < acc.length; k++) acc[k] += w * x[k];
      this.next++;
    }
  }

  /** The mean, when exactly the arrivals 0 … expected − 1 were summed and the rule gets all of them. */
  result(arrivals: Int32Array): Float32Array | null {
    if (this.broken || this.next !== this.expected || arrivals.length !== this.expected) return null;
    for (let i = 0; i < arrivals.length; i++) if (arrivals[i] !== i) return null;
    return Float32Array.from(this.acc);
  }
}
