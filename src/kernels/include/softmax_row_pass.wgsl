// softmax_row_pass.wgsl (included by softmax.wgsl and softmax_subgroup.wgsl, after
// softmax_row.wgsl): one invocation's share of a contiguous row's two passes, the items
// first, first + step, ... of the row at offset base (each entry combines the partials across its
// invocations or lanes between the passes).
// The including file declares x, y, g (read), out (read_write): array<f32>, and p (uniform, with
// len and lowest).

// Forward pass 1: the partial (m, s) of the invocation's items of x.
fn row_ms_part(base: u32, first: u32, step: u32) -> vec2f {
  var ms = vec2f(p.lowest, 0.0);
  for (var c = first; c < p.len; c += step) { ms = push_ms(ms, x[base + c]); }
  return ms;
}

// Forward pass 2: writes the invocation's items of out from the row's combined (m, s).
fn row_fwd_write(base: u32, first: u32, step: u32, row: vec2f) {
  let k = row_factor(row.x, row.y);
  for (var c = first; c < p.len; c += step) { out[base + c] = fwd_value(x[base + c], row.x, k); }
}

// Backward pass 1: the partial d of the invocation's items of y and g.
fn row_d_part(base: u32, first: u32, step: u32) -> f32 {
  var d = 0.0;
  for (var c = first; c < p.len; c += step) { d += bwd_term(y[base + c], g[base + c]); }
  return d;
}

// Backward pass 2: writes the invocation's items of out (dx) from the row's total d.
fn row_bwd_write(base: u32, first: u32, step: u32, total: f32) {
  for (var c = first; c < p.len; c += step) { out[base + c] = bwd_value(y[base + c], g[base + c], total); }
}
