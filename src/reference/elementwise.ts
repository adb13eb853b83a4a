/**
 * @file f64 reference of the elementwise ops (unary, binary with broadcasting, where).
 */
import { BINARY_TABLE, UNARY_TABLE, type BinaryOp, type UnaryOp } from '../ops/elementwise-table.js';
import { mapBroadcast, type NDArray } from './ndarray.js';

export { erf } from '../ops/elementwise-table.js';

/** Each unary op's f64 function (the rows of UNARY_TABLE). */
export const UNARY_REF = Object.fromEntries(Object.entries(UNARY_TABLE).map(([k, r]) => [k, r.f64])) as {
  readonly [K in UnaryOp]: (x: number) => number;
};

/** Each binary op's f64 function (the rows of BINARY_TABLE). */
export const BINARY_REF = Object.fromEntries(Object.entries(BINARY_TABLE).map(([k, r]) => [k, r.f64])) as {
  readonly [K in BinaryOp]: (a: number, b: number) => number;
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
