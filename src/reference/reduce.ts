/**
 * @file f64 reference of reductions, the ops composed from them, and the layout ops.
 */
import { normAxes, normAxis, sizeOf, type Shape } from '../tensor/shape.js';
import type { ReduceOp } from '../ops/reduce.js';
import { binaryRef, unaryRef } from './elementwise.js';
import { coordsOf, ndZeros, offsetOf, stridesOf, type NDArray } from './ndarray.js';

function reducedShape(shape: Shape, axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Groups the elements of x by their coordinates on the kept axes. */
function groups(x: NDArray, axes: number[]): { keptShape: number[]; members: number[][] } {
  const keptShape = reducedShape(x.shape, axes, true);
  const ks = stridesOf(keptShape);
  const members: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const c = coordsOf(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
    members[offsetOf(c, ks)].push(i);
  }
  return { keptShape, members };
}

export function reduceRef(op: ReduceOp, x: NDArray, axes?: number | readonly number[], keepdims = false): NDArray {
  const ax = normAxes(op, axes, x.shape);
  const { members } = groups(x, ax);
  const out = ndZeros(reducedShape(x.shape, ax, keepdims));
  members.forEach((m, j) => {
    const v = m.map((i) => x.data[i]);
    out.data[j] =
      op === 'sum' ? v.reduce((a, b) => a + b, 0)
      : op === 'mean' ? v.reduce((a, b) => a + b, 0) / v.length
      : op === 'max' ? v.reduce((a, b) => Math.max(a, b), -Infinity)
      : v.reduce((a, b) => Math.min(a, b), Infinity);
  });
  return out;
}

export function argReduceRef(op: 'argmax' | 'argmin', x: NDArray, axis?: number, keepdims = false): NDArray {
  if (axis === undefined) return argReduceRef(op, { shape: [x.data.length], data: x.data }, 0, false);
  const a = normAxis(op, axis, x.shape.length);
  const { members } = groups(x, [a]);
  const out = ndZeros(reducedShape(x.shape, [a], keepdims));
  members.forEach((m, j) => {
    // the first NaN wins, as in NumPy and PyTorch
    let best = 0;
    for (let r = 1; r < m.length && !Number.isNaN(x.data[m[best]]); r++) {
      const v = x.data[m[r]];
      if (Number.isNaN(v) || (op === 'argmax' ? v > x.data[m[best]] : v < x.data[m[best]])) best = r;
    }
    out.data[j] = best;
  });
  return out;
}

export function logsumexpRef(x: NDArray, axes?: number | readonly number[], keepdims = false): NDArray {
  const m = reduceRef('max', x, axes, true);
  const s = reduceRef('sum', unaryRef('exp', binaryRef('sub', x, m)), axes, true);
  const r = binaryRef('add', unaryRef('log', s), m);
  return keepdims ? r : { shape: reducedShape(x.shape, normAxes('logsumexp', axes, x.shape), false), data: r.data };
}

export function varianceRef(x: NDArray, axes?: number | readonly number[], keepdims = false, correction = 0): NDArray {
  const ax = normAxes('variance', axes, x.shape);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const d = binaryRef('sub', x, reduceRef('mean', x, ax, true));
  const s = reduceRef('sum', unaryRef('square', d), ax, keepdims);
  return { shape: s.shape, data: s.data.map((v) => v / (n - correction)) };
}

export function softmaxRef(x: NDArray, axis = -1): NDArray {
  const e = unaryRef('exp', binaryRef('sub', x, reduceRef('max', x, axis, true)));
  return binaryRef('div', e, reduceRef('sum', e, axis, true));
}

export function logSoftmaxRef(x: NDArray, axis = -1): NDArray {
  return binaryRef('sub', x, logsumexpRef(x, axis, true));
}

export function permuteRef(x: NDArray, axes: readonly number[]): NDArray {
  const ax = axes.map((a) => normAxis('permute', a, x.shape.length));
  const shape = ax.map((a) => x.shape[a]);
  const xs = stridesOf(x.shape);
  const out = ndZeros(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = coordsOf(i, shape);
    out.data[i] = x.data[c.reduce((o, v, d) => o + v * xs[ax[d]], 0)];
  }
  return out;
}

export function sliceRef(x: NDArray, axis: number, start: number, end?: number): NDArray {
  const a = normAxis('slice', axis, x.shape.length);
  const len = x.shape[a];
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : Math.min(len, end < 0 ? end + len : end);
  const shape = x.shape.map((d, i) => (i === a ? e - s : d));
  const xs = stridesOf(x.shape);
  const out = ndZeros(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = coordsOf(i, shape);
    c[a] += s;
    out.data[i] = x.data[offsetOf(c, xs)];
  }
  return out;
}

export function concatRef(xs: NDArray[], axis = 0): NDArray {
  const a = normAxis('concat', axis, xs[0].shape.length);
  const shape = xs[0].shape.map((d, i) => (i === a ? xs.reduce((s, t) => s + t.shape[a], 0) : d));
  const out = ndZeros(shape);
  const os = stridesOf(shape);
  let at = 0;
  for (const t of xs) {
    for (let i = 0; i < t.data.length; i++) {
      const c = coordsOf(i, t.shape);
      c[a] += at;
      out.data[offsetOf(c, os)] = t.data[i];
    }
    at += t.shape[a];
  }
  return out;
}
