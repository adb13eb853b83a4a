/**
 * @file One backward rule per primitive (a vector-Jacobian product), written with the
 * differentiable ops, so the backward pass can itself be recorded (createGraph) and
 * differentiated again. Rules return gradients in the broadcast (output) shape; the tape sums
 * them back to each input's shape. `null` means no gradient for that input.
 */
import type { GradTensor, Operand, Primitive, PrimitiveParams } from './primitives.js';
import * as o from './ops.js';
import { backendOf, type FusedBackward } from './backends.js';
import { isGradEnabled } from './tape.js';

export interface RuleContext<P extends Primitive, A extends GradTensor> {
  /** The primitive's inputs (saved by the tape), numbers for constant operands. */
  inputs: readonly Operand<A>[];
  /** Its output. */
  out: A;
  params: PrimitiveParams[P];
  /** Shape of each input ([] for numbers). */
  shapes: readonly (readonly number[])[];
  /** Whether input i needs a gradient (skip the work when it does not). */
  needs: readonly boolean[];
  /** What the forward saved for the rule (fused kernels: logsumexp, mean, rstd). */
  saved: readonly A[];
}

export type Rule<P extends Primitive> = <A extends GradTensor>(g: A, ctx: RuleContext<P, A>) => (A | null)[];

/** Piecewise-constant primitives: no gradient (the tape records no node for them). */
export const noGradient = <A extends GradTensor>(): (A | null)[] => [];

/** 1/sqrt(2 pi) and 2/sqrt(pi), for the Gaussian density in gelu'' and erf'. */
const INV_SQRT_2PI = 0.398942280401432678;
const TWO_OVER_SQRT_PI = 1.12837916709551257;

/** Shape of a reduction's output with the reduced axes kept as 1. */
const kept = (shape: readonly number[], axes: number[]) => shape.map((d, i) => (axes.includes(i) ? 1 : d));

/**
 * Fused primitives: their rule calls the fused backward kernel (GPU) or the reference backward
 * (f64) when the backward pass is not recorded; when it is (createGraph, so the rule runs with
 * recording on), it composes the same gradient from differentiable primitives instead, so the
 * gradient can be differentiated again.
 */
const composing = () => isGradEnabled();
/** The fused (first-order, unrecorded) backward of g's backend. */
const fused = <A extends GradTensor>(op: string, g: A) => backendOf(op, [g]).fused as unknown as FusedBackward<A>;

/** The onehot rows of integer `labels` [...] over `classes`: a constant [..., classes]. */
function oneHot<A extends GradTensor>(labels: A, classes: number, like: A): A {
  const l = o.unsqueeze(o.labelsAsFloat(labels), -1);
  return o.eq(l, o.constantLike(like, [classes], Array.from({ length: classes }, (_, i) => i)));
}

// softmax cross-entropy, per row: d loss = (softmax(x) - onehot(label)) dx
const crossEntropyRule: Rule<'crossEntropy'> = (g, { inputs: [x, labels], saved: [lse], params: { reduction }, needs }) => {
  if (!needs[0]) return [null, null];
  const logits = x as typeof g;
  const l = labels as typeof g;
  if (!composing()) return [fused('crossEntropy', g).crossEntropy(g, logits, l, lse, reduction), null];
  const c = logits.shape[logits.shape.length - 1];
  const d = o.sub(o.softmax(logits, -1), oneHot(l, c, logits));
  const up = reduction === 'none' ? o.unsqueeze(g, -1) : reduction === 'mean' ? o.mul(g, 1 / l.size) : g;
  return [o.mul(d, up), null];
};

/**
 * LayerNorm / RMSNorm, xhat = (x - mu) rstd (mu = 0 for RMS), gw = g * weight, over the normalized axes:
 *   dx = rstd (gw - mean(gw) - xhat mean(gw xhat))   (no mean(gw) term for RMS)
 *   dweight = sum over rows of g xhat,  dbias = sum over rows of g (the tape sums the rows)
 */
const normRule = (kind: 'layerNorm' | 'rmsNorm'): Rule<'layerNorm' | 'rmsNorm'> => (g, { inputs, saved, params: p, needs }) => {
  const x = inputs[0] as typeof g;
  const w = p.weight ? (inputs[1] as typeof g) : null;
  const iw = p.weight ? 1 : -1;
  const ib = p.bias ? (p.weight ? 2 : 1) : -1;
  const wantW = iw > 0 && needs[iw];
  const wantB = ib > 0 && needs[ib];
  const out: (typeof g | null)[] = inputs.map(() => null);
  if (!composing()) {
    const [dx, dw, db] = fused(kind, g).norm(kind, g, x, saved, p, w, wantW, wantB);
    out[0] = needs[0] ? dx : null;
    if (wantW) out[iw] = dw;
    if (wantB) out[ib] = db;
    if (!needs[0]) dx.dispose();
    return out;
  }
  const k = p.normalizedShape.length;
  const axes = Array.from({ length: k }, (_, i) => x.shape.length - k + i);
  const xc = kind === 'layerNorm' ? o.sub(x, o.mean(x, axes, true)) : x;
  const rstd = o.rsqrt(o.add(o.mean(o.square(xc), axes, true), p.eps));
  const xhat = o.mul(xc, rstd);
  if (needs[0]) {
    const gw = w ? o.mul(g, w) : g;
    const centred = kind === 'layerNorm' ? o.sub(gw, o.mean(gw, axes, true)) : gw;
    out[0] = o.mul(rstd, o.sub(centred, o.mul(xhat, o.mean(o.mul(gw, xhat), axes, true))));
  }
  if (wantW) out[iw] = o.mul(g, xhat);
  if (wantB) out[ib] = g;
  return out;
};

/**
 * Attention, p = softmax(s), s = scale q k^T (causal: masked), out = p v:
 *   dv = p^T g,  dp = g v^T,  ds = p (dp - rowsum(dp p)),  dq = scale ds k,  dk = scale ds^T q
 */
const attentionRule: Rule<'attention'> = (g, { inputs, out, saved: [lse], params, needs }) => {
  const [q, k, v] = inputs as (typeof g)[];
  if (!composing()) {
    const gs = fused('attention', g).attention(g, q, k, v, out, lse, params);
    return gs.map((d, i) => {
      if (needs[i]) return d;
      d.dispose();
      return null;
    });
  }
  const p = o.attentionProbs(q, k, params);
  const dv = needs[2] ? o.matmul(p, g, { transA: true }) : null;
  if (!needs[0] && !needs[1]) return [null, null, dv];
  const dp = o.matmul(g, v, { transB: true });
  const ds = o.mul(o.mul(p, o.sub(dp, o.sum(o.mul(dp, p), -1, true))), params.scale);
  return [needs[0] ? o.matmul(ds, k) : null, needs[1] ? o.matmul(ds, q, { transA: true }) : null, dv];
};

/** max and min: the gradient goes to the elements equal to the result, split evenly among ties. */
const extremum: Rule<'max' | 'min'> = (g, { inputs: [x], out, shapes: [s], params: { axes } }) => {
  const mask = o.eq(x, o.reshape(out, kept(s, axes)));
  const share = o.div(mask, o.sum(mask, axes, true));
  return [o.mul(share, o.reshape(g, kept(s, axes)))];
};

/** maximum and minimum: like extremum, ties split in half. */
const pick = (winsA: 'gt' | 'lt'): Rule<'maximum' | 'minimum'> => (g, { inputs: [a, b] }) => {
  const wa = o.add(o.binary(winsA, a, b), o.mul(o.eq(a, b), 0.5));
  return [o.mul(g, wa), o.mul(g, o.sub(1, wa))];
};


/**
 * d op(B) for a matrix B shared by every batch of A ([..., M, K] x [K, N], a layer applied to a
 * [B, T, n] input): one matmul over the flattened rows (K = batch * M) instead of a batched
 * product the tape then sums over the batch. Null where it does not apply.
 */
function sharedWeightGrad<A extends GradTensor>(
  g: A, a: A, sa: readonly number[], sb: readonly number[], tA: boolean, tB: boolean, alpha: number,
): A | null {
  if (tA || sb.length !== 2 || sa.length < 3) return null;
  const af = o.reshape(a, [-1, sa[sa.length - 1]]);
  const gf = o.reshape(g, [-1, g.shape[g.shape.length - 1]]);
  return tB ? o.matmul(gf, af, { transA: true, alpha }) : o.matmul(af, gf, { transA: true, alpha });
}

export const RULES: { [P in Primitive]: Rule<P> } = {
  // d(-x) = -dx
  neg: (g) => [o.neg(g)],
  // d|x| = sign(x) dx
  abs: (g, { inputs: [x] }) => [o.mul(g, o.sign(x as typeof g))],
  // d e^x = e^x dx
  exp: (g, { out }) => [o.mul(g, out)],
  // d log x = dx / x
  log: (g, { inputs: [x] }) => [o.div(g, x)],
  // d sqrt(x) = dx / (2 sqrt(x))
  sqrt: (g, { out }) => [o.div(g, o.mul(out, 2))],
  // d x^(-1/2) = -1/2 x^(-3/2) dx = -1/2 (out / x) dx
  rsqrt: (g, { inputs: [x], out }) => [o.mul(g, o.mul(o.div(out, x), -0.5))],
  // d x^2 = 2x dx
  square: (g, { inputs: [x] }) => [o.mul(g, o.mul(x as typeof g, 2))],
  // d tanh x = (1 - tanh^2 x) dx
  tanh: (g, { out }) => [composing() ? o.mul(g, o.sub(1, o.square(out))) : fused('tanh', g).activation('tanh', g, out)],
  // d sigmoid x = s (1 - s) dx
  sigmoid: (g, { out }) => [o.mul(g, o.mul(out, o.sub(1, out)))],
  // d relu x = [x > 0] dx
  relu: (g, { inputs: [x] }) => [composing() ? o.mul(g, o.reluMask(x as typeof g)) : fused('relu', g).activation('relu', g, x as typeof g)],
  // d gelu x = (Phi(x) + x phi(x)) dx
  gelu: (g, { inputs: [x] }) => [composing() ? o.mul(g, o.geluGrad(x as typeof g)) : fused('gelu', g).activation('gelu', g, x as typeof g)],
  // d (Phi(x) + x phi(x)) = phi(x) (2 - x^2) dx, phi(x) = exp(-x^2/2) / sqrt(2 pi)
  geluGrad: (g, { inputs: [x] }) => {
    const x2 = o.square(x as typeof g);
    return [o.mul(g, o.mul(o.mul(o.exp(o.mul(x2, -0.5)), INV_SQRT_2PI), o.sub(2, x2)))];
  },
  // d sin x = cos x dx
  sin: (g, { inputs: [x] }) => [o.mul(g, o.cos(x as typeof g))],
  // d cos x = -sin x dx
  cos: (g, { inputs: [x] }) => [o.neg(o.mul(g, o.sin(x as typeof g)))],
  // d(1/x) = -x^-2 dx
  reciprocal: (g, { out }) => [o.neg(o.mul(g, o.square(out)))],
  // d erf x = 2/sqrt(pi) exp(-x^2) dx
  erf: (g, { inputs: [x] }) => [o.mul(g, o.mul(o.exp(o.neg(o.square(x as typeof g))), TWO_OVER_SQRT_PI))],
  // d log(1 + x) = dx / (1 + x)
  log1p: (g, { inputs: [x] }) => [o.div(g, o.add(x, 1))],
  // d (e^x - 1) = e^x dx = (out + 1) dx
  expm1: (g, { out }) => [o.mul(g, o.add(out, 1))],

  sign: noGradient,
  floor: noGradient,
  ceil: noGradient,
  round: noGradient,
  reluMask: noGradient,
  eq: noGradient,
  ne: noGradient,
  lt: noGradient,
  le: noGradient,
  gt: noGradient,
  ge: noGradient,

  // d(a + b) = da + db
  add: (g) => [g, g],
  // d(a - b) = da - db
  sub: (g, { needs }) => [g, needs[1] ? o.neg(g) : null],
  // d(ab) = b da + a db
  mul: (g, { inputs: [a, b], needs }) => [needs[0] ? o.mul(g, b) : null, needs[1] ? o.mul(g, a) : null],
  // d(a/b) = da / b - (a / b^2) db = da / b - (out / b) db
  div: (g, { inputs: [, b], out, needs }) => [needs[0] ? o.div(g, b) : null, needs[1] ? o.neg(o.div(o.mul(g, out), b)) : null],
  // d a^b = b a^(b-1) da + a^b log(a) db
  pow: (g, { inputs: [a, b], out, needs }) => [
    needs[0] ? o.mul(g, typeof b === 'number' ? o.mul(o.pow(a, b - 1), b) : o.mul(b, o.pow(a, o.sub(b, 1)))) : null,
    needs[1] ? o.mul(o.mul(g, out), typeof a === 'number' ? Math.log(a) : o.log(a)) : null,
  ],
  maximum: pick('gt'),
  minimum: pick('lt'),
  // the selected branch gets the gradient; the condition gets none
  where: (g, { inputs: [c], needs }) => [null, needs[1] ? o.where(c as typeof g, g, 0) : null, needs[2] ? o.where(c as typeof g, 0, g) : null],

  // every element of a reduced slice gets its slice's gradient
  sum: (g, { shapes: [s], params: { axes } }) => [o.expand(o.reshape(g, kept(s, axes)), s)],
  // ... divided by the slice's length
  mean: (g, { shapes: [s], params: { axes } }) => {
    const n = axes.reduce((p, a) => p * s[a], 1);
    return [o.expand(o.mul(o.reshape(g, kept(s, axes)), 1 / n), s)];
  },
  max: extremum,
  min: extremum,

  reshape: (g, { shapes: [s] }) => [o.reshape(g, s)],
  // the inverse permutation: inv[axes[i]] = i
  permute: (g, { params: { axes } }) => {
    const inv: number[] = [];
    axes.forEach((a, i) => (inv[a] = i));
    return [o.permute(g, inv)];
  },
  // zeros outside the slice
  slice: (g, { shapes: [s], params: { axis, start, end } }) => {
    const pad = (n: number) => o.constantLike(g, s.map((d, i) => (i === axis ? n : d)), 0);
    const parts = [start > 0 ? pad(start) : null, g, end < s[axis] ? pad(s[axis] - end) : null];
    return [o.concat(parts.filter((p): p is typeof g => p !== null), axis)];
  },
  // each input gets its own slice of the gradient
  concat: (g, { shapes, params: { axis } }) => {
    let at = 0;
    return shapes.map((s) => o.slice(g, axis, at, (at += s[axis])));
  },
  // summing back over the broadcast axes is done by the tape
  expand: (g) => [g],
  contiguous: (g) => [g],

  // C = alpha op(A) op(B) + bias: d op(A) = alpha g op(B)^T, d op(B) = alpha op(A)^T g (transposed
  // operands get the transpose of that), d bias = g (the tape sums it to the bias's shape)
  matmul: (g, { inputs: [a, b], shapes: [sa, sb], params: { transA: tA, transB: tB, alpha, bias }, needs }) => [
    !needs[0] ? null : tA ? o.matmul(b as typeof g, g, { transA: tB, transB: true, alpha }) : o.matmul(g, b as typeof g, { transB: !tB, alpha }),
    !needs[1] ? null : sharedWeightGrad(g, a as typeof g, sa, sb, tA, tB, alpha) ??
      (tB ? o.matmul(g, a as typeof g, { transA: true, transB: tA, alpha }) : o.matmul(a as typeof g, g, { transA: !tA, alpha })),
    ...(bias ? [needs[2] ? g : null] : []),
  ],

  // conv2d and its two adjoints are bilinear and closed under differentiation:
  // <c, conv(x, w)> = <x, gradInput(c, w)> = <w, gradWeight(x, c)>
  conv2d: (g, { inputs: [x, w], shapes: [xs, ws], params: p, needs }) => [
    needs[0] ? o.conv2dGradInput(g, w as typeof g, xs, p) : null,
    needs[1] ? o.conv2dGradWeight(x as typeof g, g, ws, p) : null,
    // d bias = g (the tape sums it to the bias's shape)
    ...(p.bias ? [needs[2] ? g : null] : []),
  ],
  // z = gradInput(dy, w): <c, z> = <conv(c, w), dy>
  conv2dGradInput: (g, { inputs: [dy, w], shapes: [, ws], params: p, needs }) => [
    needs[0] ? o.conv2dRaw(g, w as typeof g, p) : null,
    needs[1] ? o.conv2dGradWeight(g, dy as typeof g, ws, p) : null,
  ],
  // z = gradWeight(x, dy): <c, z> = <conv(x, c), dy>
  conv2dGradWeight: (g, { inputs: [x, dy], shapes: [xs], params: p, needs }) => [
    needs[0] ? o.conv2dGradInput(dy as typeof g, g, xs, p) : null,
    needs[1] ? o.conv2dRaw(x as typeof g, g, p) : null,
  ],

  // embedding and its adjoint are linear in the table (dout) and closed under differentiation:
  // <c, table[idx]> = <embeddingBackward(c, idx), table>; indices get no gradient
  embedding: (g, { inputs: [, idx], shapes: [ts], needs }) => [
    needs[0] ? o.embeddingBackward(g, idx as typeof g, ts[0]) : null,
    null,
  ],
  embeddingBackward: (g, { inputs: [, idx], needs }) => [needs[0] ? o.embedding(g, idx as typeof g) : null, null],
  crossEntropy: crossEntropyRule,
  layerNorm: normRule('layerNorm'),
  rmsNorm: normRule('rmsNorm'),
  attention: attentionRule,
};
