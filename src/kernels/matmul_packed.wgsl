// matmul_packed.wgsl: ladder step 4, packed operands and subgroup broadcasts (what lavapipe likes).
// Why: on lavapipe a storage load whose address differs across the 8 SIMD lanes of a subgroup
//   is a loop over the lanes (a branch and a bounds check per lane and component), so loads, not
//   FMAs, set the speed. Here every lane loads 16 contiguous bytes from a packed copy, and each
//   row of A reaches all lanes by subgroupShuffle, so one load of A feeds 8 rows.
// Packed layouts (zero-padded, so the main loop needs no bounds checks; transposes and batch
//   broadcasting are resolved while packing):
//   pa [za][MG][K4][SG] vec4: opA[g * SG + l, 4 k4 .. 4 k4 + 3]           (MG = M padded to RM, / SG)
//   pb [zb][NG][K4 * 4][SG] vec4: opB[k, 4 (g * SG + l) .. 4 (g * SG + l) + 3]  (NG = N padded to 4 SG, / 4 SG)
//   za / zb is 1 when the operand is shared by every batch (p.pad0 bit 0 / bit 1), else p.batch.
// Entry points:
//   (With A_DIRECT / B_DIRECT, main reads that operand in place and its pack pass is skipped;
//   A_DIRECT with TRANS_A reads A^T in place, as vec4s along M: see main.)
//   pack_a, pack_b: one vec4 of pa / pb per invocation (3-D grid, grid-stride), into `packed`.
//   main: workgroup = one subgroup of SG lanes; it owns rows tm * RM + [0, RM) and, per lane l,
//         columns 4 (tn * SG + l) + [0, 4): RM x 4 accumulators per lane (a RowBlock). Wider
//         blocks (8 columns a lane) spilled and ran 3-5x slower.
//         Output tiles and batches grid-stride; the epilogue (bias, activation) as in the ladder.
// Bindings: a, b (read; pack entries), bias (read), out (read_write [batch, M, N]; out4 is its vec4
//   view, used by main instead when OUT_VEC4), p (uniform
//   Params of matmul_common), packed (read_write; pack entries), pa, pb (read; main), a4, b4
//   (vec4 views of a and b: pack entries with VEC4_A / VEC4_B, main with A_DIRECT / B_DIRECT;
//   the host binds a placeholder where they are not read).
// Tiling: override RM (a multiple of SG, <= 32). Needs subgroups of at least SG lanes.
enable subgroups;

override RM: u32 = 32u;
// Pack passes read 4 floats per load through a4 / b4 (the host sets them only when
// !TRANS_A and K % 4 == 0 / !TRANS_B and N % 4 == 0, so every vec4 is aligned and in its row).
override VEC4_A: bool = false;
override VEC4_B: bool = false;
// main reads A unpacked through a4 (no pack_a pass). The host sets it when VEC4_A holds and rows
// are short enough that 32 of them stay in cache, or with TRANS_A when M % 4 == 0 and
// K % 4 == 0 (see packedInPlace in matmul-select.ts).
override A_DIRECT: bool = false;
// main reads B in place through b4 (no pack_b pass; the host sets it when !TRANS_B and
// K % 4 == 0 and N % 4 == 0, and rows are short; see matmul.ts).
override B_DIRECT: bool = false;
// main stores a row's 4 outputs as one vec4 through out4 (the host sets it when N % 4 == 0 and
// binds a placeholder to out; otherwise out4 gets the placeholder).
override OUT_VEC4: bool = false;
const SG = 8u;

//!include matmul_common.wgsl
//!include row_block.wgsl
@group(0) @binding(5) var<storage, read_write> packed: array<vec4f>;
@group(0) @binding(6) var<storage, read> pa: array<vec4f>;
@group(0) @binding(7) var<storage, read> pb: array<vec4f>;
@group(0) @binding(8) var<storage, read> a4: array<vec4f>;
@group(0) @binding(9) var<storage, read> b4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> out4: array<vec4f>;

fn k4_count() -> u32 { return (p.K + 3u) / 4u; }
fn row_groups() -> u32 { return (p.M + RM - 1u) / RM * (RM / SG); }
fn col_groups() -> u32 { return (p.N + 4u * SG - 1u) / (4u * SG); }
fn a_shared() -> bool { return (p.pad0 & 1u) != 0u; }
fn b_shared() -> bool { return (p.pad0 & 2u) != 0u; }

// Pack grids: x = the vec4's position along K (pack_a) or its column lane (pack_b), y = the row
// (pack_a) or k (pack_b), z = batch; 8 x 8 invocations, every axis grid-strides. No division by
// a runtime value (a vector division is 8 scalar ones on lavapipe) except in batch_offsets.
@compute @workgroup_size(8, 8)
fn pack_a(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let K4 = k4_count();
  let MG = row_groups();
  for (var z = gid.z; z < select(p.batch, 1u, a_shared()); z += nwg.z) {
    let off = batch_offsets(z).x;
    for (var i = gid.y; i < MG * SG; i += nwg.y * 8u) {
      for (var k4 = gid.x; k4 < K4; k4 += nwg.x * 8u) {
        var v = vec4f(0.0);
        if (VEC4_A) {
          if (i < p.M && k4 * 4u < p.K) { v = a4[(off + i * p.K) / 4u + k4]; }
        } else {
          for (var q = 0u; q < 4u; q++) {
            let k = 4u * k4 + q;
            if (i < p.M && k < p.K) { v[q] = a[off + select(i * p.K + k, k * p.M + i, TRANS_A)]; }
          }
        }
        packed[((z * MG + i / SG) * K4 + k4) * SG + i % SG] = v;
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn pack_b(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let K = k4_count() * 4u;
  let NG = col_groups();
  for (var z = gid.z; z < select(p.batch, 1u, b_shared()); z += nwg.z) {
    let off = batch_offsets(z).y;
    for (var k = gid.y; k < K; k += nwg.y * 8u) {
      for (var cl = gid.x; cl < NG * SG; cl += nwg.x * 8u) {
        var v = vec4f(0.0);
        if (VEC4_B) {
          if (4u * cl < p.N && k < p.K) { v = b4[(off + k * p.N) / 4u + cl]; }
        } else {
          for (var q = 0u; q < 4u; q++) {
            let j = 4u * cl + q;
            if (j < p.N && k < p.K) { v[q] = b[off + select(k * p.N + j, j * p.K + k, TRANS_B)]; }
          }
        }
        packed[((z * NG + cl / SG) * K + k) * SG + cl % SG] = v;
      }
    }
  }
}


@compute @workgroup_size(SG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let K4 = k4_count();
  let MG = row_groups();
  let NG = col_groups();
  let tiles_m = MG * SG / RM;
  for (var z = wid.z; z < p.batch; z += nwg.z) {
    let za = select(z, 0u, a_shared());
    let aoff = select(0u, batch_offsets(z).x, A_DIRECT);
    let boff4 = select(0u, batch_offsets(z).y / 4u, B_DIRECT);
    let zb = select(z, 0u, b_shared());
    for (var tm = wid.y; tm < tiles_m; tm += nwg.y) {
      for (var tn = wid.x; tn < NG; tn += nwg.x) {
        let abase = (za * MG + tm * (RM / SG)) * K4 * SG + lane;
        // A_DIRECT: lane l's rows tm * RM + g * SG + l (clamped: padding rows are never stored).
        var arow: array<u32, 4>;
        for (var g = 0u; g < RM / SG; g++) {
          arow[g] = (aoff + min(tm * RM + g * SG + lane, p.M - 1u) * p.K) / 4u;
        }
        // A_DIRECT with TRANS_A (a is [K, M]): lane l's vec4 of rows tm * RM + 4 l + [0, 4) in
        // each k row (adjacent lanes read adjacent bytes; clamped past M: never stored).
        let acol = aoff / 4u + min(tm * (RM / 4u) + lane, p.M / 4u - 1u);
        let bbase = (zb * NG + tn) * K4 * 4u * SG + lane;
        // B_DIRECT: the lane's vec4 column (clamped past N: never stored); rows 4 k + kk < K since K % 4 == 0.
        let bcol = boff4 + min(tn * SG + lane, p.N / 4u - 1u);
        // NOTE: an explicit zero (see matmul_reg.wgsl: lavapipe zeroes a bare declaration only once).
        var acc = RowBlock();
        for (var k = 0u; k < K4; k++) {
          // al[g] holds rows g * SG + lane; row r reaches every lane by a shuffle from lane r % SG.
          // (transposed in place: al[kk] holds rows 4 lane + [0, 4) at k = 4 k4 + kk instead)
          var al: array<vec4f, 4>;
          for (var g = 0u; g < 4u; g++) {
            if (A_DIRECT && TRANS_A) {
              al[g] = a4[acol + (4u * k + g) * (p.M / 4u)];
            } else if (g < RM / SG) {
              if (A_DIRECT) { al[g] = a4[arow[g] + k]; } else { al[g] = pa[abase + (g * K4 + k) * SG]; }
            }
          }
          var bv: array<vec4f, 4>;
          for (var kk = 0u; kk < 4u; kk++) {
            if (B_DIRECT) { bv[kk] = b4[bcol + (4u * k + kk) * (p.N / 4u)]; } else { bv[kk] = pb[bbase + (4u * k + kk) * SG]; }
          }
          for (var r = 0u; r < RM; r++) {
            var av: vec4f;
            if (A_DIRECT && TRANS_A) {
              // row r is component r % 4 of lane r / 4's vectors, one per k
              let src = r / 4u;
              let c = r % 4u;
              av = vec4f(subgroupShuffle(al[0][c], src), subgroupShuffle(al[1][c], src),
                         subgroupShuffle(al[2][c], src), subgroupShuffle(al[3][c], src));
            } else {
              av = subgroupShuffle(al[r / SG], r % SG);
            }
            acc[r] = fma(vec4f(av.x), bv[0], acc[r]);
            acc[r] = fma(vec4f(av.y), bv[1], acc[r]);
            acc[r] = fma(vec4f(av.z), bv[2], acc[r]);
            acc[r] = fma(vec4f(av.w), bv[3], acc[r]);
          }
        }
        // Rows leave from a copy that the row loop indexes: the block itself stays indexed by
        // constants only (see row_block.wgsl), and the loop stays rolled.
        let tile_rows = acc;
        let j0 = (tn * SG + lane) * 4u;
        for (var r = 0u; r < min(RM, p.M - tm * RM); r++) {
          let i = tm * RM + r;
          var v = tile_rows[r];
          if (OUT_VEC4) {
            // the bias index is clamped for lanes past N (their store is skipped)
            for (var q = 0u; q < 4u; q++) { v[q] = epilogue(v[q], z, min(j0 + q, p.N - 1u)); }
            if (j0 < p.N) { out4[((z * p.M + i) * p.N + j0) / 4u] = v; }
          } else {
            for (var q = 0u; q < 4u; q++) {
              let j = j0 + q;
              if (j < p.N) { out[(z * p.M + i) * p.N + j] = epilogue(v[q], z, j); }
            }
          }
        }
      }
    }
  }
}
