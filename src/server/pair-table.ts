// The round's precompute (runs in the aggregation worker): as each update arrives, its float64 dot
// products and squared distances with every update already held, so that at close a Gram-based
// rule (Krum, Multi-Krum, Bulyan, the geometric median, FLAME, …) only decides and combines. The
// rule's Gram matrix is then assembled from these statistics (src/kernels/gram-source.ts) instead
// of a fresh O(n²d) pass over the data.
//
// Accuracy, whatever a client sends: rows whose largest magnitude lies in [2⁻⁴⁰, 2⁴⁰] (or zero)
// pair on float32 kernels that add each lane's float32 sums into float64 every 256 columns, as the
// Gram kernel does, so nothing overflows and an underflowing product is negligible at the pair's
// own scale; any pair with a row outside that range pairs in float64 (a product of two float32
// values is exact there, and no finite float32 can overflow or underflow it). A squared distance
// is summed from the differences themselves, so its error is about 10⁻⁶ of the distance, with no
// cancellation against large norms. A pair's value depends only on its two rows (not on what else
// arrived or was batched with them). The centred Gram matrix a distance-based rule asks for is
// centred on a reference client r (the one whose median distance to the others is smallest), each
// entry from whichever exact identity loses less there: (Dᵢᵣ + Dⱼᵣ − Dᵢⱼ)/2 for clients near each
// other, or the dot products for a client far from everyone. Results agree with the one-shot call
// within the Gram kernel's bound (GRAM_PAIR_EPSILON), not bit for bit.
import { family, kernelModule } from '../kernels/wasm/instance.js';
import { PAIRS_WASM_BASE64 } from '../kernels/wasm/module-bytes-pairs.js';
import type { PairsExports } from '../kernels/wasm/exports.js';
import { wasmApi } from '../kernels/wasm/wasm-api.js';

/** Columns per kernel call: 16 KiB of the new row, which stays in L1 while the held rows stream past. */
const BLOCK = 4096;
/** Pairs per kernel pass (their sums live in a 64 KiB scratch area). */
const OUT_PAIRS = 4096;
const BASE = 1024;
const ROWS = BASE + OUT_PAIRS * 16;
/** Columns per block of the in-place combination: its float64 accumulator (32 KiB) stays in L1. */
const COMBINE_COLUMNS = 4096;
/** Rows per in-place combination call (their weights and addresses sit in the scratch area). */
const COMBINE_GROUP = 64;
/** Most bytes of rows one table holds (WebAssembly memory is 32-bit); past it the round computes at close. */
const MAX_ROW_BYTES = 2 ** 31;
/** Rows whose largest magnitude lies in [TINY, HUGE] (or is 0) pair on the float32 kernels. */
const TINY = 2 ** -40;
const HUGE = 2 ** 40;

// Only its compiled module is shared; each table instantiates its own memory (rows of one round).
const pairsKernels = family('pairs', PAIRS_WASM_BASE64, () => ({ memoryBytes: 0 }));

/** Rows of one round, paired up as they arrive. @internal */
export class PairTable {
  private readonly ex: PairsExports | null;
  private readonly stride: number;
  /** Per arrival: its slot among the held rows, or -1 (not finite, or past the memory cap). */
  private readonly slots: number[] = [];
  /** dots[s][t], t ≤ s: ⟨x_s, x_t⟩ over held slots; dists[s][t] = ‖x_s − x_t‖². */
  private readonly dots: Float64Array[] = [];
  private readonly dists: Float64Array[] = [];
  private view = new Map<Float32Array, number>();
  /** Per held slot: whether its largest magnitude leaves [2⁻⁴⁰, 2⁴⁰] (paired in float64). */
  private readonly wide: boolean[] = [];
  /** Held rows not yet paired (slots, in order), besides those of the pass under way. */
  private queue: number[] = [];
  /**
   * The pass under way: its p rows (slots k … k + p − 1), their statistics so far, which of them
   * pair on the float32 kernels, and the next held row to pair them with.
   */
  private pass: { k: number; p: number; dots: Float64Array[]; dists: Float64Array[]; ordinary: number[]; next: number } | null = null;
  private full = false;

  /** @param d - the length of every row. */
  constructor(readonly d: number) {
    const module = kernelModule(pairsKernels);
    let ex: PairsExports | null = null;
    if (module !== null) {
      try {
        ex = new (wasmApi()!.Instance)(module, {}).exports as unknown as PairsExports;
      } catch {
        ex = null;
      }
    }
    this.ex = ex;
    this.stride = Math.ceil(d / 4) * 16;
  }

  /** Whether the table computes anything (WebAssembly SIMD is available). */
  get active(): boolean {
    return this.ex !== null;
  }

  /** Takes arrival number `arrival`; it is paired up by the next passes ({@link PairTable.pairSome}). */
  add(arrival: number, row: Float32Array, finite: boolean): void {
    const ex = this.ex;
    const s = this.dots.length + (this.pass?.p ?? 0) + this.queue.length;
    // Room for three more rows: a pass over fewer than four queued rows reads spare slots.
    if (ex === null || !finite || this.full || !this.reserve(ROWS + (s + 4) * this.stride)) {
      this.slots[arrival] = -1;
      return;
    }
    new Float32Array(ex.memory.buffer, ROWS + s * this.stride, this.d).set(row);
    const largest = ex.maxAbs(ROWS + s * this.stride, this.d);
    this.wide[s] = largest !== 0 && (largest < TINY || largest > HUGE);
    this.slots[arrival] = s;
    this.queue.push(s);
  }

  /** Rows not yet paired up: waiting, or in a pass that has not finished. */
  get queued(): number {
    return this.queue.length + (this.pass?.p ?? 0);
  }

  /** Pairs every row not yet paired ({@link PairTable.pairSome} until none is left). */
  flush(): void {
    while (this.ex !== null && this.queued > 0) this.pairSome();
  }

  /**
   * One slice of a pass. A pass takes up to four queued rows and pairs them with every row held
   * before them and with each other: ordinary pairs on the float32 kernels, the four rows against
   * each held row in one kernel call (so the held rows stream from memory once for the four), and
   * any pair with a row outside [2⁻⁴⁰, 2⁴⁰] on the float64 ones. A slice covers at most `heldRows`
   * held rows (a multiple of four), so that the worker can answer a close between slices instead of
   * after a whole pass. A pair's value depends only on its two rows, never on how the work was
   * cut into passes and slices or what else was queued with them.
   *
   * @param heldRows - most held rows this slice pairs the pass's rows with; default all.
   */
  pairSome(heldRows = Infinity): void {
    if (this.ex === null) return;
    if (this.pass === null) {
      if (this.queue.length === 0) return;
      // The queue holds consecutive slots from k on: the first p of them are slots k … k + p − 1.
      const k = this.dots.length;
      const p = Math.min(this.queue.length, 4);
      this.queue.splice(0, p);
      const pass = { k, p, dots: [] as Float64Array[], dists: [] as Float64Array[], ordinary: [] as number[], next: 0 };
      for (let a = 0; a < p; a++) {
        pass.dots.push(new Float64Array(k + a + 1));
        pass.dists.push(new Float64Array(k + a + 1));
        if (this.wide[k + a]) this.pairRange(k + a, 0, k, false, pass.dots[a], pass.dists[a]);
        else pass.ordinary.push(a);
      }
      this.pass = pass;
    }
    const pass = this.pass;
    const { k, p, dots, dists, ordinary } = pass;
    const end = heldRows >= k - pass.next ? k : Math.min(k, pass.next + Math.max(4, heldRows & ~3));
    if (ordinary.length > 0 && end > pass.next) this.pairFour(k, ordinary, dots, dists, pass.next, end);
    pass.next = end;
    if (end < k) return;
    // Held rows outside the float32 range, again in float64 for the ordinary queued rows.
    for (let j = 0; j < k; j++) {
      if (!this.wide[j]) continue;
      for (const a of ordinary) this.pairRange(k + a, j, j + 1, false, dots[a], dists[a]);
    }
    // Pairs among the pass's rows, and each with itself (its squared norm).
    for (let a = 0; a < p; a++) {
      for (let b = k; b <= k + a; b++) this.pairRange(k + a, b, b + 1, !this.wide[k + a] && !this.wide[b], dots[a], dists[a]);
      dists[a][k + a] = 0;
      this.dots.push(dots[a]);
      this.dists.push(dists[a]);
    }
    this.pass = null;
  }

  /**
   * Up to four ordinary queued rows (offsets `group` from slot k) against the held rows [j0, j1),
   * in one pass over those held rows. j0 is a multiple of four.
   */
  private pairFour(k: number, group: number[], dots: Float64Array[], dists: Float64Array[], j0: number, j1: number): void {
    const ex = this.ex!;
    const d = this.d;
    const stride = this.stride;
    const per = OUT_PAIRS >> 2;
    // pairsBlock4F takes its rows at a constant stride: consecutive slots, else one at a time.
    if (group.length === 1) {
      this.pairOneOrdinary(k + group[0], j0, j1, dots[group[0]], dists[group[0]]);
      return;
    }
    const consecutive = group[group.length - 1] - group[0] === group.length - 1;
    if (!consecutive) {
      for (const a of group) this.pairRange(k + a, j0, j1, true, dots[a], dists[a]);
      return;
    }
    // Fewer than four: the kernel also reads the slots after them (spare memory, results unused),
    // which costs arithmetic but not another pass over memory.
    const x = ROWS + (k + group[0]) * stride;
    for (let b0 = j0; b0 < j1; b0 += per) {
      const count = Math.min(per, j1 - b0);
      const out = new Float64Array(ex.memory.buffer, BASE, 8 * count);
      out.fill(0);
      for (let c0 = 0; c0 < d; c0 += BLOCK) {
        ex.pairsBlock4F(x + c0 * 4, stride, ROWS + b0 * stride + c0 * 4, stride, count, Math.min(BLOCK, d - c0), BASE);
      }
      for (let j = 0; j < count; j++) {
        for (let q = 0; q < group.length; q++) {
          dots[group[q]][b0 + j] = out[8 * j + 2 * q];
          dists[group[q]][b0 + j] = out[8 * j + 2 * q + 1];
        }
      }
    }
  }

  /**
   * One ordinary row `s` against the held rows [j0, j1) (j0 a multiple of four), in one pass: the
   * four-row kernel with the roles swapped (four held rows against the new one), so that every
   * product is one the pair needs and eight accumulator chains run side by side. A pair gets the
   * same bits either way round: a·b = b·a and (a − b)² = (b − a)² exactly. The last group may read
   * up to three slots past j1 (held rows, or reserved memory past the last; results unused).
   */
  private pairOneOrdinary(s: number, j0: number, j1: number, dots: Float64Array, dists: Float64Array): void {
    const ex = this.ex!;
    const d = this.d;
    const stride = this.stride;
    const at = ROWS + s * stride;
    const perPass = OUT_PAIRS >> 2; // groups of four whose sums fit the scratch area
    const first = j0 >> 2;
    const last = Math.ceil(j1 / 4); // one past the last group
    for (let g0 = first; g0 < last; g0 += perPass) {
      const groups = Math.min(perPass, last - g0);
      const out = new Float64Array(ex.memory.buffer, BASE, 8 * groups);
      out.fill(0);
      for (let c0 = 0; c0 < d; c0 += BLOCK) {
        const w = Math.min(BLOCK, d - c0);
        for (let g = 0; g < groups; g++) {
          ex.pairsBlock4F(ROWS + (g0 + g) * 4 * stride + c0 * 4, stride, at + c0 * 4, stride, 1, w, BASE + g * 64);
        }
      }
      for (let g = 0; g < groups; g++) {
        for (let a = 0; a < 4; a++) {
          const j = (g0 + g) * 4 + a;
          if (j >= j1) break;
          dots[j] = out[8 * g + 2 * a];
          dists[j] = out[8 * g + 2 * a + 1];
        }
      }
    }
  }

  /** Row `s` against held rows [j0, j1) on the float32 (`f32`) or float64 kernel, into dots/dists at the same indices. */
  private pairRange(s: number, j0: number, j1: number, f32: boolean, dots: Float64Array, dists: Float64Array): void {
    const ex = this.ex!;
    const d = this.d;
    const at = ROWS + s * this.stride;
    for (let b0 = j0; b0 < j1; b0 += OUT_PAIRS) {
      const count = Math.min(OUT_PAIRS, j1 - b0);
      const out = new Float64Array(ex.memory.buffer, BASE, 2 * count);
      out.fill(0);
      const rows = ROWS + b0 * this.stride;
      for (let c0 = 0; c0 < d; c0 += BLOCK) {
        const w = Math.min(BLOCK, d - c0);
        if (f32) ex.pairsBlockF(at + c0 * 4, rows + c0 * 4, this.stride, count, w, BASE);
        else ex.pairsBlock(at + c0 * 4, rows + c0 * 4, this.stride, count, w, BASE);
      }
      for (let j = 0; j < count; j++) {
        dots[b0 + j] = out[2 * j];
        dists[b0 + j] = out[2 * j + 1];
      }
    }
  }

  /** Grows the memory to `bytes`; false (and the table stops taking rows) when it cannot. */
  private reserve(bytes: number): boolean {
    const memory = this.ex!.memory;
    const have = memory.buffer.byteLength;
    if (bytes <= have) return true;
    if (bytes - ROWS > MAX_ROW_BYTES) {
      this.full = true;
      return false;
    }
    // A quarter more than asked (within the cap), so that a round of n arrivals grows its memory
    // O(log n) times, not n times (each growth costs milliseconds at these sizes).
    const target = Math.max(bytes, Math.min(ROWS + MAX_ROW_BYTES, Math.floor(have * 1.25)));
    for (const size of [target, bytes]) {
      try {
        memory.grow(Math.ceil((size - have) / 65536));
        return true;
      } catch {
        // Not that much memory: try exactly what is needed, then give up.
      }
    }
    this.full = true;
    return false;
  }

  /**
   * Says which arrival each of the rule's rows is (`arrivals[i]` for `rows[i]`), so that
   * {@link PairTable.lookup} recognises them by identity.
   */
  bind(rows: readonly Float32Array[], arrivals: ArrayLike<number>): void {
    this.view = new Map();
    for (let i = 0; i < rows.length; i++) {
      const slot = this.slots[arrivals[i]];
      if (slot !== undefined && slot >= 0) this.view.set(rows[i], slot);
    }
  }

  /** Whether `row` is one of the bound rows the table holds (finite when it arrived, unchanged since). */
  holds(row: Float32Array): boolean {
    return this.view.has(row);
  }

  /**
   * out = Σᵢ wᵢ rowsᵢ (+ `offsetWeight`·`offset`) summed from the table's own copies of the rows, in
   * place: the combine kernel's float64 operations in its order (accInit, then each row with a
   * non-zero weight in turn, then one rounding to float32), so the same bits as `combine`, without
   * first copying every row into the combine kernel's memory. Null when a row with a non-zero
   * weight is not held (the caller then combines as usual).
   */
  combine(rows: readonly Float32Array[], weights: ArrayLike<number>, offset: Float32Array | null, offsetWeight: number): Float32Array | null {
    const ex = this.ex;
    const d = this.d;
    if (ex === null || rows.length === 0 || rows.length !== weights.length) return null;
    const at: number[] = [];
    const w: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (weights[i] === 0) continue;
      const s = this.view.get(rows[i]);
      if (s === undefined) return null;
      at.push(ROWS + s * this.stride);
      w.push(weights[i]);
    }
    if (at.length === 0 || (offset !== null && offset.length !== d)) return null;
    const useOffset = offset !== null && offsetWeight !== 0;
    const out = new Float32Array(d);
    const buffer = ex.memory.buffer;
    // Scratch (below the rows): the float64 accumulator, a float32 block (the offset in, then the
    // result out), then up to GROUP weights and row addresses per kernel call.
    const acc = BASE;
    const block = BASE + COMBINE_COLUMNS * 8;
    const wts = block + COMBINE_COLUMNS * 4;
    const ptrs = wts + COMBINE_GROUP * 8;
    const f32 = new Float32Array(buffer, block, COMBINE_COLUMNS);
    const f64 = new Float64Array(buffer, wts, COMBINE_GROUP);
    const u32 = new Uint32Array(buffer, ptrs, COMBINE_GROUP);
    for (let c0 = 0; c0 < d; c0 += COMBINE_COLUMNS) {
      const width = Math.min(COMBINE_COLUMNS, d - c0);
      if (useOffset) f32.set(offset.subarray(c0, c0 + width));
      ex.accInit(acc, useOffset ? block : 0, offsetWeight, width);
      for (let g = 0; g < at.length; g += COMBINE_GROUP) {
        const count = Math.min(COMBINE_GROUP, at.length - g);
        for (let k = 0; k < count; k++) {
          u32[k] = at[g + k];
          f64[k] = w[g + k];
        }
        ex.accRowsAt(acc, ptrs, wts, count, c0 * 4, width);
      }
      ex.accStore(acc, block, width);
      out.set(f32.subarray(0, width), c0);
    }
    return out;
  }

  private dot(a: number, b: number): number {
    return a >= b ? this.dots[a][b] : this.dots[b][a];
  }

  private dist(a: number, b: number): number {
    return a >= b ? this.dists[a][b] : this.dists[b][a];
  }

  /**
   * The Gram matrix of `rows` from the held statistics: uncentred for centre null, centred on the
   * reference client for 'robust' (distances exact to float64 rounding); null when a row is not
   * held or the centre is a vector (the kernel then computes it).
   */
  lookup(rows: readonly Float32Array[], centre: Float32Array | null | 'robust'): Float64Array | null {
    if (centre !== null && centre !== 'robust') return null;
    this.flush();
    const m = rows.length;
    const slot = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const s = this.view.get(rows[i]);
      if (s === undefined) return null;
      slot[i] = s;
    }
    const g = new Float64Array(m * m);
    if (centre === null) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j <= i; j++) g[i * m + j] = g[j * m + i] = this.dot(slot[i], slot[j]);
      }
      return g;
    }
    // Each centred entry Gᵢⱼ = ⟨xᵢ − x_r, xⱼ − x_r⟩ from whichever of two exact identities loses
    // less here: (Dᵢᵣ + Dⱼᵣ − Dᵢⱼ)/2, whose error is a fraction of the distances (best for clients
    // near each other, even with large norms), or dᵢⱼ − dᵢᵣ − dⱼᵣ + dᵣᵣ from the dot products,
    // whose error is a fraction of the norms (best for a client far from everyone, e.g. one sending
    // 1e38, whose distances would cancel to nothing against each other).
    const r = slot[this.reference(slot)];
    const norm = new Float64Array(m);
    for (let i = 0; i < m; i++) norm[i] = Math.sqrt(this.dot(slot[i], slot[i]));
    const normR = Math.sqrt(this.dot(r, r));
    const dotRR = this.dot(r, r);
    for (let i = 0; i < m; i++) {
      const si = slot[i];
      const dir = this.dist(si, r);
      const eir = this.eps(si, r);
      for (let j = 0; j <= i; j++) {
        const sj = slot[j];
        const djr = this.dist(sj, r);
        const ejr = this.eps(sj, r);
        const eij = this.eps(si, sj);
        const viaDistances = eir * dir + ejr * djr + eij * this.dist(si, sj);
        const viaDots = eij * norm[i] * norm[j] + eir * norm[i] * normR + ejr * norm[j] * normR + this.eps(r, r) * normR * normR;
        const v =
          viaDistances <= viaDots
            ? i === j
              ? dir
              : (dir + djr - this.dist(si, sj)) / 2
            : this.dot(si, sj) - this.dot(si, r) - this.dot(sj, r) + dotRR;
        g[i * m + j] = g[j * m + i] = v;
      }
    }
    return g;
  }

  /** Relative accuracy of a pair's statistics: float32 stretches, or float64 when a row is wide. */
  private eps(a: number, b: number): number {
    return this.wide[a] || this.wide[b] ? 2 ** -50 : 2 ** -17;
  }

  /** Index (into `slot`) of the client whose lower-median distance to the others is smallest (ties: lowest index). */
  private reference(slot: Int32Array): number {
    const m = slot.length;
    if (m <= 2) return 0;
    const row = new Float64Array(m - 1);
    let best = 0;
    let bestMedian = Infinity;
    for (let i = 0; i < m; i++) {
      let k = 0;
      for (let j = 0; j < m; j++) if (j !== i) row[k++] = this.dist(slot[i], slot[j]);
      row.sort();
      const median = row[(m - 2) >> 1];
      if (median < bestMedian) {
        bestMedian = median;
        best = i;
      }
    }
    return best;
  }
}
