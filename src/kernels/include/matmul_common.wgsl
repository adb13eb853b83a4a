// matmul_common.wgsl (included by matmul_naive, matmul_tiled, matmul_reg): the shared uniform
// Params, bindings 0-4 (a, b, bias read; out read_write [batch, M, N]; p uniform), the batch
// offsets of broadcast operands and the bias/activation epilogue.
struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  rank: u32, has_bias: u32, act: u32, pad0: u32,
  bshape: array<vec4u, 2>,
  sa: array<vec4u, 2>,
  sb: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Element offsets of batch z's A and B matrices.
fn batch_offsets(z: u32) -> vec2u {
  var rem = z;
  var off = vec2u(0u);
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let s = p.bshape[d / 4][d % 4];
    let c = rem % s;
    rem = rem / s;
    off += c * vec2u(p.sa[d / 4][d % 4], p.sb[d / 4][d % 4]);
  }
  return off;
}

// NOTE: erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as in unary.wgsl.
fn erf_approx(v: f32) -> f32 {
  let x = abs(v);
  let t = 1.0 / (1.0 + 0.327591100 * x);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, v >= 0.0);
}

fn epilogue(acc: f32, j: u32) -> f32 {
  var v = acc;
  if (p.has_bias != 0u) { v += bias[j]; }
  switch p.act {
    case 1u: { v = max(v, 0.0); }
    case 2u: { v = 0.5 * v * (1.0 + erf_approx(v * 0.707106781)); }
    case 3u: {
      // NOTE: tanh through exp(-2|v|): large |v| gives +-1, never inf/inf.
      let e = exp(-2.0 * abs(v));
      let t = (1.0 - e) / (1.0 + e);
      v = select(-t, t, v >= 0.0);
    }
    default: {}
  }
  return v;
}
