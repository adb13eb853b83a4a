// row_block.wgsl: the RM x 4 accumulator block of the subgroup-shuffle kernels (matmul_packed,
// conv2d_shuffle): one vec4 per output row (the lane's 4 columns), sized for RM <= 32.
// Keep every index into a RowBlock a constant after unrolling: on lavapipe an array indexed by a
// runtime value leaves registers, and the main loops then run several times slower.
alias RowBlock = array<vec4f, 32>;

// Epilogues store row 0 and shift the others down (acc[s] = acc[s + 1]) instead of reading
// acc[r]: the loop over rows can then stay rolled. Unrolled, its RM x 4 scalar stores (each a
// loop over the 8 lanes on lavapipe) took LLVM ~17 s to compile at RM = 32; rolled, ~1.5 s.
fn shift_rows_down(acc: ptr<function, RowBlock>) {
  for (var s = 0u; s < 31u; s++) { (*acc)[s] = (*acc)[s + 1u]; }
}
