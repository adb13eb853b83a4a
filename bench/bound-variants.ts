/**
 * @file The variants bench/matmul-bound.ts times beside the real kernels: matmul_packed.wgsl's main
 * and conv2d_shuffle.wgsl's fwd with named lines changed (see kernel-variants.ts: each edit checks
 * its target text). Each variant keeps the real kernel's entry points, bindings, layouts, tiling
 * and epilogue; run matmul_packed's main with A_DIRECT = B_DIRECT = 0, OUT_VEC4 = 1.
 */
import { deriveKernel, type Edit } from './kernel-variants.js';

// matmul_packed main's loads of packed A and B (the A_DIRECT / B_DIRECT alternatives are dead
// code at A_DIRECT = B_DIRECT = 0 and stay as they are, except where a variant drops a binding).
const PA_LOAD = 'pa[abase + (g * K4 + k) * SG]';
const PB_LOAD = 'pb[bbase + (4u * k + kk) * SG]';
const A_LINE = 'if (A_DIRECT) { al[g] = a4[arow[g] + k]; } else { al[g] = ' + PA_LOAD + '; }';
const B_LINE = 'if (B_DIRECT) { bv[kk] = b4[bcol + (4u * k + kk) * (p.N / 4u)]; } else { bv[kk] = ' + PB_LOAD + '; }';
const K_LOOP = 'for (var k = 0u; k < K4; k++) {';
const ACC = 'var acc = RowBlock();';
const LAST_FMA = 'acc[r] = fma(vec4f(av.w), bv[3], acc[r]);';
const ROW_LOOP = 'for (var r = 0u; r < RM; r++) {';
const AFTER_K_LOOP = '// Rows leave from a copy that the row loop indexes';

// conv2d_shuffle's K loop of fwd and dgrad (tap_k_loop) and its loads of the A operand and weight
const FWD_TAP = 'fn tap_k_loop(';
const X_LOADS = 'for (var g = 0u; g < RM / SG; g++) { al[g] = (*a)[off[g] / 4u + k4]; }';
const W_LOADS = 'if (cols.live) { for (var kk = 0u; kk < 4u; kk++) { bv[kk] = w4[wrow + (4u * k4 + kk) * N4 + cols.c4]; } }';

export type BoundKernel = 'matmul_packed' | 'conv2d_shuffle';

/**
 * Edits per kernel and variant: matmul_packed.wgsl's main, conv2d_shuffle.wgsl's tap_k_loop (the K
 * loop of entry point fwd). Each kernel's first variant, with no edits, is the control: the real
 * source compiled by the bench, it must time as the library's kernel does.
 */
const VARIANTS: Record<BoundKernel, Record<string, Edit[]>> = {
  matmul_packed: {
    // the control
    real_loop: [],
    // two k4 steps per iteration (needs K % 8 == 0)
    unroll_k2: [
      { name: 'two steps per iteration', find: K_LOOP, replace: 'for (var k2 = 0u; k2 < K4; k2 += 2u) { for (var u = 0u; u < 2u; u++) { let k = k2 + u;' },
      { name: 'close the step loop', find: AFTER_K_LOOP, replace: '}\n        ' + AFTER_K_LOOP },
    ],
    // the loads of A and B replaced by lane-dependent register arithmetic (8 vec4 FMAs per k4 step
    // beside the loop's 128): the compute-only bound
    compute: [
      { name: 'seeds', find: ACC, replace: ACC + ' let s0 = f32(lane + 8u * (tm + tn)) * 1e-3; let sa = vec4f(s0, s0 + 0.25, s0 + 0.5, s0 + 0.75); let sb = sa.wzyx;' },
      { name: 'step value', find: K_LOOP, replace: K_LOOP + ' let kf = vec4f(f32(k) * 1e-4);' },
      { name: 'A from registers', find: A_LINE, replace: 'al[g] = fma(kf, vec4f(f32(g + 1u)), sa);' },
      { name: 'B from registers', find: B_LINE, replace: 'bv[kk] = fma(kf, vec4f(f32(kk + 5u)), sb);' },
    ],
    // the shuffles and FMAs removed; a step's 8 loaded vec4s summed (8 vec4 adds) and stored as
    // row 0, so the loads stay live: the loads-only bound
    loads: [
      { name: 'load sum', find: ACC, replace: ACC + ' var lsum = vec4f(0.0);' },
      { name: 'no shuffles or FMAs', find: ROW_LOOP, through: LAST_FMA + '\n          }', replace: 'lsum += al[0] + al[1] + al[2] + al[3] + bv[0] + bv[1] + bv[2] + bv[3];' },
      { name: 'store the sum', find: 'let tile_rows = acc;', replace: 'acc[0] = lsum; let tile_rows = acc;' },
    ],
    // every pa / pb index masked by p.pad1 (a power of 2 minus 1, given at run time so LLVM cannot
    // fold it): every load hits the first pad1 + 1 vec4s
    small: [
      { name: 'A index masked', find: PA_LOAD, replace: 'pa[(abase + (g * K4 + k) * SG) & p.pad1]' },
      { name: 'B index masked', find: PB_LOAD, replace: 'pb[(bbase + (4u * k + kk) * SG) & p.pad1]' },
    ],
    // A and B read from workgroup arrays of 512 vec4s (8 KiB each; index & 511), filled from pa / pb
    // once per tile: what a workgroup-memory load costs here
    wg: [
      { name: 'workgroup arrays', find: 'fn k4_count()', replace: 'var<workgroup> wa: array<vec4f, 512>;\nvar<workgroup> wb: array<vec4f, 512>;\nfn k4_count()' },
      { name: 'fill per tile', find: ACC, replace: ACC + ' for (var i = lane; i < 512u; i += SG) { wa[i] = pa[abase - lane + i]; wb[i] = pb[bbase - lane + i]; } workgroupBarrier();' },
      { name: 'A from workgroup memory', find: PA_LOAD, replace: 'wa[(lane + (g * K4 + k) * SG) & 511u]' },
      { name: 'B from workgroup memory', find: PB_LOAD, replace: 'wb[(lane + (4u * k + kk) * SG) & 511u]' },
    ],
    // A and B as rgba32float texels (textureLoad): ta [MG rows][K4 * SG texels], texel (k4 * SG + l, g)
    // = pa's vec4 of row group g, lane l; tb [NG rows][K4 * 4 * SG texels] likewise from pb (one batch).
    // Bindings: ta, tb (11, 12) beside main's (pa, pb, b4 unread).
    texel: [
      { name: 'texture bindings', find: '@group(0) @binding(10) var<storage, read_write> out4: array<vec4f>;', replace: '@group(0) @binding(10) var<storage, read_write> out4: array<vec4f>;\n@group(0) @binding(11) var ta: texture_2d<f32>;\n@group(0) @binding(12) var tb: texture_2d<f32>;' },
      { name: 'A texels', find: A_LINE, replace: 'al[g] = textureLoad(ta, vec2u(k * SG + lane, (za * MG + tm * (RM / SG)) + g), 0);' },
      { name: 'B texels', find: B_LINE, replace: 'bv[kk] = textureLoad(tb, vec2u((4u * k + kk) * SG + lane, zb * NG + tn), 0);' },
    ],
  },
  conv2d_shuffle: {
    // the control
    fwd: [],
    // the loads of x and weight replaced by lane-dependent register arithmetic (8 vec4 FMAs per step
    // beside the loop's 128). Meant as the compute-only bound, it runs slower than fwd itself on
    // lavapipe (cause not found), so it bounds nothing.
    fwd_compute: [
      { name: 'step value', within: FWD_TAP, find: 'var al: array<vec4f, 4>;', replace: 'let kf = vec4f(f32(k4 + k) * 1e-4); let sa = vec4f(f32(cols.c4) * 1e-3) + vec4f(0.0, 0.25, 0.5, 0.75); var al: array<vec4f, 4>;' },
      { name: 'x from registers', within: FWD_TAP, find: X_LOADS, replace: 'for (var g = 0u; g < RM / SG; g++) { al[g] = fma(kf, vec4f(f32(g + 1u)), sa); }' },
      { name: 'weight from registers', within: FWD_TAP, find: W_LOADS, replace: 'for (var kk = 0u; kk < 4u; kk++) { bv[kk] = fma(kf, vec4f(f32(kk + 5u)), sa.wzyx); }' },
    ],
    // the loads only (no shuffles, no FMAs), summed into row 0 of the block
    fwd_loads: [
      { name: 'no FMAs', within: FWD_TAP, find: 'shuffle_fma(acc, al, bv, live, cols.grp);', replace: '(*acc)[0] += al[0] + al[1] + al[2] + al[3] + bv[0] + bv[1] + bv[2] + bv[3];' },
    ],
  },
};

/** src/kernels/<kernel>.wgsl as variant `v` (unexpanded: give it to device.kernels.loadSource). */
export function boundVariant(kernel: BoundKernel, v: string): string {
  const table = VARIANTS[kernel];
  if (!(v in table)) throw new Error(`matmul-bound: no variant '${v}' of ${kernel} (have ${Object.keys(table).join(', ')})`);
  return deriveKernel(kernel, v, table[v]);
}
