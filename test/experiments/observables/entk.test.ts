import { describe, expect, it } from 'vitest';
import { F64Tensor, fromArray, getDevice, matmul, type Tensor } from '../../../src/index.js';
import { buildModel } from '../../../src/nn/models.js';
import { empiricalNTK, ntkSpectrum, tangentKernel } from '../../../src/experiments/observables/entk.js';
import { asFunctionOf } from '../../../src/experiments/observables/parameters.js';
import { gram, matrix } from '../../../src/experiments/observables/matrix.js';
import { maxAbsDiff, normals } from './util.js';

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbsDiff(a, b) / Math.max(...Array.from(b, Math.abs));

const tinyMlp = (seeds?: number[], seed = 1, classes = 1) => buildModel(
  { device: getDevice(), seed, seeds, param: { parameterization: 'sp', optimizer: 'sgd' } },
  { family: 'mlp', width: 5, baseWidth: 5, depth: 2, inputShape: [3], classes, activation: 'tanh' },
);

/** J Jᵀ with J by central finite differences of the model run in f64 (f64 parameters and inputs). */
async function finiteDifferenceNTK(model: ReturnType<typeof tinyMlp>, x: ArrayLike<number>, n: number, u: number[]): Promise<Float64Array> {
  const params = model.parameters();
  const values = await Promise.all(params.map(async (p) => Float64Array.from(await p.value.data())));
  const xf = F64Tensor.from(x, [n, 3]);
  const f = asFunctionOf(params, () => model.forward(xf as unknown as Tensor));
  const scalarOutputs = (vals: Float64Array[]) => {
    const out = (f(...vals.map((v, i) => F64Tensor.from(v, params[i].value.shape) as unknown as Tensor)) as unknown as F64Tensor).data;
    return Float64Array.from({ length: n }, (_, i) => u.reduce((s, w, k) => s + w * out[i * u.length + k], 0));
  };
  const P = values.reduce((a, v) => a + v.length, 0);
  const J = new Float64Array(n * P);
  const eps = 1e-6;
  let col = 0;
  values.forEach((v, p) => {
    for (let k = 0; k < v.length; k++, col++) {
      const shifted = (d: number) => values.map((w, q) => (q === p ? w.map((z, j) => (j === k ? z + d : z)) : w));
      const [plus, minus] = [scalarOutputs(shifted(eps)), scalarOutputs(shifted(-eps))];
      for (let i = 0; i < n; i++) J[i * P + col] = (plus[i] - minus[i]) / (2 * eps);
    }
  });
  return gram(matrix(n, P, J)).data;
}

describe('empirical NTK', () => {
  it('of a linear model f(x) = wᵀx is X Xᵀ (f64 and GPU)', async () => {
    const [n, d] = [7, 4];
    const X = normals(n * d, 3);
    const ref = gram(matrix(n, d, X)).data;
    const x64 = F64Tensor.from(X, [n, d]);
    const [k64] = await tangentKernel((w: F64Tensor) => matmul(x64, w), [F64Tensor.from(normals(d, 4), [d, 1])]);
    expect(maxAbsDiff(k64.data, ref)).toBeLessThan(1e-12);
    const xg = fromArray(Float32Array.from(X), [n, d]);
    const [kg] = await tangentKernel((w: Tensor) => matmul(xg, w), [fromArray(Float32Array.from(normals(d, 4)), [d, 1])]);
    expect(relDiff(kg.data, ref)).toBeLessThan(1e-5);
  });

  it('of a tiny MLP matches J Jᵀ with J by finite differences in f64 (sum, index and projection outputs)', async () => {
    const n = 6;
    const x = normals(n * 3, 9);
    const model = tinyMlp(undefined, 1, 2);
    const xg = fromArray(Float32Array.from(x), [n, 3]);
    for (const [output, u] of [['sum', [1, 1]], [{ index: 1 }, [0, 1]], [{ projection: [0.3, -2] }, [0.3, -2]]] as const) {
      const [theta] = await empiricalNTK(model, xg, { output });
      const ref = await finiteDifferenceNTK(model, x, n, [...u]);
      expect(relDiff(theta.data, ref), JSON.stringify(output)).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('of an ensemble is each member\'s own NTK', async () => {
    const n = 5;
    const xg = fromArray(Float32Array.from(normals(n * 3, 12)), [n, 3]);
    const ens = tinyMlp([2, 7]);
    const kernels = await empiricalNTK(ens, xg);
    expect(kernels).toHaveLength(2);
    // J multiplied in column chunks of 3 columns (2 members x 5 examples x 3 x 4 bytes) sums to the same Θ
    const chunked = await empiricalNTK(ens, xg, { chunkBytes: 120 });
    chunked.forEach((k, s) => expect(relDiff(k.data, kernels[s].data), `chunked member ${s}`).toBeLessThan(1e-6));
    for (const [s, seed] of [2, 7].entries()) {
      const single = tinyMlp(undefined, seed);
      const [k] = await empiricalNTK(single, xg);
      expect(relDiff(kernels[s].data, k.data), `member ${s}`).toBeLessThan(1e-5);
      single.dispose();
    }
    ens.dispose();
  });

  it('spectrum: the eigenbasis reconstructs Θ and C(n) = 1; bad options are refused', async () => {
    const n = 8;
    const model = tinyMlp();
    const xg = fromArray(Float32Array.from(normals(n * 3, 13)), [n, 3]);
    const [theta] = await empiricalNTK(model, xg);
    const { eigen, targetPower } = ntkSpectrum(theta, normals(n, 14));
    expect(eigen.values[0]).toBeGreaterThan(0);
    expect(targetPower[n - 1]).toBeCloseTo(1, 10);
    await expect(empiricalNTK(model, xg, { output: { index: 1 } })).rejects.toThrow(/empiricalNTK: output index 1 is out of range for 1 outputs per example \(expected 0..0\)/);
    await expect(empiricalNTK(model, xg, { maxExamples: 4 })).rejects.toThrow(/empiricalNTK: the probe batch has 8 examples \(expected 1..4\)/);
    model.dispose();
  });
});
