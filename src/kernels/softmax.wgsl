// softmax.wgsl: fused softmax (MODE 0) and log-softmax (MODE 1) of x viewed as [outer, len, inner]
// along the middle axis, forward and backward, one dispatch each (math: include/softmax_row.wgsl).
// Entry points:
//   fwd_strided / bwd_strided: one invocation per slice (o, i): pass 1 folds the slice into
//     (m, s) (forward) or d (backward), pass 2 writes it. For inner > 1 (a non-last axis)
//     neighbouring invocations read neighbouring addresses; for inner == 1 it is one invocation
//     per row (short rows, or adapters where barriers are slow).
//   fwd_wg / bwd_wg: inner == 1, one workgroup per row: WG invocations stride over the row, their
//     partials meet in a tree in workgroup memory, then they stride again to write (long or few
//     rows on adapters without subgroups).
//   The subgroup kernels for rows are in softmax_subgroup.wgsl.
// Bindings (0-4 from include/softmax_bindings.wgsl): x (read; forward input), y (read; the
//   forward's output), g (read; upstream gradient),
//   out (read_write; y forward, dx backward), p (uniform: outer, len, inner, inf = +Infinity,
//   lowest = the lowest finite f32).
// Layout: x, y, g, out: [outer, len, inner] row-major contiguous.
// Tiling: WG invocations per workgroup (override, power of two); every entry grid-strides over
//   slices or rows, so any workgroup count covers any size.
override MODE: u32 = 0u;
override WG: u32 = 64u;

//!include softmax_bindings.wgsl

//!include nan_minmax.wgsl
//!include softmax_row.wgsl
//!include softmax_row_pass.wgsl

var<workgroup> red: array<vec2f, WG>;

// Offset of item 0 of slice j = (o, i) (o = j / inner, i = j % inner); its items are inner apart.
fn slice_base(j: u32) -> u32 {
  let o = j / p.inner;
  return o * p.len * p.inner + (j - o * p.inner);
}

@compute @workgroup_size(WG)
fn fwd_strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let base = slice_base(j);
    var ms = vec2f(p.lowest, 0.0);
    for (var r = 0u; r < p.len; r++) { ms = push_ms(ms, x[base + r * p.inner]); }
    let k = row_factor(ms.x, ms.y);
    for (var r = 0u; r < p.len; r++) {
      let at = base + r * p.inner;
      out[at] = fwd_value(x[at], ms.x, k);
    }
  }
}

@compute @workgroup_size(WG)
fn bwd_strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.outer * p.inner;
  for (var j = gid.x; j < total; j += nwg.x * WG) {
    let base = slice_base(j);
    // NOTE: blocked sum (32 items a block) so the error grows like 32 + len / 32 roundings.
    var d = 0.0;
    var r = 0u;
    while (r < p.len) {
      let end = min(p.len, r + 32u);
      var part = 0.0;
      while (r < end) {
        let at = base + r * p.inner;
        part += bwd_term(y[at], g[at]);
        r++;
      }
      d += part;
    }
    for (var q = 0u; q < p.len; q++) {
      let at = base + q * p.inner;
      out[at] = bwd_value(y[at], g[at], d);
    }
  }
}

// Combines every invocation's pair of the workgroup (merge_ms when `ms`, else adds the sums in .y);
// called in uniform control flow only.
fn wg_combine(lid: u32, v: vec2f, ms: bool) -> vec2f {
  red[lid] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      if (ms) { red[lid] = merge_ms(red[lid], red[lid + half]); } else { red[lid].y += red[lid + half].y; }
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn fwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
          @builtin(num_workgroups) nwg: vec3u) {
  for (var r = wid.x; r < p.outer; r += nwg.x) {
    let base = r * p.len;
    row_fwd_write(base, lid, WG, wg_combine(lid, row_ms_part(base, lid, WG), true));
  }
}

@compute @workgroup_size(WG)
fn bwd_wg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
          @builtin(num_workgroups) nwg: vec3u) {
  for (var r = wid.x; r < p.outer; r += nwg.x) {
    let base = r * p.len;
    row_bwd_write(base, lid, WG, wg_combine(lid, vec2f(0.0, row_d_part(base, lid, WG)), false).y);
  }
}
