/**
 * @file The convolution primitives (conv2d and its two adjoints: src/ops/conv2d.ts on the GPU),
 * their rules and cases, and the differentiable conv2d (any bias).
 */
import { checkBiasActivation, type BiasActivation } from '../../ops/bias-act.js';
import { conv2d as rawConv2d, conv2dGradInput as rawGradInput, conv2dGradWeight as rawGradWeight } from '../../ops/conv2d.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef } from '../../reference/conv.js';
import { binaryRef, unaryRef } from '../../reference/elementwise.js';
import { tidy } from '../../tensor/scope.js';
import { broadcastShapes, type Shape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { constantLike, nd } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor } from '../primitive.js';
import { apply } from '../tape.js';
import { biasActGrads } from './bias-act.js';
import { add, mul, unary } from './elementwise.js';

type T = GradTensor;

/** Convolution geometry, resolved to pairs (src/ops/conv2d.ts: NHWC input, HWIO weight). */
export interface ConvParams {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  /** Channel groups (weight [KH, KW, Cin / groups, Cout]); 1 for a dense convolution. */
  groups: number;
}

export interface ConvFamilyParams {
  /**
   * conv2d(x, w) (+ bias): with `bias`, inputs [x, w, bias], bias [Cout] (or [S, 1, 1, 1, Cout]
   * for an ensemble), added by the kernel; with `act` (a bias only), act(conv + bias) in the
   * kernel's epilogue.
   */
  conv2d: ConvParams & { bias: boolean; act?: BiasActivation };
  /** The adjoint of conv2d in x: inputs [dy, w], output of `inputShape`. */
  conv2dGradInput: ConvParams & { inputShape: number[] };
  /** The adjoint of conv2d in w: inputs [x, dy], output of `weightShape`. */
  conv2dGradWeight: ConvParams & { weightShape: number[] };
}

const G = (x: unknown) => x as Tensor;
const F = F64Tensor.fromNd;

// conv2d and its two adjoints are bilinear and closed under differentiation:
// <c, conv(x, w)> = <x, gradInput(c, w)> = <w, gradWeight(x, c)>
export const CONV = definePrimitives<ConvFamilyParams>({
  conv2d: {
    gpu: (xs, p) => rawConv2d(G(xs[0]), G(xs[1]), p.bias ? G(xs[2]) : null, { ...p, activation: p.act }),
    f64: (xs, p) => {
      const y = conv2dRef(nd(xs[0], 'conv2d'), nd(xs[1], 'conv2d'), null, p);
      const z = p.bias ? binaryRef('add', y, nd(xs[2], 'conv2d')) : y;
      return F(p.act ? unaryRef(p.act, z) : z);
    },
    // with act: dz = act'(y) g and the bias's gradient from the output (biasActGrads), then the
    // adjoints of dz; without: d bias = g (the tape sums it to the bias's shape)
    rule: (g, { inputs: [x, w], shapes: [xs, ws, bs], out, params: p, needs }) => {
      const { dz, dbias } = p.act ? biasActGrads('conv2d', g, out, p.act, bs) : { dz: g, dbias: g };
      return [
        needs[0] ? conv2dGradInput(dz, w as typeof g, xs, p) : null,
        needs[1] ? conv2dGradWeight(x as typeof g, dz, ws, p) : null,
        ...(p.bias ? [needs[2] ? dbias : null] : []),
      ];
    },
  },
  conv2dGradInput: {
    gpu: (xs, p) => rawGradInput(G(xs[0]), G(xs[1]), p.inputShape, p),
    f64: (xs, p) => F(conv2dGradInputRef(nd(xs[0], 'conv2dGradInput'), nd(xs[1], 'conv2dGradInput'), p.inputShape, p)),
    // z = gradInput(dy, w): <c, z> = <conv(c, w), dy>
    rule: (g, { inputs: [dy, w], shapes: [, ws], params: p, needs }) => [
      needs[0] ? conv2dRaw(g, w as typeof g, p) : null,
      needs[1] ? conv2dGradWeight(g, dy as typeof g, ws, p) : null,
    ],
  },
  conv2dGradWeight: {
    gpu: (xs, p) => rawGradWeight(G(xs[0]), G(xs[1]), p.weightShape, p),
    f64: (xs, p) => F(conv2dGradWeightRef(nd(xs[0], 'conv2dGradWeight'), nd(xs[1], 'conv2dGradWeight'), p.weightShape, p)),
    // z = gradWeight(x, dy): <c, z> = <conv(x, c), dy>
    rule: (g, { inputs: [x, dy], shapes: [xs], params: p, needs }) => [
      needs[0] ? conv2dGradInput(dy as typeof g, g, xs, p) : null,
      needs[1] ? conv2dRaw(x as typeof g, g, p) : null,
    ],
  },
});

// ---------------------------------------------------------------- differentiable ops

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** Zero padding on each side (top/bottom, left/right). */
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** Channel groups (default 1; Cin for depthwise): weight [KH, KW, Cin / groups, Cout]. */
  groups?: number;
  /**
   * act(conv + bias): with a bias the kernel adds, in the kernel's epilogue (one dispatch; the
   * backward takes act' and the bias's gradient from the output in one more), else composed.
   */
  activation?: BiasActivation;
}

function convParams(o: Conv2dOptions): ConvParams {
  const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
    v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  return { stride: pair(o.stride, 1), padding: pair(o.padding, 0), dilation: pair(o.dilation, 1), groups: o.groups ?? 1 };
}

/** conv2d(x [N, H, W, Cin], weight [KH, KW, Cin / groups, Cout], bias? [Cout]) -> [N, OH, OW, Cout]. */
export function conv2d<A extends T>(x: A, weight: A, bias?: A | null, opts: Conv2dOptions = {}): A {
  const p = convParams(opts);
  const act = opts.activation === undefined ? undefined : checkBiasActivation('conv2d', opts.activation);
  if (bias && kernelConvBias(x, weight, bias)) return apply(CONV.conv2d, [x, weight, bias], { ...p, bias: true, ...(act ? { act } : {}) });
  const y = conv2dRaw(x, weight, p);
  if (!bias) return act ? unary(act, y) : y;
  broadcastShapes('conv2d: bias', y.shape, bias.shape);
  return tidy(() => (act ? unary(act, add(y, bias)) : add(y, bias)));
}

/** Whether the conv kernel adds `bias` itself: [Cout], or [S, 1, 1, 1, Cout] for an ensemble (rank-5 x). */
function kernelConvBias<A extends T>(x: A, weight: A, bias: A): boolean {
  const co = weight.shape[weight.shape.length - 1];
  if (x.shape.length === 5) return bias.shape.length === 5 && bias.shape[0] === x.shape[0] && bias.shape.slice(1).join() === `1,1,1,${co}`;
  return bias.shape.length === 1 && bias.shape[0] === co;
}

/** The conv2d primitive with resolved parameters (no bias). */
export const conv2dRaw = <A extends T>(x: A, weight: A, p: ConvParams): A =>
  apply(CONV.conv2d, [x, weight], { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups, bias: false });
export const conv2dGradInput = <A extends T>(dy: A, weight: A, inputShape: Shape, p: ConvParams | Conv2dOptions = {}): A =>
  apply(CONV.conv2dGradInput, [dy, weight], { ...convParams(p as Conv2dOptions), inputShape: [...inputShape] });
export const conv2dGradWeight = <A extends T>(x: A, dy: A, weightShape: Shape, p: ConvParams | Conv2dOptions = {}): A =>
  apply(CONV.conv2dGradWeight, [x, dy], { ...convParams(p as Conv2dOptions), weightShape: [...weightShape] });

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const CONV_CASES: Cases<ConvFamilyParams> = {
  conv2d: [
    { name: 'conv2d 3x3 pad 1', inputs: [{ shape: [2, 5, 5, 2] }, { shape: [3, 3, 2, 3] }], fn: (x: V, w: V) => conv2d(x, w, null, { padding: 1 }) },
    {
      name: 'conv2d stride 2 dilation 2 + bias',
      inputs: [{ shape: [1, 7, 6, 2] }, { shape: [2, 2, 2, 3] }, { shape: [3] }],
      fn: (x: V, w: V, b: V) => conv2d(x, w, b, { stride: 2, dilation: 2, padding: [1, 0] }),
    },
    {
      name: 'conv2d groups 2 stride 2 dilation 2 pad 1 + bias',
      inputs: [{ shape: [1, 7, 7, 4] }, { shape: [3, 3, 2, 6] }, { shape: [6] }],
      fn: (x: V, w: V, b: V) => conv2d(x, w, b, { groups: 2, stride: 2, dilation: 2, padding: 1 }),
    },
    {
      name: 'conv2d depthwise (groups = C = 3) 3x3 stride 2 pad 1',
      inputs: [{ shape: [2, 5, 6, 3] }, { shape: [3, 3, 1, 3] }],
      fn: (x: V, w: V) => conv2d(x, w, null, { groups: 3, stride: 2, padding: 1 }),
    },
    {
      name: 'conv2d 3x3 pad 1 + bias, tanh in the epilogue',
      inputs: [{ shape: [2, 5, 5, 2] }, { shape: [3, 3, 2, 3] }, { shape: [3] }],
      fn: (x: V, w: V, b: V) => conv2d(x, w, b, { padding: 1, activation: 'tanh' }),
    },
    {
      name: 'conv2d 3x3 pad 1 + bias, relu in the epilogue',
      // sums of positive products in [2, 18] and a bias of 0 or -50 (+-0.1): live channels stay
      // at least 1.9 above the kink, dead ones far below it
      inputs: [{ shape: [1, 4, 5, 2], lo: 0.5, hi: 1 }, { shape: [3, 3, 2, 3], lo: 0.5, hi: 1 }, { shape: [3] }],
      fn: (x: V, w: V, b: V) => conv2d(x, w, add(mul(b, 0.1), constantLike(b, [3], [0, -50, 0])), { padding: 1, activation: 'relu' }),
    },
  ],
  conv2dGradInput: [
    {
      name: 'conv2dGradInput stride 2',
      inputs: [{ shape: [1, 3, 3, 3] }, { shape: [3, 3, 2, 3] }],
      fn: (dy: V, w: V) => conv2dGradInput(dy, w, [1, 6, 6, 2], { stride: 2, padding: 1 }),
    },
    {
      name: 'conv2dGradInput depthwise x2 (groups 3, 6 outputs) stride 2',
      inputs: [{ shape: [1, 3, 3, 6] }, { shape: [3, 3, 1, 6] }],
      fn: (dy: V, w: V) => conv2dGradInput(dy, w, [1, 6, 6, 3], { groups: 3, stride: 2, padding: 1 }),
    },
  ],
  conv2dGradWeight: [
    {
      name: 'conv2dGradWeight pad 1',
      inputs: [{ shape: [2, 4, 4, 2] }, { shape: [2, 4, 4, 3] }],
      fn: (x: V, dy: V) => conv2dGradWeight(x, dy, [3, 3, 2, 3], { padding: 1 }),
    },
    {
      name: 'conv2dGradWeight groups 2 dilation 2 pad 2',
      inputs: [{ shape: [2, 5, 5, 4] }, { shape: [2, 5, 5, 6] }],
      fn: (x: V, dy: V) => conv2dGradWeight(x, dy, [3, 3, 2, 6], { groups: 2, dilation: 2, padding: 2 }),
    },
  ],
};
