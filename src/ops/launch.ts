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

/** Smallest last axis for which the 3-D grid entries (include/strided_grid.wgsl) fill workgroups. */
export const GRID_MIN_LAST_AXIS = 32;

/**
 * A 3-D strided grid over a collapsed shape (x = last axis, y = the one before, z = the rest),
 * with the workgroup size its entry point should take; null when the last axis is too short
 * (the 1-D entry, which divides per element, is then the better choice).
 */
export function stridedGrid(shape: readonly number[]): { workgroups: [number, number, number]; wg: number } | null {
  const r = shape.length;
  const n1 = r > 0 ? shape[r - 1] : 1;
  const n0 = r > 1 ? shape[r - 2] : 1;
  if (n1 < GRID_MIN_LAST_AXIS) return null;
  const lead = shape.slice(0, Math.max(0, r - 2)).reduce((a, b) => a * b, 1);
  const wg = n1 >= WG ? WG : n1 >= 64 ? 64 : 32;
  // As many workgroups as the 1-D entry would take (each one has a fixed cost on lavapipe);
  // the y and z loops grid-stride over the rest.
  const target = Math.ceil((lead * n0 * n1) / WG);
  const x = Math.min(MAX_GROUPS, Math.ceil(n1 / wg));
  const z = Math.min(MAX_GROUPS, lead, Math.max(1, Math.ceil(target / x)));
  const y = Math.min(MAX_GROUPS, n0, Math.max(1, Math.ceil(target / (x * z))));
  return { workgroups: [x, y, z], wg };
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
