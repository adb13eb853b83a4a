// bench_ceiling.wgsl: the adapter's ceilings, measured in the same run as every benchmark.
// Entry points:
//   fma_peak: each invocation runs CHAINS independent FMA chains of ITERS steps in registers
//             (2 * CHAINS * ITERS flops) and writes one sum, so memory traffic is negligible.
//   copy:     out[i] = x[i] as vec4<f32> (bandwidth ceiling: 8 bytes moved per f32).
//   copy_naive: the same copy one f32 per item (the elementwise kernels' access pattern).
// Bindings: x (read), out (read_write), p (uniform: n = items, vec4s for copy).
// Tiling: WG invocations per workgroup; copy grid-strides over any workgroup count.
override WG: u32 = 256u;
override ITERS: u32 = 256u;
const CHAINS = 8u;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read_write> outs: array<f32>;

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.n) { return; }
  let seed = f32(gid.x) * 1e-9;
  var a = vec4f(seed, seed + 1e-3, seed + 2e-3, seed + 3e-3);
  var b = a + vec4f(0.5);
  let m = vec4f(0.999999, 0.999998, 0.999997, 0.999996);
  let c = vec4f(1e-6);
  for (var i = 0u; i < ITERS; i++) {
    a = fma(a, m, c);
    b = fma(b, m, c);
  }
  out[gid.x] = a + b;
}

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = x[i]; }
}

@compute @workgroup_size(WG)
fn copy_naive(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { outs[i] = xs[i]; }
}
