import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ws from '../../src/index.js';
import { buildModel, type ModelSpec } from '../../src/nn/models.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/nn/checkpoint.js';
import { Adam } from '../../src/nn/optim.js';
import { makeTask, type Task } from '../../src/experiments/tasks.js';
import { lossOf, trainStep } from '../../src/experiments/model-trainer.js';
import type { TaskSpec } from '../../src/experiments/spec/schema.js';

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
