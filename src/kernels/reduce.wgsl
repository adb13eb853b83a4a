// reduce.wgsl: reductions of x viewed as [outer, len, inner] over the middle axis.
// The host splits long reductions: pass 1 reduces `chunks` slices of `chunk` items each into
// partials [outer, chunks, inner]; pass 2 reduces the partials the same way (chunks = 1).
// OP: 0 sum (blocked), 1 max, 2 min (max and min are NaN when any item is). Results are multiplied by `scale` (mean = sum/len).
// `inf` is +Infinity passed as a parameter (WGSL constants may not be infinite).
// Entry points:
//   strided:     one invocation per output (o, c, i), a sequential loop over its slice; for inner > 1
//                (neighbouring invocations read neighbouring addresses) or many short rows.
//   strided_vec4: strided for 4 neighbouring outputs per invocation when inner % 4 == 0 (a vec4
//                load per row instead of 4 scalar ones; the same order of additions per output).
//   rows:        inner == 1: one workgroup per (o, c), WG invocations stride over the slice, then a
//                tree reduction in workgroup memory (include/wg_reduce.wgsl); for long rows.
//   strided_arg: argmax (OP 1) / argmin (OP 2) over the whole axis (chunks = 1), first index on
//                ties, the first NaN when there is one (as NumPy); writes i32 indices to out_idx.
// Bindings: 0 x (read), 1 out (read_write f32) or 3 out_idx (read_write i32), 2 p (uniform);
//   4 x4, 5 out4: vec4 views of x and out (strided_vec4).
// Tiling: WG invocations per workgroup (override); grid-stride over outputs and workgroups.
override OP: u32 = 0u;
override WG: u32 = 64u;

struct Params { outer: u32, len: u32, inner: u32, chunks: u32, chunk: u32, scale: f32, inf: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> out_idx: array<i32>;
@group(0) @binding(4) var<storage, read> x4: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4f>;

//!include nan_minmax.wgsl
//!include strided_index.wgsl

fn identity() -> f32 {
  switch OP {
    case 1u: { return -p.inf; }
    case 2u: { return p.inf; }
    default: { return 0.0; }
  }
}

fn combine(a: f32, b: f32) -> f32 {
  switch OP {
    case 1u: { return max_nan(a, b); }
    case 2u: { return min_nan(a, b); }
    default: { return a + b; }
  }
}

alias WgValue = f32;
//!include wg_reduce.wgsl

// Rows [c * chunk, min(len, (c + 1) * chunk)) of chunk c.
fn chunk_rows(c: u32) -> vec2u {
  let r0 = c * p.chunk;
  return vec2u(r0, min(p.len, r0 + p.chunk));
}

// Items a sum adds into one block sum before adding the block to the total (reduce_slice, reduce_slice4).
const SUM_BLOCK = 32u;

// Reduces x[base + r * step] for r in [r0, r1).
// NOTE: sums are blocked (SUM_BLOCK items into a block sum, block sums into the total) so the
// error grows like 32 + n/32 roundings, not n. Kahan compensation does not help here:
// the driver's compiler reassociates floating-point adds and removes it.
fn reduce_slice(base: u32, step: u32, r0: u32, r1: u32) -> f32 {
  if (OP == 0u) {
    var total = 0.0;
    var r = r0;
    while (r < r1) {
      let end = min(r1, r + SUM_BLOCK);
      var part = 0.0;
      while (r < end) { part += x[base + r * step]; r++; }
      total += part;
    }
    return total;
  }
  var acc = identity();
  for (var r = r0; r < r1; r++) { acc = combine(acc, x[base + r * step]); }
  return acc;
}

@compute @workgroup_size(WG)
fn strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.chunks * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let oci = split3(j, vec3u(p.outer, p.chunks, p.inner));
    let rows = chunk_rows(oci.y);
    out[j] = reduce_slice(oci.x * p.len * p.inner + oci.z, p.inner, rows.x, rows.y) * p.scale;
  }
}

// reduce_slice on 4 neighbouring slices: x4[base + r * step] for r in [r0, r1), the same blocked
// sum (SUM_BLOCK), so each output's additions are those of strided.
fn reduce_slice4(base: u32, step: u32, r0: u32, r1: u32) -> vec4f {
  if (OP == 0u) {
    var total = vec4f(0.0);
    var r = r0;
    while (r < r1) {
      let end = min(r1, r + SUM_BLOCK);
      var part = vec4f(0.0);
      while (r < end) { part += x4[base + r * step]; r++; }
      total += part;
    }
    return total;
  }
  var acc = vec4f(identity());
  for (var r = r0; r < r1; r++) {
    let v = x4[base + r * step];
    acc = vec4f(combine(acc.x, v.x), combine(acc.y, v.y), combine(acc.z, v.z), combine(acc.w, v.w));
  }
  return acc;
}

@compute @workgroup_size(WG)
fn strided_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let inner4 = p.inner / 4u;
  let total = p.outer * p.chunks * inner4;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let oci = split3(j, vec3u(p.outer, p.chunks, inner4));
    let rows = chunk_rows(oci.y);
    out4[j] = reduce_slice4(oci.x * p.len * inner4 + oci.z, inner4, rows.x, rows.y) * p.scale;
  }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.chunks;
  for (var w = wid.x; w < total; w += nwg.x) {
    let oc = split2(w, p.chunks);
    let rows = chunk_rows(oc.y);
    // Invocation lid takes items r0 + lid, r0 + lid + WG, ...
    let r0 = rows.x;
    let r1 = rows.y;
    let mine = select(0u, (r1 - min(r1, r0 + lid) + WG - 1u) / WG, r0 + lid < r1);
    let reduced = wg_reduce(lid, reduce_slice(oc.x * p.len + r0 + lid, WG, 0u, mine));
    if (lid == 0u) { out[w] = reduced * p.scale; }
  }
}

@compute @workgroup_size(WG)
fn strided_arg(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let oi = split2(j, p.inner);
    let base = oi.x * p.len * p.inner + oi.y;
    var best = x[base];
    var at = 0u;
    for (var r = 1u; r < p.len; r++) {
      let v = x[base + r * p.inner];
      if (!is_nan(best) && ((OP == 1u && v > best) || (OP == 2u && v < best) || is_nan(v))) { best = v; at = r; }
    }
    out_idx[j] = i32(at);
  }
}
