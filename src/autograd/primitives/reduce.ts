/**
 * @file The reductions (sum, mean, max, min over axes: src/ops/reduce.ts on the GPU), their rules
 * and cases, and sumTo (the tape's reduction of a broadcast gradient to an input's shape).
 */
import * as raw from '../../ops/reduce.js';
import type { ReduceOp } from '../../ops/reduce.js';
import { reduceRef } from '../../reference/reduce.js';
import { tidy } from '../../tensor/scope.js';
import { normAxes, sameShape, type Shape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { nd } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor, type Operand, type PrimitiveDef, type Rule } from '../primitive.js';
import { apply } from '../tape.js';
import { div, eq, mul } from './elementwise.js';
import { expand, reshape } from './layout.js';

type T = GradTensor;

/** Axes normalized (non-negative, sorted, unique) before a reduction is recorded. */
export interface ReduceParams {
  axes: number[];
  keepdims: boolean;
}

export type ReduceFamilyParams = { [K in ReduceOp]: ReduceParams };

/** Shape of a reduction's output with the reduced axes kept as 1. */
const kept = (shape: readonly number[], axes: number[]) => shape.map((d, i) => (axes.includes(i) ? 1 : d));

/** max and min: the gradient goes to the elements equal to the result, split evenly among ties. */
const extremum: Rule<ReduceParams> = (g, { inputs: [x], out, shapes: [s], params: { axes } }) => {
  const mask = eq(x, reshape(out, kept(s, axes)));
  const share = div(mask, sum(mask, axes, true));
  return [mul(share, reshape(g, kept(s, axes)))];
};

const forward = (op: ReduceOp) => ({
  gpu: (xs: readonly Operand<Tensor>[], p: ReduceParams) => raw.reduce(op, xs[0] as Tensor, p.axes, p.keepdims),
  f64: (xs: readonly Operand<F64Tensor>[], p: ReduceParams) => F64Tensor.fromNd(reduceRef(op, nd(xs[0], op), p.axes, p.keepdims)),
});

export const REDUCE = definePrimitives<ReduceFamilyParams>({
  // every element of a reduced slice gets its slice's gradient
  sum: { ...forward('sum'), rule: (g, { shapes: [s], params: { axes } }) => [expand(reshape(g, kept(s, axes)), s)] },
  // ... divided by the slice's length
  mean: {
    ...forward('mean'),
    rule: (g, { shapes: [s], params: { axes } }) => {
      const n = axes.reduce((p, a) => p * s[a], 1);
      return [expand(mul(reshape(g, kept(s, axes)), 1 / n), s)];
    },
  },
  max: { ...forward('max'), rule: extremum },
  min: { ...forward('min'), rule: extremum },
});

// ---------------------------------------------------------------- differentiable ops

export function reduce<A extends T>(op: ReduceOp, x: A, axes?: number | readonly number[], keepdims = false): A {
  return apply(REDUCE[op] as PrimitiveDef<ReduceParams>, [x], { axes: normAxes(op, axes, x.shape), keepdims });
}
export const sum = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('sum', x, axes, keepdims);
export const mean = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('mean', x, axes, keepdims);
export const max = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('max', x, axes, keepdims);
export const min = <A extends T>(x: A, axes?: number | readonly number[], keepdims = false) => reduce('min', x, axes, keepdims);

/** Sums x over the axes that broadcasting added or stretched, down to `shape`. */
export function sumTo<A extends T>(x: A, shape: Shape): A {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.shape.length - shape.length;
  const axes = [...x.shape.keys()].filter((i) => i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1));
  return tidy(() => reshape(sum(x, axes, true), shape));
}

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const REDUCE_CASES: Cases<ReduceFamilyParams> = {
  sum: [
    { name: 'sum over [0, 2]', inputs: [{ shape: [2, 3, 4] }], fn: (x: V) => sum(x, [0, 2]) },
    { name: 'sum all', inputs: [{ shape: [3, 4] }], fn: (x: V) => sum(x) },
    { name: 'sum axis 1 keepdims', inputs: [{ shape: [3, 4] }], fn: (x: V) => sum(x, 1, true) },
  ],
  mean: [
    { name: 'mean over [1]', inputs: [{ shape: [2, 3, 4] }], fn: (x: V) => mean(x, 1) },
    { name: 'mean all keepdims', inputs: [{ shape: [3, 4] }], fn: (x: V) => mean(x, undefined, true) },
  ],
  max: [{ name: 'max axis 1', inputs: [{ shape: [3, 5] }], fn: (x: V) => max(x, 1) }],
  min: [{ name: 'min over [0, 2]', inputs: [{ shape: [2, 3, 4] }], fn: (x: V) => min(x, [0, 2]) }],
};
