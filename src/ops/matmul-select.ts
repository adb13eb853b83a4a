/**
 * @file Chooses a matmul kernel (ladder version + tile sizes) per adapter and shape class, with
 * named default thresholds; the autotuner (autotune.ts) may override the choice per shape class.
 */

/** One runnable matmul configuration: the kernel file and its tile overrides. */
export type MatmulConfig =
  | { kernel: 'naive'; wgX: number; wgY: number }
  | { kernel: 'tiled'; wgX: number; wgY: number; tm: number; tn: number; tk: number }
  | { kernel: 'reg'; wgX: number; wgY: number; rm: number; vn: number }
  | { kernel: 'packed'; rm: number };

/** The problem a config is chosen for (after 1-D operands became matrices). */
export interface MatmulProblem {
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
}

export interface AdapterTraits {
  /** A CPU adapter (lavapipe/llvmpipe/SwiftShader): register blocking wins there. */
  isSoftware: boolean;
  /** Subgroups (WGSL `enable subgroups`) of at least PACKED_SG lanes: matmul_packed can run. */
  subgroups?: boolean;
}

/** What the selector needs to know of a device. */
export function matmulTraits(device: { isSoftware: boolean; subgroupLanes: number }): AdapterTraits {
  return { isSoftware: device.isSoftware, subgroups: device.subgroupLanes >= PACKED_SG };
}

/** On a GPU, below this many multiply-adds the launch dominates: the small tiles. */
export const TINY_MACS = 32 * 32 * 32;
/** On a GPU, fewer 64 x 64 tiles than this leaves most SMs idle: use 32 x 32 tiles. */
export const GPU_MIN_TILES = 256;

/** Lanes of matmul_packed's workgroup (one subgroup); the adapter's subgroups must be at least this wide. */
export const PACKED_SG = 8;
/** Columns of the packed kernel's tile: 4 per lane. */
const PACKED_TILE_COLS = PACKED_SG * 4;
/**
 * On a CPU adapter with subgroups, from this many multiply-adds (all batches together) the packed
 * kernel beats register blocking even when it needs its pack passes (lavapipe, one run: 1.5x at
 * 256 x 128 x 128, 3x from 256 x 512 x 512). Below it, it is taken only when it reads both
 * operands in place (one dispatch, like the register kernels: 1.2-1.6x from 32^3 to 256 x 64 x 64).
 */
export const PACKED_MIN_MACS = 128 * 128 * 128;
/**
 * With one operand read in place (one pack pass), the packed kernel wins from this many
 * multiply-adds (all batches; lavapipe, interleaved in one process, packed vs register 4 x 4):
 * 256 x 64 x 64 NT 0.49 vs 0.93 ms, [8] x 64 x 32 x 32 NT 0.66 vs 0.78, 128 x 64 x 64 NT 0.43 vs
 * 0.59, 64 x 784 x 32 0.78 vs 1.08; below it register blocking did: 16 x 784 x 32 (401K) 0.64 vs
 * 0.65-0.76, 64 x 48 x 40 NT 0.26 vs 0.31. With both operands packed, 64 x 66 x 64 (270K) was
 * 0.40 (register) vs 0.61.
 */
export const PACKED_ONE_PASS_MIN_MACS = 128 * 64 * 64;
/**
 * The packed kernel pads rows to its row block (8 to 32) and columns to 32: below these sizes most of its lanes
 * (and most of a packed copy) would be padding, e.g. a matrix-vector product would pack B 32x.
 */
export const PACKED_MIN_ROWS = 16;
export const PACKED_MIN_COLS = 16;
/**
 * Up to rows of this many floats (K for A, N for B) the packed kernel reads an operand in place
 * instead of packing it (rows of at most 2 KiB stay in cache together): 256^3 ~13% faster for A
 * and ~12% more for B; at 1024 packing won by 5-10% (rows 4 KiB apart share cache sets).
 */
export const PACKED_DIRECT_MAX_ROW = 512;
/**
 * Longer rows of A are read in place too when a single product has at most this many 32-column
 * tiles, so A is read at most this many times and its pack pass costs more than it saves: the
 * first layer of an MLP on 784 inputs at w = 64 and 128. Lavapipe, 6 processes each with this
 * constant at 0 and 4 in turn, `npx tsx bench/matmul-shapes.ts 256x784x64 256x784x128 256x64x64
 * 256x256x256` (times relative to the last shape's in the same process; medians): 784 -> 64
 * 1.03 -> 0.75, 784 -> 128 1.52 -> 1.22. At 8 tiles (784 -> 256) and for 8 batches sharing A
 * (an ensemble's first layer), in place won about half of 7 process pairs: packed.
 */
export const PACKED_DIRECT_FEW_TILES = 4;

/**
 * Which operands the packed kernel reads in place (vec4-aligned rows, short enough, or for A
 * read by few column tiles: PACKED_DIRECT_FEW_TILES). A transposed A ([K, M]) is read as vec4s
 * along M, adjacent across lanes, at any length (lavapipe, A/B in one
 * process: the dW of an MLP layer, 64 x 256 x 64 TN 0.86 -> 0.50 ms, 256^3 TN 3.5 -> 3.1 ms,
 * 1024 x 256 x 1024 TN even). A transposed B is packed: reading its rows in place (4 per lane,
 * K apart) ran 1.2-5x slower.
 */
export function packedInPlace(p: MatmulProblem): { a: boolean; b: boolean } {
  return {
    a: p.transA
      ? p.M % 4 === 0 && p.K % 4 === 0
      : p.K % 4 === 0 && (p.K <= PACKED_DIRECT_MAX_ROW || (p.batch === 1 && Math.ceil(p.N / PACKED_TILE_COLS) <= PACKED_DIRECT_FEW_TILES)),
    b: !p.transB && p.N % 4 === 0 && p.K % 4 === 0 && p.N <= PACKED_DIRECT_MAX_ROW,
  };
}

/**
 * Packed, 32 rows x 4 columns per lane (the lavapipe default): 0-25% faster than 16 rows from
 * 256 x 1024 x 1024 up, even to 10% either way at 256^3 (same-run pairs). LLVM compiles it in
 * ~1.5 s because the accumulator block is indexed only by constants (include/row_block.wgsl).
 */
export const PACKED_32: MatmulConfig = { kernel: 'packed', rm: 32 };
/** Packed, 16 rows x 4 columns per lane (an autotuner candidate). */
export const PACKED_16: MatmulConfig = { kernel: 'packed', rm: 16 };

/** Register-blocked 8 x 8 outputs per invocation, 8 x 8 invocations. */
export const REG_8X8: MatmulConfig = { kernel: 'reg', wgX: 8, wgY: 8, rm: 8, vn: 2 };
/** Register-blocked 4 x 4 (more, smaller tiles). */
export const REG_4X4: MatmulConfig = { kernel: 'reg', wgX: 8, wgY: 8, rm: 4, vn: 1 };
/**
 * Register-blocked 8 x 4 outputs per invocation, 4 x 16 invocations: a 128-row, 16-column tile
 * for products narrower than NARROW_COLS (a classifier head, a matrix-vector product), where
 * REG_4X4's 32 columns are mostly clamped copies of the last one.
 */
export const REG_NARROW: MatmulConfig = { kernel: 'reg', wgX: 4, wgY: 16, rm: 8, vn: 1 };
/**
 * On a CPU adapter, products with fewer columns take REG_NARROW (lavapipe, interleaved in one
 * process against REG_4X4, `npx tsx bench/ab-matmul-narrow.ts`: 1.12-1.85x at N = 1, 3, 5 and 10
 * from 256 x 64 up, 1.36-1.76x for 8 batches; even (0.99-1.18x) at 32 x 16 x 10; the control,
 * REG_4X4 against itself, 0.94-1.08x). At 16 columns the packed kernel is taken.
 */
export const NARROW_COLS = 16;
/**
 * On a CPU adapter, register-blocked products with a K axis shorter than this and at least the
 * 64 columns of REG_8X8's tile take REG_8X8: with so few multiply-adds per output the bigger
 * block halves the loads per output and nothing spills (lavapipe, interleaved in one process
 * against REG_4X4 with a control of REG_4X4 against itself at 0.96-1.07x, `npx tsx
 * bench/ab-matmul-narrow.ts`, "short products"): 1.32-1.53x at K = 3 and 10, 256 to 1024 rows,
 * 64 and 256 columns, with and without B^T, single and 8 batches (an MLP readout's input
 * gradient, 256 x 10 x 64 with B^T: 1.32x, 1.43x for 8); at 32 columns 0.92-0.97x.
 */
export const SHORT_K = 16;
/** Workgroup-memory 64 x 64 tile, 16 x 16 invocations of 4 x 4 outputs, k-slab 16 (GPU default). */
export const TILED_64: MatmulConfig = { kernel: 'tiled', wgX: 16, wgY: 16, tm: 4, tn: 4, tk: 16 };
/** Workgroup-memory 32 x 32 tile (small problems on a GPU). */
export const TILED_32: MatmulConfig = { kernel: 'tiled', wgX: 16, wgY: 16, tm: 2, tn: 2, tk: 16 };
/** The baseline. */
export const NAIVE: MatmulConfig = { kernel: 'naive', wgX: 16, wgY: 16 };

/** Rows x columns of output one workgroup of `c` covers. */
export function tileOf(c: MatmulConfig): { rows: number; cols: number } {
  switch (c.kernel) {
    case 'naive':
      return { rows: c.wgY, cols: c.wgX };
    case 'tiled':
      return { rows: c.wgY * c.tm, cols: c.wgX * c.tn };
    case 'reg':
      return { rows: c.wgY * c.rm, cols: c.wgX * 4 * c.vn };
    case 'packed':
      return { rows: c.rm, cols: PACKED_TILE_COLS };
  }
}

function tiles(p: MatmulProblem, c: MatmulConfig): number {
  const t = tileOf(c);
  return Math.ceil(p.M / t.rows) * Math.ceil(p.N / t.cols) * p.batch;
}

/** The shape class a tuned winner is cached under: size buckets (powers of 4) and transposes. */
export function matmulShapeClass(p: MatmulProblem): string {
  const bucket = (n: number) => (n <= 1 ? '1' : `${4 ** Math.ceil(Math.log(n) / Math.log(4))}`);
  const align = p.K % 4 === 0 && p.N % 4 === 0 && p.M % 4 === 0 ? 'a4' : 'u';
  return `m${bucket(p.M)}.n${bucket(p.N)}.k${bucket(p.K)}.b${bucket(p.batch)}.${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}.${align}`;
}

/** The default choice (named thresholds above). */
export function selectMatmul(p: MatmulProblem, adapter: AdapterTraits): MatmulConfig {
  const macs = p.M * p.N * p.K;
  if (adapter.isSoftware && adapter.subgroups && p.M >= PACKED_MIN_ROWS && p.N >= PACKED_MIN_COLS) {
    const inPlace = packedInPlace(p);
    const all = macs * p.batch;
    if (all >= PACKED_MIN_MACS || (inPlace.a && inPlace.b)) return PACKED_32;
    if ((inPlace.a || inPlace.b) && all >= PACKED_ONE_PASS_MIN_MACS) return PACKED_32;
  }
  // Register blocking 4 x 4 beat 8 x 8 at every shape measured on lavapipe from K = 64 (256 x 64
  // x 64 to 1024^3, batched or not): the bigger block spills. Below SHORT_K, 8 x 8 (64 columns up).
  if (adapter.isSoftware) return p.N < NARROW_COLS ? REG_NARROW : p.K < SHORT_K && p.N >= tileOf(REG_8X8).cols ? REG_8X8 : REG_4X4;
  if (macs <= TINY_MACS) return TILED_32;
  return tiles(p, TILED_64) >= GPU_MIN_TILES ? TILED_64 : TILED_32;
}

/** Candidates the autotuner times for a problem on an adapter (the default comes first). */
export function matmulCandidates(p: MatmulProblem, adapter: AdapterTraits): MatmulConfig[] {
  const all: MatmulConfig[] = [
    selectMatmul(p, adapter),
    ...(adapter.subgroups ? [PACKED_16, PACKED_32] : []),
    REG_8X8,
    REG_4X4,
    REG_NARROW,
    { kernel: 'reg', wgX: 8, wgY: 8, rm: 4, vn: 2 },
    { kernel: 'reg', wgX: 16, wgY: 4, rm: 8, vn: 1 },
    { kernel: 'reg', wgX: 4, wgY: 16, rm: 8, vn: 2 },
    TILED_64,
    TILED_32,
  ];
  const seen = new Set<string>();
  return all.filter((c) => {
    const k = configKey(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A stable string for a config (pipeline cache keys, tables). */
export function configKey(c: MatmulConfig): string {
  switch (c.kernel) {
    case 'naive':
      return `naive ${c.wgX}x${c.wgY}`;
    case 'tiled':
      return `tiled ${c.wgX}x${c.wgY} t${c.tm}x${c.tn} k${c.tk}`;
    case 'reg':
      return `reg ${c.wgX}x${c.wgY} r${c.rm}x${4 * c.vn}`;
    case 'packed':
      return `packed r${c.rm}x4`;
  }
}
