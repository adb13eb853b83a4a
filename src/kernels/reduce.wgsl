// reduce.wgsl: reductions of x viewed as [outer, len, inner] over the middle axis.
// The host splits long reductions: pass 1 reduces `chunks` slices of `chunk` items each into
// partials [outer, chunks, inner]; pass 2 reduces the partials the same way (chunks = 1).
// OP: 0 sum (blocked), 1 max, 2 min (max and min are NaN when any item is). Results are multiplied by `scale` (mean = sum/len).
// `inf` is +Infinity passed as a parameter (WGSL constants may not be infinite).
// Entry points:
//   strided:     one invocation per output (o, c, i), a sequential loop over its slice; for inner > 1
//                (neighbouring invocations read neighbouring addresses) or many short rows.
//   rows:        inner == 1: one workgroup per (o, c), WG invocations stride over the slice, then a
//                tree reduction in workgroup memory; for long rows.
//   strided_arg: argmax (OP 1) / argmin (OP 2) over the whole axis (chunks = 1), first index on
//                ties, the first NaN when there is one (as NumPy); writes i32 indices to out_idx.
// Bindings: 0 x (read), 1 out (read_write f32) or 3 out_idx (read_write i32), 2 p (uniform).
// Tiling: WG invocations per workgroup (override); grid-stride over outputs and workgroups.
override OP: u32 = 0u;
override WG: u32 = 64u;

struct Params { outer: u32, len: u32, inner: u32, chunks: u32, chunk: u32, scale: f32, inf: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read_write> out_idx: array<i32>;

var<workgroup> partial: array<f32, WG>;

//!include nan_minmax.wgsl

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

// Reduces x[base + r * step] for r in [r0, r1).
// NOTE: sums are blocked (32 items into a block sum, block sums into the total) so the error
// grows like 32 + n/32 roundings, not n. Kahan compensation does not help here:
// the driver's compiler reassociates floating-point adds and removes it.
fn reduce_slice(base: u32, step: u32, r0: u32, r1: u32) -> f32 {
  if (OP == 0u) {
    var total = 0.0;
    var r = r0;
    while (r < r1) {
      let end = min(r1, r + 32u);
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
    let i = j % p.inner;
    let t = j / p.inner;
    let c = t % p.chunks;
    let o = t / p.chunks;
    let r0 = c * p.chunk;
    let r1 = min(p.len, r0 + p.chunk);
    out[j] = reduce_slice(o * p.len * p.inner + i, p.inner, r0, r1) * p.scale;
  }
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.chunks;
  for (var w = wid.x; w < total; w += nwg.x) {
    let c = w % p.chunks;
    let o = w / p.chunks;
    let r0 = c * p.chunk;
    let r1 = min(p.len, r0 + p.chunk);
    // Invocation lid takes items r0 + lid, r0 + lid + WG, ...
    let mine = select(0u, (r1 - min(r1, r0 + lid) + WG - 1u) / WG, r0 + lid < r1);
    partial[lid] = reduce_slice(o * p.len + r0 + lid, WG, 0u, mine);
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
      if (lid < half) { partial[lid] = combine(partial[lid], partial[lid + half]); }
      workgroupBarrier();
    }
    if (lid == 0u) { out[w] = partial[0] * p.scale; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn strided_arg(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let i = j % p.inner;
    let o = j / p.inner;
    let base = o * p.len * p.inner + i;
    var best = x[base];
    var at = 0u;
    for (var r = 1u; r < p.len; r++) {
      let v = x[base + r * p.inner];
      if (!is_nan(best) && ((OP == 1u && v > best) || (OP == 2u && v < best) || is_nan(v))) { best = v; at = r; }
    }
    out_idx[j] = i32(at);
  }
}
