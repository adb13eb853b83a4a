/**
 * @file Shared helpers for launching kernels from ops: grid sizes and operand checks.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';

/** Invocations per workgroup of the 1-D elementwise kernels. */
export const WG = 256;
/** Cap on 1-D workgroup counts; kernels grid-stride past it. */
const MAX_GROUPS = 65535;

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
