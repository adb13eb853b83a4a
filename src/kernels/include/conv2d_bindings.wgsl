// conv2d_bindings.wgsl (included by conv2d_common, after its struct Params):
// bindings 0-5 (x, weight, bias, dy read; out read_write; p uniform) and the coordinate helpers
// (they read p.n, p.h and p.w).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

// Input coordinate of output coordinate o and kernel tap k (may be negative: padding).
fn in_coord(o: u32, stride: u32, pad: u32, k: u32, dil: u32) -> i32 {
  return i32(o * stride + k * dil) - i32(pad);
}

fn inside(ih: i32, iw: i32) -> bool {
  return ih >= 0 && ih < i32(p.h) && iw >= 0 && iw < i32(p.w);
}

// Output coordinate that input coordinate i reads at kernel tap k (in_coord's inverse):
// (i + pad - k*dil) / stride when that is a whole number in [0, size), else -1.
fn out_coord(i: u32, stride: u32, pad: u32, k: u32, dil: u32, size: u32) -> i32 {
  let t = i32(i + pad) - i32(k * dil);
  let o = t / i32(stride);
  return select(-1, o, t >= 0 && o * i32(stride) == t && o < i32(size));
}

// Pixel m of p.n images of rows x cols as (n, row, col); m past the last pixel is clamped to it.
fn pixel_of(m: u32, rows: u32, cols: u32) -> vec3u {
  let q = min(m, p.n * rows * cols - 1u);
  let t = q / cols;
  return vec3u(t / rows, t % rows, q % cols);
}

// Steps a pixel (n, row, col) of images of rows x cols to the next one in row-major order (the
// wgrad K walk over output pixels, the dgrad epilogue over one stride phase), without a division.
// (Parameter names must not shadow the bindings: the reflection would count them as used.)
fn next_pixel(n: ptr<function, u32>, row: ptr<function, u32>, col: ptr<function, u32>, rows: u32, cols: u32) {
  *col += 1u;
  if (*col == cols) {
    *col = 0u;
    *row += 1u;
    if (*row == rows) { *row = 0u; *n += 1u; }
  }
}
