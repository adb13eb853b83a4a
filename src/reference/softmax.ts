/**
 * @file f64 reference of the softmax and log-softmax backward rules, from the forward's output y
 * (the forwards are softmaxRef and logSoftmaxRef in reduce.ts):
 *   softmax:     dx = y (g - sum(g y))      log-softmax: dx = g - exp(y) sum(g)
 */
import { binaryRef, unaryRef } from './elementwise.js';
import { reduceRef } from './reduce.js';
import type { NDArray } from './ndarray.js';

export function softmaxBackwardRef(g: NDArray, y: NDArray, axis = -1): NDArray {
  return binaryRef('mul', y, binaryRef('sub', g, reduceRef('sum', binaryRef('mul', g, y), axis, true)));
}

export function logSoftmaxBackwardRef(g: NDArray, y: NDArray, axis = -1): NDArray {
  return binaryRef('sub', g, binaryRef('mul', unaryRef('exp', y), reduceRef('sum', g, axis, true)));
}
