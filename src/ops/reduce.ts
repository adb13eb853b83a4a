/**
 * @file Reductions over any axes (sum, mean, max, min, argmax, argmin) and the ops composed
 * from them (logsumexp, variance, std, and the composed softmax / logSoftmax that test and bench
 * the fused ones of softmax.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt, normAxes, normAxis, sizeOf } from '../tensor/shape.js';
import { tidy } from '../tensor/scope.js';
import { checkF32, groupsFor } from './launch.js';
import { binary, unary } from './elementwise.js';
import { full } from './creation.js';
import { permute } from './layout.js';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';
const OP_CODE = { sum: 0, mean: 0, max: 1, min: 2 } as const;

/** Invocations per workgroup of the `rows` kernel (power of two: tree reduction). */
const ROWS_WG = 64;
/**
 * On GPUs, rows at least this long get a workgroup each (`rows`); shorter ones an invocation
 * each. On software adapters workgroup barriers are slow (measured: `rows` ran [4096, 1024]
 * 10x slower than `strided`), so they always take `strided`, long slices split into chunks.
 */
const LONG_ROW = 256;
/** Items each invocation should at least take before a slice is split into chunks. */
const MIN_ITEMS_PER_INVOCATION = 64;
/**
 * On software adapters a reduction of at most ONE_PASS.items items, none of whose slices is
 * longer than ONE_PASS.len, takes one pass: a second dispatch costs more than the parallelism
 * it buys (`npx tsx bench/ab-reduce-passes.ts`).
 */
const ONE_PASS = { items: 1 << 20, len: 32768 };

/** Work items that keep an adapter busy: few on a 2-core software adapter, many on a GPU. */
function targetParallelism(x: Tensor): { groups: number; invocations: number } {
  return x.device.isSoftware ? { groups: 64, invocations: 4096 } : { groups: 2048, invocations: 262144 };
}

/** `want` chunks (at least 1) of len items, as (chunks, items per chunk) with no empty chunk. */
function chunked(len: number, want: number): { chunks: number; chunk: number } {
  const chunk = Math.ceil(len / Math.max(1, want));
  return { chunks: Math.ceil(len / chunk), chunk };
}

/**
 * How a reduction of x viewed as [outer, len, inner] over the middle axis with one invocation per
 * output splits its slices: `chunks` of `chunk` items, the partials reduced in a second pass
 * (chunks = 1: one pass). Also used by kernels that reduce columns in their own first pass.
 */
export function stridedChunks(x: Tensor, outer: number, len: number, inner: number): { chunks: number; chunk: number } {
  if (x.device.isSoftware && outer * inner * len <= ONE_PASS.items && len <= ONE_PASS.len) return { chunks: 1, chunk: len };
  return parallelChunks(x, outer, len, inner);
}

/**
 * The chunks of [outer, len, ...] rows that keep the adapter busy with `invocations` per chunk of
 * each outer slice, however few the items (no one-pass shortcut): for kernels whose invocations
 * do per-item work besides their column sums (bias_act's backward writes dz), each chunk at
 * least MIN_ITEMS_PER_INVOCATION rows.
 */
export function parallelChunks(x: Tensor, outer: number, len: number, invocations: number): { chunks: number; chunk: number } {
  const outputs = outer * invocations;
  const target = targetParallelism(x);
  if (outputs >= target.invocations) return { chunks: 1, chunk: len };
  return chunked(len, Math.min(Math.ceil(target.invocations / outputs), Math.ceil(len / MIN_ITEMS_PER_INVOCATION)));
}

/**
 * Reduces x viewed as [outer, len, inner] over the middle axis into a new [outer * inner] tensor,
 * splitting long slices into chunks reduced in a second pass.
 */
function reduceMiddle(op: ReduceOp, x: Tensor, outer: number, len: number, inner: number, scale: number): Tensor {
  const target = targetParallelism(x);
  const useRows = inner === 1 && len >= LONG_ROW && !x.device.isSoftware;
  const { chunks, chunk } = useRows
    ? chunked(len, Math.min(Math.ceil(target.groups / outer), Math.ceil(len / (ROWS_WG * MIN_ITEMS_PER_INVOCATION))))
    : stridedChunks(x, outer, len, inner);
  const out = Tensor.empty(x.device, [outer * chunks * inner], 'f32', op);
  const params = { outer, len, inner, chunks, chunk, scale: chunks > 1 ? 1 : scale, inf: Infinity };
  // 4 neighbouring outputs per invocation when the rows are whole vec4s
  const vec4 = !useRows && inner % 4 === 0;
  x.device.dispatch({
    kernel: 'reduce',
    entry: useRows ? 'rows' : vec4 ? 'strided_vec4' : 'strided',
    label: `${op}([${outer}, ${len}, ${inner}] over axis 1)`,
    constants: { OP: OP_CODE[op], WG: ROWS_WG },
    bindings: vec4 ? { x4: x.binding(op), out4: out.binding(op) } : { x: x.binding(op), out: out.binding(op) },
    params,
    workgroups: useRows ? groupsFor(outer * chunks, 1) : groupsFor((outer * chunks * inner) / (vec4 ? 4 : 1), ROWS_WG),
  });
  if (chunks === 1) return out;
  const partialOp = op === 'mean' ? 'sum' : op;
  const second = reduceMiddle(partialOp, out, outer, chunks, inner, scale);
  out.dispose();
  return second;
}

/**
 * Brings the reduced axes of x together: returns [outer, len, inner] sizes of a tensor whose
 * middle block is exactly the reduced axes (a permuted copy when they are not adjacent).
 */
function groupAxes(x: Tensor, axes: number[]): { src: Tensor; outer: number; len: number; inner: number; copied: boolean } {
  const reduced = axes.filter((a) => x.shape[a] !== 1);
  if (reduced.length === 0) return { src: x, outer: x.size, len: 1, inner: 1, copied: false };
  const lo = reduced[0];
  const hi = reduced[reduced.length - 1];
  const between = x.shape.slice(lo, hi + 1);
  const adjacent = x.shape.every((d, i) => i < lo || i > hi || d === 1 || reduced.includes(i));
  if (adjacent) {
    return {
      src: x,
      outer: sizeOf(x.shape.slice(0, lo)),
      len: sizeOf(between),
      inner: sizeOf(x.shape.slice(hi + 1)),
      copied: false,
    };
  }
  const kept = [...x.shape.keys()].filter((i) => !reduced.includes(i));
  const src = permute(x, [...kept, ...reduced]);
  return { src, outer: sizeOf(kept.map((i) => x.shape[i])), len: sizeOf(reduced.map((i) => x.shape[i])), inner: 1, copied: true };
}

function outShape(shape: readonly number[], axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Reduces over `axes` (all when undefined). */
export function reduce(op: ReduceOp, x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  checkF32(op, x);
  const ax = normAxes(op, axes, x.shape);
  const shape = outShape(x.shape, ax, keepdims);
  const len = sizeOf(ax.map((a) => x.shape[a]));
  if (len === 0) {
    // as NumPy: the empty sum is 0, the empty mean 0/0 = NaN, max and min have no identity
    if (op === 'sum' || op === 'mean') return full(shape, op === 'sum' ? 0 : NaN, { device: x.device });
    throw new Error(`${op}: cannot reduce ${fmt(x.shape)} over empty axes ${fmt(ax)} (no identity; expected axes of size >= 1)`);
  }
  if (sizeOf(shape) === 0) return Tensor.empty(x.device, shape, 'f32', op);
  const g = groupAxes(x, ax);
  const r = g.len === 1 ? binary('mul', g.src, 1) : reduceMiddle(op, g.src, g.outer, g.len, g.inner, op === 'mean' ? 1 / g.len : 1);
  if (g.copied) g.src.dispose();
  const out = r.reshape(shape);
  r.dispose();
  return out;
}

export const sum = (x: Tensor, axes?: number | readonly number[], keepdims = false) => reduce('sum', x, axes, keepdims);
export const mean = (x: Tensor, axes?: number | readonly number[], keepdims = false) => reduce('mean', x, axes, keepdims);
export const max = (x: Tensor, axes?: number | readonly number[], keepdims = false) => reduce('max', x, axes, keepdims);
export const min = (x: Tensor, axes?: number | readonly number[], keepdims = false) => reduce('min', x, axes, keepdims);

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdims: boolean): Tensor {
  checkF32(op, x);
  if (axis === undefined) {
    const flat = x.reshape([x.size]);
    const r = argReduce(op, flat, 0, false);
    flat.dispose();
    return r;
  }
  const a = normAxis(op, axis, x.rank, x.shape);
  const len = x.shape[a];
  if (len === 0) throw new Error(`${op}: axis ${axis} of ${fmt(x.shape)} is empty`);
  const shape = outShape(x.shape, [a], keepdims);
  const out = Tensor.empty(x.device, shape, 'i32', op);
  if (out.size === 0) return out;
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  x.device.dispatch({
    kernel: 'reduce',
    entry: 'strided_arg',
    label: `${op}(${fmt(x.shape)}, axis ${axis})`,
    constants: { OP: op === 'argmax' ? 1 : 2, WG: ROWS_WG },
    bindings: { x: x.binding(op), out_idx: out.binding(op) },
    params: { outer, len, inner, chunks: 1, chunk: len, scale: 1, inf: Infinity },
    workgroups: groupsFor(outer * inner, ROWS_WG),
  });
  return out;
}

/** Index (i32) of the largest element along `axis` (of the flattened tensor when undefined). */
export const argmax = (x: Tensor, axis?: number, keepdims = false) => argReduce('argmax', x, axis, keepdims);
export const argmin = (x: Tensor, axis?: number, keepdims = false) => argReduce('argmin', x, axis, keepdims);

/** log(sum(exp(x))) over `axes`, shifted by the max for stability. */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normAxes('logsumexp', axes, x.shape);
  // over empty axes: log(0) = -Inf, as NumPy and PyTorch (no max to shift by)
  if (ax.some((a) => x.shape[a] === 0)) return tidy(() => unary('log', sum(unary('exp', x), ax, keepdims)));
  return tidy(() => {
    const m = max(x, axes, true);
    const s = sum(unary('exp', binary('sub', x, m)), axes, true);
    const r = binary('add', unary('log', s), m);
    return keepdims ? r : r.reshape(outShape(x.shape, normAxes('logsumexp', axes, x.shape), false));
  });
}

/** Variance over `axes` with `correction` (0: population, 1: Bessel), two-pass for accuracy. */
export function variance(x: Tensor, axes?: number | readonly number[], keepdims = false, correction = 0): Tensor {
  return tidy(() => {
    const ax = normAxes('variance', axes, x.shape);
    const n = sizeOf(ax.map((a) => x.shape[a]));
    if (n - correction <= 0) throw new Error(`variance: ${n} items over axes ${JSON.stringify(ax)} with correction ${correction}`);
    const d = binary('sub', x, mean(x, ax, true));
    return binary('mul', sum(unary('square', d), ax, keepdims), 1 / (n - correction));
  });
}

export function std(x: Tensor, axes?: number | readonly number[], keepdims = false, correction = 0): Tensor {
  normAxes('std', axes, x.shape);
  return tidy(() => unary('sqrt', variance(x, axes, keepdims, correction)));
}

/** exp(x) / sum(exp(x)) along `axis`, shifted by the max, from 5 dispatches (softmax.ts fuses it). */
export function softmaxComposed(x: Tensor, axis = -1): Tensor {
  normAxis('softmax', axis, x.rank, x.shape);
  if (x.size === 0) return binary('mul', x, 1); // empty in, empty out (no max to shift by)
  return tidy(() => {
    const e = unary('exp', binary('sub', x, max(x, axis, true)));
    return binary('div', e, sum(e, axis, true));
  });
}

/** x - logsumexp(x) along `axis`, composed (softmax.ts fuses it). */
export function logSoftmaxComposed(x: Tensor, axis = -1): Tensor {
  normAxis('logSoftmax', axis, x.rank, x.shape);
  if (x.size === 0) return binary('mul', x, 1); // empty in, empty out
  return tidy(() => binary('sub', x, logsumexp(x, axis, true)));
}
