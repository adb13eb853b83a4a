/**
 * @file The fused norms (layerNorm, rmsNorm over the trailing axes: src/ops/norm.ts on the GPU,
 * with fused backward kernels), their rule and cases.
 */
import { layerNorm as rawLayerNorm, layerNormBackward, rmsNorm as rawRmsNorm, rmsNormBackward } from '../../ops/norm.js';
import { normBackwardRef, normRef } from '../../reference/norm.js';
import type { NDArray } from '../../reference/ndarray.js';
import { fmt, sameShape, sizeOf } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { nd, onBackend } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor, type Operand, type Rule, type WithSaved } from '../primitive.js';
import { apply, isGradEnabled } from '../tape.js';
import { add, mul, rsqrt, square, sub } from './elementwise.js';
import { mean } from './reduce.js';

type T = GradTensor;

/** A fused norm's resolved parameters; which optional inputs are present. */
export interface NormParams {
  normalizedShape: number[];
  eps: number;
  weight: boolean;
  bias: boolean;
}

export interface NormFamilyParams {
  /** LayerNorm over the trailing axes: inputs [x, weight?, bias?]; saves per-row mean and rstd. */
  layerNorm: NormParams;
  /** RMSNorm over the trailing axes: inputs [x, weight?]; saves per-row rstd. */
  rmsNorm: NormParams;
}

type Kind = keyof NormFamilyParams;

/** The optional [weight, bias] of a norm primitive's inputs [x, weight?, bias?]. */
function affine<A>(xs: readonly A[], p: NormParams): [A | null, A | null] {
  return [p.weight ? xs[1] : null, p.bias ? xs[p.weight ? 2 : 1] : null];
}

function gpuForward(kind: Kind, xs: readonly Operand<Tensor>[], p: NormParams): WithSaved<Tensor> {
  const [w, b] = affine(xs as Tensor[], p);
  if (kind === 'layerNorm') {
    const { y, mean: m, rstd } = rawLayerNorm(xs[0] as Tensor, p.normalizedShape, w, b, { eps: p.eps });
    return { out: y, saved: [m, rstd] };
  }
  const { y, rstd } = rawRmsNorm(xs[0] as Tensor, p.normalizedShape, w, { eps: p.eps });
  return { out: y, saved: [rstd] };
}

/** The reference forward; mean and rstd saved in the leading axes' shape. */
function f64Forward(kind: Kind, xs: readonly Operand<F64Tensor>[], p: NormParams): WithSaved<F64Tensor> {
  const [w, b] = affine(xs as F64Tensor[], p);
  const x = nd(xs[0], kind);
  const ref = kind === 'layerNorm' ? 'layer' : 'rms';
  const r = normRef(ref, x, sizeOf(p.normalizedShape), w ? w.nd : null, b ? b.nd : null, p.eps);
  const lead = x.shape.slice(0, x.shape.length - p.normalizedShape.length);
  const saved = ref === 'layer' ? [r.mean, r.rstd] : [r.rstd];
  return { out: F64Tensor.fromNd(r.y), saved: saved.map((s) => new F64Tensor(lead, s.data)) };
}

/** The fused backward per backend: dx, dweight (when wantWeight), dbias (when wantBias), not recorded. */
const fusedBackward = {
  gpu(kind: Kind, g: Tensor, x: Tensor, saved: readonly Tensor[], p: NormParams, weight: Tensor | null, wantWeight: boolean, wantBias: boolean) {
    const opts = { weightGrad: wantWeight && !!weight };
    const r = kind === 'layerNorm'
      ? layerNormBackward(g, x, { mean: saved[0], rstd: saved[1] }, p.normalizedShape, weight, { ...opts, biasGrad: wantBias })
      : rmsNormBackward(g, x, { rstd: saved[0] }, p.normalizedShape, weight, opts);
    return [r.dx, r.dweight, r.dbias];
  },
  f64(kind: Kind, g: F64Tensor, x: F64Tensor, _saved: readonly F64Tensor[], p: NormParams, weight: F64Tensor | null, wantWeight: boolean, wantBias: boolean) {
    const r = normBackwardRef(kind === 'layerNorm' ? 'layer' : 'rms', g.nd, x.nd, sizeOf(p.normalizedShape), weight?.nd ?? null, p.eps);
    const norm = (a: NDArray) => new F64Tensor(p.normalizedShape, a.data);
    return [F64Tensor.fromNd(r.dx), wantWeight ? norm(r.dweight) : null, wantBias ? norm(r.dbias) : null];
  },
};

/**
 * LayerNorm / RMSNorm, xhat = (x - mu) rstd (mu = 0 for RMS), gw = g * weight, over the normalized axes:
 *   dx = rstd (gw - mean(gw) - xhat mean(gw xhat))   (no mean(gw) term for RMS)
 *   dweight = sum over rows of g xhat,  dbias = sum over rows of g (the tape sums the rows)
 * The fused kernels unless the backward is recorded (createGraph), then composed.
 */
const normRule = (kind: Kind): Rule<NormParams> => (g, { inputs, saved, params: p, needs }) => {
  const x = inputs[0] as typeof g;
  const w = p.weight ? (inputs[1] as typeof g) : null;
  const iw = p.weight ? 1 : -1;
  const ib = p.bias ? (p.weight ? 2 : 1) : -1;
  const wantW = iw > 0 && needs[iw];
  const wantB = ib > 0 && needs[ib];
  const out: (typeof g | null)[] = inputs.map(() => null);
  if (!isGradEnabled()) {
    const [dx, dw, db] = onBackend(kind, g, fusedBackward)(kind, g, x, saved, p, w, wantW, wantB) as [typeof g, typeof g | null, typeof g | null];
    out[0] = needs[0] ? dx : null;
    if (wantW) out[iw] = dw;
    if (wantB) out[ib] = db;
    if (!needs[0]) dx.dispose();
    return out;
  }
  const k = p.normalizedShape.length;
  const axes = Array.from({ length: k }, (_, i) => x.shape.length - k + i);
  const xc = kind === 'layerNorm' ? sub(x, mean(x, axes, true)) : x;
  const rstd = rsqrt(add(mean(square(xc), axes, true), p.eps));
  const xhat = mul(xc, rstd);
  if (needs[0]) {
    const gw = w ? mul(g, w) : g;
    const centred = kind === 'layerNorm' ? sub(gw, mean(gw, axes, true)) : gw;
    out[0] = mul(rstd, sub(centred, mul(xhat, mean(mul(gw, xhat), axes, true))));
  }
  if (wantW) out[iw] = mul(g, xhat);
  if (wantB) out[ib] = g;
  return out;
};

export const NORM = definePrimitives<NormFamilyParams>({
  layerNorm: { gpu: (xs, p) => gpuForward('layerNorm', xs, p), f64: (xs, p) => f64Forward('layerNorm', xs, p), rule: normRule('layerNorm') },
  rmsNorm: { gpu: (xs, p) => gpuForward('rmsNorm', xs, p), f64: (xs, p) => f64Forward('rmsNorm', xs, p), rule: normRule('rmsNorm') },
});

// ---------------------------------------------------------------- differentiable ops

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
  return apply(NORM.layerNorm, [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])], p);
}

/** x / sqrt(mean(x^2) + eps) * weight over the trailing axes (fused; twice differentiable; returns y only). */
export function rmsNorm<A extends T>(x: A, normalizedShape: number | readonly number[], weight?: A | null, opts: { eps?: number } = {}): A {
  const p = normParams('rmsNorm', x, normalizedShape, weight, null, opts.eps);
  return apply(NORM.rmsNorm, [x, ...(weight ? [weight] : [])], p);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const NORM_CASES: Cases<NormFamilyParams> = {
  layerNorm: [
    { name: 'layerNorm [3, 5] weight bias', inputs: [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }], fn: (x: V, w: V, b: V) => layerNorm(x, 5, w, b) },
    { name: 'layerNorm over [2, 3], no affine', inputs: [{ shape: [2, 2, 3] }], fn: (x: V) => layerNorm(x, [2, 3]) },
    { name: 'layerNorm bias only, eps 0.1', inputs: [{ shape: [4, 3] }, { shape: [3] }], fn: (x: V, b: V) => layerNorm(x, 3, null, b, { eps: 0.1 }) },
  ],
  rmsNorm: [
    { name: 'rmsNorm [3, 5] weight', inputs: [{ shape: [3, 5] }, { shape: [5] }], fn: (x: V, w: V) => rmsNorm(x, 5, w) },
    { name: 'rmsNorm over [2, 2], no weight', inputs: [{ shape: [3, 2, 2] }], fn: (x: V) => rmsNorm(x, [2, 2]) },
  ],
};
