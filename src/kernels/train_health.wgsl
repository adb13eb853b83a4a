// train_health.wgsl: accumulate_loss adds one training step's per-member losses into the sums of
// a training health record (layout: include/train_health.wgsl) and flags a member whose loss is
// not finite at step p.train_step. It takes the place of the add that summed losses on the GPU.
// Bindings: loss (read, `members` f32), health (read_write, 5 * members words), p (uniform:
//   members, train_step). Tiling: WG invocations per workgroup, grid-stride over members.
override WG: u32 = 64u;

struct Params { members: u32, train_step: u32 }

@group(0) @binding(0) var<storage, read> loss: array<f32>;
@group(0) @binding(1) var<storage, read_write> health: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

//!include train_health.wgsl

@compute @workgroup_size(WG)
fn accumulate_loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var member = gid.x; member < p.members; member += nwg.x * WG) {
    let l = loss[member];
    if (not_finite4(vec4f(l))) { flag_member(member, p.train_step, HEALTH_LOSS, 0u); }
    let at = 4u * p.members + member;
    atomicStore(&health[at], bitcast<u32>(bitcast<f32>(atomicLoad(&health[at])) + l));
  }
}
