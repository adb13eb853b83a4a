import { describe, expect, it } from 'vitest';
import { crossEntropy, fromArray, getDevice, reshape } from '../../../src/index.js';
import { buildModel, type ModelSpec } from '../../../src/nn/models.js';
import { modelSharpness } from '../../../src/experiments/observables/sharpness.js';
import { empiricalNTK, ntkSpectrum } from '../../../src/experiments/observables/entk.js';
import { normals } from './util.js';

const build = (spec: ModelSpec, seeds?: number[]) =>
  buildModel({ device: getDevice(), seed: 1, seeds, param: { parameterization: 'mup', optimizer: 'sgd' } }, spec);

describe('sharpness and eNTK run on every family (single and ensemble)', () => {
  it('cnn: finite sharpness, a symmetric positive semi-definite eNTK per member', async () => {
    const spec: ModelSpec = { family: 'cnn', width: 4, baseWidth: 4, depth: 1, inputShape: [4, 4, 2], classes: 3 };
    const x = fromArray(Float32Array.from(normals(4 * 32, 1)), [4, 4, 4, 2]);
    const y = fromArray(Int32Array.from([0, 1, 2, 1]), [4]);
    for (const seeds of [undefined, [1, 2]]) {
      const model = build(spec, seeds);
      const S = seeds?.length ?? 1;
      const loss = (out: ReturnType<typeof model.forward>) => seeds
        ? crossEntropy(reshape(out, [-1, 3]), reshape(fromArray(Int32Array.from([0, 1, 2, 1, 0, 1, 2, 1]), [8]), [-1]), { reduction: 'sum' })
        : crossEntropy(out, y);
      const r = await modelSharpness(model, x, loss, { iterations: 3 });
      expect(r.eigenvalues).toHaveLength(S);
      r.eigenvalues.forEach((l) => expect(Number.isFinite(l)).toBe(true));
      const thetas = await empiricalNTK(model, x);
      expect(thetas).toHaveLength(S);
      for (const t of thetas) expect(ntkSpectrum(t, [1, 2, 3, 4]).eigen.values[3]).toBeGreaterThan(-1e-3 * ntkSpectrum(t, [1, 2, 3, 4]).eigen.values[0]);
      for (const t of r.vector) t.dispose();
      model.dispose();
    }
  });

  it('transformer: finite sharpness and an eNTK of a projection of the [T, V] outputs', async () => {
    const spec: ModelSpec = { family: 'transformer', width: 16, baseWidth: 16, depth: 1, headDim: 8, vocab: 6, context: 4 };
    const ids = fromArray(Int32Array.from([1, 2, 3, 4, 5, 0, 1, 2, 3, 3, 2, 1]), [3, 4]);
    const labels = fromArray(Int32Array.from([2, 3, 4, 5, 0, 1, 2, 3, 3, 2, 1, 0]), [12]);
    const model = build(spec);
    const r = await modelSharpness(model, ids, (out) => crossEntropy(reshape(out, [-1, 6]), labels), { iterations: 3 });
    expect(Number.isFinite(r.eigenvalues[0])).toBe(true);
    const [theta] = await empiricalNTK(model, ids, { output: { projection: Array.from({ length: 24 }, (_, k) => Math.cos(k)) } });
    expect([theta.rows, theta.cols]).toEqual([3, 3]);
    expect(theta.data[0]).toBeGreaterThan(0);
    for (const t of r.vector) t.dispose();
    model.dispose();
  });
});
