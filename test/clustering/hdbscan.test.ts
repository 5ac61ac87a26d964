import densityClustering from 'density-clustering';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { hdbscan, type HdbscanOptions, type HdbscanResult } from '../../src/clustering/hdbscan.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/random.js';
import { expectError } from '../helpers/hostile.js';

/** Euclidean distance matrix of 1-D points. */
function line(values: number[]): number[][] {
  return values.map((a) => values.map((b) => Math.abs(a - b)));
}

function euclidean(points: number[][]): number[][] {
  return points.map((p) => points.map((q) => Math.hypot(...p.map((v, k) => v - q[k]))));
}

/** A partition as a canonical string: groups of indices sorted, singletons included. */
function canonical(groups: number[][]): string {
  return groups
    .map((g) => [...g].sort((a, b) => a - b))
    .sort((a, b) => a[0] - b[0])
    .map((g) => g.join(','))
    .join(' | ');
}

/** Groups of points sharing a label (noise points each on their own). */
function partitionOf(labels: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  const out: number[][] = [];
  labels.forEach((l, i) => {
    if (l < 0) out.push([i]);
    else groups.set(l, [...(groups.get(l) ?? []), i]);
  });
  return [...out, ...groups.values()];
}

/** Components of the single-linkage tree cut at height eps (merges with distance < eps). */
function cutSingleLinkage(result: HdbscanResult, n: number, eps: number): number[][] {
  const { left, right, distance } = result.singleLinkage;
  const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
  const alive = new Set(Array.from({ length: n }, (_, i) => i));
  for (let k = 0; k < left.length; k++) {
    if (!(distance[k] < eps)) break; // merges are in ascending height
    members[n + k] = [...members[left[k]], ...members[right[k]]];
    alive.delete(left[k]);
    alive.delete(right[k]);
    alive.add(n + k);
  }
  return [...alive].map((id) => members[id]);
}

describe('hdbscan: hand-computed cases', () => {
  it('admits the dense triple and leaves the far point as noise (the TSDoc example)', () => {
    // core (minSamples 1) = nearest other point: [1, 1, 1, 9]. Prim from 0: edges (0,1,1),
    // (1,2,1), (2,3,9). Merges: {0,1} = 4 at 1, {4,2} = 5 at 1, {5,3} = 6 at 9. Condensing with
    // minClusterSize 3: point 3 falls out of the root at λ = 1/9, then {0,1,2} at λ = 1.
    // Root stability = 1/9 + 3·1; root selected (allowSingleCluster); the root's largest λ is 1,
    // so 0, 1, 2 (λ = 1) get label 0 and point 3 (λ = 1/9) is noise.
    const d = [
      [0, 1, 1, 9],
      [1, 0, 1, 9],
      [1, 1, 0, 9],
      [9, 9, 9, 0],
    ];
    const r = hdbscan(d, { minClusterSize: 3, minSamples: 1, allowSingleCluster: true });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, -1]);
    expect(Array.from(r.coreDistances)).toEqual([1, 1, 1, 9]);
    expect(Array.from(r.lambdas)).toEqual([1, 1, 1, 1 / 9]);
    expect(Array.from(r.singleLinkage.left)).toEqual([0, 4, 5]);
    expect(Array.from(r.singleLinkage.right)).toEqual([1, 2, 3]);
    expect(Array.from(r.singleLinkage.distance)).toEqual([1, 1, 9]);
    expect(Array.from(r.singleLinkage.size)).toEqual([2, 3, 4]);
    expect(Array.from(r.condensedTree.parent)).toEqual([4, 4, 4, 4]);
    expect(Array.from(r.condensedTree.child)).toEqual([3, 0, 1, 2]);
    expect(Array.from(r.stability)).toEqual([1 / 9 + 3]);
    expect(Array.from(r.clusters)).toEqual([4]);
    // Without allowSingleCluster the root is no candidate: everything is noise.
    const no = hdbscan(d, { minClusterSize: 3, minSamples: 1 });
    expect(Array.from(no.labels)).toEqual([-1, -1, -1, -1]);
    expect(no.clusters.length).toBe(0);
  });

  it('numbers clusters by condensed-tree id (breadth first), not by first appearance', () => {
    // Points (1-D): ids 0..2 = 20, 21, 22 (B); 3..5 = 0, 1, 2 (A); 6..8 = 30, 31, 32 (C).
    // minSamples 1 so mutual reachability = distance. Prim from id 0 builds B, then C (22→30 at 8),
    // then A (20→2 at 18, recorded from the last added point, 32). The top merge (height 18) joins
    // left = B∪C (the from-point's cluster) and right = A: condensed ids 10 (B∪C) and 11 (A). B∪C
    // splits at 8 into left = B (from-point 22) id 12 and C id 13. Stabilities: A = 3(1 − 1/18),
    // B = C = 3(1 − 1/8) = 2.625, B∪C = 6(1/8 − 1/18) ≈ 0.417 < 5.25, so B and C replace it.
    // Selected ids 11, 12, 13 → labels A = 0, B = 1, C = 2.
    const d = line([20, 21, 22, 0, 1, 2, 30, 31, 32]);
    const r = hdbscan(d, { minClusterSize: 3, minSamples: 1 });
    expect(Array.from(r.labels)).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2]);
    expect(Array.from(r.clusters)).toEqual([11, 12, 13]);
    expect(r.stability[11 - 9]).toBeCloseTo(3 * (1 - 1 / 18), 12);
    expect(r.stability[12 - 9]).toBeCloseTo(2.625, 12);
    expect(r.stability[1]).toBeCloseTo(6 * (1 / 8 - 1 / 18), 12);
    // Root stability 9·(1/18) = 0.5 < A + B + C, so allowSingleCluster changes nothing here.
    expect(Array.from(hdbscan(d, { minClusterSize: 3, minSamples: 1, allowSingleCluster: true }).labels)).toEqual(
      Array.from(r.labels),
    );
  });

  it('selects the parent when it is at least as stable as its children (strict >)', () => {
    // Two groups {0,1} and {3,4} (1-D: 0, 1, 3, 4) with minClusterSize 2, minSamples 1: the root
    // splits at height 2 into two clusters born at λ = 1/2, whose points leave at λ = 1.
    // Children: 2·(1 − 1/2) = 1 each, sum 2. Root: 4 points·(1/2 − 0) = 2 → not strictly less,
    // so with allowSingleCluster the root stays selected. Its largest λ is 1/2 and every point
    // has λ = 1 ≥ 1/2 → all label 0.
    const d = line([0, 1, 3, 4]);
    const single = hdbscan(d, { minClusterSize: 2, minSamples: 1, allowSingleCluster: true });
    expect(Array.from(single.stability)).toEqual([2, 1, 1]);
    expect(Array.from(single.labels)).toEqual([0, 0, 0, 0]);
    // Root not a candidate: the two children are the clusters.
    expect(Array.from(hdbscan(d, { minClusterSize: 2, minSamples: 1 }).labels)).toEqual([0, 0, 1, 1]);
  });

  it('counts neighbours without the point itself (minSamples), as the hdbscan package does', () => {
    // 1-D 0, 1, 3: with minSamples 1, core = [1, 1, 2]; with 2, core = [3, 2, 3] (2nd other point).
    expect(Array.from(hdbscan(line([0, 1, 3]), { minClusterSize: 2, minSamples: 1 }).coreDistances)).toEqual([1, 1, 2]);
    expect(Array.from(hdbscan(line([0, 1, 3]), { minClusterSize: 2, minSamples: 2 }).coreDistances)).toEqual([3, 2, 3]);
    // minSamples ≥ n acts as n − 1.
    expect(Array.from(hdbscan(line([0, 1, 3]), { minClusterSize: 2, minSamples: 9 }).coreDistances)).toEqual([3, 2, 3]);
  });

  it('handles exact duplicates (distance 0, λ = +∞) without NaN labels', () => {
    const d = line([0, 0, 0, 5]);
    const r = hdbscan(d, { minClusterSize: 3, minSamples: 1, allowSingleCluster: true });
    // {0,1,2} merge at 0 (λ = +∞), 3 falls out at 1/5: labels as in the first case.
    expect(Array.from(r.labels)).toEqual([0, 0, 0, -1]);
    expect(Array.from(r.lambdas)).toEqual([Infinity, Infinity, Infinity, 1 / 5]);
  });

  it('gives n = 1 the label −1 and n = 2 one cluster with allowSingleCluster', () => {
    expect(Array.from(hdbscan([[0]], { minClusterSize: 2, allowSingleCluster: true }).labels)).toEqual([-1]);
    const two = hdbscan(
      [
        [0, 3],
        [3, 0],
      ],
      { minClusterSize: 2, minSamples: 1, allowSingleCluster: true },
    );
    expect(Array.from(two.labels)).toEqual([0, 0]);
    expect(Array.from(two.lambdas)).toEqual([1 / 3, 1 / 3]);
  });

  it('rejects bad matrices and options with RobustAggError', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(RobustAggError);
      expect(f).toThrow(re);
    };
    bad(() => hdbscan([[0, 1], [1]]), /must be square, row 1 has length 1/);
    bad(() => hdbscan([[0, -1], [-1, 0]], { minClusterSize: 2 }), /distance \(0, 1\) must be ≥ 0 and not NaN/);
    bad(() => hdbscan([[0, NaN], [NaN, 0]], { minClusterSize: 2 }), /not NaN, got NaN/);
    bad(() => hdbscan(new Float64Array(5)), /length n²/);
    bad(() => hdbscan(new Float64Array(4), { n: 3 }), /n=3 was given but the matrix has n=2/);
    bad(() => hdbscan(line([0, 1]), { minClusterSize: 1 }), /minClusterSize must be an integer in \[2, 2147483647\], got 1/);
    bad(() => hdbscan(line([0, 1]), { minClusterSize: 2, minSamples: 0 }), /minSamples must be an integer in \[1, /);
    bad(() => hdbscan([]), /no rows/);
  });

  it('rejects asymmetric matrices, a non-zero diagonal and non-numbers (issue 14 item 9)', () => {
    // Before: an asymmetric matrix gave labels that depended on its orientation, a diagonal entry
    // was read as a neighbour distance, and the string '1' was converted silently.
    const asym = [
      [0, 1, 1, 9],
      [1, 0, 1, 9],
      [1, 1, 0, 9],
      [9, 1, 9, 0],
    ];
    const opts = { minClusterSize: 3, minSamples: 1, allowSingleCluster: true };
    expectError(() => hdbscan(asym, opts), 'INVALID_OPTION', /must be symmetric, got \(3, 1\) = 1 but \(1, 3\) = 9/);
    const transposed = asym.map((row, i) => row.map((_, j) => asym[j][i]));
    expectError(() => hdbscan(transposed, opts), 'INVALID_OPTION', /must be symmetric/);
    expectError(() => hdbscan([[0, 1], [Infinity, 0]], opts), 'INVALID_OPTION', /must be symmetric, got \(1, 0\) = Infinity but \(0, 1\) = 1/);
    expectError(() => hdbscan([[0, 1], [1, 0.5]], opts), 'INVALID_OPTION', /diagonal must be 0 .* got 0\.5 at \(1, 1\)/);
    expectError(() => hdbscan(Float64Array.of(1e-300, 1, 1, 0), opts), 'INVALID_OPTION', /diagonal must be 0/);
    const strings = [
      [0, '1'],
      ['1', 0],
    ] as unknown as number[][];
    expectError(() => hdbscan(strings, opts), 'INVALID_OPTION', /distance \(0, 1\) must be a number, got "1"/);
    expectError(() => hdbscan([[0, null], [null, 0]] as unknown as number[][], opts), 'INVALID_OPTION', /\(0, 1\) must be a number, got null/);
    expectError(() => hdbscan(['01', '10'] as unknown as number[][], opts), 'INVALID_OPTION', /row 0 .* must be an array of numbers, got "01"/);
    expectError(() => hdbscan({ length: 4 } as unknown as number[][], opts), 'INVALID_OPTION', /distances must be number\[\]\[\] or a flat Float64Array/);
    expectError(() => hdbscan('0110' as unknown as number[][], opts), 'INVALID_OPTION', /got "0110"/);
  });

  it('accepts asymmetry within a relative 1e-9 (1e-6 for float32 data), and typed arrays from another realm', () => {
    const base = line([0, 1, 1.5, 9]);
    const nudged = base.map((row, i) => row.map((v, j) => (i > j ? v * (1 + 5e-10) : v)));
    const opts = { minClusterSize: 3, minSamples: 1, allowSingleCluster: true };
    expect(Array.from(hdbscan(nudged, opts).labels)).toEqual(Array.from(hdbscan(base, opts).labels));
    const beyond = base.map((row, i) => row.map((v, j) => (i > j ? v * (1 + 1e-8) : v)));
    expectError(() => hdbscan(beyond, opts), 'INVALID_OPTION', /relative tolerance 1e-9/);
    const f32 = Float32Array.from(base.map((row, i) => row.map((v, j) => (i > j ? v * (1 + 5e-7) : v))).flat());
    expect(Array.from(hdbscan(f32, opts).labels)).toEqual(Array.from(hdbscan(base, opts).labels));
    const foreign = runInNewContext('new Float64Array(16)') as Float64Array;
    foreign.set(base.flat());
    expect(Array.from(hdbscan(foreign, opts).labels)).toEqual(Array.from(hdbscan(base, opts).labels));
  });

  it('reads options once and rejects null and unknown keys', () => {
    const d = line([0, 1, 2]);
    expectError(() => hdbscan(d, null as unknown as HdbscanOptions), 'INVALID_OPTION', /options must be an object, got null/);
    expectError(() => hdbscan(d, { minClusterSize: 2, minSample: 1 } as unknown as HdbscanOptions), 'UNKNOWN_OPTION', /unknown option 'minSample'/);
    expectError(() => hdbscan(d, { allowSingleCluster: 'yes' as unknown as boolean }), 'INVALID_OPTION', /allowSingleCluster must be a boolean, got "yes"/);
    expectError(() => hdbscan(d, { minClusterSize: 1e300 }), 'INVALID_OPTION', /minClusterSize/);
    let reads = 0;
    const tricky = {
      get minClusterSize() {
        reads++;
        return reads === 1 ? 2 : 1;
      },
    };
    expect(() => hdbscan(d, tricky)).not.toThrow();
    expect(reads).toBe(1);
  });

  it('accepts +Infinity as "unreachable" (λ = 0)', () => {
    const d = [
      [0, 1, Infinity],
      [1, 0, Infinity],
      [Infinity, Infinity, 0],
    ];
    const r = hdbscan(d, { minClusterSize: 2, minSamples: 1, allowSingleCluster: true });
    expect(Array.from(r.labels)).toEqual([0, 0, -1]);
    expect(r.lambdas[2]).toBe(0);
  });
});

describe('hdbscan: properties', () => {
  const pointsArb = fc
    .record({ n: fc.integer({ min: 2, max: 14 }), dim: fc.integer({ min: 1, max: 3 }), seed: fc.integer() })
    .map(({ n, dim, seed }) => {
      const rng = createRng(seed);
      // Two or three loose groups, so the cuts have structure.
      return Array.from({ length: n }, (_, i) =>
        Array.from({ length: dim }, () => (i % 3) * 6 + rng.gaussian() * (1 + (i % 2))),
      );
    });

  it('cut at eps, its single-linkage tree (minSamples 1) equals DBSCAN(eps, minPts 2) of density-clustering', () => {
    fc.assert(
      fc.property(pointsArb, fc.double({ min: 0.01, max: 1, noNaN: true }), (points, t) => {
        const d = euclidean(points);
        const n = points.length;
        const result = hdbscan(d, { minClusterSize: 2, minSamples: 1 });
        const heights = Array.from(result.singleLinkage.distance);
        const eps = Math.max(1e-9, t * heights[heights.length - 1] * 1.1);
        const ours = cutSingleLinkage(result, n, eps);
        const dbscan = new densityClustering.DBSCAN();
        const ids = Array.from({ length: n }, (_, i) => i);
        const clusters = dbscan.run(ids, eps, 2, (a, b) => d[a][b]);
        const theirs = [...clusters, ...dbscan.noise.map((i) => [i])];
        expect(canonical(ours)).toBe(canonical(theirs));
      }),
      { numRuns: 60 },
    );
  });

  it('with minSamples 1, merge heights are the plain single-linkage heights (nearest-neighbour chain)', () => {
    fc.assert(
      fc.property(pointsArb, (points) => {
        const d = euclidean(points);
        const n = points.length;
        const { distance } = hdbscan(d, { minClusterSize: 2, minSamples: 1 }).singleLinkage;
        // Kruskal on the raw distances gives the same sorted heights.
        const edges: [number, number, number][] = [];
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) edges.push([d[i][j], i, j]);
        edges.sort((a, b) => a[0] - b[0]);
        const parent = Array.from({ length: n }, (_, i) => i);
        const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
        const heights: number[] = [];
        for (const [w, i, j] of edges) {
          const a = find(i);
          const b = find(j);
          if (a !== b) {
            parent[a] = b;
            heights.push(w);
          }
        }
        expect(Array.from(distance)).toEqual(heights);
      }),
      { numRuns: 60 },
    );
  });

  it('gives the same partition for any order of the points (minSamples 1, distinct distances)', () => {
    fc.assert(
      fc.property(pointsArb, fc.integer(), fc.boolean(), (points, seed, single) => {
        const n = points.length;
        const rng = createRng(seed);
        const perm = Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = rng.nextInt(i + 1);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        const options = { minClusterSize: Math.max(2, Math.floor(n / 2) + 1), minSamples: 1, allowSingleCluster: single };
        const base = hdbscan(euclidean(points), options).labels;
        const moved = hdbscan(euclidean(perm.map((p) => points[p])), options).labels;
        const back = new Int32Array(n);
        perm.forEach((p, k) => (back[p] = moved[k]));
        expect(canonical(partitionOf(back))).toBe(canonical(partitionOf(base)));
      }),
      { numRuns: 60 },
    );
  });

  it('with FLAME parameters, labels only 0 and −1 and admits at least ⌊n/2⌋+1 points', () => {
    fc.assert(
      fc.property(pointsArb, (points) => {
        const n = points.length;
        const { labels } = hdbscan(euclidean(points), {
          minClusterSize: Math.floor(n / 2) + 1,
          minSamples: 1,
          allowSingleCluster: true,
        });
        expect(labels.every((l) => l === 0 || l === -1)).toBe(true);
        expect(labels.filter((l) => l === 0).length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
      }),
      { numRuns: 60 },
    );
  });

  it('returns labels in −1..k−1 with every cluster non-empty, for any parameters', () => {
    fc.assert(
      fc.property(
        pointsArb,
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (points, mcs, ms, single) => {
          const r = hdbscan(euclidean(points), { minClusterSize: mcs, minSamples: ms, allowSingleCluster: single });
          const k = r.clusters.length;
          for (const l of r.labels) expect(l >= -1 && l < k).toBe(true);
          for (let c = 0; c < k; c++) expect(r.labels.includes(c)).toBe(true);
          // Every point leaves the condensed tree exactly once.
          const points_ = Array.from(r.condensedTree.child).filter((c) => c < points.length).sort((a, b) => a - b);
          expect(points_).toEqual(points.length === 1 ? [] : Array.from({ length: points.length }, (_, i) => i));
        },
      ),
      { numRuns: 80 },
    );
  });
});
