/**
 * @file Shared helpers for launching kernels from ops: grid sizes and operand checks.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import type { Device } from '../tensor/device.js';
import type { BufferRange } from '../tensor/kernel-registry.js';

/** Invocations per workgroup of the 1-D elementwise kernels. */
export const WG = 256;
/** Cap on 1-D workgroup counts; kernels grid-stride past it. */
export const MAX_GROUPS = 65535;

/** Most axes a strided kernel indexes through (uniform arrays of 2 x vec4u). */
export const MAX_RANK = 8;

/** Pads per-axis values to MAX_RANK words for a uniform `array<vec4u, 2>`. */
export function pad8(v: readonly number[]): number[] {
  return [...v, ...Array(MAX_RANK - v.length).fill(0)];
}

/** Workgroups for a grid-stride kernel over `n` items. */
export function groupsFor(n: number, perGroup = WG): [number] {
  return [Math.min(MAX_GROUPS, Math.max(1, Math.ceil(n / perGroup)))];
}

/** Items up to which include/strided_index.wgsl divides in f32 (exact below it). */
export const F32_DIV_MAX = 2 ** 22;

/** The F32_DIV override of a strided_index.wgsl entry over `n` items. */
export function f32Div(n: number): { F32_DIV: number } {
  return { F32_DIV: n < F32_DIV_MAX ? 1 : 0 };
}

/**
 * How a split3 entry (include/strided_index.wgsl: binary broadcast3, copy3) walks a merged index space of at
 * most 3 axes read through one stride set per operand: the space padded to (Z, R, C), in vec4
 * items when C % 4 == 0 and every operand runs contiguously along C from vec4-aligned offsets
 * and strides (then C, strides and offsets count vec4s). `alsoAligned` are further element
 * counts the vec4 items must step by (copy3's outermost-axis strides). Null past 3 axes.
 */
export function index3Plan(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[] = strides.map(() => 0),
  alsoAligned: readonly number[] = [],
): { vec4: boolean; n: number; dims: number[]; strides: number[][]; offsets: number[]; constants: { F32_DIV: number }; workgroups: [number] } | null {
  if (shape.length > 3) return null;
  const pad = 3 - shape.length;
  const dims = [...Array(pad).fill(1), ...shape];
  const padded = strides.map((s) => [...Array(pad).fill(0), ...s]);
  const vec4 = dims[2] % 4 === 0 &&
    padded.every((s) => s[2] === 1 && s[0] % 4 === 0 && s[1] % 4 === 0) && [...offsets, ...alsoAligned].every((o) => o % 4 === 0);
  const w = vec4 ? 4 : 1;
  const n = (dims[0] * dims[1] * dims[2]) / w;
  return {
    vec4,
    n,
    dims: [dims[0], dims[1], dims[2] / w],
    strides: padded.map((s) => [s[0] / w, s[1] / w, s[2]]),
    offsets: offsets.map((o) => o / w),
    constants: f32Div(n),
    workgroups: groupsFor(n),
  };
}

/** Throws unless `t` is a live f32 tensor. */
export function checkF32(op: string, t: Tensor, name = 'input'): void {
  t.storage(op);
  if (t.dtype !== 'f32') throw new Error(`${op}: ${name} ${fmt(t.shape)} has dtype ${t.dtype}, expected f32`);
}

/** Throws unless every tensor lives on the same device. */
export function checkSameDevice(op: string, ...ts: Tensor[]): void {
  const d = ts[0].device;
  for (const t of ts) if (t.device !== d) throw new Error(`${op}: tensors live on different devices`);
}

/**
 * The error-flag tag and binding of a dispatch that reads `indices` (valid: [0, bound)): the
 * kernel flags the first bad one (include/error_flags.wgsl) and the next readback throws a message
 * naming `op`, the value, its position in `indices` and the range.
 */
export function indexFlags(
  op: string, label: string, indices: Tensor, bound: number, names: { noun: string; tensor: string } = { noun: 'index', tensor: 'indices' },
): { tag: number; flags: BufferRange } {
  const dev = indices.device;
  const tag = dev.flags.tag({ kind: 'index', op, label, noun: names.noun, tensor: names.tensor, shape: indices.shape, bound });
  return { tag, flags: dev.flags.range };
}

const placeholders = new WeakMap<Device, Map<string, GPUBuffer>>();

/**
 * A small buffer for a binding the kernel never touches (an absent weight, bias or mean): every
 * statically used binding must be bound, and one buffer may not appear in two bindings of a
 * dispatch, so there is one placeholder per binding name. Not pooled, not counted as a tensor.
 */
export function unusedBinding(device: Device, name: string): BufferRange {
  let byName = placeholders.get(device);
  if (!byName) placeholders.set(device, (byName = new Map()));
  let buffer = byName.get(name);
  if (!buffer) {
    buffer = device.gpu.createBuffer({
      label: `placeholder ${name}`,
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    byName.set(name, buffer);
  }
  return { buffer, offset: 0, size: 16 };
}
