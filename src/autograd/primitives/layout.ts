/**
 * @file The layout primitives (reshape, permute, slice, concat, expand, contiguous: src/ops/layout.ts
 * on the GPU), their rules and cases, and the views built on them (flatten, squeeze, unsqueeze,
 * transpose). Tensor.reshape/squeeze/unsqueeze, views made in tensor.ts, are recorded here as
 * `reshape`.
 */
import * as raw from '../../ops/layout.js';
import { concatRef, permuteRef, sliceRef } from '../../reference/reduce.js';
import { mapBroadcast, ndZeros } from '../../reference/ndarray.js';
import { broadcastShapes, fmt, normAxis, sameShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { autogradHooks, type Tensor } from '../../tensor/tensor.js';
import { type Backend, constantLike, gpu, nd } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor, type NoParams, type Operand } from '../primitive.js';
import { apply, isGradEnabled, isTracked, record } from '../tape.js';
import { mul, square } from './elementwise.js';

type T = GradTensor;

export interface LayoutParams {
  /** A view with the (fully resolved) shape. */
  reshape: { shape: number[] };
  /** out.shape[i] = x.shape[axes[i]]. */
  permute: { axes: number[] };
  /** x[start:end] along axis (resolved: 0 <= start <= end <= size). */
  slice: { axis: number; start: number; end: number };
  concat: { axis: number };
  /** Materialized NumPy broadcast to shape. */
  expand: { shape: number[] };
  contiguous: NoParams;
}

const G = (x: Operand<Tensor>): Tensor => x as Tensor;
const F = F64Tensor.fromNd;

export const LAYOUT = definePrimitives<LayoutParams>({
  reshape: {
    gpu: (xs, p) => G(xs[0]).reshape(p.shape),
    f64: (xs, p) => new F64Tensor(p.shape, nd(xs[0], 'reshape').data),
    rule: (g, { shapes: [s] }) => [reshape(g, s)],
  },
  permute: {
    gpu: (xs, p) => raw.permute(G(xs[0]), p.axes),
    f64: (xs, p) => F(permuteRef(nd(xs[0], 'permute'), p.axes)),
    // the inverse permutation: inv[axes[i]] = i
    rule: (g, { params: { axes } }) => {
      const inv: number[] = [];
      axes.forEach((a, i) => (inv[a] = i));
      return [permute(g, inv)];
    },
  },
  slice: {
    gpu: (xs, p) => raw.slice(G(xs[0]), p.axis, p.start, p.end),
    f64: (xs, p) => F(sliceRef(nd(xs[0], 'slice'), p.axis, p.start, p.end)),
    // zeros outside the slice
    rule: (g, { shapes: [s], params: { axis, start, end } }) => {
      const pad = (n: number) => constantLike(g, s.map((d, i) => (i === axis ? n : d)), 0);
      const parts = [start > 0 ? pad(start) : null, g, end < s[axis] ? pad(s[axis] - end) : null];
      return [concat(parts.filter((p): p is typeof g => p !== null), axis)];
    },
  },
  concat: {
    gpu: (xs, p) => raw.concat(xs as Tensor[], p.axis),
    f64: (xs, p) => F(concatRef(xs.map((x) => nd(x, 'concat')), p.axis)),
    // each input gets its own slice of the gradient
    rule: (g, { shapes, params: { axis } }) => {
      let at = 0;
      return shapes.map((s) => slice(g, axis, at, (at += s[axis])));
    },
  },
  expand: {
    gpu: (xs, p) => raw.expand(G(xs[0]), p.shape),
    f64: (xs, p) => F(mapBroadcast('expand', [nd(xs[0], 'expand'), ndZeros(p.shape)], (v) => v)),
    // summing back over the broadcast axes is done by the tape
    rule: (g) => [g],
  },
  contiguous: {
    gpu: (xs) => raw.contiguous(G(xs[0])),
    f64: (xs) => {
      const a = nd(xs[0], 'contiguous');
      return new F64Tensor(a.shape, a.data.slice());
    },
    rule: (g) => [g],
  },
});

// Tensor.reshape/squeeze/unsqueeze are views made in tensor.ts: record them as `reshape`.
autogradHooks.onView = (src: Tensor, view: Tensor) => {
  if (isGradEnabled() && isTracked(src)) record(LAYOUT.reshape, [src], { shape: [...view.shape] }, view, gpu as unknown as Backend<GradTensor>);
};

// ---------------------------------------------------------------- differentiable ops

export function reshape<A extends T>(x: A, shape: Shape): A {
  const infer = shape.filter((d) => d === -1).length;
  let out = [...shape];
  if (infer === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer -1 in ${fmt(shape)} for ${fmt(x.shape)}`);
    out = shape.map((d) => (d === -1 ? x.size / known : d));
  } else if (infer > 1) {
    throw new Error(`reshape: at most one -1 in ${fmt(shape)}`);
  }
  if (sizeOf(out) !== x.size) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} to ${fmt(out)}`);
  return apply(LAYOUT.reshape, [x], { shape: out });
}
export const flatten = <A extends T>(x: A) => reshape(x, [x.size]);

export function squeeze<A extends T>(x: A, axis?: number): A {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.shape.length, x.shape);
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}, expected 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

export function unsqueeze<A extends T>(x: A, axis: number): A {
  const a = normAxis('unsqueeze', axis, x.shape.length + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

export function permute<A extends T>(x: A, axes: readonly number[]): A {
  const r = x.shape.length;
  const norm = axes.map((a) => normAxis('permute', a, r, x.shape));
  if (norm.length !== r || new Set(norm).size !== r) {
    throw new Error(`permute: axes ${fmt(axes)} must be a permutation of 0..${r - 1} for shape ${fmt(x.shape)}`);
  }
  return apply(LAYOUT.permute, [x], { axes: norm });
}

export function transpose<A extends T>(x: A, a = -2, b = -1): A {
  const r = x.shape.length;
  if (r < 2 && a === -2 && b === -1) throw new Error(`transpose: shape ${fmt(x.shape)} has fewer than 2 axes`);
  const axes = [...Array(r).keys()];
  const i = normAxis('transpose', a, r, x.shape);
  const j = normAxis('transpose', b, r, x.shape);
  [axes[i], axes[j]] = [axes[j], axes[i]];
  return permute(x, axes);
}

export function slice<A extends T>(x: A, axis: number, start: number, end?: number): A {
  return apply(LAYOUT.slice, [x], raw.resolveSlice(x.shape, axis, start, end));
}

export function concat<A extends T>(xs: readonly A[], axis = 0): A {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const a = normAxis('concat', axis, xs[0].shape.length, xs[0].shape);
  return apply(LAYOUT.concat, xs, { axis: a });
}

/** Materializes x broadcast to `shape` (NumPy rules). */
export function expand<A extends T>(x: A, shape: Shape): A {
  if (!sameShape(broadcastShapes('expand', x.shape, shape), shape)) {
    throw new Error(`expand: shape ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  }
  return apply(LAYOUT.expand, [x], { shape: [...shape] });
}

export const contiguous = <A extends T>(x: A) => apply(LAYOUT.contiguous, [x], {}) as A;

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const LAYOUT_CASES: Cases<LayoutParams> = {
  reshape: [{ name: 'reshape [3, 4] -> [2, 6]', inputs: [{ shape: [3, 4] }], fn: (x: V) => mul(reshape(x, [2, 6]), reshape(x, [2, 6])) }],
  permute: [{ name: 'permute [2, 0, 1]', inputs: [{ shape: [2, 3, 4] }], fn: (x: V) => permute(x, [2, 0, 1]) }],
  slice: [
    { name: 'slice axis 0 [1, 4)', inputs: [{ shape: [5, 3] }], fn: (x: V) => slice(x, 0, 1, 4) },
    { name: 'slice axis 1 [0, 2)', inputs: [{ shape: [2, 3] }], fn: (x: V) => slice(x, 1, 0, 2) },
  ],
  concat: [
    { name: 'concat axis 0', inputs: [{ shape: [2, 3] }, { shape: [4, 3] }], fn: (a: V, b: V) => concat([a, b], 0) },
    { name: 'concat axis 1 (same input twice)', inputs: [{ shape: [2, 3] }], fn: (a: V) => concat([a, square(a)], 1) },
  ],
  expand: [{ name: 'expand [3, 1] -> [2, 3, 4]', inputs: [{ shape: [3, 1] }], fn: (x: V) => expand(x, [2, 3, 4]) }],
  contiguous: [{ name: 'contiguous', inputs: [{ shape: [3, 4] }], fn: (x: V) => contiguous(x) }],
};
