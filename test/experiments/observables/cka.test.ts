import { describe, expect, it } from 'vitest';
import { hsic, kernelCKA, linearCKA } from '../../../src/experiments/observables/cka.js';
import { gram, matrix } from '../../../src/experiments/observables/matrix.js';
import { multiply, randomMatrix, randomOrthogonal } from './util.js';

describe('CKA', () => {
  // n < N exercises the Gram-matrix path of linearCKA, n > N the cross-product path
  for (const [n, N1, N2] of [[16, 40, 24], [50, 6, 9], [3, 1, 2]]) {
    it(`linear CKA (n ${n}, N ${N1} and ${N2}): 1 with itself, invariant to rotations and scaling, equal to kernel CKA`, () => {
      const phi = randomMatrix(n, N1, n * 7 + N1);
      const psi = randomMatrix(n, N2, n * 11 + N2);
      expect(linearCKA(phi, phi)).toBeCloseTo(1, 12);
      expect(kernelCKA(gram(phi), gram(phi))).toBeCloseTo(1, 12);
      const ref = linearCKA(phi, psi);
      expect(ref).toBeGreaterThan(0);
      expect(ref).toBeLessThan(1);
      const rotated = multiply(phi, randomOrthogonal(N1, 99));
      const scaled = matrix(n, N2, psi.data.map((x) => -3.5 * x));
      expect(linearCKA(rotated, scaled)).toBeCloseTo(ref, 12);
      expect(kernelCKA(gram(phi), gram(psi))).toBeCloseTo(ref, 12);
    });
  }

  it('a feature set with a constant column added (removed by centring) keeps its CKA', () => {
    const phi = randomMatrix(20, 5, 1);
    const psi = randomMatrix(20, 4, 2);
    const shifted = matrix(20, 5, phi.data.map((x, k) => x + (k % 5) * 10));
    expect(linearCKA(shifted, psi)).toBeCloseTo(linearCKA(phi, psi), 12);
  });

  it('HSIC of a Gram with itself is positive; a constant feature gives NaN CKA (0/0)', () => {
    const phi = randomMatrix(10, 3, 5);
    expect(hsic(gram(phi), gram(phi))).toBeGreaterThan(0);
    expect(linearCKA(matrix(10, 2, new Float64Array(20).fill(3)), phi)).toBeNaN();
  });

  it('refuses feature sets over different examples', () => {
    expect(() => linearCKA(randomMatrix(4, 2, 1), randomMatrix(5, 2, 2))).toThrow(/linearCKA: the feature sets must share the examples \(rows\), got 4 and 5/);
    expect(() => kernelCKA(gram(randomMatrix(4, 2, 1)), gram(randomMatrix(5, 2, 2)))).toThrow(/kernelCKA: Gram matrices of 4 and 5 examples/);
  });
});
