// copy.wgsl: strided copy, the one kernel behind permute/transpose, slice, concat, expand and
// contiguous.
// Algorithm: grid-stride loop over the index space `shape` (rank <= 8, row-major);
//   out[oo + sum(c_d * so_d)] = x[io + sum(c_d * si_d)] for the coordinates c of item i.
// Bindings: 0 x (read), 1 out (read_write), 2 p (uniform: n, rank, offsets io/oo, shape, si, so).
// Entry points: main (1-D grid, coordinates by division per element) and grid (3-D grid, below).
// Tiling: WG invocations per workgroup, any workgroup count.
override WG: u32 = 256u;

struct Params { n: u32, rank: u32, io: u32, oo: u32, shape: array<vec4u, 2>, si: array<vec4u, 2>, so: array<vec4u, 2> }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    var rest = i;
    var src = p.io;
    var dst = p.oo;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let q = u32(d) / 4u;
      let r = u32(d) % 4u;
      let c = rest % p.shape[q][r];
      rest = rest / p.shape[q][r];
      src += c * p.si[q][r];
      dst += c * p.so[q][r];
    }
    out[dst] = x[src];
  }
}

//!include strided_grid.wgsl

// main on a 3-D grid (include/strided_grid.wgsl: no division per element); the host takes it
// when the last axis fills a workgroup.
@compute @workgroup_size(WG)
fn grid(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n1 = size_back(p.shape, p.rank, 0u);
  let n0 = size_back(p.shape, p.rank, 1u);
  let i1 = stride_back(p.si, p.rank, 0u);
  let i0 = stride_back(p.si, p.rank, 1u);
  let o1 = stride_back(p.so, p.rank, 0u);
  let o0 = stride_back(p.so, p.rank, 1u);
  for (var z = gid.z; z < lead_count(p.shape, p.rank); z += nwg.z) {
    let base = vec2u(p.io, p.oo) + lead_offsets(z, p.shape, p.rank, p.si, p.so);
    for (var row = gid.y; row < n0; row += nwg.y) {
      for (var col = gid.x; col < n1; col += nwg.x * WG) {
        out[base.y + row * o0 + col * o1] = x[base.x + row * i0 + col * i1];
      }
    }
  }
}
