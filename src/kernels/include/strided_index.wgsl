// strided_index.wgsl (included by binary, copy, where, loss and embedding): where item i of a row-major index space
// lives in strided operands, the host having merged contiguous axes. No bindings.
//   split2: (row, column) of an item of a [rows, cols] space: one division.
//   split3: coordinates in a space of at most 3 axes (Z, R, C), padded with leading 1s: two
//     divisions per item (the fast entries).
//   strided_offsets: offsets through up to three stride sets in a space of up to 8 axes: a division per
//     axis, in a loop of constant trip count so that every uniform index is a constant.
// Why: a loop over `rank` axes reading dynamically indexed uniform arrays, with a u32 division
// per axis, ran elementwise copies 10-20x slower than a plain copy on lavapipe. Below 2^22 items
// (the host's F32_DIV) divisions are f32: a u32 division is 8 scalar ones on lavapipe, an f32 one
// a single vector instruction. Exact: (n + 0.5) / d is at least 0.5 / d from an integer, and its
// rounding error is below 2^22 / d * 2^-24 = 0.25 / d.
override F32_DIV: bool = false;

fn div_index(n: u32, d: u32) -> u32 {
  if (F32_DIV) { return u32((f32(n) + 0.5) / f32(d)); }
  return n / d;
}

// (row, col) of item i of a [rows, cols] index space.
fn split2(i: u32, cols: u32) -> vec2u {
  let row = div_index(i, cols);
  return vec2u(row, i - row * cols);
}

// (z, row, col) of item i of a (Z, R, C) = dims index space.
fn split3(i: u32, dims: vec3u) -> vec3u {
  let z = split2(i, dims.y * dims.z);
  return vec3u(z.x, split2(z.y, dims.z));
}

// Offsets of item i through strides s0, s1 and s2 (pass array<vec4u, 2>() for an unused set) in
// a space of `rank` (<= 8) axes of `shape`.
fn strided_offsets(i: u32, rank: u32, shape: array<vec4u, 2>, s0: array<vec4u, 2>, s1: array<vec4u, 2>,
                   s2: array<vec4u, 2>) -> vec3u {
  var rest = i;
  var off = vec3u(0u);
  for (var d = 7; d >= 0; d--) {
    if (u32(d) < rank) {
      let n = shape[d / 4][d % 4];
      let q = div_index(rest, n);
      off += (rest - q * n) * vec3u(s0[d / 4][d % 4], s1[d / 4][d % 4], s2[d / 4][d % 4]);
      rest = q;
    }
  }
  return off;
}
