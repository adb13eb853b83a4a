/**
 * @file The softmax and logSoftmax primitives (one fused kernel each way: src/ops/softmax.ts),
 * their rules and cases. Both save nothing but their output y:
 *   softmax:     dx = y (g - sum(g y))      logSoftmax: dx = g - exp(y) sum(g)
 * The first-order backward is the fused kernel; a recorded backward (createGraph) is composed.
 */
import { logSoftmax as rawLogSoftmax, logSoftmaxBackward, softmax as rawSoftmax, softmaxBackward } from '../../ops/softmax.js';
import { logSoftmaxRef, softmaxRef } from '../../reference/reduce.js';
import { logSoftmaxBackwardRef, softmaxBackwardRef } from '../../reference/softmax.js';
import { normAxis } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { nd, onBackend } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor, type PrimitiveDef } from '../primitive.js';
import { apply, isGradEnabled } from '../tape.js';
import { exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';

type T = GradTensor;

export interface SoftmaxFamilyParams {
  /** exp(x) / sum(exp(x)) along `axis` (normalized), shifted by the row max. */
  softmax: { axis: number };
  /** x - logsumexp(x) along `axis` (normalized). */
  logSoftmax: { axis: number };
}

type Name = keyof SoftmaxFamilyParams;

/**
 * One member of the family: its fused forward and backward (GPU kernel and f64 reference) and its
 * composed backward from g and the output y, recorded under createGraph.
 */
function member(name: Name, kernels: {
  forward: (x: Tensor, axis: number) => Tensor;
  forwardRef: typeof softmaxRef;
  backward: (g: Tensor, y: Tensor, axis: number) => Tensor;
  backwardRef: typeof softmaxBackwardRef;
  composed: <A extends T>(g: A, y: A, axis: number) => A;
}): Omit<PrimitiveDef<{ axis: number }>, 'name'> {
  const fused = {
    gpu: kernels.backward,
    f64: (g: F64Tensor, y: F64Tensor, axis: number) => F64Tensor.fromNd(kernels.backwardRef(g.nd, y.nd, axis)),
  };
  return {
    gpu: (xs, p) => kernels.forward(xs[0] as Tensor, p.axis),
    f64: (xs, p) => F64Tensor.fromNd(kernels.forwardRef(nd(xs[0], name), p.axis)),
    rule: (g, { out: y, params: { axis }, needs }) => {
      if (!needs[0]) return [null];
      if (!isGradEnabled()) return [onBackend(name, g, fused)(g, y, axis) as typeof g];
      return [kernels.composed(g, y, axis)];
    },
  };
}

export const SOFTMAX = definePrimitives<SoftmaxFamilyParams>({
  softmax: member('softmax', {
    forward: rawSoftmax, forwardRef: softmaxRef, backward: softmaxBackward, backwardRef: softmaxBackwardRef,
    composed: (g, y, axis) => mul(y, sub(g, sum(mul(g, y), axis, true))),
  }),
  logSoftmax: member('logSoftmax', {
    forward: rawLogSoftmax, forwardRef: logSoftmaxRef, backward: logSoftmaxBackward, backwardRef: logSoftmaxBackwardRef,
    composed: (g, y, axis) => sub(g, mul(exp(y), sum(g, axis, true))),
  }),
});

/** exp(x) / sum(exp(x)) along `axis`: one fused kernel forward and backward. */
export function softmax<A extends T>(x: A, axis = -1): A {
  return apply(SOFTMAX.softmax, [x], { axis: normAxis('softmax', axis, x.shape.length, x.shape) });
}

/** x - logsumexp(x) along `axis`: one fused kernel forward and backward. */
export function logSoftmax<A extends T>(x: A, axis = -1): A {
  return apply(SOFTMAX.logSoftmax, [x], { axis: normAxis('logSoftmax', axis, x.shape.length, x.shape) });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const SOFTMAX_CASES: Cases<SoftmaxFamilyParams> = {
  softmax: [
    { name: 'softmax [3, 5]', inputs: [{ shape: [3, 5] }], fn: (x: V) => softmax(x) },
    { name: 'softmax axis 0 [4, 3]', inputs: [{ shape: [4, 3] }], fn: (x: V) => softmax(x, 0) },
  ],
  logSoftmax: [
    { name: 'logSoftmax [3, 5]', inputs: [{ shape: [3, 5] }], fn: (x: V) => logSoftmax(x) },
    { name: 'logSoftmax axis 0 [3, 5]', inputs: [{ shape: [3, 5] }], fn: (x: V) => logSoftmax(x, 0) },
  ],
};
