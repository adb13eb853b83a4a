/**
 * @file Central finite differences in f64, to prove the reference backward rules:
 * for a function f: R^n -> R^m and a cotangent u, the vector-Jacobian product u^T J equals the
 * gradient of x -> <u, f(x)>, estimated coordinate by coordinate with step h.
 */
import type { NDArray } from './ndarray.js';

/** d<u, f(x)>/dx by central differences (error O(h^2); h = 1e-6 suits f64 and O(1) inputs). */
export function numericVjp(f: (x: NDArray) => NDArray, x: NDArray, u: NDArray, h = 1e-6): NDArray {
  const g = new Float64Array(x.data.length);
  const xs = { shape: [...x.shape], data: Float64Array.from(x.data) };
  const dot = (y: NDArray): number => {
    if (y.data.length !== u.data.length) throw new Error(`numericVjp: f gave ${y.data.length} values, cotangent has ${u.data.length}`);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += u.data[i] * y.data[i];
    return s;
  };
  for (let i = 0; i < g.length; i++) {
    const x0 = xs.data[i];
    xs.data[i] = x0 + h;
    const plus = dot(f(xs));
    xs.data[i] = x0 - h;
    const minus = dot(f(xs));
    xs.data[i] = x0;
    g[i] = (plus - minus) / (2 * h);
  }
  return { shape: [...x.shape], data: g };
}

/** max |a - b| / max(1, max |b|): the error measure for finite-difference checks. */
export function maxScaledDiff(a: NDArray, b: NDArray): number {
  let m = 0;
  let s = 1;
  for (let i = 0; i < b.data.length; i++) {
    m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
    s = Math.max(s, Math.abs(b.data[i]));
  }
  return m / s;
}
