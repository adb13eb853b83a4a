// activations.wgsl (included by unary.wgsl, bias_act.wgsl, binary.wgsl, matmul_common.wgsl and
// conv2d_common.wgsl): the numerically careful scalar functions shared by the elementwise kernels
// and the matmul and conv2d epilogues. No bindings.

//!include nan_minmax.wgsl

// NOTE: erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7 absolute), enough for f32.
fn erf_approx(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.327591100 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-y, y, v >= 0.0);
}

// Exact gelu x * Phi(x).
fn gelu_erf(v: f32) -> f32 {
  return 0.5 * v * (1.0 + erf_approx(v * 0.707106781));
}

// d/dx x*Phi(x) = Phi(x) + x*phi(x).
fn gelu_grad(v: f32) -> f32 {
  return 0.5 * (1.0 + erf_approx(v * 0.707106781)) + v * 0.398942280 * exp(-0.5 * v * v);
}

// NOTE: tanh through exp(-2|v|) so that large |v| gives +-1, never inf/inf.
fn tanh_stable(v: f32) -> f32 {
  let e = exp(-2.0 * abs(v));
  let t = (1.0 - e) / (1.0 + e);
  return select(-t, t, v >= 0.0);
}

// The epilogue activation with code `code` (the hosts' ACT_CODE): 0 none, 1 relu, 2 gelu (erf),
// 3 tanh.
fn act_by_code(v: f32, code: u32) -> f32 {
  switch code {
    case 1u: { return relu_nan(v); }
    case 2u: { return gelu_erf(v); }
    case 3u: { return tanh_stable(v); }
    default: { return v; }
  }
}

fn act4_by_code(v: vec4f, code: u32) -> vec4f {
  return vec4f(act_by_code(v.x, code), act_by_code(v.y, code), act_by_code(v.z, code), act_by_code(v.w, code));
}
