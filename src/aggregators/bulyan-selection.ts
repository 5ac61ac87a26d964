import { quickselect } from '../kernels/quickselect.js';
import { krumScores, lowestScores } from './krum-scores.js';

/**
 * Bulyan's selection phase, the plain way (the oracle of {@link bulyanSelectionFast}): `theta`
 * successive Krum picks, each re-scoring every client not yet picked with max(1, remaining − f − 2)
 * neighbours; the lowest score wins, ties to the lower position. O(θ·n²) — O(n³).
 *
 * @param dist - row-major n×n squared distances.
 * @param n - number of clients.
 * @param f - declared Byzantine clients left (after dropped ones).
 * @param theta - picks to make (≤ n).
 * @returns positions in pick order.
 * @internal
 */
export function bulyanSelectionPlain(dist: Float64Array, n: number, f: number, theta: number): number[] {
  const active = new Array<boolean>(n).fill(true);
  const order: number[] = [];
  for (let remaining = n; order.length < theta; remaining--) {
    const scores = krumScores(dist, n, Math.max(1, remaining - f - 2), active);
    const [best] = lowestScores(scores, 1);
    order.push(best);
    active[best] = false;
  }
  return order;
}

/**
 * One client's Krum score exactly as {@link krumScores} computes it (same scratch layout — the
 * other members in index order —, same quickselect, same summation order), so the same bits.
 */
function plainScore(
  dist: Float64Array,
  n: number,
  i: number,
  members: Int32Array,
  count: number,
  k: number,
  scratch: Float64Array,
): number {
  let m = 0;
  const row = i * n;
  for (let t = 0; t < count; t++) {
    const j = members[t];
    if (j !== i) scratch[m++] = dist[row + j];
  }
  let s = 0;
  if (k > 0) {
    if (k < m) quickselect(scratch, 0, m - 1, k - 1);
    for (let t = 0; t < k; t++) s += scratch[t];
  }
  return s;
}

/** a[at] + a[at + 1] + … + a[at + 7], left to right. */
function sum8(a: Float64Array, at: number): number {
  return a[at] + a[at + 1] + a[at + 2] + a[at + 3] + a[at + 4] + a[at + 5] + a[at + 6] + a[at + 7];
}


/**
 * Bulyan's selection phase in O(n² log n): the same picks, in the same order, as
 * {@link bulyanSelectionPlain} (bit for bit: same scores, same tie-breaking) for every input.
 *
 * Each client keeps its neighbours sorted by distance (built once, O(n² log n)) and an 8-ary sum
 * tree over that order in which picked clients are zeroed. A client's k nearest remaining
 * neighbours are the first k remaining entries of its order, so an approximate score is a prefix
 * sum of the tree (O(log n)); a pick updates every remaining client's tree (O(log n) each). The
 * plain score sums the same k values in another order (quickselect's), so the two differ by
 * rounding only: both are within (k + h)·u of the exact sum (non-negative terms; h the tree's
 * depth, ≤ 14·log₈ n + 8). Each round, every client whose bound interval reaches the smallest
 * upper bound is a candidate, and only the
 * candidates get their plain score computed — the same code as {@link krumScores}, O(n) each — so
 * the winner and its ties are decided on the very bits the plain selection uses. Usually one or
 * two candidates per round; clients whose k nearest distances are all equal (identical rows) get
 * their plain score without a quickselect (any order sums k equal values the same way).
 *
 * Memory: about 2× the distance matrix. Falls back to the plain selection when a distance is
 * negative, NaN or so large that a sum of n of them could overflow (never the case for distances
 * from a Gram matrix of finite float32 rows).
 *
 * @param dist - row-major n×n squared distances (the diagonal is ignored).
 * @param n - number of clients.
 * @param f - declared Byzantine clients left (after dropped ones).
 * @param theta - picks to make (≤ n).
 * @returns positions in pick order.
 * @internal
 */
export function bulyanSelectionFast(dist: Float64Array, n: number, f: number, theta: number): number[] {
  const m = n - 1;
  if (m < 1 || theta > n) return bulyanSelectionPlain(dist, n, f, theta);
  const cap = Number.MAX_VALUE / (8 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = dist[i * n + j];
      if (i !== j && !(v >= 0 && v <= cap)) return bulyanSelectionPlain(dist, n, f, theta);
    }
  }

  // Per client i: nbr[i·m + p] = the neighbour at sorted position p, pos[i·n + j] = j's position,
  // tree[i·size + …] = an 8-ary sum tree over the sorted distances: level 0 the m leaves, each
  // entry of level ℓ + 1 the sum of 8 consecutive entries of level ℓ (one cache line), up to a
  // level of at most 8 entries. Picked clients' leaves are zeroed and their ancestors re-summed
  // (additions only, so the rounding bound below holds at every round).
  const levelAt: number[] = [0];
  const levelCount: number[] = [m];
  while (levelCount[levelCount.length - 1] > 8) {
    const c = levelCount[levelCount.length - 1];
    levelAt.push(levelAt[levelAt.length - 1] + ((c + 7) & ~7));
    levelCount.push((c + 7) >> 3);
  }
  const top = levelCount.length - 1;
  const size = levelAt[top] + 8;
  const nbr = new Int32Array(n * m);
  const pos = new Int32Array(n * n);
  const tree = new Float64Array(n * size);
  const vals = new Float64Array(m);
  const next = new Int32Array(m);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let q = 0;
    for (let j = 0; j < n; j++) if (j !== i) vals[q++] = dist[row + j];
    vals.sort();
    next.fill(0);
    const base = i * m;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = dist[row + j];
      // The first position holding v (lower bound), without data-dependent branches.
      let lo = 0;
      for (let len = m; len > 1; ) {
        const half = len >>> 1;
        lo = vals[lo + half] < v ? lo + half : lo;
        len -= half;
      }
      if (vals[lo] < v) lo++;
      const p = lo + next[lo]++;
      nbr[base + p] = j;
      pos[row + j] = p;
    }
    const t0 = i * size;
    for (let p = 0; p < m; p++) tree[t0 + p] = dist[row + nbr[base + p]];
    for (let l = 0; l < top; l++) {
      const from = t0 + levelAt[l];
      const to = t0 + levelAt[l + 1];
      for (let q = 0; q < levelCount[l + 1]; q++) tree[to + q] = sum8(tree, from + 8 * q);
    }
  }

  const active = new Uint8Array(n).fill(1);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[i] = i;
  let count = n;
  // [0, end[i]) of i's order holds `inSet[i]` remaining neighbours (its k nearest), the last one
  // remaining; first[i] is the first remaining position.
  const end = new Int32Array(n);
  const inSet = new Int32Array(n);
  const first = new Int32Array(n);
  const approx = new Float64Array(n);
  const lower = new Float64Array(n);
  const scratch = new Float64Array(m);
  const uniformSums = new Map<number, number>();
  // Depth of any sum the tree hands out: an entry of level ℓ is at most 7ℓ additions deep, and a
  // prefix query adds at most 7 entries per level, one after another.
  const depth = 14 * top + 8;
  const order: number[] = [];

  for (let remaining = n; order.length < theta; remaining--) {
    const k = Math.max(0, Math.min(Math.max(1, remaining - f - 2), remaining - 1));
    // Relative slack of the bounds: 8u per addition of either summation (u = 2⁻⁵³), so rounding in
    // the bounds' own arithmetic is covered too.
    const rel = (k + depth + 8) * 2 ** -50;
    let minUpper = Infinity;
    for (let t = 0; t < count; t++) {
      const i = members[t];
      const base = i * m;
      let b = end[i];
      let c = inSet[i];
      while (c < k) {
        if (active[nbr[base + b]]) c++;
        b++;
      }
      while (c > k) {
        b--;
        if (active[nbr[base + b]]) c--;
      }
      while (b > 0 && !active[nbr[base + b - 1]]) b--;
      end[i] = b;
      inSet[i] = c;
      let a = first[i];
      while (a < m && !active[nbr[base + a]]) a++;
      first[i] = a;
      // Prefix sum of [0, b) of i's tree: at each level the entries after the last whole group of 8,
      // the whole groups being the first b >> 3 entries of the level above.
      const t0 = i * size;
      let s = 0;
      let r = b;
      for (let l = 0; l < top; l++) {
        const at = t0 + levelAt[l];
        for (let q = r & ~7; q < r; q++) s += tree[at + q];
        r >>= 3;
      }
      for (let q = 0; q < r; q++) s += tree[t0 + levelAt[top] + q];
      approx[i] = s;
      // + 2⁻¹⁰⁰⁰: absolute slack, far below any nonzero squared distance of float32 rows. (Inline,
      // not a module constant: a top-level constant would reach every rule's bundle through the chunk.)
      const slack = s * rel + 2 ** -1000;
      lower[i] = s - slack;
      const upper = s + slack;
      if (upper < minUpper) minUpper = upper;
    }

    // Candidates, in index order: the plain scores decide, ties to the lower position.
    uniformSums.clear();
    let best = -1;
    let bestScore = Infinity;
    for (let t = 0; t < count; t++) {
      const i = members[t];
      if (!(lower[i] <= minUpper)) continue;
      let score: number;
      if (k === 0) {
        score = 0;
      } else {
        const t0 = i * size;
        const v = tree[t0 + first[i]];
        if (v === tree[t0 + end[i] - 1]) {
          // All k values equal v: any summation order gives the same bits.
          let u = uniformSums.get(v);
          if (u === undefined) {
            u = 0;
            for (let q = 0; q < k; q++) u += v;
            uniformSums.set(v, u);
          }
          score = u;
        } else {
          score = plainScore(dist, n, i, members, count, k, scratch);
        }
      }
      if (best < 0 || score < bestScore) {
        best = i;
        bestScore = score;
      }
    }

    order.push(best);
    active[best] = 0;
    let w = 0;
    for (let t = 0; t < count; t++) {
      const i = members[t];
      if (i === best) continue;
      members[w++] = i;
      const p = pos[i * n + best];
      if (p < end[i]) inSet[i]--;
      const t0 = i * size;
      tree[t0 + p] = 0;
      let q = p;
      for (let l = 0; l < top; l++) {
        q >>= 3;
        tree[t0 + levelAt[l + 1] + q] = sum8(tree, t0 + levelAt[l] + 8 * q);
      }
    }
    count = w;
  }
  return order;
}
