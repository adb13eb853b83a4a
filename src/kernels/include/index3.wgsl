// index3.wgsl (included by binary and copy): coordinates of item i of an index space of at most 3
// axes (Z, R, C), the host having merged contiguous axes and padded with leading 1s. Per item:
// two divisions and no loop over axes (a loop reading dynamically indexed uniform arrays, with a
// u32 division per axis, ran elementwise copies 10-20x slower than a plain copy on lavapipe).
// Below 2^22 items (the host's F32_DIV) the divisions are f32: a u32 division is 8 scalar ones
// on lavapipe, an f32 one a single vector instruction. Exact: (n + 0.5) / d is at least 0.5 / d
// from an integer, and its rounding error is below 2^22 / d * 2^-24 = 0.25 / d.
override F32_DIV: bool = false;

fn div_index(n: u32, d: u32) -> u32 {
  if (F32_DIV) { return u32((f32(n) + 0.5) / f32(d)); }
  return n / d;
}

// (z, row, col) of item i of a (Z, R, C) = dims index space.
fn split3(i: u32, dims: vec3u) -> vec3u {
  let z = div_index(i, dims.y * dims.z);
  let rest = i - z * dims.y * dims.z;
  let row = div_index(rest, dims.z);
  return vec3u(z, row, rest - row * dims.z);
}
