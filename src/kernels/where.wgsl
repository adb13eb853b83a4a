// where.wgsl: out = cond != 0 ? a : b, with NumPy broadcasting of all three operands.
// Algorithm: grid-stride loop over the output; per-axis strides (0 on broadcast axes), rank <= 8
// after the host merges contiguous axes; offsets from include/strided_index.wgsl.
// Bindings: 0 cond (read f32), 1 a (read), 2 b (read), 3 out (read_write), 4 p (uniform).
// Tiling: WG invocations per workgroup, any workgroup count.
override WG: u32 = 256u;

struct Params { n: u32, rank: u32, shape: array<vec4u, 2>, sc: array<vec4u, 2>, sa: array<vec4u, 2>, sb: array<vec4u, 2> }

@group(0) @binding(0) var<storage, read> cond: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

//!include strided_index.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let off = strided_offsets(i, p.rank, p.shape, p.sc, p.sa, p.sb);
    out[i] = select(b[off.z], a[off.y], cond[off.x] != 0.0);
  }
}
