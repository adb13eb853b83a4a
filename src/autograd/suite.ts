/**
 * @file The gradcheck cases, collected: every primitive's (from its family, primitives/index.ts)
 * and the composites' (small models and composed ops). `widthscope gradcheck` runs them
 * (src/cli/gradcheck.ts), and so do the tests.
 */
import type { Case, GradTensor } from './primitive.js';
import { indicesLike } from './backends.js';
import { compositeCases } from './composites.js';
import { add, gelu, sub, square, tanh } from './primitives/elementwise.js';
import { mean, sum } from './primitives/reduce.js';
import { matmul } from './primitives/matmul.js';
import { conv2d } from './primitives/conv.js';
import { embedding } from './primitives/embedding.js';
import { crossEntropy } from './primitives/loss.js';
import { layerNorm, rmsNorm } from './primitives/norm.js';
import { scaledDotProductAttention } from './primitives/attention.js';

export { PRIMITIVE_CASES, FUSED_PRIMITIVES } from './primitives/index.js';
export type { Case, InputSpec } from './primitive.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type X = any;

/** y = x W + b. */
export function linear<A extends GradTensor>(x: A, w: A, b: A): A {
  return matmul(x, w, { bias: b });
}

/** A two-layer MLP with a mean squared loss against `target` (one element). */
export function mlpLoss<A extends GradTensor>(x: A, w1: A, b1: A, w2: A, b2: A, target: A, act: (h: A) => A = tanh): A {
  const h = act(linear(x, w1, b1));
  return mean(square(sub(linear(h, w2, b2), target)));
}

/** conv (3x3, pad 1) -> tanh -> mean over space -> squared norm: a small CNN's loss (one element). */
export function cnnLoss<A extends GradTensor>(x: A, w: A, b: A): A {
  const h = tanh(conv2d(x, w, b, { padding: 1 }));
  return sum(square(mean(h, [1, 2])));
}

/** A tiny transformer block's loss: embedding, layerNorm, causal attention, rmsNorm, crossEntropy (one element). */
export function transformerLoss<A extends GradTensor>(table: A, wq: A, wk: A, wv: A, g: A, b: A, wout: A): A {
  const tokens = indicesLike(table, [2, 3], [1, 4, 2, 0, 0, 3]);
  const targets = indicesLike(table, [2, 3], [4, 2, 0, 0, 3, 1]);
  const x = embedding(table, tokens); // [2, 3, 4]
  const h = layerNorm(x, 4, g, b);
  const a = scaledDotProductAttention(matmul(h, wq), matmul(h, wk), matmul(h, wv), { causal: true });
  const y = rmsNorm(add(x, a), 4);
  return crossEntropy(matmul(y, wout), targets);
}

export const COMPOSITE_CASES: Case[] = [
  {
    name: 'transformer block (embedding, layerNorm, attention, rmsNorm, crossEntropy)',
    inputs: [
      { shape: [5, 4] }, { shape: [4, 4], lo: -1, hi: 1 }, { shape: [4, 4], lo: -1, hi: 1 }, { shape: [4, 4], lo: -1, hi: 1 },
      { shape: [4], lo: 0.5, hi: 1.5 }, { shape: [4] }, { shape: [4, 5], lo: -1, hi: 1 },
    ],
    fn: (...xs: X[]) => (transformerLoss as (...a: X[]) => X)(...xs),
  },
  {
    name: 'CNN (conv-tanh-pool) loss',
    inputs: [{ shape: [2, 5, 5, 2] }, { shape: [3, 3, 2, 3], lo: -0.5, hi: 0.5 }, { shape: [3] }],
    fn: (x: X, w: X, b: X) => cnnLoss(x, w, b),
  },
  {
    // the composed causal path (query blocks, masked pair products), also in f64
    name: 'attention composed, causal, D 6, 5 queries by 4 keys',
    inputs: [{ shape: [1, 5, 6] }, { shape: [1, 4, 6] }, { shape: [1, 4, 6] }],
    fn: (q: X, k: X, v: X) => scaledDotProductAttention(q, k, v, { causal: true, composed: true }),
  },
  ...compositeCases,
  {
    name: 'MLP (tanh) loss',
    inputs: [{ shape: [4, 3] }, { shape: [3, 5], lo: -1, hi: 1 }, { shape: [5] }, { shape: [5, 2], lo: -1, hi: 1 }, { shape: [2] }, { shape: [4, 2] }],
    fn: (x: X, w1: X, b1: X, w2: X, b2: X, t: X) => mlpLoss(x, w1, b1, w2, b2, t),
  },
  {
    name: 'MLP (gelu) loss',
    inputs: [{ shape: [4, 3] }, { shape: [3, 5], lo: -1, hi: 1 }, { shape: [5] }, { shape: [5, 2], lo: -1, hi: 1 }, { shape: [2] }, { shape: [4, 2] }],
    fn: (x: X, w1: X, b1: X, w2: X, b2: X, t: X) => mlpLoss(x, w1, b1, w2, b2, t, gelu),
  },
];

