/**
 * @file The elementwise primitives: every unary and binary op of src/ops/elementwise-table.ts
 * that autograd records (smooth ones with a rule, step functions and comparisons with none) and
 * `where`. Their forwards come from the table; here are their rules, the fused activation
 * backward (relu, tanh, gelu: one kernel for g * act'), their gradcheck cases and the
 * differentiable wrappers (neg, exp, add, mul, ...), one per row of the table.
 */
import * as raw from '../../ops/elementwise.js';
import { full } from '../../ops/creation.js';
import {
  COMPARE_BINARY, SMOOTH_BINARY, SMOOTH_UNARY, STEP_UNARY,
  type CompareBinary, type SmoothBinary, type SmoothUnary, type StepUnary, type UnaryOp,
} from '../../ops/elementwise-table.js';
import { binaryRef, unaryRef, whereRef } from '../../reference/elementwise.js';
import type { NDArray } from '../../reference/ndarray.js';
import type { Tensor } from '../../tensor/tensor.js';
import { nd, onBackend } from '../backends.js';
import { F64Tensor } from '../f64.js';
import {
  definePrimitives, noGradient,
  type Case, type Cases, type GradTensor, type NoParams, type Operand, type PrimitiveDef, type Rule,
} from '../primitive.js';
import { apply, isGradEnabled } from '../tape.js';

type T = GradTensor;

/** The elementwise primitives and their parameters (none). */
export type ElementwiseParams = { [K in SmoothUnary | StepUnary | SmoothBinary | CompareBinary]: NoParams } & {
  /** cond != 0 ? a : b, broadcast together; inputs [cond, a, b]. */
  where: NoParams;
};

// ---------------------------------------------------------------- forwards

const G = (x: Operand<Tensor>): Tensor => x as Tensor;

const F = (a: NDArray) => F64Tensor.fromNd(a);

const unaryForward = (op: UnaryOp) => ({
  gpu: (xs: readonly Operand<Tensor>[]) => raw.unary(op, G(xs[0])),
  f64: (xs: readonly Operand<F64Tensor>[]) => F(unaryRef(op, nd(xs[0], op))),
});
const binaryForward = (op: SmoothBinary | CompareBinary) => ({
  gpu: (xs: readonly Operand<Tensor>[]) => raw.binary(op, xs[0], xs[1]),
  f64: (xs: readonly Operand<F64Tensor>[]) => F(binaryRef(op, nd(xs[0], op), nd(xs[1], op))),
});

function gpuWhere(xs: readonly Operand<Tensor>[]): Tensor {
  const like = xs.find((x): x is Tensor => typeof x !== 'number')!;
  const made: Tensor[] = [];
  const t = xs.map((x) => (typeof x === 'number' ? (made[made.length] = full([], x, { device: like.device })) : x));
  const out = raw.where(t[0], t[1], t[2]);
  for (const m of made) m.dispose();
  return out;
}

/** g * act'(...) in one op: relu and gelu from the input x, tanh from the output y (not recorded). */
const activationBackward = {
  gpu: (kind: 'relu' | 'tanh' | 'gelu', g: Tensor, saved: Tensor) => raw.binary(`${kind}Backward`, g, saved),
  f64: (kind: 'relu' | 'tanh' | 'gelu', g: F64Tensor, saved: F64Tensor) => F(binaryRef(`${kind}Backward`, g.nd, saved.nd)),
};
function fusedActivation<A extends T>(kind: 'relu' | 'tanh' | 'gelu', g: A, saved: A): A {
  return onBackend(kind, g, activationBackward)(kind, g, saved) as A;
}

// ---------------------------------------------------------------- rules

/** 1/sqrt(2 pi) and 2/sqrt(pi), for the Gaussian density in gelu'' and erf'. */
const INV_SQRT_2PI = 0.398942280401432678;
const TWO_OVER_SQRT_PI = 1.12837916709551257;

/** maximum and minimum: the gradient goes to the larger (smaller) operand, ties split in half. */
const pick = (winsA: 'gt' | 'lt'): Rule<NoParams> => (g, { inputs: [a, b] }) => {
  const wa = add(binary(winsA, a, b), mul(eq(a, b), 0.5));
  return [mul(g, wa), mul(g, sub(1, wa))];
};

const X = <A extends T>(x: Operand<A>) => x as A;

const UNARY_RULES: { [K in SmoothUnary]: Rule<NoParams> } = {
  // d(-x) = -dx
  neg: (g) => [neg(g)],
  // d|x| = sign(x) dx
  abs: (g, { inputs: [x] }) => [mul(g, sign(X(x)))],
  // d e^x = e^x dx
  exp: (g, { out }) => [mul(g, out)],
  // d log x = dx / x
  log: (g, { inputs: [x] }) => [div(g, x)],
  // d sqrt(x) = dx / (2 sqrt(x))
  sqrt: (g, { out }) => [div(g, mul(out, 2))],
  // d x^(-1/2) = -1/2 x^(-3/2) dx = -1/2 (out / x) dx
  rsqrt: (g, { inputs: [x], out }) => [mul(g, mul(div(out, x), -0.5))],
  // d x^2 = 2x dx
  square: (g, { inputs: [x] }) => [mul(g, mul(X(x), 2))],
  // d tanh x = (1 - tanh^2 x) dx
  tanh: (g, { out }) => [isGradEnabled() ? mul(g, sub(1, square(out))) : fusedActivation('tanh', g, out)],
  // d sigmoid x = s (1 - s) dx
  sigmoid: (g, { out }) => [mul(g, mul(out, sub(1, out)))],
  // d relu x = [x > 0] dx
  relu: (g, { inputs: [x] }) => [isGradEnabled() ? mul(g, reluMask(X(x))) : fusedActivation('relu', g, X(x))],
  // d gelu x = (Phi(x) + x phi(x)) dx
  gelu: (g, { inputs: [x] }) => [isGradEnabled() ? mul(g, geluGrad(X(x))) : fusedActivation('gelu', g, X(x))],
  // d (Phi(x) + x phi(x)) = phi(x) (2 - x^2) dx, phi(x) = exp(-x^2/2) / sqrt(2 pi)
  geluGrad: (g, { inputs: [x] }) => {
    const x2 = square(X(x));
    return [mul(g, mul(mul(exp(mul(x2, -0.5)), INV_SQRT_2PI), sub(2, x2)))];
  },
  // d sin x = cos x dx
  sin: (g, { inputs: [x] }) => [mul(g, cos(X(x)))],
  // d cos x = -sin x dx
  cos: (g, { inputs: [x] }) => [neg(mul(g, sin(X(x))))],
  // d(1/x) = -x^-2 dx
  reciprocal: (g, { out }) => [neg(mul(g, square(out)))],
  // d erf x = 2/sqrt(pi) exp(-x^2) dx
  erf: (g, { inputs: [x] }) => [mul(g, mul(exp(neg(square(X(x)))), TWO_OVER_SQRT_PI))],
  // d log(1 + x) = dx / (1 + x)
  log1p: (g, { inputs: [x] }) => [div(g, add(x, 1))],
  // d (e^x - 1) = e^x dx = (out + 1) dx
  expm1: (g, { out }) => [mul(g, add(out, 1))],
};

const BINARY_RULES: { [K in SmoothBinary]: Rule<NoParams> } = {
  // d(a + b) = da + db
  add: (g) => [g, g],
  // d(a - b) = da - db
  sub: (g, { needs }) => [g, needs[1] ? neg(g) : null],
  // d(ab) = b da + a db
  mul: (g, { inputs: [a, b], needs }) => [needs[0] ? mul(g, b) : null, needs[1] ? mul(g, a) : null],
  // d(a/b) = da / b - (a / b^2) db = da / b - (out / b) db
  div: (g, { inputs: [, b], out, needs }) => [needs[0] ? div(g, b) : null, needs[1] ? neg(div(mul(g, out), b)) : null],
  // d a^b = b a^(b-1) da + a^b log(a) db
  pow: (g, { inputs: [a, b], out, needs }) => [
    needs[0] ? mul(g, typeof b === 'number' ? mul(pow(a, b - 1), b) : mul(b, pow(a, sub(b, 1)))) : null,
    needs[1] ? mul(mul(g, out), typeof a === 'number' ? Math.log(a) : log(a)) : null,
  ],
  maximum: pick('gt'),
  minimum: pick('lt'),
};

// ---------------------------------------------------------------- the defs

const each = <K extends string, V>(names: readonly K[], f: (k: K) => V) => Object.fromEntries(names.map((n) => [n, f(n)])) as Record<K, V>;

export const ELEMENTWISE = definePrimitives<ElementwiseParams>({
  ...each(SMOOTH_UNARY, (op) => ({ ...unaryForward(op), rule: UNARY_RULES[op] })),
  ...each(STEP_UNARY, (op) => ({ ...unaryForward(op), rule: noGradient })),
  ...each(SMOOTH_BINARY, (op) => ({ ...binaryForward(op), rule: BINARY_RULES[op] })),
  ...each(COMPARE_BINARY, (op) => ({ ...binaryForward(op), rule: noGradient })),
  where: {
    gpu: gpuWhere,
    f64: (xs) => F(whereRef(nd(xs[0], 'where'), nd(xs[1], 'where'), nd(xs[2], 'where'))),
    // the selected branch gets the gradient; the condition gets none
    rule: (g, { inputs: [c], needs }) => [null, needs[1] ? where(X(c), g, 0) : null, needs[2] ? where(X(c), 0, g) : null],
  },
});

// ---------------------------------------------------------------- differentiable ops

export function unary<A extends T>(op: UnaryOp, x: A): A {
  return apply(ELEMENTWISE[op as SmoothUnary | StepUnary] as PrimitiveDef<NoParams>, [x], {});
}
/** A differentiable binary op (the activation backwards of BINARY_OPS are kernels, not primitives). */
export function binary<A extends T>(op: SmoothBinary | CompareBinary, a: Operand<A>, b: Operand<A>): A {
  return apply(ELEMENTWISE[op] as PrimitiveDef<NoParams>, [a, b], {});
}

const unaryFns = each([...SMOOTH_UNARY, ...STEP_UNARY], (op) => <A extends T>(x: A) => unary(op, x)) as {
  readonly [K in SmoothUnary | StepUnary]: <A extends T>(x: A) => A;
};
const binaryFns = each([...SMOOTH_BINARY, ...COMPARE_BINARY], (op) => <A extends T>(a: Operand<A>, b: Operand<A>) => binary(op, a, b)) as {
  readonly [K in SmoothBinary | CompareBinary]: <A extends T>(a: Operand<A>, b: Operand<A>) => A;
};

// geluGrad: d gelu / dx = Phi(x) + x phi(x); reluMask: 1 where x > 0, else 0 (zero gradient)
export const {
  neg, abs, sign, exp, log, sqrt, rsqrt, square, tanh, sigmoid, relu, gelu, geluGrad, reluMask, sin, cos, reciprocal,
  floor, ceil, round, erf, log1p, expm1,
} = unaryFns;
export const { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge } = binaryFns;

/** cond != 0 ? a : b, all three broadcast together (cond gets no gradient). */
export function where<A extends T>(cond: A, a: Operand<A>, b: Operand<A>): A {
  return apply(ELEMENTWISE.where, [cond, a, b], {});
}

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

/** Input ranges where each unary function is smooth and well conditioned. */
const UNARY_RANGE: Partial<Record<SmoothUnary, [number, number]>> = {
  log: [0.5, 2], sqrt: [0.5, 2], rsqrt: [0.5, 2], reciprocal: [0.5, 2], log1p: [-0.5, 2], exp: [-2, 2],
};

const unaryCase = (op: SmoothUnary): Case[] => {
  const [lo, hi] = UNARY_RANGE[op] ?? [-2, 2];
  return [{ name: op, inputs: [{ shape: [3, 4], lo, hi }], fn: (x: V) => unary(op, x) }];
};

/** A step function: its (zero) gradient seen through x * step(x). */
const stepCase = (op: StepUnary): Case[] => [
  { name: `x * ${op}(x)`, inputs: [{ shape: [3, 4], lo: -2.9, hi: 2.9 }], fn: (x: V) => mul(x, unary(op, x)) },
];

const binaryCases = (op: SmoothBinary): Case[] => {
  const pos = op === 'pow' || op === 'div';
  const a = { shape: [3, 4], lo: pos ? 0.5 : -2, hi: 2 };
  const b = { shape: [4], lo: op === 'pow' ? -1.5 : pos ? 0.5 : -2, hi: op === 'pow' ? 1.5 : 2 };
  const cases: Case[] = [
    { name: `${op} [3, 4] by [4]`, inputs: [a, b], fn: (x: V, y: V) => binary(op, x, y) },
    { name: `${op} [3, 1] by [1, 4]`, inputs: [{ ...a, shape: [3, 1] }, { ...b, shape: [1, 4] }], fn: (x: V, y: V) => binary(op, x, y) },
  ];
  if (op === 'pow') {
    cases.push({ name: 'pow(x, 3)', inputs: [a], fn: (x: V) => pow(x, 3) }, { name: 'pow(2, x)', inputs: [b], fn: (x: V) => pow(2, x) });
  } else {
    cases.push({ name: `${op}(1.5, x)`, inputs: [pos ? b : a], fn: (x: V) => binary(op, 1.5, x) });
  }
  return cases;
};

const compareCase = (op: CompareBinary): Case[] => [
  { name: `where(${op}(a, b), a, b)`, inputs: [{ shape: [3, 4] }, { shape: [4] }], fn: (a: V, b: V) => where(binary(op, a, b), a, b) },
];

export const ELEMENTWISE_CASES: Cases<ElementwiseParams> = {
  ...each(SMOOTH_UNARY, unaryCase),
  ...each(STEP_UNARY, stepCase),
  ...each(SMOOTH_BINARY, binaryCases),
  ...each(COMPARE_BINARY, compareCase),
  where: [
    {
      name: 'where(c > 0, a, b) broadcast',
      inputs: [{ shape: [3, 1] }, { shape: [3, 4] }, { shape: [4] }],
      fn: (c: V, a: V, b: V) => where(gt(c, 0), a, b),
    },
    { name: 'where(c > 0, a, 0)', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], fn: (c: V, a: V) => where(gt(c, 0), a, 0) },
  ],
};
