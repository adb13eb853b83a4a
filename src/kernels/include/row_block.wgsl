// row_block.wgsl: the RM x 4 accumulator block of the subgroup-shuffle kernels (matmul_packed,
// conv2d_shuffle): one vec4 per output row (the lane's 4 columns), sized for RM <= 32.
// Keep every index into a RowBlock a constant after unrolling: on lavapipe an array indexed by a
// runtime value leaves registers, and the main loops then run several times slower.
// Epilogues therefore copy the block (`let tile_rows = acc;`) and index the copy by the row in a
// rolled loop: only the copy leaves registers. Unrolled, the RM x 4 scalar stores (each a loop
// over the 8 lanes on lavapipe) took LLVM ~17 s to compile at RM = 32; shifting the block down
// one row per stored row (acc[s] = acc[s + 1], the previous way) kept the compile at ~1.5 s but
// cost 31 vec4 moves per row: at K = 64 about a fifth of a matmul's time.
alias RowBlock = array<vec4f, 32>;
