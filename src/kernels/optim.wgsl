// optim.wgsl: fused, in-place optimizer updates of one parameter tensor (one dispatch per
// parameter; the host appends every parameter's dispatch to the open encoder, and each dispatch
// reads its own slot of the uniform ring, so many steps can be appended before one submit with
// the right lr and step count in each).
// Math (PyTorch conventions; the host folds the per-parameter lr multiplier into lr and
// precomputes everything that depends on the step in f64):
//   sgd:  g = grad + wd * w;  if MOMENTUM: b = first ? g : momentum * b + (1 - dampening) * g,
//         g = NESTEROV ? g + momentum * b : b;  w -= lr * g.
//   adam: DECOUPLED (AdamW): w *= 1 - lr * wd (decay_factor);  else g = grad + wd * w.
//         m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
//         w -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_k = 1 - beta_k^step.
// Bindings: grad (read); param, buf, m, v (read_write, updated in place); p (uniform). With
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

// One SGD step on 4 elements (the scalar entry uses lane x): the new weight and momentum buffer.
fn sgd_step(w: vec4f, grad_in: vec4f, b0: vec4f) -> array<vec4f, 2> {
  var g = grad_in + p.weight_decay * w;
  var b = g;
  if (MOMENTUM) {
    if (p.first == 0u) { b = p.momentum * b0 + p.one_minus_dampening * g; }
    g = select(b, g + p.momentum * b, NESTEROV);
  }
  return array<vec4f, 2>(w - p.lr * g, b);
}

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    // A fresh buffer (p.first) is never read: its contents are undefined.
    var b0 = vec4f(0.0);
    if (MOMENTUM && p.first == 0u) { b0 = vec4f(buf[i]); }
    let r = sgd_step(vec4f(param[i]), vec4f(grad[i]), b0);
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
    let r = sgd_step(param4[i], grad4[i], b0);
    if (MOMENTUM) { buf4[i] = r[1]; }
    param4[i] = r[0];
  }
}

struct AdamOut { w: vec4f, m: vec4f, v: vec4f }

// One Adam step on 4 elements (the scalar entry uses lane x).
fn adam_step(w0: vec4f, g0: vec4f, m0: vec4f, v0: vec4f) -> AdamOut {
  var w = w0;
  var g = g0;
  if (DECOUPLED) { w *= p.decay_factor; } else { g += p.weight_decay * w; }
  let mi = p.beta1 * m0 + p.one_minus_beta1 * g;
  let vi = p.beta2 * v0 + p.one_minus_beta2 * g * g;
  // NOTE: sqrt(v) / sqrt(bc2), not sqrt(v / bc2): same value, but it keeps eps's meaning
  // identical to PyTorch's (eps is added after the bias correction of sqrt(v)).
  return AdamOut(w - p.step_size * mi / (sqrt(vi) / p.bc2_sqrt + p.eps), mi, vi);
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let r = adam_step(vec4f(param[i]), vec4f(grad[i]), vec4f(m[i]), vec4f(v[i]));
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
    let r = adam_step(param4[i], grad4[i], m4[i], v4[i]);
    m4[i] = r.m;
    v4[i] = r.v;
    param4[i] = r.w;
  }
}
