// softmax_bindings.wgsl (included by softmax.wgsl and softmax_subgroup.wgsl): the uniform Params
// (outer, len, inner, inf = +Infinity, lowest = the lowest finite f32) and bindings 0-4: x (read;
// forward input), y (read; the forward's output), g (read; upstream gradient), out (read_write),
// p (uniform). The includer declares nothing for it.
struct Params { outer: u32, len: u32, inner: u32, inf: f32, lowest: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
