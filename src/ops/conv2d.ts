/**
 * @file 2-D convolution (NHWC activations, HWIO weights): forward as register-blocked implicit
 * GEMM, grad-input and grad-weight kernels, bias grad by reduction, a direct baseline, grouped
 * convolution (groups > 1, depthwise at groups = Cin: conv2d_grouped.ts), and an optional
 * leading ensemble axis (S independent models) on every operand.
 *
 * Layout: x [N, H, W, Cin], weight [KH, KW, Cin / groups, Cout], bias [Cout], out [N, OH, OW, Cout]
 * (with an ensemble: x [S, N, H, W, Cin], weight [S, KH, KW, Cin / groups, Cout], bias [S, Cout]).
 * Why NHWC/HWIO: the implicit GEMM's K axis (kh, kw, ci) then has ci contiguous in the input and
 * weight [K, Cout] is a plain row-major matrix, so no im2col copy and no transposes are needed,
 * and a 1x1 convolution is exactly a matmul [N*H*W, Cin] x [Cin, Cout].
 *   OH = floor((H + 2*ph - dh*(KH-1) - 1) / sh) + 1   (likewise OW)
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { fmt } from '../tensor/shape.js';
import { checkF32, checkSameDevice } from './launch.js';
import { zeros } from './creation.js';
import { unusedBinding } from './launch.js';
import { sum } from './reduce.js';
import { transpose } from './layout.js';
import { autotunerFor, type TuneTarget } from './autotune.js';
import { ACT_CODE } from './act-code.js';
import { checkActivation, type MatmulActivation } from './matmul.js';
import {
  CONV_WG as WG, checkWorkgroups, convParams, flatWorkgroups, specializeKernel, sumPartials, wgradSplit, type Conv2dGeometry,
} from './conv2d_launch.js';
import { groupedForward, groupedGradInput, groupedGradWeight } from './conv2d_grouped.js';

export { specializeKernel, type Conv2dGeometry } from './conv2d_launch.js';

export type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding on each side (top/bottom, left/right). */
  padding?: Pair;
  dilation?: Pair;
  /**
   * Split the channels into `groups` independent convolutions (default 1): weight
   * [KH, KW, Cin / groups, Cout], output channel co sees the input channels of group
   * co / (Cout / groups); groups = Cin is depthwise. groups > 1 runs conv2d_grouped.wgsl.
   */
  groups?: number;
  /**
   * 'auto' (the selector), 'igemm' (implicit GEMM, register tiles), 'shuffle' (implicit GEMM with
   * subgroup shuffles, conv2d_shuffle.wgsl; C and Cout multiples of 4) or 'direct' (the baseline).
   * groups > 1 has one kernel: 'auto' and 'direct' take it, the others (and `tile`) are refused.
   */
  impl?: 'auto' | 'igemm' | 'shuffle' | 'direct';
  /** Forward only: act(conv + bias) in the kernel's epilogue (default 'none'). */
  activation?: MatmulActivation | 'none';
  /** Force a tile configuration (bench, autotuner). */
  tile?: ConvTile;
}

/** A register tile: TM output rows (pixels) x TN output columns (channels) per invocation. */
export interface ConvTile {
  tm: number;
  tn: number;
}

/** Tile configurations for the implicit-GEMM kernels (candidates for an autotuner). */
export const CONV2D_TILES: readonly ConvTile[] = [
  { tm: 4, tn: 8 },
  { tm: 8, tn: 8 },
  { tm: 4, tn: 4 },
  { tm: 8, tn: 4 },
  { tm: 2, tn: 16 },
];

/** Columns (output channels) at or below which the narrow tile is used (fewer wasted lanes). */
const NARROW_COLUMNS = 4;

/** Columns at or above which the 8x8 tile wins (measured at 64 channels: 118 ms vs 137 ms for 4x8). */
const WIDE_COLUMNS = 32;

/** The selector: the implicit-GEMM tile for a GEMM of `columns` output columns. */
export function selectConvTile(columns: number): ConvTile {
  if (columns <= NARROW_COLUMNS) return { tm: 8, tn: 4 };
  return columns >= WIDE_COLUMNS ? { tm: 8, tn: 8 } : { tm: 4, tn: 8 };
}

/** Shape class of a forward problem for the autotuner: channel counts by power of two, kernel, stride. */
function forwardShapeClass(g: Conv2dGeometry): string {
  const p2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));
  return `fwd c${p2(g.C)} co${p2(g.CO)} m${p2(g.N * g.OH * g.OW)} k${g.KH}x${g.KW} s${g.sh}x${g.sw}`;
}

/** The forward tile: the autotuner's cached winner for this shape class, else the selector's. */
function chooseForwardTile(device: Device, g: Conv2dGeometry): ConvTile {
  const tuner = autotunerFor(device);
  const cls = forwardShapeClass(g);
  const tuned = tuner.lookup<ConvTile>('conv2d', ['conv2d'], cls);
  if (tuned) return tuned;
  if (tuner.enabled) {
    let scratch: Tensor[] | null = null;
    const target: TuneTarget<ConvTile> = {
      op: 'conv2d',
      kernels: ['conv2d'],
      shapeClass: cls,
      candidates: [selectConvTile(g.CO), ...CONV2D_TILES],
      name: (c) => `${c.tm}x${c.tn}`,
      launch(c) {
        const xs = g.ensemble ? [g.S, g.N, g.H, g.W, g.C] : [g.N, g.H, g.W, g.C];
        const ws = g.ensemble ? [g.S, g.KH, g.KW, g.C, g.CO] : [g.KH, g.KW, g.C, g.CO];
        // Zeros: recycled memory could hold denormals, which are slow on CPU adapters.
        scratch ??= [zeros(xs, { device }), zeros(ws, { device })];
        const opts: Conv2dOptions = { stride: [g.sh, g.sw], padding: [g.ph, g.pw], dilation: [g.dh, g.dw], tile: c };
        conv2d(scratch[0], scratch[1], null, opts).dispose();
      },
      dispose() {
        for (const t of scratch ?? []) t.dispose();
        scratch = null;
      },
    };
    tuner.request(target);
  }
  return selectConvTile(g.CO);
}

function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}


/** Checks shapes and options and returns the geometry (errors name the op and the shapes). */
export function conv2dGeometry(op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): Conv2dGeometry {
  const ensemble = wShape.length === 5;
  const xr = ensemble ? 5 : 4;
  if (wShape.length !== 4 && wShape.length !== 5) {
    throw new Error(`${op}: weight ${fmt(wShape)} must be [KH, KW, Cin, Cout] (or [S, KH, KW, Cin, Cout] for an ensemble)`);
  }
  if (xShape.length !== xr) {
    throw new Error(
      `${op}: input ${fmt(xShape)} must be ${ensemble ? '[S, N, H, W, Cin] (weight has an ensemble axis)' : '[N, H, W, Cin] (NHWC)'}`,
    );
  }
  const S = ensemble ? wShape[0] : 1;
  if (ensemble && xShape[0] !== S) {
    throw new Error(`${op}: input ${fmt(xShape)} has ${xShape[0]} ensemble members but weight ${fmt(wShape)} has ${S}`);
  }
  const [N, H, W, C] = xShape.slice(xr - 4);
  const [KH, KW, WC, CO] = wShape.slice(wShape.length - 4);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${op}: groups must be an integer >= 1, got ${JSON.stringify(opts.groups)}`);
  }
  if (groups > 1) {
    checkGrouped(op, xShape, wShape, groups, opts);
  } else if (C !== WC) {
    throw new Error(
      `${op}: channel mismatch: input ${fmt(xShape)} has ${C} channels (last axis, NHWC) but weight ${fmt(wShape)} ` +
        `expects ${WC} (axis -2, HWIO)`,
    );
  }
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const ekh = dh * (KH - 1) + 1;
  const ekw = dw * (KW - 1) + 1;
  if (KH < 1 || KW < 1 || ekh > H + 2 * ph || ekw > W + 2 * pw) {
    throw new Error(
      `${op}: kernel larger than padded input: kernel ${KH}x${KW} (dilated ${ekh}x${ekw}) does not fit the ` +
        `input ${H}x${W} padded by ${ph},${pw} (${H + 2 * ph}x${W + 2 * pw})`,
    );
  }
  const OH = Math.floor((H + 2 * ph - ekh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - ekw) / sw) + 1;
  return { S, N, H, W, C, KH, KW, CO, OH, OW, sh, sw, ph, pw, dh, dw, groups, ensemble };
}

/**
 * groups > 1: Cin and Cout must split into `groups`, the weight hold Cin / groups input channels,
 * and no groups = 1 implementation be forced (the grouped kernel is the only one).
 */
function checkGrouped(op: string, xShape: readonly number[], wShape: readonly number[], groups: number, opts: Conv2dOptions): void {
  const impl = opts.impl ?? 'auto';
  if (opts.tile || (impl !== 'auto' && impl !== 'direct')) {
    throw new Error(
      `${op}: ${opts.tile ? 'a tile' : `impl '${impl}'`} is for groups = 1 only; groups ${groups} ` +
        `takes the grouped kernel (impl 'auto' or 'direct', no tile)`,
    );
  }
  const C = xShape[xShape.length - 1];
  const [WC, CO] = wShape.slice(wShape.length - 2);
  if (C % groups !== 0) {
    throw new Error(`${op}: groups ${groups} must divide the input channels: input ${fmt(xShape)} has ${C} (last axis, NHWC)`);
  }
  if (CO % groups !== 0) {
    throw new Error(`${op}: groups ${groups} must divide the output channels: weight ${fmt(wShape)} has ${CO} (last axis, HWIO)`);
  }
  if (WC !== C / groups) {
    throw new Error(
      `${op}: channel mismatch: input ${fmt(xShape)} has ${C} channels in ${groups} groups, so weight ${fmt(wShape)} ` +
        `must have ${C / groups} input channels per group (axis -2, [KH, KW, Cin / groups, Cout]), got ${WC}`,
    );
  }
}

function outShapeOf(g: Conv2dGeometry): number[] {
  return g.ensemble ? [g.S, g.N, g.OH, g.OW, g.CO] : [g.N, g.OH, g.OW, g.CO];
}


/**
 * The stride phases of conv2d_shuffle's dgrad along one axis: input coordinates p + stride * i
 * (count of them) and the taps k0 + step * j that reach them (k0 = taps when none does).
 */
function stridePhases(size: number, stride: number, pad: number, taps: number, dil: number): { p: number; count: number; k0: number; step: number }[] {
  const out = [];
  for (let p = 0; p < Math.min(stride, size); p++) {
    // Tap k reaches phase p when p + pad - k * dil is a multiple of stride.
    const valid = Array.from({ length: taps }, (_, k) => k).filter((k) => (((p + pad - k * dil) % stride) + stride) % stride === 0);
    out.push({
      p,
      count: Math.ceil((size - p) / stride),
      k0: valid.length ? valid[0] : taps,
      step: valid.length > 1 ? valid[1] - valid[0] : taps,
    });
  }
  return out;
}

function useDirect(opts: Conv2dOptions): boolean {
  return opts.impl === 'direct';
}

/** The kernel the default selection takes for a geometry ('shuffle' or 'igemm TMxTN'), for tables. */
export function conv2dKernelName(device: Device, g: Conv2dGeometry, entry: 'fwd' | 'dgrad' | 'wgrad'): string {
  if (g.groups > 1) return 'grouped';
  if (useShuffle('conv2d', device, g, {})) return 'shuffle';
  const t = selectConvTile(entry === 'dgrad' ? g.C : g.CO);
  return `igemm ${t.tm}x${t.tn}`;
}

/** Lanes of conv2d_shuffle's workgroup (one subgroup). */
const SHUFFLE_SG = 8;
/**
 * Output pixels (rows) per workgroup of conv2d_shuffle: 32 ran 20-35% faster than 16 (64->64
 * forward, three interleaved rounds: 12.9-15.2 vs 10.3-11.6 GFLOP/s; an earlier noisier run had
 * them even). LLVM takes ~12.7 s to compile each 32-pixel entry (16: 0.8 s), once per machine
 * with Mesa's shader cache.
 */
const SHUFFLE_RM = 32;

/**
 * conv2d_shuffle's lane groups for N output columns (fwd: output channels, dgrad: input channels,
 * wgrad: output channels): when N / 4 < SHUFFLE_SG lanes, the lanes split into lg groups of the
 * fewest lanes lw (a power of 2) that cover N, each group taking its own rows (fwd, dgrad: a share
 * of the workgroup's pixels; wgrad: every lg-th pixel), so that no lane idles (at 16 channels: 2
 * groups of 4 lanes, against 4 of 8 lanes idle). wgrad's rows are the input channels its lanes
 * load: rm = 4 lw.
 */
function shuffleLanes(N: number): { lg: number; lw: number } {
  let lw = 1;
  while (lw < SHUFFLE_SG && 4 * lw < N) lw *= 2;
  return { lg: SHUFFLE_SG / lw, lw };
}

/**
 * Whether the forward takes conv2d_shuffle: forced, or by default on a CPU adapter with
 * subgroups (there loads whose address differs per lane cost a loop over the lanes; the shuffle
 * kernel makes one load feed 8 pixels), when the channel counts allow vec4 views.
 */
function useShuffle(op: string, device: Device, g: Conv2dGeometry, opts: Conv2dOptions): boolean {
  const eligible = g.C % 4 === 0 && g.CO % 4 === 0 && device.subgroupLanes >= SHUFFLE_SG;
  if (opts.impl === 'shuffle') {
    if (!eligible) {
      throw new Error(
        `${op}: impl 'shuffle' needs input and output channels that are multiples of 4 (got ${g.C} and ` +
          `${g.CO}) and subgroups of at least ${SHUFFLE_SG} lanes (adapter: ${device.subgroupLanes || 'none'})`,
      );
    }
    return true;
  }
  return (opts.impl ?? 'auto') === 'auto' && !opts.tile && eligible && device.isSoftware;
}

/**
 * conv2d(x, weight, bias?) in NHWC/HWIO: out[n, oh, ow, co] = bias[co] +
 * sum_{kh, kw, ci} x[n, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw, ci] * weight[kh, kw, ci, co]
 * (groups > 1: ci runs over co's group, g*Cin/groups + j, and the weight's axis -2 is j).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkF32(op, x, 'input');
  checkF32(op, weight, 'weight');
  checkSameDevice(op, x, weight);
  const act = checkActivation(op, opts.activation);
  const g = conv2dGeometry(op, x.shape, weight.shape, opts);
  const biasShape = g.ensemble ? [g.S, g.CO] : [g.CO];
  if (bias) {
    checkF32(op, bias, 'bias');
    checkSameDevice(op, x, bias);
    if (bias.size !== g.S * g.CO || bias.shape[bias.rank - 1] !== g.CO) {
      throw new Error(`${op}: bias ${fmt(bias.shape)} must be ${fmt(biasShape)} for weight ${fmt(weight.shape)}`);
    }
  }
  const device = x.device;
  const out = Tensor.empty(device, outShapeOf(g), 'f32', op);
  if (out.size === 0) return out;
  const label = `${op}(${fmt(x.shape)}, ${fmt(weight.shape)}, stride ${g.sh},${g.sw}, pad ${g.ph},${g.pw}, dil ${g.dh},${g.dw}${act === 'none' ? '' : `, ${act}`})`;
  // Without a bias the kernels add none (p.has_bias 0) and the binding is a placeholder.
  const bindings = { x: x.binding(op), weight: weight.binding(op), bias: bias ? bias.binding(op) : unusedBinding(device, 'bias'), out: out.binding(op) };
  const params = { ...convParams(g), has_bias: bias ? 1 : 0, act: ACT_CODE[act] };
  // No input channels: the direct kernel's scalar bindings take the empty x and weight (a vec4
  // entry's would not) and it writes the bias (zeros without one), groups or not.
  if (g.C > 0 && g.groups > 1) {
    groupedForward(op, device, g, label, bindings, params);
  } else if (g.C === 0 || useDirect(opts)) {
    device.dispatch({
      kernel: 'conv2d', entry: 'direct_fwd', label, bindings, params,
      workgroups: flatWorkgroups(op, device, g.N * g.OH * g.OW * g.CO, g.S),
    });
  } else if (useShuffle(op, device, g, opts)) {
    const M = g.N * g.OH * g.OW;
    const { lg, lw } = shuffleLanes(g.CO);
    device.dispatch({
      kernel: 'conv2d_shuffle', entry: 'fwd', label, params, constants: { RM: SHUFFLE_RM, LG: lg },
      bindings: { x4: bindings.x, w4: bindings.weight, bias: bindings.bias, out4: bindings.out },
      workgroups: checkWorkgroups(op, device, [Math.min(65535, Math.ceil(M / SHUFFLE_RM)), Math.ceil(g.CO / (4 * lw)), g.S]),
    });
  } else {
    const t = opts.tile ?? chooseForwardTile(device, g);
    const M = g.N * g.OH * g.OW;
    device.dispatch({
      kernel: specializeKernel(device, 'conv2d', { TM: t.tm, TN: t.tn }), entry: 'fwd', label, bindings, params,
      workgroups: checkWorkgroups(op, device, [Math.ceil(M / (t.tm * WG)), Math.ceil(g.CO / t.tn), g.S]),
    });
  }
  return out;
}

/** d(loss)/dx of conv2d, given dy [N, OH, OW, Cout] and the input's shape. */
export function conv2dGradInput(dy: Tensor, weight: Tensor, inputShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dGradInput';
  checkF32(op, dy, 'dy');
  checkF32(op, weight, 'weight');
  checkSameDevice(op, dy, weight);
  const g = conv2dGeometry(op, inputShape, weight.shape, opts);
  checkDy(op, dy, g);
  const device = dy.device;
  const dx = Tensor.empty(device, inputShape, 'f32', op);
  if (dx.size === 0) return dx;
  const label = `${op}(${fmt(dy.shape)}, ${fmt(weight.shape)} -> ${fmt(inputShape)})`;
  const bindings = { dy: dy.binding(op), weight: weight.binding(op), out: dx.binding(op) };
  if (g.groups > 1) {
    groupedGradInput(op, device, g, label, bindings);
    return dx;
  }
  if (useDirect(opts)) {
    device.dispatch({
      kernel: 'conv2d', entry: 'direct_dgrad', label, bindings, params: convParams(g),
      workgroups: flatWorkgroups(op, device, g.N * g.H * g.W * g.C, g.S),
    });
    return dx;
  }
  if (useShuffle(op, device, g, opts)) {
    // [.., C, CO] -> [.., CO, C]: the kernel's weight loads then run along C, across lanes.
    const wt = transpose(weight);
    const { lg, lw } = shuffleLanes(g.C);
    // One dispatch per stride phase (one in all for stride 1), each with only the taps that reach it.
    for (const ph of stridePhases(g.H, g.sh, g.ph, g.KH, g.dh)) {
      for (const pw of stridePhases(g.W, g.sw, g.pw, g.KW, g.dw)) {
        const m = g.N * ph.count * pw.count;
        device.dispatch({
          kernel: 'conv2d_shuffle', entry: 'dgrad', label: `${label} phase ${ph.p},${pw.p}`, constants: { RM: SHUFFLE_RM, LG: lg },
          params: { ...convParams(g), py: ph.p, px: pw.p, hq: ph.count, wq: pw.count, kh0: ph.k0, khs: ph.step, kw0: pw.k0, kws: pw.step },
          bindings: { dy4: bindings.dy, w4: wt.binding(op), out4: bindings.out },
          workgroups: checkWorkgroups(op, device, [Math.min(65535, Math.ceil(m / SHUFFLE_RM)), Math.ceil(g.C / (4 * lw)), g.S]),
        });
      }
    }
    wt.dispose();
    return dx;
  }
  const t = opts.tile ?? selectConvTile(g.C);
  const M = g.N * g.H * g.W;
  device.dispatch({
    kernel: specializeKernel(device, 'conv2d', { TM: t.tm, TN: t.tn }), entry: 'dgrad', label, bindings, params: convParams(g),
    workgroups: checkWorkgroups(op, device, [Math.ceil(M / (t.tm * WG)), Math.ceil(g.C / t.tn), g.S]),
  });
  return dx;
}

function checkDy(op: string, dy: Tensor, g: Conv2dGeometry): void {
  const want = outShapeOf(g);
  if (dy.rank !== want.length || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(`${op}: dy ${fmt(dy.shape)} must have the conv2d output shape ${fmt(want)}`);
  }
}

/** d(loss)/dweight of conv2d, given the input x and dy; split over K and summed (deterministic). */
export function conv2dGradWeight(x: Tensor, dy: Tensor, weightShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dGradWeight';
  checkF32(op, x, 'input');
  checkF32(op, dy, 'dy');
  checkSameDevice(op, x, dy);
  const g = conv2dGeometry(op, x.shape, weightShape, opts);
  checkDy(op, dy, g);
  const device = x.device;
  const K = g.KH * g.KW * g.C * g.CO;
  const label = `${op}(${fmt(x.shape)}, ${fmt(dy.shape)} -> ${fmt(weightShape)})`;
  // an empty batch (or output) contributes nothing: dw is zero
  if (g.N * g.OH * g.OW === 0) return zeros(weightShape, { device });
  if (g.groups > 1) return groupedGradWeight(op, g, label, x, dy, weightShape);
  if (useDirect(opts)) {
    const dw = Tensor.empty(device, weightShape, 'f32', op);
    if (K === 0) return dw;
    device.dispatch({
      kernel: 'conv2d', entry: 'direct_wgrad', label, bindings: { x: x.binding(op), dy: dy.binding(op), out: dw.binding(op) },
      params: convParams(g), workgroups: flatWorkgroups(op, device, K, g.S),
    });
    return dw;
  }
  const shuffle = useShuffle(op, device, g, opts);
  const t = opts.tile ?? selectConvTile(g.CO);
  const M = g.N * g.OH * g.OW;
  const lanes = shuffleLanes(g.CO);
  const rowTiles = g.KH * g.KW * (shuffle ? Math.ceil(g.C / (4 * lanes.lw)) : Math.ceil(g.C / t.tm));
  const colTiles = shuffle ? Math.ceil(g.CO / (4 * lanes.lw)) : Math.ceil(g.CO / t.tn);
  const lanesPerTile = shuffle ? SHUFFLE_SG : 1;
  const { chunks, kchunk } = wgradSplit(device, M, rowTiles * colTiles * lanesPerTile, g.S);
  const partial = Tensor.empty(device, [g.S, chunks * (shuffle ? lanes.lg : 1), K], 'f32', op);
  if (shuffle) {
    device.dispatch({
      kernel: 'conv2d_shuffle', entry: 'wgrad', label, constants: { RM: 4 * lanes.lw, LG: lanes.lg },
      bindings: { x4: x.binding(op), dy4: dy.binding(op), out4: partial.binding(op) },
      params: convParams(g, chunks, kchunk),
      workgroups: checkWorkgroups(op, device, [rowTiles, colTiles, g.S * chunks]),
    });
  } else {
    device.dispatch({
      kernel: specializeKernel(device, 'conv2d', { TM: t.tm, TN: t.tn }), entry: 'wgrad', label,
      bindings: { x: x.binding(op), dy: dy.binding(op), out: partial.binding(op) },
      params: convParams(g, chunks, kchunk),
      workgroups: checkWorkgroups(op, device, [Math.ceil(rowTiles / WG), colTiles, g.S * chunks]),
    });
  }
  return sumPartials(partial, weightShape);
}

/** d(loss)/dbias of conv2d: dy summed over N, OH, OW (per ensemble member). */
export function conv2dGradBias(dy: Tensor): Tensor {
  checkF32('conv2dGradBias', dy, 'dy');
  if (dy.rank !== 4 && dy.rank !== 5) {
    throw new Error(`conv2dGradBias: dy ${fmt(dy.shape)} must be [N, OH, OW, Cout] or [S, N, OH, OW, Cout]`);
  }
  const co = dy.shape[dy.rank - 1];
  if (dy.rank === 4) {
    const flat = dy.reshape([-1, co]);
    const r = sum(flat, 0);
    flat.dispose();
    return r;
  }
  const flat = dy.reshape([dy.shape[0], -1, co]);
  const r = sum(flat, 1);
  flat.dispose();
  return r;
}

/** FLOPs of one conv2d forward (2 per multiply-add), used by the bench. */
export function conv2dFlops(g: Conv2dGeometry): number {
  return 2 * g.S * g.N * g.OH * g.OW * g.CO * g.KH * g.KW * (g.C / g.groups);
}
