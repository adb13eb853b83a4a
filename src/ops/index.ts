/**
 * @file Every op of the tensor layer, under PyTorch/NumPy names.
 */
import { BINARY_FNS, UNARY_FNS, where } from './elementwise.js';

export { unary, binary, where, UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from './elementwise.js';
export * from './creation.js';
export * from './layout.js';
export * from './reduce.js';
export * from './softmax.js';

export const {
  neg, abs, sign, exp, log, sqrt, rsqrt, square, tanh, sigmoid, relu, gelu, geluGrad, reluMask, sin, cos, reciprocal,
  floor, ceil, round, erf, log1p, expm1,
} = UNARY_FNS;
export const { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge } = BINARY_FNS;
export { where as select };
export * from './norm.js';
export * from './loss.js';
export * from './embedding.js';
export * from './optim.js';
export * from './matmul.js';
export * from './conv2d.js';
export * from './attention.js';
