// train_health.wgsl (included by optim and train_health): a training run's health record, bound
// by the including kernel as `health: array<atomic<u32>>` (src/nn/health.ts). Member m owns words
// 4m .. 4m+3: [the first step at which its loss or a gradient was not finite (0xffffffff: none
// yet), what it was (HEALTH_LOSS, HEALTH_GRAD), the parameter's index, unused]; words 4S .. 5S-1
// hold the members' summed training losses (f32 bits). Steps only grow, so atomicMin keeps the
// first; the one invocation that lowered it writes what and which. A loss flagged at the step of
// a gradient replaces it (the loss is the cause; its dispatch comes after the optimizer's).
const HEALTH_NONE: u32 = 0xffffffffu;
const HEALTH_LOSS: u32 = 1u;
const HEALTH_GRAD: u32 = 2u;
const F32_EXPONENT: u32 = 0x7f800000u;

// +-inf or NaN, by the exponent bits (no fast-math assumption can fold a bit test away).
fn not_finite4(x: vec4f) -> bool {
  return any((bitcast<vec4u>(x) & vec4u(F32_EXPONENT)) == vec4u(F32_EXPONENT));
}

// NOTE: no parameter or local here may share a name with a binding of an including kernel (m,
// param, ...): wgsl_reflect would count it as a use of that binding.
fn flag_member(member: u32, step: u32, what: u32, which: u32) {
  let old = atomicMin(&health[4u * member], step);
  if (old > step || (old == step && what == HEALTH_LOSS)) {
    atomicStore(&health[4u * member + 1u], what);
    atomicStore(&health[4u * member + 2u], which);
  }
}

// Flags a non-finite gradient at item `bad` - 1 (0: none) of `items` (elements or vec4s) of a
// parameter [members, ...] as its member's.
fn flag_gradient(bad: u32, items: u32, members: u32, step: u32, which: u32) {
  if (bad == 0u || members == 0u) { return; }
  flag_member((bad - 1u) / max(1u, items / members), step, HEALTH_GRAD, which);
}
