/**
 * @file The matmul primitive (alpha op(a) @ op(b) + bias: src/ops/matmul.ts on the GPU), its
 * rule and cases, and the differentiable `matmul` (1-D operands, any bias, an activation; the
 * kernel's fused epilogue when nothing is recorded).
 */
import { checkActivation, kernelBiasMode, matmul as rawMatmul } from '../../ops/matmul.js';
import { matmulRef } from '../../reference/matmul.js';
import { tidy } from '../../tensor/scope.js';
import { broadcastShapes } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { nd } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor } from '../primitive.js';
import { apply, isGradEnabled, isTracked } from '../tape.js';
import { add, unary } from './elementwise.js';
import { reshape, squeeze, unsqueeze } from './layout.js';

type T = GradTensor;

export interface MatmulParams {
  /**
   * alpha * op(a) @ op(b) (+ bias) (op: transpose of the last two axes or not), batch axes
   * broadcast; operands of rank >= 2. With `bias`, inputs [a, b, bias]: bias [N] or [...batch, 1, N].
   */
  matmul: { transA: boolean; transB: boolean; alpha: number; bias: boolean };
}

/**
 * d op(B) for a matrix B shared by every batch of A ([..., M, K] x [K, N], a layer applied to a
 * [B, T, n] input): one matmul over the flattened rows (K = batch * M) instead of a batched
 * product the tape then sums over the batch. Null where it does not apply.
 */
function sharedWeightGrad<A extends T>(
  g: A, a: A, sa: readonly number[], sb: readonly number[], tA: boolean, tB: boolean, alpha: number,
): A | null {
  if (tA || sb.length !== 2 || sa.length < 3) return null;
  const af = reshape(a, [-1, sa[sa.length - 1]]);
  const gf = reshape(g, [-1, g.shape[g.shape.length - 1]]);
  return tB ? matmul(gf, af, { transA: true, alpha }) : matmul(af, gf, { transA: true, alpha });
}

const G = (x: unknown) => x as Tensor;

export const MATMUL = definePrimitives<MatmulParams>({
  matmul: {
    gpu: (xs, p) => rawMatmul(G(xs[0]), G(xs[1]), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: p.bias ? G(xs[2]) : undefined }),
    f64: (xs, p) =>
      F64Tensor.fromNd(matmulRef(nd(xs[0], 'matmul'), nd(xs[1], 'matmul'), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: p.bias ? nd(xs[2], 'matmul') : undefined })),
    // C = alpha op(A) op(B) + bias: d op(A) = alpha g op(B)^T, d op(B) = alpha op(A)^T g (transposed
    // operands get the transpose of that), d bias = g (the tape sums it to the bias's shape)
    rule: (g, { inputs: [a, b], shapes: [sa, sb], params: { transA: tA, transB: tB, alpha, bias }, needs }) => [
      !needs[0] ? null : tA ? matmul(b as typeof g, g, { transA: tB, transB: true, alpha }) : matmul(g, b as typeof g, { transB: !tB, alpha }),
      !needs[1] ? null : sharedWeightGrad(g, a as typeof g, sa, sb, tA, tB, alpha) ??
        (tB ? matmul(g, a as typeof g, { transA: true, transB: tA, alpha }) : matmul(a as typeof g, g, { transA: !tA, alpha })),
      ...(bias ? [needs[2] ? g : null] : []),
    ],
  },
});

// ---------------------------------------------------------------- differentiable op

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
export function kernelBias<A extends T>(a: A, b: A, bias: A | undefined, transB: boolean): boolean {
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
    let y: A = apply(MATMUL.matmul, fuseBias ? [a2, b2, opts.bias as A] : [a2, b2], {
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

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const MATMUL_CASES: Cases<MatmulParams> = {
  matmul: [
    { name: 'matmul [3, 4] @ [4, 5]', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], fn: (a: V, b: V) => matmul(a, b) },
    { name: 'matmul A^T B^T', inputs: [{ shape: [4, 3] }, { shape: [5, 4] }], fn: (a: V, b: V) => matmul(a, b, { transA: true, transB: true }) },
    { name: 'matmul batch broadcast [2, 3, 4] @ [4, 2]', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }], fn: (a: V, b: V) => matmul(a, b) },
    { name: 'matmul shared B^T [2, 2, 3, 4] @ [5, 4]^T', inputs: [{ shape: [2, 2, 3, 4] }, { shape: [5, 4] }], fn: (a: V, b: V) => matmul(a, b, { transB: true }) },
    { name: 'matmul [1, 3, 4]^T.. [2, 3, 5] transA', inputs: [{ shape: [1, 3, 4] }, { shape: [2, 3, 5] }], fn: (a: V, b: V) => matmul(a, b, { transA: true }) },
    { name: 'matmul vector [4] @ [4, 3] + bias, tanh', inputs: [{ shape: [4] }, { shape: [4, 3] }, { shape: [3] }], fn: (a: V, b: V, c: V) => matmul(a, b, { bias: c, activation: 'tanh' }) },
    { name: 'matmul [3, 4] @ vector [4]', inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (a: V, b: V) => matmul(a, b) },
    // scale and bias inside the primitive (the kernel's epilogue)
    { name: 'matmul alpha -0.7 + bias [5]', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }], fn: (a: V, b: V, c: V) => matmul(a, b, { alpha: -0.7, bias: c }) },
    {
      name: 'matmul A^T B^T alpha 2 + bias [5]',
      inputs: [{ shape: [4, 3] }, { shape: [5, 4] }, { shape: [5] }],
      fn: (a: V, b: V, c: V) => matmul(a, b, { transA: true, transB: true, alpha: 2, bias: c }),
    },
    {
      name: 'matmul batched, one bias row per batch [2, 1, 5], alpha 1.5',
      inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }, { shape: [2, 1, 5] }],
      fn: (a: V, b: V, c: V) => matmul(a, b, { alpha: 1.5, bias: c }),
    },
    {
      name: 'matmul shared weight (flattened dW) alpha 0.5 + bias [5]',
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      fn: (a: V, b: V, c: V) => matmul(a, b, { alpha: 0.5, bias: c }),
    },
  ],
};
