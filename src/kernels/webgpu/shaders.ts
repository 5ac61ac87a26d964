// WGSL sources of the WebGPU kernels. Every kernel reads the updates as one storage buffer of
// n rows × d float32 values (row-major) and a list `sel` of the rows it works on (the finite
// rows, or a rule's subset). Parameters come in one uniform struct P; each kernel documents which
// fields it reads. Each kernel is a function returning its source, so bundles that never use
// WebGPU drop the sources (a top-level template with interpolations is kept by tree-shakers).

/** Columns per block of the robust centre (as the plain Gram kernel). @internal */
export const CENTRE_BLOCK = 1024;
/** Rows per Gram tile (a tile is TILE × TILE pairs, one per thread). @internal */
export const TILE = 16;
/** Columns multiplied per panel: each float32 lane sum adds at most this many products. @internal */
export const PANEL = 64;
/** Most columns one Gram workgroup adds (64 products · 16 · 16 · 16, see gram). @internal */
export const MAX_GRAM_CHUNK = PANEL * 16 * 16 * 16;
/** Values of the selection kernel's shared tile (16 KiB: WebGPU's guaranteed workgroup storage). @internal */
export const SELECT_TILE = 4096;
/** Most flagged columns the selection kernel lists for the host (more: the whole call runs on the host). @internal */
export const SELECT_FLAG_CAP = 4096;

const PARAMS = /* wgsl */ `
struct P { n: u32, d: u32, m: u32, nb: u32, a: u32, b: u32, c: u32, e: u32, gx: u32, pad0: u32, pad1: u32, pad2: u32 }
`;

/** Workgroup index of a dispatch that may be split over x and y (x ≤ 65535 per dimension). */
const LINEAR = /* wgsl */ `
fn lin_index(wg: vec3u) -> u32 { return wg.x + wg.y * p.gx; }
`;

/**
 * blockmax: for row i (all n rows) and block b of CENTRE_BLOCK columns, the largest |x| as its
 * float32 bits with the sign cleared (an exact, order-preserving integer), or 0xffffffff when the
 * block holds NaN or ±∞. Dispatch (nb, n). Reads P.n, P.d, P.nb. Output n × nb.
 *
 * With P.c = 1 it measures the centred values instead: row sel[i] minus the centre row of the
 * block, both halved (so no difference overflows), for i < P.m; with P.c = 2 the values of row
 * sel[i] themselves, from their bits (no float operation: subnormals count even where a GPU
 * flushes them in arithmetic). Dispatch (nb, m).
 */
export const BLOCKMAX = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read> centre: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> red: array<u32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let b = wg.x;
  let i = wg.y;
  let c0 = b * ${CENTRE_BLOCK}u;
  let c1 = min(c0 + ${CENTRE_BLOCK}u, p.d);
  var mx = 0u;
  if (p.c == 0u) {
    for (var c = c0 + t; c < c1; c += 256u) {
      let v = bitcast<u32>(x[i * p.d + c]) & 0x7fffffffu;
      mx = max(mx, select(v, 0xffffffffu, v >= 0x7f800000u));
    }
  } else if (p.c == 2u) {
    let row = sel[i];
    for (var c = c0 + t; c < c1; c += 256u) {
      mx = max(mx, bitcast<u32>(x[row * p.d + c]) & 0x7fffffffu);
    }
  } else {
    let row = sel[i];
    let r = centre[b];
    for (var c = c0 + t; c < c1; c += 256u) {
      let y = x[row * p.d + c] * 0.5 - x[r * p.d + c] * 0.5;
      mx = max(mx, bitcast<u32>(y) & 0x7fffffffu);
    }
  }
  red[t] = mx;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  if (t == 0u) { out[i * p.nb + b] = red[0]; }
}
`;

/** rowmax: out[i] = max over the P.nb entries of row i of a (rows × nb). Dispatch (rows). */
export const ROWMAX = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<u32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = wg.x;
  var mx = 0u;
  for (var b = t; b < p.nb; b += 256u) { mx = max(mx, a[i * p.nb + b]); }
  red[t] = mx;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  if (t == 0u) { out[i] = red[0]; }
}
`;

/**
 * centre: for every block b, the row (among sel[0..m)) whose block maximum is the lower median,
 * ties to the lowest position: the plain kernel's robust centre. Dispatch ceil(nb / 64).
 */
export const CENTRE = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> mags: array<u32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read_write> centre: array<u32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.nb) { return; }
  let want = (p.m - 1u) / 2u;
  for (var k = 0u; k < p.m; k++) {
    let vk = mags[sel[k] * p.nb + b];
    var rank = 0u;
    for (var j = 0u; j < p.m; j++) {
      let vj = mags[sel[j] * p.nb + b];
      if (vj < vk || (vj == vk && j < k)) { rank++; }
    }
    if (rank == want) { centre[b] = sel[k]; return; }
  }
}
`;

/**
 * scales: from each row's largest halved centred magnitude M (float32 bits), the exponent t with
 * 2M·2^t in [1/2, 1) (0 when M = 0): the row's own power-of-two scale. Dispatch ceil(m / 64).
 */
export const SCALES = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> mx: array<u32>;
@group(0) @binding(1) var<storage, read_write> ts: array<i32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  if (k >= p.m) { return; }
  let bits = mx[k] & 0x7fffffffu;
  let e = i32(bits >> 23u);
  var t = 0;
  if (bits == 0u) {
    t = 0;
  } else if (e == 0) {
    t = 147 - i32(firstLeadingBit(bits));
  } else {
    t = 125 - e;
  }
  ts[k] = t;
}
`;

/**
 * gram: the lower triangle of the (scaled, centred) Gram matrix, one partial sum per pair and
 * chunk of P.a columns. Workgroup (16, 16) = one tile of 16 × 16 pairs (i ≥ j tiles only, listed
 * linearly); workgroup y = the chunk. Each panel of 64 columns of both tiles' rows is loaded into
 * shared memory centred on the block's centre row and multiplied by the row's power of two; each
 * thread adds its pair's 64 products in float32, then panels are added in levels of 16 (16 panels,
 * 16 of those, 16 of those: ≤ 262144 columns per chunk), so no float32 sum adds more than 64
 * terms. The host adds the chunks in float64 and undoes the scales. P.c = 1: centred; P.e = 1:
 * diagonal tiles only (norms), the diagonal written compactly (chunk × m). P.b = number of tiles per side.
 */
export const GRAM = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read> centre: array<u32>;
@group(0) @binding(3) var<storage, read> ts: array<i32>;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
var<workgroup> ta: array<f32, ${TILE * (PANEL + 1)}>;
var<workgroup> tb: array<f32, ${TILE * (PANEL + 1)}>;
// v·2^t in two exact steps (ldexp's exponent must stay within the float32 range).
fn scale2(v: f32, t: i32) -> f32 { let h = t / 2; return ldexp(ldexp(v, h), t - h); }
// The float32 with bits b, times 2^t, built from the bits: a subnormal input keeps its value even
// where the GPU flushes subnormal operands (its integer mantissa is converted exactly).
fn scaled(b: u32, t: i32) -> f32 {
  if ((b & 0x7f800000u) == 0u) {
    let mag = f32(b & 0x7fffffu);
    return scale2(select(mag, -mag, (b >> 31u) == 1u), t - 149);
  }
  return scale2(bitcast<f32>(b), t);
}
fn biased(b: u32) -> i32 { return i32((b >> 23u) & 0xffu); }
fn value(k: u32, c: u32) -> f32 {
  let vb = x[sel[k] * p.d + c];
  let t = ts[k];
  if (p.c == 0u) { return scaled(vb, t); }
  let rb = x[centre[c / ${CENTRE_BLOCK}u] * p.d + c];
  // Scale first when neither scaled value can overflow (exact, subnormals included), else
  // subtract first (|v − r| is then at least the scale's reciprocal: no subnormal result).
  if (biased(vb) + t < 253 && biased(rb) + t < 253) { return scaled(vb, t) - scaled(rb, t); }
  return scale2(bitcast<f32>(vb) - bitcast<f32>(rb), t);
}
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let pidx = wg.x;
  var ti = 0u;
  var tj = 0u;
  if (p.e == 1u) {
    ti = pidx;
    tj = pidx;
  } else {
    ti = u32((sqrt(8.0 * f32(pidx) + 1.0) - 1.0) * 0.5);
    loop { if (ti == 0u || ti * (ti + 1u) / 2u <= pidx) { break; } ti = ti - 1u; }
    loop { if ((ti + 1u) * (ti + 2u) / 2u > pidx) { break; } ti = ti + 1u; }
    tj = pidx - ti * (ti + 1u) / 2u;
  }
  let chunk = wg.y;
  let c0 = chunk * p.a;
  let c1 = min(c0 + p.a, p.d);
  let t = l.y * ${TILE}u + l.x;
  var acc1 = 0.0;
  var acc2 = 0.0;
  var acc3 = 0.0;
  var n1 = 0u;
  var n2 = 0u;
  for (var cp = c0; cp < c1; cp += ${PANEL}u) {
    for (var q = 0u; q < ${(TILE * PANEL) / 256}u; q++) {
      let e = t + q * 256u;
      let rr = e / ${PANEL}u;
      let cc = e % ${PANEL}u;
      let col = cp + cc;
      let ka = ti * ${TILE}u + rr;
      let kb = tj * ${TILE}u + rr;
      var va = 0.0;
      var vb = 0.0;
      if (col < c1) {
        if (ka < p.m) { va = value(ka, col); }
        if (kb < p.m) { vb = value(kb, col); }
      }
      ta[rr * ${PANEL + 1}u + cc] = va;
      tb[rr * ${PANEL + 1}u + cc] = vb;
    }
    workgroupBarrier();
    var s = 0.0;
    for (var cc = 0u; cc < ${PANEL}u; cc++) {
      s = s + ta[l.y * ${PANEL + 1}u + cc] * tb[l.x * ${PANEL + 1}u + cc];
    }
    workgroupBarrier();
    acc1 = acc1 + s;
    n1 = n1 + 1u;
    if (n1 == 16u) {
      acc2 = acc2 + acc1;
      acc1 = 0.0;
      n1 = 0u;
      n2 = n2 + 1u;
      if (n2 == 16u) {
        acc3 = acc3 + acc2;
        acc2 = 0.0;
        n2 = 0u;
      }
    }
  }
  let i = ti * ${TILE}u + l.y;
  let j = tj * ${TILE}u + l.x;
  if (p.e == 1u) {
    if (i < p.m && i == j) { part[chunk * p.m + i] = acc3 + (acc2 + acc1); }
  } else if (i < p.m && j < p.m) {
    part[chunk * p.m * p.m + i * p.m + j] = acc3 + (acc2 + acc1);
  }
}
`;

/**
 * combine: out[c] = Σₖ w[k]·x[sel[k]][c] (+ P.e-as-float · offset[c] when P.c = 1). Each weight
 * comes as a float32 mantissa and a power of two (w[2k], w[2k+1]), and the power is applied to
 * the value first (from its bits, exactly), so a tiny weight on a huge value (1e-40 · 3.4e38)
 * keeps its product. Sums in float32 of halved terms (no partial sum overflows), at most 32
 * terms per sum before it joins a second accumulator, doubled and clamped to ±3.4028235e38 at
 * the end. One thread per column. Reads P.d, P.m.
 */
export const COMBINE = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> offv: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: P;
${LINEAR}
fn scale2(v: f32, t: i32) -> f32 { let h = t / 2; return ldexp(ldexp(v, h), t - h); }
fn scaled(b: u32, t: i32) -> f32 {
  if ((b & 0x7f800000u) == 0u) {
    let mag = f32(b & 0x7fffffu);
    return scale2(select(mag, -mag, (b >> 31u) == 1u), t - 149);
  }
  return scale2(bitcast<f32>(b), t);
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let c = lin_index(wg) * 256u + t;
  if (c >= p.d) { return; }
  var acc1 = 0.0;
  var acc2 = 0.0;
  if (p.c == 1u) { acc2 = bitcast<f32>(p.e) * (offv[c] * 0.5); }
  var k1 = 0u;
  for (var k = 0u; k < p.m; k++) {
    acc1 = acc1 + bitcast<f32>(w[2u * k]) * scaled(x[sel[k] * p.d + c], bitcast<i32>(w[2u * k + 1u]) - 1);
    k1 = k1 + 1u;
    if (k1 == 32u) { acc2 = acc2 + acc1; acc1 = 0.0; k1 = 0u; }
  }
  let h = clamp(acc2 + acc1, -0x1.fffffep126f, 0x1.fffffep126f);
  out[c] = h * 2.0;
}
`;

/**
 * select: column-wise median (P.a = 0), trimmed mean (P.a = 1, P.b = values trimmed per tail) or
 * mean around the median (P.a = 2, P.b = values kept), for m = P.m rows, P.c columns per
 * workgroup (P.c · m ≤ 4096). The workgroup loads its columns as order-preserving integer keys,
 * ranks every value within its column (ties: by row position), writes each key at its rank (a
 * sorted copy of the column, exact: no float arithmetic), then one thread per column reduces it.
 * Columns whose result float32 arithmetic could not match the plain kernel's float64 arithmetic
 * bit for bit (the even median's (u + v)/2 when u, v are tiny or far apart in exponent; the
 * window comparisons of meamed when values are tiny, huge or far apart) are listed in flags for
 * the host to recompute. P.e = the flag list's capacity.
 */
export const SELECT = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> keys: array<u32, ${SELECT_TILE}>;
${LINEAR}
fn tokey(b: u32) -> u32 { return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u); }
fn fromkey(k: u32) -> f32 { return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u)); }
fn expo(v: f32) -> i32 { return i32((bitcast<u32>(v) >> 23u) & 0xffu); }
// Nonzero, from the bits (a GPU may treat subnormal operands of a comparison as 0).
fn nz(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) != 0u; }
// A value float32 sums cannot handle exactly here: nonzero and tiny (subnormal results may be
// flushed) or huge (sums may overflow).
fn risky(v: f32) -> bool { let e = expo(v); return nz(v) && (e < 27 || e >= 252); }
// Largest exponent gap between the nonzero values among a, b, c.
fn span3(a: f32, b: f32, c: f32) -> i32 {
  var lo = 1000;
  var hi = -1000;
  if (nz(a)) { lo = min(lo, expo(a)); hi = max(hi, expo(a)); }
  if (nz(b)) { lo = min(lo, expo(b)); hi = max(hi, expo(b)); }
  if (nz(c)) { lo = min(lo, expo(c)); hi = max(hi, expo(c)); }
  return max(0, hi - lo);
}
// Exact: a + b ≤ c + d (two-sums; valid for values that are not unsafe).
fn sumle(a: f32, b: f32, c: f32, d: f32) -> bool {
  let s1 = a + b;
  let z1 = s1 - a;
  let e1 = (a - (s1 - z1)) + (b - z1);
  let s2 = c + d;
  let z2 = s2 - c;
  let e2 = (c - (s2 - z2)) + (d - z2);
  return s1 < s2 || (s1 == s2 && e1 <= e2);
}
// Mean of the sorted values [r0, r1) of the column at base: Neumaier-compensated float32 sum,
// scaled by 2⁻¹² first when the values reach 2¹⁰⁰ (no sum of ≤ 1024 values overflows), clamped to
// ±3.4028235e38.
fn meanof(base: u32, r0: u32, r1: u32) -> f32 {
  let big = max(expo(fromkey(keys[base + r0])), expo(fromkey(keys[base + r1 - 1u]))) >= 227;
  let sc = select(1.0, 0.000244140625, big);
  var s = 0.0;
  var comp = 0.0;
  for (var r = r0; r < r1; r++) {
    let v = fromkey(keys[base + r]) * sc;
    let u = s + v;
    if (abs(s) >= abs(v)) { comp = comp + ((s - u) + v); } else { comp = comp + ((v - u) + s); }
    s = u;
  }
  let mean = (s + comp) / f32(r1 - r0);
  if (big) { return clamp(mean, -0x1.fffffep115f, 0x1.fffffep115f) * 4096.0; }
  return mean;
}
fn flag(c: u32) {
  let slot = atomicAdd(&flags[0], 1u);
  if (slot < p.e) { atomicStore(&flags[slot + 1u], c); }
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let m = p.m;
  let cols = p.c;
  let cbase = lin_index(wg) * cols;
  let total = cols * m;
  for (var e = t; e < total; e += 256u) {
    let cl = e / m;
    let k = e % m;
    let c = cbase + cl;
    var key = 0u;
    if (c < p.d) { key = tokey(x[sel[k] * p.d + c]); }
    keys[e] = key;
  }
  workgroupBarrier();
  var rk: array<u32, 16>;
  var kv: array<u32, 16>;
  var q = 0u;
  for (var e = t; e < total; e += 256u) {
    let cl = e / m;
    let k = e % m;
    let base = cl * m;
    let ke = keys[e];
    var r = 0u;
    for (var j = 0u; j < m; j++) {
      let kj = keys[base + j];
      if (kj < ke || (kj == ke && j < k)) { r = r + 1u; }
    }
    rk[q] = base + r;
    kv[q] = ke;
    q = q + 1u;
  }
  workgroupBarrier();
  for (var z = 0u; z < q; z++) { keys[rk[z]] = kv[z]; }
  workgroupBarrier();
  if (t >= cols) { return; }
  let c = cbase + t;
  if (c >= p.d) { return; }
  let base = t * m;
  let k = m / 2u;
  var res = 0.0;
  if (p.a == 1u) {
    res = meanof(base, p.b, m - p.b);
  } else {
    // The median as u + v = 2·med (u = v for odd m).
    var u = fromkey(keys[base + k]);
    var v = u;
    if ((m & 1u) == 0u) {
      u = fromkey(keys[base + k - 1u]);
      if (risky(u) || risky(v) || span3(u, v, 0.0) > 26) { flag(c); }
    }
    if (p.a == 0u) {
      res = select(u * 0.5 + v * 0.5, v, (m & 1u) == 1u);
    } else {
      let keep = p.b;
      if (keep == m) {
        res = meanof(base, 0u, m);
      } else {
        var lo = 0u;
        if (k > keep) { lo = k - keep; }
        let hi = min(k, m - keep);
        var a = hi;
        var bad = risky(u) || risky(v);
        for (var s = lo; s < hi; s++) {
          let xa = fromkey(keys[base + s]);
          let xb = fromkey(keys[base + s + keep]);
          if (risky(xa) || risky(xb) || span3(u, v, xa) > 26 || span3(u, v, xb) > 26) { bad = true; }
          if (sumle(u, v, xa, xb)) { a = s; break; }
        }
        if (bad) { flag(c); }
        res = meanof(base, a, a + keep);
      }
    }
  }
  if ((bitcast<u32>(res) & 0x7fffffffu) == 0u) { res = 0.0; }
  out[c] = res;
}
`;

/** gather: out[q·m + k] = x[sel[k]][cols[q]] for the listed columns (host recomputation). Dispatch ceil(count·m / 256). */
export const GATHER = (): string => /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> sel: array<u32>;
@group(0) @binding(2) var<storage, read> cols: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= p.a * p.m) { return; }
  let q = e / p.m;
  let k = e % p.m;
  out[e] = x[sel[k] * p.d + cols[q]];
}
`;
