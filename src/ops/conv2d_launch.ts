/**
 * @file Launch helpers shared by the conv2d kernel families (conv2d.wgsl, conv2d_shuffle.wgsl,
 * conv2d_grouped.wgsl): const specialization, workgroup grids checked against the adapter's
 * limits, the uniform's common fields, and grad-weight's split of the pixel axis into partials
 * that are summed afterwards (deterministic, no atomics).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { sum } from './reduce.js';

/** Sizes of one convolution problem (ensemble axis S separate; C, CO count all groups). */
export interface Conv2dGeometry {
  S: number; N: number; H: number; W: number; C: number;
  KH: number; KW: number; CO: number; OH: number; OW: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number;
  ensemble: boolean;
}

/** Invocations per workgroup of every conv2d entry point (the kernels' `override WG`). */
export const CONV_WG = 64;
/** wgrad: invocations that keep the adapter busy (split K until reached). */
const WGRAD_TARGET_INVOCATIONS = { software: 2048, gpu: 65536 };
/** wgrad: fewest K steps (output pixels) per chunk worth a partial. */
const WGRAD_MIN_CHUNK = 256;

const specialized = new WeakMap<Device, Set<string>>();

/**
 * Registers a copy of kernel `file` whose `const NAME: u32 = ...u;` lines take `consts`, and
 * returns its name for `device.dispatch` (private arrays need const sizes, not overrides).
 */
export function specializeKernel(device: Device, file: string, consts: Record<string, number>): string {
  const name = `${file}@${Object.entries(consts).map(([k, v]) => `${k}${v}`).join('_')}`;
  let done = specialized.get(device);
  if (!done) specialized.set(device, (done = new Set()));
  if (done.has(name)) return name;
  let src = device.kernels.load(file).source;
  for (const [k, v] of Object.entries(consts)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`kernel ${file}: const ${k} must be a positive integer, got ${v}`);
    const re = new RegExp(`const ${k}: u32 = \\d+u;`);
    if (!re.test(src)) throw new Error(`kernel ${file}: no 'const ${k}: u32' to specialize`);
    src = src.replace(re, `const ${k}: u32 = ${v}u;`);
  }
  device.kernels.loadSource(name, src);
  done.add(name);
  return name;
}

/** Throws (naming the op) when a grid exceeds maxComputeWorkgroupsPerDimension on any axis. */
export function checkWorkgroups(op: string, device: Device, groups: [number, number, number]): [number, number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups.some((v) => v > max)) {
    throw new Error(`${op}: needs [${groups}] workgroups, over ${max} per dimension; split the batch`);
  }
  return groups;
}

/**
 * Workgroups of a flat dispatch over `n` invocations x `z` problems: [x, y] workgroups of
 * CONV_WG, the kernel's index (y * x_count + x) * CONV_WG + local.
 */
export function flatWorkgroups(op: string, device: Device, n: number, z: number): [number, number, number] {
  const g = Math.max(1, Math.ceil(n / CONV_WG));
  const x = Math.min(g, device.limits.maxComputeWorkgroupsPerDimension);
  return checkWorkgroups(op, device, [x, Math.ceil(g / x), z]);
}

/** The uniform fields every conv2d kernel shares (the ensemble strides count elements). */
export function convParams(g: Conv2dGeometry, chunks = 1, kchunk = 0) {
  return {
    n: g.N, h: g.H, w: g.W, c: g.C, kh: g.KH, kw: g.KW, co: g.CO, oh: g.OH, ow: g.OW,
    sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, dh: g.dh, dw: g.dw, chunks, kchunk,
    x_stride: g.N * g.H * g.W * g.C, w_stride: g.KH * g.KW * (g.C / g.groups) * g.CO, y_stride: g.N * g.OH * g.OW * g.CO,
    // conv2d_shuffle's dgrad by stride phase (one phase covering everything elsewhere)
    py: 0, px: 0, hq: g.H, wq: g.W, kh0: 0, khs: 1, kw0: 0, kws: 1,
    // channels per group (conv2d_grouped; C and Cout at groups = 1)
    cg: g.C / g.groups, cog: g.CO / g.groups,
    // the forward sets them: 1 when a bias is bound, the activation's code (ACT_CODE)
    has_bias: 0,
    act: 0,
  };
}

/**
 * How grad-weight splits its M = N*OH*OW pixels: `chunks` slices of `kchunk`, enough that
 * `invocations` per slice and problem keep the adapter busy, no slice under WGRAD_MIN_CHUNK
 * pixels, and S * chunks within one grid axis.
 */
export function wgradSplit(device: Device, M: number, invocations: number, S: number): { chunks: number; kchunk: number } {
  const target = device.isSoftware ? WGRAD_TARGET_INVOCATIONS.software : WGRAD_TARGET_INVOCATIONS.gpu;
  const want = Math.ceil(target / (invocations * S));
  let chunks = Math.max(1, Math.min(want, Math.floor(M / WGRAD_MIN_CHUNK)));
  chunks = Math.min(chunks, Math.floor(device.limits.maxComputeWorkgroupsPerDimension / S));
  const kchunk = Math.ceil(M / chunks);
  return { chunks: Math.ceil(M / kchunk), kchunk };
}

/** Sums grad-weight partials [S, chunks, K] over the chunks into `weightShape`; disposes them. */
export function sumPartials(partial: Tensor, weightShape: readonly number[]): Tensor {
  const [S, chunks, K] = partial.shape;
  const summed = chunks === 1 ? partial.reshape([S, K]) : sum(partial, 1);
  partial.dispose();
  const dw = summed.reshape(weightShape);
  summed.dispose();
  return dw;
}
