// where.wgsl: out = cond != 0 ? a : b, with NumPy broadcasting of all three operands.
// Algorithm: grid-stride loop over the output; per-axis strides (0 on broadcast axes), rank <= 8
// after the host merges contiguous axes.
// Bindings: 0 cond (read f32), 1 a (read), 2 b (read), 3 out (read_write), 4 p (uniform).
// Tiling: WG invocations per workgroup, any workgroup count.
override WG: u32 = 256u;

struct Params { n: u32, rank: u32, shape: array<vec4u, 2>, sc: array<vec4u, 2>, sa: array<vec4u, 2>, sb: array<vec4u, 2> }

@group(0) @binding(0) var<storage, read> cond: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    var rest = i;
    var ic = 0u;
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let q = u32(d) / 4u;
      let r = u32(d) % 4u;
      let c = rest % p.shape[q][r];
      rest = rest / p.shape[q][r];
      ic += c * p.sc[q][r];
      ia += c * p.sa[q][r];
      ib += c * p.sb[q][r];
    }
    out[i] = select(b[ib], a[ia], cond[ic] != 0.0);
  }
}
