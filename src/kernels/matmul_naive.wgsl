// matmul_naive.wgsl: ladder step 1, the baseline: one output element per invocation.
// Algorithm: out[z, i, j] = act(alpha * sum_k opA[z, i, k] * opB[z, k, j] + bias[j] (or bias[z, j])),
//   a plain loop over k.
//   opA = A ([M, K] row-major) or A^T (TRANS_A: A stored [K, M]); opB = B ([K, N]) or B^T
//   (TRANS_B: B stored [N, K]); transposes are read in place, never materialized.
// Batch: z indexes the broadcast batch shape p.bshape (rank p.rank <= 8, host-collapsed axes);
//   p.sa / p.sb are A's and B's element strides per batch axis (0 where broadcast).
// Bindings: a, b, bias (read; read only when p.has_bias), out (read_write [batch, M, N]), p.
// Epilogue (uniforms, not overrides: one pipeline serves every epilogue, and the branch runs
//   once per output): p.alpha scales the product; p.has_bias 1 adds bias[j], 2 bias[z * N + j];
//   p.act 0 none, 1 relu, 2 gelu (erf), 3 tanh.
// Tiling: none; WG_X x WG_Y invocations per workgroup over (j, i), workgroup z over batches;
//   every axis grid-strides, so any M, N, batch fits in 65535 workgroups per dimension.
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

//!include matmul_common.wgsl

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var z = gid.z; z < p.batch; z += nwg.z) {
    let off = batch_offsets(z);
    for (var i = gid.y; i < p.M; i += nwg.y * WG_Y) {
      for (var j = gid.x; j < p.N; j += nwg.x * WG_X) {
        var acc = 0.0;
        for (var k = 0u; k < p.K; k++) {
          let ia = a_index(i, k, TRANS_A);
          let ib = b_index(k, j, TRANS_B);
          acc = fma(a[off.x + ia], b[off.y + ib], acc);
        }
        out[(z * p.M + i) * p.N + j] = epilogue(acc, z, j);
      }
    }
  }
}
