// Seeded synthetic client updates that any shard can generate for its own columns without the
// others: value(client, k) depends only on (seed, client, k) through a counter-based hash, so a
// shard process never holds (or computes) another shard's columns. Used by the scale run, the
// BullMQ example and the tests as a `{ kind: 'module' }` shard source.
//
// data: { seed = 1, attackers = 0, shift = 5 }: clients 0..attackers−1 are shifted by `shift`
// (a crude Byzantine group); honest client i is m_k + 0.1·noise(i, k) with m_k = noise(−1, k).

/** A uniform float in [−1, 1) from (seed, a, b): two rounds of a 32-bit integer hash. */
function hash(seed, a, b) {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ a;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h ^= b;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h | 0) / 2147483648;
}

/** Columns [offset, offset + width) of all n clients (the ShardSource 'module' contract). */
export function loadShard({ n, offset, width, data = {} }) {
  const seed = data.seed ?? 1;
  const attackers = data.attackers ?? 0;
  const shift = data.shift ?? 5;
  const mean = new Float32Array(width);
  for (let k = 0; k < width; k++) mean[k] = hash(seed, -1, offset + k);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const row = new Float32Array(width);
    const extra = i < attackers ? shift : 0;
    for (let k = 0; k < width; k++) row[k] = mean[k] + 0.1 * hash(seed, i, offset + k) + extra;
    rows.push(row);
  }
  return { rows, vectors: { global: mean } };
}
