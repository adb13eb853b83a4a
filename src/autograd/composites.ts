/**
 * @file Differentiable ops composed from the primitives (they inherit their gradients):
 * logsumexp, variance, std, softmax, logSoftmax; and their gradcheck cases.
 */
import { tidy } from '../tensor/scope.js';
import { normAxes, normAxis, sizeOf, type Shape } from '../tensor/shape.js';
import { detach } from './backends.js';
import type { Case, GradTensor } from './primitive.js';
import { add, div, exp, log, mul, sqrt, square, sub } from './primitives/elementwise.js';
import { reshape } from './primitives/layout.js';
import { max, mean, sum } from './primitives/reduce.js';

type T = GradTensor;

function reduceShape(shape: Shape, axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** log(sum(exp(x))) over `axes`, shifted by the (detached) max: d = softmax(x). */
export function logsumexp<A extends T>(x: A, axes?: number | readonly number[], keepdims = false): A {
  return tidy(() => {
    const ax = normAxes('logsumexp', axes, x.shape);
    // over empty axes: log(0) = -Inf, as NumPy and PyTorch (no max to shift by)
    if (ax.some((a) => x.shape[a] === 0)) return log(sum(exp(x), ax, keepdims));
    const m = detach(max(x, ax, true));
    const r = add(log(sum(exp(sub(x, m)), ax, true)), m);
    return keepdims ? r : reshape(r, reduceShape(x.shape, ax, false));
  });
}

/** Variance over `axes` with `correction` (0: population, 1: Bessel), two-pass. */
export function variance<A extends T>(x: A, axes?: number | readonly number[], keepdims = false, correction = 0): A {
  return tidy(() => {
    const ax = normAxes('variance', axes, x.shape);
    const n = sizeOf(ax.map((a) => x.shape[a]));
    if (n - correction <= 0) throw new Error(`variance: ${n} items over axes ${JSON.stringify(ax)} with correction ${correction}`);
    const d = sub(x, mean(x, ax, true));
    return mul(sum(square(d), ax, keepdims), 1 / (n - correction));
  });
}

export function std<A extends T>(x: A, axes?: number | readonly number[], keepdims = false, correction = 0): A {
  normAxes('std', axes, x.shape);
  return tidy(() => sqrt(variance(x, axes, keepdims, correction)));
}

/** exp(x) / sum(exp(x)) along `axis`, shifted by the (detached) max. */
export function softmax<A extends T>(x: A, axis = -1): A {
  normAxis('softmax', axis, x.shape.length, x.shape);
  if (sizeOf(x.shape) === 0) return mul(x, 1); // empty in, empty out (no max to shift by)
  return tidy(() => {
    const e = exp(sub(x, detach(max(x, axis, true))));
    return div(e, sum(e, axis, true));
  });
}

/** x - logsumexp(x) along `axis`. */
export function logSoftmax<A extends T>(x: A, axis = -1): A {
  normAxis('logSoftmax', axis, x.shape.length, x.shape);
  if (sizeOf(x.shape) === 0) return mul(x, 1); // empty in, empty out
  return tidy(() => sub(x, logsumexp(x, axis, true)));
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const compositeCases: Case[] = [
  { name: 'softmax', inputs: [{ shape: [3, 5] }], fn: (x: V) => softmax(x) },
  { name: 'logSoftmax axis 0', inputs: [{ shape: [3, 5] }], fn: (x: V) => logSoftmax(x, 0) },
  { name: 'logsumexp', inputs: [{ shape: [3, 5] }], fn: (x: V) => logsumexp(x, 1) },
  { name: 'variance (Bessel)', inputs: [{ shape: [3, 5] }], fn: (x: V) => variance(x, 1, false, 1) },
  { name: 'std', inputs: [{ shape: [3, 5] }], fn: (x: V) => std(x, 0) },
];
