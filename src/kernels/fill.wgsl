// fill.wgsl: creation and conversion kernels on 32-bit words.
// Entry points:
//   fill:   out[i] = bits (any dtype: the host passes the value's bit pattern).
//   arange: out[i] = start + i * step (f32).
//   to_f32: out[i] = f32(xi[i]) (i32 -> f32);  to_i32: out[i] = i32(xf[i]) truncating (f32 -> i32).
// Bindings: out (read_write, n words), xi/xf (read, n words), p (uniform: n, bits, start, step).
// Tiling: WG invocations per workgroup, grid-stride over any workgroup count.
override WG: u32 = 256u;

struct Params { n: u32, bits: u32, start: f32, step: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> xi: array<i32>;
@group(0) @binding(3) var<storage, read> xf: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = p.bits; }
}

@compute @workgroup_size(WG)
fn arange(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = bitcast<u32>(p.start + f32(i) * p.step); }
}

@compute @workgroup_size(WG)
fn to_f32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = bitcast<u32>(f32(xi[i])); }
}

@compute @workgroup_size(WG)
fn to_i32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) { out[i] = bitcast<u32>(i32(xf[i])); }
}
