/**
 * @file The real trainer behind `widthscope sweep`: builds the task and the model of a run,
 * trains it with its parameterization's per-parameter rules, and reports test metrics and
 * test-set predictions at the evaluation steps. The seeds of an ensemble group (a job with more
 * than one member) train as one ensemble model (issue 7): parameters [S, ...], every member sees
 * the same batches, the training loss is the sum over members of each member's mean loss (so each
 * member's gradient is its single-run gradient), and metrics and predictions are reported per
 * member exactly as single runs would report them. A member whose loss turns non-finite is
 * reported diverged alone: it keeps its (isolated) slice of the batched step but is no longer
 * reported; its siblings go on unchanged.
 *
 * Training steps are captured (src/nn/captured-step.ts; off with WIDTHSCOPE_CAPTURE=0 or
 * ModelTrainerOptions.capture false): the first step of a batch shape runs normally, the second
 * is recorded, later ones replay it, bit-identical to the uncaptured step.
 *
 * Divergence is found on the device (src/nn/health.ts): each step's loss is added into a health
 * record that also flags the first non-finite loss, and the optimizer's update kernels flag the
 * first non-finite gradient; the readback every `logEvery` steps brings the exact step (and
 * which: the loss, or which parameter's gradient) to TrainHooks.onDiverged.
 */
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/scope.js';
import { backward, crossEntropy, mseLoss, noGrad, reshape, detach, expand, sum } from '../autograd/index.js';
import { mean as meanOp, mul } from '../autograd/ops.js';
import { argmax, cast } from '../ops/index.js';
import { binary } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { buildModel, type Model, type ModelSpec } from '../nn/models.js';
import { Adam, SGD, type Optimizer } from '../nn/optim.js';
import { TrainingHealth, type HealthReading } from '../nn/health.js';
import { flagContext } from '../tensor/error-flags.js';
import { fmt } from '../tensor/shape.js';
import { makeTask, regressionLossScale, type Task } from './tasks.js';
import type { RunConfig } from './spec/resolve.js';
import { defaultCost, type MetricRecord, type TrainHooks, type TrainJob, type Trainer } from './trainer.js';
import { TrainingProbes, writeTargets } from './probes/run-probes.js';
import { CapturedTrainStep } from '../nn/captured-step.js';

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
  if (task.kind === 'regression') {
    const scale = regressionLossScale(task);
    return scale === 1 ? mseLoss(out, y) : mul(mseLoss(out, y), scale);
  }
  if (task.kind === 'text') return crossEntropy(reshape(out, [-1, task.outputs]), reshape(y, [-1]));
  return crossEntropy(out, y);
}

export function makeOptimizer(c: RunConfig, model: Model): Optimizer {
  const o = c.optimizer;
  if (o.name === 'sgd') return new SGD(model.parameters(), { lr: c.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  return new Adam(model.parameters(), { lr: c.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: true });
}

/** The model of a run; with `seeds`, the ensemble of those seeds (parameters [S, ...]). */
export function buildRun(c: RunConfig, task: Task, device: Device, seeds?: number[]): Model {
  const p = c.parameterization;
  return buildModel(
    { device, seed: c.seed, seeds, param: { parameterization: p.name, optimizer: c.optimizer.name, gamma0: p.name === 'mf' ? p.gamma0 : undefined } },
    modelSpecFor(c, task),
  );
}

/**
 * Per-member losses [S] of ensemble outputs `out` [S, B, ...] against a shared target `y`
 * [B, ...] (each the mean over its examples and, for text, positions, as `lossOf`).
 */
export function memberLosses(task: Task, out: Tensor, y: Tensor): Tensor {
  const S = out.shape[0];
  if (task.kind === 'regression') {
    const sq = mseLoss(out, expand(y, out.shape), { reduction: 'none' });
    const scale = regressionLossScale(task);
    const perMember = meanOp(reshape(sq, [S, -1]), -1);
    return scale === 1 ? perMember : mul(perMember, scale);
  }
  const labels = expand(y, [S, ...y.shape]);
  const ce = task.kind === 'text'
    ? crossEntropy(reshape(out, [S, -1, task.outputs]), reshape(labels, [S, -1]), { reduction: 'none' })
    : crossEntropy(out, labels, { reduction: 'none' });
  return meanOp(ce, -1);
}

/**
 * One ensemble step appended to the encoder: forward, backward of the sum of the members' mean
 * losses, update. Returns the per-member losses [S].
 */
export function ensembleTrainStep(model: Model, opt: Optimizer, task: Task, batch: { x: Tensor; y: Tensor }): Tensor {
  const losses = tidy(() => {
    const l = memberLosses(task, model.forward(batch.x), batch.y);
    backward(sum(l));
    return detach(l);
  });
  opt.step();
  opt.zeroGrad();
  return losses;
}

/** Runs `fn` without recording, named `phase` in anomaly messages. */
function inPhase<T>(phase: string, fn: () => T): T {
  const prev = flagContext.phase;
  flagContext.phase = phase;
  try {
    return noGrad(fn);
  } finally {
    flagContext.phase = prev;
  }
}

/** Runs the probes named 'probes' in anomaly messages (they record: sharpness and eNTK differentiate). */
async function inProbes<T>(fn: () => Promise<T>): Promise<T> {
  const prev = flagContext.phase;
  flagContext.phase = 'probes';
  try {
    return await fn();
  } finally {
    flagContext.phase = prev;
  }
}

/** Per-member test metrics and outputs of an ensemble model on a shared test set. */
export async function evaluateEnsemble(model: Model, task: Task, test: { x: Tensor; y: Tensor }): Promise<{ records: MetricRecord[]; outputs: Float32Array[]; shape: number[] }> {
  const { loss, acc, out } = inPhase('evaluation', () =>
    tidy(() => {
      const out = model.forward(test.x);
      const loss = memberLosses(task, out, test.y);
      if (task.kind === 'regression') return { loss, acc: null, out };
      const S = out.shape[0];
      const pred = cast(argmax(out, -1), 'f32');
      const hit = binary('eq', pred, cast(expand(test.y, [S, ...test.y.shape]), 'f32'));
      const acc = mean(reshape(hit, [S, -1]), -1);
      return { loss, acc, out };
    }),
  );
  // one wait for all three readbacks, not three in a row
  const [l, a, all] = (await Promise.all([loss.data(), acc ? acc.data() : null, out.data()])) as [Float32Array, Float32Array | null, Float32Array];
  const S = out.shape[0];
  const shape = out.shape.slice(1);
  const per = all.length / S;
  const records = Array.from({ length: S }, (_, s) => {
    const r: MetricRecord = { testLoss: l[s] };
    if (a) r.testAccuracy = a[s];
    return r;
  });
  const outputs = Array.from({ length: S }, (_, s) => all.subarray(s * per, (s + 1) * per));
  for (const t of [loss, acc, out]) t?.dispose();
  return { records, outputs, shape };
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
  const { loss, acc, out } = inPhase('evaluation', () =>
    tidy(() => {
      const out = model.forward(test.x);
      const loss = lossOf(task, out, test.y);
      if (task.kind === 'regression') return { loss, acc: null, out };
      const pred = cast(argmax(out, -1), 'f32');
      const acc = mean(binary('eq', pred, cast(test.y, 'f32')));
      return { loss, acc, out };
    }),
  );
  // one wait for all three readbacks, not three in a row
  const [l, a, outputs] = (await Promise.all([loss.data(), acc ? acc.data() : null, out.data()])) as [Float32Array, Float32Array | null, Float32Array];
  const record: MetricRecord = { testLoss: l[0] };
  if (a) record.testAccuracy = a[0];
  const shape = [...out.shape];
  for (const t of [loss, acc, out]) t?.dispose();
  return { record, outputs, shape };
}

/**
 * Reports the members of `reading` that went non-finite (hooks.onDiverged, or onStep with NaN
 * where it is missing); returns them (ensemble member indices).
 */
function reportDivergences(reading: HealthReading, opt: Optimizer, hooks: TrainHooks): Set<number> {
  const out = new Set<number>();
  for (const d of reading.diverged) {
    const p = opt.params[d.param];
    const reason = d.what === 'loss'
      ? `training loss is not finite at step ${d.step}`
      : `gradient of ${p ? `'${p.name}' ${fmt(p.shape)}` : `parameter ${d.param}`} is not finite at step ${d.step} (its loss was finite)`;
    if (hooks.onDiverged) hooks.onDiverged(d.step, reason, d.member);
    else hooks.onStep?.(d.step, NaN, d.member);
    out.add(d.member);
  }
  return out;
}

export interface ModelTrainerOptions {
  device: Device;
  /** Read the training loss back every k steps (progress, divergence); default 10. */
  logEvery?: number;
  /** Train a job's members one after another instead of as one ensemble model (default false). */
  sequential?: boolean;
  /**
   * The largest tensor an ensemble may hold (bytes; default the adapter's binding limit). A job's
   * members are split into ensembles small enough for it (see ensembleCapacity).
   */
  maxTensorBytes?: number;
  /** Called before each training step is appended (fault injection in tests, debugging). */
  beforeStep?: (step: number, model: Model) => void;
  /** Capture training steps (default: env WIDTHSCOPE_CAPTURE, on). */
  capture?: boolean;
}

/** What trainMember and trainEnsemble take besides the job. */
interface LoopOptions {
  logEvery: number;
  beforeStep?: (step: number, model: Model) => void;
  capture?: boolean;
}

/**
 * What one training loop holds: the model's optimizer, the test set, the health record (its
 * gradient check on the optimizer), the probes and the captured step; `loop` runs the loop and
 * frees them with the model and the task at its end.
 */
function loopParts(device: Device, c: RunConfig, task: Task, model: Model, o: LoopOptions, members: {
  seeds: number[];
  loss: (out: Tensor, y: Tensor) => Tensor;
  step: (model: Model, opt: Optimizer, task: Task, batch: { x: Tensor; y: Tensor }) => Tensor;
}) {
  const opt = makeOptimizer(c, model);
  const test = task.test();
  const health = new TrainingHealth(device, members.seeds.length);
  opt.gradientCheck = health.check;
  const probes = TrainingProbes.create({ config: c, task, model, test, loss: members.loss, seeds: members.seeds, capture: o.capture });
  const captured = new CapturedTrainStep(opt, (x, y) => members.step(model, opt, task, { x, y }), { enabled: o.capture });
  /** Appends training step `step` on a fresh batch and adds its loss to the health record. */
  const trainOn = (step: number): void => {
    flagContext.step = step;
    o.beforeStep?.(step, model);
    const batch = task.train(c.batchSize, step);
    const loss = captured.run(batch);
    health.addLoss(loss, step);
    for (const t of [loss, batch.x, batch.y]) t.dispose();
  };
  const dispose = (): void => {
    flagContext.step = null;
    for (const r of [captured, probes, health, test.x, test.y, opt, model, task]) r?.dispose();
  };
  return {
    opt, test, health, probes, captured,
    /**
     * The training loop, steps 0 .. c.steps: at each of `evalSteps` `at.evaluation(step, first)`
     * (first: the loop's first evaluation); then, unless it is the last step or `at.stop()`,
     * training step `step`; after every logEvery-th step `at.log(step + 1)`. A callback that
     * returns true ends the loop. Frees the parts at the end.
     */
    async loop(evalSteps: readonly number[], at: { evaluation(step: number, first: boolean): Promise<boolean>; stop(): boolean; log(step: number): Promise<boolean> }): Promise<void> {
      const evals = new Set(evalSteps);
      let first = true;
      try {
        for (let step = 0; step <= c.steps; step++) {
          if (evals.has(step)) {
            flagContext.step = step;
            if (await at.evaluation(step, first)) break;
            first = false;
          }
          if (step === c.steps || at.stop()) break;
          trainOn(step);
          if ((step + 1) % o.logEvery === 0 && (await at.log(step + 1))) break;
        }
      } finally {
        dispose();
      }
    },
  };
}

async function trainMember(device: Device, c: RunConfig, member: number, evalSteps: number[], outer: TrainHooks, o: LoopOptions): Promise<void> {
  // the health record speaks of member 0: this run is job member `member`
  const hooks: TrainHooks = {
    ...outer,
    onDiverged: outer.onDiverged && ((step, reason) => outer.onDiverged!(step, reason, member)),
    onStep: outer.onStep && ((step, loss) => outer.onStep!(step, loss, member)),
    onArtifact: outer.onArtifact && ((step, name, data, shape) => outer.onArtifact!(step, name, data, shape, member)),
    onProbe: outer.onProbe && ((step, record) => outer.onProbe!(step, record, member)),
  };
  const task = makeTask(c.task, device);
  const model = buildRun(c, task, device);
  const parts = loopParts(device, c, task, model, o, { seeds: [c.seed], loss: (out, y) => lossOf(task, out, y), step: trainStep });
  const { opt, test, health, probes } = parts;
  await parts.loop(evalSteps, {
    async evaluation(step, first) {
      const { record, outputs, shape } = await evaluate(model, task, test);
      const reading = await health.read();
      if (reportDivergences(reading, opt, hooks).size > 0) return true;
      if (reading.means) record.trainLoss = reading.means[0];
      if (first) await writeTargets(test, step, [0], hooks);
      if (probes?.steps.has(step)) await inProbes(() => probes.run(step, [0], hooks));
      hooks.onMetrics(step, record, member);
      hooks.onPredictions(step, outputs, shape, member);
      return false;
    },
    stop: () => hooks.shouldStop() || hooks.isDiverged(member),
    async log(step) {
      const reading = await health.read();
      if (reportDivergences(reading, opt, hooks).size > 0) return true;
      hooks.onStep?.(step, reading.means![0]);
      return false;
    },
  });
}

/**
 * How many members of `c` one ensemble model may hold: every tensor of an S-member model is S
 * times the single model's (parameters, optimizer state, activations of a training step and of
 * the test-set evaluation), and each must fit `limitBytes` (default: the adapter's binding
 * limit). Measured by one training step and one evaluation of a single-seed model of the run.
 */
export async function ensembleCapacity(device: Device, c: RunConfig, limitBytes = device.maxTensorBytes): Promise<number> {
  const task = makeTask(c.task, device);
  const probe = buildRun(c, task, device);
  const opt = makeOptimizer(c, probe);
  const test = task.test();
  const batch = task.train(c.batchSize, 0);
  const before = device.largestAllocation;
  device.largestAllocation = 0;
  let largest = 0;
  try {
    largest = Math.max(...probe.parameters().map((p) => p.value.size * 4));
    trainStep(probe, opt, task, batch).dispose();
    await evaluate(probe, task, test);
    largest = Math.max(largest, device.largestAllocation);
  } finally {
    device.largestAllocation = Math.max(before, device.largestAllocation);
    for (const r of [batch.x, batch.y, test.x, test.y, opt, probe, task]) r.dispose();
  }
  return Math.max(1, Math.floor(limitBytes / largest));
}

/**
 * Members `members` of a job (reported as job members first, first + 1, ...) trained as one
 * ensemble model: one batched step per training step.
 */
async function trainEnsemble(device: Device, members: TrainJob['members'], first: number, evalSteps: number[], hooks: TrainHooks, o: LoopOptions): Promise<void> {
  const c = members[0].config;
  const seeds = members.map((m) => m.config.seed);
  const S = seeds.length;
  // hooks speak job member indices; this ensemble's member m is job member first + m
  const outer = hooks;
  hooks = {
    onMetrics: (step, r, m) => outer.onMetrics(step, r, first + (m ?? 0)),
    onPredictions: (step, d, sh, m) => outer.onPredictions(step, d, sh, first + (m ?? 0)),
    onStep: outer.onStep && ((step, l, m) => outer.onStep!(step, l, first + (m ?? 0))),
    onDiverged: outer.onDiverged && ((step, reason, m) => outer.onDiverged!(step, reason, first + (m ?? 0))),
    onArtifact: outer.onArtifact && ((step, name, d, sh, m) => outer.onArtifact!(step, name, d, sh, first + (m ?? 0))),
    onProbe: outer.onProbe && ((step, r, m) => outer.onProbe!(step, r, first + (m ?? 0))),
    shouldStop: () => outer.shouldStop(),
    isDiverged: (m) => outer.isDiverged(first + m),
  };
  const task = makeTask(c.task, device);
  const model = buildRun(c, task, device, seeds);
  const parts = loopParts(device, c, task, model, o, { seeds, loss: (out, y) => sum(memberLosses(task, out, y)), step: ensembleTrainStep });
  const { opt, test, health, probes } = parts;
  // a member is dead once the runner marked it diverged or its loss turned non-finite here
  const dead = new Array<boolean>(S).fill(false);
  const alive = (m: number) => !dead[m] && !hooks.isDiverged(m);
  const readHealth = async (): Promise<Float32Array | null> => {
    const reading = await health.read();
    for (const m of reportDivergences({ ...reading, diverged: reading.diverged.filter((d) => alive(d.member)) }, opt, hooks)) dead[m] = true;
    return reading.means;
  };
  await parts.loop(evalSteps, {
    async evaluation(step, first) {
      const { records, outputs, shape } = await evaluateEnsemble(model, task, test);
      const train = await readHealth();
      const living = records.map((_, m) => m).filter(alive);
      if (first) await writeTargets(test, step, living, hooks);
      if (probes?.steps.has(step)) await inProbes(() => probes.run(step, living, hooks));
      for (let m = 0; m < S; m++) {
        if (!alive(m)) continue;
        if (train) records[m].trainLoss = train[m];
        hooks.onMetrics(step, records[m], m);
        hooks.onPredictions(step, outputs[m], shape, m);
      }
      return false;
    },
    stop: () => hooks.shouldStop() || !dead.some((_, m) => alive(m)),
    async log(step) {
      // a diverged member stops being reported, as a single run stops (its slice trains on, isolated)
      const v = (await readHealth())!;
      for (let m = 0; m < S; m++) if (alive(m)) hooks.onStep?.(step, v[m], m);
      return false;
    },
  });
}

export function createModelTrainer(opts: ModelTrainerOptions): Trainer {
  const loop: LoopOptions = { logEvery: opts.logEvery ?? 10, beforeStep: opts.beforeStep, capture: opts.capture };
  return {
    async trainRun(job: TrainJob, hooks: TrainHooks) {
      const anomaly = opts.device.anomaly;
      opts.device.anomaly ||= job.anomaly === true;
      try {
        await trainJob(job, hooks);
      } finally {
        opts.device.anomaly = anomaly;
      }
    },
    estimateCost: (c) => defaultCost(c) * (c.model.family === 'cnn' ? 9 : 1),
  };

  async function trainJob(job: TrainJob, hooks: TrainHooks): Promise<void> {
    if (job.members.length > 1 && !opts.sequential) {
      // one ensemble model, split only where a tensor [S, ...] would exceed the binding limit
      const size = Math.min(job.members.length, await ensembleCapacity(opts.device, job.config, opts.maxTensorBytes));
      for (let first = 0; first < job.members.length; first += size) {
        if (hooks.shouldStop()) return;
        const chunk = job.members.slice(first, first + size);
        if (chunk.length === 1) await trainMember(opts.device, chunk[0].config, first, job.evalSteps, hooks, loop);
        else await trainEnsemble(opts.device, chunk, first, job.evalSteps, hooks, loop);
      }
      return;
    }
    for (let m = 0; m < job.members.length; m++) {
      if (hooks.shouldStop()) return;
      await trainMember(opts.device, job.members[m].config, m, job.evalSteps, hooks, loop);
    }
  }
}
