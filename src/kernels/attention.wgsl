// attention.wgsl: fused scaled dot-product attention on [BH, T, D] (B and H merged), forward
// with online softmax (the Tq x Tk score matrix is never written) and a fused backward.
//   s_ij = scale * q_i . k_j (causal: j <= i),  lse_i = log sum_j exp(s_ij),
//   out_i = sum_j exp(s_ij - lse_i) v_j
// Entry points (one invocation per row; workgroup_id.y = bh):
//   fwd:   invocation = TQ query rows (register blocking: each K/V load feeds TQ rows). Keys in
//          blocks of 4: 4 scores per row, one rescale of the running (max m, sum l,
//          accumulator acc[D]) per block (FlashAttention's online softmax).
//          Writes out [BH, Tq, D] and lse [BH, Tq].
//   prep:  delta_i = dout_i . out_i (the row term of the softmax backward), flat grid.
//   dkdv:  invocation = key row j; loops over query rows i: p_ij = exp(s_ij - lse_i),
//          dv_j += p_ij dout_i, ds_ij = p_ij (dout_i . v_j - delta_i), dk_j += scale ds_ij q_i.
//   dq:    invocation = query row i; loops over keys j: dq_i += scale ds_ij k_j.
//   Every gradient row is owned by one invocation: deterministic, no atomics.
// Why this shape on lavapipe: all invocations of a workgroup walk the same key (or query) rows
// at the same time, so K/V (Q/dout) addresses are uniform and load once per subgroup, while the
// invocation's own rows stay in private memory. No workgroup memory, no barriers. Causal
// workgroups stop at the last key their last row can see (uniform loop bound); lanes mask the rest.
// Layout: q, dq, out, dout [BH, Tq, D]; k, v, dk, dv [BH, Tk, D]; lse, delta [BH, Tq]; dense f32.
// Bindings: 0 q, 1 k, 2 v (read); 3 out, 4 lse (read_write, fwd); 5 p (uniform); 6 o_in,
// 7 dout, 8 lse_in, 9 delta_in (read); 10 delta (read_write, prep); 11 dq, 12 dk, 13 dv (rw).
// Tiling: D (head dim, a multiple of 4) is a const the host specializes: private rows are
// array<vec4f, D/4> walked by loops of constant trip count, which Mesa unrolls, so they live in
// registers/stack slots at fixed offsets (a dynamically indexed private array would become a
// per-lane gather from scratch memory, ~20x slower on lavapipe). Keys go in blocks of 4 (one
// vec4 of scores). WG invocations (rows) per workgroup.
fn init_lane() {}

fn fetch_row(src: ptr<storage, array<vec4f>, read>, o: u32) -> Row {
  var r: Row;
  for (var d = 0u; d < D4; d++) { r[d] = (*src)[o + d]; }
  return r;
}

//!include attention_body.wgsl
