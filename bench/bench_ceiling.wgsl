// bench_ceiling.wgsl: the adapter's ceilings, measured in the same run as every benchmark.
// Entry points:
//   fma_peak: each invocation runs CHAINS (2..4) independent vec4 FMA chains of 4 ITERS steps in
//             registers (32 * CHAINS * ITERS flops) and writes one sum: memory traffic is
//             negligible. Too few chains is latency-bound (FMA latency x issue width needs ~10
//             independent FMAs in flight); too many spills on lavapipe (16 AVX2 registers, one
//             per f32 of an invocation), so the host times several CHAINS and WG and keeps the
//             best. The loop body holds 4 steps of every chain: on lavapipe each loop iteration
//             costs a vector compare, a mask test and a branch, and with one step per
//             iteration that overhead halved the measured peak (18 vs 30-37 GFLOP/s).
//   copy:     out4[i] = x4[i], vec4s (bandwidth ceiling: 8 bytes moved per f32).
//   copy_naive: out[i] = x[i], the same copy one f32 per item (the elementwise kernels' access
//             pattern).
// Bindings (include/elementwise_io.wgsl, those of unary.wgsl): x, x4 (read), out, out4 (read_write;
//   fma_peak writes out4), p (uniform: n = items, vec4s for copy).
// Tiling: WG invocations per workgroup; copy grid-strides over any workgroup count.
override WG: u32 = 256u;
override ITERS: u32 = 256u;
override CHAINS: u32 = 3u;

//!include elementwise_io.wgsl

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u) {
  let seed = f32(gid.x) * 1e-9;
  var a0 = vec4f(seed, seed + 1e-3, seed + 2e-3, seed + 3e-3);
  var a1 = a0 + vec4f(0.5);
  var a2 = a0 + vec4f(0.25);
  var a3 = a0 + vec4f(0.125);
  // Splatted constants hold 1 register each (a vec4 of distinct lanes would take 4 of the 16
  // AVX2 registers that the chains need on lavapipe, where each invocation is one SIMD lane).
  let m = vec4f(0.999999);
  let c = vec4f(1e-6);
  for (var i = 0u; i < ITERS; i++) {
    for (var u = 0u; u < 4u; u++) {
      a0 = fma(a0, m, c);
      a1 = fma(a1, m, c);
      if (CHAINS > 2u) { a2 = fma(a2, m, c); }
      if (CHAINS > 3u) { a3 = fma(a3, m, c); }
    }
  }
  if (gid.x < p.n) { out4[gid.x] = a0 + a1 + a2 + a3; }
}

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out4[i] = x4[i]; }
}

@compute @workgroup_size(WG)
fn copy_naive(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = x[i]; }
}
