// loss.wgsl: softmax cross-entropy with integer labels, and mean-squared error; forward and backward.
// Cross-entropy, logits x viewed as [rows, c], labels [rows] (i32):
//   lse_r = m_r + log(sum_j exp(x_rj - m_r)), m_r = max_j x_rj;  loss_r = lse_r - x_r,label_r.
//   The max and the sum come from one online pass: (m, s) pairs combine as
//   m = max(m1, m2), s = s1 exp(m1 - m) + s2 exp(m2 - m), the max NaN-propagating (max_nan of
//   include/nan_minmax.wgsl); a +Inf logit makes the row's s NaN (exp(Inf - Inf)), as in the reference.
//   Backward: dx_rj = (exp(x_rj - lse_r) - [j == label_r]) * g[r * g_stride] * scale
//   (g_stride 0: one upstream value for all rows, the 'mean'/'sum' reductions; scale 1/rows for 'mean').
//   A label outside [0, c) is never read through: it gives loss NaN and a NaN dx row (never a silent
//   wrong answer), and the cross-entropy entries flag the first one in the device's error flags
//   with p.tag (include/error_flags.wgsl), so the host's next readback throws naming it.
// MSE, a and b of n elements: out_i = (a_i - b_i)^2; backward da_i = 2 (a_i - b_i) g[i * g_stride] * scale.
// Entry points:
//   ce_fwd_row: one invocation per row (short rows); ce_fwd_wg: one workgroup per row, a tree of
//   (m, s) pairs in workgroup memory (long rows, e.g. vocabularies); ce_bwd: one invocation per
//   element (ce_bwd_vec4: per 4 elements of a row, c % 4 == 0); mse_fwd, mse_bwd: elementwise.
//   The tree is include/wg_reduce.wgsl's; both forward entries scan their columns with row_ms.
//   ce_fwd_grad: a small 'mean'/'sum' cross-entropy and its gradient for a unit upstream value
//   in one workgroup (see its comment).
// Bindings: x, labels, lse, g, a, b (read); loss, lse_out, dx, out, flags (read_write); p (uniform:
//   rows, c, n, g_stride, scale, nan, lowest, tag); x4, dx4: vec4 views of x and dx (ce_bwd_vec4).
// Layout: row-major contiguous. Tiling: WG invocations per workgroup (override, power of two),
//   grid-stride over rows, workgroups or elements.
override WG: u32 = 64u;

struct Params { rows: u32, c: u32, n: u32, g_stride: u32, scale: f32, nan: f32, lowest: f32, tag: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> g: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<storage, read> a: array<f32>;
@group(0) @binding(9) var<storage, read> b: array<f32>;
@group(0) @binding(10) var<storage, read_write> out: array<f32>;
@group(0) @binding(11) var<storage, read> x4: array<vec4f>;
@group(0) @binding(12) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(13) var<storage, read_write> flags: array<atomic<u32>>;

//!include error_flags.wgsl
//!include nan_minmax.wgsl

// NOTE: the running max starts at the lowest finite f32 (p.lowest), not -inf: with -inf, an empty
// partial would combine as exp(-inf - -inf) = NaN. exp(lowest - m) underflows to 0 for any real m.
alias WgValue = vec2f;
fn combine(u: vec2f, v: vec2f) -> vec2f {
  let m = max_nan(u.x, v.x);
  return vec2f(m, u.y * exp(u.x - m) + v.y * exp(v.x - m));
}
//!include wg_reduce.wgsl

// exp(v - v) for a new running max v: 1, or NaN for v = +Inf (written out: the driver folds
// v - v to 0).
fn new_max_weight(v: f32) -> f32 {
  return select(1.0, quiet_nan(), bitcast<u32>(v) == 0x7f800000u);
}

fn label_ok(l: i32) -> bool {
  return index_in_range(l, p.c);
}

fn finish_row(r: u32, ms: vec2f) {
  let l = read_index(&labels, r, p.c, p.tag, true);
  let lse_r = ms.x + log(ms.y);
  lse_out[r] = lse_r;
  // NOTE: loss = lse - x[label] stays finite for logits of +-1e4: the shift by the max keeps every
  // exp in [0, 1] and the sum in [1, c].
  loss[r] = select(p.nan, lse_r - x[r * p.c + u32(select(0, l, label_ok(l)))], label_ok(l));
}

// The (m, s) pair of columns j0, j0 + js, ... of row r, in one online pass.
fn row_ms(r: u32, j0: u32, js: u32) -> vec2f {
  let base = r * p.c;
  var ms = vec2f(p.lowest, 0.0);
  for (var j = j0; j < p.c; j += js) {
    let v = x[base + j];
    if (v > ms.x) {
      ms = vec2f(v, ms.y * exp(ms.x - v) + new_max_weight(v));
    } else {
      ms.y += exp(v - ms.x);
    }
  }
  return ms;
}

@compute @workgroup_size(WG)
fn ce_fwd_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var r = gid.x; r < p.rows; r += nwg.x * WG) {
    finish_row(r, row_ms(r, 0u, 1u));
  }
}

@compute @workgroup_size(WG)
fn ce_fwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
             @builtin(num_workgroups) nwg: vec3u) {
  for (var r = wid.x; r < p.rows; r += nwg.x) {
    let ms = wg_reduce(lid, row_ms(r, lid, WG));
    if (lid == 0u) { finish_row(r, ms); }
  }
}

//!include strided_index.wgsl

// What dx needs of row r: its label (flagged when out of range and `report` holds), whether the
// label is in range, lse and the upstream factor.
struct RowTerms { label: i32, ok: bool, lse: f32, up: f32 }

fn row_terms(r: u32, report: bool) -> RowTerms {
  let l = read_index(&labels, r, p.c, p.tag, report);
  return RowTerms(l, label_ok(l), lse[r], g[r * p.g_stride] * p.scale);
}

@compute @workgroup_size(WG)
fn ce_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.rows * p.c;
  for (var i = gid.x; i < total; i += nwg.x * WG) {
    let rj = split2(i, p.c);
    let t = row_terms(rj.x, rj.y == 0u);
    let onehot = select(0.0, 1.0, u32(t.label) == rj.y);
    dx[i] = select(p.nan, (exp(x[i] - t.lse) - onehot) * t.up, t.ok);
  }
}

// ce_bwd on vec4 items (c % 4 == 0): a row's label, lse and upstream value load once per 4.
@compute @workgroup_size(WG)
fn ce_bwd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c4 = p.c / 4u;
  let total = p.rows * c4;
  for (var i = gid.x; i < total; i += nwg.x * WG) {
    let rj = split2(i, c4);
    let j = 4u * rj.y;
    let t = row_terms(rj.x, j == 0u);
    let onehot = select(vec4f(0.0), vec4f(1.0), vec4u(u32(t.label)) == vec4u(j, j + 1u, j + 2u, j + 3u));
    dx4[i] = select(vec4f(p.nan), (exp(x4[i] - vec4f(t.lse)) - onehot) * t.up, t.ok);
  }
}

@compute @workgroup_size(WG)
fn mse_fwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let d = a[i] - b[i];
    out[i] = d * d;
  }
}

@compute @workgroup_size(WG)
fn mse_bwd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    out[i] = 2.0 * (a[i] - b[i]) * g[i * p.g_stride] * p.scale;
  }
}

// ce_fwd_grad: the whole 'mean' (p.scale = 1/rows) or 'sum' (1) cross-entropy of a small batch in
// one workgroup, with its gradient for an upstream value of 1: dx = (exp(x - lse) - onehot) * scale,
// as ce_bwd with g = 1. Invocation lid takes rows lid, lid + WG, ...: it scans a row with row_ms,
// writes the row's dx and adds the row's loss to its partial sum; invocation 0 then adds the WG
// partial sums in order and writes loss[0] = sum * scale. A bad label gives a NaN loss and dx row
// and is flagged, as in the other entries. Bindings: x, labels, loss (1 item), dx, flags, p.
var<workgroup> ce_partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn ce_fwd_grad(@builtin(local_invocation_index) lid: u32) {
  var part = 0.0;
  for (var r = lid; r < p.rows; r += WG) {
    let ms = row_ms(r, 0u, 1u);
    let l = read_index(&labels, r, p.c, p.tag, true);
    let ok = label_ok(l);
    let lse_r = ms.x + log(ms.y);
    let base = r * p.c;
    part += select(p.nan, lse_r - x[base + u32(select(0, l, ok))], ok);
    for (var j = 0u; j < p.c; j++) {
      let onehot = select(0.0, 1.0, u32(l) == j);
      dx[base + j] = select(p.nan, (exp(x[base + j] - lse_r) - onehot) * p.scale, ok);
    }
  }
  ce_partial[lid] = part;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var k = 0u; k < WG; k++) { total += ce_partial[k]; }
    loss[0] = total * p.scale;
  }
}
