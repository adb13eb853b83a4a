// bias_act.wgsl: a bias added per column, an activation, and their backward in one pass each.
// Tensors z, y, g, dz are [outer, len, inner] row-major (inner: the bias's columns, len: the rows
// that share one bias row, outer: bias rows, e.g. ensemble members); bias is [outer, inner].
//   fwd:  y = act(z + bias[o, k]).
//   bwd:  dz = g * act'(y), from the forward's output y: relu' = [y > 0] (NaN where y is NaN, as
//         reluBackward), tanh' = 1 - y^2; and the bias's gradient, column sums of dz over each
//         chunk of `chunk` rows: partial[o, c, k] = sum_{r in chunk c} dz[o, r, k] (chunks = 1: the
//         gradient itself; else the host sums the partials over c).
// ACT (override): 1 relu, 3 tanh (act_by_code's codes, src/ops/act-code.ts; 0: none, the identity).
// Entries: fwd, bwd on scalars; fwd_vec4, bwd_vec4 when inner % 4 == 0 (inner, k count vec4s).
// Bindings: z, bias, g, y (read); y_out, dz, partial (read_write); *4: their vec4 views; p (uniform).
// Tiling: WG invocations per workgroup; fwd: one invocation per item, grid-stride (F32_DIV:
// include/strided_index.wgsl's f32 index division, below 2^22 items); bwd: one
// invocation per (o, c, k), a sequential loop over its chunk's rows (neighbouring invocations
// read neighbouring columns), blocked sums of 32 rows.
override WG: u32 = 64u;
override ACT: u32 = 1u;

struct Params { outer: u32, len: u32, inner: u32, chunks: u32, chunk: u32 }

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y_out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;
@group(0) @binding(8) var<storage, read> z4: array<vec4f>;
@group(0) @binding(9) var<storage, read> bias4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> y_out4: array<vec4f>;
@group(0) @binding(11) var<storage, read> g4: array<vec4f>;
@group(0) @binding(12) var<storage, read> y4: array<vec4f>;
@group(0) @binding(13) var<storage, read_write> dz4: array<vec4f>;
@group(0) @binding(14) var<storage, read_write> partial4: array<vec4f>;

//!include activations.wgsl

fn act(v: vec4f) -> vec4f {
  return act4_by_code(v, ACT);
}

// act'(x) written through the output v = act(x).
fn act_grad(v: vec4f) -> vec4f {
  switch ACT {
    case 1u: { return select(select(vec4f(0.0), vec4f(1.0), v > vec4f(0.0)), v, vec4<bool>(is_nan(v.x), is_nan(v.y), is_nan(v.z), is_nan(v.w))); }
    case 3u: { return 1.0 - v * v; }
    default: { return vec4f(1.0); }
  }
}

//!include strided_index.wgsl

// The bias item of item i of [outer, len, inner]: (row, column) by split2 (f32 divisions where the
// host sets F32_DIV), the bias row o = row / len only when there is more than one.
fn bias_index(i: u32) -> u32 {
  let rc = split2(i, p.inner);
  return select(div_index(rc.x, p.len), 0u, p.outer == 1u) * p.inner + rc.y;
}

@compute @workgroup_size(WG)
fn fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.len * p.inner;
  for (var i = gid.x; i < total; i += nwg.x * WG) {
    y_out[i] = act(vec4f(z[i] + bias[bias_index(i)])).x;
  }
}

@compute @workgroup_size(WG)
fn fwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.len * p.inner;
  for (var i = gid.x; i < total; i += nwg.x * WG) {
    y_out4[i] = act(z4[i] + bias4[bias_index(i)]);
  }
}

// Invocation j's (o, c, k): the item of row 0 of its column, its chunk's rows [r0, r1), its output.
struct Slice { base: u32, r0: u32, r1: u32, out: u32 }

fn slice_of(j: u32) -> Slice {
  let k = j % p.inner;
  let oc = j / p.inner;
  let o = oc / p.chunks;
  let c = oc - o * p.chunks;
  let r0 = c * p.chunk;
  return Slice(o * p.len * p.inner + k, r0, min(p.len, r0 + p.chunk), j);
}

@compute @workgroup_size(WG)
fn bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.chunks * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let s = slice_of(j);
    var sum = 0.0;
    var r = s.r0;
    while (r < s.r1) {
      let end = min(s.r1, r + 32u);
      var part = 0.0;
      while (r < end) {
        let i = s.base + r * p.inner;
        let d = g[i] * act_grad(vec4f(y[i])).x;
        dz[i] = d;
        part += d;
        r++;
      }
      sum += part;
    }
    partial[s.out] = sum;
  }
}

@compute @workgroup_size(WG)
fn bwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.chunks * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let s = slice_of(j);
    var sum = vec4f(0.0);
    var r = s.r0;
    while (r < s.r1) {
      let end = min(s.r1, r + 32u);
      var part = vec4f(0.0);
      while (r < end) {
        let i = s.base + r * p.inner;
        let d = g4[i] * act_grad(y4[i]);
        dz4[i] = d;
        part += d;
        r++;
      }
      sum += part;
    }
    partial4[s.out] = sum;
  }
}
