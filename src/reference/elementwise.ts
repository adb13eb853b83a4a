/**
 * @file f64 reference of the elementwise ops (unary, binary with broadcasting, where).
 */
import type { BinaryOp, UnaryOp } from '../ops/elementwise.js';
import { mapBroadcast, type NDArray } from './ndarray.js';

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

export const UNARY_REF: { [K in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
  gelu: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)),
  sin: Math.sin,
  cos: Math.cos,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  ceil: Math.ceil,
  erf,
  // round half to even, as WGSL and NumPy do
  round: (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
  // NaN at NaN (a step function, like sign), so a NaN input reaches relu's gradient
  reluMask: (x) => (x > 0 ? 1 : x <= 0 ? 0 : NaN),
  geluGrad: (x) => 0.5 * (1 + erf(x * SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
  log1p: Math.log1p,
  expm1: Math.expm1,
};

export const BINARY_REF: { [K in BinaryOp]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // C99 pow as NumPy: JS gives NaN for pow(1, NaN), pow(1, +-Inf) and pow(-1, +-Inf)
  pow: (a, b) => (a === 1 || b === 0 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b)),
  maximum: Math.max,
  minimum: Math.min,
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  reluBackward: (g, x) => g * UNARY_REF.reluMask(x),
  tanhBackward: (g, y) => g * (1 - y * y),
  geluBackward: (g, x) => g * UNARY_REF.geluGrad(x),
};

export function unaryRef(op: UnaryOp, x: NDArray): NDArray {
  return mapBroadcast(op, [x], UNARY_REF[op]);
}

export function binaryRef(op: BinaryOp, a: NDArray, b: NDArray): NDArray {
  return mapBroadcast(op, [a, b], BINARY_REF[op]);
}

export function whereRef(cond: NDArray, a: NDArray, b: NDArray): NDArray {
  return mapBroadcast('where', [cond, a, b], (c, x, y) => (c !== 0 ? x : y));
}
