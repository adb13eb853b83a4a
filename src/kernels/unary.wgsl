// unary.wgsl: elementwise f32 -> f32 functions, one pipeline per function.
// Algorithm: grid-stride loop, out[i] = f(x[i]); the function is chosen by the override OP
//   (0 neg, 1 abs, 2 sign (NaN at NaN), 3 exp, 4 log, 5 sqrt, 6 rsqrt, 7 square, 8 tanh, 9 sigmoid, 10 relu,
//    11 gelu (exact, erf), 12 sin, 13 cos, 14 reciprocal, 15 floor, 16 ceil, 17 erf, 18 round,
//    19 relu_grad_mask (1 where x > 0, NaN at NaN), 20 gelu_grad (d gelu / dx), 21 log1p, 22 expm1).
// Entry points: main (one f32 per item), main_vec4 (one vec4 per item, for lengths % 4 == 0:
//   memory-bound kernels move ~2.5x more bytes per second this way on lavapipe).
// Bindings (include/elementwise_io.wgsl): 0 x / 3 x4 (read), 1 out / 4 out4 (read_write), 2 p
//   (uniform: n items).
// Layout: both contiguous, same length. Tiling: WG invocations per workgroup, any workgroup count.
override OP: u32 = 0u;
override WG: u32 = 256u;

//!include elementwise_io.wgsl
//!include activations.wgsl

fn sigmoid_stable(v: f32) -> f32 {
  let e = exp(-abs(v));
  let s = 1.0 / (1.0 + e);
  return select(1.0 - s, s, v >= 0.0);
}

fn apply(v: f32) -> f32 {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return abs(v); }
    case 2u: { return select(sign(v), v, is_nan(v)); }
    case 3u: { return exp(v); }
    case 4u: { return log(v); }
    case 5u: { return sqrt(v); }
    case 6u: { return inverseSqrt(v); }
    case 7u: { return v * v; }
    case 8u: { return tanh_stable(v); }
    case 9u: { return sigmoid_stable(v); }
    case 10u: { return relu_nan(v); }
    case 11u: { return gelu_erf(v); }
    case 12u: { return sin(v); }
    case 13u: { return cos(v); }
    case 14u: { return 1.0 / v; }
    case 15u: { return floor(v); }
    case 16u: { return ceil(v); }
    case 17u: { return erf_approx(v); }
    case 18u: { return round(v); }
    case 19u: { return select(select(0.0, 1.0, v > 0.0), v, is_nan(v)); }
    case 20u: { return gelu_grad(v); }
    case 21u: {
      // NOTE: log1p via the (u-1) correction trick keeps precision for tiny v.
      let u = 1.0 + v;
      if (abs(v) > 0.5) { return log(u); }
      return select(log(u) * v / (u - 1.0), v, u == 1.0);
    }
    case 22u: {
      let u = exp(v);
      if (abs(v) > 0.5) { return u - 1.0; }
      return select((u - 1.0) * v / log(u), v, u == 1.0);
    }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    out[i] = apply(x[i]);
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    let v = x4[i];
    out4[i] = vec4f(apply(v.x), apply(v.y), apply(v.z), apply(v.w));
  }
}
