// copy.wgsl: strided copy, the one kernel behind permute/transpose, slice, concat, expand and
// contiguous.
// Algorithm: grid-stride loop over the index space `shape` (rank <= 8, row-major);
//   out[oo + sum(c_d * so_d)] = x[io + sum(c_d * si_d)] for the coordinates c of item i.
// Bindings: 0 x (read), 1 out (read_write), 2 p (uniform: n, rank, offsets io/oo, shape, si, so);
//   3 x4, 4 out4: vec4 views of x and out (copy3_vec4).
// Entry points: main (any rank <= 8, a division per axis and item), copy3 and
//   copy3_vec4 (at most 4 merged axes: 3 split per item, an outermost one along the grid's y),
//   expand_rows_vec4 (a (Z, 1, C) slice broadcast over R contiguous rows: a load per
//   ROWS_PER_ITEM stores, no index division per store).
// Tiling: WG invocations per workgroup; x: any workgroup count over the items; y (copy3,
//   copy3_vec4): one grid row per outer slice (the host dispatches p.shape[0].w rows).
override WG: u32 = 256u;
override ROWS_PER_ITEM: u32 = 16u;

struct Params { n: u32, rank: u32, io: u32, oo: u32, shape: array<vec4u, 2>, si: array<vec4u, 2>, so: array<vec4u, 2> }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> x4: array<vec4u>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4u>;

//!include strided_index.wgsl

// Offsets (in, out) of item i for main: rank p.rank, strides p.si and p.so (a division per axis).
fn item_offsets(i: u32) -> vec2u {
  return vec2u(p.io, p.oo) + strided_offsets(i, p.rank, p.shape, p.si, p.so, array<vec4u, 2>()).xy;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let off = item_offsets(i);
    out[off.y] = x[off.x];
  }
}

// Offsets (in, out) of item i of outer slice o for copy3 / copy3_vec4: (Z, R, C) in
// p.shape[0].xyz, strides in p.si[0].xyz and p.so[0].xyz (include/strided_index.wgsl: no loop
// over axes); an outermost fourth axis of p.shape[0].w items (1 when there is none), strides
// p.si[0].w and p.so[0].w, is the grid's y.
fn copy3_offsets(o: u32, i: u32) -> vec2u {
  let at = split3(i, p.shape[0].xyz);
  return vec2u(p.io + o * p.si[0].w + dot(at, p.si[0].xyz), p.oo + o * p.so[0].w + dot(at, p.so[0].xyz));
}

// main for at most 4 merged axes; p.n = Z * R * C items a slice.
@compute @workgroup_size(WG)
fn copy3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let off = copy3_offsets(gid.y, i);
    out[off.y] = x[off.x];
  }
}

// copy3 on vec4 items: C, the strides and the offsets counted in vec4s (the host takes it when
// both last strides are 1 and everything else is a multiple of 4).
@compute @workgroup_size(WG)
fn copy3_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let off = copy3_offsets(gid.y, i);
    out4[off.y] = x4[off.x];
  }
}

// expand_rows_vec4: out (Z, R, C) = x's (Z, C) slices broadcast over R rows, in vec4s: x at
// p.io + z p.si[0].x + c, out at p.oo + z p.so[0].x + r p.so[0].y + c, dims p.shape[0].xyz.
// Item (z, b, c) of p.n = Z * NB * C (NB = p.shape[1].x row blocks) loads its vec4 once and
// stores it to rows b ROWS_PER_ITEM + [0, ROWS_PER_ITEM) below R.
@compute @workgroup_size(WG)
fn expand_rows_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let dims = p.shape[0].xyz;
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let at = split3(i, vec3u(dims.x, p.shape[1].x, dims.z));
    let v = x4[p.io + at.x * p.si[0].x + at.z];
    let o = p.oo + at.x * p.so[0].x + at.z;
    let r0 = at.y * ROWS_PER_ITEM;
    for (var r = r0; r < min(r0 + ROWS_PER_ITEM, dims.y); r++) { out4[o + r * p.so[0].y] = v; }
  }
}
