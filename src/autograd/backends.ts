/**
 * @file The two places a primitive's forward runs: the GPU (the raw launchers of src/ops, f32)
 * and the f64 reference (src/reference). Both tables are typed over every primitive.
 */
import * as raw from '../ops/index.js';
import { binaryRef, unaryRef, whereRef } from '../reference/elementwise.js';
import { concatRef, permuteRef, reduceRef, sliceRef } from '../reference/reduce.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from '../ops/conv2d.js';
import { matmul } from '../ops/matmul.js';
import { matmulRef } from '../reference/matmul.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef } from '../reference/conv.js';
import { mapBroadcast, ndZeros, type NDArray } from '../reference/ndarray.js';
import { keep } from '../tensor/scope.js';
import { fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor, type GradNode } from '../tensor/tensor.js';
import { F64Tensor } from './f64.js';
import {
  COMPARE_BINARY, SMOOTH_BINARY, SMOOTH_UNARY, STEP_UNARY,
  type GradTensor, type NormParams, type Operand, type Primitive, type PrimitiveParams,
} from './primitives.js';
import { embedding, embeddingBackward } from '../ops/embedding.js';
import { crossEntropy, crossEntropyBackward } from '../ops/loss.js';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from '../ops/norm.js';
import { attentionBackward, attentionForward } from '../ops/attention.js';
import { embeddingBackwardRef, embeddingRef } from '../reference/embedding.js';
import { crossEntropyBackwardRef, crossEntropyRef } from '../reference/loss.js';
import { normBackwardRef, normRef } from '../reference/norm.js';
import { attentionBackwardRef, attentionRef } from '../reference/attention.js';

/** A tape node as the backends see it: a GradNode that counts the tensors referring to it. */
export interface CountedNode extends GradNode {
  refs: number;
}

/** A forward that also hands tensors to its rule (a fused kernel's logsumexp, mean, rstd). */
export interface WithSaved<A> {
  out: A;
  saved: A[];
}

export type Forward<A> = { [P in Primitive]: (xs: readonly Operand<A>[], params: PrimitiveParams[P]) => A | WithSaved<A> };

/**
 * The first-order backward of the fused primitives on each backend (GPU: the fused backward
 * kernels; f64: the reference backward). Not recorded: rules use them only when the backward is
 * not being recorded (no createGraph); otherwise they compose the gradient from primitives.
 */
export interface FusedBackward<A> {
  crossEntropy(g: A, logits: A, labels: A, lse: A, reduction: PrimitiveParams['crossEntropy']['reduction']): A;
  /** dx, dweight (when wantWeight), dbias (when wantBias), dweight/dbias in the normalized shape. */
  norm(
    kind: 'layerNorm' | 'rmsNorm', g: A, x: A, saved: readonly A[], p: NormParams, weight: A | null,
    wantWeight: boolean, wantBias: boolean,
  ): [A, A | null, A | null];
  attention(g: A, q: A, k: A, v: A, out: A, lse: A, p: PrimitiveParams['attention']): [A, A, A];
  /** g * act'(...) in one op: relu and gelu from the input x, tanh from the output y. */
  activation(kind: 'relu' | 'tanh' | 'gelu', g: A, saved: A): A;
}

export interface Backend<A extends GradTensor> {
  readonly name: 'gpu' | 'f64';
  readonly forward: Forward<A>;
  readonly fused: FusedBackward<A>;
  /**
   * Another handle on x's values carrying `node` (counted as one more reference to it). No
   * scope owns it unless `scoped`: the tape keeps these, so `tidy` can free what a user sees.
   */
  alias(x: A, node: CountedNode | null, scoped?: boolean): A;
  /** A constant tensor of `shape` on the backend (and device) of `like`. */
  constant(like: A, shape: Shape, values: number | ArrayLike<number>): A;
  /** Values as f64 (GPU: an async readback). */
  read(x: A): Promise<Float64Array>;
}

type Some<K extends Primitive, A> = { [P in K]: (xs: readonly Operand<A>[], params: PrimitiveParams[P]) => A };
function each<K extends Primitive, A>(names: readonly K[], f: (name: K) => Forward<A>[K]): Some<K, A> {
  return Object.fromEntries(names.map((n) => [n, f(n)])) as unknown as Some<K, A>;
}

// ---------------------------------------------------------------- GPU (f32)

/** The optional [weight, bias] of a norm primitive's inputs [x, weight?, bias?]. */
function affine<A>(xs: readonly A[], p: NormParams): [A | null, A | null] {
  return [p.weight ? xs[1] : null, p.bias ? xs[p.weight ? 2 : 1] : null];
}

const T = (x: Operand<Tensor>): Tensor => x as Tensor;

function gpuWhere(xs: readonly Operand<Tensor>[]): Tensor {
  const like = xs.find((x): x is Tensor => typeof x !== 'number')!;
  const made: Tensor[] = [];
  const t = xs.map((x) => (typeof x === 'number' ? (made[made.length] = raw.full([], x, { device: like.device })) : x));
  const out = raw.where(t[0], t[1], t[2]);
  for (const m of made) m.dispose();
  return out;
}

export const gpu: Backend<Tensor> = {
  name: 'gpu',
  forward: {
    ...each([...SMOOTH_UNARY, ...STEP_UNARY], (op) => (xs) => raw.unary(op, T(xs[0]))),
    ...each([...SMOOTH_BINARY, ...COMPARE_BINARY], (op) => (xs) => raw.binary(op, xs[0], xs[1])),
    where: gpuWhere,
    sum: (xs, p) => raw.reduce('sum', T(xs[0]), p.axes, p.keepdims),
    mean: (xs, p) => raw.reduce('mean', T(xs[0]), p.axes, p.keepdims),
    max: (xs, p) => raw.reduce('max', T(xs[0]), p.axes, p.keepdims),
    min: (xs, p) => raw.reduce('min', T(xs[0]), p.axes, p.keepdims),
    reshape: (xs, p) => T(xs[0]).reshape(p.shape),
    permute: (xs, p) => raw.permute(T(xs[0]), p.axes),
    slice: (xs, p) => raw.slice(T(xs[0]), p.axis, p.start, p.end),
    concat: (xs, p) => raw.concat(xs as Tensor[], p.axis),
    expand: (xs, p) => raw.expand(T(xs[0]), p.shape),
    contiguous: (xs) => raw.contiguous(T(xs[0])),
    matmul: (xs, p) => matmul(T(xs[0]), T(xs[1]), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: p.bias ? T(xs[2]) : undefined }),
    conv2d: (xs, p) => conv2d(T(xs[0]), T(xs[1]), p.bias ? T(xs[2]) : null, p),
    conv2dGradInput: (xs, p) => conv2dGradInput(T(xs[0]), T(xs[1]), p.inputShape, p),
    conv2dGradWeight: (xs, p) => conv2dGradWeight(T(xs[0]), T(xs[1]), p.weightShape, p),
    embedding: (xs) => embedding(T(xs[0]), T(xs[1])),
    embeddingBackward: (xs, p) => embeddingBackward(T(xs[0]), T(xs[1]), p.vocab),
    crossEntropy: (xs, p) => {
      const { loss, lse } = crossEntropy(T(xs[0]), T(xs[1]), { reduction: p.reduction });
      return { out: loss, saved: [lse] };
    },
    layerNorm: (xs, p) => {
      const [w, b] = affine(xs as Tensor[], p);
      const { y, mean, rstd } = layerNorm(T(xs[0]), p.normalizedShape, w, b, { eps: p.eps });
      return { out: y, saved: [mean, rstd] };
    },
    rmsNorm: (xs, p) => {
      const { y, rstd } = rmsNorm(T(xs[0]), p.normalizedShape, affine(xs as Tensor[], p)[0], { eps: p.eps });
      return { out: y, saved: [rstd] };
    },
    attention: (xs, p) => {
      const { out, lse } = attentionForward(T(xs[0]), T(xs[1]), T(xs[2]), p);
      return { out, saved: [lse] };
    },
  },
  fused: {
    crossEntropy: (g, logits, labels, lse, reduction) => crossEntropyBackward(g, logits, labels, lse, { reduction }),
    norm(kind, g, x, saved, p, weight, wantWeight, wantBias) {
      const opts = { weightGrad: wantWeight && !!weight };
      const r = kind === 'layerNorm'
        ? layerNormBackward(g, x, { mean: saved[0], rstd: saved[1] }, p.normalizedShape, weight, { ...opts, biasGrad: wantBias })
        : rmsNormBackward(g, x, { rstd: saved[0] }, p.normalizedShape, weight, opts);
      return [r.dx, r.dweight, r.dbias];
    },
    activation: (kind, g, saved) => raw.binary(`${kind}Backward`, g, saved),
    attention(g, q, k, v, out, lse, p) {
      const { dq, dk, dv } = attentionBackward(q, k, v, out, lse, g, p);
      return [dq, dk, dv];
    },
  },
  alias(x, node, scoped = false) {
    const s = x.storage('autograd');
    s.refs++;
    const view = new Tensor(s, x.shape, x.dtype);
    if (!scoped) keep(view);
    view.node = node;
    if (node) node.refs++;
    return view;
  },
  constant(like, shape, values) {
    if (typeof values === 'number') return raw.full(shape, values, { device: like.device });
    return raw.fromArray(Float32Array.from(values), shape, { device: like.device });
  },
  async read(x) {
    return Float64Array.from(await x.data());
  },
};

// ---------------------------------------------------------------- f64 reference

function nd(x: Operand<F64Tensor>, op: string): NDArray {
  if (typeof x === 'number') return { shape: [], data: Float64Array.of(x) };
  if (x.disposed) throw new Error(`${op}: ${x} was disposed`);
  return x.nd;
}
const F = (a: NDArray) => F64Tensor.fromNd(a);

/** LayerNorm / RMSNorm on the reference; mean and rstd saved in the leading axes' shape. */
function normF64(kind: 'layer' | 'rms', xs: readonly F64Tensor[], p: NormParams): WithSaved<F64Tensor> {
  const [w, b] = affine(xs, p);
  const x = nd(xs[0], `${kind}Norm`);
  const r = normRef(kind, x, sizeOf(p.normalizedShape), w ? w.nd : null, b ? b.nd : null, p.eps);
  const lead = x.shape.slice(0, x.shape.length - p.normalizedShape.length);
  const saved = kind === 'layer' ? [r.mean, r.rstd] : [r.rstd];
  return { out: F(r.y), saved: saved.map((s) => new F64Tensor(lead, s.data)) };
}

export const f64: Backend<F64Tensor> = {
  name: 'f64',
  forward: {
    ...each([...SMOOTH_UNARY, ...STEP_UNARY], (op) => (xs) => F(unaryRef(op, nd(xs[0], op)))),
    ...each([...SMOOTH_BINARY, ...COMPARE_BINARY], (op) => (xs) => F(binaryRef(op, nd(xs[0], op), nd(xs[1], op)))),
    where: (xs) => F(whereRef(nd(xs[0], 'where'), nd(xs[1], 'where'), nd(xs[2], 'where'))),
    sum: (xs, p) => F(reduceRef('sum', nd(xs[0], 'sum'), p.axes, p.keepdims)),
    mean: (xs, p) => F(reduceRef('mean', nd(xs[0], 'mean'), p.axes, p.keepdims)),
    max: (xs, p) => F(reduceRef('max', nd(xs[0], 'max'), p.axes, p.keepdims)),
    min: (xs, p) => F(reduceRef('min', nd(xs[0], 'min'), p.axes, p.keepdims)),
    reshape: (xs, p) => new F64Tensor(p.shape, nd(xs[0], 'reshape').data),
    permute: (xs, p) => F(permuteRef(nd(xs[0], 'permute'), p.axes)),
    slice: (xs, p) => F(sliceRef(nd(xs[0], 'slice'), p.axis, p.start, p.end)),
    concat: (xs, p) => F(concatRef(xs.map((x) => nd(x, 'concat')), p.axis)),
    expand: (xs, p) => F(mapBroadcast('expand', [nd(xs[0], 'expand'), ndZeros(p.shape)], (v) => v)),
    contiguous: (xs) => {
      const a = nd(xs[0], 'contiguous');
      return new F64Tensor(a.shape, a.data.slice());
    },
    matmul: (xs, p) =>
      F(matmulRef(nd(xs[0], 'matmul'), nd(xs[1], 'matmul'), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: p.bias ? nd(xs[2], 'matmul') : undefined })),
    conv2d: (xs, p) => {
      const y = conv2dRef(nd(xs[0], 'conv2d'), nd(xs[1], 'conv2d'), null, p);
      return F(p.bias ? binaryRef('add', y, nd(xs[2], 'conv2d')) : y);
    },
    conv2dGradInput: (xs, p) => F(conv2dGradInputRef(nd(xs[0], 'conv2dGradInput'), nd(xs[1], 'conv2dGradInput'), p.inputShape, p)),
    conv2dGradWeight: (xs, p) => F(conv2dGradWeightRef(nd(xs[0], 'conv2dGradWeight'), nd(xs[1], 'conv2dGradWeight'), p.weightShape, p)),
    embedding: (xs) => {
      const idx = nd(xs[1], 'embedding');
      return F(embeddingRef(nd(xs[0], 'embedding'), idx.data, idx.shape));
    },
    embeddingBackward: (xs, p) => F(embeddingBackwardRef(nd(xs[0], 'embeddingBackward'), nd(xs[1], 'embeddingBackward').data, p.vocab)),
    crossEntropy: (xs, p) => {
      const labels = nd(xs[1], 'crossEntropy');
      const { loss, lse } = crossEntropyRef(nd(xs[0], 'crossEntropy'), labels.data, p.reduction);
      return { out: F(loss), saved: [new F64Tensor(labels.shape, lse.data)] };
    },
    layerNorm: (xs, p) => normF64('layer', xs as F64Tensor[], p),
    rmsNorm: (xs, p) => normF64('rms', xs as F64Tensor[], p),
    attention: (xs, p) => {
      const { out, lse } = attentionRef(nd(xs[0], 'attention'), nd(xs[1], 'attention'), nd(xs[2], 'attention'), p);
      return { out: F(out), saved: [F(lse)] };
    },
  },
  fused: {
    crossEntropy: (g, logits, labels, _lse, reduction) => F(crossEntropyBackwardRef(g.nd, logits.nd, labels.data, reduction)),
    norm(kind, g, x, _saved, p, weight, wantWeight, wantBias) {
      const d = sizeOf(p.normalizedShape);
      const r = normBackwardRef(kind === 'layerNorm' ? 'layer' : 'rms', g.nd, x.nd, d, weight?.nd ?? null, p.eps);
      const norm = (a: NDArray) => new F64Tensor(p.normalizedShape, a.data);
      return [F(r.dx), wantWeight ? norm(r.dweight) : null, wantBias ? norm(r.dbias) : null];
    },
    activation: (kind, g, saved) => F(binaryRef(`${kind}Backward`, g.nd, saved.nd)),
    attention(g, q, k, v, _out, _lse, p) {
      const { dq, dk, dv } = attentionBackwardRef(q.nd, k.nd, v.nd, g.nd, p);
      return [F(dq), F(dk), F(dv)];
    },
  },
  alias(x, node) {
    if (x.disposed) throw new Error(`autograd: ${x} was disposed`);
    const view = new F64Tensor(x.shape, x.data);
    view.node = node;
    if (node) node.refs++;
    return view;
  },
  constant(_like, shape, values) {
    const n = sizeOf(shape);
    if (typeof values === 'number') return new F64Tensor(shape, new Float64Array(n).fill(values));
    if (values.length !== n) throw new Error(`constant: ${values.length} values for shape ${fmt(shape)}`);
    return new F64Tensor(shape, Float64Array.from(values));
  },
  async read(x) {
    return x.data;
  },
};

/** The backend of the tensors among `xs` (all must agree). */
export function backendOf(op: string, xs: readonly Operand<GradTensor>[]): Backend<GradTensor> {
  let found: Backend<GradTensor> | null = null;
  for (const x of xs) {
    if (typeof x === 'number') continue;
    const b = (x instanceof F64Tensor ? f64 : x instanceof Tensor ? gpu : null) as Backend<GradTensor> | null;
    if (!b) throw new Error(`${op}: expected a Tensor or F64Tensor, got ${String(x)}`);
    if (found && found !== b) throw new Error(`${op}: mixes GPU tensors and f64 reference tensors`);
    found = b;
  }
  if (!found) throw new Error(`${op}: at least one operand must be a tensor`);
  return found;
}
