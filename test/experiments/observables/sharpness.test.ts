import { describe, expect, it } from 'vitest';
import { F64Tensor, expand, fromArray, getDevice, hvp, matmul, mseLoss, mul, sum, type Tensor } from '../../../src/index.js';
import { buildModel, type Model } from '../../../src/nn/models.js';
import { asFunctionOf } from '../../../src/experiments/observables/parameters.js';
import { modelSharpness, topHessianEigen } from '../../../src/experiments/observables/sharpness.js';
import { symmetricEigen } from '../../../src/experiments/observables/eigen.js';
import { matrix } from '../../../src/experiments/observables/matrix.js';
import { multiply, normals, randomOrthogonal, transpose } from './util.js';

/** A = Q diag(spectrum) Qᵀ with a random orthogonal Q. */
function knownHessian(spectrum: number[], seed: number) {
  const n = spectrum.length;
  const Q = randomOrthogonal(n, seed);
  const QL = matrix(n, n, Q.data.map((x, k) => x * spectrum[k % n]));
  return multiply(QL, transpose(Q));
}

const tinyMlp = (seeds?: number[], seed = 1) => buildModel(
  { device: getDevice(), seed, seeds, param: { parameterization: 'sp', optimizer: 'sgd' } },
  { family: 'mlp', width: 4, baseWidth: 4, depth: 2, inputShape: [3], classes: 1, activation: 'tanh' },
);

/** The full Hessian of the model's loss, column by column from hvp, eigendecomposed in f64. */
async function fullHessianTop(model: Model, x: Tensor, y: Tensor): Promise<number> {
  const params = model.parameters();
  const f = asFunctionOf(params, () => mseLoss(model.forward(x), y));
  const sizes = params.map((p) => p.value.size);
  const P = sizes.reduce((a, b) => a + b, 0);
  const H = new Float64Array(P * P);
  for (let c = 0; c < P; c++) {
    let offset = 0;
    const dirs = params.map((p, i) => {
      const v = new Float32Array(sizes[i]);
      if (c >= offset && c < offset + sizes[i]) v[c - offset] = 1;
      offset += sizes[i];
      return fromArray(v, p.value.shape);
    });
    const hv = hvp(f, params.map((p) => p.value), dirs);
    let row = 0;
    for (const t of hv) {
      const d = await t.data();
      for (let k = 0; k < d.length; k++) H[(row + k) * P + c] = d[k];
      row += d.length;
    }
    for (const t of [...dirs, ...hv]) t.dispose();
  }
  const { values } = symmetricEigen(matrix(P, P, H));
  return Math.abs(values[0]) >= Math.abs(values[P - 1]) ? values[0] : values[P - 1];
}

describe('sharpness by power iteration on the exact HVP', () => {
  it('finds the top eigenvalue of 0.5 xᵀ A x with A known (f64 and GPU f32)', async () => {
    const A = knownHessian([5, 2, 1, -0.5, 0.25, 0, 3, -1.5], 11);
    const x0 = normals(8, 2);
    const f64 = F64Tensor.from(A.data, [8, 8]);
    const fq64 = (x: F64Tensor) => mul(sum(mul(x, matmul(f64, x))), 0.5);
    const r64 = await topHessianEigen(fq64, [F64Tensor.from(x0, [8, 1])], { iterations: 60 });
    expect(r64.eigenvalues[0]).toBeCloseTo(5, 8);
    const gA = fromArray(Float32Array.from(A.data), [8, 8]);
    const fq = (x: Tensor) => mul(sum(mul(x, matmul(gA, x))), 0.5);
    const r = await topHessianEigen(fq, [fromArray(Float32Array.from(x0), [8, 1])], { iterations: 60 });
    expect(Math.abs(r.eigenvalues[0] - 5)).toBeLessThan(1e-4);
    // the vector warm-starts a short second call at the same value
    const again = await topHessianEigen(fq, [fromArray(Float32Array.from(x0), [8, 1])], { init: r.vector });
    expect(again.iterations).toBe(5);
    expect(Math.abs(again.eigenvalues[0] - 5)).toBeLessThan(1e-4);
  });

  it('on a tiny MLP, matches the top eigenvalue of the full Hessian built from hvp columns', async () => {
    const model = tinyMlp();
    const x = fromArray(Float32Array.from(normals(16 * 3, 5)), [16, 3]);
    const y = fromArray(Float32Array.from(normals(16, 6)), [16, 1]);
    const top = await fullHessianTop(model, x, y);
    const r = await modelSharpness(model, x, (out) => mseLoss(out, y), { iterations: 100 });
    expect(Math.abs(r.eigenvalues[0] - top) / Math.abs(top), `power ${r.eigenvalues[0]} vs full ${top}`).toBeLessThan(2e-3);
    const warm = await modelSharpness(model, x, (out) => mseLoss(out, y), { init: r.vector });
    expect(Math.abs(warm.eigenvalues[0] - top) / Math.abs(top)).toBeLessThan(2e-3);
    model.dispose();
  });

  it('an ensemble gives every member its own top eigenvalue in one power iteration (per-member normalisation)', async () => {
    const x = fromArray(Float32Array.from(normals(16 * 3, 7)), [16, 3]);
    const y = fromArray(Float32Array.from(normals(16, 8)), [16, 1]);
    const tops: number[] = [];
    for (const seed of [3, 4]) {
      const m = tinyMlp(undefined, seed);
      tops.push(await fullHessianTop(m, x, y));
      m.dispose();
    }
    const ens = tinyMlp([3, 4]);
    // the sum of the members' mean losses: S * the mean over [S, B]
    const r = await modelSharpness(ens, x, (out) => mul(mseLoss(out, expand(y, out.shape)), 2), { iterations: 100 });
    expect(r.eigenvalues).toHaveLength(2);
    r.eigenvalues.forEach((l, s) => expect(Math.abs(l - tops[s]) / Math.abs(tops[s]), `member ${s}: ${l} vs ${tops[s]}`).toBeLessThan(2e-3));
    expect(Math.abs(tops[0] - tops[1])).toBeGreaterThan(1e-3);
    ens.dispose();
  });

  it('refuses a warm start of the wrong shape and a bad iteration count', async () => {
    const model = tinyMlp();
    const x = fromArray(new Float32Array(6), [2, 3]);
    const y = fromArray(new Float32Array(2), [2, 1]);
    await expect(modelSharpness(model, x, (o) => mseLoss(o, y), { init: [x] })).rejects.toThrow(/sharpness: the warm-start vector \[2, 3\] does not match the parameters \[3, 4\]/);
    await expect(modelSharpness(model, x, (o) => mseLoss(o, y), { iterations: 0 })).rejects.toThrow(/sharpness: iterations must be a positive integer, got 0/);
    model.dispose();
  });
});
