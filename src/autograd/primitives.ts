/**
 * @file The differentiable primitives, declared once: every other differentiable op is composed
 * from these (tinygrad style) and inherits its gradient. Adding a primitive here makes the
 * compiler ask for its forward on each backend (backends.ts), its rule (rules.ts) and its
 * gradcheck case (suite.ts).
 */
import type { GradNode } from '../tensor/tensor.js';
import type { CompareBinary, SmoothBinary, SmoothUnary, StepUnary } from '../ops/elementwise-table.js';

export {
  COMPARE_BINARY, SMOOTH_BINARY, SMOOTH_UNARY, STEP_UNARY,
  type CompareBinary, type SmoothBinary, type SmoothUnary, type StepUnary,
} from '../ops/elementwise-table.js';

/** Axes normalized (non-negative, sorted, unique) before a reduction is recorded. */
export interface ReduceParams {
  axes: number[];
  keepdims: boolean;
}

type NoParams = Record<string, never>;

/** Convolution geometry, resolved to pairs (src/ops/conv2d.ts: NHWC input, HWIO weight). */
export interface ConvParams {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  /** Channel groups (weight [KH, KW, Cin / groups, Cout]); 1 for a dense convolution. */
  groups: number;
}

/** Each primitive and its (normalized) parameters: the single declaration of the set. */
export type PrimitiveParams = { [K in SmoothUnary | StepUnary | SmoothBinary | CompareBinary]: NoParams } & {
  /** cond != 0 ? a : b, broadcast together; inputs [cond, a, b]. */
  where: NoParams;
  sum: ReduceParams;
  mean: ReduceParams;
  max: ReduceParams;
  min: ReduceParams;
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
  /**
   * alpha * op(a) @ op(b) (+ bias) (op: transpose of the last two axes or not), batch axes
   * broadcast; operands of rank >= 2. With `bias`, inputs [a, b, bias]: bias [N] or [...batch, 1, N].
   */
  matmul: { transA: boolean; transB: boolean; alpha: number; bias: boolean };
  /**
   * conv2d(x, w) (+ bias): with `bias`, inputs [x, w, bias], bias [Cout] (or [S, 1, 1, 1, Cout]
   * for an ensemble), added by the kernel.
   */
  conv2d: ConvParams & { bias: boolean };
  /** The adjoint of conv2d in x: inputs [dy, w], output of `inputShape`. */
  conv2dGradInput: ConvParams & { inputShape: number[] };
  /** The adjoint of conv2d in w: inputs [x, dy], output of `weightShape`. */
  conv2dGradWeight: ConvParams & { weightShape: number[] };
  /** table[indices]: inputs [table [V, D], indices (i32 on the GPU; integer-valued F64Tensor)]. */
  embedding: NoParams;
  /** The adjoint of embedding in the table: inputs [dout [..., D], indices], output [vocab, D]. */
  embeddingBackward: { vocab: number };
  /** Softmax cross-entropy: inputs [logits [..., C], labels [...]]; saves the per-row logsumexp. */
  crossEntropy: { reduction: 'mean' | 'sum' | 'none' };
  /** LayerNorm over the trailing axes: inputs [x, weight?, bias?]; saves per-row mean and rstd. */
  layerNorm: NormParams;
  /** RMSNorm over the trailing axes: inputs [x, weight?]; saves per-row rstd. */
  rmsNorm: NormParams;
  /** softmax(scale q k^T [causal]) v: inputs [q, k, v] ([..., T, D]); saves the per-row logsumexp. */
  attention: { causal: boolean; scale: number };
};

/** A fused norm's resolved parameters; which optional inputs are present. */
export interface NormParams {
  normalizedShape: number[];
  eps: number;
  weight: boolean;
  bias: boolean;
}

export type Primitive = keyof PrimitiveParams;

/**
 * What the tape needs of a tensor; GPU tensors (src/tensor/tensor.ts) and f64 reference
 * tensors (f64.ts) both provide it, so rules and composites run on either.
 */
export interface GradTensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: string;
  requiresGrad: boolean;
  grad: GradTensor | null;
  node: GradNode | null;
  readonly disposed: boolean;
  dispose(): void;
}

/** Binary primitives take a plain number on either side (a constant, never differentiated). */
export type Operand<A> = A | number;
