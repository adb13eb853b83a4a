// wg_reduce.wgsl (included by norm, loss and reduce): one value per invocation combined over the
// workgroup by a tree in workgroup memory: log2(WG) halving steps, a barrier after each.
// The including file declares `override WG` (a power of two), the value type as
// `alias WgValue = ...;` and `fn combine(lhs: WgValue, rhs: WgValue) -> WgValue` (associative).
// No bindings.
var<workgroup> wg_values: array<WgValue, WG>;

// The combination of every invocation's `value`, returned to all of them. Call in uniform control
// flow only; wg_values is free again when it returns (a loop may call it once per row).
fn wg_reduce(lid: u32, value: WgValue) -> WgValue {
  wg_values[lid] = value;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { wg_values[lid] = combine(wg_values[lid], wg_values[lid + half]); }
    workgroupBarrier();
  }
  let reduced = wg_values[0];
  workgroupBarrier();
  return reduced;
}
