// elementwise_io.wgsl (included by unary.wgsl and bench/bench_ceiling.wgsl): the interface of an
// elementwise f32 kernel over p.n items: x (read) and out (read_write) one f32 per item, x4 and
// out4 vec4 views of the same kinds of buffers (p.n then counts vec4s). The including file
// declares `override WG` and its entry points.
struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> x4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;
