// matmul_reg.wgsl: ladder step 3, register blocking, no workgroup memory (what CPUs like).
// Algorithm: each invocation accumulates an RM x (4 * VN) block of outputs in registers (vec4
//   accumulators), so each loaded value feeds RM or 4 * VN FMAs. On lavapipe every storage load
//   costs far more than an FMA and workgroup memory is no cheaper, so the block is the lever.
// Invocation (x, y) of workgroup (wx, wy) owns rows row0 = ((wy * WG_Y + y) * RM) + [0, RM) and
//   columns col0 = ((wx * WG_X + x) * 4 * VN) + [0, 4 * VN). Edge rows/columns are clamped on
//   load (a valid address, value unused) and skipped on store: any M, N, K.
// Entry point main; the override VEC4 picks its loads (the other view is never read):
//   VEC4 false: a, b read one float per load, any shape and transpose (accumulate_scalar).
//   VEC4 true:  a4 / b4 (the same buffers as array<vec4f>) read 4 floats per load
//               (accumulate_vec4); the host sets it only when K % 4 == 0, and M % 4 == 0 with
//               TRANS_A (then RM % 4 == 0), and N % 4 == 0 without TRANS_B, so every vec4 is
//               aligned and inside its matrix.
// Transposes, batch broadcasting and the epilogue as in matmul_naive.wgsl.
// Bindings: a / a4, b / b4, bias (read), out (read_write [batch, M, N]), p (uniform Params).
// Tiling: override WG_X, WG_Y, RM (<= 8), VN (<= 2); output tiles and batches grid-stride.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override RM: u32 = 8u;
override VN: u32 = 2u;
override VEC4: bool = false;

//!include matmul_common.wgsl
@group(0) @binding(5) var<storage, read> a4: array<vec4f>;
@group(0) @binding(6) var<storage, read> b4: array<vec4f>;

// RM x 4VN accumulators (sized for the largest RM = 8, VN = 2; unused entries fold away).
alias Block = array<array<vec4f, 2>, 8>;

// Adds opA[row0 + [0, RM), :] opB[:, col0 + [0, 4 VN)] to acc, one float per load; off: the
// batch's (A, B) offsets in floats.
fn accumulate_scalar(off: vec2u, row0: u32, col0: u32, acc: ptr<function, Block>) {
  for (var k = 0u; k < p.K; k++) {
    var bv: array<vec4f, 2>;
    for (var c = 0u; c < VN; c++) {
      for (var q = 0u; q < 4u; q++) {
        let j = min(col0 + 4u * c + q, p.N - 1u);
        bv[c][q] = b[off.y + b_index(k, j, TRANS_B)];
      }
    }
    for (var r = 0u; r < RM; r++) {
      let i = min(row0 + r, p.M - 1u);
      let av = vec4f(a[off.x + a_index(i, k, TRANS_A)]);
      for (var c = 0u; c < VN; c++) { (*acc)[r][c] = fma(av, bv[c], (*acc)[r][c]); }
    }
  }
}

// The same, 4 floats per load; off: the batch's (A, B) offsets in vec4s.
fn accumulate_vec4(off: vec2u, row0: u32, col0: u32, acc: ptr<function, Block>) {
  for (var k = 0u; k < p.K; k += 4u) {
    // av[r][kk] = opA[row0 + r, k + kk]
    var av: array<vec4f, 8>;
    if (TRANS_A) {
      for (var kk = 0u; kk < 4u; kk++) {
        for (var g = 0u; g < RM / 4u; g++) {
          let v = a4[off.x + ((k + kk) * p.M + min(row0 + 4u * g, p.M - 4u)) / 4u];
          for (var q = 0u; q < 4u; q++) { av[4u * g + q][kk] = v[q]; }
        }
      }
    } else {
      for (var r = 0u; r < RM; r++) {
        av[r] = a4[off.x + (min(row0 + r, p.M - 1u) * p.K + k) / 4u];
      }
    }
    if (TRANS_B) {
      // bt[c][q][kk] = opB[k + kk, col0 + 4c + q]
      var bt: array<array<vec4f, 4>, 2>;
      for (var c = 0u; c < VN; c++) {
        for (var q = 0u; q < 4u; q++) {
          bt[c][q] = b4[off.y + (min(col0 + 4u * c + q, p.N - 1u) * p.K + k) / 4u];
        }
      }
      for (var kk = 0u; kk < 4u; kk++) {
        for (var c = 0u; c < VN; c++) {
          let bv = vec4f(bt[c][0][kk], bt[c][1][kk], bt[c][2][kk], bt[c][3][kk]);
          for (var r = 0u; r < RM; r++) { (*acc)[r][c] = fma(vec4f(av[r][kk]), bv, (*acc)[r][c]); }
        }
      }
    } else {
      for (var kk = 0u; kk < 4u; kk++) {
        for (var c = 0u; c < VN; c++) {
          let bv = b4[off.y + ((k + kk) * p.N + min(col0 + 4u * c, p.N - 4u)) / 4u];
          for (var r = 0u; r < RM; r++) { (*acc)[r][c] = fma(vec4f(av[r][kk]), bv, (*acc)[r][c]); }
        }
      }
    }
  }
}

fn store_block(z: u32, row0: u32, col0: u32, acc: ptr<function, Block>) {
  for (var r = 0u; r < RM; r++) {
    let i = row0 + r;
    if (i >= p.M) { break; }
    for (var c = 0u; c < VN; c++) {
      for (var q = 0u; q < 4u; q++) {
        let j = col0 + 4u * c + q;
        if (j < p.N) { out[(z * p.M + i) * p.N + j] = epilogue((*acc)[r][c][q], z, j); }
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let tiles_m = (p.M + WG_Y * RM - 1u) / (WG_Y * RM);
  let tiles_n = (p.N + WG_X * 4u * VN - 1u) / (WG_X * 4u * VN);
  for (var z = wid.z; z < p.batch; z += nwg.z) {
    let off = batch_offsets(z);
    for (var tm = wid.y; tm < tiles_m; tm += nwg.y) {
      for (var tn = wid.x; tn < tiles_n; tn += nwg.x) {
        let row0 = (tm * WG_Y + lid.y) * RM;
        let col0 = (tn * WG_X + lid.x) * 4u * VN;
        if (row0 < p.M && col0 < p.N) {
          // NOTE: an explicit zero: lavapipe zeroes a bare `var acc: Block;` inside the tile loops only
          // once per invocation, so a second tile (batches past 65535) would sum onto the first.
          var acc = Block();
          if (VEC4) { accumulate_vec4(off / 4u, row0, col0, &acc); } else { accumulate_scalar(off, row0, col0, &acc); }
          store_block(z, row0, col0, &acc);
        }
      }
    }
  }
}
