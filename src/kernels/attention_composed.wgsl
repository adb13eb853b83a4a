// attention_composed.wgsl: the kernels of the composed (unfused) attention path, which stays as
// the fused kernels' oracle and bench baseline: a batched strided matmul and a causal mask.
//   bmm:         c[b, m, n] = alpha * sum_k a[b, m, k] * bm[b, k, n], where a and bm are read
//                through (row, column) strides, so A^T and B^T need no copy. Each invocation
//                holds a TM x TN register tile; the column tile comes from workgroup_id.y, so
//                bm's addresses are uniform within a workgroup. workgroup_id.z = batch.
//   causal_mask: s[b, i, j] = NEG where j > i (in place on [B, Tq, Tk] scores), flat grid.
// Bindings: 0 a, 1 bm (read), 2 c (read_write), 3 p (uniform), 4 s (read_write).
const TM: u32 = 4u;
const TN: u32 = 4u;
override WG: u32 = 64u;
// NOTE: finite "minus infinity": softmax's exp(NEG - max) is exactly 0, and no inf arithmetic.
const NEG: f32 = -1.0e30;

struct Params {
  m: u32, n: u32, k: u32, alpha: f32,
  a_rs: u32, a_cs: u32, a_bs: u32, b_rs: u32,
  b_cs: u32, b_bs: u32, batch: u32, tq: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> bm: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read_write> s: array<f32>;

@compute @workgroup_size(WG)
fn bmm(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = (wid.x * WG + lid) * TM;
  if (m0 >= p.m) { return; }
  let n0 = wid.y * TN;
  let b = wid.z;
  var acc: array<array<f32, TN>, TM>;
  var ao: array<u32, TM>;
  for (var r = 0u; r < TM; r++) { ao[r] = b * p.a_bs + min(m0 + r, p.m - 1u) * p.a_rs; }
  var bo: array<u32, TN>;
  for (var cc = 0u; cc < TN; cc++) { bo[cc] = b * p.b_bs + min(n0 + cc, p.n - 1u) * p.b_cs; }
  for (var kk = 0u; kk < p.k; kk++) {
    var av: array<f32, TM>;
    for (var r = 0u; r < TM; r++) { av[r] = a[ao[r] + kk * p.a_cs]; }
    for (var cc = 0u; cc < TN; cc++) {
      let bv = bm[bo[cc] + kk * p.b_rs];
      for (var r = 0u; r < TM; r++) { acc[r][cc] = fma(av[r], bv, acc[r][cc]); }
    }
  }
  for (var r = 0u; r < TM; r++) {
    if (m0 + r < p.m) {
      for (var cc = 0u; cc < TN; cc++) {
        if (n0 + cc < p.n) { c[(b * p.m + m0 + r) * p.n + n0 + cc] = acc[r][cc] * p.alpha; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn causal_mask(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * WG + lid;
  if (idx >= p.batch * p.tq * p.n) { return; }
  let j = idx % p.n;
  let i = (idx / p.n) % p.tq;
  if (j > i) { s[idx] = NEG; }
}
