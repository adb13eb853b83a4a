/**
 * @file The fused attention primitive (softmax(scale q k^T [causal]) v: src/ops/attention.ts on
 * the GPU, saving the per-row logsumexp, with a fused backward), its rule and cases, and
 * scaledDotProductAttention (fused, or composed: causal-attention.ts).
 */
import { MAX_FUSED_HEAD_DIM, attentionBackward, attentionForward } from '../../ops/attention.js';
import { attentionBackwardRef, attentionRef } from '../../reference/attention.js';
import { tidy } from '../../tensor/scope.js';
import { fmt, sameShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { constantLike, nd, onBackend } from '../backends.js';
import { causalAttention } from '../causal-attention.js';
import { softmax } from './softmax.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor } from '../primitive.js';
import { apply, isGradEnabled } from '../tape.js';
import { mul, sub, where } from './elementwise.js';
import { concat, slice } from './layout.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';

type T = GradTensor;

export interface AttentionParams {
  /** softmax(scale q k^T [causal]) v: inputs [q, k, v] ([..., T, D]); saves the per-row logsumexp. */
  attention: { causal: boolean; scale: number };
}
type P = AttentionParams['attention'];

/** The fused backward per backend: [dq, dk, dv] (not recorded). */
const fusedBackward = {
  gpu(g: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, p: P): Tensor[] {
    const { dq, dk, dv } = attentionBackward(q, k, v, out, lse, g, p);
    return [dq, dk, dv];
  },
  f64(g: F64Tensor, q: F64Tensor, k: F64Tensor, v: F64Tensor, _out: F64Tensor, _lse: F64Tensor, p: P): F64Tensor[] {
    const { dq, dk, dv } = attentionBackwardRef(q.nd, k.nd, v.nd, g.nd, p);
    return [F64Tensor.fromNd(dq), F64Tensor.fromNd(dk), F64Tensor.fromNd(dv)];
  },
};

export const ATTENTION = definePrimitives<AttentionParams>({
  attention: {
    gpu: (xs, p) => {
      const { out, lse } = attentionForward(xs[0] as Tensor, xs[1] as Tensor, xs[2] as Tensor, p);
      return { out, saved: [lse] };
    },
    f64: (xs, p) => {
      const { out, lse } = attentionRef(nd(xs[0], 'attention'), nd(xs[1], 'attention'), nd(xs[2], 'attention'), p);
      return { out: F64Tensor.fromNd(out), saved: [F64Tensor.fromNd(lse)] };
    },
    /**
     * p = softmax(s), s = scale q k^T (causal: masked), out = p v:
     *   dv = p^T g,  dp = g v^T,  ds = p (dp - rowsum(dp p)),  dq = scale ds k,  dk = scale ds^T q
     * The fused kernels unless the backward is recorded (createGraph), then composed.
     */
    rule: (g, { inputs, out, saved: [lse], params, needs }) => {
      const [q, k, v] = inputs as (typeof g)[];
      if (!isGradEnabled()) {
        const grads = onBackend('attention', g, fusedBackward)(g, q, k, v, out, lse, params) as (typeof g)[];
        return grads.map((d, i) => {
          if (needs[i]) return d;
          d.dispose();
          return null;
        });
      }
      const p = attentionProbs(q, k, params);
      const dv = needs[2] ? matmul(p, g, { transA: true }) : null;
      if (!needs[0] && !needs[1]) return [null, null, dv];
      const dp = matmul(g, v, { transB: true });
      const ds = mul(mul(p, sub(dp, sum(mul(dp, p), -1, true))), params.scale);
      return [needs[0] ? matmul(ds, k) : null, needs[1] ? matmul(ds, q, { transA: true }) : null, dv];
    },
  },
});

// ---------------------------------------------------------------- differentiable ops

export interface AttentionOptions {
  /** Key j visible to query i iff j <= i (PyTorch's top-left alignment). */
  causal?: boolean;
  /** Multiplies q . k; default 1/sqrt(D) (muP: 1/D). */
  scale?: number;
  /** Use the composed path (matmul, mask, softmax, matmul) instead of the fused primitive. */
  composed?: boolean;
}

function attentionParams(q: T, k: T, v: T, opts: AttentionOptions): P {
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
 * every score); the composed path when asked or when D exceeds the kernels' limit (causal: see
 * causal-attention.ts). Both twice differentiable; both skip masked keys as the reference does.
 */
export function scaledDotProductAttention<A extends T>(q: A, k: A, v: A, opts: AttentionOptions = {}): A {
  const p = attentionParams(q, k, v, opts);
  const D = q.shape[q.shape.length - 1];
  const gpu = q instanceof Tensor;
  if (opts.composed || (gpu && D > MAX_FUSED_HEAD_DIM)) {
    return tidy(() => (p.causal ? causalAttention(q, k, v, p.scale) : matmul(attentionProbs(q, k, p), v)));
  }
  if (gpu && D % 4 !== 0) return tidy(() => slice(apply(ATTENTION.attention, [q, k, v].map(padHeadDim), p) as A, -1, 0, D));
  return apply(ATTENTION.attention, [q, k, v], p);
}

/** x [..., D] with zero columns appended up to the next multiple of 4. */
function padHeadDim<A extends T>(x: A): A {
  const shape = [...x.shape];
  shape[shape.length - 1] = 4 - (shape[shape.length - 1] % 4);
  return concat([x, constantLike(x, shape, 0)], -1);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const ATTENTION_CASES: Cases<AttentionParams> = {
  attention: [
    {
      name: 'attention [1, 2, 3, 4] by 5 keys',
      inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 5, 4] }, { shape: [1, 2, 5, 4] }],
      fn: (q: V, k: V, v: V) => scaledDotProductAttention(q, k, v),
    },
    {
      name: 'attention causal, scale 1/D, [2, 4, 4]',
      inputs: [{ shape: [2, 4, 4] }, { shape: [2, 4, 4] }, { shape: [2, 4, 4] }],
      fn: (q: V, k: V, v: V) => scaledDotProductAttention(q, k, v, { causal: true, scale: 0.25 }),
    },
    {
      name: 'attention ensemble [2, 1, 1, 3, 4] causal, 2 keys',
      inputs: [{ shape: [2, 1, 1, 3, 4] }, { shape: [2, 1, 1, 2, 4] }, { shape: [2, 1, 1, 2, 4] }],
      fn: (q: V, k: V, v: V) => scaledDotProductAttention(q, k, v, { causal: true }),
    },
  ],
};
