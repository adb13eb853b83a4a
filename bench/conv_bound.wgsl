// conv_bound.wgsl: variants of conv2d_shuffle.wgsl's fwd (implicit GEMM, 32 pixels x 4 output
// channels per lane, subgroups of 8) that split its time into loads and arithmetic; compiled by
// bench/matmul-bound.ts with device.kernels.loadSource. Not used by the library.
// Entry points (bindings, layout and grid as conv2d_shuffle fwd):
//   fwd: a copy of conv2d_shuffle.wgsl's fwd and its helpers (the control: it must time as the
//        library's kernel does).
//   fwd_compute: the loads of x and weight in the channel loop replaced by lane-dependent register
//        arithmetic (8 vec4 FMAs per step beside the loop's 128). Meant as the compute-only bound,
//        it runs slower than fwd itself on lavapipe (cause not found), so it bounds nothing.
//   fwd_loads: the loads only (no shuffles, no FMAs), summed into one vec4 stored in row 0.
// Bindings: x4 (6), w4 (7), out4 (9) as array<vec4f>; bias (2), p (5) from conv2d_common.wgsl.
enable subgroups;

const RM = 32u;
const SG = 8u;

//!include conv2d_common.wgsl
//!include row_block.wgsl
@group(0) @binding(6) var<storage, read> x4: array<vec4f>;
@group(0) @binding(7) var<storage, read> w4: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> out4: array<vec4f>;

alias Acc = RowBlock;

// acc[r] += sum over kk of A[r, kk] * bv[kk] for the rows r of a tile whose bit is set in
// `live` (the others, padded taps, are left as they are: 0 * an infinite bv would be NaN); row
// r's 4 values (kk) are held by lane r % SG in al[r / SG].
fn shuffle_fma(acc: ptr<function, Acc>, al: array<vec4f, 4>, bv: array<vec4f, 4>, live: u32) {
  for (var r = 0u; r < RM; r++) {
    let av = subgroupShuffle(al[r / SG], r % SG);
    var sum = fma(vec4f(av.x), bv[0], (*acc)[r]);
    sum = fma(vec4f(av.y), bv[1], sum);
    sum = fma(vec4f(av.z), bv[2], sum);
    sum = fma(vec4f(av.w), bv[3], sum);
    (*acc)[r] = select((*acc)[r], sum, ((live >> r) & 1u) != 0u);
  }
}

// Bit r set when row r (lane r % SG, group r / SG) of a tile reads inside the image: ok[g] is
// the lane's flag for row group g.
fn live_rows(ok: array<bool, 4>) -> u32 {
  var bits = 0u;
  for (var g = 0u; g < RM / SG; g++) { bits |= (subgroupBallot(ok[g]).x & 0xffu) << (g * SG); }
  return bits;
}

// Writes rows m0 + [0, RM) (those below rows) of `acc` to out at ob (a multiple of 4) with
// `cols` columns (a multiple of 4), lane l holding columns 4 (tile * SG + l) + [0, 4); adds
// bias[bias_base + column] when has_bias.
fn store_tile(acc: ptr<function, Acc>, m0: u32, rows: u32, ob: u32, cols: u32, tile: u32, lane: u32,
              has_bias: bool, bias_base: u32) {
  let c4 = tile * SG + lane;
  var bv = vec4f(0.0);
  if (has_bias) {
    let c = min(4u * c4, cols - 4u);
    bv = vec4f(bias[bias_base + c], bias[bias_base + c + 1u], bias[bias_base + c + 2u], bias[bias_base + c + 3u]);
  }
  let tile_rows = (*acc);
  for (var m = m0; m < min(m0 + RM, rows); m++) {
    if (4u * c4 < cols) { out4[(ob + m * cols) / 4u + c4] = tile_rows[m - m0] + bv; }
  }
}

// (n, y, x) of pixel m0 + g * SG + lane (clamped to the last of M) in an image of h x w pixels.
fn tile_pixel(m0: u32, g: u32, lane: u32, M: u32, h: u32, w: u32) -> vec3u {
  let m = min(m0 + g * SG + lane, M - 1u);
  let t = m / w;
  return vec3u(t / h, t % h, m % w);
}

@compute @workgroup_size(SG)
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let M = p.n * p.oh * p.ow;
  let C4 = p.c / 4u;
  let CO4 = p.co / 4u;
  let s = wid.z;
  let xb = s * p.x_stride;
  let wb = s * p.w_stride / 4u;
  let co4 = min(wid.y * SG + lane, CO4 - 1u);
  let co_live = wid.y * SG + lane < CO4;
  for (var tm = wid.x; tm * RM < M; tm += nwg.x) {
    let m0 = tm * RM;
    // The lane's output pixel in each row group.
    var ih0: array<u32, 4>;
    var iw0: array<u32, 4>;
    var nb: array<u32, 4>;
    for (var g = 0u; g < RM / SG; g++) {
      let px = tile_pixel(m0, g, lane, M, p.oh, p.ow);
      ih0[g] = px.y;
      iw0[g] = px.z;
      nb[g] = xb + px.x * p.h * p.w * p.c;
    }
    var acc = Acc();
    for (var kh = 0u; kh < p.kh; kh++) {
      for (var kw = 0u; kw < p.kw; kw++) {
        var off: array<u32, 4>;
        var ok: array<bool, 4>;
        for (var g = 0u; g < RM / SG; g++) {
          let ih = in_coord(ih0[g], p.sh, p.ph, kh, p.dh);
          let iw = in_coord(iw0[g], p.sw, p.pw, kw, p.dw);
          ok[g] = inside(ih, iw);
          off[g] = select(xb, nb[g] + (u32(ih) * p.w + u32(iw)) * p.c, ok[g]) / 4u;
        }
        let live = live_rows(ok);
        let wrow = wb + (kh * p.kw + kw) * p.c * CO4;
        for (var ci4 = 0u; ci4 < C4; ci4++) {
          var al: array<vec4f, 4>;
          for (var g = 0u; g < RM / SG; g++) { al[g] = x4[off[g] + ci4]; }
          var bv: array<vec4f, 4>;
          // Lanes past the channels skip their loads (a load is a loop over the active lanes).
          if (co_live) { for (var kk = 0u; kk < 4u; kk++) { bv[kk] = w4[wrow + (4u * ci4 + kk) * CO4 + co4]; } }
          shuffle_fma(&acc, al, bv, live);
        }
      }
    }
    store_tile(&acc, m0, M, s * p.y_stride, p.co, wid.y, lane, p.has_bias != 0u, s * p.co);
  }
}

@compute @workgroup_size(SG)
fn fwd_compute(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let s0 = f32(lane + 8u * wid.x) * 1e-3;
  let sa = vec4f(s0, s0 + 0.25, s0 + 0.5, s0 + 0.75);
  let sb = sa.wzyx;
  let M = p.n * p.oh * p.ow;
  let C4 = p.c / 4u;
  let CO4 = p.co / 4u;
  let s = wid.z;
  let xb = s * p.x_stride;
  let wb = s * p.w_stride / 4u;
  let co4 = min(wid.y * SG + lane, CO4 - 1u);
  let co_live = wid.y * SG + lane < CO4;
  for (var tm = wid.x; tm * RM < M; tm += nwg.x) {
    let m0 = tm * RM;
    // The lane's output pixel in each row group.
    var ih0: array<u32, 4>;
    var iw0: array<u32, 4>;
    var nb: array<u32, 4>;
    for (var g = 0u; g < RM / SG; g++) {
      let px = tile_pixel(m0, g, lane, M, p.oh, p.ow);
      ih0[g] = px.y;
      iw0[g] = px.z;
      nb[g] = xb + px.x * p.h * p.w * p.c;
    }
    var acc = Acc();
    for (var kh = 0u; kh < p.kh; kh++) {
      for (var kw = 0u; kw < p.kw; kw++) {
        var off: array<u32, 4>;
        var ok: array<bool, 4>;
        for (var g = 0u; g < RM / SG; g++) {
          let ih = in_coord(ih0[g], p.sh, p.ph, kh, p.dh);
          let iw = in_coord(iw0[g], p.sw, p.pw, kw, p.dw);
          ok[g] = inside(ih, iw);
          off[g] = select(xb, nb[g] + (u32(ih) * p.w + u32(iw)) * p.c, ok[g]) / 4u;
        }
        let live = live_rows(ok);
        let wrow = wb + (kh * p.kw + kw) * p.c * CO4;
        for (var ci4 = 0u; ci4 < C4; ci4++) {
          // the loads replaced by lane-dependent arithmetic (8 vec4 FMAs)
          let kf = vec4f(f32(ci4) * 1e-4);
          var al: array<vec4f, 4>;
          for (var g = 0u; g < RM / SG; g++) { al[g] = fma(kf, vec4f(f32(g + 1u)), sa); }
          var bv: array<vec4f, 4>;
          for (var kk = 0u; kk < 4u; kk++) { bv[kk] = fma(kf, vec4f(f32(kk + 5u)), sb); }
          shuffle_fma(&acc, al, bv, live);
        }
      }
    }
    store_tile(&acc, m0, M, s * p.y_stride, p.co, wid.y, lane, p.has_bias != 0u, s * p.co);
  }
}

@compute @workgroup_size(SG)
fn fwd_loads(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let M = p.n * p.oh * p.ow;
  let C4 = p.c / 4u;
  let CO4 = p.co / 4u;
  let s = wid.z;
  let xb = s * p.x_stride;
  let wb = s * p.w_stride / 4u;
  let co4 = min(wid.y * SG + lane, CO4 - 1u);
  let co_live = wid.y * SG + lane < CO4;
  for (var tm = wid.x; tm * RM < M; tm += nwg.x) {
    let m0 = tm * RM;
    // The lane's output pixel in each row group.
    var ih0: array<u32, 4>;
    var iw0: array<u32, 4>;
    var nb: array<u32, 4>;
    for (var g = 0u; g < RM / SG; g++) {
      let px = tile_pixel(m0, g, lane, M, p.oh, p.ow);
      ih0[g] = px.y;
      iw0[g] = px.z;
      nb[g] = xb + px.x * p.h * p.w * p.c;
    }
    var acc = Acc();
    var lsum = vec4f(0.0);
    for (var kh = 0u; kh < p.kh; kh++) {
      for (var kw = 0u; kw < p.kw; kw++) {
        var off: array<u32, 4>;
        var ok: array<bool, 4>;
        for (var g = 0u; g < RM / SG; g++) {
          let ih = in_coord(ih0[g], p.sh, p.ph, kh, p.dh);
          let iw = in_coord(iw0[g], p.sw, p.pw, kw, p.dw);
          ok[g] = inside(ih, iw);
          off[g] = select(xb, nb[g] + (u32(ih) * p.w + u32(iw)) * p.c, ok[g]) / 4u;
        }
        let live = live_rows(ok);
        let wrow = wb + (kh * p.kw + kw) * p.c * CO4;
        for (var ci4 = 0u; ci4 < C4; ci4++) {
          // the loads only, summed so they stay live (no shuffles, no FMAs)
          for (var g = 0u; g < RM / SG; g++) { lsum += x4[off[g] + ci4]; }
          if (co_live) { for (var kk = 0u; kk < 4u; kk++) { lsum += w4[wrow + (4u * ci4 + kk) * CO4 + co4]; } }
        }
      }
    }
    acc[0] = lsum;
    store_tile(&acc, m0, M, s * p.y_stride, p.co, wid.y, lane, p.has_bias != 0u, s * p.co);
  }
}
