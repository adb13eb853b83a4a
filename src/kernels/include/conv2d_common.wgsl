// conv2d_common.wgsl (included by conv2d, conv2d_shuffle and conv2d_grouped): the uniform Params,
// then bindings 0-5 and the coordinate helpers (conv2d_bindings.wgsl).
struct Params {
  n: u32, h: u32, w: u32, c: u32,
  kh: u32, kw: u32, co: u32, oh: u32,
  ow: u32, sh: u32, sw: u32, ph: u32,
  pw: u32, dh: u32, dw: u32, chunks: u32,
  kchunk: u32, x_stride: u32, w_stride: u32, y_stride: u32,
  // conv2d_shuffle dgrad by stride phase: input rows py + sh * [0, hq), columns px + sw * [0, wq),
  // and the taps that reach them, kh0 + khs * i (kw likewise). Other kernels get 0, H, W, 0, 1.
  py: u32, px: u32, hq: u32, wq: u32,
  kh0: u32, khs: u32, kw0: u32, kws: u32,
  // channels per group, input (CG) and output (COG): conv2d_grouped (C and CO elsewhere)
  cg: u32, cog: u32,
  // forward: 1 when a bias is bound (else the binding is a placeholder and the bias is 0)
  has_bias: u32,
  // forward: the activation applied after the bias (act_by_code's codes; 0 elsewhere)
  act: u32,
}

//!include conv2d_bindings.wgsl
//!include activations.wgsl

// The forward's bias of problem s, column c: bias[s * co + c], or 0 without one.
fn bias_at(s: u32, c: u32) -> f32 {
  if (p.has_bias == 0u) { return 0.0; }
  return bias[s * p.co + c];
}

// What the forward stores for a sum v (bias included): act(v) (p.act is 0 in the backward
// kernels, whose stores pass through the same helpers).
fn out_value(v: f32) -> f32 {
  return act_by_code(v, p.act);
}

fn out_value4(v: vec4f) -> vec4f {
  return act4_by_code(v, p.act);
}
