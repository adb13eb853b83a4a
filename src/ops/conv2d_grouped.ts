/**
 * @file Grouped conv2d (groups > 1; depthwise at groups = C): the launchers of
 * conv2d_grouped.wgsl's fwd, dgrad and wgrad for src/ops/conv2d.ts, which checks the operands.
 * Weight [KH, KW, C / groups, Cout] (HWIO with the group's input channels); output channel co
 * sees the input channels of its group co / (Cout / groups). Ensemble axis as in conv2d.ts (z).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import type { BufferRange } from '../tensor/kernel-registry.js';
import { zeros } from './creation.js';
import { convParams, flatWorkgroups, specializeKernel, sumPartials, wgradSplit, type Conv2dGeometry } from './conv2d_launch.js';

/** fwd, dgrad: adjacent output (input) columns per invocation (the kernel's TW). */
const GROUPED_COLUMNS = 4;
/** wgrad: at most this many taps kw per invocation (TW = min(KW, this): one row of taps when it fits). */
const GROUPED_MAX_TAPS = 8;

function kernel(device: Device, tw: number): string {
  return specializeKernel(device, 'conv2d_grouped', { TW: tw });
}

/** out = conv(x, weight) + bias, one invocation per GROUPED_COLUMNS output columns of one channel. */
export function groupedForward(op: string, device: Device, g: Conv2dGeometry, label: string,
  bindings: { x: BufferRange; weight: BufferRange; bias: BufferRange; out: BufferRange }, params: ReturnType<typeof convParams>): void {
  const invocations = g.N * g.OH * Math.ceil(g.OW / GROUPED_COLUMNS) * g.CO;
  device.dispatch({
    kernel: kernel(device, GROUPED_COLUMNS), entry: 'fwd', label, bindings, params,
    workgroups: flatWorkgroups(op, device, invocations, g.S),
  });
}

/** dx, one invocation per GROUPED_COLUMNS input columns of one channel. */
export function groupedGradInput(op: string, device: Device, g: Conv2dGeometry, label: string,
  bindings: { dy: BufferRange; weight: BufferRange; out: BufferRange }): void {
  const invocations = g.N * g.H * Math.ceil(g.W / GROUPED_COLUMNS) * g.C;
  device.dispatch({
    kernel: kernel(device, GROUPED_COLUMNS), entry: 'dgrad', label, bindings, params: convParams(g),
    workgroups: flatWorkgroups(op, device, invocations, g.S),
  });
}

/** dweight: per (kh, tap tile, channel j, co) a walk over one slice of the pixels, then the slices summed. */
export function groupedGradWeight(op: string, g: Conv2dGeometry, label: string, x: Tensor, dy: Tensor, weightShape: readonly number[]): Tensor {
  const device = x.device;
  const M = g.N * g.OH * g.OW;
  const K = g.KH * g.KW * (g.C / g.groups) * g.CO;
  if (M === 0 || K === 0) return zeros(weightShape, { device });
  const taps = Math.min(g.KW, GROUPED_MAX_TAPS);
  const invocations = g.KH * Math.ceil(g.KW / taps) * (g.C / g.groups) * g.CO;
  const { chunks, kchunk } = wgradSplit(device, M, invocations, g.S);
  const partial = Tensor.empty(device, [g.S, chunks, K], 'f32', op);
  device.dispatch({
    kernel: kernel(device, taps), entry: 'wgrad', label,
    bindings: { x: x.binding(op), dy: dy.binding(op), out: partial.binding(op) },
    params: convParams(g, chunks, kchunk),
    workgroups: flatWorkgroups(op, device, invocations, g.S * chunks),
  });
  return sumPartials(partial, weightShape);
}
