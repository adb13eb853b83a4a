// attention_body.wgsl (included by attention and attention_shuffle): Params, bindings, the
// entry points fwd, prep, dkdv and dq_main. The including file defines init_lane() and
// fetch_row(src, o) -> Row: the D4 vec4s of the row at vec4 offset o of src (q, k, v or dout).
const D: u32 = 64u;
const D4: u32 = D / 4u;
const TQ: u32 = 2u;
override WG: u32 = 64u;
// NOTE: a finite "minus infinity" for masked scores: exp(NEG - m) is exactly 0 and NEG - NEG
// never occurs (key 0 is visible to every row, so the running max is finite after block 0).
const NEG: f32 = -1.0e30;

struct Params { bh: u32, tq: u32, tk: u32, causal: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> k: array<vec4f>;
@group(0) @binding(2) var<storage, read> v: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read> o_in: array<vec4f>;
@group(0) @binding(7) var<storage, read> dout: array<vec4f>;
@group(0) @binding(8) var<storage, read> lse_in: array<f32>;
@group(0) @binding(9) var<storage, read> delta_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> delta: array<f32>;
@group(0) @binding(11) var<storage, read_write> dq: array<vec4f>;
@group(0) @binding(12) var<storage, read_write> dk: array<vec4f>;
@group(0) @binding(13) var<storage, read_write> dv: array<vec4f>;

// The invocation's own rows (module scope so helpers reach them without copies).
var<private> ra: array<vec4f, D4>;
var<private> rb: array<vec4f, D4>;
var<private> ga: array<vec4f, D4>;
var<private> gb: array<vec4f, D4>;
// fwd: TQ query rows and their accumulators.
var<private> fq: array<array<vec4f, D4>, TQ>;
var<private> fa: array<array<vec4f, D4>, TQ>;

alias Row = array<vec4f, D4>;

//!include nan_minmax.wgsl

fn hsum(x: vec4f) -> f32 { return (x.x + x.y) + (x.z + x.w); }

// (a . ra, b . rb): the score and dout . v terms of dkdv (a = q_i, b = dout_i) and dq (k_j, v_j).
fn dots_ra_rb(a: Row, b: Row) -> vec2f {
  var s = vec4f(0.0);
  var dp = vec4f(0.0);
  for (var d = 0u; d < D4; d++) {
    s = fma(a[d], ra[d], s);
    dp = fma(b[d], rb[d], dp);
  }
  return vec2f(hsum(s), hsum(dp));
}

// This invocation's row of the dkdv / dq block along an axis of n rows (workgroup_id.y = bh):
// (its index, the index clamped into [0, n)): a row past the end reads the last row and writes
// nothing.
fn own_row(blk: u32, lid: u32, n: u32) -> vec2u {
  let i = blk * WG + lid;
  return vec2u(i, min(i, n - 1u));
}

// The invocation's own rows of dkdv and dq: ra = scale * a's row at vec4 offset o, rb = b's row,
// ga = gb = 0.
fn init_own_rows(a: ptr<storage, array<vec4f>, read>, b: ptr<storage, array<vec4f>, read>, o: u32) {
  for (var d = 0u; d < D4; d++) {
    ra[d] = (*a)[o + d] * p.scale;
    rb[d] = (*b)[o + d];
    ga[d] = vec4f(0.0);
    gb[d] = vec4f(0.0);
  }
}

// One past the last key any row of query block `blk` can see (uniform within a workgroup).
fn key_end(blk: u32) -> u32 {
  return select(p.tk, min(p.tk, (blk + 1u) * WG), p.causal != 0u);
}

fn visible(j: u32, row: u32) -> bool {
  return j < p.tk && (p.causal == 0u || j <= row);
}

@compute @workgroup_size(WG)
fn fwd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  init_lane();
  // This invocation's TQ query rows: i0 .. i0 + TQ - 1 (each K/V load feeds TQ rows).
  let i0 = (wid.x * WG + lid) * TQ;
  let bh = wid.y;
  var qo: array<u32, TQ>;
  var rows: array<u32, TQ>;
  var m: array<f32, TQ>;
  var l: array<f32, TQ>;
  for (var t = 0u; t < TQ; t++) {
    rows[t] = min(i0 + t, p.tq - 1u);
    qo[t] = (bh * p.tq + rows[t]) * D4;
    m[t] = NEG;
    l[t] = 0.0;
    for (var d = 0u; d < D4; d++) { fq[t][d] = q[qo[t] + d] * p.scale; fa[t][d] = vec4f(0.0); }
  }
  // Causal: one past the last key the workgroup's last row can see (uniform).
  let kend = select(p.tk, min(p.tk, (wid.x + 1u) * WG * TQ), p.causal != 0u);
  let last = p.tk - 1u;
  let kb = bh * p.tk;
  for (var j0 = 0u; j0 < kend; j0 += 4u) {
    let j = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    let o = (vec4u(kb) + min(j, vec4u(last))) * D4;
    // NOTE: zeroed explicitly: lavapipe kept the previous iteration's values for a bare
    // `var s: array<...>;` declared inside the loop (WGSL says zero-initialized each time).
    var s: array<vec4f, TQ>;
    for (var t = 0u; t < TQ; t++) { s[t] = vec4f(0.0); }
    for (var jj = 0u; jj < 4u; jj++) {
      let kr = fetch_row(&k, o[jj]);
      for (var t = 0u; t < TQ; t++) {
        var acc = vec4f(0.0);
        for (var d = 0u; d < D4; d++) { acc = fma(fq[t][d], kr[d], acc); }
        s[t][jj] = hsum(acc);
      }
    }
    var pj: array<vec4f, TQ>;
    var corr: array<f32, TQ>;
    for (var t = 0u; t < TQ; t++) {
      let r = rows[t];
      let ok = vec4<bool>(visible(j.x, r), visible(j.y, r), visible(j.z, r), visible(j.w, r));
      let st = select(vec4f(NEG), s[t], ok);
      let mn = max_nan(m[t], max_nan(max_nan(st.x, st.y), max_nan(st.z, st.w)));
      corr[t] = exp(m[t] - mn);
      // hidden keys weigh exactly 0 (exp(NEG - mn) is 1, not 0, when every visible score is -Inf)
      pj[t] = select(vec4f(0.0), exp(st - vec4f(mn)), ok);
      l[t] = l[t] * corr[t] + hsum(pj[t]);
      m[t] = mn;
    }
    for (var t = 0u; t < TQ; t++) {
      for (var d = 0u; d < D4; d++) { fa[t][d] *= corr[t]; }
    }
    for (var jj = 0u; jj < 4u; jj++) {
      let vr = fetch_row(&v, o[jj]);
      for (var t = 0u; t < TQ; t++) {
        // NOTE: a key the row cannot see is skipped, not weighted by 0: 0 * NaN in its V row
        // (a future token's, or the clamped tail's) would reach the row. An `if`, not a
        // `continue`, so the loop's later subgroup shuffles stay in uniform control flow.
        if (visible(j[jj], rows[t])) {
          for (var d = 0u; d < D4; d++) { fa[t][d] = fma(vec4f(pj[t][jj]), vr[d], fa[t][d]); }
        }
      }
    }
  }
  for (var t = 0u; t < TQ; t++) {
    if (i0 + t < p.tq) {
      // l is 0 only when every visible score is -Inf: softmax is then 0/0 = NaN, as in the reference
      // (written outright: the driver folds 0 * (1 / 0) to 0)
      let inv = 1.0 / l[t];
      let empty = l[t] == 0.0;
      for (var d = 0u; d < D4; d++) { out[qo[t] + d] = select(fa[t][d] * inv, vec4f(quiet_nan()), empty); }
      lse[bh * p.tq + i0 + t] = m[t] + log(l[t]);
    }
  }
}

@compute @workgroup_size(WG)
fn prep(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let r = (wid.y * nwg.x + wid.x) * WG + lid;
  if (r >= p.bh * p.tq) { return; }
  var s = vec4f(0.0);
  for (var d = 0u; d < D4; d++) { s = fma(dout[r * D4 + d], o_in[r * D4 + d], s); }
  delta[r] = hsum(s);
}

@compute @workgroup_size(WG)
fn dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  init_lane();
  let j = own_row(wid.x, lid, p.tk);
  let bh = wid.y;
  let ko = (bh * p.tk + j.y) * D4;
  // ra = scale * k_j, rb = v_j, ga = dk_j / scale, gb = dv_j
  init_own_rows(&k, &v, ko);
  // Causal: rows before this block's first key see none of its keys.
  let i0 = select(0u, min(p.tq, wid.x * WG), p.causal != 0u);
  for (var i = i0; i < p.tq; i++) {
    let r = bh * p.tq + i;
    let qo = r * D4;
    let qr = fetch_row(&q, qo);
    let dr = fetch_row(&dout, qo);
    let sd = dots_ra_rb(qr, dr);
    // NOTE: a row that cannot see this key is skipped, not weighted by 0: 0 * NaN in its q or
    // dout row would reach dk and dv (and exp(s - lse) could overflow). An `if`, not a `continue`
    // (subgroup uniformity, as in fwd).
    if (p.causal == 0u || j.y <= i) {
      let pij = exp(sd.x - lse_in[r]);
      let ds = pij * (sd.y - delta_in[r]);
      for (var d = 0u; d < D4; d++) {
        gb[d] = fma(vec4f(pij), dr[d], gb[d]);
        ga[d] = fma(vec4f(ds), qr[d], ga[d]);
      }
    }
  }
  if (j.x < p.tk) {
    for (var d = 0u; d < D4; d++) { dk[ko + d] = ga[d] * p.scale; dv[ko + d] = gb[d]; }
  }
}

@compute @workgroup_size(WG)
fn dq_main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  init_lane();
  let i = own_row(wid.x, lid, p.tq);
  let bh = wid.y;
  let r = bh * p.tq + i.y;
  let qo = r * D4;
  // ra = scale * q_i, rb = dout_i, ga = dq_i / scale
  init_own_rows(&q, &dout, qo);
  let l = lse_in[r];
  let dl = delta_in[r];
  let kend = key_end(wid.x);
  for (var j = 0u; j < kend; j++) {
    let ko = (bh * p.tk + j) * D4;
    let kr = fetch_row(&k, ko);
    let sd = dots_ra_rb(kr, fetch_row(&v, ko));
    // a key the row cannot see is skipped (0 * NaN in its k or v row would reach dq)
    if (p.causal == 0u || j <= i.y) {
      let ds = exp(sd.x - l) * (sd.y - dl);
      for (var d = 0u; d < D4; d++) { ga[d] = fma(vec4f(ds), kr[d], ga[d]); }
    }
  }
  if (i.x < p.tq) {
    for (var d = 0u; d < D4; d++) { dq[qo + d] = ga[d] * p.scale; }
  }
}
