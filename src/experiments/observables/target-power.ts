/**
 * @file Cumulative target power of a kernel's eigenbasis: with unit eigenvectors v_1, v_2, ...
 * sorted by eigenvalue descending, C(k) = Σ_{i <= k} (v_iᵀ y)² / ||y||². C is non-decreasing and
 * C(n) = 1 for any orthonormal basis; a target aligned with the top eigenvector has C(1) = 1. How
 * fast C rises says how much of the target the kernel's top directions explain (after-kernel
 * alignment).
 */
import type { SymmetricEigen } from './eigen.js';

/** C(1), ..., C(n) (index k - 1 holds C(k)) of target `y` (length n) in the eigenbasis `eig`. */
export function cumulativeTargetPower(eig: SymmetricEigen, y: ArrayLike<number>): Float64Array {
  const { rows: n, cols, data: V } = eig.vectors;
  if (y.length !== n) throw new Error(`cumulativeTargetPower: a target of ${y.length} values for a ${n} x ${cols} eigenbasis (expected ${n})`);
  let norm = 0;
  for (let i = 0; i < n; i++) norm += y[i] * y[i];
  if (!(norm > 0)) throw new Error(`cumulativeTargetPower: the target must have a positive finite norm, got ||y||² = ${norm}`);
  const out = new Float64Array(cols);
  let acc = 0;
  for (let k = 0; k < cols; k++) {
    let dot = 0;
    for (let i = 0; i < n; i++) dot += V[i * cols + k] * y[i];
    acc += (dot * dot) / norm;
    out[k] = acc;
  }
  return out;
}
