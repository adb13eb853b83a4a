// matmul_bound_blocks.wgsl: matmul_packed.wgsl's main loop (packed A and B, subgroups of 8) with
// RB x CB accumulator blocks of 32 rows x 4 columns per lane instead of one, so one loaded vec4
// of A feeds CB blocks and one of B feeds RB: loads per FMA fall to (RB + CB) / (2 RB CB) of the
// kernel's. Each block keeps its own 32-trip row loop (llvmpipe's NIR unrolls loops of at most 32
// iterations; the block stays indexed by constants only after unrolling, see row_block.wgsl).
// Compiled by bench/matmul-bound.ts with device.kernels.loadSource. Not used by the library.
// Layouts: matmul_packed's pa / pb (one batch, A and B packed, no transposes). Needs M a multiple
//   of 32 RB and N of 32 CB (the bench's 1024^3).
// Entry point blocks: workgroup = one subgroup; it owns rows (tm * RB + i) * 32 + [0, 32) and, per
//   lane l, columns 4 ((tn * CB + j) * SG + l) + [0, 4) for i < RB, j < CB; grid
//   [N / (32 CB), M / (32 RB)], tiles grid-stride; stores C as vec4s (no bias, no activation).
// Overrides RB, CB: 1 or 2. Bindings: pa, pb, out4, p (matmul_packed's; the rest unread).
enable subgroups;

override RB: u32 = 2u;
override CB: u32 = 1u;
const SG = 8u;
const RM = 32u;

//!include matmul_common.wgsl
//!include row_block.wgsl
@group(0) @binding(6) var<storage, read> pa: array<vec4f>;
@group(0) @binding(7) var<storage, read> pb: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> out4: array<vec4f>;

fn block_fma(acc: ptr<function, RowBlock>, al: array<vec4f, 4>, bv: array<vec4f, 4>) {
  for (var r = 0u; r < RM; r++) {
    let av = subgroupShuffle(al[r / SG], r % SG);
    (*acc)[r] = fma(vec4f(av.x), bv[0], (*acc)[r]);
    (*acc)[r] = fma(vec4f(av.y), bv[1], (*acc)[r]);
    (*acc)[r] = fma(vec4f(av.z), bv[2], (*acc)[r]);
    (*acc)[r] = fma(vec4f(av.w), bv[3], (*acc)[r]);
  }
}

fn block_store(acc: RowBlock, m0: u32, c4: u32) {
  let tile_rows = acc;
  for (var r = 0u; r < min(RM, p.M - m0); r++) {
    out4[((m0 + r) * p.N) / 4u + c4] = tile_rows[r];
  }
}

@compute @workgroup_size(SG)
fn blocks(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(subgroup_invocation_id) lane: u32) {
  let K4 = (p.K + 3u) / 4u;
  let tiles_m = p.M / (RM * RB);
  let tiles_n = p.N / (4u * SG * CB);
  for (var tm = wid.y; tm < tiles_m; tm += nwg.y) {
    for (var tn = wid.x; tn < tiles_n; tn += nwg.x) {
      let abase0 = tm * RB * (RM / SG) * K4 * SG + lane;
      let abase1 = abase0 + (RM / SG) * K4 * SG;
      let bbase0 = tn * CB * K4 * 4u * SG + lane;
      let bbase1 = bbase0 + K4 * 4u * SG;
      var acc00 = RowBlock();
      var acc01 = RowBlock();
      var acc10 = RowBlock();
      var acc11 = RowBlock();
      for (var k = 0u; k < K4; k++) {
        var al0: array<vec4f, 4>;
        var al1: array<vec4f, 4>;
        for (var g = 0u; g < 4u; g++) {
          al0[g] = pa[abase0 + (g * K4 + k) * SG];
          if (RB > 1u) { al1[g] = pa[abase1 + (g * K4 + k) * SG]; }
        }
        var bv0: array<vec4f, 4>;
        var bv1: array<vec4f, 4>;
        for (var kk = 0u; kk < 4u; kk++) {
          bv0[kk] = pb[bbase0 + (4u * k + kk) * SG];
          if (CB > 1u) { bv1[kk] = pb[bbase1 + (4u * k + kk) * SG]; }
        }
        block_fma(&acc00, al0, bv0);
        if (CB > 1u) { block_fma(&acc01, al0, bv1); }
        if (RB > 1u) { block_fma(&acc10, al1, bv0); }
        if (RB > 1u && CB > 1u) { block_fma(&acc11, al1, bv1); }
      }
      let m0 = tm * RB * RM;
      let c0 = tn * CB * SG + lane;
      block_store(acc00, m0, c0);
      if (CB > 1u) { block_store(acc01, m0, c0 + SG); }
      if (RB > 1u) { block_store(acc10, m0 + RM, c0); }
      if (RB > 1u && CB > 1u) { block_store(acc11, m0 + RM, c0 + SG); }
    }
  }
}
