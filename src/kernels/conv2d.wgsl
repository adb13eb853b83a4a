// conv2d.wgsl: 2-D convolution, NHWC activations and HWIO weights, stride, zero padding,
// dilation, groups = 1, and an optional leading ensemble axis (S independent problems).
// Layout: x [S, N, H, W, C], weight [S, KH, KW, C, CO], bias [S, CO], out/dy [S, N, OH, OW, CO].
//   NHWC + HWIO make the convolution a GEMM whose K axis (kh, kw, ci) has ci contiguous in both
//   operands: out[m, co] = sum_k A[m, k] * weight[k, co], m = (n, oh, ow), k = (kh, kw, ci),
//   A[m, k] = x[n, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw, ci]; a tap outside the image (padding)
//   contributes nothing, as in the reference (not 0 * weight: an infinite weight would give NaN):
//   fwd and dgrad sum each tap (kh, kw) into a second TM x TN block and add it to the rows whose
//   tap is in the image (add_live_rows); wgrad skips a padded tap's pixel.
// Entry points (implicit GEMM: A is never materialized; each invocation holds a TM x TN block of
// outputs in registers, so every loaded operand feeds TN or TM FMAs):
//   fwd:    out = act(conv(x, weight) + bias) (act: p.act, none in the backward entries). Rows
//           m (TM output pixels), columns co (TN channels).
//   dgrad:  dx[n, ih, iw, ci] = sum_{kh, kw, co} dy[n, oh, ow, co] * weight[kh, kw, ci, co] where
//           ih = oh*sh - ph + kh*dh (only kh, kw that hit an integer oh in range contribute).
//           Rows (n, ih, iw), columns ci, K = (kh, kw, co).
//   wgrad:  dw[kh, kw, ci, co] = sum_{n, oh, ow} x[n, ih, iw, ci] * dy[n, oh, ow, co]. Rows
//           (kh, kw, ci) with TM consecutive ci of one (kh, kw), columns co; the long K axis
//           (n, oh, ow) is split into `chunks` slices of `kchunk` written as partials
//           [S, chunks, KH*KW*C*CO] that the host sums (deterministic, no atomics).
//   direct_fwd, direct_dgrad, direct_wgrad: the baseline, one invocation per output element and
//           a plain loop (tests and the bench's ratio).
// Tiling: TM, TN are consts the host specializes per configuration (private arrays need const
// sizes). In the GEMM entries the column tile comes from workgroup_id.y, so weight (fwd, dgrad)
// and dy (wgrad) addresses are the same for every invocation of a workgroup (lavapipe still
// loads them lane by lane: only constant addresses get its one-load-and-broadcast path; see
// conv2d_shuffle.wgsl for the kernels that work around it). No workgroup memory, no barriers
// (both are slow on lavapipe). workgroup_id.z = problem (and chunk for wgrad).
// The tap loops (where each row reads, whether that is padding) are include/conv2d_taps.wgsl's,
// shared with conv2d_shuffle.wgsl; this file holds the K loops (fwd_tap, dgrad_tap, wgrad_pixel).
// Bindings: 0 x, 1 weight, 2 bias (a placeholder when p.has_bias is 0), 3 dy (read); 4 out
//   (read_write); 5 p (uniform).
const TM: u32 = 4u;
const TN: u32 = 8u;
override WG: u32 = 64u;

//!include conv2d_common.wgsl

// A TM x TN block of outputs (fwd, dgrad: rows m, columns c; wgrad: rows ci, columns co).
alias Block = array<array<f32, TN>, TM>;

// The tap loops (include/conv2d_taps.wgsl) over TM rows; the bodies below do the K loops.
const TAP_ROWS: u32 = TM;
alias Acc = Block;
// The invocation's columns c0 + [0, TN) and, for the bodies, the problem's weight (fwd, dgrad)
// or dy (wgrad) base and, in wgrad, its row tile's first input channel.
struct Cols { c0: u32, base: u32, ci0: u32 }

//!include conv2d_taps.wgsl

// acc[r] += tap[r] for the rows r whose tap is in the image (ok[r]). fwd and dgrad sum one tap
// (kh, kw) over the channels into `tap`, then drop it whole for a padded row: the padding adds
// nothing, as in the reference (0 * an infinite weight would be NaN), at one select per output
// and tap instead of one per multiply.
fn add_live_rows(acc: ptr<function, Block>, tap: Block, ok: array<bool, TM>) {
  for (var r = 0u; r < TM; r++) {
    for (var c = 0u; c < TN; c++) { (*acc)[r][c] = select((*acc)[r][c], (*acc)[r][c] + tap[r][c], ok[r]); }
  }
}

// fwd's K loop of tap k: sum over ci of x[row, ci] * weight[k, ci, column].
fn fwd_tap(acc: ptr<function, Block>, cols: Cols, off: array<u32, TM>, ok: array<bool, TM>, k: u32) {
  let wrow = cols.base + k * p.c * p.co;
  // NOTE: an explicit zero (a bare declaration in a loop is zeroed once on lavapipe, see matmul_reg)
  var tap = Block();
  for (var ci = 0u; ci < p.c; ci++) {
    var a: array<f32, TM>;
    for (var r = 0u; r < TM; r++) { a[r] = x[off[r] + ci]; }
    let wo = wrow + ci * p.co;
    for (var c = 0u; c < TN; c++) {
      let b = weight[wo + min(cols.c0 + c, p.co - 1u)];
      for (var r = 0u; r < TM; r++) { tap[r][c] = fma(a[r], b, tap[r][c]); }
    }
  }
  add_live_rows(acc, tap, ok);
}

// dgrad's K loop of tap k: sum over co of dy[row, co] * weight[k, column, co]; a tap that no row
// reaches is skipped.
fn dgrad_tap(acc: ptr<function, Block>, cols: Cols, off: array<u32, TM>, ok: array<bool, TM>, k: u32) {
  var any_ok = false;
  for (var r = 0u; r < TM; r++) { any_ok = any_ok || ok[r]; }
  if (!any_ok) { return; }
  let wrow = cols.base + k * p.c * p.co;
  // NOTE: an explicit zero (a bare declaration in a loop is zeroed once on lavapipe, see matmul_reg)
  var tap = Block();
  for (var co = 0u; co < p.co; co++) {
    var a: array<f32, TM>;
    for (var r = 0u; r < TM; r++) { a[r] = dy[off[r] + co]; }
    for (var c = 0u; c < TN; c++) {
      let b = weight[wrow + min(cols.c0 + c, p.c - 1u) * p.co + co];
      for (var r = 0u; r < TM; r++) { tap[r][c] = fma(a[r], b, tap[r][c]); }
    }
  }
  add_live_rows(acc, tap, ok);
}

// wgrad's step at output pixel m: acc[r][c] += x[pixel, ci0 + r] * dy[m, column c].
fn wgrad_pixel(acc: ptr<function, Block>, cols: Cols, xo: u32, m: u32) {
  var a: array<f32, TM>;
  for (var r = 0u; r < TM; r++) { a[r] = x[xo + cols.ci0 + min(r, p.c - 1u - cols.ci0)]; }
  let yo = cols.base + m * p.co;
  for (var c = 0u; c < TN; c++) {
    let b = dy[yo + min(cols.c0 + c, p.co - 1u)];
    for (var r = 0u; r < TM; r++) { (*acc)[r][c] = fma(a[r], b, (*acc)[r][c]); }
  }
}

// Writes the invocation's TM x TN block to rows r0 + [0, TM) and columns c0 + [0, TN) of the
// [rows, width] matrix at ob of out, skipping rows >= rows and columns >= width.
fn store_tile(acc: ptr<function, Block>, ob: u32, r0: u32, rows: u32, c0: u32, width: u32) {
  for (var r = 0u; r < TM; r++) {
    if (r0 + r < rows) {
      for (var c = 0u; c < TN; c++) {
        if (c0 + c < width) { out[ob + (r0 + r) * width + c0 + c] = out_value((*acc)[r][c]); }
      }
    }
  }
}

// The invocation's block in fwd and dgrad: GEMM rows m0 + [0, TM) (row tile wid.x * WG + lid),
// columns c0 + [0, TN) (column tile wid.y), problem s (wid.z).
struct Tile { m0: u32, c0: u32, s: u32 }

fn tile_of(wid: vec3u, lid: u32) -> Tile {
  return Tile((wid.x * WG + lid) * TM, wid.y * TN, wid.z);
}

// fwd's accumulator to start from: the bias of columns c0 + [0, TN) (clamped to the last) in
// every row.
fn bias_block(s: u32, c0: u32) -> Block {
  var acc: Block;
  for (var c = 0u; c < TN; c++) {
    let bv = bias_at(s, min(c0 + c, p.co - 1u));
    for (var r = 0u; r < TM; r++) { acc[r][c] = bv; }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.n * p.oh * p.ow;
  let t = tile_of(wid, lid);
  if (t.m0 >= M) { return; }
  var acc = bias_block(t.s, t.c0);
  fwd_gemm(&acc, Cols(t.c0, t.s * p.w_stride, 0u), t.m0, 1u, TM, t.s * p.x_stride);
  store_tile(&acc, t.s * p.y_stride, t.m0, M, t.c0, p.co);
}

@compute @workgroup_size(WG)
fn dgrad(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.n * p.h * p.w;
  let t = tile_of(wid, lid);
  if (t.m0 >= M) { return; }
  var acc: Block;
  dgrad_gemm(&acc, Cols(t.c0, t.s * p.w_stride, 0u), t.m0, 1u, TM, t.s * p.y_stride, vec2u(1u, 1u));
  store_tile(&acc, t.s * p.x_stride, t.m0, M, t.c0, p.c);
}

@compute @workgroup_size(WG)
fn wgrad(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ci_tiles = (p.c + TM - 1u) / TM;
  let rt = wid.x * WG + lid;
  if (rt >= p.kh * p.kw * ci_tiles) { return; }
  let khkw = rt / ci_tiles;
  let ci0 = (rt % ci_tiles) * TM;
  let c0 = wid.y * TN;
  let s = wid.z / p.chunks;
  let chunk = wid.z % p.chunks;
  let k0 = chunk * p.kchunk;
  var acc: Block;
  wgrad_gemm(&acc, Cols(c0, s * p.y_stride, ci0), khkw / p.kw, khkw % p.kw, k0, min(p.n * p.oh * p.ow, k0 + p.kchunk), s * p.x_stride);
  store_tile(&acc, (s * p.chunks + chunk) * p.kh * p.kw * p.c * p.co + khkw * p.c * p.co, ci0, p.c, c0, p.co);
}

// Element offsets, in problem s, of x (n, ih, iw, ci), weight (kh, kw, ci, co) and dy (n, oh, ow, co).
fn x_index(s: u32, n: u32, ih: u32, iw: u32, ci: u32) -> u32 {
  return s * p.x_stride + ((n * p.h + ih) * p.w + iw) * p.c + ci;
}

fn w_index(s: u32, kh: u32, kw: u32, ci: u32, co: u32) -> u32 {
  return s * p.w_stride + ((kh * p.kw + kw) * p.c + ci) * p.co + co;
}

fn dy_index(s: u32, n: u32, oh: u32, ow: u32, co: u32) -> u32 {
  return s * p.y_stride + ((n * p.oh + oh) * p.ow + ow) * p.co + co;
}

// The direct kernels' elements dx[n, ih, iw, ci], out[n, oh, ow, co] and dw[kh, kw, ci, co] of
// problem s, each a plain loop over its sum. In dx only the taps (kh, kw) that reach a whole
// output pixel (oh, ow) in range contribute.
fn direct_dgrad_at(s: u32, n: u32, ih: u32, iw: u32, ci: u32) -> f32 {
  var acc = 0.0;
  for (var kh = 0u; kh < p.kh; kh++) {
    for (var kw = 0u; kw < p.kw; kw++) {
      let oh = out_coord(ih, p.sh, p.ph, kh, p.dh, p.oh);
      let ow = out_coord(iw, p.sw, p.pw, kw, p.dw, p.ow);
      if (oh < 0 || ow < 0) { continue; }
      for (var co = 0u; co < p.co; co++) {
        acc += dy[dy_index(s, n, u32(oh), u32(ow), co)] * weight[w_index(s, kh, kw, ci, co)];
      }
    }
  }
  return acc;
}

fn direct_fwd_at(s: u32, n: u32, oh: u32, ow: u32, co: u32) -> f32 {
  var acc = bias_at(s, co);
  for (var kh = 0u; kh < p.kh; kh++) {
    for (var kw = 0u; kw < p.kw; kw++) {
      let ih = in_coord(oh, p.sh, p.ph, kh, p.dh);
      let iw = in_coord(ow, p.sw, p.pw, kw, p.dw);
      if (!inside(ih, iw)) { continue; }
      for (var ci = 0u; ci < p.c; ci++) {
        acc += x[x_index(s, n, u32(ih), u32(iw), ci)] * weight[w_index(s, kh, kw, ci, co)];
      }
    }
  }
  return acc;
}

fn direct_wgrad_at(s: u32, kh: u32, kw: u32, ci: u32, co: u32) -> f32 {
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) {
    for (var oh = 0u; oh < p.oh; oh++) {
      for (var ow = 0u; ow < p.ow; ow++) {
        let ih = in_coord(oh, p.sh, p.ph, kh, p.dh);
        let iw = in_coord(ow, p.sw, p.pw, kw, p.dw);
        if (!inside(ih, iw)) { continue; }
        acc += x[x_index(s, n, u32(ih), u32(iw), ci)] * dy[dy_index(s, n, oh, ow, co)];
      }
    }
  }
  return acc;
}

// The direct entries' element: this invocation's flat index i (in a grid of [x, y] workgroups of
// WG), its problem s (workgroup_id.z) and i's coordinates `at` in a row-major tensor of shape
// dims (live: i is inside it).
struct Element { i: u32, s: u32, at: vec4u, live: bool }

fn element(wid: vec3u, nwg: vec3u, lid: u32, dims: vec4u) -> Element {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let r = i / dims.w;
  let at = vec4u(r / (dims.y * dims.z), (r / dims.z) % dims.y, r % dims.z, i % dims.w);
  return Element(i, wid.z, at, at.x < dims.x);
}

// The direct entries, one invocation per element of out, dx or dw.
@compute @workgroup_size(WG)
fn direct_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid, vec4u(p.n, p.oh, p.ow, p.co));
  if (e.live) { out[e.s * p.y_stride + e.i] = out_value(direct_fwd_at(e.s, e.at.x, e.at.y, e.at.z, e.at.w)); }
}

@compute @workgroup_size(WG)
fn direct_dgrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid, vec4u(p.n, p.h, p.w, p.c));
  if (e.live) { out[e.s * p.x_stride + e.i] = direct_dgrad_at(e.s, e.at.x, e.at.y, e.at.z, e.at.w); }
}

@compute @workgroup_size(WG)
fn direct_wgrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid, vec4u(p.kh, p.kw, p.c, p.co));
  if (e.live) { out[e.s * p.w_stride + e.i] = direct_wgrad_at(e.s, e.at.x, e.at.y, e.at.z, e.at.w); }
}
