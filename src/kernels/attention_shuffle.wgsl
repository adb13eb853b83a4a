// attention_shuffle.wgsl: the fused attention of attention.wgsl (same entry points, bindings,
// layout and tiling: see there and include/attention_body.wgsl) with rows that every invocation
// of a subgroup reads (K/V rows in fwd and dq, Q/dout rows in dkdv) loaded cooperatively: lane l
// loads vec4s l, l + SG, ... of the row and subgroupShuffle hands each vec4 to every lane.
// Why: lavapipe loads a storage address that is not a compile-time constant lane by lane (a loop
// with a bounds check per lane), even when all lanes read the same address; this cuts those
// loads SG-fold. Needs subgroups of at least SG lanes whose lanes all reach every fetch (the
// entry points never branch around one).
enable subgroups;

const SG = 8u;
const PARTS = (D4 + SG - 1u) / SG;

// This invocation's lane (subgroup_invocation_id: every lane is active at entry).
var<private> lane: u32;

fn init_lane() { lane = subgroupExclusiveAdd(1u) % SG; }

// Part pi of a row held by lane l is vec4 pi * SG + l (clamped into the row when D4 < SG * PARTS).
fn part_index(pi: u32) -> u32 { return min(pi * SG + lane, D4 - 1u); }

fn gather_row(parts: array<vec4f, PARTS>) -> Row {
  var r: Row;
  for (var d = 0u; d < D4; d++) { r[d] = subgroupShuffle(parts[d / SG], d % SG); }
  return r;
}

fn fetch_row(src: ptr<storage, array<vec4f>, read>, o: u32) -> Row {
  var parts: array<vec4f, PARTS>;
  for (var pi = 0u; pi < PARTS; pi++) { parts[pi] = (*src)[o + part_index(pi)]; }
  return gather_row(parts);
}

//!include attention_body.wgsl
