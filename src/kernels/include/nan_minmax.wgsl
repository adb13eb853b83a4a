// nan_minmax.wgsl (included by activations.wgsl, reduce.wgsl and attention_body.wgsl): max, min
// and relu that propagate NaN as IEEE maximum/minimum and PyTorch do (WGSL's max/min return the
// other operand on lavapipe), the NaN test they need and a NaN to write. No bindings.

// NOTE: NaN is tested on the bits: the driver's compiler folds `v != v` to false.
fn is_nan(val: f32) -> bool {
  return (bitcast<u32>(val) & 0x7fffffffu) > 0x7f800000u;
}

// A quiet NaN for kernels that must write one: WGSL const-expressions may not be NaN, and the
// driver folds 0 / 0 and 0 * x at will.
var<private> QUIET_NAN_BITS: u32 = 0x7fc00000u;
fn quiet_nan() -> f32 {
  return bitcast<f32>(QUIET_NAN_BITS);
}

// NaN when either operand is NaN, else max(lhs, rhs). (Parameter names avoid the kernels'
// binding names: the reflection (wgsl_reflect) takes a parameter named like a binding for a use.)
fn max_nan(lhs: f32, rhs: f32) -> f32 {
  return select(rhs, lhs, lhs > rhs || is_nan(lhs));
}

// NaN when either operand is NaN, else min(lhs, rhs).
fn min_nan(lhs: f32, rhs: f32) -> f32 {
  return select(rhs, lhs, lhs < rhs || is_nan(lhs));
}

// max(v, 0) that keeps NaN.
fn relu_nan(val: f32) -> f32 {
  return select(val, 0.0, val < 0.0);
}
