// unary.wgsl: elementwise f32 -> f32 functions, one pipeline per function.
// Algorithm: grid-stride loop, out[i] = apply(x[i]); the function is chosen by the override OP,
//   a row of UNARY_TABLE in src/ops/elementwise-table.ts, which generates `apply` (the include
//   unary_ops.wgsl).
// Entry points: main (one f32 per item), main_vec4 (one vec4 per item, for lengths % 4 == 0:
//   memory-bound kernels move ~2.5x more bytes per second this way on lavapipe).
// Bindings (include/elementwise_io.wgsl): 0 x / 3 x4 (read), 1 out / 4 out4 (read_write), 2 p
//   (uniform: n items).
// Layout: both contiguous, same length. Tiling: WG invocations per workgroup, any workgroup count.
override OP: u32 = 0u;
override WG: u32 = 256u;

//!include elementwise_io.wgsl
//!include activations.wgsl

fn sigmoid_stable(v: f32) -> f32 {
  let e = exp(-abs(v));
  let s = 1.0 / (1.0 + e);
  return select(1.0 - s, s, v >= 0.0);
}

//!include unary_ops.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    out[i] = apply(x[i]);
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * WG;
  for (var i = gid.x; i < p.n; i += stride) {
    let v = x4[i];
    out4[i] = vec4f(apply(v.x), apply(v.y), apply(v.z), apply(v.w));
  }
}
