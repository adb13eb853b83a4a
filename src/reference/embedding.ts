/**
 * @file f64 reference of the embedding gather and its backward (plain loops, for clarity).
 */
import type { NDArray } from './ndarray.js';

/** out[..., :] = table[idx[...], :] (a NaN row for an index outside [0, V)). */
export function embeddingRef(table: NDArray, indices: ArrayLike<number>, indexShape: number[]): NDArray {
  const [vocab, d] = table.shape;
  const out = new Float64Array(indices.length * d);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    for (let c = 0; c < d; c++) out[i * d + c] = v >= 0 && v < vocab ? table.data[v * d + c] : NaN;
  }
  return { shape: [...indexShape, d], data: out };
}

/** dtable[v, :] = sum of dout[i, :] over i with idx[i] == v (out-of-range indices dropped). */
export function embeddingBackwardRef(dout: NDArray, indices: ArrayLike<number>, vocab: number): NDArray {
  const d = dout.shape[dout.shape.length - 1];
  const dt = new Float64Array(vocab * d);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (v < 0 || v >= vocab) continue;
    for (let c = 0; c < d; c++) dt[v * d + c] += dout.data[i * d + c];
  }
  return { shape: [vocab, d], data: dt };
}
