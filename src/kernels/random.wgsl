// random.wgsl: counter-based random numbers (Philox4x32-10). Item i of a tensor draws from
// counter (i, stream, 0, 0) under key (seed_lo, seed_hi), so the numbers depend only on
// (seed, stream, i): the same whatever the tensor's shape or how it is split.
// Entry points: rand_uniform: out[i] = low + (high - low) * u, u in (0, 1) with 24 random bits;
//               rand_normal: out[i] = mean + std * z, z by Box-Muller from two words of the block.
// Bindings: 0 out (read_write f32), 1 p (uniform). Tiling: WG invocations, grid-stride.
override WG: u32 = 256u;

struct Params { n: u32, stream: u32, seed_lo: u32, seed_hi: u32, a: f32, b: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

// (hi, lo) words of the 64-bit product a * b.
fn mulhilo(a: u32, b: u32) -> vec2u {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let hl = ah * bl;
  let lh = al * bh;
  let hh = ah * bh;
  let cross = (ll >> 16u) + (hl & 0xffffu) + lh;
  return vec2u(hh + (hl >> 16u) + (cross >> 16u), (cross << 16u) | (ll & 0xffffu));
}

fn philox(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0; r < 10; r++) {
    let p0 = mulhilo(0xD2511F53u, c.x);
    let p1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2u(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

// A uniform number in (0, 1) from the top 24 bits of w.
fn unit(w: u32) -> f32 {
  return (f32(w >> 8u) + 0.5) * 5.96046448e-8;
}

@compute @workgroup_size(WG)
fn rand_uniform(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let w = philox(vec4u(i, p.stream, 0u, 0u), vec2u(p.seed_lo, p.seed_hi));
    out[i] = p.a + (p.b - p.a) * unit(w.x);
  }
}

@compute @workgroup_size(WG)
fn rand_normal(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let w = philox(vec4u(i, p.stream, 0u, 0u), vec2u(p.seed_lo, p.seed_hi));
    let z = sqrt(-2.0 * log(unit(w.x))) * cos(6.28318531 * unit(w.y));
    out[i] = p.a + p.b * z;
  }
}
