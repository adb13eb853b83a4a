// anomaly.wgsl: anomaly mode's check of one op output (src/tensor/device.ts appends one dispatch
// per f32 output binding after each op): the first non-finite word (exponent bits all ones: +-inf
// or NaN; a bit test, so no fast-math assumption can fold it away) is flagged in record 1 of the
// error flags with the dispatch's tag.
// Bindings: x (read, n words of f32 bits), flags (read_write, 8 atomic words), p (uniform: n, tag).
// Tiling: WG invocations per workgroup, grid-stride over any workgroup count.
override WG: u32 = 256u;

struct Params { n: u32, tag: u32 }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

//!include error_flags.wgsl

const EXPONENT: u32 = 0x7f800000u;

@compute @workgroup_size(WG)
fn check_finite(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let b = x[i];
    if ((b & EXPONENT) == EXPONENT) { flag_first(4u, p.tag, b, i); }
  }
}
