// conv2d_taps.wgsl (included by conv2d.wgsl and conv2d_shuffle.wgsl, after conv2d_common): the
// tap loops of the three implicit GEMMs, written once. Each walks the taps (fwd, dgrad) or the
// output pixels (wgrad) of one invocation's tile, works out where each row reads and whether that
// read is inside the image, and hands that to the includer's body, which does the K loop:
//   fwd_tap(acc, cols, off, ok, k)    tap k = kh * KW + kw of fwd: row r reads x at off[r] + ci
//                                     (an element index), inside the image when ok[r]
//   dgrad_tap(acc, cols, off, ok, k)  the same for dgrad: row r reads dy at off[r] + co
//   wgrad_pixel(acc, cols, xo, m)     output pixel m of wgrad's K walk, whose tap (kh, kw) is
//                                     in the image: x[xo + ci] is (n, ih, iw, ci)
// The includer defines const TAP_ROWS (the most rows an invocation addresses per tap), alias Acc
// (its accumulator) and struct Cols (what its bodies need of the invocation's columns), and
// passes `rows` (<= TAP_ROWS) and `step`: row r is GEMM row m0 + r * step (clamped to the last).
// A padded row reads a harmless in-range address (base) and is flagged dead: the body adds
// nothing for it (0 * an infinite operand would be NaN).

// NOTE: the rows' offsets and flags travel as two arrays, not a struct of arrays: with the struct,
// lavapipe ran the shuffle kernels' fwd and dgrad 3-4x slower (bench/conv-ab.ts).
// fwd: rows m = (n, oh, ow) of out [N, OH, OW]; x of this problem starts at xb.
fn fwd_gemm(acc: ptr<function, Acc>, cols: Cols, m0: u32, step: u32, rows: u32, xb: u32) {
  var ih0: array<u32, TAP_ROWS>;
  var iw0: array<u32, TAP_ROWS>;
  var nb: array<u32, TAP_ROWS>;
  for (var r = 0u; r < rows; r++) {
    let px = pixel_of(m0 + r * step, p.oh, p.ow);
    ih0[r] = px.y;
    iw0[r] = px.z;
    nb[r] = xb + px.x * p.h * p.w * p.c;
  }
  for (var kh = 0u; kh < p.kh; kh++) {
    for (var kw = 0u; kw < p.kw; kw++) {
      var off: array<u32, TAP_ROWS>;
      var ok: array<bool, TAP_ROWS>;
      for (var r = 0u; r < rows; r++) {
        let ih = in_coord(ih0[r], p.sh, p.ph, kh, p.dh);
        let iw = in_coord(iw0[r], p.sw, p.pw, kw, p.dw);
        ok[r] = inside(ih, iw);
        off[r] = select(xb, nb[r] + (u32(ih) * p.w + u32(iw)) * p.c, ok[r]);
      }
      fwd_tap(acc, cols, off, ok, kh * p.kw + kw);
    }
  }
}

// dgrad: rows m = (n, a, b) of one stride phase of dx, input pixel (py + a * step_h,
// px + b * step_w) with a < hq, b < wq, taps kh0 + khs * i (kw likewise): the shuffle kernel
// dispatches each phase with step = stride and only the taps that reach it; the register-tile
// kernel takes the whole image as one phase (py = px = 0, hq = H, wq = W, khs = kws = 1, step 1).
// A tap reaches row (ih, iw) when oh*sh = ih + ph - kh*dh is a multiple of sh in [0, OH) (ow
// likewise). dy of this problem starts at yb.
fn dgrad_gemm(acc: ptr<function, Acc>, cols: Cols, m0: u32, step: u32, rows: u32, yb: u32, phase_step: vec2u) {
  var ih: array<i32, TAP_ROWS>;
  var iw: array<i32, TAP_ROWS>;
  var nb: array<u32, TAP_ROWS>;
  for (var r = 0u; r < rows; r++) {
    let px = pixel_of(m0 + r * step, p.hq, p.wq);
    ih[r] = i32(p.py + px.y * phase_step.x) + i32(p.ph);
    iw[r] = i32(p.px + px.z * phase_step.y) + i32(p.pw);
    nb[r] = yb + px.x * p.oh * p.ow * p.co;
  }
  for (var kh = p.kh0; kh < p.kh; kh += p.khs) {
    for (var kw = p.kw0; kw < p.kw; kw += p.kws) {
      var off: array<u32, TAP_ROWS>;
      var ok: array<bool, TAP_ROWS>;
      for (var r = 0u; r < rows; r++) {
        let nh = ih[r] - i32(kh * p.dh);
        let nw = iw[r] - i32(kw * p.dw);
        let oh = nh / i32(p.sh);
        let ow = nw / i32(p.sw);
        ok[r] = nh >= 0 && nw >= 0 && oh * i32(p.sh) == nh && ow * i32(p.sw) == nw && oh < i32(p.oh) && ow < i32(p.ow);
        off[r] = select(yb, nb[r] + (u32(oh) * p.ow + u32(ow)) * p.co, ok[r]);
      }
      dgrad_tap(acc, cols, off, ok, kh * p.kw + kw);
    }
  }
}

// wgrad: the K walk of tap (kh, kw) over output pixels m in [k0, k1) (one chunk); a pixel whose
// tap is padding is skipped (dy there may be infinite: 0 * Inf would be NaN). x of this problem
// starts at xb.
fn wgrad_gemm(acc: ptr<function, Acc>, cols: Cols, kh: u32, kw: u32, k0: u32, k1: u32, xb: u32) {
  var ow = k0 % p.ow;
  var oh = (k0 / p.ow) % p.oh;
  var n = k0 / (p.ow * p.oh);
  for (var m = k0; m < k1; m++) {
    let ih = in_coord(oh, p.sh, p.ph, kh, p.dh);
    let iw = in_coord(ow, p.sw, p.pw, kw, p.dw);
    if (inside(ih, iw)) { wgrad_pixel(acc, cols, xb + ((n * p.h + u32(ih)) * p.w + u32(iw)) * p.c, m); }
    next_pixel(&n, &oh, &ow, p.oh, p.ow);
  }
}
