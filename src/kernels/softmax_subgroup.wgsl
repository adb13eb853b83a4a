// softmax_subgroup.wgsl: fused softmax (MODE 0) and log-softmax (MODE 1) over the last axis of x
// viewed as [rows, len], one subgroup per row (math: include/softmax_row.wgsl).
// Why: lane l reads items (or vec4s) l, l + LANES, ..., so every load of the subgroup is one
// contiguous run; on lavapipe a load whose lanes read addresses a row apart (one invocation per
// row) is LANES scattered loads. Row maxima and sums cross lanes by subgroupShuffleXor butterflies
// (NaN-propagating max) and subgroupAdd.
// Entry points:
//   fwd_vec4 / bwd_vec4 (len % 4 == 0): lane l takes vec4s l, l + LANES, ... of the row.
//     K > 0 (len <= 4 LANES K): each lane keeps its K vec4s of the row (and of g) in registers (a
//     private array indexed only by unrolled loop counters), so the row is read from memory once:
//     one load and one store per item, as a copy (fwd_row_regs4 / bwd_row_regs4).
//     K == 0 (any length): streamed as fwd_stream / bwd_stream (fwd_row_stream4 / bwd_row_stream4).
//   fwd_stream / bwd_stream (any len): pass 1 folds the lane's items into (m, s) or d, pass 2 reads
//     them again (from cache for rows of a few KiB) and writes.
// Bindings: x / x4 (read; forward input), y / y4 (read; the forward's output), g / g4 (read;
//   upstream gradient), out / out4 (read_write), p (uniform: outer = rows, len, inner (unused),
//   inf = +Infinity, lowest = the lowest finite f32). The vec4 names view the same buffers.
// Layout: [rows, len] row-major contiguous.
// Tiling: a workgroup is one subgroup of LANES invocations (override; the adapter's subgroups
//   must be at least LANES wide: a wider one runs the workgroup as a partial subgroup); K vec4s per
//   lane (override, 0 or <= 32, the size of the private arrays; loops over them unroll K times);
//   workgroups grid-stride over rows.
enable subgroups;

override MODE: u32 = 0u;
override LANES: u32 = 8u;
override K: u32 = 0u;

//!include softmax_bindings.wgsl
@group(0) @binding(5) var<storage, read> x4: array<vec4f>;
@group(0) @binding(6) var<storage, read> y4: array<vec4f>;
@group(0) @binding(7) var<storage, read> g4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> out4: array<vec4f>;

//!include nan_minmax.wgsl
//!include softmax_row.wgsl
//!include softmax_row_pass.wgsl

// NOTE: subgroupMax need not propagate NaN (lavapipe's does not), hence the butterfly.
fn lanes_max(v: f32) -> f32 {
  var m = v;
  for (var o = LANES / 2u; o > 0u; o /= 2u) { m = max_nan(m, subgroupShuffleXor(m, o)); }
  return m;
}

fn lanes_merge(v: vec2f) -> vec2f {
  var ms = v;
  for (var o = LANES / 2u; o > 0u; o /= 2u) {
    ms = merge_ms(ms, vec2f(subgroupShuffleXor(ms.x, o), subgroupShuffleXor(ms.y, o)));
  }
  return ms;
}

// The row of vec4s at base (len4 = p.len / 4 of them), lane `lane`'s share: vec4s lane,
// lane + LANES, ... (j-th: j * LANES + lane).

// Forward, registers: the lane's K vec4s of x stay in v (-Inf past the row's end).
fn fwd_row_regs4(base: u32, lane: u32) {
  let len4 = p.len / 4u;
  var v: array<vec4f, 32>;
  var m4 = vec4f(-p.inf);
  for (var j = 0u; j < K; j++) {
    let c = j * LANES + lane;
    v[j] = select(vec4f(-p.inf), x4[base + min(c, len4 - 1u)], c < len4);
    m4 = max_nan4(m4, v[j]);
  }
  let m = lanes_max(max4(m4));
  var s4 = vec4f(0.0);
  for (var j = 0u; j < K; j++) {
    if (MODE == 0u) {
      v[j] = exp(v[j] - vec4f(m));
      s4 += v[j];
    } else {
      s4 += exp(v[j] - vec4f(m));
    }
  }
  let k = row_factor(m, subgroupAdd(sum4(s4)));
  for (var j = 0u; j < K; j++) {
    let c = j * LANES + lane;
    if (c < len4) {
      if (MODE == 0u) { out4[base + c] = v[j] * k; } else { out4[base + c] = (v[j] - vec4f(m)) - vec4f(k); }
    }
  }
}

// Backward, registers: the lane's K vec4s of y and g stay in yv, gv (0 past the row's end).
fn bwd_row_regs4(base: u32, lane: u32) {
  let len4 = p.len / 4u;
  var yv: array<vec4f, 32>;
  var gv: array<vec4f, 32>;
  var d4 = vec4f(0.0);
  for (var j = 0u; j < K; j++) {
    let c = j * LANES + lane;
    let at = base + min(c, len4 - 1u);
    yv[j] = select(vec4f(0.0), y4[at], c < len4);
    gv[j] = select(vec4f(0.0), g4[at], c < len4);
    d4 += bwd_term4(yv[j], gv[j]);
  }
  let d = subgroupAdd(sum4(d4));
  for (var j = 0u; j < K; j++) {
    let c = j * LANES + lane;
    if (c < len4) { out4[base + c] = bwd_value4(yv[j], gv[j], d); }
  }
}

// Forward, streamed: pass 1 folds the lane's vec4s into (m, s), pass 2 reads them again.
fn fwd_row_stream4(base: u32, lane: u32) {
  let len4 = p.len / 4u;
  var ms = vec2f(p.lowest, 0.0);
  for (var c = lane; c < len4; c += LANES) { ms = push_ms4(ms, x4[base + c]); }
  let row = lanes_merge(ms);
  let k = row_factor(row.x, row.y);
  for (var c = lane; c < len4; c += LANES) { out4[base + c] = fwd_value4(x4[base + c], row.x, k); }
}

// Backward, streamed: pass 1 sums the lane's terms into d, pass 2 reads y and g again.
fn bwd_row_stream4(base: u32, lane: u32) {
  let len4 = p.len / 4u;
  var d4 = vec4f(0.0);
  for (var c = lane; c < len4; c += LANES) { d4 += bwd_term4(y4[base + c], g4[base + c]); }
  let d = subgroupAdd(sum4(d4));
  for (var c = lane; c < len4; c += LANES) { out4[base + c] = bwd_value4(y4[base + c], g4[base + c], d); }
}

// Forward and backward, streamed, of the row of items at base (include/softmax_row_pass.wgsl).
fn fwd_row_stream(base: u32, lane: u32) {
  row_fwd_write(base, lane, LANES, lanes_merge(row_ms_part(base, lane, LANES)));
}

fn bwd_row_stream(base: u32, lane: u32) {
  row_bwd_write(base, lane, LANES, subgroupAdd(row_d_part(base, lane, LANES)));
}

// Every entry: the workgroup (one subgroup) grid-strides over rows.
@compute @workgroup_size(LANES)
fn fwd_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(subgroup_invocation_id) lane: u32) {
  for (var r = wid.x; r < p.outer; r += nwg.x) {
    if (K > 0u) { fwd_row_regs4(r * (p.len / 4u), lane); } else { fwd_row_stream4(r * (p.len / 4u), lane); }
  }
}

@compute @workgroup_size(LANES)
fn bwd_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(subgroup_invocation_id) lane: u32) {
  for (var r = wid.x; r < p.outer; r += nwg.x) {
    if (K > 0u) { bwd_row_regs4(r * (p.len / 4u), lane); } else { bwd_row_stream4(r * (p.len / 4u), lane); }
  }
}

@compute @workgroup_size(LANES)
fn fwd_stream(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(subgroup_invocation_id) lane: u32) {
  for (var r = wid.x; r < p.outer; r += nwg.x) { fwd_row_stream(r * p.len, lane); }
}

@compute @workgroup_size(LANES)
fn bwd_stream(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(subgroup_invocation_id) lane: u32) {
  for (var r = wid.x; r < p.outer; r += nwg.x) { bwd_row_stream(r * p.len, lane); }
}
