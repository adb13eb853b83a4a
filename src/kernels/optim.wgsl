// optim.wgsl: fused, in-place optimizer updates (one dispatch per parameter, or per 4 parameters
// for Adam on vec4 views: adam_multi_vec4, per 7 (5 with momentum) for SGD: sgd_multi; the host appends the dispatches to the open encoder,
// and each reads its own slot of the uniform ring, so many steps can be appended before one
// submit with the right lr and step count in each).
// Math (PyTorch conventions; the host folds the per-parameter lr multiplier into lr and
// precomputes everything that depends on the step in f64):
//   sgd:  g = grad + wd * w;  if MOMENTUM: b = first ? g : momentum * b + (1 - dampening) * g,
//         g = NESTEROV ? g + momentum * b : b;  w -= lr * g.
//   adam: DECOUPLED (AdamW): w *= 1 - lr * wd (decay_factor);  else g = grad + wd * w.
//         m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
//         w -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_k = 1 - beta_k^step.
// Gradient check: with p.members > 0 each entry flags the first non-finite gradient item it sees in
//   `health` (include/train_health.wgsl) as member item / (n / members)'s at step p.train_step,
//   parameter p.param_index; adam_multi_checked_vec4 does so for 3 slots (its 12 bindings and
//   health fit a 16-buffer limit; adam_multi_vec4's 16 do not leave room).
// Bindings: grad (read); param, buf, m, v, health (read_write, updated in place); p (uniform). With
//   MOMENTUM false, buf is never touched (the host binds a placeholder). sgd_vec4 / adam_vec4 bind
//   the same tensors as vec4 views: grad4 (read), param4, buf4, m4, v4 (read_write).
// Layout: every tensor of one parameter has its n elements contiguous. Tiling: WG invocations per
//   workgroup, grid-stride over elements.
override WG: u32 = 256u;
override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override DECOUPLED: bool = false;

struct Params {
  n: u32,
  first: u32,
  lr: f32,
  weight_decay: f32,
  momentum: f32,
  one_minus_dampening: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  step_size: f32,
  bc2_sqrt: f32,
  decay_factor: f32,
  members: u32,
  train_step: u32,
  param_index: u32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read_write> param4: array<vec4f>;
@group(0) @binding(7) var<storage, read> grad4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> v4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> buf4: array<vec4f>;
@group(0) @binding(28) var<storage, read_write> health: array<atomic<u32>>;

//!include train_health.wgsl

// The gradient check of the single-parameter entries: item i's gradient (1-based `bad` marks it).
fn check_gradient(g: vec4f, i: u32) {
  if (p.members != 0u && not_finite4(g)) { flag_gradient(i + 1u, p.n, p.members, p.train_step, p.param_index); }
}

// The constants of one parameter's SGD step.
struct SgdConsts { lr: f32, weight_decay: f32, momentum: f32, one_minus_dampening: f32, first: bool }

// One SGD step on 4 elements (scalar entries use lane x): the new weight and momentum buffer.
fn sgd_math(w: vec4f, grad_in: vec4f, b0: vec4f, c: SgdConsts) -> array<vec4f, 2> {
  var g = grad_in + c.weight_decay * w;
  var b = g;
  if (MOMENTUM) {
    if (!c.first) { b = c.momentum * b0 + c.one_minus_dampening * g; }
    g = select(b, g + c.momentum * b, NESTEROV);
  }
  return array<vec4f, 2>(w - c.lr * g, b);
}

// sgd_math with the constants of p.
fn sgd_step(w: vec4f, grad_in: vec4f, b0: vec4f) -> array<vec4f, 2> {
  return sgd_math(w, grad_in, b0, SgdConsts(p.lr, p.weight_decay, p.momentum, p.one_minus_dampening, p.first != 0u));
}

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    // A fresh buffer (p.first) is never read: its contents are undefined.
    var b0 = vec4f(0.0);
    if (MOMENTUM && p.first == 0u) { b0 = vec4f(buf[i]); }
    let g = vec4f(grad[i]);
    check_gradient(g, i);
    let r = sgd_step(vec4f(param[i]), g, b0);
    if (MOMENTUM) { buf[i] = r[1].x; }
    param[i] = r[0].x;
  }
}

// sgd on vec4 views (n % 4 == 0; p.n counts vec4s).
@compute @workgroup_size(WG)
fn sgd_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    var b0 = vec4f(0.0);
    if (MOMENTUM && p.first == 0u) { b0 = buf4[i]; }
    let g = grad4[i];
    check_gradient(g, i);
    let r = sgd_step(param4[i], g, b0);
    if (MOMENTUM) { buf4[i] = r[1]; }
    param4[i] = r[0];
  }
}

struct AdamOut { w: vec4f, m: vec4f, v: vec4f }

// The per-parameter constants of one Adam step (the rest is shared by every parameter).
struct AdamConsts { weight_decay: f32, decay_factor: f32, step_size: f32, bc2_sqrt: f32 }
struct AdamShared { beta1: f32, one_minus_beta1: f32, beta2: f32, one_minus_beta2: f32, eps: f32 }

// One Adam step on 4 elements.
fn adam_math(w0: vec4f, g0: vec4f, m0: vec4f, v0: vec4f, c: AdamConsts, h: AdamShared) -> AdamOut {
  var w = w0;
  var g = g0;
  if (DECOUPLED) { w *= c.decay_factor; } else { g += c.weight_decay * w; }
  let mi = h.beta1 * m0 + h.one_minus_beta1 * g;
  let vi = h.beta2 * v0 + h.one_minus_beta2 * g * g;
  // NOTE: sqrt(v) / sqrt(bc2), not sqrt(v / bc2): same value, but it keeps eps's meaning
  // identical to PyTorch's (eps is added after the bias correction of sqrt(v)).
  return AdamOut(w - c.step_size * mi / (sqrt(vi) / c.bc2_sqrt + h.eps), mi, vi);
}

// adam_math with the constants of p (the scalar entry uses lane x).
fn adam_step(w0: vec4f, g0: vec4f, m0: vec4f, v0: vec4f) -> AdamOut {
  return adam_math(w0, g0, m0, v0, AdamConsts(p.weight_decay, p.decay_factor, p.step_size, p.bc2_sqrt),
                   AdamShared(p.beta1, p.one_minus_beta1, p.beta2, p.one_minus_beta2, p.eps));
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let g = vec4f(grad[i]);
    check_gradient(g, i);
    let r = adam_step(vec4f(param[i]), g, vec4f(m[i]), vec4f(v[i]));
    m[i] = r.m.x;
    v[i] = r.v.x;
    param[i] = r.w.x;
  }
}

// adam on vec4 views (n % 4 == 0; p.n counts vec4s): a quarter of the loads, which set the speed
// on lavapipe.
@compute @workgroup_size(WG)
fn adam_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let g = grad4[i];
    check_gradient(g, i);
    let r = adam_step(param4[i], g, m4[i], v4[i]);
    m4[i] = r.m;
    v4[i] = r.v;
    param4[i] = r.w;
  }
}

// adam_multi_vec4: adam_vec4 on up to 4 parameters in one dispatch (the host groups the
// parameters of one step; a dispatch costs a fixed ~0.04-0.1 ms on lavapipe plus its JS).
// Slot s binds mw<s>, mg<s>, mm<s>, mv<s> and reads its constants from component s of pm's
// vectors (n = 0 for an empty slot, whose bindings are placeholders). Workgroups
// wg_start[s] .. + wg_count[s] of a 1-D grid serve slot s (as many as its own dispatch would
// take: idle workgroups still cost ~2 us each on lavapipe).
struct MultiParams {
  n: vec4u,
  wg_start: vec4u,
  wg_count: vec4u,
  weight_decay: vec4f,
  decay_factor: vec4f,
  step_size: vec4f,
  bc2_sqrt: vec4f,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  param_index: vec4u,
  members: u32,
  train_step: u32,
}
@group(0) @binding(11) var<uniform> pm: MultiParams;
@group(0) @binding(12) var<storage, read_write> mw0: array<vec4f>;
@group(0) @binding(13) var<storage, read> mg0: array<vec4f>;
@group(0) @binding(14) var<storage, read_write> mm0: array<vec4f>;
@group(0) @binding(15) var<storage, read_write> mv0: array<vec4f>;
@group(0) @binding(16) var<storage, read_write> mw1: array<vec4f>;
@group(0) @binding(17) var<storage, read> mg1: array<vec4f>;
@group(0) @binding(18) var<storage, read_write> mm1: array<vec4f>;
@group(0) @binding(19) var<storage, read_write> mv1: array<vec4f>;
@group(0) @binding(20) var<storage, read_write> mw2: array<vec4f>;
@group(0) @binding(21) var<storage, read> mg2: array<vec4f>;
@group(0) @binding(22) var<storage, read_write> mm2: array<vec4f>;
@group(0) @binding(23) var<storage, read_write> mv2: array<vec4f>;
@group(0) @binding(24) var<storage, read_write> mw3: array<vec4f>;
@group(0) @binding(25) var<storage, read> mg3: array<vec4f>;
@group(0) @binding(26) var<storage, read_write> mm3: array<vec4f>;
@group(0) @binding(27) var<storage, read_write> mv3: array<vec4f>;

// Slot s's share of the update; returns 1 + the first item whose gradient is not finite (0: none).
fn adam_slot(sw: ptr<storage, array<vec4f>, read_write>, sg: ptr<storage, array<vec4f>, read>,
             sm: ptr<storage, array<vec4f>, read_write>, sv: ptr<storage, array<vec4f>, read_write>,
             s: u32, start: u32, stride: u32) -> u32 {
  let c = AdamConsts(pm.weight_decay[s], pm.decay_factor[s], pm.step_size[s], pm.bc2_sqrt[s]);
  let h = AdamShared(pm.beta1, pm.one_minus_beta1, pm.beta2, pm.one_minus_beta2, pm.eps);
  var bad = 0u;
  for (var i = start; i < pm.n[s]; i += stride) {
    let g = (*sg)[i];
    if (bad == 0u && not_finite4(g)) { bad = i + 1u; }
    let r = adam_math((*sw)[i], g, (*sm)[i], (*sv)[i], c, h);
    (*sm)[i] = r.m;
    (*sv)[i] = r.v;
    (*sw)[i] = r.w;
  }
  return bad;
}

// The slot of workgroup w (the last whose wg_start it has reached).
fn multi_slot(w: u32) -> u32 {
  return select(select(select(0u, 1u, w >= pm.wg_start.y), 2u, w >= pm.wg_start.z), 3u, w >= pm.wg_start.w);
}

@compute @workgroup_size(WG)
fn adam_multi_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x;
  let s = multi_slot(w);
  let start = (w - pm.wg_start[s]) * WG + lid;
  let stride = pm.wg_count[s] * WG;
  switch s {
    case 0u: { _ = adam_slot(&mw0, &mg0, &mm0, &mv0, 0u, start, stride); }
    case 1u: { _ = adam_slot(&mw1, &mg1, &mm1, &mv1, 1u, start, stride); }
    case 2u: { _ = adam_slot(&mw2, &mg2, &mm2, &mv2, 2u, start, stride); }
    default: { _ = adam_slot(&mw3, &mg3, &mm3, &mv3, 3u, start, stride); }
  }
}

// adam_multi_vec4 on slots 0-2 with the gradient check (the host leaves slot 3 empty).
@compute @workgroup_size(WG)
fn adam_multi_checked_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x;
  let s = min(multi_slot(w), 2u);
  let start = (w - pm.wg_start[s]) * WG + lid;
  let stride = pm.wg_count[s] * WG;
  var bad = 0u;
  switch s {
    case 0u: { bad = adam_slot(&mw0, &mg0, &mm0, &mv0, 0u, start, stride); }
    case 1u: { bad = adam_slot(&mw1, &mg1, &mm1, &mv1, 1u, start, stride); }
    default: { bad = adam_slot(&mw2, &mg2, &mm2, &mv2, 2u, start, stride); }
  }
  flag_gradient(bad, pm.n[s], pm.members, pm.train_step, pm.param_index[s]);
}

// sgd_multi: sgd on up to 7 parameters in one dispatch (MOMENTUM false; slot s binds sw<s>,
// sg<s>), sgd_multi_momentum on up to 5 (MOMENTUM true; slot s also binds sb<s>). Elements are
// scalars: the host groups parameters small enough that a dispatch's fixed cost outweighs their
// loads. Slot s reads its constants from entry s of ps's arrays (n = 0 for an empty slot, whose
// bindings are placeholders); workgroups wg_start[s] .. + wg_count[s] of a 1-D grid serve it,
// grid-stride over its n elements. health is bound in both (a placeholder without a gradient
// check, members = 0). Bindings 29-49; ps is the uniform.
struct SgdMultiParams {
  n: array<vec4u, 2>,
  wg_start: array<vec4u, 2>,
  wg_count: array<vec4u, 2>,
  lr: array<vec4f, 2>,
  weight_decay: array<vec4f, 2>,
  first: array<vec4u, 2>,
  param_index: array<vec4u, 2>,
  momentum: f32,
  one_minus_dampening: f32,
  members: u32,
  train_step: u32,
}
@group(0) @binding(29) var<uniform> ps: SgdMultiParams;
@group(0) @binding(30) var<storage, read_write> sw0: array<f32>;
@group(0) @binding(31) var<storage, read> sg0: array<f32>;
@group(0) @binding(32) var<storage, read_write> sw1: array<f32>;
@group(0) @binding(33) var<storage, read> sg1: array<f32>;
@group(0) @binding(34) var<storage, read_write> sw2: array<f32>;
@group(0) @binding(35) var<storage, read> sg2: array<f32>;
@group(0) @binding(36) var<storage, read_write> sw3: array<f32>;
@group(0) @binding(37) var<storage, read> sg3: array<f32>;
@group(0) @binding(38) var<storage, read_write> sw4: array<f32>;
@group(0) @binding(39) var<storage, read> sg4: array<f32>;
@group(0) @binding(40) var<storage, read_write> sw5: array<f32>;
@group(0) @binding(41) var<storage, read> sg5: array<f32>;
@group(0) @binding(42) var<storage, read_write> sw6: array<f32>;
@group(0) @binding(43) var<storage, read> sg6: array<f32>;
@group(0) @binding(44) var<storage, read_write> sb0: array<f32>;
@group(0) @binding(45) var<storage, read_write> sb1: array<f32>;
@group(0) @binding(46) var<storage, read_write> sb2: array<f32>;
@group(0) @binding(47) var<storage, read_write> sb3: array<f32>;
@group(0) @binding(48) var<storage, read_write> sb4: array<f32>;

fn sgd_multi_consts(s: u32) -> SgdConsts {
  let q = s / 4u;
  let r = s % 4u;
  return SgdConsts(ps.lr[q][r], ps.weight_decay[q][r], ps.momentum, ps.one_minus_dampening, ps.first[q][r] != 0u);
}

// The slot of workgroup w (the last whose start it has reached; empty slots start at the total).
fn sgd_multi_slot(w: u32, slots: u32) -> u32 {
  var s = 0u;
  for (var k = 1u; k < slots; k++) {
    if (w >= ps.wg_start[k / 4u][k % 4u]) { s = k; }
  }
  return s;
}

// Slot s's share of a plain update; returns 1 + the first item whose gradient is not finite (0: none).
fn sgd_slot(sw: ptr<storage, array<f32>, read_write>, sg: ptr<storage, array<f32>, read>, s: u32, start: u32, stride: u32) -> u32 {
  let c = sgd_multi_consts(s);
  let count = ps.n[s / 4u][s % 4u];
  var bad = 0u;
  for (var i = start; i < count; i += stride) {
    let g = vec4f((*sg)[i]);
    if (bad == 0u && not_finite4(g)) { bad = i + 1u; }
    (*sw)[i] = sgd_math(vec4f((*sw)[i]), g, vec4f(0.0), c)[0].x;
  }
  return bad;
}

// Slot s's share of an update with a momentum buffer (a fresh buffer, `first`, is never read).
fn sgd_slot_momentum(sw: ptr<storage, array<f32>, read_write>, sg: ptr<storage, array<f32>, read>,
                     sb: ptr<storage, array<f32>, read_write>, s: u32, start: u32, stride: u32) -> u32 {
  let c = sgd_multi_consts(s);
  let count = ps.n[s / 4u][s % 4u];
  var bad = 0u;
  for (var i = start; i < count; i += stride) {
    let g = vec4f((*sg)[i]);
    if (bad == 0u && not_finite4(g)) { bad = i + 1u; }
    var b0 = vec4f(0.0);
    if (!c.first) { b0 = vec4f((*sb)[i]); }
    let r = sgd_math(vec4f((*sw)[i]), g, b0, c);
    (*sb)[i] = r[1].x;
    (*sw)[i] = r[0].x;
  }
  return bad;
}

// Slot s of workgroup w among `slots`, and invocation lid's first item and grid stride in it.
struct SgdSpan { s: u32, start: u32, stride: u32 }
fn sgd_multi_span(w: u32, lid: u32, slots: u32) -> SgdSpan {
  let s = sgd_multi_slot(w, slots);
  return SgdSpan(s, (w - ps.wg_start[s / 4u][s % 4u]) * WG + lid, ps.wg_count[s / 4u][s % 4u] * WG);
}

fn sgd_multi_flag(bad: u32, s: u32) {
  flag_gradient(bad, ps.n[s / 4u][s % 4u], ps.members, ps.train_step, ps.param_index[s / 4u][s % 4u]);
}

@compute @workgroup_size(WG)
fn sgd_multi(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let span = sgd_multi_span(wid.x, lid, 7u);
  var bad = 0u;
  switch span.s {
    case 0u: { bad = sgd_slot(&sw0, &sg0, 0u, span.start, span.stride); }
    case 1u: { bad = sgd_slot(&sw1, &sg1, 1u, span.start, span.stride); }
    case 2u: { bad = sgd_slot(&sw2, &sg2, 2u, span.start, span.stride); }
    case 3u: { bad = sgd_slot(&sw3, &sg3, 3u, span.start, span.stride); }
    case 4u: { bad = sgd_slot(&sw4, &sg4, 4u, span.start, span.stride); }
    case 5u: { bad = sgd_slot(&sw5, &sg5, 5u, span.start, span.stride); }
    default: { bad = sgd_slot(&sw6, &sg6, 6u, span.start, span.stride); }
  }
  sgd_multi_flag(bad, span.s);
}

@compute @workgroup_size(WG)
fn sgd_multi_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let span = sgd_multi_span(wid.x, lid, 5u);
  var bad = 0u;
  switch span.s {
    case 0u: { bad = sgd_slot_momentum(&sw0, &sg0, &sb0, 0u, span.start, span.stride); }
    case 1u: { bad = sgd_slot_momentum(&sw1, &sg1, &sb1, 1u, span.start, span.stride); }
    case 2u: { bad = sgd_slot_momentum(&sw2, &sg2, &sb2, 2u, span.start, span.stride); }
    case 3u: { bad = sgd_slot_momentum(&sw3, &sg3, &sb3, 3u, span.start, span.stride); }
    default: { bad = sgd_slot_momentum(&sw4, &sg4, &sb4, 4u, span.start, span.stride); }
  }
  sgd_multi_flag(bad, span.s);
}
