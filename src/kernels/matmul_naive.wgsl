// matmul_naive.wgsl: ladder step 1, the baseline: one output element per invocation.
// Algorithm: out[z, i, j] = act(sum_k opA[z, i, k] * opB[z, k, j] + bias[j]), a plain loop over k.
//   opA = A ([M, K] row-major) or A^T (TRANS_A: A stored [K, M]); opB = B ([K, N]) or B^T
//   (TRANS_B: B stored [N, K]); transposes are read in place, never materialized.
// Batch: z indexes the broadcast batch shape p.bshape (rank p.rank <= 8, host-collapsed axes);
//   p.sa / p.sb are A's and B's element strides per batch axis (0 where broadcast).
// Bindings: a, b, bias (read; read only when p.has_bias), out (read_write [batch, M, N]), p.
// Epilogue (uniforms, not overrides: one pipeline serves every epilogue, and the branch runs
//   once per output): p.has_bias adds bias[j]; p.act 0 none, 1 relu, 2 gelu (erf), 3 tanh.
// Tiling: none; WG_X x WG_Y invocations per workgroup over (j, i), workgroup z over batches;
//   every axis grid-strides, so any M, N, batch fits in 65535 workgroups per dimension.
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;

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

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var z = gid.z; z < p.batch; z += nwg.z) {
    let off = batch_offsets(z);
    for (var i = gid.y; i < p.M; i += nwg.y * WG_Y) {
      for (var j = gid.x; j < p.N; j += nwg.x * WG_X) {
        var acc = 0.0;
        for (var k = 0u; k < p.K; k++) {
          let ia = select(i * p.K + k, k * p.M + i, TRANS_A);
          let ib = select(k * p.N + j, j * p.K + k, TRANS_B);
          acc = fma(a[off.x + ia], b[off.y + ib], acc);
        }
        out[(z * p.M + i) * p.N + j] = epilogue(acc, j);
      }
    }
  }
}
