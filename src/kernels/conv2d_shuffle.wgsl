// conv2d_shuffle.wgsl: implicit-GEMM conv2d forward, grad-input and grad-weight for CPU adapters
// (lavapipe), the technique of matmul_packed.wgsl without packing: each lane loads 16 contiguous
// bytes and subgroupShuffle hands every row's values to all lanes, so one load feeds 8 rows.
// Layout and GEMM view as in conv2d.wgsl: out[m, co] = sum_k A[m, k] * weight[k, co] with
//   m = (n, oh, ow), k = (kh, kw, ci), A[m, k] = x[n, ih, iw, ci]; a tap outside the image adds
//   nothing (the rows' flags travel as a subgroupBallot bit mask to shuffle_fma).
// Entry point fwd: a workgroup is one subgroup of SG lanes. It owns output pixels
//   tm * RM + [0, RM). Lane groups: the lanes form LG groups of LW = SG / LG lanes (LG > 1 when
//   the output channels fill fewer than SG lanes, CO <= 16, so that no lane idles); group h owns
//   pixels tm * RM + h RG + [0, RG) (RG = RM / LG rows, one vec4 accumulator each) and lane l of
//   it channels 4 (wid.y * LW + l % LW) + [0, 4). Per (kh, kw, 4 input channels): lane l loads x
//   for its group's pixels g * LW + l % LW (RM / SG vec4 loads) and weight rows ci .. ci + 3 for
//   its 4 channels (4 vec4 loads; with LG > 1 the groups, which own the same channels, load
//   ceil(4 / LG) rows each and shuffle them to the others, as a shuffle costs less than a load
//   here), then 4 RG FMAs, row r's x shuffled from lane h LW + r % LW.
//   Pixel tiles grid-stride; workgroup_id.z = problem.
// Entry points dgrad and wgrad: the same pattern on the backward GEMMs (described above each).
// The tap loops are include/conv2d_taps.wgsl's (shared with conv2d.wgsl); this file holds the
// K loops (fwd_tap and dgrad_tap through tap_k_loop, wgrad_pixel) and wgrad's lane-group walk.
// All need C % 4 == 0 and CO % 4 == 0 (vec4 views) and subgroups of at least SG lanes; the host
// takes conv2d.wgsl's kernels otherwise.
// Bindings: x4 (6), w4 (7), dy4 (8), out4 (9): x, weight, dy and out as array<vec4f>; bias (2),
//   p (5) from conv2d_common.wgsl.
// Epilogues: rows leave from a copy of the accumulator block that the row loop indexes (the
//   block itself is indexed by constants only, see row_block.wgsl), one vec4 store per row;
//   fwd's adds the bias and applies the activation p.act.
// Tiling: overrides RM (fwd, dgrad: a multiple of SG, <= 32; wgrad: 4 SG / LG) and LG (lane
//   groups: 1, 2, 4 or 8).
enable subgroups;
// tap_k_loop takes its A operand (x4 or dy4) as a pointer parameter
requires unrestricted_pointer_parameters;

override RM: u32 = 32u;
override LG: u32 = 1u;
const SG = 8u;

//!include conv2d_common.wgsl
//!include row_block.wgsl
@group(0) @binding(6) var<storage, read> x4: array<vec4f>;
@group(0) @binding(7) var<storage, read> w4: array<vec4f>;
@group(0) @binding(8) var<storage, read> dy4: array<vec4f>;
// out as vec4s (every store is a lane's 4 adjacent channels; C and CO are multiples of 4)
@group(0) @binding(9) var<storage, read_write> out4: array<vec4f>;

alias Acc = RowBlock;

// acc[r] += sum over kk of A[r, kk] * bv[kk] for the rows r of the lane's group (RG of them)
// whose bit is set in `live` (the others, padded taps, are left as they are: 0 * an infinite bv
// would be NaN); row r's 4 values (kk) are held by lane grp * LW + r % LW of the group in
// al[r / LW].
fn shuffle_fma(acc: ptr<function, Acc>, al: array<vec4f, 4>, bv: array<vec4f, 4>, live: u32, grp: u32) {
  let LW = SG / LG;
  for (var r = 0u; r < RM / LG; r++) {
    let av = subgroupShuffle(al[r / LW], grp * LW + r % LW);
    var sum = fma(vec4f(av.x), bv[0], (*acc)[r]);
    sum = fma(vec4f(av.y), bv[1], sum);
    sum = fma(vec4f(av.z), bv[2], sum);
    sum = fma(vec4f(av.w), bv[3], sum);
    (*acc)[r] = select((*acc)[r], sum, ((live >> r) & 1u) != 0u);
  }
}

// Bit r set when row r of lane group grp (lane grp * LW + r % LW, slot r / LW) reads inside
// the image: ok[g] is the lane's flag for its slot g.
fn live_rows(ok: array<bool, 4>, grp: u32) -> u32 {
  let LW = SG / LG;
  var bits = 0u;
  for (var g = 0u; g < RM / SG; g++) {
    bits |= ((subgroupBallot(ok[g]).x >> (grp * LW)) & ((1u << LW) - 1u)) << (g * LW);
  }
  return bits;
}

// Writes rows m0 + [0, RM / LG) (those below rows) of `acc` to out at ob (a multiple of 4)
// with `cols` columns (a multiple of 4), lane l holding columns 4 c4 + [0, 4); adds
// bias[bias_base + column] when has_bias, then applies the activation p.act.
fn store_tile(acc: ptr<function, Acc>, m0: u32, rows: u32, ob: u32, cols: u32, c4: u32,
              has_bias: bool, bias_base: u32) {
  var bv = vec4f(0.0);
  if (has_bias) {
    let c = min(4u * c4, cols - 4u);
    bv = vec4f(bias[bias_base + c], bias[bias_base + c + 1u], bias[bias_base + c + 2u], bias[bias_base + c + 3u]);
  }
  let tile_rows = (*acc);
  for (var m = m0; m < min(m0 + RM / LG, rows); m++) {
    if (4u * c4 < cols) { out4[(ob + m * cols) / 4u + c4] = out_value4(tile_rows[m - m0] + bv); }
  }
}

// The tap loops (include/conv2d_taps.wgsl) over a lane's RM / SG rows (pixels m0 + g * SG +
// lane); the bodies below do the K loops.
const TAP_ROWS: u32 = 4u;
// The lane's 4 columns c4 (clamped to the last) and whether they exist (live), the problem's
// weight (fwd, dgrad, in vec4s) or dy (wgrad, in vec4s) base, in wgrad the lane's first input
// channel xc, and in fwd and dgrad the lane's group grp.
struct Cols { c4: u32, live: bool, base: u32, xc: u32, grp: u32 }

//!include conv2d_taps.wgsl

// The K loop of tap k, fwd's and dgrad's (fwd: A = x4, K = C, N = CO; dgrad: A = dy4, K = CO,
// N = C, over the swapped weight). Per vec4 k4 of the K axis (K4 = K / 4 of them), lane l loads A
// for its rows (row group g's vec4 at off[g] / 4 + k4) and the weight rows 4 k4 .. 4 k4 + 3 of its
// 4 columns (rows of N4 = N / 4 vec4s; tap k's K x N block starts at k * K * N / 4), then
// shuffle_fma.
fn tap_k_loop(acc: ptr<function, Acc>, cols: Cols, off: array<u32, 4>, ok: array<bool, 4>, k: u32,
              a: ptr<storage, array<vec4f>, read>, K4: u32, N4: u32) {
  let live = live_rows(ok, cols.grp);
  let wrow = cols.base + k * 4u * K4 * N4;
  for (var k4 = 0u; k4 < K4; k4++) {
    var al: array<vec4f, 4>;
    for (var g = 0u; g < RM / SG; g++) { al[g] = (*a)[off[g] / 4u + k4]; }
    var bv: array<vec4f, 4>;
    if (LG == 1u) {
      // Lanes past the channels skip their loads (a load is a loop over the active lanes).
      if (cols.live) { for (var kk = 0u; kk < 4u; kk++) { bv[kk] = w4[wrow + (4u * k4 + kk) * N4 + cols.c4]; } }
    } else {
      // The LG groups own the same columns: group grp loads weight rows grp * KPL + [0, KPL)
      // and the others' come by shuffle, from the lane at the same place (c4 % LW: c4 is
      // clamped only on lanes past the channels, whose values are never stored).
      let KPL = (4u + LG - 1u) / LG;
      var mine: array<vec4f, 4>;
      for (var j = 0u; j < KPL; j++) {
        let kk = cols.grp * KPL + j;
        if (cols.live && kk < 4u) { mine[j] = w4[wrow + (4u * k4 + kk) * N4 + cols.c4]; }
      }
      let LW = SG / LG;
      for (var kk = 0u; kk < 4u; kk++) { bv[kk] = subgroupShuffle(mine[kk % KPL], (kk / KPL) * LW + (cols.c4 % LW)); }
    }
    shuffle_fma(acc, al, bv, live, cols.grp);
  }
}

// fwd's K loop of tap k: x against the weight rows ci .. ci + 3 of the lane's 4 output channels.
fn fwd_tap(acc: ptr<function, Acc>, cols: Cols, off: array<u32, 4>, ok: array<bool, 4>, k: u32) {
  tap_k_loop(acc, cols, off, ok, k, &x4, p.c / 4u, p.co / 4u);
}

// dgrad's K loop of tap k: dy against the swapped weight rows co .. co + 3 of the lane's 4 input
// channels.
fn dgrad_tap(acc: ptr<function, Acc>, cols: Cols, off: array<u32, 4>, ok: array<bool, 4>, k: u32) {
  tap_k_loop(acc, cols, off, ok, k, &dy4, p.co / 4u, p.c / 4u);
}

@compute @workgroup_size(SG)
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(subgroup_invocation_id) lane: u32) {
  let M = p.n * p.oh * p.ow;
  let CO4 = p.co / 4u;
  let s = wid.z;
  let LW = SG / LG;
  let grp = lane / LW;
  let c4 = wid.y * LW + lane % LW;
  let cols = Cols(min(c4, CO4 - 1u), c4 < CO4, s * p.w_stride / 4u, 0u, grp);
  for (var tm = wid.x; tm * RM < M; tm += nwg.x) {
    let m0 = tm * RM + grp * (RM / LG);
    var acc = Acc();
    fwd_gemm(&acc, cols, m0 + lane % LW, LW, RM / SG, s * p.x_stride);
    store_tile(&acc, m0, M, s * p.y_stride, p.co, c4, p.has_bias != 0u, s * p.co);
  }
}

// dgrad: dx[m, ci] = sum over (kh, kw, co) of dy[n, oh, ow, co] * weight[kh, kw, ci, co], rows
//   m = (n, a, b) of one stride phase (input pixel ih = py + sh a, iw = px + sw b; RM per
//   workgroup, RM / LG per lane group), lane l owns input channels 4 (wid.y * LW + l % LW) + [0, 4)
//   (lane groups as in fwd, over the input channels). The host dispatches each
//   phase with the taps whose ih + ph - kh dh is a multiple of sh (kh0 + khs i, the same for w),
//   so no tap is tested and dropped per pixel (with stride 2, 3/4 of them were); inside [0, OH)
//   is still checked per pixel. Stride 1 is one phase with every tap.
//   w4 here is the weight with its last two axes swapped ([S, KH, KW, CO, C], made by the host),
//   so the 4 weight loads per (kh, kw, 4 output channels) are contiguous across lanes as in fwd.
@compute @workgroup_size(SG)
fn dgrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(subgroup_invocation_id) lane: u32) {
  let M = p.n * p.hq * p.wq;
  let s = wid.z;
  let C4 = p.c / 4u;
  let LW = SG / LG;
  let grp = lane / LW;
  let c4 = wid.y * LW + lane % LW;
  let cols = Cols(min(c4, C4 - 1u), c4 < C4, s * p.w_stride / 4u, 0u, grp);
  for (var tm = wid.x; tm * RM < M; tm += nwg.x) {
    let m0 = tm * RM + grp * (RM / LG);
    var acc = Acc();
    dgrad_gemm(&acc, cols, m0 + lane % LW, LW, RM / SG, s * p.y_stride, vec2u(p.sh, p.sw));
    // Row m is input pixel (n, py + sh a, px + sw b), stepped from m0's without a division per
    // row (8 scalar divisions each on lavapipe).
    var b = m0 % p.wq;
    var a = (m0 / p.wq) % p.hq;
    var n = m0 / (p.wq * p.hq);
    let tile_rows = acc;
    for (var m = m0; m < min(m0 + RM / LG, M); m++) {
      let pix = (n * p.h + p.py + a * p.sh) * p.w + p.px + b * p.sw;
      if (4u * c4 < p.c) { out4[(s * p.x_stride + pix * p.c) / 4u + c4] = tile_rows[m - m0]; }
      next_pixel(&n, &a, &b, p.hq, p.wq);
    }
  }
}

// wgrad: partial dw[kh, kw, ci, co] over output pixels m in chunk wid.z % chunks, rows
//   ci0 + [0, RM) of tap (kh, kw) (wid.x enumerates tap x channel tile). The SG lanes form LG
//   groups of LW = SG / LG lanes (LG > 1 when the output channels fill fewer than SG lanes:
//   CO <= 16); lane l of group h owns output channels 4 (wid.y * LW + l % LW) + [0, 4), and
//   group h walks the chunk's pixels k0 + h, k0 + h + LG, ... Per pixel a lane makes one vec4
//   load of x (input channels xc .. xc + 3, xc = ci0 + 4 (l % LW), so row r comes from lane
//   h LW + r / 4 of its group, component r % 4; RM = 4 LW) and one of dy. Adjacent groups read
//   adjacent pixels, so the loads stay contiguous across the subgroup when C = 4 LW.
//   Written as partials [S, chunks * LG, KH*KW*C*CO] (group h of chunk c at row c LG + h) that
//   the host sums (deterministic).
// wgrad's step at output pixel m of the lane's group: live is false past the chunk or on a
// padded tap; xo and m are then in-range stand-ins, and both operands are zeroed, so the step
// adds 0 * 0 (dy or x there may be infinite, and 0 * Inf would be NaN). The rows shuffle x from
// lanes of the same group, whose pixel is the lane's own, so a dead step reads only zeros; one
// select per operand replaces one per row.
fn wgrad_lanes_pixel(acc: ptr<function, Acc>, cols: Cols, xo: u32, m: u32, live: bool, src0: u32) {
  let xl = select(vec4f(0.0), x4[(xo + cols.xc) / 4u], live);
  let bv = select(vec4f(0.0), dy4[cols.base + m * (p.co / 4u) + cols.c4], live);
  for (var r = 0u; r < RM; r++) {
    let av = subgroupShuffle(xl, src0 + r / 4u);
    (*acc)[r] = fma(vec4f(av[r % 4u]), bv, (*acc)[r]);
  }
}

// wgrad_gemm's step (include/conv2d_taps.wgsl), the walk of one lane group (LG = 1).
fn wgrad_pixel(acc: ptr<function, Acc>, cols: Cols, xo: u32, m: u32) {
  wgrad_lanes_pixel(acc, cols, xo, m, true, 0u);
}

// The K walk of tap (kh, kw) over the chunk's pixels [k0, k1) for group h when LG > 1
// (uniform: every lane makes ceil((k1 - k0) / LG) steps). x of this problem starts at xb.
fn wgrad_walk(acc: ptr<function, Acc>, cols: Cols, kh: u32, kw: u32, k0: u32, k1: u32, xb: u32, h: u32) {
  let px = pixel_of(k0 + h, p.oh, p.ow);
  var n = px.x;
  var oh = px.y;
  var ow = px.z;
  for (var mb = k0; mb < k1; mb += LG) {
    let ih = in_coord(oh, p.sh, p.ph, kh, p.dh);
    let iw = in_coord(ow, p.sw, p.pw, kw, p.dw);
    let live = mb + h < k1 && inside(ih, iw);
    let xo = select(xb, xb + ((n * p.h + u32(ih)) * p.w + u32(iw)) * p.c, live);
    wgrad_lanes_pixel(acc, cols, xo, select(k0, mb + h, live), live, h * (SG / LG));
    for (var i = 0u; i < LG; i++) { next_pixel(&n, &oh, &ow, p.oh, p.ow); }
  }
}

@compute @workgroup_size(SG)
fn wgrad(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let LW = SG / LG;
  let h = lane / LW;
  let ci_tiles = (p.c + RM - 1u) / RM;
  let khkw = wid.x / ci_tiles;
  let ci0 = (wid.x % ci_tiles) * RM;
  let s = wid.z / p.chunks;
  let chunk = wid.z % p.chunks;
  let k0 = chunk * p.kchunk;
  let CO4 = p.co / 4u;
  let c4 = wid.y * LW + lane % LW;
  let cols = Cols(min(c4, CO4 - 1u), true, s * p.y_stride / 4u, min(ci0 + 4u * (lane % LW), p.c - 4u), h);
  var acc = Acc();
  let k1 = min(p.n * p.oh * p.ow, k0 + p.kchunk);
  // one group: wgrad_gemm skips padded taps with a uniform branch
  if (LG == 1u) { wgrad_gemm(&acc, cols, khkw / p.kw, khkw % p.kw, k0, k1, s * p.x_stride); }
  else { wgrad_walk(&acc, cols, khkw / p.kw, khkw % p.kw, k0, k1, s * p.x_stride, h); }
  let ob = ((s * p.chunks + chunk) * LG + h) * p.kh * p.kw * p.c * p.co + khkw * p.c * p.co;
  let tile_rows = acc;
  for (var ci = ci0; ci < min(ci0 + RM, p.c); ci++) {
    if (4u * c4 < p.co) { out4[(ob + ci * p.co) / 4u + c4] = tile_rows[ci - ci0]; }
  }
}
