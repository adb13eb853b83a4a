// matmul_tiled.wgsl: ladder step 2, workgroup-memory tiling (the classic GPU kernel).
// Algorithm: each workgroup computes a BM x BN output tile (BM = WG_Y * TM, BN = WG_X * TN): for
//   each k-slab of TK it stages opA[BM, TK] and opB[TK, BN] in workgroup memory (zeros past the
//   edges), a barrier, then every invocation accumulates its TM x TN outputs from the staged
//   slab. Each global element is read once per tile instead of once per output: fast on
//   discrete GPUs; on lavapipe workgroup memory and barriers are slow (see matmul_reg.wgsl).
// Invocation (x, y) owns rows row0 + r * WG_Y + y and columns col0 + c * WG_X + x (neighbouring
//   invocations write neighbouring addresses). TM, TN <= 4.
// Transposes, batch broadcasting, bindings and the epilogue as in matmul_naive.wgsl:
//   a, b, bias (read), out (read_write [batch, M, N]), p (uniform Params).
// Tiling: override WG_X, WG_Y, TM, TN, TK; output tiles and batches grid-stride over workgroups
//   (tile loops depend only on workgroup_id, so barriers stay in uniform control flow).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TM: u32 = 4u;
override TN: u32 = 4u;
override TK: u32 = 16u;
override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * TN;
override A_TILE: u32 = TK * WG_Y * TM;
override B_TILE: u32 = TK * WG_X * TN;

//!include matmul_common.wgsl

// Staged slabs, k-major: As[kk * BM + m], Bs[kk * BN + n].
var<workgroup> As: array<f32, A_TILE>;
var<workgroup> Bs: array<f32, B_TILE>;

// opA[i, k] of the batch whose A starts at base; 0 past the edges.
fn a_or_zero(base: u32, i: u32, k: u32) -> f32 {
  if (i < p.M && k < p.K) { return a[base + a_index(i, k, TRANS_A)]; }
  return 0.0;
}

// opB[k, j] of the batch whose B starts at base; 0 past the edges.
fn b_or_zero(base: u32, k: u32, j: u32) -> f32 {
  if (j < p.N && k < p.K) { return b[base + b_index(k, j, TRANS_B)]; }
  return 0.0;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) lidx: u32, @builtin(num_workgroups) nwg: vec3u) {
  let tiles_m = (p.M + BM - 1u) / BM;
  let tiles_n = (p.N + BN - 1u) / BN;
  let threads = WG_X * WG_Y;
  for (var z = wid.z; z < p.batch; z += nwg.z) {
    let off = batch_offsets(z);
    for (var tm = wid.y; tm < tiles_m; tm += nwg.y) {
      for (var tn = wid.x; tn < tiles_n; tn += nwg.x) {
        let row0 = tm * BM;
        let col0 = tn * BN;
        // NOTE: explicitly zeroed per tile (see matmul_reg.wgsl: lavapipe zeroes a bare declaration once).
        var acc = array<array<f32, 4>, 4>();
        for (var k0 = 0u; k0 < p.K; k0 += TK) {
          for (var e = lidx; e < A_TILE; e += threads) { As[e] = a_or_zero(off.x, row0 + e % BM, k0 + e / BM); }
          for (var e = lidx; e < B_TILE; e += threads) { Bs[e] = b_or_zero(off.y, k0 + e / BN, col0 + e % BN); }
          workgroupBarrier();
          for (var kk = 0u; kk < TK; kk++) {
            var bv: array<f32, 4>;
            for (var c = 0u; c < TN; c++) { bv[c] = Bs[kk * BN + c * WG_X + lid.x]; }
            for (var r = 0u; r < TM; r++) {
              let av = As[kk * BM + r * WG_Y + lid.y];
              for (var c = 0u; c < TN; c++) { acc[r][c] = fma(av, bv[c], acc[r][c]); }
            }
          }
          workgroupBarrier();
        }
        for (var r = 0u; r < TM; r++) {
          let i = row0 + r * WG_Y + lid.y;
          for (var c = 0u; c < TN; c++) {
            let j = col0 + c * WG_X + lid.x;
            if (i < p.M && j < p.N) { out[(z * p.M + i) * p.N + j] = epilogue(acc[r][c], z, j); }
          }
        }
      }
    }
  }
}
