// strided_grid.wgsl (included by binary and copy): a collapsed index space [..., n0, n1] walked on
// a 3-D grid: x = the last axis, y = the axis before it, z = the leading axes together. Only z is
// split into coordinates by division (once per row of the grid), since a division by a runtime
// value is 8 scalar divisions per SIMD group on lavapipe (the 1-D entries divide per element).
// Shapes and strides are `array<vec4u, 2>` uniforms of up to 8 axes.

fn axis_of(v: array<vec4u, 2>, d: u32) -> u32 { return v[d / 4u][d % 4u]; }

// Size of axis rank - 1 - back (1 past the first axis).
fn size_back(shape: array<vec4u, 2>, rank: u32, back: u32) -> u32 {
  return select(1u, axis_of(shape, rank - 1u - back), rank > back);
}

// Stride of axis rank - 1 - back (0 past the first axis).
fn stride_back(strides: array<vec4u, 2>, rank: u32, back: u32) -> u32 {
  return select(0u, axis_of(strides, rank - 1u - back), rank > back);
}

// Number of z rows: the product of all axes but the last two.
fn lead_count(shape: array<vec4u, 2>, rank: u32) -> u32 {
  var n = 1u;
  for (var d = 0u; d + 2u < rank; d++) { n *= axis_of(shape, d); }
  return n;
}

// Offsets (through two stride sets) of z row `z`'s coordinates on the leading axes.
fn lead_offsets(z: u32, shape: array<vec4u, 2>, rank: u32, s0: array<vec4u, 2>, s1: array<vec4u, 2>) -> vec2u {
  var rest = z;
  var off = vec2u(0u);
  for (var d = i32(rank) - 3; d >= 0; d--) {
    let c = rest % axis_of(shape, u32(d));
    rest = rest / axis_of(shape, u32(d));
    off += c * vec2u(axis_of(s0, u32(d)), axis_of(s1, u32(d)));
  }
  return off;
}
