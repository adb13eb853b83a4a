/**
 * @file f64 reference of LayerNorm and RMSNorm over the trailing `d` elements of each row,
 * forward and backward (plain loops, for clarity).
 */
import type { NDArray } from './ndarray.js';

export interface NormRefResult {
  y: NDArray;
  /** Per-row mean (zeros for RMSNorm). */
  mean: NDArray;
  rstd: NDArray;
}

function rowsOf(x: NDArray, d: number): number {
  if (x.data.length % d !== 0) throw new Error(`normRef: ${x.data.length} elements are not rows of ${d}`);
  return x.data.length / d;
}

/** LayerNorm ('layer') or RMSNorm ('rms') of x over rows of length d; weight/bias of length d or null. */
export function normRef(
  kind: 'layer' | 'rms',
  x: NDArray,
  d: number,
  weight: NDArray | null,
  bias: NDArray | null,
  eps = 1e-5,
): NormRefResult {
  const rows = rowsOf(x, d);
  const lead = x.shape.slice(0, x.shape.length - 1);
  const y = new Float64Array(x.data.length);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    let mu = 0;
    if (kind === 'layer') mu = row.reduce((a, b) => a + b, 0) / d;
    let q = 0;
    for (const v of row) q += (v - mu) ** 2;
    const rs = 1 / Math.sqrt(q / d + eps);
    for (let j = 0; j < d; j++) {
      y[r * d + j] = (row[j] - mu) * rs * (weight ? weight.data[j] : 1) + (bias ? bias.data[j] : 0);
    }
    mean[r] = mu;
    rstd[r] = rs;
  }
  return { y: { shape: [...x.shape], data: y }, mean: { shape: lead, data: mean }, rstd: { shape: lead, data: rstd } };
}

export interface NormRefGrads {
  dx: NDArray;
  dweight: NDArray;
  dbias: NDArray;
}

/** Backward of normRef: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * w (no mean(g) for RMS). */
export function normBackwardRef(
  kind: 'layer' | 'rms',
  dy: NDArray,
  x: NDArray,
  d: number,
  weight: NDArray | null,
  eps = 1e-5,
): NormRefGrads {
  const rows = rowsOf(x, d);
  const { mean, rstd } = normRef(kind, x, d, null, null, eps);
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(d);
  const db = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const mu = mean.data[r];
    const rs = rstd.data[r];
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < d; j++) {
      const i = r * d + j;
      const xhat = (x.data[i] - mu) * rs;
      const g = dy.data[i] * (weight ? weight.data[j] : 1);
      sg += g;
      sgx += g * xhat;
      dw[j] += dy.data[i] * xhat;
      db[j] += dy.data[i];
    }
    const a = kind === 'layer' ? sg / d : 0;
    const b = sgx / d;
    for (let j = 0; j < d; j++) {
      const i = r * d + j;
      const xhat = (x.data[i] - mu) * rs;
      const g = dy.data[i] * (weight ? weight.data[j] : 1);
      dx[i] = rs * (g - a - xhat * b);
    }
  }
  return {
    dx: { shape: [...x.shape], data: dx },
    dweight: { shape: [d], data: dw },
    dbias: { shape: [d], data: db },
  };
}
