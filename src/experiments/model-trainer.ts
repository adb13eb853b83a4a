/**
 * @file The real trainer behind `widthscope sweep`: builds the task and the model of a run,
 * trains it with its parameterization's per-parameter rules, and reports test metrics and
 * test-set predictions at the evaluation steps. Seeds of an ensemble group train one after
 * another here (each member exactly as a single-seed run).
 */
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { backward, crossEntropy, mseLoss, noGrad, reshape, detach, add } from '../autograd/index.js';
import { argmax, cast } from '../ops/index.js';
import { binary } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { buildModel, type Model, type ModelSpec } from '../nn/models.js';
import { Adam, SGD, type Optimizer } from '../nn/optim.js';
import { makeTask, type Task } from './tasks.js';
import type { RunConfig } from './spec/resolve.js';
import { defaultCost, type MetricRecord, type TrainHooks, type TrainJob, type Trainer } from './trainer.js';

/** The nn model spec of a run on its task. */
export function modelSpecFor(c: RunConfig, task: Task): ModelSpec {
  const m = c.model;
  const common = { width: c.width, baseWidth: c.baseWidth, depth: m.depth };
  switch (m.family) {
    case 'mlp':
      return { family: 'mlp', ...common, inputShape: task.inputShape, classes: task.outputs, activation: m.activation, bias: m.bias };
    case 'cnn':
      return { family: 'cnn', ...common, inputShape: task.inputShape, classes: task.outputs, activation: m.activation };
    case 'transformer':
      return { family: 'transformer', ...common, headDim: m.headDim, mlpRatio: m.mlpRatio, vocab: task.outputs, context: task.context ?? task.inputShape[0] };
  }
}

/** The training loss of `out` against `y` (mean over examples and, for text, positions). */
export function lossOf(task: Task, out: Tensor, y: Tensor): Tensor {
  if (task.kind === 'regression') return mseLoss(out, y);
  if (task.kind === 'text') return crossEntropy(reshape(out, [-1, task.outputs]), reshape(y, [-1]));
  return crossEntropy(out, y);
}

export function makeOptimizer(c: RunConfig, model: Model): Optimizer {
  const o = c.optimizer;
  if (o.name === 'sgd') return new SGD(model.parameters(), { lr: c.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  return new Adam(model.parameters(), { lr: c.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: true });
}

export function buildRun(c: RunConfig, task: Task, device: Device): Model {
  const p = c.parameterization;
  return buildModel(
    { device, seed: c.seed, param: { parameterization: p.name, optimizer: c.optimizer.name, gamma0: p.name === 'mf' ? p.gamma0 : undefined } },
    modelSpecFor(c, task),
  );
}

/** One training step appended to the encoder: forward, backward, update. Returns the loss. */
export function trainStep(model: Model, opt: Optimizer, task: Task, batch: { x: Tensor; y: Tensor }): Tensor {
  const loss = tidy(() => {
    const l = lossOf(task, model.forward(batch.x), batch.y);
    backward(l);
    return detach(l);
  });
  opt.step();
  opt.zeroGrad();
  return loss;
}

/** Test loss and accuracy (classification/text) and the test outputs, without recording. */
export async function evaluate(model: Model, task: Task, test: { x: Tensor; y: Tensor }): Promise<{ record: MetricRecord; outputs: Float32Array; shape: number[] }> {
  const { loss, acc, out } = noGrad(() =>
    tidy(() => {
      const out = model.forward(test.x);
      const loss = lossOf(task, out, test.y);
      if (task.kind === 'regression') return { loss, acc: null, out };
      const pred = cast(argmax(out, -1), 'f32');
      const acc = mean(binary('eq', pred, cast(test.y, 'f32')));
      return { loss, acc, out };
    }),
  );
  const record: MetricRecord = { testLoss: await loss.item() };
  if (acc) record.testAccuracy = await acc.item();
  const outputs = (await out.data()) as Float32Array;
  const shape = [...out.shape];
  for (const t of [loss, acc, out]) t?.dispose();
  return { record, outputs, shape };
}

export interface ModelTrainerOptions {
  device: Device;
  /** Read the training loss back every k steps (progress, divergence); default 10. */
  logEvery?: number;
}

async function trainMember(device: Device, c: RunConfig, member: number, evalSteps: number[], hooks: TrainHooks, logEvery: number): Promise<void> {
  const task = makeTask(c.task, device);
  const model = buildRun(c, task, device);
  const opt = makeOptimizer(c, model);
  const test = task.test();
  const evals = new Set(evalSteps);
  let lossSum: Tensor | null = null;
  let lossCount = 0;
  try {
    for (let step = 0; step <= c.steps; step++) {
      if (evals.has(step)) {
        const { record, outputs, shape } = await evaluate(model, task, test);
        if (lossSum) {
          record.trainLoss = (await lossSum.item()) / lossCount;
          lossSum.dispose();
          lossSum = null;
          lossCount = 0;
        }
        hooks.onMetrics(step, record, member);
        hooks.onPredictions(step, outputs, shape, member);
      }
      if (step === c.steps || hooks.shouldStop() || hooks.isDiverged(member)) break;
      const batch = task.train(c.batchSize, step);
      const loss = trainStep(model, opt, task, batch);
      batch.x.dispose();
      batch.y.dispose();
      const next: Tensor = lossSum ? tidy(() => add(lossSum!, loss)) : loss;
      if (lossSum && next !== lossSum) lossSum.dispose();
      if (next !== loss) loss.dispose();
      lossSum = next;
      lossCount++;
      if ((step + 1) % logEvery === 0) {
        const v = (await lossSum.item()) / lossCount;
        hooks.onStep?.(step + 1, v, member);
        if (!Number.isFinite(v)) break;
      }
    }
  } finally {
    lossSum?.dispose();
    test.x.dispose();
    test.y.dispose();
    opt.dispose();
    model.dispose();
    task.dispose();
  }
}

export function createModelTrainer(opts: ModelTrainerOptions): Trainer {
  const logEvery = opts.logEvery ?? 10;
  return {
    async trainRun(job: TrainJob, hooks: TrainHooks) {
      for (let m = 0; m < job.members.length; m++) {
        if (hooks.shouldStop()) return;
        await trainMember(opts.device, job.members[m].config, m, job.evalSteps, hooks, logEvery);
      }
    },
    estimateCost: (c) => defaultCost(c) * (c.model.family === 'cnn' ? 9 : 1),
  };
}
