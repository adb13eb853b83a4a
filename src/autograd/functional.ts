/**
 * @file The functional API (grad, valueAndGrad, vjp) and Hessian-vector products: exact (by
 * differentiating the recorded backward pass) and by finite differences of gradients.
 * None of these touch `.grad` fields: arguments are wrapped as fresh leaves.
 */
import { tidy } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { backendOf } from './backends.js';
import { add, detach, mul, sub, sum } from './ops.js';
import type { GradTensor } from './primitive.js';
import { isTracked, noGrad } from './tape.js';
import { gradients, type BackwardOptions } from './backward.js';

type T = GradTensor;

/** Leaves sharing the arguments' values: the graph of `fn` starts at them. */
function leavesOf<A extends T>(xs: readonly A[], what: string): A[] {
  return xs.map((x, i) => {
    if (x.disposed) throw new Error(`${what}: argument ${i} ${fmt(x.shape)} was disposed`);
    if (x.dtype === 'i32') throw new Error(`${what}: argument ${i} ${fmt(x.shape)} has dtype i32; only float tensors have gradients`);
    const leaf = backendOf(what, [x]).alias(x, null) as A;
    leaf.requiresGrad = true;
    return leaf;
  });
}

function gradsOrZeros<A extends T>(y: A, xs: A[], opts: BackwardOptions<A> = {}): A[] {
  if (isTracked(y)) return gradients(y, xs, opts);
  return xs.map((x) => backendOf('grad', [x]).constant(x, x.shape, 0) as A);
}

function checkScalar(y: T, what: string): void {
  if (y.size !== 1) throw new Error(`${what}: the function returned shape ${fmt(y.shape)}; it must return one element`);
}

/** grad(fn)(...xs): the gradients of a one-element fn with respect to each argument. */
export function grad<A extends T>(fn: (...xs: A[]) => A): (...xs: A[]) => A[] {
  return (...xs) => valueAndGrad(fn)(...xs).grads;
}

/** valueAndGrad(fn)(...xs): fn's value (detached) and its gradients. */
export function valueAndGrad<A extends T>(fn: (...xs: A[]) => A): (...xs: A[]) => { value: A; grads: A[] } {
  return (...xs) => {
    const leaves = leavesOf(xs, 'grad');
    try {
      return tidy(() => {
        const y = fn(...leaves);
        checkScalar(y, 'grad');
        return { value: detach(y), grads: gradsOrZeros(y, leaves) };
      });
    } finally {
      for (const l of leaves) l.dispose();
    }
  };
}

export interface VJP<A extends T> {
  /** fn's output (detached). */
  out: A;
  /** The gradients of <cotangent, fn(xs)> with respect to each argument; may be called repeatedly. */
  vjp(cotangent: A): A[];
  /** Releases the recorded graph and `out`. */
  dispose(): void;
}

/** vjp(fn, ...xs): fn's output and a function pulling cotangents back to the arguments. */
export function vjp<A extends T>(fn: (...xs: A[]) => A, ...xs: A[]): VJP<A> {
  const leaves = leavesOf(xs, 'vjp');
  const y = tidy(() => fn(...leaves));
  const out = detach(y);
  return {
    out,
    vjp: (ct) => {
      if (!sameShape(ct.shape, y.shape)) throw new Error(`vjp: cotangent ${fmt(ct.shape)} for output ${fmt(y.shape)}`);
      return tidy(() => gradsOrZeros(y, leaves, { grad: ct, retainGraph: true }));
    },
    dispose: () => {
      out.dispose();
      y.dispose();
      for (const l of leaves) l.dispose();
    },
  };
}

function checkPairs(params: readonly T[], v: readonly T[], what: string): void {
  if (params.length !== v.length) throw new Error(`${what}: ${params.length} parameters but ${v.length} directions`);
  params.forEach((p, i) => {
    if (!sameShape(p.shape, v[i].shape)) throw new Error(`${what}: direction ${i} ${fmt(v[i].shape)} for parameter ${fmt(p.shape)}`);
  });
}

/**
 * Exact Hessian-vector product H v of a one-element f at `params`: the gradient of
 * <grad f(params), v>, differentiating the recorded backward pass (double backward).
 */
export function hvp<A extends T>(f: (...ps: A[]) => A, params: readonly A[], v: readonly A[]): A[] {
  checkPairs(params, v, 'hvp');
  const leaves = leavesOf(params, 'hvp');
  try {
    return tidy(() => {
      const y = f(...leaves);
      checkScalar(y, 'hvp');
      const gs = gradients(y, leaves, { createGraph: true });
      const dot = gs.map((g, i) => sum(mul(g, v[i]))).reduce((a, b) => add(a, b));
      return gradsOrZeros(dot, leaves);
    });
  } finally {
    for (const l of leaves) l.dispose();
  }
}

/**
 * H v by central differences of gradients: (grad f(p + eps v) - grad f(p - eps v)) / (2 eps).
 * Error O(eps^2) from curvature plus O(rounding / eps): in f64 eps ~ 1e-4 gives ~1e-8; in f32
 * pick eps ~ 1e-2 and expect ~1e-3 relative agreement.
 */
export function hvpFiniteDiff<A extends T>(f: (...ps: A[]) => A, params: readonly A[], v: readonly A[], eps = 1e-4): A[] {
  checkPairs(params, v, 'hvpFiniteDiff');
  return tidy(() => {
    const shifted = (s: number) => noGrad(() => params.map((p, i) => add(p, mul(v[i], s))));
    const gPlus = grad(f)(...shifted(eps));
    const gMinus = grad(f)(...shifted(-eps));
    return gPlus.map((g, i) => mul(sub(g, gMinus[i]), 1 / (2 * eps)));
  });
}
