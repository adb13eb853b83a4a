/**
 * @file The differentiable op layer under PyTorch names: primitives (recorded on the tape) and
 * composites built from them (which inherit their gradients). Every op takes GPU tensors or f64
 * reference tensors (F64Tensor), so one function runs on the GPU and in f64 for gradcheck.
 * The raw launchers in src/ops stay autograd-free.
 */
import type { UnaryOp } from '../ops/elementwise.js';
import type { ReduceOp } from '../ops/reduce.js';
import { tidy } from '../tensor/scope.js';
import { broadcastShapes, fmt, normAxes, normAxis, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import { backendOf } from './backends.js';
import type { CompareBinary, ConvParams, GradTensor, NormParams, Operand, SmoothBinary } from './primitives.js';
import { apply, isGradEnabled, isTracked } from './tape.js';
import { Tensor } from '../tensor/tensor.js';
import * as rawCreation from '../ops/creation.js';
import { checkActivation, kernelBiasMode, matmul as rawMatmul } from '../ops/matmul.js';
import { MAX_FUSED_HEAD_DIM } from '../ops/attention.js';
import type { Reduction } from '../ops/loss.js';

type T = GradTensor;

// Non-differentiable ops, re-exported unchanged so this module can stand in for src/ops/index.ts.
export {
  full, zeros, ones, arange, fromArray, rand, randn, cast, DTYPES, checkDType, type CreateOptions, type RandomOptions,
} from '../ops/creation.js';
export { argmax, argmin, type ReduceOp } from '../ops/reduce.js';
export { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../ops/elementwise.js';

// ---------------------------------------------------------------- elementwise

export function unary<A extends T>(op: UnaryOp, x: A): A {
  return apply(op, [x], {});
}
/** A differentiable binary op (the activation backwards of BINARY_OPS are kernels, not primitives). */
export function binary<A extends T>(op: SmoothBinary | CompareBinary, a: Operand<A>, b: Operand<A>): A {
  return apply(op, [a, b], {});
}

export const neg = <A extends T>(x: A) => unary('neg', x);
export const abs = <A extends T>(x: A) => unary('abs', x);
export const sign = <A extends T>(x: A) => unary('sign', x);
export const exp = <A extends T>(x: A) => unary('exp', x);
export const log = <A extends T>(x: A) => unary('log', x);
export const sqrt = <A extends T>(x: A) => unary('sqrt', x);
export const rsqrt = <A extends T>(x: A) => unary('rsqrt', x);
export const square = <A extends T>(x: A) => unary('square', x);
export const tanh = <A extends T>(x: A) => unary('tanh', x);
export const sigmoid = <A extends T>(x: A) => unary('sigmoid', x);
export const relu = <A extends T>(x: A) => unary('relu', x);
export const gelu = <A extends T>(x: A) => unary('gelu', x);
/** d gelu / dx = Phi(x) + x phi(x) (a primitive so gelu's rule stays differentiable). */
export const geluGrad = <A extends T>(x: A) => unary('geluGrad', x);
/** 1 where x > 0, else 0 (zero gradient). */
export const reluMask = <A extends T>(x: A) => unary('reluMask', x);
export const sin = <A extends T>(x: A) => unary('sin', x);
export const cos = <A extends T>(x: A) => unary('cos', x);
export const reciprocal = <A extends T>(x: A) => unary('reciprocal', x);
export const floor = <A extends T>(x: A) => unary('floor', x);
export const ceil = <A extends T>(x: A) => unary('ceil', x);
export const round = <A extends T>(x: A) => unary('round', x);
export const erf = <A extends T>(x: A) => unary('erf', x);
export const log1p = <A extends T>(x: A) => unary('log1p', x);
export const expm1 = <A extends T>(x: A) => unary('expm1', x);

export const add = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('add', a, b);
export const sub = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('sub', a, b);
export const mul = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('mul', a, b);
export const div = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('div', a, b);
export const pow = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('pow', a, b);
export const maximum = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('maximum', a, b);
export const minimum = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('minimum', a, b);
export const eq = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('eq', a, b);
export const ne = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('ne', a, b);
export const lt = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('lt', a, b);
export const le = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('le', a, b);
export const gt = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('gt', a, b);
export const ge = <A extends T>(a: Operand<A>, b: Operand<A>) => binary('ge', a, b);

/** cond != 0 ? a : b, all three broadcast together (cond gets no gradient). */
export function where<A extends T>(cond: A, a: Operand<A>, b: Operand<A>): A {
  return apply('where', [cond, a, b], {});
}
export { where as select };

/** A constant (untracked) tensor of `shape` on the backend and device of `like`. */
export function constantLike<A extends T>(like: A, shape: Shape, values: number | ArrayLike<number>): A {
  return backendOf('constantLike', [like]).constant(like, shape, values) as A;
}
export const zerosLike = <A extends T>(x: A) => constantLike(x, x.shape, 0);
export const onesLike = <A extends T>(x: A) => constantLike(x, x.shape, 1);

// ---------------------------------------------------------------- reductions

function reduceShape(shape: Shape, axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

export function reduce<A extends T>(op: ReduceOp, x: A, axes?: number | readonly number[], keepdims = false): A {
  return apply(op, [x], { axes: normAxes(op, axes, x.shape), keepdims });
}
export const sum = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('sum', x, axes, keepdims);
export const mean = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('mean', x, axes, keepdims);
export const max = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('max', x, axes, keepdims);
export const min = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('min', x, axes, keepdims);

/** Sums x over the axes that broadcasting added or stretched, down to `shape`. */
export function sumTo<A extends T>(x: A, shape: Shape): A {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.shape.length - shape.length;
  const axes = [...x.shape.keys()].filter((i) => i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1));
  return tidy(() => reshape(sum(x, axes, true), shape));
}

// ---------------------------------------------------------------- layout

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
  return apply('reshape', [x], { shape: out });
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
  return apply('permute', [x], { axes: norm });
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
  const a = normAxis('slice', axis, x.shape.length, x.shape);
  const len = x.shape[a];
  const s = start < 0 ? start + len : start;
  const e = end === undefined ? len : Math.min(len, end < 0 ? end + len : end);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || s > len || e < s) {
    throw new Error(
      `slice: range [${start}, ${end}) is invalid for axis ${axis} of size ${len} in shape ${fmt(x.shape)} ` +
        `(expected integers with 0 <= start <= end <= ${len}, negative ones counting from the end)`,
    );
  }
  return apply('slice', [x], { axis: a, start: s, end: e });
}

export function concat<A extends T>(xs: readonly A[], axis = 0): A {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const a = normAxis('concat', axis, xs[0].shape.length, xs[0].shape);
  return apply('concat', xs, { axis: a });
}

/** Materializes x broadcast to `shape` (NumPy rules). */
export function expand<A extends T>(x: A, shape: Shape): A {
  if (!sameShape(broadcastShapes('expand', x.shape, shape), shape)) {
    throw new Error(`expand: shape ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  }
  return apply('expand', [x], { shape: [...shape] });
}

export const contiguous = <A extends T>(x: A) => apply('contiguous', [x], {}) as A;

/** The same values with no gradient history (a view; not recorded). */
export function detach<A extends T>(x: A): A {
  return backendOf('detach', [x]).alias(x, null, true) as A;
}

// ---------------------------------------------------------------- composites (inherit gradients)

/** log(sum(exp(x))) over `axes`, shifted by the (detached) max: d = softmax(x). */
export function logsumexp<A extends T>(x: A, axes?: number | readonly number[], keepdims = false): A {
  return tidy(() => {
    const ax = normAxes('logsumexp', axes, x.shape);
    // over empty axes: log(0) = -Inf, as NumPy and PyTorch (no max to shift by)
    if (ax.some((a) => x.shape[a] === 0)) return log(sum(exp(x), ax, keepdims));
    const m = detach(max(x, ax, true));
    const r = add(log(sum(exp(sub(x, m)), ax, true)), m);
    return keepdims ? r : reshape(r, reduceShape(x.shape, ax, false));
  });
}

/** Variance over `axes` with `correction` (0: population, 1: Bessel), two-pass. */
export function variance<A extends T>(x: A, axes?: number | readonly number[], keepdims = false, correction = 0): A {
  return tidy(() => {
    const ax = normAxes('variance', axes, x.shape);
    const n = sizeOf(ax.map((a) => x.shape[a]));
    if (n - correction <= 0) throw new Error(`variance: ${n} items over axes ${JSON.stringify(ax)} with correction ${correction}`);
    const d = sub(x, mean(x, ax, true));
    return mul(sum(square(d), ax, keepdims), 1 / (n - correction));
  });
}

export function std<A extends T>(x: A, axes?: number | readonly number[], keepdims = false, correction = 0): A {
  normAxes('std', axes, x.shape);
  return tidy(() => sqrt(variance(x, axes, keepdims, correction)));
}

/** exp(x) / sum(exp(x)) along `axis`, shifted by the (detached) max. */
export function softmax<A extends T>(x: A, axis = -1): A {
  normAxis('softmax', axis, x.shape.length, x.shape);
  if (sizeOf(x.shape) === 0) return mul(x, 1); // empty in, empty out (no max to shift by)
  return tidy(() => {
    const e = exp(sub(x, detach(max(x, axis, true))));
    return div(e, sum(e, axis, true));
  });
}

/** x - logsumexp(x) along `axis`. */
export function logSoftmax<A extends T>(x: A, axis = -1): A {
  normAxis('logSoftmax', axis, x.shape.length, x.shape);
  if (sizeOf(x.shape) === 0) return mul(x, 1); // empty in, empty out
  return tidy(() => sub(x, logsumexp(x, axis, true)));
}

// ---------------------------------------------------------------- matmul (src/ops/matmul.ts)

export interface MatmulOptions<A extends T = T> {
  /** Use A^T (last two axes swapped). Ignored for a 1-D operand. */
  transA?: boolean;
  transB?: boolean;
  /** Scales the product before the bias: act(alpha * op(a) @ op(b) + bias). Default 1. */
  alpha?: number;
  /**
   * Added to every row (broadcast). Part of the matmul primitive (the kernel's epilogue, no
   * separate add) when it is [N] or [...batch, 1, N] and both operands are matrices.
   */
  bias?: A;
  activation?: 'relu' | 'gelu' | 'tanh' | 'none';
}

/** Whether `bias` is one the matmul kernel adds itself (kernelBiasMode), for two matrix operands. */
function kernelBias<A extends T>(a: A, b: A, bias: A | undefined, transB: boolean): boolean {
  if (!bias || a.shape.length < 2 || b.shape.length < 2) return false;
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return false; // the primitive reports the shapes
  }
  return kernelBiasMode(bias.shape, batch, b.shape[b.shape.length - (transB ? 2 : 1)], true) !== 0;
}

/**
 * Whether `matmul` may run the kernel's whole epilogue (activation included) unrecorded: GPU
 * operands, a bias the kernel adds or an activation, and nothing to record (noGrad, or no input
 * tracked).
 */
function fusedEpilogue<A extends T>(a: A, b: A, opts: MatmulOptions<A>): boolean {
  const { bias } = opts;
  const act = opts.activation ?? 'none';
  if (!(a instanceof Tensor && b instanceof Tensor) || (!bias && act === 'none')) return false;
  if (bias && !(bias instanceof Tensor && kernelBias(a, b, bias, !!opts.transB))) return false;
  return !isGradEnabled() || ![a, b, bias].some((t) => t && isTracked(t));
}

/**
 * act(alpha * op(a) @ op(b) + bias), batch axes broadcast; a 1-D operand's axis is dropped from
 * the result, as in NumPy. Scale and a kernel-shaped bias are part of the (differentiable) matmul
 * primitive; the activation, and a bias of another shape, are composed from primitives when
 * something is recorded; otherwise the kernel's fused epilogue runs.
 */
export function matmul<A extends T>(a: A, b: A, opts: MatmulOptions<A> = {}): A {
  checkActivation('matmul', opts.activation);
  const alpha = opts.alpha ?? 1;
  if (fusedEpilogue(a, b, opts)) {
    // nothing to record: the kernel's fused bias/activation epilogue (one dispatch, no temporaries)
    const { transA, transB, bias, activation } = opts;
    return rawMatmul(a as unknown as Tensor, b as unknown as Tensor, { transA, transB, alpha, bias: bias as Tensor | undefined, activation }) as unknown as A;
  }
  return tidy(() => {
    const a2 = a.shape.length === 1 ? unsqueeze(a, 0) : a;
    const b2 = b.shape.length === 1 ? unsqueeze(b, -1) : b;
    const transB = b.shape.length > 1 && !!opts.transB;
    const fuseBias = kernelBias(a, b, opts.bias, transB);
    let y: A = apply('matmul', fuseBias ? [a2, b2, opts.bias as A] : [a2, b2], {
      transA: a.shape.length > 1 && !!opts.transA,
      transB,
      alpha,
      bias: fuseBias,
    });
    if (b.shape.length === 1) y = squeeze(y, -1);
    if (a.shape.length === 1) y = squeeze(y, b.shape.length === 1 ? -1 : -2);
    if (opts.bias && !fuseBias) {
      broadcastShapes('matmul: bias', y.shape, opts.bias.shape);
      y = add(y, opts.bias);
    }
    const act = opts.activation ?? 'none';
    return act === 'none' ? y : unary(act, y);
  });
}

// ---------------------------------------------------------------- convolution (src/ops/conv2d.ts)

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** Zero padding on each side (top/bottom, left/right). */
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** Channel groups (default 1; Cin for depthwise): weight [KH, KW, Cin / groups, Cout]. */
  groups?: number;
}

function convParams(o: Conv2dOptions): ConvParams {
  const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
    v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  return { stride: pair(o.stride, 1), padding: pair(o.padding, 0), dilation: pair(o.dilation, 1), groups: o.groups ?? 1 };
}

/** conv2d(x [N, H, W, Cin], weight [KH, KW, Cin / groups, Cout], bias? [Cout]) -> [N, OH, OW, Cout]. */
export function conv2d<A extends T>(x: A, weight: A, bias?: A | null, opts: Conv2dOptions = {}): A {
  const p = convParams(opts);
  if (bias && kernelConvBias(x, weight, bias)) return apply('conv2d', [x, weight, bias], { ...p, bias: true });
  const y = conv2dRaw(x, weight, p);
  if (!bias) return y;
  broadcastShapes('conv2d: bias', y.shape, bias.shape);
  return tidy(() => add(y, bias));
}

/** Whether the conv kernel adds `bias` itself: [Cout], or [S, 1, 1, 1, Cout] for an ensemble (rank-5 x). */
function kernelConvBias<A extends T>(x: A, weight: A, bias: A): boolean {
  const co = weight.shape[weight.shape.length - 1];
  if (x.shape.length === 5) return bias.shape.length === 5 && bias.shape[0] === x.shape[0] && bias.shape.slice(1).join() === `1,1,1,${co}`;
  return bias.shape.length === 1 && bias.shape[0] === co;
}

/** The conv2d primitive with resolved parameters (no bias). */
export const conv2dRaw = <A extends T>(x: A, weight: A, p: ConvParams) =>
  apply('conv2d', [x, weight], { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups, bias: false });
export const conv2dGradInput = <A extends T>(dy: A, weight: A, inputShape: Shape, p: ConvParams | Conv2dOptions = {}) =>
  apply('conv2dGradInput', [dy, weight], { ...convParams(p as Conv2dOptions), inputShape: [...inputShape] });
export const conv2dGradWeight = <A extends T>(x: A, dy: A, weightShape: Shape, p: ConvParams | Conv2dOptions = {}) =>
  apply('conv2dGradWeight', [x, dy], { ...convParams(p as Conv2dOptions), weightShape: [...weightShape] });

// ---------------------------------------------------------------- losses

export type { Reduction } from '../ops/loss.js';

/** mean (or sum, or none) of (pred - target)^2, composed (differentiable, twice). */
export function mseLoss<A extends T>(pred: A, target: A, opts: { reduction?: 'mean' | 'sum' | 'none' } = {}): A {
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`mseLoss: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape (no broadcasting)`);
  }
  return tidy(() => {
    const sq = square(sub(pred, target));
    const r = opts.reduction ?? 'mean';
    return r === 'none' ? sq : r === 'sum' ? sum(sq) : mean(sq);
  });
}

// ---------------------------------------------------------------- fused primitives (src/ops: norm, loss, embedding, attention)

function checkNotDifferentiated(op: string, name: string, x: T): void {
  if (x.requiresGrad || x.node) throw new Error(`${op}: ${name} ${fmt(x.shape)} are integers and cannot require grad`);
}

/** An integer tensor (i32 on the GPU, an integer-valued F64Tensor in f64) on the backend of `like`. */
export function indicesLike<A extends T>(like: A, shape: Shape, values: ArrayLike<number>): A {
  if (like instanceof Tensor) return rawCreation.fromArray(Int32Array.from(values), shape, { device: like.device }) as unknown as A;
  return backendOf('indicesLike', [like]).constant(like, shape, values) as A;
}

/** Integer labels/indices as float values (GPU: an i32 -> f32 cast; f64: as is). Not differentiable. */
export function labelsAsFloat<A extends T>(labels: A): A {
  if (labels instanceof Tensor && labels.dtype === 'i32') return rawCreation.cast(labels, 'f32') as unknown as A;
  return labels;
}

/** table[indices] (table [V, D], integer indices [...] -> [..., D]); differentiable in the table. */
export function embedding<A extends T>(table: A, indices: A): A {
  checkNotDifferentiated('embedding', 'indices', indices);
  if (table.shape.length !== 2) throw new Error(`embedding: table has shape ${fmt(table.shape)}, expected [vocab, dim]`);
  return apply('embedding', [table, indices], {});
}

/**
 * dtable [vocabSize, D]: row v sums dout[i, :] over the positions with indices[i] == v (the
 * adjoint of embedding; differentiable in dout). The GPU picks its kernel variant itself.
 */
export function embeddingBackward<A extends T>(dout: A, indices: A, vocabSize: number): A {
  checkNotDifferentiated('embeddingBackward', 'indices', indices);
  return apply('embeddingBackward', [dout, indices], { vocab: vocabSize });
}

/**
 * Softmax cross-entropy of `logits` [..., C] against integer `labels` [...] ('mean' over rows by
 * default, 'sum', or 'none': per-row losses). Differentiable in the logits (twice: the
 * createGraph backward is composed). NOTE: unlike the raw launcher, returns the loss only.
 */
export function crossEntropy<A extends T>(logits: A, labels: A, opts: { reduction?: Reduction } = {}): A {
  checkNotDifferentiated('crossEntropy', 'labels', labels);
  if (logits.shape.length < 1 || !sameShape(logits.shape.slice(0, -1), labels.shape)) {
    throw new Error(`crossEntropy: logits ${fmt(logits.shape)} and labels ${fmt(labels.shape)} disagree: expected labels of shape ${fmt(logits.shape.slice(0, -1))}`);
  }
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
  return apply('crossEntropy', [logits, labels], { reduction });
}

function normParams(op: string, x: T, normalizedShape: number | readonly number[], weight: T | null | undefined, bias: T | null | undefined, eps = 1e-5): NormParams {
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = norm.length;
  if (k === 0 || k > x.shape.length || !sameShape(x.shape.slice(x.shape.length - k), norm)) {
    throw new Error(`${op}: normalized shape ${fmt(norm)} does not match the last ${k} axes of input ${fmt(x.shape)}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && !sameShape(t.shape, norm)) throw new Error(`${op}: ${name} has shape ${fmt(t.shape)}, expected the normalized shape ${fmt(norm)}`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`${op}: eps must be finite and >= 0, got ${eps}`);
  return { normalizedShape: norm, eps, weight: !!weight, bias: !!bias };
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalizedShape` axes, like
 * torch.nn.functional.layer_norm (fused kernels; twice differentiable). NOTE: returns y only
 * (the raw launcher returns { y, mean, rstd }).
 */
export function layerNorm<A extends T>(
  x: A, normalizedShape: number | readonly number[], weight?: A | null, bias?: A | null, opts: { eps?: number } = {},
): A {
  const p = normParams('layerNorm', x, normalizedShape, weight, bias, opts.eps);
  return apply('layerNorm', [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])], p);
}

/** x / sqrt(mean(x^2) + eps) * weight over the trailing axes (fused; twice differentiable; returns y only). */
export function rmsNorm<A extends T>(x: A, normalizedShape: number | readonly number[], weight?: A | null, opts: { eps?: number } = {}): A {
  const p = normParams('rmsNorm', x, normalizedShape, weight, null, opts.eps);
  return apply('rmsNorm', [x, ...(weight ? [weight] : [])], p);
}

export interface AttentionOptions {
  /** Key j visible to query i iff j <= i (PyTorch's top-left alignment). */
  causal?: boolean;
  /** Multiplies q . k; default 1/sqrt(D) (muP: 1/D). */
  scale?: number;
  /** Use the composed path (matmul, mask, softmax, matmul) instead of the fused primitive. */
  composed?: boolean;
}

function attentionParams(q: T, k: T, v: T, opts: AttentionOptions): { causal: boolean; scale: number } {
  const r = q.shape.length;
  const bad = r < 2 || k.shape.length !== r || v.shape.length !== r ||
    !sameShape(q.shape.slice(0, r - 2), k.shape.slice(0, r - 2)) || !sameShape(k.shape, v.shape) ||
    q.shape[r - 1] !== k.shape[r - 1];
  if (bad) {
    throw new Error(`attention: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)} must be [..., Tq, D], [..., Tk, D], [..., Tk, D]`);
  }
  if (q.shape[r - 1] === 0) throw new Error(`attention: q ${fmt(q.shape)} has head dim D = 0; expected D >= 1`);
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[r - 1]);
  if (!Number.isFinite(scale)) throw new Error(`attention: scale must be finite, got ${scale}`);
  return { causal: !!opts.causal, scale };
}

/**
 * softmax(scale q k^T) with the causal mask (j <= i) when asked, composed: [..., Tq, Tk]. Masked
 * scores are -Inf (a row whose visible scores are all -Inf is NaN, as in the reference) and masked
 * probabilities 0 by `where` (a select: a NaN row leaves no NaN at masked keys).
 */
export function attentionProbs<A extends T>(q: A, k: A, p: { causal: boolean; scale: number }): A {
  return tidy(() => {
    const s = mul(matmul(q, k, { transB: true }), p.scale);
    if (!p.causal) return softmax(s, -1);
    const [tq, tk] = s.shape.slice(-2);
    const visible = constantLike(s, [tq, tk], Array.from({ length: tq * tk }, (_, n) => (n % tk <= Math.floor(n / tk) ? 1 : 0)));
    return where(visible, softmax(where(visible, s, -Infinity), -1), 0);
  });
}

/**
 * Scaled dot-product attention softmax(scale q k^T [causal]) v on [..., T, D] (e.g. [B, H, T, D],
 * or [S, B, H, T, D] with an ensemble axis). The fused primitive (kernels saving the logsumexp),
 * with the head dim zero-padded to a multiple of 4 for the GPU kernels (the zeros add exactly 0 to
 * every score); the composed path when asked or when D exceeds the kernels' limit (causal:
 * causalAttention below). Both twice differentiable; both skip masked keys as the reference does.
 */
export function scaledDotProductAttention<A extends T>(q: A, k: A, v: A, opts: AttentionOptions = {}): A {
  const p = attentionParams(q, k, v, opts);
  const D = q.shape[q.shape.length - 1];
  const gpu = q instanceof Tensor;
  if (opts.composed || (gpu && D > MAX_FUSED_HEAD_DIM)) {
    return tidy(() => (p.causal ? causalAttention(q, k, v, p.scale) : matmul(attentionProbs(q, k, p), v)));
  }
  if (gpu && D % 4 !== 0) return tidy(() => slice(apply('attention', [q, k, v].map(padHeadDim), p) as A, -1, 0, D));
  return apply('attention', [q, k, v], p);
}

/*
 * Composed causal attention, softmax(scale q k^T, key j visible to query i iff j <= i) v,
 * with masked (future) keys taking no part, as in the f64 reference (src/reference/attention.ts):
 * a NaN or Inf in a future key's k or v reaches no earlier row, forward or backward, and a row
 * whose visible scores are all -Inf is NaN.
 * A plain matmul cannot skip a pair: 0 * NaN is NaN. So queries go in blocks of QUERY_BLOCK rows.
 * The keys before the block are visible to all its rows: plain matmuls. The keys inside it (the
 * diagonal) are multiplied pair by pair, [block, keys, D], with both factors set to 0 by `where`
 * at masked pairs (a select, in the forward and in its gradient, so no masked value is ever
 * multiplied). Masked scores are -Inf, their probabilities set to 0 by `where`. Memory per block:
 * QUERY_BLOCK^2 * D per batch-head. Cost: forward and backward at [4, 4, 256, 320] took ~13 s
 * against ~1-3 s for matmul(softmax(masked scores), v) on lavapipe (8-row blocks measured best of
 * 4, 8, 16, 32): the path of composed: true and of head dims above the fused kernels' limit.
 */

/** Query rows per block (the diagonal products are QUERY_BLOCK x QUERY_BLOCK x D). */
const QUERY_BLOCK = 8;

/** sum_d a[..., i, d] * b[..., j, d] over the pairs where mask[i, j] ([rows, cols, 1]), 0 elsewhere. */
function maskedPairDot<A extends T>(a: A, b: A, mask: A): A {
  return sum(mul(where(mask, unsqueeze(a, -2), 0), where(mask, unsqueeze(b, -3), 0)), -1);
}

/** out[..., i, :] = sum_j p[..., i, j] v[..., j, :] over the pairs where mask[i, j] ([rows, cols, 1]). */
function maskedPairMatmul<A extends T>(p: A, v: A, mask: A): A {
  return sum(mul(where(mask, unsqueeze(p, -1), 0), where(mask, unsqueeze(v, -3), 0)), -2);
}

/** Causal attention of q [..., Tq, D] over k, v [..., Tk, D] (see the file comment). */
function causalAttention<A extends T>(q: A, k: A, v: A, scale: number): A {
  const r = q.shape.length;
  const tq = q.shape[r - 2];
  const tk = k.shape[r - 2];
  const blocks: A[] = [];
  for (let a = 0; a < tq; a += QUERY_BLOCK) {
    const b = Math.min(tq, a + QUERY_BLOCK);
    const rows = b - a;
    const qb = slice(q, -2, a, b);
    const full = Math.min(a, tk); // keys [0, full): visible to every row of the block
    const diag = Math.min(b, tk) - full; // keys [full, full + diag): visible to row i iff key <= i
    if (diag === 0) {
      blocks.push(matmul(softmax(mul(matmul(qb, k, { transB: true }), scale), -1), v));
      continue;
    }
    const cells = Array.from({ length: rows * diag }, (_, n) => (full + (n % diag) <= a + Math.floor(n / diag) ? 1 : 0));
    const visible = constantLike(q, [rows, diag], cells);
    const pairs = constantLike(q, [rows, diag, 1], cells);
    const kd = slice(k, -2, full, full + diag);
    const vd = slice(v, -2, full, full + diag);
    const sd = where(visible, mul(maskedPairDot(qb, kd, pairs), scale), -Infinity);
    const s = full > 0 ? concat([mul(matmul(qb, slice(k, -2, 0, full), { transB: true }), scale), sd], -1) : sd;
    const p = softmax(s, -1);
    const od = maskedPairMatmul(slice(p, -1, full, full + diag), vd, pairs);
    blocks.push(full > 0 ? add(matmul(slice(p, -1, 0, full), slice(v, -2, 0, full)), od) : od);
  }
  return blocks.length === 1 ? blocks[0] : concat(blocks, -2);
}

/** x [..., D] with zero columns appended up to the next multiple of 4. */
function padHeadDim<A extends T>(x: A): A {
  const shape = [...x.shape];
  shape[shape.length - 1] = 4 - (shape[shape.length - 1] % 4);
  return concat([x, constantLike(x, shape, 0)], -1);
}

export {
  rowVariant, layerNormBackward, rmsNormBackward,
  type NormOptions, type LayerNormResult, type RmsNormResult, type NormBackwardOptions, type NormGrads, type RowVariant,
} from '../ops/norm.js';
export { crossEntropyBackward, checkLabels, mseLossBackward, type CrossEntropyOptions, type CrossEntropyResult } from '../ops/loss.js';
export { checkIndices, memberRows, type EmbeddingBackwardVariant } from '../ops/embedding.js';
export { checkActivation } from '../ops/matmul.js';
// raw attention launchers (not differentiable), for when src/ops/index.ts exports them
export {
  attentionForward, attentionBackward, attentionComposed, attentionComposedBackward, attentionDims, attentionFlops,
  MAX_FUSED_HEAD_DIM,
} from '../ops/attention.js';
export * from '../ops/optim.js';
// kernel selection and geometry helpers of the raw matmul and conv2d launchers (not ops)
export { MATMUL_KERNELS, chooseMatmulConfig, kernelBiasMode, tuneMatmul, vec4Eligible } from '../ops/matmul.js';
export { CONV2D_TILES, conv2dFlops, conv2dGeometry, conv2dGradBias, conv2dKernelName, selectConvTile, specializeKernel } from '../ops/conv2d.js';
