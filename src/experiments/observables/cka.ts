/**
 * @file Centred kernel alignment (Kornblith et al. 2019) in f64 on the host.
 *
 * Linear CKA of features Φ (n x N1) and Ψ (n x N2) on the same n examples, columns centred:
 *   CKA = ||Ψᵀ Φ||_F² / (||Φᵀ Φ||_F ||Ψᵀ Ψ||_F),
 * computed through the N x N cross products or, when cheaper (N > n), through the n x n Gram
 * matrices (||Ψᵀ Φ||_F² = <Φ Φᵀ, Ψ Ψᵀ>_F); both give the same number.
 * Kernel CKA of n x n Gram matrices K, L: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with
 * HSIC(K, L) = tr(H K H L), H = I - 11ᵀ/n (the 1/(n-1)² normalisation cancels).
 * Both are 1 for identical inputs and invariant to orthogonal transforms and isotropic scaling of
 * the features; a constant (zero after centring) feature set gives NaN (0/0).
 */
import { centreColumns, checkSquare, frobeniusDot, gram, transposeTimes, type Matrix } from './matrix.js';

function checkPair(phi: Matrix, psi: Matrix, what: string): void {
  if (phi.rows !== psi.rows) throw new Error(`${what}: the feature sets must share the examples (rows), got ${phi.rows} and ${psi.rows}`);
}

/** Linear CKA of two feature matrices over the same examples (rows). */
export function linearCKA(phi: Matrix, psi: Matrix): number {
  checkPair(phi, psi, 'linearCKA');
  const a = centreColumns(phi);
  const b = centreColumns(psi);
  const n = a.rows;
  const [p, q] = [a.cols, b.cols];
  if (n * n * (p + q) < n * (p * q + p * p + q * q)) {
    const [K, L] = [gram(a), gram(b)];
    return frobeniusDot(K, L) / Math.sqrt(frobeniusDot(K, K) * frobeniusDot(L, L));
  }
  const cross = transposeTimes(b, a);
  const aa = transposeTimes(a, a);
  const bb = transposeTimes(b, b);
  return frobeniusDot(cross, cross) / Math.sqrt(frobeniusDot(aa, aa) * frobeniusDot(bb, bb));
}

/** H K H: the Gram matrix with row and column means removed. */
export function centreGram(k: Matrix): Matrix {
  checkSquare(k, 'centreGram');
  const n = k.rows;
  const row = new Float64Array(n);
  const col = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = k.data[i * n + j];
      row[i] += x / n;
      col[j] += x / n;
      all += x / (n * n);
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = k.data[i * n + j] - row[i] - col[j] + all;
  return { rows: n, cols: n, data: out };
}

/** HSIC(K, L) = tr(H K H L) (without the 1/(n-1)² factor). */
export function hsic(k: Matrix, l: Matrix): number {
  checkSquare(k, 'hsic');
  checkSquare(l, 'hsic');
  if (k.rows !== l.rows) throw new Error(`hsic: Gram matrices of ${k.rows} and ${l.rows} examples`);
  return frobeniusDot(centreGram(k), l);
}

/** Kernel CKA of two n x n Gram matrices on the same examples. */
export function kernelCKA(k: Matrix, l: Matrix): number {
  checkSquare(k, 'kernelCKA');
  checkSquare(l, 'kernelCKA');
  if (k.rows !== l.rows) throw new Error(`kernelCKA: Gram matrices of ${k.rows} and ${l.rows} examples must share the examples`);
  const kc = centreGram(k);
  const lc = centreGram(l);
  return frobeniusDot(kc, lc) / Math.sqrt(frobeniusDot(kc, kc) * frobeniusDot(lc, lc));
}
