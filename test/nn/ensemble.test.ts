/**
 * Ensembles (issue 7): member i of an ensemble model trains exactly as the single-seed model with
 * seed seeds[i] (same init streams, same batches), within f32 rounding of the batched kernels:
 * losses to a relative 2e-5 and predictions (logits) to an absolute 2e-5 + relative 1e-4 after
 * a few Adam steps (observed on lavapipe: at most ~1e-6 absolute); the init is bit-identical.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ws from '../../src/index.js';
import { buildModel, type Model, type ModelSpec } from '../../src/nn/models.js';
import { loadCheckpoint, memberState, saveCheckpoint, saveMemberCheckpoint } from '../../src/nn/checkpoint.js';
import { Adam } from '../../src/nn/optim.js';
import { fromArray } from '../../src/ops/creation.js';
import { binary } from '../../src/ops/elementwise.js';
import { makeTask, type Task } from '../../src/experiments/tasks.js';
import { createModelTrainer, ensembleCapacity, ensembleTrainStep, evaluate, evaluateEnsemble, trainStep } from '../../src/experiments/model-trainer.js';
import { resolveSweep, validateSpec } from '../../src/experiments/index.js';
import type { MetricRecord, TrainHooks } from '../../src/experiments/trainer.js';
import type { TaskSpec } from '../../src/experiments/spec/schema.js';

const device = () => ws.getDevice();
const SEEDS = [3, 5, 8];
const STEPS = 4;
const LOSS_RTOL = 2e-5;
const PRED_ATOL = 2e-5;
const PRED_RTOL = 1e-4;

type Family = 'mlp' | 'cnn' | 'transformer';

function makeSetup(family: Family) {
  const taskSpec = (family === 'transformer' ? { name: 'markov-text', contextLength: 8, vocab: 16, testSize: 8 } : { name: 'teacher-image', testSize: 16, size: 8 }) as TaskSpec;
  const task = makeTask(taskSpec, device());
  const common = { width: 32, baseWidth: 16, depth: family === 'cnn' ? 1 : 2 };
  const spec: ModelSpec = family === 'transformer'
    ? { family, ...common, headDim: 8, vocab: task.outputs, context: 8 }
    : { family, ...common, inputShape: task.inputShape, classes: task.outputs };
  const build = (seed: number, seeds?: number[]) => buildModel({ device: device(), seed, seeds, param: { parameterization: 'mup', optimizer: 'adam' } }, spec);
  return { task, spec, build };
}

/** A batch of the task as the train steps take it. */
type Batch = ReturnType<Task['train']>;

/**
 * STEPS Adam steps (lr 1e-2) of `step` on batches of 8, then the test outputs; `lossOf` reads a
 * step's loss tensor, `outputsOf` evaluates the test set; `poison(step)` may corrupt the model first.
 */
async function runSteps<L, O>(
  task: Task,
  model: Model,
  step: (opt: Adam, b: Batch) => ws.Tensor,
  lossOf: (l: ws.Tensor) => Promise<L>,
  outputsOf: (test: Batch) => Promise<O>,
  poison?: (step: number) => void,
): Promise<{ losses: L[]; outputs: O }> {
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const losses: L[] = [];
  for (let s = 0; s < STEPS; s++) {
    poison?.(s);
    const b = task.train(8, s);
    const l = step(opt, b);
    losses.push(await lossOf(l));
    for (const t of [l, b.x, b.y]) t.dispose();
  }
  const test = task.test();
  const outputs = await outputsOf(test);
  test.x.dispose();
  test.y.dispose();
  opt.dispose();
  return { losses, outputs };
}

/** Losses per step and final test outputs of a single model. */
function runSingle(task: Task, model: Model): Promise<{ losses: number[]; outputs: Float32Array }> {
  return runSteps(
    task,
    model,
    (opt, b) => trainStep(model, opt, task, b),
    (l) => l.item(),
    async (test) => (await evaluate(model, task, test)).outputs.slice(),
  );
}

/** Per-member losses per step and final per-member test outputs of an ensemble; `poison(step)` may corrupt it. */
function runEnsemble(task: Task, model: Model, poison?: (step: number) => void): Promise<{ losses: number[][]; outputs: Float32Array[] }> {
  return runSteps(
    task,
    model,
    (opt, b) => ensembleTrainStep(model, opt, task, b),
    async (l) => Array.from((await l.data()) as Float32Array),
    async (test) => (await evaluateEnsemble(model, task, test)).outputs.map((o) => o.slice()),
    poison,
  );
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    const err = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(err <= 0)) worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  if (process.env.WIDTHSCOPE_ENSEMBLE_DEBUG) console.log(`${what}: max |diff| ${maxAbs.toExponential(2)}`);
  expect(worst, `${what}: worst excess over tolerance`).toBe(0);
}

describe('ensemble member i equals the single-seed run with seed i', () => {
  for (const family of ['mlp', 'cnn', 'transformer'] as const) {
    it(`${family}: init, losses and predictions`, async () => {
      const { task, build } = makeSetup(family);
      const ens = build(0, SEEDS);
      // init: bit-identical per member
      for (const [i, seed] of SEEDS.entries()) {
        const single = build(seed);
        const ensParams = ens.namedParameters();
        for (const p of single.parameters()) {
          const e = ensParams.get(p.name)!;
          expect(e.shape).toEqual([SEEDS.length, ...p.shape]);
          const all = (await e.value.data()) as Float32Array;
          const per = all.length / SEEDS.length;
          expect(Array.from(all.subarray(i * per, (i + 1) * per)), `${p.name} member ${i}`).toEqual(Array.from((await p.value.data()) as Float32Array));
        }
        single.dispose();
      }
      const got = await runEnsemble(task, ens);
      for (const [i, seed] of SEEDS.entries()) {
        const single = build(seed);
        const want = await runSingle(task, single);
        expectClose(got.losses.map((l) => l[i]), want.losses, 0, LOSS_RTOL, `${family} member ${i} losses`);
        expectClose(got.outputs[i], want.outputs, PRED_ATOL, PRED_RTOL, `${family} member ${i} predictions`);
        single.dispose();
      }
      ens.dispose();
      task.dispose();
    });
  }
});

describe('a diverging member', () => {
  it('leaves its siblings identical to their single runs', async () => {
    const { task, build } = makeSetup('mlp');
    const clean = build(0, SEEDS);
    const want = await runEnsemble(task, clean);
    clean.dispose();
    const ens = build(0, SEEDS);
    // member 1 blows up at step 2: its slice of every parameter becomes NaN (as an overflow would)
    const got = await runEnsemble(task, ens, (step) => {
      if (step !== 2) return;
      for (const p of ens.parameters()) {
        const mask = new Float32Array(p.value.size).fill(1);
        const per = mask.length / SEEDS.length;
        mask.fill(NaN, per, 2 * per);
        const m = fromArray(mask, p.value.shape, { device: device() });
        p.assign(binary('mul', p.value, m));
        m.dispose();
      }
    });
    expect(got.losses[3][1]).toBeNaN();
    for (const i of [0, 2]) {
      expect(got.losses.map((l) => l[i]), `member ${i} losses`).toEqual(want.losses.map((l) => l[i]));
      expect(Array.from(got.outputs[i]), `member ${i} predictions`).toEqual(Array.from(want.outputs[i]));
    }
    // and within tolerance of the single-seed runs
    for (const i of [0, 2]) {
      const single = build(SEEDS[i]);
      const s = await runSingle(task, single);
      expectClose(got.losses.map((l) => l[i]), s.losses, 0, LOSS_RTOL, `member ${i} vs single`);
      single.dispose();
    }
    ens.dispose();
    task.dispose();
  });
});

describe('ensemble checkpoints', () => {
  it('save -> load gives identical outputs; a member saves as a single-seed checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-ens-ckpt-'));
    const { task, build } = makeSetup('mlp');
    const ens = build(0, SEEDS);
    await runEnsemble(task, ens);
    const path = join(dir, 'ens.safetensors');
    await saveCheckpoint(path, ens, new Map(), { step: STEPS });
    const test = task.test();
    const before = (await ws.noGrad(() => ens.forward(test.x)).data()) as Float32Array;
    const fresh = build(0, [11, 12, 13]);
    const loaded = loadCheckpoint(path, fresh);
    expect(loaded.meta).toEqual({ step: STEPS });
    const after = (await ws.noGrad(() => fresh.forward(test.x)).data()) as Float32Array;
    expect(Array.from(after)).toEqual(Array.from(before));
    // a single-seed model refuses the ensemble checkpoint, naming the shapes
    const single = build(SEEDS[1]);
    expect(() => loadCheckpoint(path, single)).toThrow(/parameter 'input\.weight' has shape \[3, \d+, 32\] in the checkpoint but \[\d+, 32\]/);
    // member 1 alone: a checkpoint a single-seed model loads, with member 1's outputs
    const state = await memberState(ens, 1);
    expect(state.get('input.weight')!.shape).toEqual(single.namedParameters().get('input.weight')!.shape);
    const mpath = join(dir, 'member1.safetensors');
    await saveMemberCheckpoint(mpath, ens, 1);
    loadCheckpoint(mpath, single);
    const one = (await ws.noGrad(() => single.forward(test.x)).data()) as Float32Array;
    const per = before.length / SEEDS.length;
    expectClose(one, before.subarray(per, 2 * per), 1e-5, 1e-5, 'member 1 outputs');
    for (const m of [ens, fresh, single]) m.dispose();
    test.x.dispose();
    test.y.dispose();
    task.dispose();
  });
});

describe('shapes without the ensemble axis', () => {
  it('give a clear error naming the layer, the expected and the received shape', () => {
    const { task, build } = makeSetup('mlp');
    const ens = build(0, SEEDS) as Model & { layers: { forward(x: ws.Tensor): ws.Tensor }[] };
    const hidden = ens.layers[1];
    const x = fromArray(new Float32Array(4 * 32), [4, 32], { device: device() });
    expect(() => hidden.forward(x)).toThrow(/Linear 'hidden1': expected an input \[3, \.\.\., 32\] with the ensemble axis S=3 first, got \[4, 32\]/);
    const bad = fromArray(new Float32Array(2 * 4 * 8 * 8 * 3), [2, 4, 8, 8, 3], { device: device() });
    expect(() => ens.forward(bad)).toThrow(/mlp: an ensemble of 3 expects an input \[3, B, 8, 8, 3\] or a shared batch \[B, 8, 8, 3\], got \[2, 4, 8, 8, 3\]/);
    const cnn = makeSetup('cnn');
    const cens = cnn.build(0, SEEDS) as Model & { stem: { forward(x: ws.Tensor): ws.Tensor } };
    const img = fromArray(new Float32Array(4 * 8 * 8 * 3), [4, 8, 8, 3], { device: device() });
    expect(() => cens.stem.forward(img)).toThrow(/Conv2d 'stem': expected an input \[3, N, H, W, 3\] with the ensemble axis S=3 first, got \[4, 8, 8, 3\]/);
    for (const t of [x, bad, img]) t.dispose();
    for (const m of [ens, cens]) m.dispose();
    task.dispose();
    cnn.task.dispose();
  });
});

describe('per-member inputs', () => {
  it('a batch [S, B, ...] with every member given the same data equals the shared batch [B, ...]', async () => {
    for (const family of ['mlp', 'cnn', 'transformer'] as const) {
      const { task, build } = makeSetup(family);
      const ens = build(0, SEEDS);
      const b = task.train(4, 0);
      const shared = (await ws.noGrad(() => ens.forward(b.x)).data()) as Float32Array;
      const perMember = (await ws.noGrad(() => ens.forward(ws.expand(b.x, [SEEDS.length, ...b.x.shape]))).data()) as Float32Array;
      expect(Array.from(perMember), family).toEqual(Array.from(shared));
      for (const t of [b.x, b.y]) t.dispose();
      ens.dispose();
      task.dispose();
    }
  });
});

describe('the model trainer', () => {
  interface Report { metrics: Map<string, MetricRecord>; preds: Map<string, Float32Array> }
  const hooksFor = (r: Report, diverged: (member: number, lastEval: number) => boolean): TrainHooks => {
    const lastEval = new Map<number, number>();
    const last = (m: number) => lastEval.get(m) ?? -1;
    return {
      onMetrics(step, record, m = 0) {
        expect(diverged(m, last(m))).toBe(false);
        r.metrics.set(`${m}@${step}`, { ...record });
        lastEval.set(m, step);
      },
      onPredictions(step, data, _shape, m = 0) { r.preds.set(`${m}@${step}`, data.slice()); },
      shouldStop: () => false,
      isDiverged: (m) => diverged(m, last(m)),
    };
  };

  /** A 3-seed MLP job of the teacher-image task. */
  const mlpJob = (name: string, testSize: number, steps: number, every: number) => {
    const spec = validateSpec({
      name, task: { name: 'teacher-image', size: 8, testSize }, model: { family: 'mlp', depth: 2 },
      parameterization: 'mup', baseWidth: 16, widths: [32], seeds: 3, optimizer: { name: 'adam' }, lr: 0.01,
      batchSize: 16, steps, eval: { every },
    });
    const group = resolveSweep(spec).groups[0];
    expect(group.runs.length).toBe(3);
    const config = group.runs[0].config;
    return { config, job: { members: group.runs, config, evalSteps: config.evalSteps } };
  };
  /** Every metric and prediction of `got` matches `want`'s within the ensemble tolerances. */
  const expectSameReports = (got: Report, want: Report) => {
    expect([...got.metrics.keys()].sort()).toEqual([...want.metrics.keys()].sort());
    for (const [key, w] of want.metrics) {
      const g = got.metrics.get(key)!;
      expect(Object.keys(g).sort(), key).toEqual(Object.keys(w).sort());
      for (const k of Object.keys(w)) expectClose([g[k]!], [w[k]!], 1e-5, LOSS_RTOL, `${key} ${k}`);
      expectClose(got.preds.get(key)!, want.preds.get(key)!, PRED_ATOL, PRED_RTOL, `${key} predictions`);
    }
  };

  it('trains a job as one ensemble and reports every member as its single run; a diverged member is dropped alone', async () => {
    const { job } = mlpJob('ens', 32, 6, 3);
    const seq: Report = { metrics: new Map(), preds: new Map() };
    await createModelTrainer({ device: device(), sequential: true }).trainRun(job, hooksFor(seq, () => false));
    const ens: Report = { metrics: new Map(), preds: new Map() };
    // the runner marks member 1 diverged after its step-3 evaluation
    await createModelTrainer({ device: device() }).trainRun(job, hooksFor(ens, (m, last) => m === 1 && last >= 3));
    expect([...seq.metrics.keys()].sort()).toEqual(['0@0', '0@3', '0@6', '1@0', '1@3', '1@6', '2@0', '2@3', '2@6']);
    expect([...ens.metrics.keys()].sort()).toEqual(['0@0', '0@3', '0@6', '1@0', '1@3', '2@0', '2@3', '2@6']);
    // the sequential run without member 1's reports after step 3
    const alive: Report = { metrics: new Map(seq.metrics), preds: new Map(seq.preds) };
    for (const r of [alive.metrics, alive.preds]) r.delete('1@6');
    expectSameReports(ens, alive);
  });

  it('sizes ensembles by their largest tensor, activations included, and splits a job to fit', async () => {
    const { config, job } = mlpJob('ens-cap', 2048, 4, 2);
    const dev = device();
    // The largest tensor of one member (an activation of the 2048-example evaluation or its matmul
    // scratch), read off a capacity under a huge limit.
    const huge = 2 ** 40;
    const largest = huge / (await ensembleCapacity(dev, config, huge));
    const paramBytes = 192 * 32 * 4;
    expect(largest).toBeGreaterThan(paramBytes);
    // parameters alone would allow 8 members here; the activations allow 1
    expect(await ensembleCapacity(dev, config, 8 * paramBytes)).toBe(1);
    const limit = Math.floor(2.5 * largest);
    expect(await ensembleCapacity(dev, config, limit)).toBe(2);

    const seq: Report = { metrics: new Map(), preds: new Map() };
    await createModelTrainer({ device: dev, sequential: true }).trainRun(job, hooksFor(seq, () => false));
    // The labels of the buffers a run allocates carry their shapes: an ensemble of S evaluates
    // the test set into [S, 2048, ...].
    const allocations = async (run: () => Promise<void>) => {
      const labels: string[] = [];
      const original = dev.allocStorage;
      dev.allocStorage = function (what: string, bytes: number, forUpload?: boolean) {
        labels.push(what);
        return original.call(this, what, bytes, forUpload);
      };
      try {
        await run();
      } finally {
        dev.allocStorage = original;
      }
      return (S: number) => labels.some((l) => l.includes(`[${S}, 2048, `));
    };
    const whole = await allocations(() => createModelTrainer({ device: dev }).trainRun(job, hooksFor({ metrics: new Map(), preds: new Map() }, () => false)));
    expect(whole(3)).toBe(true);
    const split: Report = { metrics: new Map(), preds: new Map() };
    const parts = await allocations(() => createModelTrainer({ device: dev, maxTensorBytes: limit }).trainRun(job, hooksFor(split, () => false)));
    expect(parts(3)).toBe(false);
    expect(parts(2)).toBe(true);
    expectSameReports(split, seq);
  });

  it('stops reporting a member once its training loss is non-finite, and returns when all have diverged', async () => {
    const spec = validateSpec({
      name: 'ens-nan', task: { name: 'teacher-image', size: 8, testSize: 16 }, model: { family: 'mlp', depth: 2 },
      parameterization: 'sp', baseWidth: 16, widths: [32], seeds: 2, optimizer: { name: 'sgd' }, lr: 1e30,
      batchSize: 8, steps: 8, eval: { every: 4 },
    });
    const group = resolveSweep(spec).groups[0];
    const job = { members: group.runs, config: group.runs[0].config, evalSteps: group.runs[0].config.evalSteps };
    const steps: [number, number, number][] = [];
    const evals: string[] = [];
    await createModelTrainer({ device: device(), logEvery: 1 }).trainRun(job, {
      onMetrics: (step, _r, m = 0) => { evals.push(`${m}@${step}`); },
      onPredictions: () => {},
      onStep: (step, loss, m = 0) => { steps.push([m, step, loss]); },
      shouldStop: () => false,
      isDiverged: () => false,
    });
    for (const m of [0, 1]) {
      const mine = steps.filter(([k]) => k === m);
      expect(Number.isFinite(mine[mine.length - 1][2]), `member ${m} ends on a non-finite loss`).toBe(false);
      expect(mine.slice(0, -1).every(([, , l]) => Number.isFinite(l))).toBe(true);
    }
    expect(evals).toContain('0@0');
    expect(evals.filter((e) => e.endsWith('@8'))).toEqual([]);
  });
});
