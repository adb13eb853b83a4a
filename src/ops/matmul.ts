/**
 * @file matmul: batched `[..., M, K] x [..., K, N]` with NumPy broadcasting of the batch dims,
 * 1-D operands (NumPy rules), transposed operands read in place (A^T B, A B^T for backward
 * passes), and a fused epilogue (scale, bias per column or per batch row, activation). The kernel comes from a ladder
 * of versions (matmul_naive / matmul_tiled / matmul_reg.wgsl), chosen by the selector
 * (matmul-select.ts) or the autotuner's cached winner for the adapter (autotune.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import type { BufferRange } from '../tensor/kernel-registry.js';
import { broadcastShapes, broadcastStrides, collapseDims, fmt, matmulDims, sizeOf } from '../tensor/shape.js';
import { MAX_RANK, checkF32, checkSameDevice, pad8 } from './launch.js';
import {
  NAIVE,
  PACKED_SG,
  configKey,
  matmulCandidates,
  packedInPlace,
  matmulTraits,
  matmulShapeClass,
  selectMatmul,
  type MatmulConfig,
  type MatmulProblem,
} from './matmul-select.js';
import { autotunerFor, type TuneResult, type TuneTarget } from './autotune.js';
import { zeros } from './creation.js';
import { unusedBinding } from './launch.js';
import { ACT_CODE } from './act-code.js';

export type MatmulActivation = 'relu' | 'gelu' | 'tanh';

/** `activation` (default 'none'), or a clear error naming `op` and the allowed values. */
export function checkActivation(op: string, activation: unknown = 'none'): MatmulActivation | 'none' {
  if (typeof activation !== 'string' || !Object.hasOwn(ACT_CODE, activation)) {
    const allowed = Object.keys(ACT_CODE).map((k) => `'${k}'`).join(', ');
    throw new Error(`${op}: activation ${JSON.stringify(activation)} is not one of ${allowed}`);
  }
  return activation as MatmulActivation | 'none';
}

export interface MatmulOptions {
  /** Use A^T (A's last two axes swapped), read in place. Ignored for a 1-D operand. */
  transA?: boolean;
  /** Use B^T, read in place. Ignored for a 1-D operand. */
  transB?: boolean;
  /** Scales the product before the bias: act(alpha * op(a) @ op(b) + bias). Default 1. */
  alpha?: number;
  /**
   * Added to every row of the result (before the activation): [N], shared by every batch, or
   * [...batch, 1, N], one row per batch of the result (an ensemble's per-member bias).
   */
  bias?: Tensor;
  activation?: MatmulActivation | 'none';
  /** Force a kernel configuration (tests and the bench walk the ladder with it). */
  config?: MatmulConfig;
}

/** The kernel files of the ladder (their sources key the autotune cache). */
export const MATMUL_KERNELS = ['matmul_naive', 'matmul_tiled', 'matmul_reg', 'matmul_packed'] as const;

interface Plan {
  problem: MatmulProblem;
  /** 0 no bias, 1 shared [N], 2 one row per batch (the kernel's has_bias). */
  biasMode: 0 | 1 | 2;
  outShape: number[];
  rank: number;
  bshape: number[];
  sa: number[];
  sb: number[];
  label: string;
}

/**
 * How the kernel's epilogue adds a bias of `biasShape` to a product with batch shape `batch` and
 * N columns (`matrixA`: a is not 1-D): 1 shared [N], 2 one row per batch [...batch, 1, N], 0
 * neither (the caller adds it otherwise, or refuses it).
 */
export function kernelBiasMode(biasShape: readonly number[], batch: readonly number[], N: number, matrixA: boolean): 0 | 1 | 2 {
  if (biasShape.length === 1 && biasShape[0] === N) return 1;
  const perBatch = [...batch, 1, N];
  const rows = batch.length > 0 && matrixA && biasShape.length === perBatch.length && biasShape.every((d, i) => d === perBatch[i]);
  return rows ? 2 : 0;
}

function plan(a: Tensor, b: Tensor, opts: MatmulOptions): Plan {
  const op = 'matmul';
  checkF32(op, a, 'a');
  checkF32(op, b, 'b');
  checkSameDevice(op, a, b);
  checkActivation(op, opts.activation);
  if (a.rank < 1 || b.rank < 1) {
    throw new Error(`matmul: operands need rank >= 1, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`);
  }
  const aShape = a.rank === 1 ? [1, a.shape[0]] : [...a.shape];
  const bShape = b.rank === 1 ? [b.shape[0], 1] : [...b.shape];
  const transA = a.rank > 1 && !!opts.transA;
  const transB = b.rank > 1 && !!opts.transB;
  const { M, K, Kb, N } = matmulDims(aShape, bShape, transA, transB);
  const desc = `a ${fmt(a.shape)}${transA ? ' (transA)' : ''} and b ${fmt(b.shape)}${transB ? ' (transB)' : ''}`;
  if (K !== Kb) {
    throw new Error(
      `matmul: inner dimensions do not match for ${desc}: expected a's ${transA ? 'second-to-last' : 'last'} ` +
        `axis (${K}) to equal b's ${transB ? 'last' : 'second-to-last'} axis (${Kb})`,
    );
  }
  let batch: number[];
  try {
    batch = broadcastShapes(op, aShape.slice(0, -2), bShape.slice(0, -2));
  } catch (e) {
    throw new Error(
      `matmul: batch dimensions ${fmt(aShape.slice(0, -2))} of a and ${fmt(bShape.slice(0, -2))} of b do not ` +
        `broadcast (${desc}; each pair of sizes must be equal or 1)`,
    );
  }
  let biasMode: 0 | 1 | 2 = 0;
  if (opts.bias) {
    checkF32(op, opts.bias, 'bias');
    checkSameDevice(op, a, opts.bias);
    biasMode = kernelBiasMode(opts.bias.shape, batch, N, a.rank > 1);
    if (biasMode === 0) {
      throw new Error(
        `matmul: bias ${fmt(opts.bias.shape)} must have shape [${N}] (the result's columns)` +
          `${batch.length > 0 && a.rank > 1 ? ` or ${fmt([...batch, 1, N])} (one row per batch)` : ''} for ${desc}`,
      );
    }
  }
  if (opts.alpha !== undefined && !Number.isFinite(opts.alpha)) {
    throw new Error(`matmul: alpha must be a finite number, got ${opts.alpha} for ${desc}`);
  }
  const c = collapseDims(batch, [broadcastStrides(aShape.slice(0, -2), batch), broadcastStrides(bShape.slice(0, -2), batch)]);
  if (c.shape.length > MAX_RANK) {
    throw new Error(`matmul: ${c.shape.length} batch axes after merging for ${desc}, at most ${MAX_RANK} supported`);
  }
  const outShape = [...batch, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
  return {
    problem: { M, N, K, batch: sizeOf(batch), transA, transB },
    biasMode,
    outShape,
    rank: c.shape.length,
    bshape: c.shape,
    sa: c.strides[0].map((s) => s * M * K),
    sb: c.strides[1].map((s) => s * K * N),
    label: `matmul(${desc}${opts.alpha !== undefined && opts.alpha !== 1 ? `, alpha ${opts.alpha}` : ''}${opts.bias ? ', bias' : ''}${opts.activation && opts.activation !== 'none' ? `, ${opts.activation}` : ''})`,
  };
}

/** Whether matmul_reg's vec4 loads (VEC4) apply (every vec4 aligned and inside its matrix). */
export function vec4Eligible(p: MatmulProblem, c: MatmulConfig): boolean {
  if (c.kernel !== 'reg') return false;
  if (p.K % 4 !== 0) return false;
  if (p.transA && (p.M % 4 !== 0 || c.rm % 4 !== 0)) return false;
  if (!p.transB && p.N % 4 !== 0) return false;
  return true;
}

const MAX_GROUPS = 65535;

function launch(
  device: Device,
  pl: Plan,
  cfg: MatmulConfig,
  a: GPUBuffer | Tensor,
  b: Tensor,
  out: Tensor,
  bias: Tensor | undefined,
  act: number,
  alpha = 1,
): void {
  const p = pl.problem;
  const at = a as Tensor;
  const params = {
    M: p.M, N: p.N, K: p.K, batch: p.batch, rank: pl.rank, has_bias: bias ? pl.biasMode : 0, act, pad0: 0,
    alpha, pad1: 0, pad2: 0, pad3: 0,
    bshape: pad8(pl.bshape), sa: pad8(pl.sa), sb: pad8(pl.sb),
  };
  const biasRange = bias ? bias.binding('matmul') : unusedBinding(device, 'bias');
  const common = { TRANS_A: p.transA ? 1 : 0, TRANS_B: p.transB ? 1 : 0 };
  const label = `${pl.label} [${configKey(cfg)}]`;
  const grid = (rows: number, cols: number): [number, number, number] => [
    Math.min(MAX_GROUPS, Math.ceil(p.N / cols)),
    Math.min(MAX_GROUPS, Math.ceil(p.M / rows)),
    Math.min(MAX_GROUPS, p.batch),
  ];
  const io = { bias: biasRange, out: out.binding('matmul') };
  switch (cfg.kernel) {
    case 'naive':
      device.dispatch({
        kernel: 'matmul_naive', label, params,
        constants: { ...common, WG_X: cfg.wgX, WG_Y: cfg.wgY },
        bindings: { a: at.binding('matmul'), b: b.binding('matmul'), ...io },
        workgroups: grid(cfg.wgY, cfg.wgX),
      });
      return;
    case 'tiled':
      device.dispatch({
        kernel: 'matmul_tiled', label, params,
        constants: { ...common, WG_X: cfg.wgX, WG_Y: cfg.wgY, TM: cfg.tm, TN: cfg.tn, TK: cfg.tk },
        bindings: { a: at.binding('matmul'), b: b.binding('matmul'), ...io },
        workgroups: grid(cfg.wgY * cfg.tm, cfg.wgX * cfg.tn),
      });
      return;
    case 'packed':
      launchPacked(device, pl, cfg, at, b, { params, label, common, io });
      return;
    case 'reg': {
      // VEC4 reads a4 / b4 only, otherwise a / b only: the views not read get a placeholder
      const vec4 = vec4Eligible(p, cfg);
      const view = (t: Tensor, name: string, read: boolean) => (read ? t.binding('matmul') : unusedBinding(device, name));
      device.dispatch({
        kernel: 'matmul_reg', label, params,
        constants: { ...common, WG_X: cfg.wgX, WG_Y: cfg.wgY, RM: cfg.rm, VN: cfg.vn, VEC4: vec4 ? 1 : 0 },
        bindings: {
          a: view(at, 'a', !vec4), b: view(b, 'b', !vec4), a4: view(at, 'a4', vec4), b4: view(b, 'b4', vec4), ...io,
        },
        workgroups: grid(cfg.wgY * cfg.rm, cfg.wgX * 4 * cfg.vn),
      });
      return;
    }
  }
}

interface LaunchParts {
  params: Record<string, number | number[]>;
  label: string;
  common: Record<string, number>;
  io: Record<string, BufferRange>;
}

/**
 * Workgroups the pack passes use at most: each workgroup has a fixed cost on lavapipe (~5 us
 * measured), and the pack loops grid-stride, so more would only add that cost (1024 x 1024
 * pack of B: 4096 workgroups 11.5 ms, 256 5.2 ms, 64 3.8 ms, 32 3.3 ms).
 */
const PACK_MAX_GROUPS = 64;

/** Workgroups of 8 x 8 for a pack grid of x by y items per batch (every axis grid-strides). */
function packGroups(x: number, y: number, batch: number): [number, number, number] {
  const gx = Math.min(PACK_MAX_GROUPS, Math.ceil(x / 8));
  const gz = Math.min(Math.max(1, Math.floor(PACK_MAX_GROUPS / gx)), batch);
  const gy = Math.min(Math.ceil(y / 8), Math.max(1, Math.floor(PACK_MAX_GROUPS / (gx * gz))));
  return [gx, gy, gz];
}

/**
 * matmul_packed: pack op(A) and op(B) into zero-padded scratch (once when an operand is shared
 * by every batch; not at all when main reads it in place), then the main kernel; the scratch
 * goes back to the pool (safe: the pool keeps buffers freed in the open encoder from writeBuffer).
 */
function launchPacked(
  device: Device,
  pl: Plan,
  cfg: Extract<MatmulConfig, { kernel: 'packed' }>,
  a: Tensor,
  b: Tensor,
  { params, label, common, io }: LaunchParts,
): void {
  if (device.subgroupLanes < PACKED_SG) {
    throw new Error(
      `matmul: the packed kernel needs subgroups of at least ${PACKED_SG} lanes; this adapter has ` +
        `${device.subgroupLanes || 'none'}`,
    );
  }
  if (![8, 16, 24, 32].includes(cfg.rm)) {
    throw new Error(`matmul: the packed kernel's rm (rows per workgroup) must be 8, 16, 24 or 32; got ${cfg.rm}`);
  }
  const p = pl.problem;
  const k4 = Math.ceil(p.K / 4);
  const rowGroups = (Math.ceil(p.M / cfg.rm) * cfg.rm) / PACKED_SG;
  const colGroups = Math.ceil(p.N / (4 * PACKED_SG));
  const aShared = pl.sa.every((s) => s === 0);
  const bShared = pl.sb.every((s) => s === 0);
  const aVec4s = (aShared ? 1 : p.batch) * rowGroups * k4 * PACKED_SG;
  const bVec4s = (bShared ? 1 : p.batch) * colGroups * k4 * 4 * PACKED_SG;
  const packedParams = { ...params, pad0: (aShared ? 1 : 0) | (bShared ? 2 : 0) };
  // Each entry gets only the overrides it reads (every distinct set is one more LLVM compile).
  // vec4 reads where every vec4 is aligned and inside its row; operands with short rows are read
  // in place by main (no pack pass). Views a kernel never reads get a placeholder.
  const vec4A = !p.transA && p.K % 4 === 0;
  const vec4B = !p.transB && p.N % 4 === 0;
  const { a: aDirect, b: bDirect } = packedInPlace(p);
  // main stores whole vec4 rows when every row of the output starts 16-byte aligned
  const outVec4 = p.N % 4 === 0;
  const unused = (name: string) => unusedBinding(device, name);
  const scratch: Tensor[] = [];
  /** Packs one operand into fresh scratch with entry `entry`; returns its binding. */
  const pack = (entry: 'pack_a' | 'pack_b', vec4s: number, bindings: Record<string, BufferRange>,
    consts: Record<string, number>, groups: [number, number, number]): BufferRange => {
    const t = Tensor.empty(device, [vec4s * 4], 'f32', `matmul: ${entry}`);
    scratch.push(t);
    device.dispatch({
      kernel: 'matmul_packed', entry, label: `${label} ${entry}`, params: packedParams,
      constants: consts, bindings: { ...bindings, packed: t.binding('matmul') }, workgroups: groups,
    });
    return t.binding('matmul');
  };
  try {
    const pa = aDirect ? unused('pa') : pack('pack_a', aVec4s,
      { a: a.binding('matmul'), a4: vec4A ? a.binding('matmul') : unused('a4') }, { TRANS_A: common.TRANS_A, RM: cfg.rm, VEC4_A: vec4A ? 1 : 0 },
      packGroups(k4, rowGroups * PACKED_SG, aShared ? 1 : p.batch));
    const pb = bDirect ? unused('pb') : pack('pack_b', bVec4s,
      { b: b.binding('matmul'), b4: vec4B ? b.binding('matmul') : unused('b4') }, { TRANS_B: common.TRANS_B, VEC4_B: vec4B ? 1 : 0 },
      packGroups(colGroups * PACKED_SG, k4 * 4, bShared ? 1 : p.batch));
    device.dispatch({
      kernel: 'matmul_packed', entry: 'main', label, params: packedParams,
      constants: {
        RM: cfg.rm,
        A_DIRECT: aDirect ? 1 : 0,
        B_DIRECT: bDirect ? 1 : 0,
        TRANS_A: aDirect && p.transA ? 1 : 0,
        OUT_VEC4: outVec4 ? 1 : 0,
      },
      bindings: {
        pa, a4: aDirect ? a.binding('matmul') : unused('a4'), pb, b4: bDirect ? b.binding('matmul') : unused('b4'),
        bias: io.bias, out: outVec4 ? unused('out') : io.out, out4: outVec4 ? io.out : unused('out4'),
      },
      workgroups: [
        Math.min(MAX_GROUPS, colGroups),
        Math.min(MAX_GROUPS, (rowGroups * PACKED_SG) / cfg.rm),
        Math.min(MAX_GROUPS, p.batch),
      ],
    });
  } finally {
    for (const t of scratch) t.dispose();
  }
}

/** The configuration matmul uses for a problem: forced, tuned winner, or the selector's. */
export function chooseMatmulConfig(device: Device, p: MatmulProblem): MatmulConfig {
  const tuner = autotunerFor(device);
  const cls = matmulShapeClass(p);
  const tuned = tuner.lookup<MatmulConfig>('matmul', MATMUL_KERNELS, cls);
  if (tuned) return tuned;
  if (tuner.enabled) tuner.request(tuneTarget(device, p));
  return selectMatmul(p, matmulTraits(device));
}

/**
 * act(alpha * op(a) @ op(b) + bias) with op = identity or transpose of the last two axes.
 * Shapes: a [..., M, K] (transA: [..., K, M]) or [K]; b [..., K, N] (transB: [..., N, K]) or [K];
 * the batch dims broadcast; a 1-D operand's axis is dropped from the result, as in NumPy.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const pl = plan(a, b, opts);
  const device = a.device;
  const out = Tensor.empty(device, pl.outShape, 'f32', 'matmul');
  if (out.size === 0) return out;
  // K = 0 reads no operand (both are empty): the naive kernel's scalar bindings take the empty
  // buffers, where a vec4 entry's would not, and it writes act(bias) (zeros without a bias).
  const cfg = pl.problem.K === 0 ? NAIVE : (opts.config ?? chooseMatmulConfig(device, pl.problem));
  launch(device, pl, cfg, a, b, out, opts.bias, ACT_CODE[opts.activation ?? 'none'], opts.alpha);
  return out;
}

/** A tune target for a problem, on scratch operands made when the tune runs. */
function tuneTarget(device: Device, p: MatmulProblem): TuneTarget<MatmulConfig> {
  const cls = matmulShapeClass(p);
  let scratch: { a: Tensor; b: Tensor } | null = null;
  const candidates = matmulCandidates(p, matmulTraits(device));
  return {
    op: 'matmul',
    kernels: MATMUL_KERNELS,
    shapeClass: cls,
    candidates,
    name: configKey,
    launch(c: MatmulConfig) {
      if (!scratch) {
        const aShape = p.transA ? [p.batch, p.K, p.M] : [p.batch, p.M, p.K];
        const bShape = p.transB ? [p.batch, p.N, p.K] : [p.batch, p.K, p.N];
        // Zeros: recycled memory could hold denormals, which are slow on CPU adapters.
        scratch = { a: zeros(aShape, { device }), b: zeros(bShape, { device }) };
      }
      const o = matmul(scratch.a, scratch.b, { transA: p.transA, transB: p.transB, config: c });
      o.dispose();
    },
    dispose() {
      scratch?.a.dispose();
      scratch?.b.dispose();
      scratch = null;
    },
  };
}

/** Times the candidates for a problem's shape class now and caches the winner. */
export async function tuneMatmul(device: Device, p: MatmulProblem): Promise<TuneResult<MatmulConfig>> {
  return autotunerFor(device).tune(tuneTarget(device, p));
}
