import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { DEFAULT_GAUSSIAN_TEACHER, GaussianTeacher } from '../../src/data/gaussian-teacher.js';
import { makeTask, regressionLossScale } from '../../src/experiments/tasks.js';
import type { TaskSpec } from '../../src/experiments/spec/schema.js';

const moments = (v: ArrayLike<number>) => {
  let [m, q] = [0, 0];
  for (let i = 0; i < v.length; i++) m += v[i] / v.length;
  for (let i = 0; i < v.length; i++) q += (v[i] - m) ** 2 / v.length;
  return { mean: m, variance: q };
};

describe('the standard Gaussian teacher', () => {
  it('targets have mean ~0 and variance ~1 on fresh GPU samples, and equal the host f64 teacher on the same inputs', async () => {
    for (const activation of ['relu', 'tanh'] as const) {
      const t = new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, inputDim: 20, activation }, ws.getDevice());
      const { x, y } = t.batch(4096, 5, 3);
      expect(x.shape).toEqual([4096, 20]);
      expect(y.shape).toEqual([4096, 1]);
      const ys = await y.data();
      const { mean, variance } = moments(ys);
      expect(Math.abs(mean), `${activation} mean ${mean}`).toBeLessThan(0.08);
      expect(Math.abs(variance - 1), `${activation} variance ${variance}`).toBeLessThan(0.1);
      const host = t.evaluate(await x.data(), 4096).map((f) => (f - t.mean) / t.std);
      let err = 0;
      for (let i = 0; i < ys.length; i++) err = Math.max(err, Math.abs(ys[i] - host[i]));
      expect(err).toBeLessThan(1e-4);
      t.dispose();
    }
  });

  it('the task stream is one sequence per (dataSeed, index): identical across tasks built for any width or seed, fresh per index', async () => {
    const spec = { name: 'teacher-gaussian', inputDim: 8, teacherWidth: 16, testSize: 32 } as TaskSpec;
    const [a, b] = [makeTask(spec, ws.getDevice()), makeTask(spec, ws.getDevice())];
    expect(a.inputShape).toEqual([8]);
    expect([a.kind, a.outputs, a.loss]).toEqual(['regression', 1, 'mse']);
    const [p, q, r] = [a.train(64, 2), b.train(64, 2), a.train(64, 3)];
    expect(Array.from(await p.x.data())).toEqual(Array.from(await q.x.data()));
    expect(Array.from(await p.y.data())).toEqual(Array.from(await q.y.data()));
    expect(Array.from(await p.x.data())).not.toEqual(Array.from(await r.x.data()));
    expect(Array.from(await a.test().y.data())).toEqual(Array.from(await b.test().y.data()));
    expect(a.test().x.shape).toEqual([32, 8]);
    a.dispose();
    b.dispose();
  });

  it('the loss convention: half-mse scales mean (f - y)^2 by 0.5', () => {
    const half = makeTask({ name: 'teacher-gaussian', inputDim: 4, loss: 'half-mse' } as TaskSpec, ws.getDevice());
    const reg = makeTask({ name: 'teacher-regression', loss: 'half-mse' } as TaskSpec, ws.getDevice());
    const plain = makeTask({ name: 'teacher-regression' } as TaskSpec, ws.getDevice());
    expect([regressionLossScale(half), regressionLossScale(reg), regressionLossScale(plain)]).toEqual([0.5, 0.5, 1]);
    for (const t of [half, reg, plain]) t.dispose();
  });

  it('refuses bad teacher sizes with the field and the value', () => {
    expect(() => new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, inputDim: 0 }, ws.getDevice())).toThrow(/gaussian teacher: inputDim must be a positive integer, got 0/);
    expect(() => new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, normSamples: 1 }, ws.getDevice())).toThrow(/gaussian teacher: normSamples must be at least 2, got 1/);
    const t = new GaussianTeacher({ ...DEFAULT_GAUSSIAN_TEACHER, inputDim: 3 }, ws.getDevice());
    expect(() => t.batch(0, 1, 1)).toThrow(/gaussian teacher: batch size must be a positive integer, got 0/);
    t.dispose();
  });
});

describe('an MLP on the standard teacher', () => {
  it('takes the [d] inputs and its test loss falls under mean-field SGD', async () => {
    const { buildModel } = await import('../../src/nn/models.js');
    const { SGD } = await import('../../src/nn/optim.js');
    const { lossOf, trainStep } = await import('../../src/experiments/model-trainer.js');
    const task = makeTask({ name: 'teacher-gaussian', inputDim: 8, teacherWidth: 16, testSize: 256 } as TaskSpec, ws.getDevice());
    const model = buildModel(
      { device: ws.getDevice(), seed: 1, param: { parameterization: 'mf', optimizer: 'sgd', gamma0: 1 } },
      { family: 'mlp', width: 32, baseWidth: 32, depth: 2, inputShape: task.inputShape, classes: 1 },
    );
    const test = task.test();
    const testLoss = async () => (await ws.noGrad(() => lossOf(task, model.forward(test.x), test.y)).data())[0];
    const before = await testLoss();
    const opt = new SGD(model.parameters(), { lr: 0.02 });
    for (let i = 0; i < 50; i++) trainStep(model, opt, task, task.train(64, i)).dispose();
    const after = await testLoss();
    expect(after, `test loss ${before} -> ${after}`).toBeLessThan(0.9 * before);
    model.dispose();
    task.dispose();
  });
});
