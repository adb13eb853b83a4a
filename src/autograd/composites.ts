/**
 * @file Differentiable ops composed from the primitives (they inherit their gradients):
 * logsumexp, variance, std; and their gradcheck cases.
 */
import { tidy } from '../tensor/scope.js';
import { normAxes, sizeOf, type Shape } from '../tensor/shape.js';
import { detach } from './backends.js';
import type { Case, GradTensor } from './primitive.js';
import { add, exp, log, mul, sqrt, square, sub } from './primitives/elementwise.js';
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

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const compositeCases: Case[] = [
  { name: 'logsumexp', inputs: [{ shape: [3, 5] }], fn: (x: V) => logsumexp(x, 1) },
  { name: 'variance (Bessel)', inputs: [{ shape: [3, 5] }], fn: (x: V) => variance(x, 1, false, 1) },
  { name: 'std', inputs: [{ shape: [3, 5] }], fn: (x: V) => std(x, 0) },
];
