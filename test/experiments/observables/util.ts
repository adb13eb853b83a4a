/** Host-side f64 helpers for the observables tests. */
import { mulberry32 } from '../../../src/data/prng.js';
import { matrix, type Matrix } from '../../../src/experiments/observables/matrix.js';

/** Standard normals from a seed (Box-Muller). */
export function normals(count: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

export function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  return matrix(rows, cols, normals(rows * cols, seed));
}

/** A random symmetric n x n matrix. */
export function randomSymmetric(n: number, seed: number): Matrix {
  const a = normals(n * n, seed);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = a[i * n + j] + a[j * n + i];
  return matrix(n, n, s);
}

export function multiply(a: Matrix, b: Matrix): Matrix {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) for (let k = 0; k < a.cols; k++) for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return matrix(a.rows, b.cols, out);
}

export function transpose(a: Matrix): Matrix {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j];
  return matrix(a.cols, a.rows, out);
}

/** A random orthogonal n x n matrix (Gram-Schmidt on a Gaussian matrix). */
export function randomOrthogonal(n: number, seed: number): Matrix {
  const g = normals(n * n, seed);
  const q: Float64Array[] = [];
  for (let c = 0; c < n; c++) {
    const v = Float64Array.from({ length: n }, (_, i) => g[i * n + c]);
    for (const u of q) {
      const d = v.reduce((s, x, i) => s + x * u[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * u[i];
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const out = new Float64Array(n * n);
  for (let c = 0; c < n; c++) for (let i = 0; i < n; i++) out[i * n + c] = q[c][i];
  return matrix(n, n, out);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
