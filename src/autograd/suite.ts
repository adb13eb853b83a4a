/**
 * @file The gradcheck suite behind `widthscope gradcheck`: cases for every primitive (the table
 * is typed over Primitive, so a new primitive without a case does not compile) and for a few
 * composites; each case is checked in f64 (elements), in f32 on the GPU (directions), GPU
 * backward against the f64 reference backward, and (when twice differentiable) gradgradcheck.
 */
import { fromArray } from '../ops/creation.js';
import type { Device } from '../tensor/device.js';
import { tidyAsync } from '../tensor/scope.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { F64Tensor } from './f64.js';
import { gradcheck, gradgradcheck, type CheckedFn, type GradcheckReport } from './gradcheck.js';
import * as o from './ops.js';
import { COMPARE_BINARY, SMOOTH_BINARY, SMOOTH_UNARY, type GradTensor, type Primitive } from './primitives.js';
import { gradients, isTracked } from './tape.js';
import { mulberry32 } from '../data/prng.js';

export interface InputSpec {
  shape: number[];
  /** Uniform range of the values (default [-2, 2]). */
  lo?: number;
  hi?: number;
}

export interface Case {
  name: string;
  inputs: InputSpec[];
  fn: CheckedFn;
  /** Run gradgradcheck too (default true). */
  twice?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type X = any;

/** Input ranges where each unary function is smooth and well conditioned. */
const UNARY_RANGE: Partial<Record<string, [number, number]>> = {
  log: [0.5, 2], sqrt: [0.5, 2], rsqrt: [0.5, 2], reciprocal: [0.5, 2], log1p: [-0.5, 2], exp: [-2, 2],
};

const unaryCase = (op: (typeof SMOOTH_UNARY)[number]): Case[] => {
  const [lo, hi] = UNARY_RANGE[op] ?? [-2, 2];
  return [{ name: op, inputs: [{ shape: [3, 4], lo, hi }], fn: (x: X) => o.unary(op, x) }];
};

/** A step function: its (zero) gradient seen through x * step(x). */
const stepCase = (name: string, step: (x: X) => X): Case[] => [
  { name: `x * ${name}(x)`, inputs: [{ shape: [3, 4], lo: -2.9, hi: 2.9 }], fn: (x: X) => o.mul(x, step(x)) },
];

const binaryCases = (op: (typeof SMOOTH_BINARY)[number]): Case[] => {
  const pos = op === 'pow' || op === 'div';
  const a = { shape: [3, 4], lo: pos ? 0.5 : -2, hi: 2 };
  const b = { shape: [4], lo: op === 'pow' ? -1.5 : pos ? 0.5 : -2, hi: op === 'pow' ? 1.5 : 2 };
  const cases: Case[] = [
    { name: `${op} [3, 4] by [4]`, inputs: [a, b], fn: (x: X, y: X) => o.binary(op, x, y) },
    { name: `${op} [3, 1] by [1, 4]`, inputs: [{ ...a, shape: [3, 1] }, { ...b, shape: [1, 4] }], fn: (x: X, y: X) => o.binary(op, x, y) },
  ];
  if (op === 'pow') {
    cases.push({ name: 'pow(x, 3)', inputs: [a], fn: (x: X) => o.pow(x, 3) }, { name: 'pow(2, x)', inputs: [b], fn: (x: X) => o.pow(2, x) });
  } else {
    cases.push({ name: `${op}(1.5, x)`, inputs: [pos ? b : a], fn: (x: X) => o.binary(op, 1.5, x) });
  }
  return cases;
};

const compareCase = (op: (typeof COMPARE_BINARY)[number]): Case[] => [
  { name: `where(${op}(a, b), a, b)`, inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (a: X, b: X) => o.where(o.binary(op, a, b), a, b) },
];

const each = <K extends string>(names: readonly K[], f: (k: K) => Case[]) =>
  Object.fromEntries(names.map((n) => [n, f(n)])) as Record<K, Case[]>;

/** Every primitive's cases. */
export const PRIMITIVE_CASES: { [P in Primitive]: Case[] } = {
  ...each(SMOOTH_UNARY, unaryCase),
  ...each(SMOOTH_BINARY, binaryCases),
  ...each(COMPARE_BINARY, compareCase),
  sign: stepCase('sign', o.sign),
  floor: stepCase('floor', o.floor),
  ceil: stepCase('ceil', o.ceil),
  round: stepCase('round', o.round),
  reluMask: stepCase('reluMask', o.reluMask),
  where: [
    {
      name: 'where(c > 0, a, b) broadcast',
      inputs: [{ shape: [3, 1] }, { shape: [3, 4] }, { shape: [4] }],
      fn: (c: X, a: X, b: X) => o.where(o.gt(c, 0), a, b),
    },
    { name: 'where(c > 0, a, 0)', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (c: X, a: X) => o.where(o.gt(c, 0), a, 0) },
  ],
  sum: [
    { name: 'sum over [0, 2]', inputs: [{ shape: [2, 3, 4] }], fn: (x: X) => o.sum(x, [0, 2]) },
    { name: 'sum all', inputs: [{ shape: [3, 4] }], fn: (x: X) => o.sum(x) },
    { name: 'sum axis 1 keepdims', inputs: [{ shape: [3, 4] }], fn: (x: X) => o.sum(x, 1, true) },
  ],
  mean: [
    { name: 'mean over [1]', inputs: [{ shape: [2, 3, 4] }], fn: (x: X) => o.mean(x, 1) },
    { name: 'mean all keepdims', inputs: [{ shape: [3, 4] }], fn: (x: X) => o.mean(x, undefined, true) },
  ],
  max: [{ name: 'max axis 1', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.max(x, 1) }],
  min: [{ name: 'min over [0, 2]', inputs: [{ shape: [2, 3, 4] }], fn: (x: X) => o.min(x, [0, 2]) }],
  reshape: [{ name: 'reshape [3, 4] -> [2, 6]', inputs: [{ shape: [3, 4] }], fn: (x: X) => o.mul(o.reshape(x, [2, 6]), o.reshape(x, [2, 6])) }],
  permute: [{ name: 'permute [2, 0, 1]', inputs: [{ shape: [2, 3, 4] }], fn: (x: X) => o.permute(x, [2, 0, 1]) }],
  slice: [
    { name: 'slice axis 0 [1, 4)', inputs: [{ shape: [5, 3] }], fn: (x: X) => o.slice(x, 0, 1, 4) },
    { name: 'slice axis 1 [0, 2)', inputs: [{ shape: [2, 3] }], fn: (x: X) => o.slice(x, 1, 0, 2) },
  ],
  concat: [
    { name: 'concat axis 0', inputs: [{ shape: [2, 3] }, { shape: [4, 3] }], fn: (a: X, b: X) => o.concat([a, b], 0) },
    { name: 'concat axis 1 (same input twice)', inputs: [{ shape: [2, 3] }], fn: (a: X) => o.concat([a, o.square(a)], 1) },
  ],
  expand: [{ name: 'expand [3, 1] -> [2, 3, 4]', inputs: [{ shape: [3, 1] }], fn: (x: X) => o.expand(x, [2, 3, 4]) }],
  contiguous: [{ name: 'contiguous', inputs: [{ shape: [3, 4] }], fn: (x: X) => o.contiguous(x) }],
  matmul: [
    { name: 'matmul [3, 4] @ [4, 5]', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], fn: (a: X, b: X) => o.matmul(a, b) },
    { name: 'matmul A^T B^T', inputs: [{ shape: [4, 3] }, { shape: [5, 4] }], fn: (a: X, b: X) => o.matmul(a, b, { transA: true, transB: true }) },
    { name: 'matmul batch broadcast [2, 3, 4] @ [4, 2]', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }], fn: (a: X, b: X) => o.matmul(a, b) },
    { name: 'matmul shared B^T [2, 2, 3, 4] @ [5, 4]^T', inputs: [{ shape: [2, 2, 3, 4] }, { shape: [5, 4] }], fn: (a: X, b: X) => o.matmul(a, b, { transB: true }) },
    { name: 'matmul [1, 3, 4]^T.. [2, 3, 5] transA', inputs: [{ shape: [1, 3, 4] }, { shape: [2, 3, 5] }], fn: (a: X, b: X) => o.matmul(a, b, { transA: true }) },
    { name: 'matmul vector [4] @ [4, 3] + bias, tanh', inputs: [{ shape: [4] }, { shape: [4, 3] }, { shape: [3] }], fn: (a: X, b: X, c: X) => o.matmul(a, b, { bias: c, activation: 'tanh' }) },
    { name: 'matmul [3, 4] @ vector [4]', inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (a: X, b: X) => o.matmul(a, b) },
    // scale and bias inside the primitive (the kernel's epilogue)
    { name: 'matmul alpha -0.7 + bias [5]', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }], fn: (a: X, b: X, c: X) => o.matmul(a, b, { alpha: -0.7, bias: c }) },
    {
      name: 'matmul A^T B^T alpha 2 + bias [5]',
      inputs: [{ shape: [4, 3] }, { shape: [5, 4] }, { shape: [5] }],
      fn: (a: X, b: X, c: X) => o.matmul(a, b, { transA: true, transB: true, alpha: 2, bias: c }),
    },
    {
      name: 'matmul batched, one bias row per batch [2, 1, 5], alpha 1.5',
      inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }, { shape: [2, 1, 5] }],
      fn: (a: X, b: X, c: X) => o.matmul(a, b, { alpha: 1.5, bias: c }),
    },
    {
      name: 'matmul shared weight (flattened dW) alpha 0.5 + bias [5]',
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      fn: (a: X, b: X, c: X) => o.matmul(a, b, { alpha: 0.5, bias: c }),
    },
  ],
  conv2d: [
    { name: 'conv2d 3x3 pad 1', inputs: [{ shape: [2, 5, 5, 2] }, { shape: [3, 3, 2, 3] }], fn: (x: X, w: X) => o.conv2d(x, w, null, { padding: 1 }) },
    {
      name: 'conv2d stride 2 dilation 2 + bias',
      inputs: [{ shape: [1, 7, 6, 2] }, { shape: [2, 2, 2, 3] }, { shape: [3] }],
      fn: (x: X, w: X, b: X) => o.conv2d(x, w, b, { stride: 2, dilation: 2, padding: [1, 0] }),
    },
    {
      name: 'conv2d groups 2 stride 2 dilation 2 pad 1 + bias',
      inputs: [{ shape: [1, 7, 7, 4] }, { shape: [3, 3, 2, 6] }, { shape: [6] }],
      fn: (x: X, w: X, b: X) => o.conv2d(x, w, b, { groups: 2, stride: 2, dilation: 2, padding: 1 }),
    },
    {
      name: 'conv2d depthwise (groups = C = 3) 3x3 stride 2 pad 1',
      inputs: [{ shape: [2, 5, 6, 3] }, { shape: [3, 3, 1, 3] }],
      fn: (x: X, w: X) => o.conv2d(x, w, null, { groups: 3, stride: 2, padding: 1 }),
    },
  ],
  conv2dGradInput: [
    {
      name: 'conv2dGradInput stride 2',
      inputs: [{ shape: [1, 3, 3, 3] }, { shape: [3, 3, 2, 3] }],
      fn: (dy: X, w: X) => o.conv2dGradInput(dy, w, [1, 6, 6, 2], { stride: 2, padding: 1 }),
    },
    {
      name: 'conv2dGradInput depthwise x2 (groups 3, 6 outputs) stride 2',
      inputs: [{ shape: [1, 3, 3, 6] }, { shape: [3, 3, 1, 6] }],
      fn: (dy: X, w: X) => o.conv2dGradInput(dy, w, [1, 6, 6, 3], { groups: 3, stride: 2, padding: 1 }),
    },
  ],
  conv2dGradWeight: [
    {
      name: 'conv2dGradWeight pad 1',
      inputs: [{ shape: [2, 4, 4, 2] }, { shape: [2, 4, 4, 3] }],
      fn: (x: X, dy: X) => o.conv2dGradWeight(x, dy, [3, 3, 2, 3], { padding: 1 }),
    },
    {
      name: 'conv2dGradWeight groups 2 dilation 2 pad 2',
      inputs: [{ shape: [2, 5, 5, 4] }, { shape: [2, 5, 5, 6] }],
      fn: (x: X, dy: X) => o.conv2dGradWeight(x, dy, [3, 3, 2, 6], { groups: 2, dilation: 2, padding: 2 }),
    },
  ],
  // integer inputs are closed over (gradcheck differentiates float inputs only)
  embedding: [
    { name: 'embedding [5, 3] at [2, 4] (repeats, unused rows)', inputs: [{ shape: [5, 3] }], fn: (t: X) => o.embedding(t, o.indicesLike(t, [2, 4], [0, 3, 3, 1, 3, 0, 2, 3])) },
    {
      name: 'sum(embedding^2) (through both adjoints)',
      inputs: [{ shape: [4, 2] }],
      fn: (t: X) => o.sum(o.square(o.embedding(t, o.indicesLike(t, [5], [2, 0, 2, 3, 2])))),
    },
  ],
  embeddingBackward: [
    { name: 'embeddingBackward [3, 2, 4] -> [5, 4]', inputs: [{ shape: [3, 2, 4] }], fn: (d: X) => o.embeddingBackward(d, o.indicesLike(d, [3, 2], [4, 1, 1, 0, 4, 4]), 5) },
  ],
  crossEntropy: [
    { name: 'crossEntropy mean [4, 5]', inputs: [{ shape: [4, 5] }], fn: (x: X) => o.crossEntropy(x, o.indicesLike(x, [4], [0, 3, 4, 3])) },
    { name: 'crossEntropy sum [2, 3, 4]', inputs: [{ shape: [2, 3, 4], lo: -3, hi: 3 }], fn: (x: X) => o.crossEntropy(x, o.indicesLike(x, [2, 3], [1, 0, 3, 3, 2, 1]), { reduction: 'sum' }) },
    { name: 'crossEntropy none [3, 6]', inputs: [{ shape: [3, 6] }], fn: (x: X) => o.crossEntropy(x, o.indicesLike(x, [3], [5, 0, 2]), { reduction: 'none' }) },
  ],
  layerNorm: [
    { name: 'layerNorm [3, 5] weight bias', inputs: [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }], fn: (x: X, w: X, b: X) => o.layerNorm(x, 5, w, b) },
    { name: 'layerNorm over [2, 3], no affine', inputs: [{ shape: [2, 2, 3] }], fn: (x: X) => o.layerNorm(x, [2, 3]) },
    { name: 'layerNorm bias only, eps 0.1', inputs: [{ shape: [4, 3] }, { shape: [3] }], fn: (x: X, b: X) => o.layerNorm(x, 3, null, b, { eps: 0.1 }) },
  ],
  rmsNorm: [
    { name: 'rmsNorm [3, 5] weight', inputs: [{ shape: [3, 5] }, { shape: [5] }], fn: (x: X, w: X) => o.rmsNorm(x, 5, w) },
    { name: 'rmsNorm over [2, 2], no weight', inputs: [{ shape: [3, 2, 2] }], fn: (x: X) => o.rmsNorm(x, [2, 2]) },
  ],
  attention: [
    {
      name: 'attention [1, 2, 3, 4] by 5 keys',
      inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 5, 4] }, { shape: [1, 2, 5, 4] }],
      fn: (q: X, k: X, v: X) => o.scaledDotProductAttention(q, k, v),
    },
    {
      name: 'attention causal, scale 1/D, [2, 4, 4]',
      inputs: [{ shape: [2, 4, 4] }, { shape: [2, 4, 4] }, { shape: [2, 4, 4] }],
      fn: (q: X, k: X, v: X) => o.scaledDotProductAttention(q, k, v, { causal: true, scale: 0.25 }),
    },
    {
      name: 'attention ensemble [2, 1, 1, 3, 4] causal, 2 keys',
      inputs: [{ shape: [2, 1, 1, 3, 4] }, { shape: [2, 1, 1, 2, 4] }, { shape: [2, 1, 1, 2, 4] }],
      fn: (q: X, k: X, v: X) => o.scaledDotProductAttention(q, k, v, { causal: true }),
    },
  ],
};

/** The primitives whose rule has a fused first-order path and a composed createGraph path. */
export const FUSED_PRIMITIVES = ['crossEntropy', 'layerNorm', 'rmsNorm', 'attention'] as const satisfies readonly Primitive[];

/** y = x W + b. */
export function linear<A extends GradTensor>(x: A, w: A, b: A): A {
  return o.matmul(x, w, { bias: b });
}

/** A two-layer MLP with a mean squared loss against `target` (one element). */
export function mlpLoss<A extends GradTensor>(x: A, w1: A, b1: A, w2: A, b2: A, target: A, act: (h: A) => A = o.tanh): A {
  const h = act(linear(x, w1, b1));
  return o.mean(o.square(o.sub(linear(h, w2, b2), target)));
}

/** conv (3x3, pad 1) -> tanh -> mean over space -> squared norm: a small CNN's loss (one element). */
export function cnnLoss<A extends GradTensor>(x: A, w: A, b: A): A {
  const h = o.tanh(o.conv2d(x, w, b, { padding: 1 }));
  return o.sum(o.square(o.mean(h, [1, 2])));
}

/** A tiny transformer block's loss: embedding, layerNorm, causal attention, rmsNorm, crossEntropy (one element). */
export function transformerLoss<A extends GradTensor>(table: A, wq: A, wk: A, wv: A, g: A, b: A, wout: A): A {
  const tokens = o.indicesLike(table, [2, 3], [1, 4, 2, 0, 0, 3]);
  const targets = o.indicesLike(table, [2, 3], [4, 2, 0, 0, 3, 1]);
  const x = o.embedding(table, tokens); // [2, 3, 4]
  const h = o.layerNorm(x, 4, g, b);
  const a = o.scaledDotProductAttention(o.matmul(h, wq), o.matmul(h, wk), o.matmul(h, wv), { causal: true });
  const y = o.rmsNorm(o.add(x, a), 4);
  return o.crossEntropy(o.matmul(y, wout), targets);
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
    fn: (q: X, k: X, v: X) => o.scaledDotProductAttention(q, k, v, { causal: true, composed: true }),
  },
  { name: 'softmax', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.softmax(x) },
  { name: 'logSoftmax axis 0', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.logSoftmax(x, 0) },
  { name: 'logsumexp', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.logsumexp(x, 1) },
  { name: 'variance (Bessel)', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.variance(x, 1, false, 1) },
  { name: 'std', inputs: [{ shape: [3, 5] }], fn: (x: X) => o.std(x, 0) },
  {
    name: 'MLP (tanh) loss',
    inputs: [{ shape: [4, 3] }, { shape: [3, 5], lo: -1, hi: 1 }, { shape: [5] }, { shape: [5, 2], lo: -1, hi: 1 }, { shape: [2] }, { shape: [4, 2] }],
    fn: (x: X, w1: X, b1: X, w2: X, b2: X, t: X) => mlpLoss(x, w1, b1, w2, b2, t),
  },
  {
    name: 'MLP (gelu) loss',
    inputs: [{ shape: [4, 3] }, { shape: [3, 5], lo: -1, hi: 1 }, { shape: [5] }, { shape: [5, 2], lo: -1, hi: 1 }, { shape: [2] }, { shape: [4, 2] }],
    fn: (x: X, w1: X, b1: X, w2: X, b2: X, t: X) => mlpLoss(x, w1, b1, w2, b2, t, o.gelu),
  },
];

// ---------------------------------------------------------------- running a case

const mulberry = mulberry32;

/** The inputs of a case as f32-rounded values (same values for the GPU and the f64 reference). */
export function caseData(c: Case, seed = 7): Float32Array[] {
  const rand = mulberry(seed);
  return c.inputs.map(({ shape, lo = -2, hi = 2 }) => Float32Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * rand()));
}

export const f64Inputs = (c: Case, data: Float32Array[]) => data.map((d, i) => F64Tensor.from(d, c.inputs[i].shape));
export const gpuInputs = (c: Case, data: Float32Array[], device?: Device) =>
  data.map((d, i) => fromArray(d, c.inputs[i].shape, { device }));

/**
 * Relative error ||g_gpu - g_ref|| / ||g_ref|| of the GPU backward against the f64 reference
 * backward, for the same inputs and cotangent (worst over inputs).
 */
export async function backwardMismatch(c: Case, data: Float32Array[], device?: Device): Promise<number> {
  const xr = f64Inputs(c, data);
  for (const x of xr) x.requiresGrad = true;
  const yr = c.fn(...xr) as F64Tensor;
  const rand = mulberry(99);
  const r = Float32Array.from({ length: yr.size }, () => rand() * 2 - 1);
  const ref = isTracked(yr) ? gradients(yr, xr, { grad: F64Tensor.from(r, yr.shape) }) : xr.map((x) => o.zerosLike(x));
  const got = await tidyAsync(async () => {
    const xg = gpuInputs(c, data, device);
    for (const x of xg) x.requiresGrad = true;
    const yg = c.fn(...xg) as Tensor;
    const gs = isTracked(yg) ? gradients(yg, xg, { grad: fromArray(r, yg.shape, { device }) }) : xg.map((x) => o.zerosLike(x));
    return Promise.all(gs.map((g) => g.data()));
  });
  let worst = 0;
  ref.forEach((g, i) => {
    let num = 0;
    let den = 0;
    for (let j = 0; j < g.size; j++) {
      num += (got[i][j] - g.data[j]) ** 2;
      den += g.data[j] ** 2;
    }
    const e = Number.isNaN(num) ? Infinity : den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    worst = Math.max(worst, e);
  });
  return worst;
}

export interface SuiteRow {
  name: string;
  /** The primitive, or 'composite'. */
  group: string;
  ok: boolean;
  /** Max relative error of f64 gradcheck, f32 gradcheck, GPU-vs-reference backward, f64 gradgradcheck. */
  f64: number;
  f32: number;
  gpuVsRef: number;
  gradgrad: number | null;
  error?: string;
}

/** Tolerance on ||g_gpu - g_ref|| / ||g_ref|| (f32 accumulation over small cases). */
export const GPU_VS_REF_TOL = 1e-4;

const maxRel = (r: GradcheckReport) => Math.max(...r.inputs.map((i) => i.maxRelErr));

export async function runCase(c: Case, group: string, device?: Device): Promise<SuiteRow> {
  const row: SuiteRow = { name: c.name, group, ok: false, f64: NaN, f32: NaN, gpuVsRef: NaN, gradgrad: null };
  try {
    const data = caseData(c);
    const f64 = await gradcheck(c.fn, f64Inputs(c, data), { mode: 'f64', throwOnFailure: false });
    row.f64 = maxRel(f64);
    const f32 = await tidyAsync(() => gradcheck(c.fn, gpuInputs(c, data, device), { mode: 'f32', throwOnFailure: false }));
    row.f32 = maxRel(f32);
    row.gpuVsRef = await backwardMismatch(c, data, device);
    let gg = true;
    if (c.twice ?? true) {
      const r = await gradgradcheck(c.fn, f64Inputs(c, data), { mode: 'f64', throwOnFailure: false });
      row.gradgrad = maxRel(r);
      gg = r.ok;
    }
    row.ok = f64.ok && f32.ok && row.gpuVsRef < GPU_VS_REF_TOL && gg;
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

/** Checks every primitive and the composites on `device`; returns one row per case. */
export async function runGradcheckSuite(device?: Device, onRow?: (row: SuiteRow) => void): Promise<SuiteRow[]> {
  const rows: SuiteRow[] = [];
  const all: [string, Case][] = [
    ...Object.entries(PRIMITIVE_CASES).flatMap(([p, cs]) => cs.map((c): [string, Case] => [p, c])),
    ...COMPOSITE_CASES.map((c): [string, Case] => ['composite', c]),
  ];
  for (const [group, c] of all) {
    const row = await runCase(c, group, device);
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

/** The rows as a fixed-width text table. */
export function formatSuite(rows: readonly SuiteRow[]): string {
  const e = (v: number | null) => (v === null ? '-' : Number.isNaN(v) ? 'n/a' : v.toExponential(1));
  const head = ['case', 'primitive', 'f64', 'f32', 'gpu~ref', 'gradgrad', 'result'];
  const body = rows.map((r) => [r.name, r.group, e(r.f64), e(r.f32), e(r.gpuVsRef), e(r.gradgrad), r.ok ? 'pass' : `FAIL${r.error ? `: ${r.error.split('\n')[0]}` : ''}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === 6 ? 4 : b[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 6 ? c : c.padEnd(widths[i]))).join('  ');
  const passed = rows.filter((r) => r.ok).length;
  return [line(head), ...body.map(line), `${passed}/${rows.length} passed`].join('\n');
}

