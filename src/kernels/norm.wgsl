// norm.wgsl: LayerNorm (MODE 0) and RMSNorm (MODE 1) over the last axis of x viewed as [rows, d],
// forward and backward.
// Math (per row, n = d):
//   LayerNorm: mu = sum(x)/n, var = sum((x-mu)^2)/n (two-pass), rstd = 1/sqrt(var + eps),
//              xhat = (x - mu) * rstd, y = xhat * w + b.
//   RMSNorm:   mu = 0, rstd = 1/sqrt(sum(x^2)/n + eps), xhat = x * rstd, y = xhat * w.
//   Backward with g = dy * w:  dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (LayerNorm)
//                              dx = rstd * (g - xhat * mean(g * xhat))             (RMSNorm)
//              dw = sum_rows dy * xhat, db = sum_rows dy.
// Entry points:
//   fwd_row / bwd_row: one invocation per row, sequential loops (short rows, many of them).
//   fwd_wg  / bwd_wg:  one workgroup per row, WG invocations stride over the row and combine their
//                      partial sums by a tree in workgroup memory (long rows or few rows).
//   dparams:           pass 1 of dw/db: one invocation per (chunk c, column j) sums rows
//                      [c*chunk, (c+1)*chunk) into dw_part[c*d + j], db_part[c*d + j]; the host
//                      sums the [chunks, d] partials over chunks (reduce.wgsl). Deterministic: fixed
//                      order, no atomics.
// Bindings: x, weight, bias, dy, mean, rstd (read); y, dx, mean_out, rstd_out, dw_part, db_part
//   (read_write); p (uniform). weight/bias (HAS_WEIGHT/HAS_BIAS false) and mean/mean_out (RMSNorm)
//   are never touched when absent; the host binds a small placeholder buffer there.
// Layout: x, y, dy, dx: [rows, d] row-major contiguous; weight, bias: [d]; mean, rstd: [rows].
// Tiling: WG invocations per workgroup (override, power of two); every entry grid-strides over
//   rows (or columns) so any workgroup count covers any size.
override MODE: u32 = 0u;
override HAS_WEIGHT: bool = false;
override HAS_BIAS: bool = false;
override WG: u32 = 64u;

struct Params { rows: u32, d: u32, eps: f32, chunk: u32, chunks: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
@group(0) @binding(7) var<storage, read> dy: array<f32>;
@group(0) @binding(8) var<storage, read> mean: array<f32>;
@group(0) @binding(9) var<storage, read> rstd: array<f32>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;
@group(0) @binding(11) var<storage, read_write> dw_part: array<f32>;
@group(0) @binding(12) var<storage, read_write> db_part: array<f32>;

var<workgroup> red: array<vec2f, WG>;

fn w_at(j: u32) -> f32 {
  if (HAS_WEIGHT) { return weight[j]; }
  return 1.0;
}

fn b_at(j: u32) -> f32 {
  if (HAS_BIAS) { return bias[j]; }
  return 0.0;
}

fn saved_mean(r: u32) -> f32 {
  if (MODE == 0u) { return mean[r]; }
  return 0.0;
}

// Sum of v over the workgroup (both lanes); called in uniform control flow only.
fn wg_sum(lid: u32, v: vec2f) -> vec2f {
  red[lid] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// NOTE: the variance is computed in a second pass over (x - mu), never as E[x^2] - mu^2, which
// cancels catastrophically when |mu| >> std (e.g. activations with a large offset).
@compute @workgroup_size(WG)
fn fwd_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = f32(p.d);
  for (var r = gid.x; r < p.rows; r += nwg.x * WG) {
    let base = r * p.d;
    var mu = 0.0;
    if (MODE == 0u) {
      var s = 0.0;
      for (var j = 0u; j < p.d; j++) { s += x[base + j]; }
      mu = s / n;
    }
    var q = 0.0;
    for (var j = 0u; j < p.d; j++) {
      let c = x[base + j] - mu;
      q += c * c;
    }
    // NOTE: 1/sqrt rather than inverseSqrt: inverseSqrt may be a low-precision approximation.
    let rs = 1.0 / sqrt(q / n + p.eps);
    for (var j = 0u; j < p.d; j++) { y[base + j] = (x[base + j] - mu) * rs * w_at(j) + b_at(j); }
    if (MODE == 0u) { mean_out[r] = mu; }
    rstd_out[r] = rs;
  }
}

@compute @workgroup_size(WG)
fn fwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
          @builtin(num_workgroups) nwg: vec3u) {
  let n = f32(p.d);
  for (var r = wid.x; r < p.rows; r += nwg.x) {
    let base = r * p.d;
    var mu = 0.0;
    if (MODE == 0u) {
      var s = 0.0;
      for (var j = lid; j < p.d; j += WG) { s += x[base + j]; }
      mu = wg_sum(lid, vec2f(s, 0.0)).x / n;
    }
    var q = 0.0;
    for (var j = lid; j < p.d; j += WG) {
      let c = x[base + j] - mu;
      q += c * c;
    }
    let rs = 1.0 / sqrt(wg_sum(lid, vec2f(q, 0.0)).x / n + p.eps);
    for (var j = lid; j < p.d; j += WG) { y[base + j] = (x[base + j] - mu) * rs * w_at(j) + b_at(j); }
    if (lid == 0u) {
      if (MODE == 0u) { mean_out[r] = mu; }
      rstd_out[r] = rs;
    }
  }
}

@compute @workgroup_size(WG)
fn bwd_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = f32(p.d);
  for (var r = gid.x; r < p.rows; r += nwg.x * WG) {
    let base = r * p.d;
    let mu = saved_mean(r);
    let rs = rstd[r];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = 0u; j < p.d; j++) {
      let g = dy[base + j] * w_at(j);
      sg += g;
      sgx += g * (x[base + j] - mu) * rs;
    }
    let a = select(sg / n, 0.0, MODE == 1u);
    let b = sgx / n;
    for (var j = 0u; j < p.d; j++) {
      let g = dy[base + j] * w_at(j);
      dx[base + j] = rs * (g - a - (x[base + j] - mu) * rs * b);
    }
  }
}

@compute @workgroup_size(WG)
fn bwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
          @builtin(num_workgroups) nwg: vec3u) {
  let n = f32(p.d);
  for (var r = wid.x; r < p.rows; r += nwg.x) {
    let base = r * p.d;
    let mu = saved_mean(r);
    let rs = rstd[r];
    var acc = vec2f(0.0);
    for (var j = lid; j < p.d; j += WG) {
      let g = dy[base + j] * w_at(j);
      acc += vec2f(g, g * (x[base + j] - mu) * rs);
    }
    let tot = wg_sum(lid, acc);
    let a = select(tot.x / n, 0.0, MODE == 1u);
    let b = tot.y / n;
    for (var j = lid; j < p.d; j += WG) {
      let g = dy[base + j] * w_at(j);
      dx[base + j] = rs * (g - a - (x[base + j] - mu) * rs * b);
    }
  }
}

@compute @workgroup_size(WG)
fn dparams(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.chunks * p.d;
  for (var t = gid.x; t < total; t += nwg.x * WG) {
    let j = t % p.d;
    let c = t / p.d;
    let r0 = c * p.chunk;
    let r1 = min(p.rows, r0 + p.chunk);
    var sw = 0.0;
    var sb = 0.0;
    for (var r = r0; r < r1; r++) {
      let g = dy[r * p.d + j];
      sw += g * (x[r * p.d + j] - saved_mean(r)) * rstd[r];
      sb += g;
    }
    dw_part[t] = sw;
    if (HAS_BIAS) { db_part[t] = sb; }
  }
}
