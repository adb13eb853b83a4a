/**
 * @file Dense f64 matrices on the host (row-major), the common currency of the observables:
 * features n x N, Gram matrices and kernels n x n.
 */

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major, rows * cols values. */
  data: Float64Array;
}

/** A matrix over `data` (shared, not copied); throws when the sizes disagree. */
export function matrix(rows: number, cols: number, data: ArrayLike<number>, what = 'matrix'): Matrix {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new Error(`${what}: expected positive integer rows and cols, got ${rows} x ${cols}`);
  }
  if (data.length !== rows * cols) throw new Error(`${what}: ${data.length} values for ${rows} x ${cols} (expected ${rows * cols})`);
  return { rows, cols, data: data instanceof Float64Array ? data : Float64Array.from(data) };
}

/** The columns minus their means (each feature centred over the n examples). */
export function centreColumns(a: Matrix): Matrix {
  const { rows, cols, data } = a;
  const mean = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = data[i * cols + j] - mean[j];
  return { rows, cols, data: out };
}

/** Aᵀ B for A n x p, B n x q (p x q). */
export function transposeTimes(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) throw new Error(`transposeTimes: ${a.rows} rows against ${b.rows} rows`);
  const { rows: n, cols: p } = a;
  const q = b.cols;
  const out = new Float64Array(p * q);
  for (let k = 0; k < n; k++) {
    const ar = k * p;
    const br = k * q;
    for (let i = 0; i < p; i++) {
      const x = a.data[ar + i];
      if (x === 0) continue;
      const or = i * q;
      for (let j = 0; j < q; j++) out[or + j] += x * b.data[br + j];
    }
  }
  return { rows: p, cols: q, data: out };
}

/** The Gram matrix A Aᵀ (n x n) of the rows of A (n x N). */
export function gram(a: Matrix): Matrix {
  const { rows: n, cols: m, data } = a;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += data[i * m + k] * data[j * m + k];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return { rows: n, cols: n, data: out };
}

/** Σ_ij A_ij B_ij (the Frobenius inner product); the shapes must agree. */
export function frobeniusDot(a: Matrix, b: Matrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`frobeniusDot: ${a.rows} x ${a.cols} against ${b.rows} x ${b.cols}`);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

/** A square matrix's check: throws naming `what` and the shape. */
export function checkSquare(a: Matrix, what: string): void {
  if (a.rows !== a.cols) throw new Error(`${what}: expected a square matrix, got ${a.rows} x ${a.cols}`);
}
