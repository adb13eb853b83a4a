import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '../../../src/experiments/observables/eigen.js';
import { matrix } from '../../../src/experiments/observables/matrix.js';
import { cumulativeTargetPower } from '../../../src/experiments/observables/target-power.js';
import { maxAbsDiff, multiply, normals, randomSymmetric, transpose } from './util.js';

describe('symmetricEigen (f64 Householder + QL)', () => {
  for (const n of [1, 2, 3, 17, 64, 200]) {
    it(`reconstructs a random symmetric ${n} x ${n} matrix: V diag(values) Vᵀ = A, Vᵀ V = I, values descending`, () => {
      const a = randomSymmetric(n, 1000 + n);
      const { values, vectors: V } = symmetricEigen(a);
      const scale = Math.max(...a.data.map(Math.abs));
      const VL = matrix(n, n, V.data.map((x, k) => x * values[k % n]));
      expect(maxAbsDiff(multiply(VL, transpose(V)).data, a.data) / scale).toBeLessThan(1e-12);
      const I = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
      expect(maxAbsDiff(multiply(transpose(V), V).data, I)).toBeLessThan(1e-12);
      for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
    });
  }

  it('finds repeated and zero eigenvalues (a rank-2 projector and the zero matrix)', () => {
    const n = 5;
    const u = [1, 1, 0, 0, 0].map((x) => x / Math.SQRT2);
    const w = [0, 0, 1, 0, 0];
    const p = matrix(n, n, Array.from({ length: n * n }, (_, k) => 3 * (u[Math.floor(k / n)] * u[k % n] + w[Math.floor(k / n)] * w[k % n])));
    expect(Array.from(symmetricEigen(p).values).map((x) => +x.toFixed(12) + 0)).toEqual([3, 3, 0, 0, 0]);
    expect(Array.from(symmetricEigen(matrix(3, 3, new Float64Array(9))).values)).toEqual([0, 0, 0]);
  });

  it('gives NaN for a matrix with a NaN and refuses a non-symmetric or non-square one', () => {
    const a = randomSymmetric(4, 3);
    a.data[5] = NaN;
    const e = symmetricEigen(a);
    expect(Array.from(e.values).every(Number.isNaN)).toBe(true);
    const b = randomSymmetric(3, 4);
    b.data[1] += 1;
    expect(() => symmetricEigen(b)).toThrow(/symmetricEigen: the matrix is not symmetric: A\[0\]\[1\] = .* but A\[1\]\[0\] = .*expected equal within/);
    expect(() => symmetricEigen(matrix(2, 3, new Float64Array(6)))).toThrow(/symmetricEigen: expected a square matrix, got 2 x 3/);
  });
});

describe('cumulative target power C(k)', () => {
  it('is 1 at k = 1 for a target along the top eigenvector, and C(n) = 1 for any target', () => {
    for (const n of [1, 3, 17]) {
      const eig = symmetricEigen(randomSymmetric(n, 50 + n));
      const top = Float64Array.from({ length: n }, (_, i) => 2.5 * eig.vectors.data[i * n]);
      const c = cumulativeTargetPower(eig, top);
      expect(c[0]).toBeCloseTo(1, 12);
      const y = normals(n, 7 + n);
      const cy = cumulativeTargetPower(eig, y);
      expect(cy[n - 1]).toBeCloseTo(1, 12);
      for (let k = 1; k < n; k++) expect(cy[k]).toBeGreaterThanOrEqual(cy[k - 1]);
      if (n > 1) expect(cy[0]).toBeLessThan(1);
    }
  });

  it('refuses a target of the wrong length or zero norm', () => {
    const eig = symmetricEigen(randomSymmetric(3, 1));
    expect(() => cumulativeTargetPower(eig, [1, 2])).toThrow(/cumulativeTargetPower: a target of 2 values for a 3 x 3 eigenbasis \(expected 3\)/);
    expect(() => cumulativeTargetPower(eig, [0, 0, 0])).toThrow(/cumulativeTargetPower: the target must have a positive finite norm, got \|\|y\|\|² = 0/);
  });
});
