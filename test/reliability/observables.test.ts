/**
 * @file Reliability catalogue of the observables (src/experiments/observables), the standard
 * Gaussian teacher and its spec fields: bad inputs give clear errors, NaN propagates.
 */
import { describe, expect } from 'vitest';
import { fromArray, getDevice, mseLoss } from '../../src/index.js';
import { buildModel } from '../../src/nn/models.js';
import { ruleFor } from '../../src/nn/parameterization.js';
import { matrix } from '../../src/experiments/observables/matrix.js';
import { kernelCKA, linearCKA } from '../../src/experiments/observables/cka.js';
import { symmetricEigen } from '../../src/experiments/observables/eigen.js';
import { cumulativeTargetPower } from '../../src/experiments/observables/target-power.js';
import { bins, binsFromReference, histogram } from '../../src/experiments/observables/histogram.js';
import { wasserstein1, wasserstein1Histogram } from '../../src/experiments/observables/wasserstein.js';
import { detectCatapult, largestTrainableLr } from '../../src/experiments/observables/catapult.js';
import { asFeatures, captureLayers } from '../../src/experiments/observables/features.js';
import { modelSharpness } from '../../src/experiments/observables/sharpness.js';
import { empiricalNTK } from '../../src/experiments/observables/entk.js';
import { DEFAULT_GAUSSIAN_TEACHER, GaussianTeacher } from '../../src/data/gaussian-teacher.js';
import { validateSpec } from '../../src/experiments/spec/load.js';
import { catalogue } from './catalogue.js';

const m = (rows: number, cols: number) => matrix(rows, cols, Array.from({ length: rows * cols }, (_, k) => Math.sin(k + 1)));
const mlp = () => buildModel(
  { device: getDevice(), seed: 1, param: { parameterization: 'sp', optimizer: 'sgd' } },
  { family: 'mlp', width: 4, baseWidth: 4, depth: 2, inputShape: [3], classes: 2 },
);
const probe = () => fromArray(new Float32Array(6).fill(0.5), [2, 3]);
const spec = (task: object, model: object = { family: 'mlp' }) => ({
  name: 'r', task, model, widths: [32], seeds: 1, parameterization: 'mup', lr: 0.1, batchSize: 8, steps: 10, eval: 5,
});

describe('observables catalogue', () => {
  catalogue('observables', [
    { name: 'matrix with too few values', run: () => matrix(2, 3, [1, 2]), mentions: ['matrix', '2 values', '2 x 3', 'expected 6'] },
    { name: 'matrix with 0 rows', run: () => matrix(0, 3, []), mentions: ['matrix', 'positive integer rows and cols', '0 x 3'] },
    { name: 'linearCKA over different examples', run: () => linearCKA(m(4, 2), m(5, 2)), mentions: ['linearCKA', 'share the examples', '4 and 5'] },
    { name: 'kernelCKA of a non-square matrix', run: () => kernelCKA(m(3, 2), m(3, 3)), mentions: ['kernelCKA', 'square', '3 x 2'] },
    { name: 'symmetricEigen of a non-symmetric matrix', run: () => symmetricEigen(m(3, 3)), mentions: ['symmetricEigen', 'not symmetric', 'A[0][1]', 'expected equal'] },
    { name: 'target power of a target of the wrong length', run: () => cumulativeTargetPower(symmetricEigen(matrix(2, 2, [1, 0, 0, 1])), [1, 2, 3]), mentions: ['cumulativeTargetPower', '3 values', 'expected 2'] },
    { name: 'histogram bins with NaN lo', run: () => bins(NaN, 1, 4), mentions: ['histogram bins', 'lo NaN', 'finite lo < hi'] },
    { name: 'histogram bins from a constant reference', run: () => binsFromReference([1, 1]), mentions: ['histogram bins', 'std 0', 'positive spread'] },
    { name: 'W1 of an empty sample', run: () => wasserstein1([], [1]), mentions: ['wasserstein1', '0 and 1 values', 'non-empty'] },
    { name: 'histogram W1 over different bins', run: () => wasserstein1Histogram(histogram([0], bins(0, 1, 4)), histogram([0], bins(0, 2, 4))), mentions: ['wasserstein1Histogram', '[0, 1] x 4', '[0, 2] x 4', 'share their bins'] },
    { name: 'catapult of an empty loss curve', run: () => detectCatapult([], [{ step: 0, value: 1 }]), mentions: ['detectCatapult', 'loss curve is empty', 'expected at least one'] },
    { name: 'largest lr with a negative lr', run: () => largestTrainableLr([{ lr: -1, initialLoss: 1, finalLoss: 0 }]), mentions: ['largestTrainableLr', 'lr -1', 'positive'] },
    { name: 'capture of a layer the model has not', run: () => captureLayers(mlp(), probe(), ['hidden7.act']), mentions: ['captureLayers', 'hidden7.act', 'expected one of'] },
    { name: 'features of a layer output without a feature axis', run: () => asFeatures({ shape: [4], members: [new Float64Array(4)] }), mentions: ['asFeatures', '[4]', 'no feature axis', 'expected [B, N'] },
    { name: 'sharpness with 2.5 iterations', run: () => modelSharpness(mlp(), probe(), (o) => mseLoss(o, o), { iterations: 2.5 }), mentions: ['sharpness', 'iterations', '2.5', 'positive integer'] },
    { name: 'sharpness of a loss that is not one element', run: () => modelSharpness(mlp(), probe(), (o) => o, { iterations: 1 }), mentions: ['hvp', '[2, 2]', 'one element'] },
    { name: 'eNTK with a projection of the wrong length', run: () => empiricalNTK(mlp(), probe(), { output: { projection: [1, 2, 3] } }), mentions: ['empiricalNTK', 'projection of 3 values', '2 outputs per example'] },
    { name: 'eNTK with an output index out of range', run: () => empiricalNTK(mlp(), probe(), { output: { index: 2 } }), mentions: ['empiricalNTK', 'output index 2', 'expected 0..1'] },
    { name: 'eNTK of a probe batch over the limit', run: () => empiricalNTK(mlp(), probe(), { maxExamples: 1 }), mentions: ['empiricalNTK', '2 examples', 'expected 1..1'] },
    { name: 'gaussian teacher with activation swish', run: () => new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, activation: 'swish' as 'relu' }, getDevice()), mentions: ['gaussian teacher', 'activation', 'swish', 'relu | tanh | gelu'] },
    { name: 'gaussian teacher with width 0', run: () => new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, width: 0 }, getDevice()), mentions: ['gaussian teacher', 'width', 'got 0', 'positive integer'] },
    { name: 'spec: teacher-gaussian inputDim -3', run: () => validateSpec(spec({ name: 'teacher-gaussian', inputDim: -3 })), mentions: ['task.inputDim', '-3', 'positive integer'] },
    { name: 'spec: teacher-gaussian loss "l1"', run: () => validateSpec(spec({ name: 'teacher-gaussian', loss: 'l1' })), mentions: ['task.loss', 'l1', 'mse | half-mse'] },
    { name: 'spec: a cnn on teacher-gaussian', run: () => validateSpec(spec({ name: 'teacher-gaussian' }, { family: 'cnn' })), mentions: ['model.family', 'cnn', 'image task'] },
    { name: 'mf rule without the model width', run: () => ruleFor({ name: 'w', shape: [3, 4], fanIn: 3, fanOut: 4, baseFanIn: 3, baseFanOut: 4, kind: 'weight' }, { parameterization: 'mf', optimizer: 'sgd', gamma0: 1 }), mentions: ['parameterization mf', 'ParamConfig.width', 'got undefined', 'positive integer'] },
  ], [
    {
      name: 'NaN propagates: features with a NaN give NaN CKA, a NaN kernel NaN eigenvalues, a NaN sample NaN W1',
      run: () => {
        const a = m(4, 2);
        a.data[3] = NaN;
        expect(linearCKA(a, m(4, 3))).toBeNaN();
        expect(Number.isNaN(symmetricEigen(matrix(2, 2, [NaN, 0, 0, 1])).values[0])).toBe(true);
        expect(wasserstein1([1, NaN], [1, 2])).toBeNaN();
        expect(histogram([NaN, 0.5], bins(0, 1, 2)).nan).toBe(1);
      },
    },
  ]);
});
