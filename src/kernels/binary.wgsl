// binary.wgsl: elementwise f32 (op) f32 with NumPy broadcasting, one pipeline per op.
// Algorithm: grid-stride loop over the output; the override OP selects the function, a row of
//   BINARY_TABLE in src/ops/elementwise-table.ts, which generates `apply` (the include
//   binary_ops.wgsl); comparisons give 1.0 or 0.0.
// Entry points:
//   same:      a, b and out contiguous with one shape: out[i] = a[i] op b[i].
//   broadcast: out index -> (a, b) offsets through per-axis strides (0 on broadcast axes), rank <= 8
//              after the host merges contiguous axes.
//   broadcast3, broadcast3_vec4: the same when the merged axes are at most 3 (the usual bias add
//              [S, B, N] + [S, 1, N], row scalings, ...): (Z, R, C) in p.shape[0].xyz, strides in
//              p.sa[0].xyz / p.sb[0].xyz, coordinates from include/strided_index.wgsl (10-20x faster
//              than `broadcast` on lavapipe). The vec4 entry (C % 4 == 0, both last strides 1,
//              other strides % 4 == 0) counts C and the strides in vec4s.
//   scalar:    out[i] = a[i] op s, or s op a[i] when p.swap == 1 (s is a uniform f32).
//   same_vec4, scalar_vec4: the same on vec4 items (lengths % 4 == 0; p.n counts vec4s), since
//              memory-bound kernels move ~2.5x more bytes per second this way on lavapipe.
//   per_row, per_row_vec4: out [R, C] = a [R, C] op b [R] (one value per row; b op a when
//              p.swap == 1), C in p.shape[0].x (in vec4s for the vec4 entry, C % 4 == 0): one
//              division per item, no split3 (softmax-style row scalings and shifts).
//   per_col, per_col_vec4: out [R, C] = a [R, C] op b [C] (b op a when p.swap == 1), C as above.
// Bindings: 0 a (read), 1 b (read; absent in scalar), 2 out (read_write), 3 p (uniform);
//           4 a4, 5 b4 (read), 6 out4 (read_write) for the vec4 entry points.
// Tiling: WG invocations per workgroup, any workgroup count.
override OP: u32 = 0u;
override WG: u32 = 256u;

struct Params { n: u32, rank: u32, swap: u32, s: f32, shape: array<vec4u, 2>, sa: array<vec4u, 2>, sb: array<vec4u, 2> }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> a4: array<vec4f>;
@group(0) @binding(5) var<storage, read> b4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out4: array<vec4f>;

const F32_MAX: f32 = 0x1.fffffep+127f;

//!include activations.wgsl

fn pow_signed(x: f32, y: f32) -> f32 {
  // NOTE: WGSL pow is undefined for x <= 0; follow C99 pow as NumPy does: pow(1, y) = pow(x, 0) = 1
  // (NaN included), pow(-1, +-Inf) = 1, a negative finite base with a finite non-integer exponent
  // is NaN, infinities otherwise as pow(|x|, y) with the sign of an odd integer exponent.
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return x + y; }
  let ax = abs(x);
  let finite_y = abs(y) <= F32_MAX;
  let odd = finite_y && floor(y) == y && fract(y * 0.5) != 0.0;
  if (ax == 0.0) { return select(1.0 / ax, 0.0, y > 0.0); }
  if (ax == 1.0 && !finite_y) { return 1.0; }
  let r = exp2(y * log2(ax));
  if (x > 0.0) { return r; }
  if (finite_y && ax <= F32_MAX && floor(y) != y) { return (ax - ax) / (ax - ax); }
  return select(r, -r, odd);
}

//!include binary_ops.wgsl

@compute @workgroup_size(WG)
fn same(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    out[i] = apply(a[i], b[i]);
  }
}

//!include strided_index.wgsl

// The item a op b of the (a, b) offsets `off`.
fn apply_at(off: vec2u) -> f32 { return apply(a[off.x], b[off.y]); }

@compute @workgroup_size(WG)
fn broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    out[i] = apply_at(strided_offsets(i, p.rank, p.shape, p.sa, p.sb, array<vec4u, 2>()).xy);
  }
}

// broadcast3's extents (Z, R, C) and the strides of a and b, read once per invocation.
struct Axes3 { dims: vec3u, sa: vec3u, sb: vec3u }

fn axes3() -> Axes3 { return Axes3(p.shape[0].xyz, p.sa[0].xyz, p.sb[0].xyz); }

// The (a, b) offsets of output item i.
fn offsets3(i: u32, ax: Axes3) -> vec2u {
  let at = split3(i, ax.dims);
  return vec2u(dot(at, ax.sa), dot(at, ax.sb));
}

@compute @workgroup_size(WG)
fn broadcast3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ax = axes3();
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = apply_at(offsets3(i, ax)); }
}

@compute @workgroup_size(WG)
fn broadcast3_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let ax = axes3();
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out4[i] = apply4_at(offsets3(i, ax)); }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    out[i] = apply_ordered(a[i], p.s);
  }
}

fn apply4(x: vec4f, y: vec4f) -> vec4f {
  return vec4f(apply(x.x, y.x), apply(x.y, y.y), apply(x.z, y.z), apply(x.w, y.w));
}

// The vec4 item a4 op b4 of the (a4, b4) offsets `off`.
fn apply4_at(off: vec2u) -> vec4f { return apply4(a4[off.x], b4[off.y]); }

// x op y, or y op x when p.swap == 1 (x from a, y the scalar or broadcast operand).
fn apply_ordered(x: f32, y: f32) -> f32 {
  if (p.swap == 1u) { return apply(y, x); }
  return apply(x, y);
}
fn apply4_ordered(x: vec4f, y: vec4f) -> vec4f {
  if (p.swap == 1u) { return apply4(y, x); }
  return apply4(x, y);
}

@compute @workgroup_size(WG)
fn same_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    out4[i] = apply4(a4[i], b4[i]);
  }
}

@compute @workgroup_size(WG)
fn scalar_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  let s = vec4f(p.s);
  for (var i = gid.x; i < p.n; i += stride) {
    out4[i] = apply4_ordered(a4[i], s);
  }
}

// (row, column) of item i of an [R, C] space; C = p.shape[0].x.
fn row_col(i: u32) -> vec2u { return split2(i, p.shape[0].x); }

@compute @workgroup_size(WG)
fn per_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = apply_ordered(a[i], b[row_col(i).x]); }
}

@compute @workgroup_size(WG)
fn per_row_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let y = vec4f(b[row_col(i).x]);
    out4[i] = apply4_ordered(a4[i], y);
  }
}

@compute @workgroup_size(WG)
fn per_col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = apply_ordered(a[i], b[row_col(i).y]); }
}

@compute @workgroup_size(WG)
fn per_col_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out4[i] = apply4_ordered(a4[i], b4[row_col(i).y]); }
}
