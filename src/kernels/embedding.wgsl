// embedding.wgsl: embedding gather out[i, :] = table[idx[i], :] and its backward
// dtable[v, :] = sum over i with idx[i] == v of dout[i, :], deterministic (no atomics: WGSL has no
// f32 atomics, and atomic order would make the sum depend on scheduling).
// Shapes: table [vocab, d], idx [n] (i32), out/dout [n, d], dtable [vocab, d]; row-major.
// An index outside [0, vocab) is never read through: it gathers a NaN row (never a silent wrong
// answer), contributes to no dtable row, and the entries that read indices from idx (gather,
// bwd_scan, sort_init, counting_sort) flag the first one in the device's error flags with p.tag
// (include/error_flags.wgsl), so the host's next readback throws naming it.
// Entry points:
//   gather:     one invocation per output element; cost n*d reads + writes.
//   bwd_scan:   one invocation per (v, c) scans all n indices in order: cost vocab*d*n index
//               reads (small n only; also the oracle of the sorted path).
//   sort_init:  pairs[i] = (key, i) with key = idx[i] (0xffffffff when out of range), padded to a
//               power of two `padded` with (0xffffffff, 0xffffffff).
//   bitonic:    one compare-exchange step (k, j) of a bitonic sort of pairs by (key, position);
//               the host appends log2(padded) * (log2(padded) + 1) / 2 steps.
//   row_runs:   one invocation per vocab row v: two binary searches find the run of key v in
//               the sorted pairs (runs[v] = [start, end)).
//   counting_sort: (CPU adapters, in place of sort_init + bitonic + row_runs) one invocation
//               runs a stable counting sort, O(n + vocab) steps in one dispatch: pairs[r] =
//               (v, i) grouped by v in position order, runs[v] = [start, end); out-of-range
//               indices are left out. On a GPU one lane would serialize the work, so GPUs keep
//               the bitonic network.
//   member_rows: ensembles (tables [S, vocab, d] as one [S * vocab, d] table, idx [S, n / S]):
//               rows[i] = idx[i] + s * vocab for member s = i / (n / S) (p.d holds S), so each
//               member gathers from its own table; an index outside [0, vocab) is flagged here
//               with its own value and becomes S * vocab (out of every member's range: NaN row).
//   bwd_sorted: one invocation per (v, c): its run summed in order of position. Cost:
//               O(padded log^2 padded) for the sort + O(vocab*log n + vocab*d + n*d) for the
//               runs and sums; the sum order is the index order, the same as bwd_scan (bitwise
//               equal results). Row and column of an item split by include/strided_index.wgsl.
// Bindings: table, idx, dout (read); out, pairs, runs, dtable, rows, flags (read_write); p (uniform).
// Tiling: WG invocations per workgroup (override), grid-stride over items.
override WG: u32 = 64u;

struct Params { n: u32, d: u32, vocab: u32, padded: u32, k: u32, j: u32, nan: f32, tag: u32 }

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(6) var<storage, read_write> pairs: array<vec2u>;
@group(0) @binding(7) var<storage, read_write> runs: array<vec2u>;
@group(0) @binding(8) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> rows: array<i32>;

//!include strided_index.wgsl
//!include error_flags.wgsl

const NO_KEY: u32 = 0xffffffffu;

fn index_ok(v: i32) -> bool {
  return index_in_range(v, p.vocab);
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.n * p.d;
  for (var t = gid.x; t < total; t += nwg.x * WG) {
    let ic = split2(t, p.d);
    let v = read_index(&idx, ic.x, p.vocab, p.tag, ic.y == 0u);
    let ok = index_ok(v);
    let row = u32(select(0, v, ok));
    out[t] = select(p.nan, table[row * p.d + ic.y], ok);
  }
}

@compute @workgroup_size(WG)
fn bwd_scan(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.vocab * p.d;
  for (var t = gid.x; t < total; t += nwg.x * WG) {
    let v = i32(t / p.d);
    let c = t % p.d;
    var s = 0.0;
    for (var i = 0u; i < p.n; i++) {
      if (read_index(&idx, i, p.vocab, p.tag, t == 0u) == v) { s += dout[i * p.d + c]; }
    }
    dtable[t] = s;
  }
}

@compute @workgroup_size(WG)
fn sort_init(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.padded; i += nwg.x * WG) {
    var pair = vec2u(NO_KEY, NO_KEY);
    if (i < p.n) {
      let v = read_index(&idx, i, p.vocab, p.tag, true);
      pair = vec2u(select(NO_KEY, u32(v), index_ok(v)), i);
    }
    pairs[i] = pair;
  }
}

@compute @workgroup_size(WG)
fn bitonic(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.padded; i += nwg.x * WG) {
    let l = i ^ p.j;
    if (l > i) {
      let a = pairs[i];
      let b = pairs[l];
      let a_after_b = a.x > b.x || (a.x == b.x && a.y > b.y);
      let ascending = (i & p.k) == 0u;
      if (a_after_b == ascending) {
        pairs[i] = b;
        pairs[l] = a;
      }
    }
  }
}

@compute @workgroup_size(1)
fn counting_sort() {
  for (var v = 0u; v < p.vocab; v++) { runs[v] = vec2u(0u); }
  for (var i = 0u; i < p.n; i++) {
    let v = read_index(&idx, i, p.vocab, p.tag, true);
    if (index_ok(v)) { runs[u32(v)].y += 1u; }
  }
  var start = 0u;
  for (var v = 0u; v < p.vocab; v++) {
    let count = runs[v].y;
    runs[v] = vec2u(start, start);
    start += count;
  }
  // each row's end grows to its final value as its positions are placed, in position order
  for (var i = 0u; i < p.n; i++) {
    let v = idx[i];
    if (index_ok(v)) {
      let r = runs[u32(v)].y;
      pairs[r] = vec2u(u32(v), i);
      runs[u32(v)].y = r + 1u;
    }
  }
}

// First position in the sorted pairs whose key is >= key.
fn lower_bound(key: u32) -> u32 {
  var lo = 0u;
  var hi = p.n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (pairs[mid].x < key) { lo = mid + 1u; } else { hi = mid; }
  }
  return lo;
}

// runs[v] = the run of key v in the sorted pairs, [start, end): two binary searches per vocab row.
@compute @workgroup_size(WG)
fn row_runs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var v = gid.x; v < p.vocab; v += nwg.x * WG) {
    runs[v] = vec2u(lower_bound(v), lower_bound(v + 1u));
  }
}

@compute @workgroup_size(WG)
fn bwd_sorted(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.vocab * p.d;
  for (var t = gid.x; t < total; t += nwg.x * WG) {
    let vc = split2(t, p.d);
    let run = runs[vc.x];
    var s = 0.0;
    for (var r = run.x; r < run.y; r++) { s += dout[pairs[r].y * p.d + vc.y]; }
    dtable[t] = s;
  }
}

@compute @workgroup_size(WG)
fn member_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let members = p.d;
  let per = p.n / members;
  for (var i = gid.x; i < p.n; i += nwg.x * WG) {
    let v = read_index(&idx, i, p.vocab, p.tag, true);
    rows[i] = select(i32(members * p.vocab), v + i32((i / per) * p.vocab), index_ok(v));
  }
}
