/**
 * @file Layout ops that copy: permute/transpose, slice, concat, expand (broadcastTo), contiguous.
 * All run the strided copy kernel (copy.wgsl) on 32-bit words, so they serve f32 and i32 alike.
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, collapseDims, fmt, normAxis, sameShape, stridesOf, type Shape } from '../tensor/shape.js';
import { MAX_GROUPS, MAX_RANK, checkSameDevice, f32Div, groupsFor, index3Plan, pad8 } from './launch.js';

/**
 * Rows one item of copy.wgsl's expand_rows_vec4 stores from one load: a pooled gradient broadcast
 * back over an image's pixels (the mean pool's backward) is R = H W rows of one vec4 load.
 */
const EXPAND_ROWS_PER_ITEM = 16;

/**
 * Whether a copy plan (Z, R, C) reads one (Z, C) slice for every row r (stride 0) and writes
 * contiguous rows, in vec4s (a vec4 plan's last strides are 1).
 */
function broadcastsRows(plan: NonNullable<ReturnType<typeof index3Plan>>): boolean {
  const [Z, R, C] = plan.dims;
  const [si, so] = plan.strides;
  return plan.vec4 && R > 1 && si[1] === 0 && so[1] === C && (Z === 1 || so[0] === R * C);
}

/** Copies x (read through `inStrides` from `inOffset`) into out at `outOffset` with `outStrides`. */
function stridedCopy(
  op: string,
  x: Tensor,
  out: Tensor,
  shape: Shape,
  inStrides: readonly number[],
  outStrides: readonly number[],
  inOffset = 0,
  outOffset = 0,
): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const c = collapseDims(shape, [inStrides, outStrides]);
  if (c.shape.length > MAX_RANK) throw new Error(`${op}: needs ${c.shape.length} axes after merging, at most ${MAX_RANK}`);
  const label = `${op}(${fmt(x.shape)} -> ${fmt(out.shape)})`;
  // Up to 4 merged axes: 3 split per item, an outermost one along the grid's y (copy3).
  const outer = c.shape.length === 4 ? { n: c.shape[0], strides: c.strides.map((s) => s[0]) } : { n: 1, strides: [0, 0] };
  const inner = c.shape.length === 4 ? { shape: c.shape.slice(1), strides: c.strides.map((s) => s.slice(1)) } : c;
  const plan = outer.n > MAX_GROUPS ? null : index3Plan(inner.shape, inner.strides, [inOffset, outOffset], outer.strides);
  if (plan && outer.n === 1 && broadcastsRows(plan)) {
    const [Z, R, C] = plan.dims;
    const blocks = Math.ceil(R / EXPAND_ROWS_PER_ITEM);
    const n = Z * blocks * C;
    const [si, so] = plan.strides;
    x.device.dispatch({
      kernel: 'copy', label, entry: 'expand_rows_vec4',
      bindings: { x4: x.binding(op), out4: out.binding(op) },
      params: { n, rank: 3, io: plan.offsets[0], oo: plan.offsets[1], shape: pad8([Z, R, C, 1, blocks]), si: pad8(si), so: pad8(so) },
      constants: { ...f32Div(n), ROWS_PER_ITEM: EXPAND_ROWS_PER_ITEM },
      workgroups: groupsFor(n),
    });
    return;
  }
  if (plan) {
    const w = plan.vec4 ? 4 : 1;
    const [si, so] = plan.strides;
    const [io, oo] = plan.offsets;
    x.device.dispatch({
      kernel: 'copy', label, entry: plan.vec4 ? 'copy3_vec4' : 'copy3',
      bindings: plan.vec4 ? { x4: x.binding(op), out4: out.binding(op) } : { x: x.binding(op), out: out.binding(op) },
      params: {
        n: plan.n, rank: 3, io, oo,
        shape: pad8([...plan.dims, outer.n]), si: pad8([...si, outer.strides[0] / w]), so: pad8([...so, outer.strides[1] / w]),
      },
      constants: plan.constants,
      workgroups: [plan.workgroups[0], outer.n],
    });
    return;
  }
  x.device.dispatch({
    kernel: 'copy',
    label,
    constants: f32Div(n),
    bindings: { x: x.binding(op), out: out.binding(op) },
    params: {
      n, rank: c.shape.length, io: inOffset, oo: outOffset,
      shape: pad8(c.shape), si: pad8(c.strides[0]), so: pad8(c.strides[1]),
    },
    workgroups: groupsFor(n),
  });
}

/** Reorders axes: out.shape[i] = x.shape[axes[i]]. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  x.storage('permute');
  const r = x.rank;
  const norm = axes.map((a) => normAxis('permute', a, r, x.shape));
  if (norm.length !== r || new Set(norm).size !== r) {
    throw new Error(`permute: axes ${fmt(axes)} must be a permutation of 0..${r - 1} for shape ${fmt(x.shape)}`);
  }
  const shape = norm.map((a) => x.shape[a]);
  const out = Tensor.empty(x.device, shape, x.dtype, 'permute');
  const xs = stridesOf(x.shape);
  stridedCopy('permute', x, out, shape, norm.map((a) => xs[a]), stridesOf(shape));
  return out;
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  if (x.rank < 2 && a === -2 && b === -1) throw new Error(`transpose: shape ${fmt(x.shape)} has fewer than 2 axes`);
  const i = normAxis('transpose', a, x.rank, x.shape);
  const j = normAxis('transpose', b, x.rank, x.shape);
  const axes = [...Array(x.rank).keys()];
  [axes[i], axes[j]] = [axes[j], axes[i]];
  return permute(x, axes);
}

/**
 * `axis`, `start` and `end` of x[start:end] resolved against `shape`: 0 <= start <= end <= size
 * (negative indices count from the end; end clamps); a clear error otherwise.
 */
export function resolveSlice(shape: Shape, axis: number, start: number, end?: number): { axis: number; start: number; end: number } {
  const a = normAxis('slice', axis, shape.length, shape);
  const len = shape[a];
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : Math.min(len, end < 0 ? end + len : end);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || s > len || e < s) {
    throw new Error(
      `slice: range [${start}, ${end}) is invalid for axis ${axis} of size ${len} in shape ${fmt(shape)} ` +
        `(expected integers with 0 <= start <= end <= ${len}, negative ones counting from the end)`,
    );
  }
  return { axis: a, start: s, end: e };
}

/** x[start:end] along `axis` (negative indices count from the end; end clamps). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  x.storage('slice');
  const { axis: a, start: s, end: e } = resolveSlice(x.shape, axis, start, end);
  const shape = x.shape.map((d, i) => (i === a ? e - s : d));
  const out = Tensor.empty(x.device, shape, x.dtype, 'slice');
  const xs = stridesOf(x.shape);
  stridedCopy('slice', x, out, shape, xs, stridesOf(shape), s * xs[a]);
  return out;
}

/** Joins tensors along `axis`; all other sizes must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0];
  for (const t of xs) t.storage('concat');
  checkSameDevice('concat', ...xs);
  const a = normAxis('concat', axis, first.rank, first.shape);
  for (const t of xs) {
    const ok = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) {
      throw new Error(
        `concat: shapes ${xs.map((q) => fmt(q.shape)).join(', ')} differ outside axis ${axis} (or in dtype)`,
      );
    }
  }
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((s, t) => s + t.shape[a], 0) : d));
  const out = Tensor.empty(first.device, shape, first.dtype, 'concat');
  const os = stridesOf(shape);
  let at = 0;
  for (const t of xs) {
    stridedCopy('concat', t, out, t.shape, stridesOf(t.shape), os, 0, at * os[a]);
    at += t.shape[a];
  }
  return out;
}

/** Materializes x broadcast to `shape` (NumPy rules). */
export function expand(x: Tensor, shape: Shape): Tensor {
  x.storage('expand');
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) {
    throw new Error(`expand: shape ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  }
  const out = Tensor.empty(x.device, shape, x.dtype, 'expand');
  stridedCopy('expand', x, out, shape, broadcastStrides(x.shape, shape), stridesOf(shape));
  return out;
}

/** A fresh copy with its own storage. */
export function contiguous(x: Tensor): Tensor {
  x.storage('contiguous');
  const out = Tensor.empty(x.device, x.shape, x.dtype, 'contiguous');
  if (out.size > 0) x.device.copy(x.binding('contiguous'), out.binding('contiguous'));
  return out;
}
