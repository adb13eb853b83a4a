// conv2d_grouped.wgsl: grouped 2-D convolution (groups > 1; depthwise when groups = C), NHWC
// activations and HWIO weights, stride, zero padding, dilation, and an optional leading ensemble
// axis (S independent problems). groups = 1 stays with conv2d.wgsl / conv2d_shuffle.wgsl.
// Layout: x [S, N, H, W, C], weight [S, KH, KW, CG, CO], bias [S, CO], out/dy [S, N, OH, OW, CO],
//   with CG = C / groups input and COG = CO / groups output channels per group. Output channel co
//   is in group gi = co / COG and reads input channels gi*CG + j, j < CG:
//   out[n, oh, ow, co] = bias[co] + sum_{kh, kw, j} x[n, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw, gi*CG + j]
//                                                   * weight[kh, kw, j, co]   (a tap outside the image adds nothing)
// Entry points (direct: one invocation owns TW adjacent outputs along the width axis, loops over
// their taps and writes them; no atomics, so every result is deterministic):
//   fwd:   out (then act(out), act: p.act) for output columns ow0 + [0, TW) of one (n, oh, co).
//          Each weight tap is loaded once for the TW columns.
//   dgrad: dx[n, ih, iw, ci] = sum_{kh, kw, c < COG} dy[n, oh, ow, gi*COG + c] * weight[kh, kw, j, gi*COG + c]
//          (gi = ci / CG, j = ci % CG; oh*sh = ih + ph - kh*dh, likewise ow: only taps that hit an
//          integer oh, ow in range contribute) for input columns iw0 + [0, TW) of one (n, ih, ci).
//   wgrad: dw[kh, kw, j, co] = sum_{n, oh, ow} x[n, ih, iw, gi*CG + j] * dy[n, oh, ow, co] for the
//          taps kw0 + [0, TW) of one (kh, j, co): each dy value is loaded once for the TW taps. The
//          pixel walk (n, oh, ow) is split into `chunks` slices of `kchunk`, written as partials
//          [S, chunks, KH*KW*CG*CO] that the host sums (a two-pass reduction, no atomics).
// Sliding window (stride 1 and dilation 1, the common depthwise case): the input column that
// output t reads at tap kw + 1 is the one output t + 1 read at tap kw (fwd; dgrad walks its taps
// from KW - 1 down; wgrad: tap t at pixel ow + 1 is tap t + 1 at pixel ow), so the TW values shift
// down one place and one new value is loaded: TW + KW - 1 loads per (kh, channel) instead of TW * KW.
// Tiling: TW is a const the host specializes (private arrays need const sizes): a few output
// columns for fwd and dgrad, min(KW, 8) taps for wgrad. Invocations run channel-fastest (fwd,
// wgrad: co; dgrad: ci), so neighbouring invocations read neighbouring channels. No workgroup
// memory, no barriers. Grid: invocation index (workgroup_id.y * num_workgroups.x + workgroup_id.x)
// * WG + local index (the host keeps x and y below maxComputeWorkgroupsPerDimension);
// workgroup_id.z = problem (fwd, dgrad) or problem * chunks + chunk (wgrad).
// Bindings (include/conv2d_common.wgsl): 0 x, 1 weight, 2 bias, 3 dy (read); 4 out (read_write);
// 5 p (uniform Params; cg and cog are the channels per group).
const TW: u32 = 4u;
override WG: u32 = 64u;

//!include conv2d_common.wgsl

// One operand of a tap: its value and whether the tap is in the image (a padded tap, live false,
// adds nothing: not 0 * the other factor, which is NaN when that is infinite, as in the reference).
struct Tap { v: f32, live: bool }
alias Window = array<Tap, TW>;
alias Sums = array<f32, TW>;

// x at row offset rb (of (n, ih) and the channel; wraps harmlessly when ih < 0) and column iw;
// not live outside the image (padding).
fn x_at(rb: u32, ih: i32, iw: i32) -> Tap {
  let ok = inside(ih, iw);
  return Tap(x[select(0u, rb + u32(iw) * p.c, ok)], ok);
}

// dy at row offset rb (of (n, oh) and the channel) for input offset nw = iw + pw - kw*dw: the
// output column nw / sw when sw divides nw and it is in range, else not live.
fn dy_at(rb: u32, nw: i32) -> Tap {
  let ow = nw / i32(p.sw);
  let ok = nw >= 0 && ow * i32(p.sw) == nw && ow < i32(p.ow);
  return Tap(dy[select(0u, rb + u32(ow) * p.co, ok)], ok);
}

// a[t] = a[t + 1], then v last (the sliding window's step).
fn slide(a: ptr<function, Window>, v: Tap) {
  for (var t = 0u; t + 1u < TW; t++) { (*a)[t] = (*a)[t + 1u]; }
  (*a)[TW - 1u] = v;
}

fn sliding() -> bool {
  return p.sw == 1u && p.dw == 1u;
}

// Index of this invocation in the grid of [x, y] workgroups.
fn invocation(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// A window of TW columns: image, row, first column and channel.
struct Item { n: u32, row: u32, col0: u32, ch: u32 }

// Window i of an [N, rows, cols, chans] tensor (fwd: the output, dgrad: dx), channel fastest
// (neighbouring invocations, neighbouring channels); n >= N past its last window.
fn item(i: u32, rows: u32, cols: u32, chans: u32) -> Item {
  let tiles = (cols + TW - 1u) / TW;
  let r = i / chans;
  return Item(r / (tiles * rows), (r / tiles) % rows, (r % tiles) * TW, i % chans);
}

// acc[t] += a[t] * v for the live a[t]
fn fma_window(acc: ptr<function, Sums>, a: Window, v: f32) {
  for (var t = 0u; t < TW; t++) { (*acc)[t] = select((*acc)[t], fma(a[t].v, v, (*acc)[t]), a[t].live); }
}

// out[ob + t * step] = acc[t] for the t with first + t < size (the part of the window in the axis).
fn store_window(acc: Sums, ob: u32, step: u32, first: u32, size: u32) {
  for (var t = 0u; t < TW; t++) {
    if (first + t < size) { out[ob + t * step] = out_value(acc[t]); }
  }
}

@compute @workgroup_size(WG)
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(local_invocation_index) lid: u32) {
  let it = item(invocation(wid, nwg, lid), p.oh, p.ow, p.co);
  if (it.n >= p.n) { return; }
  let co = it.ch; // output (n, it.row, it.col0 + [0, TW), co)
  let s = wid.z;
  // x offset of (n, row 0, column 0, first input channel of co's group)
  let xb = s * p.x_stride + it.n * p.h * p.w * p.c + (co / p.cog) * p.cg;
  let wb = s * p.w_stride + co;
  var acc: Sums;
  let bv = bias_at(s, co);
  for (var t = 0u; t < TW; t++) { acc[t] = bv; }
  var a: Window;
  for (var kh = 0u; kh < p.kh; kh++) {
    let ih = in_coord(it.row, p.sh, p.ph, kh, p.dh);
    if (ih < 0 || ih >= i32(p.h)) { continue; }
    for (var j = 0u; j < p.cg; j++) {
      let rb = xb + u32(ih) * p.w * p.c + j;
      for (var kw = 0u; kw < p.kw; kw++) {
        if (kw > 0u && sliding()) {
          slide(&a, x_at(rb, ih, in_coord(it.col0 + TW - 1u, 1u, p.pw, kw, 1u)));
        } else {
          for (var t = 0u; t < TW; t++) { a[t] = x_at(rb, ih, in_coord(it.col0 + t, p.sw, p.pw, kw, p.dw)); }
        }
        fma_window(&acc, a, weight[wb + ((kh * p.kw + kw) * p.cg + j) * p.co]);
      }
    }
  }
  store_window(acc, s * p.y_stride + ((it.n * p.oh + it.row) * p.ow + it.col0) * p.co + co, p.co, it.col0, p.ow);
}

@compute @workgroup_size(WG)
fn dgrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let it = item(invocation(wid, nwg, lid), p.h, p.w, p.c);
  if (it.n >= p.n) { return; }
  let gi = it.ch / p.cg; // dx (n, it.row, it.col0 + [0, TW), ci = it.ch) is in group gi
  let ci = it.ch;
  let s = wid.z;
  // dy offset of (n, row 0, column 0, first output channel of the group); weight of (j, that channel)
  let yb = s * p.y_stride + it.n * p.oh * p.ow * p.co + gi * p.cog;
  let wb = s * p.w_stride + (ci % p.cg) * p.co + gi * p.cog;
  var acc = Sums();
  var a: Window;
  for (var kh = 0u; kh < p.kh; kh++) {
    let oh = out_coord(it.row, p.sh, p.ph, kh, p.dh, p.oh);
    if (oh < 0) { continue; }
    for (var c = 0u; c < p.cog; c++) {
      let rb = yb + u32(oh) * p.ow * p.co + c;
      for (var q = 0u; q < p.kw; q++) {
        let kw = p.kw - 1u - q;
        if (q > 0u && sliding()) {
          slide(&a, dy_at(rb, i32(it.col0 + TW - 1u + p.pw) - i32(kw)));
        } else {
          for (var t = 0u; t < TW; t++) { a[t] = dy_at(rb, i32(it.col0 + t + p.pw) - i32(kw * p.dw)); }
        }
        fma_window(&acc, a, weight[wb + (kh * p.kw + kw) * p.cg * p.co + c]);
      }
    }
  }
  store_window(acc, s * p.x_stride + ((it.n * p.h + it.row) * p.w + it.col0) * p.c + ci, p.c, it.col0, p.w);
}

@compute @workgroup_size(WG)
fn wgrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let tiles = (p.kw + TW - 1u) / TW;
  let i = invocation(wid, nwg, lid);
  if (i >= p.kh * tiles * p.cg * p.co) { return; }
  let s = wid.z / p.chunks;
  let chunk = wid.z % p.chunks;
  let co = i % p.co;
  let r = i / p.co;
  let j = r % p.cg;
  let kw0 = ((r / p.cg) % tiles) * TW;
  let kh = r / (p.cg * tiles);
  // x offset of (image 0, row 0, column 0, input channel j of co's group)
  let xb = s * p.x_stride + (co / p.cog) * p.cg + j;
  let yb = s * p.y_stride + co;
  let M = p.n * p.oh * p.ow;
  let k0 = chunk * p.kchunk;
  let k1 = min(M, k0 + p.kchunk);
  var acc = Sums();
  var a: Window;
  var ow = k0 % p.ow;
  var oh = (k0 / p.ow) % p.oh;
  var n = k0 / (p.ow * p.oh);
  for (var m = k0; m < k1; m++) {
    let ih = in_coord(oh, p.sh, p.ph, kh, p.dh);
    let rb = xb + (n * p.h + u32(ih)) * p.w * p.c;
    if (ow > 0u && m > k0 && sliding()) {
      slide(&a, x_at(rb, ih, i32(ow + kw0 + TW - 1u) - i32(p.pw)));
    } else {
      for (var t = 0u; t < TW; t++) { a[t] = x_at(rb, ih, in_coord(ow, p.sw, p.pw, kw0 + t, p.dw)); }
    }
    fma_window(&acc, a, dy[yb + m * p.co]);
    next_pixel(&n, &oh, &ow, p.oh, p.ow);
  }
  store_window(acc, (s * p.chunks + chunk) * p.w_stride + ((kh * p.kw + kw0) * p.cg + j) * p.co + co, p.cg * p.co, kw0, p.kw);
}
