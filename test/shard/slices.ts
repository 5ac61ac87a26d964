// Shared by the sharded-protocol property tests: cutting rows into shards (in a shuffled order, as
// engines may answer in any order), putting per-shard outputs back together, and a client that is
// NaN in one coordinate only.
import { shardRanges, type ShardSlice } from '../../src/shard/index.js';

/** `rows` cut into `shards` coordinate ranges (ragged last one), rotated by `shuffle`. */
export function slicesOf(rows: Float32Array[], shards: number, shuffle: number): ShardSlice[] {
  const d = rows[0].length;
  const slices = shardRanges(d, Math.min(shards, d)).map(({ offset, width }) => ({ offset, d, rows: rows.map((r) => r.subarray(offset, offset + width)) }));
  // Engines may answer in any order; the coordinator must not care beyond rounding.
  const k = Math.abs(shuffle) % slices.length;
  return [...slices.slice(k), ...slices.slice(0, k)];
}

/** The full vector from each slice's output part. */
export function assemble(slices: ShardSlice[], parts: Float32Array[], d: number): Float32Array {
  const out = new Float32Array(d);
  slices.forEach((s, i) => out.set(parts[i], s.offset));
  return out;
}

/** `rows` with one client NaN in one coordinate (both chosen by `nanAt`), or unchanged. */
export function withNan(rows: Float32Array[], nanAt: number | undefined): Float32Array[] {
  if (nanAt === undefined) return rows;
  const out = [...rows];
  const i = nanAt % rows.length;
  out[i] = Float32Array.from(out[i]);
  out[i][(nanAt >> 3) % out[i].length] = NaN;
  return out;
}
