/**
 * @file The elementwise ops, one row each: the WGSL body (the `switch` of unary.wgsl and
 * binary.wgsl is generated from it, served as the includes unary_ops.wgsl and binary_ops.wgsl),
 * the f64 reference, and how autograd treats the op. An op's code (the override OP) is its row's
 * position. Adding a row adds the raw op (src/ops/elementwise.ts), its reference
 * (src/reference/elementwise.ts) and, for a smooth op, a differentiable primitive that asks for a
 * rule (src/autograd/primitives/elementwise.ts).
 */

/** erf in f64: Taylor series near 0, Lentz continued fraction for erfc in the tails (~1e-15). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let s = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * s;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const SQRT1_2 = Math.SQRT1_2;
/** NaN at NaN (a step function, like sign), so a NaN input reaches relu's gradient. */
const reluMask = (x: number) => (x > 0 ? 1 : x <= 0 ? 0 : NaN);
const geluGrad = (x: number) => 0.5 * (1 + erf(x * SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

/**
 * How autograd treats a unary op: `smooth` ops are primitives with a rule; `step` ops are
 * piecewise constant (zero gradient, nothing recorded).
 */
interface UnaryRow {
  /** WGSL statements computing the result from `v: f32` (they `return` it). */
  wgsl: string;
  f64: (x: number) => number;
  grad: 'smooth' | 'step';
}

/**
 * How autograd treats a binary op: `smooth` (a primitive with a rule), `compare` (0/1 masks,
 * zero gradient) or `fused` (an activation's backward, g * act'(saved), run by the rules of
 * relu, tanh and gelu: a kernel, not a primitive).
 */
interface BinaryRow {
  /** WGSL statements computing the result from `x: f32` and `y: f32`. */
  wgsl: string;
  f64: (a: number, b: number) => number;
  grad: 'smooth' | 'compare' | 'fused';
}

export const UNARY_TABLE = {
  neg: { wgsl: 'return -v;', f64: (x) => -x, grad: 'smooth' },
  abs: { wgsl: 'return abs(v);', f64: Math.abs, grad: 'smooth' },
  // NaN at NaN
  sign: { wgsl: 'return select(sign(v), v, is_nan(v));', f64: Math.sign, grad: 'step' },
  exp: { wgsl: 'return exp(v);', f64: Math.exp, grad: 'smooth' },
  log: { wgsl: 'return log(v);', f64: Math.log, grad: 'smooth' },
  sqrt: { wgsl: 'return sqrt(v);', f64: Math.sqrt, grad: 'smooth' },
  rsqrt: { wgsl: 'return inverseSqrt(v);', f64: (x) => 1 / Math.sqrt(x), grad: 'smooth' },
  square: { wgsl: 'return v * v;', f64: (x) => x * x, grad: 'smooth' },
  tanh: { wgsl: 'return tanh_stable(v);', f64: Math.tanh, grad: 'smooth' },
  sigmoid: { wgsl: 'return sigmoid_stable(v);', f64: (x) => 1 / (1 + Math.exp(-x)), grad: 'smooth' },
  relu: { wgsl: 'return relu_nan(v);', f64: (x) => Math.max(x, 0), grad: 'smooth' },
  // exact: x Phi(x) through erf
  gelu: { wgsl: 'return gelu_erf(v);', f64: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)), grad: 'smooth' },
  sin: { wgsl: 'return sin(v);', f64: Math.sin, grad: 'smooth' },
  cos: { wgsl: 'return cos(v);', f64: Math.cos, grad: 'smooth' },
  reciprocal: { wgsl: 'return 1.0 / v;', f64: (x) => 1 / x, grad: 'smooth' },
  floor: { wgsl: 'return floor(v);', f64: Math.floor, grad: 'step' },
  ceil: { wgsl: 'return ceil(v);', f64: Math.ceil, grad: 'step' },
  erf: { wgsl: 'return erf_approx(v);', f64: erf, grad: 'smooth' },
  // round half to even, as WGSL and NumPy do
  round: {
    wgsl: 'return round(v);',
    f64: (x) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    },
    grad: 'step',
  },
  // 1 where x > 0, else 0; NaN at NaN
  reluMask: { wgsl: 'return select(select(0.0, 1.0, v > 0.0), v, is_nan(v));', f64: reluMask, grad: 'step' },
  // d gelu / dx = Phi(x) + x phi(x) (a primitive so gelu's rule stays differentiable)
  geluGrad: { wgsl: 'return gelu_grad(v);', f64: geluGrad, grad: 'smooth' },
  log1p: {
    // the (u - 1) correction keeps precision for tiny v
    wgsl: `let u = 1.0 + v;
      if (abs(v) > 0.5) { return log(u); }
      return select(log(u) * v / (u - 1.0), v, u == 1.0);`,
    f64: Math.log1p,
    grad: 'smooth',
  },
  expm1: {
    wgsl: `let u = exp(v);
      if (abs(v) > 0.5) { return u - 1.0; }
      return select((u - 1.0) * v / log(u), v, u == 1.0);`,
    f64: Math.expm1,
    grad: 'smooth',
  },
} as const satisfies Record<string, UnaryRow>;

export const BINARY_TABLE = {
  add: { wgsl: 'return x + y;', f64: (a, b) => a + b, grad: 'smooth' },
  sub: { wgsl: 'return x - y;', f64: (a, b) => a - b, grad: 'smooth' },
  mul: { wgsl: 'return x * y;', f64: (a, b) => a * b, grad: 'smooth' },
  div: { wgsl: 'return x / y;', f64: (a, b) => a / b, grad: 'smooth' },
  // C99 pow as NumPy (binary.wgsl: pow_signed); JS gives NaN for pow(1, NaN), pow(1, +-Inf), pow(-1, +-Inf)
  pow: {
    wgsl: 'return pow_signed(x, y);',
    f64: (a, b) => (a === 1 || b === 0 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b)),
    grad: 'smooth',
  },
  // NaN if either operand is
  maximum: { wgsl: 'return max_nan(x, y);', f64: Math.max, grad: 'smooth' },
  minimum: { wgsl: 'return min_nan(x, y);', f64: Math.min, grad: 'smooth' },
  // comparisons give 1.0 or 0.0
  eq: { wgsl: 'return select(0.0, 1.0, x == y);', f64: (a, b) => +(a === b), grad: 'compare' },
  ne: { wgsl: 'return select(0.0, 1.0, x != y || is_nan(x) || is_nan(y));', f64: (a, b) => +(a !== b), grad: 'compare' },
  lt: { wgsl: 'return select(0.0, 1.0, x < y);', f64: (a, b) => +(a < b), grad: 'compare' },
  le: { wgsl: 'return select(0.0, 1.0, x <= y);', f64: (a, b) => +(a <= b), grad: 'compare' },
  gt: { wgsl: 'return select(0.0, 1.0, x > y);', f64: (a, b) => +(a > b), grad: 'compare' },
  ge: { wgsl: 'return select(0.0, 1.0, x >= y);', f64: (a, b) => +(a >= b), grad: 'compare' },
  // activation backwards, x the upstream gradient and y what the rule keeps (one dispatch instead
  // of 2-3): relu from the input (NaN where it is NaN, as mul and reluMask give), tanh from the
  // output (x (1 - y^2)), gelu from the input (x gelu'(y))
  reluBackward: { wgsl: 'return x * select(select(0.0, 1.0, y > 0.0), y, is_nan(y));', f64: (g, x) => g * reluMask(x), grad: 'fused' },
  tanhBackward: { wgsl: 'return x * (1.0 - y * y);', f64: (g, y) => g * (1 - y * y), grad: 'fused' },
  geluBackward: { wgsl: 'return x * gelu_grad(y);', f64: (g, x) => g * geluGrad(x), grad: 'fused' },
} as const satisfies Record<string, BinaryRow>;

export type UnaryOp = keyof typeof UNARY_TABLE;
export type BinaryOp = keyof typeof BINARY_TABLE;

type Named<T, G> = { [K in keyof T]: T[K] extends { grad: G } ? K : never }[keyof T];
/** Unary ops with a derivative (autograd primitives with a rule). */
export type SmoothUnary = Named<typeof UNARY_TABLE, 'smooth'>;
/** Piecewise-constant unary ops: zero gradient. */
export type StepUnary = Named<typeof UNARY_TABLE, 'step'>;
export type SmoothBinary = Named<typeof BINARY_TABLE, 'smooth'>;
/** Comparisons: 0/1 masks, zero gradient. */
export type CompareBinary = Named<typeof BINARY_TABLE, 'compare'>;

function rowsWith<T extends Record<string, { grad: string }>, G extends string>(table: T, grad: G): Named<T, G>[] {
  return Object.keys(table).filter((k) => table[k].grad === grad) as Named<T, G>[];
}
export const SMOOTH_UNARY = rowsWith(UNARY_TABLE, 'smooth');
export const STEP_UNARY = rowsWith(UNARY_TABLE, 'step');
export const SMOOTH_BINARY = rowsWith(BINARY_TABLE, 'smooth');
export const COMPARE_BINARY = rowsWith(BINARY_TABLE, 'compare');

/** Each op's code: its row's position (the override OP of unary.wgsl and binary.wgsl). */
const codes = <K extends string>(table: Record<K, unknown>) =>
  Object.fromEntries(Object.keys(table).map((k, i) => [k, i])) as { readonly [P in K]: number };
export const UNARY_OPS = codes(UNARY_TABLE);
export const BINARY_OPS = codes(BINARY_TABLE);

/** `fn apply(args) -> f32` switching on OP over the rows (the default returns the first argument). */
function applyFn(table: Record<string, { wgsl: string }>, args: string, first: string): string {
  const cases = Object.values(table).map((r, i) => `    case ${i}u: {\n      ${r.wgsl}\n    }`);
  return [
    '// generated from src/ops/elementwise-table.ts: case i is row i of the table',
    `fn apply(${args}) -> f32 {`,
    '  switch OP {',
    ...cases,
    `    default: { return ${first}; }`,
    '  }',
    '}',
  ].join('\n');
}

/** The include unary_ops.wgsl: `apply(v)` over UNARY_TABLE. */
export const UNARY_WGSL = applyFn(UNARY_TABLE, 'v: f32', 'v');
/** The include binary_ops.wgsl: `apply(x, y)` over BINARY_TABLE. */
export const BINARY_WGSL = applyFn(BINARY_TABLE, 'x: f32, y: f32', 'x');
