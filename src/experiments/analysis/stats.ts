/**
 * @file Small statistics over plain arrays.
 */

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 when n = 1. */
  std: number;
  min: number;
  max: number;
}

/** Summary of the finite values (NaN/Inf are dropped; n counts what remains). */
export function summarize(values: readonly number[]): Summary {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { n: 0, mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min: Math.min(...v), max: Math.max(...v) };
}

/** Ordinary least squares y = a + b·x. */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number; n: number } {
  const n = xs.length;
  if (n !== ys.length) throw new Error('linearFit: xs and ys differ in length');
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN, n };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), n };
}
