// matmul_common.wgsl (included by matmul_naive, matmul_tiled, matmul_reg, matmul_packed): the
// transpose overrides TRANS_A, TRANS_B, the shared uniform Params, bindings 0-4 (a, b, bias read;
// out read_write [batch, M, N]; p uniform), the offsets of opA / opB items (a_index, b_index) and
// of broadcast operands' batches, and the scale/bias/activation epilogue.
// has_bias: 0 none, 1 bias [N] shared by every batch, 2 one bias row per batch ([batch, N]).
// opA = A^T (A stored [K, M]) when TRANS_A; opB = B^T (B stored [N, K]) when TRANS_B.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  rank: u32, has_bias: u32, act: u32, pad0: u32,
  alpha: f32, pad1: u32, pad2: u32, pad3: u32,
  bshape: array<vec4u, 2>,
  sa: array<vec4u, 2>,
  sb: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Offset of opA[i, k] in a batch's A: A is [M, K], or [K, M] when trans (TRANS_A).
fn a_index(i: u32, k: u32, trans: bool) -> u32 { return select(i * p.K + k, k * p.M + i, trans); }

// Offset of opB[k, j] in a batch's B: B is [K, N], or [N, K] when trans (TRANS_B).
fn b_index(k: u32, j: u32, trans: bool) -> u32 { return select(k * p.N + j, j * p.K + k, trans); }

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

//!include activations.wgsl

// act(alpha * acc + bias) for output column j of batch z.
fn epilogue(acc: f32, z: u32, j: u32) -> f32 {
  var v = p.alpha * acc;
  if (p.has_bias == 1u) { v += bias[j]; } else if (p.has_bias == 2u) { v += bias[z * p.N + j]; }
  return act_by_code(v, p.act);
}
