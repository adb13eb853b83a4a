import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ws from '../../src/index.js';
import { buildModel, type ModelSpec } from '../../src/nn/models.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/nn/checkpoint.js';
import { Adam } from '../../src/nn/optim.js';
import { makeTask, type Task } from '../../src/experiments/tasks.js';
import { lossOf, memberLosses, trainStep } from '../../src/experiments/model-trainer.js';
import type { TaskSpec } from '../../src/experiments/spec/schema.js';
import * as ag from '../../src/autograd/ops.js';
import { F64Tensor, gradients } from '../../src/autograd/index.js';
import { f64Forward, f64Parameters } from './f64-models.js';

const device = () => ws.getDevice();

function setup(family: 'mlp' | 'cnn' | 'transformer', width = 32, seed = 1) {
  const taskSpec = (family === 'transformer' ? { name: 'markov-text', contextLength: 16, vocab: 24 } : { name: 'teacher-image', testSize: 64 }) as TaskSpec;
  const task = makeTask(taskSpec, device());
  const common = { width, baseWidth: 32, depth: family === 'cnn' ? 1 : 2 };
  const spec: ModelSpec = family === 'transformer'
    ? { family, ...common, headDim: 16, vocab: task.outputs, context: 16 }
    : { family, ...common, inputShape: task.inputShape, classes: task.outputs };
  const model = buildModel({ device: device(), seed, param: { parameterization: 'mup', optimizer: 'adam' } }, spec);
  return { task, model, spec };
}

async function losses(task: Task, model: ReturnType<typeof setup>['model'], steps: number, lr = 3e-3): Promise<number[]> {
  const opt = new Adam(model.parameters(), { lr });
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const b = task.train(32, s % 4);
    const l = trainStep(model, opt, task, b);
    out.push(await l.item());
    for (const t of [l, b.x, b.y]) t.dispose();
  }
  opt.dispose();
  return out;
}

describe('each model family trains', () => {
  for (const family of ['mlp', 'cnn', 'transformer'] as const) {
    it(`${family}: the loss on a small fixed problem falls`, async () => {
      const { task, model } = setup(family);
      const l = await losses(task, model, 40, family === 'mlp' ? 3e-3 : 1e-2);
      const first = (l[0] + l[1] + l[2] + l[3]) / 4;
      const last = (l[36] + l[37] + l[38] + l[39]) / 4;
      expect(last).toBeLessThan(first * 0.8);
      model.dispose();
      task.dispose();
    });
  }
});

describe('each model family matches its f64 formula', () => {
  // tiny widths; the CNN has two stages (a strided block with a 1x1 skip), the MLP two hidden layers
  const cases = [
    { family: 'mlp', width: 8, p: 'mup' }, { family: 'mlp', width: 8, p: 'sp' },
    { family: 'cnn', width: 4, depth: 2, p: 'mup' }, { family: 'transformer', width: 16, p: 'mup' },
  ] as const;
  for (const c of cases) {
    it(`${c.family} (${c.p}, width ${c.width}): outputs and every parameter's gradient agree with the f64 reference`, async () => {
      const taskSpec = (c.family === 'transformer' ? { name: 'markov-text', contextLength: 8, vocab: 12 } : { name: 'teacher-image', testSize: 8 }) as TaskSpec;
      const task = makeTask(taskSpec, device());
      const common = { width: c.width, baseWidth: c.family === 'transformer' ? 8 : 4, depth: 'depth' in c ? c.depth : 2 };
      const spec: ModelSpec = c.family === 'transformer'
        ? { family: c.family, ...common, headDim: 8, vocab: task.outputs, context: 8 }
        : { family: c.family, ...common, inputShape: task.inputShape, classes: task.outputs };
      const model = buildModel({ device: device(), seed: 5, param: { parameterization: c.p, optimizer: 'sgd' } }, spec);
      const batch = task.train(3, 1);
      const named = [...model.namedParameters()];
      const [out, grads] = await ws.tidyAsync(async () => {
        const y = model.forward(batch.x);
        const g = gradients(lossOf(task, y, batch.y), named.map(([, p]) => p.value));
        return [await y.data(), await Promise.all(g.map((t) => t.data()))] as const;
      });
      const params = await f64Parameters(model);
      const xs = await batch.x.data();
      const x = F64Tensor.from(xs, batch.x.shape);
      const labels = Array.from(await batch.y.data());
      const ref = f64Forward(model, params, x, c.p);
      const flat = ag.reshape(ref, [-1, task.outputs]);
      const loss = ag.crossEntropy(flat, ag.indicesLike(flat, [labels.length], labels));
      const refGrads = gradients(loss, [...params.values()]);
      const rel = (a: ArrayLike<number>, b: ArrayLike<number>) =>
        Math.sqrt(Array.from(b, (v, i) => (a[i] - v) ** 2).reduce((s, v) => s + v, 0) / Array.from(b, (v) => v * v).reduce((s, v) => s + v, 0));
      expect(ref.shape).toEqual(c.family === 'transformer' ? [3, 8, task.outputs] : [3, task.outputs]);
      expect(rel(out, ref.data), 'outputs').toBeLessThan(1e-5);
      // a key bias adds q.b_k to every logit of a row, which softmax ignores: its gradient is 0
      const zero = (name: string) => /attn\.k\.bias$/.test(name);
      named.forEach(([name], i) => {
        const norm = Math.hypot(...refGrads[i].data);
        if (zero(name)) {
          expect(norm, `${name}: reference`).toBeLessThan(1e-12);
          expect(Math.hypot(...grads[i]), `${name}: GPU`).toBeLessThan(1e-6);
          return;
        }
        expect(norm, `${name}: the reference gradient is not ~0`).toBeGreaterThan(1e-6);
        expect(rel(grads[i], refGrads[i].data), `d loss / d ${name}`).toBeLessThan(1e-4);
      });
      for (const t of [batch.x, batch.y]) t.dispose();
      model.dispose();
      task.dispose();
    });
  }
});

describe('determinism', () => {
  it('the same seed gives bit-identical losses run to run', async () => {
    const run = async () => {
      const { task, model } = setup('mlp', 48, 7);
      const l = await losses(task, model, 5);
      model.dispose();
      task.dispose();
      return l;
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
  });
});

describe('checkpoints', () => {
  it('save -> load gives identical outputs; a checkpoint of another width names the parameter and both shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-ckpt-'));
    const path = join(dir, 'model.safetensors');
    const { task, model, spec } = setup('mlp', 32, 3);
    await losses(task, model, 3);
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    await saveCheckpoint(path, model, opt.stateTensors(), { step: 3 });
    const batch = task.test();
    const before = await ws.noGrad(() => model.forward(batch.x)).data();

    const fresh = buildModel({ device: device(), seed: 99, param: { parameterization: 'mup', optimizer: 'adam' } }, spec);
    const loaded = loadCheckpoint(path, fresh);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.meta).toEqual({ step: 3 });
    expect([...loaded.extra.keys()].some((k) => k.startsWith('optim.m.'))).toBe(true);
    const after = await ws.noGrad(() => fresh.forward(batch.x)).data();
    expect(Array.from(after)).toEqual(Array.from(before));

    const wider = setup('mlp', 64, 3).model;
    expect(() => loadCheckpoint(path, wider)).toThrow(/parameter 'input\.weight' has shape \[192, 32\] in the checkpoint but \[192, 64\] in the model/);
    for (const m of [model, fresh, wider]) m.dispose();
    opt.dispose();
    task.dispose();
  });
});

describe('loss helpers', () => {
  it("a regression task's loss: 'mse' is mean (f - y)^2, 'half-mse' half of it, single and per ensemble member", async () => {
    const out = ws.fromArray([1, 2, 3, 4], [4, 1]);
    const y = ws.fromArray([0, 0, 1, 1], [4, 1]);
    const want = (1 + 4 + 4 + 9) / 4;
    for (const [loss, scale] of [['mse', 1], ['half-mse', 0.5]] as const) {
      const task = makeTask({ name: 'teacher-gaussian', inputDim: 4, testSize: 4, loss } as TaskSpec, device());
      expect(await ws.noGrad(() => lossOf(task, out, y)).item(), loss).toBeCloseTo(scale * want, 6);
      const members = ws.noGrad(() => memberLosses(task, ws.fromArray([1, 2, 3, 4, 0, 0, 1, 1], [2, 4, 1]), y));
      expect(Array.from(await members.data()), loss).toEqual([scale * want, 0]);
      task.dispose();
    }
  });

  it('text loss averages over every position', async () => {
    const { task, model } = setup('transformer');
    const b = task.train(4, 0);
    const l = ws.noGrad(() => lossOf(task, model.forward(b.x), b.y));
    // an untrained model is near uniform: loss ~ log(vocab)
    expect(Math.abs((await l.item()) - Math.log(24))).toBeLessThan(0.5);
    model.dispose();
    task.dispose();
  });
});
