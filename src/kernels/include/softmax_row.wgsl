// softmax_row.wgsl (included by softmax.wgsl and softmax_subgroup.wgsl): the per-row math of the
// fused softmax (MODE 0) and log-softmax (MODE 1), forward and backward, shared by every entry.
// Forward, per row: m = max x (NaN if any item is), s = sum exp(x - m);
//   softmax y = exp(x - m) / s, log-softmax y = (x - m) - log s (x - m first: exact near the max,
//   where m + log s would round to m's ulp, ~1e-3 at |m| = 1e4).
//   Partial (m, s) pairs (per invocation or lane) combine as m = max(m1, m2),
//   s = s1 exp(m1 - m) + s2 exp(m2 - m). Running maxima start at p.lowest (the lowest finite
//   f32), not -Inf: two empty partials would combine as exp(-Inf - -Inf) = NaN.
// Backward, per row, from the forward's output y and the upstream gradient g:
//   softmax dx = y (g - d), d = sum g y;  log-softmax dx = g - exp(y) d, d = sum g.
// Needs `override MODE: u32` and nan_minmax.wgsl in the including file. No bindings (parameter
// names avoid the kernels' binding names: the reflection takes such a parameter for a use).

// NOTE: rows the f64 reference makes all NaN are made NaN here explicitly, since the driver's
// compiler may fold exp(v - v) to 1: a +Inf item (exp(Inf - Inf)), a row of -Inf only (s = 0, or a
// maximum of -Inf where the maximum starts at -Inf). A NaN item already gives m = NaN.
fn checked_sum(m: f32, s: f32) -> f32 {
  let bits = bitcast<u32>(m);
  if (bits == 0x7f800000u || bits == 0xff800000u || s == 0.0) { return quiet_nan(); }
  return s;
}

// Merges partial (max, sum of exp(x - max)) pairs.
fn merge_ms(u: vec2f, v: vec2f) -> vec2f {
  let m = max_nan(u.x, v.x);
  return vec2f(m, u.y * exp(u.x - m) + v.y * exp(v.x - m));
}

// Adds one item to a partial (m, s): branch-free (lanes of one SIMD register diverge otherwise).
fn push_ms(ms: vec2f, v: f32) -> vec2f {
  let m = max_nan(ms.x, v);
  return vec2f(m, ms.y * exp(ms.x - m) + exp(v - m));
}

// max_nan per component.
fn max_nan4(lhs: vec4f, rhs: vec4f) -> vec4f {
  let nan_lhs = (bitcast<vec4u>(lhs) & vec4u(0x7fffffffu)) > vec4u(0x7f800000u);
  return select(rhs, lhs, (lhs > rhs) | nan_lhs);
}

fn max4(v: vec4f) -> f32 {
  return max_nan(max_nan(v.x, v.y), max_nan(v.z, v.w));
}

fn sum4(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// Adds 4 items to a partial (m, s).
fn push_ms4(ms: vec2f, v: vec4f) -> vec2f {
  let m = max_nan(ms.x, max4(v));
  return vec2f(m, ms.y * exp(ms.x - m) + sum4(exp(v - vec4f(m))));
}

// The per-row constant of the forward's last pass: 1 / s (softmax) or log s (log-softmax).
fn row_factor(m: f32, s: f32) -> f32 {
  let sc = checked_sum(m, s);
  if (MODE == 0u) { return 1.0 / sc; }
  return log(sc);
}

fn fwd_value(v: f32, m: f32, k: f32) -> f32 {
  if (MODE == 0u) { return exp(v - m) * k; }
  return (v - m) - k;
}

fn fwd_value4(v: vec4f, m: f32, k: f32) -> vec4f {
  if (MODE == 0u) { return exp(v - vec4f(m)) * k; }
  return (v - vec4f(m)) - vec4f(k);
}

// The backward's summand: g y (softmax) or g (log-softmax).
fn bwd_term(out_v: f32, up: f32) -> f32 {
  if (MODE == 0u) { return up * out_v; }
  return up;
}

fn bwd_term4(out_v: vec4f, up: vec4f) -> vec4f {
  if (MODE == 0u) { return up * out_v; }
  return up;
}

fn bwd_value(out_v: f32, up: f32, d: f32) -> f32 {
  if (MODE == 0u) { return out_v * (up - d); }
  return up - exp(out_v) * d;
}

fn bwd_value4(out_v: vec4f, up: vec4f, d: f32) -> vec4f {
  if (MODE == 0u) { return out_v * (up - vec4f(d)); }
  return up - exp(out_v) * d;
}
