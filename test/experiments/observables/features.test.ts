import { describe, expect, it } from 'vitest';
import { fromArray, getDevice } from '../../../src/index.js';
import { buildModel, type ModelSpec } from '../../../src/nn/models.js';
import { asFeatures, captureFeatures, captureLayers, capturePreactivations, featureLayers, preactivationLayers } from '../../../src/experiments/observables/features.js';
import { linearCKA } from '../../../src/experiments/observables/cka.js';
import { maxAbsDiff, normals } from './util.js';

const build = (spec: ModelSpec, seeds?: number[], seed = 1) =>
  buildModel({ device: getDevice(), seed, seeds, param: { parameterization: 'mup', optimizer: 'sgd' } }, spec);
const mlpSpec: ModelSpec = { family: 'mlp', width: 8, baseWidth: 8, depth: 2, inputShape: [3], classes: 2, activation: 'tanh' };

describe('hidden-layer capture', () => {
  it('MLP: the first layer features equal tanh(x W + b) computed in f64, preactivations x W + b', async () => {
    const n = 5;
    const x = normals(n * 3, 1);
    const model = build(mlpSpec);
    const [W, b] = await Promise.all(model.parameters().slice(0, 2).map(async (p) => Float64Array.from(await p.value.data())));
    const pre = Float64Array.from({ length: n * 8 }, (_, k) => {
      const [i, j] = [Math.floor(k / 8), k % 8];
      return b[j] + [0, 1, 2].reduce((s, c) => s + x[i * 3 + c] * W[c * 8 + j], 0);
    });
    const xg = fromArray(Float32Array.from(x), [n, 3]);
    const feats = await captureFeatures(model, xg);
    expect([...feats.keys()]).toEqual(['input.act', 'hidden1.act']);
    const [phi] = feats.get('input.act')!;
    expect([phi.rows, phi.cols]).toEqual([n, 8]);
    expect(maxAbsDiff(phi.data, pre.map(Math.tanh))).toBeLessThan(1e-5);
    const pres = await capturePreactivations(model, xg);
    expect([...pres.keys()]).toEqual(['input', 'hidden1']);
    expect(maxAbsDiff(pres.get('input')![0], pre)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('ensemble: one matrix per member, each equal to the single model of its seed (CKA 1)', async () => {
    const xg = fromArray(Float32Array.from(normals(6 * 3, 2)), [6, 3]);
    const ens = build(mlpSpec, [4, 9]);
    const feats = await captureFeatures(ens, xg);
    for (const [s, seed] of [4, 9].entries()) {
      const single = build(mlpSpec, undefined, seed);
      const ref = await captureFeatures(single, xg);
      for (const path of featureLayers(single)) {
        expect(maxAbsDiff(feats.get(path)![s].data, ref.get(path)![0].data), `${path} member ${s}`).toBeLessThan(1e-5);
        expect(linearCKA(feats.get(path)![s], ref.get(path)![0])).toBeCloseTo(1, 6);
      }
      single.dispose();
    }
    ens.dispose();
  });

  it('CNN: pooled features are the spatial mean of the flattened ones; transformer positions are flattened', async () => {
    const cnn = build({ family: 'cnn', width: 4, baseWidth: 4, depth: 1, inputShape: [4, 4, 2], classes: 3 });
    expect(featureLayers(cnn)).toEqual(['stem.act', 'stage0.out', 'pool']);
    expect(preactivationLayers(cnn)).toEqual(['stem', 'stage0.conv1', 'stage0.conv2']);
    const caps = await captureLayers(cnn, fromArray(Float32Array.from(normals(3 * 32, 3)), [3, 4, 4, 2]), ['stage0.out']);
    const c = caps.get('stage0.out')!;
    expect(c.shape).toEqual([3, 4, 4, 4]);
    const [pooled] = asFeatures(c, 'pool');
    const [flat] = asFeatures(c, 'flatten');
    expect([pooled.cols, flat.cols]).toEqual([4, 64]);
    const mean = Float64Array.from({ length: 12 }, (_, k) => {
      const [i, ch] = [Math.floor(k / 4), k % 4];
      let s = 0;
      for (let p = 0; p < 16; p++) s += flat.data[i * 64 + p * 4 + ch];
      return s / 16;
    });
    expect(maxAbsDiff(pooled.data, mean)).toBeLessThan(1e-12);
    cnn.dispose();
    const tr = build({ family: 'transformer', width: 16, baseWidth: 16, depth: 1, headDim: 8, vocab: 10, context: 4 });
    const feats = await captureFeatures(tr, fromArray(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]));
    expect([...feats.keys()]).toEqual(['embed', 'block0.out']);
    expect([feats.get('block0.out')![0].rows, feats.get('block0.out')![0].cols]).toEqual([2, 64]);
    tr.dispose();
  });

  it('names the layers a forward did not record', async () => {
    const model = build(mlpSpec);
    await expect(captureLayers(model, fromArray(new Float32Array(6), [2, 3]), ['input.act', 'nope'])).rejects.toThrow(/captureLayers: the mlp forward recorded no layer nope \(expected one of its recorded paths, e.g. input.act, hidden1.act\)/);
    model.dispose();
  });
});
