// The reliability catalogue of non-finite values in training: the exact step at which a loss or a
// gradient went non-finite (per ensemble member) reaches done.json through the runner, the sweep
// goes on, and anomaly mode names the first op (forward or the backward of which op, with the
// output's shape and the training step) that wrote a non-finite value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as ws from '../../src/index.js';
import { resolveSweep, runSweep, validateSpec, type SweepSpecInput } from '../../src/experiments/index.js';
import { createModelTrainer, buildRun, makeOptimizer, trainStep } from '../../src/experiments/model-trainer.js';
import { makeTask } from '../../src/experiments/tasks.js';
import { runDir, DONE_FILE, METRICS_FILE } from '../../src/experiments/layout.js';
import type { Model } from '../../src/nn/models.js';
import { TrainingHealth } from '../../src/nn/health.js';
import { adamUpdate, sgdUpdate } from '../../src/ops/optim.js';
import { adamHyper, adamState, sgdHyper, sgdState } from '../../src/nn/optim.js';
import { fromArray, full } from '../../src/ops/creation.js';
import { keep } from '../../src/tensor/scope.js';
import { catalogue, type ErrorCase, type FaultCase } from './catalogue.js';
import { tmp } from '../experiments/util.js';

const spec = (over: Partial<SweepSpecInput> = {}) => validateSpec({
  name: 'nonfinite',
  task: { name: 'teacher-regression', testSize: 16 },
  model: { family: 'mlp', depth: 2 },
  widths: [16],
  seeds: 1,
  parameterization: 'mup',
  lr: 0.05,
  batchSize: 8,
  steps: 12,
  eval: 12,
  ...over,
});

/** Writes NaN over member `member` of `members` of the model's last parameter (the readout), between steps. */
function poisonReadout(model: Model, member = 0, members = 1): void {
  const dev = ws.getDevice();
  const p = model.parameters().at(-1)!.value;
  const per = p.size / members;
  dev.flush(); // the write lands after every step already appended
  dev.write({ ...p.binding('test'), offset: 4 * per * member, size: 4 * per }, new Float32Array(per).fill(NaN));
}

/** Runs a sweep with the real trainer (logEvery 10) and `inject` before each step; returns its dir and summary. */
async function sweep(over: Partial<SweepSpecInput>, inject: (step: number, model: Model) => void) {
  const s = resolveSweep(spec(over));
  const dir = tmp('ws-nonfinite-');
  const trainer = createModelTrainer({ device: ws.getDevice(), logEvery: 10, beforeStep: (step, model) => inject(step, model) });
  const summary = await runSweep(s, { resultsDir: dir, trainer, progress: false, log: () => {}, handleSignals: false });
  const done = (i: number) => JSON.parse(readFileSync(join(runDir(dir, s.runs[i].id), DONE_FILE), 'utf8'));
  const metrics = (i: number) => readFileSync(join(runDir(dir, s.runs[i].id), METRICS_FILE), 'utf8');
  return { s, summary, done, metrics };
}

/** A message of anomaly mode from the next readback after `fn` (which runs with anomaly mode on). */
async function anomalyMessage(fn: () => ws.Tensor): Promise<unknown> {
  const dev = ws.getDevice();
  dev.anomaly = true;
  try {
    return await ws.tidyAsync(async () => {
      const out = fn();
      dev.anomaly = false;
      await out.data();
    });
  } finally {
    dev.anomaly = false;
  }
}

const cases: ErrorCase[] = [
  {
    name: 'anomaly mode: log of a negative entry names log, its output shape and the forward pass',
    run: () => anomalyMessage(() => ws.sum(ws.log(ws.fromArray([1, 2, 3, 4, -5, 6], [2, 3])))),
    mentions: ['anomaly', 'log([2, 3])', 'tensor [2, 3]', 'non-finite value (NaN)', 'element 4', 'forward'],
  },
  {
    name: 'anomaly mode: divide by zero inside a small model names div',
    run: () => anomalyMessage(() => {
      const h = ws.matmul(ws.randn([3, 4], { seed: 1 }), ws.randn([4, 5], { seed: 2 }));
      return ws.sum(ws.div(h, ws.fromArray([1, 1, 0, 1, 1])));
    }),
    mentions: ['anomaly', 'div([3, 5], [5])', 'tensor [3, 5]', 'Infinity', 'forward'],
  },
  {
    name: 'anomaly mode: a NaN-free forward whose backward is not finite (sqrt at 0) names the backward of sqrt',
    run: () => anomalyMessage(() => {
      const x = ws.fromArray([4, 0, 1]);
      x.requiresGrad = true;
      ws.backward(ws.sum(ws.sqrt(x)));
      const g = x.grad!;
      x.grad = null;
      x.dispose();
      return g;
    }),
    mentions: ['anomaly', 'tensor [3]', 'Infinity', 'backward of sqrt'],
  },
];

const faults: FaultCase[] = [
  {
    name: 'loss NaN injected at step 7 with logEvery 10: done.json says diverged at step 7, the next run of the sweep trains on',
    timeoutMs: 120_000,
    run: async () => {
      const { summary, done, s } = await sweep({ widths: [16, 32] }, (step, model) => {
        if (step === 7 && model.parameters()[0].shape.includes(16)) poisonReadout(model);
      });
      const bad = s.runs.findIndex((r) => r.config.width === 16);
      expect(done(bad)).toMatchObject({ status: 'diverged', step: 7, reason: 'training loss is not finite at step 7' });
      expect(done(1 - bad)).toMatchObject({ status: 'ok' });
      expect(summary.counts).toMatchObject({ ok: 1, diverged: 1, failed: 0 });
    },
  },
  {
    name: 'a gradient-only NaN (loss finite) at step 5 is recorded at step 5, naming the parameter',
    timeoutMs: 120_000,
    run: async () => {
      const { done } = await sweep({}, (step, model) => {
        // backward adds the step's gradient into this NaN .grad: only the gradient is not finite
        const p = model.parameters()[0].value;
        if (step === 5) p.grad = keep(full(p.shape, NaN));
      });
      const d = done(0);
      expect(d).toMatchObject({ status: 'diverged', step: 5 });
      expect(d.reason).toMatch(/^gradient of '.+' \[\d+, \d+\] is not finite at step 5 \(its loss was finite\)$/);
    },
  },
  {
    name: 'an ensemble of 3 with member 1 diverging at step 3: it alone is diverged, its siblings match a clean sweep',
    timeoutMs: 180_000,
    run: async () => {
      const clean = await sweep({ seeds: 3 }, () => {});
      const hit = await sweep({ seeds: 3 }, (step, model) => {
        if (step === 3) poisonReadout(model, 1, 3);
      });
      expect(hit.summary.counts).toMatchObject({ ok: 2, diverged: 1 });
      expect(hit.done(1)).toMatchObject({ status: 'diverged', step: 3, reason: 'training loss is not finite at step 3' });
      for (const i of [0, 2]) {
        expect(hit.done(i).status).toBe('ok');
        expect(hit.metrics(i)).toBe(clean.metrics(i));
      }
    },
  },
  {
    name: 'anomaly mode from the spec: the injected NaN is named at the first op that reads it, with the training step',
    timeoutMs: 120_000,
    run: async () => {
      const { summary } = await sweep({ anomaly: true }, (step, model) => {
        if (step === 4) poisonReadout(model);
      });
      expect(summary.counts.failed).toBe(1);
      expect(summary.errors[0]).toMatch(/anomaly: matmul\(.*\).* wrote a non-finite value \(NaN\) to its output '.+' \(tensor \[8, \d+\]\) at element \d+ \(forward, training step 4/);
      expect(ws.getDevice().anomaly).toBe(false);
    },
  },
  {
    name: 'the update kernels flag the first non-finite gradient per member: SGD, Adam single, grouped (vec4) and scalar paths',
    run: () => ws.tidyAsync(async () => {
      const dev = ws.getDevice();
      // [members, ...]: vec4 small (grouped Adam), vec4 large-ish, scalar (size % 4 != 0)
      const shapes = [[3, 4], [3, 8], [3, 5], [3, 12]];
      for (const opt of ['sgd', 'adam'] as const) {
        const params = shapes.map((s) => ws.zeros(s));
        const health = new TrainingHealth(dev, 3);
        const grads = (bad: [number, number] | null) => shapes.map((s, i) => {
          const v = new Float32Array(s[0] * s[1]).fill(0.5);
          if (bad && bad[0] === i) v[bad[1] * s[1] + s[1] - 1] = bad[0] === 2 ? Infinity : NaN;
          return fromArray(v, s);
        });
        const state = opt === 'sgd' ? sgdState(params) : adamState(params);
        const step = (t: number, bad: [number, number] | null) => {
          const check = health.check(t);
          const g = grads(bad);
          if (opt === 'sgd') sgdUpdate(params, g, state as ReturnType<typeof sgdState>, sgdHyper({ lr: 0.1, check }));
          else adamUpdate(params, g, state as ReturnType<typeof adamState>, adamHyper({ lr: 0.1, check }));
          health.addLoss(fromArray([1, 2, 3]), t);
        };
        step(0, null);
        step(1, [2, 1]); // parameter 2 (scalar path), member 1, an Infinity
        step(2, [0, 2]); // parameter 0 (grouped), member 2
        step(3, [1, 1]); // member 1 again: its first step stays 1
        const r = await health.read();
        expect(r.means, opt).toEqual(Float32Array.of(1, 2, 3));
        expect(r.diverged, opt).toEqual([
          { member: 1, step: 1, what: 'gradient', param: 2 },
          { member: 2, step: 2, what: 'gradient', param: 0 },
        ]);
        state.dispose();
        health.dispose();
      }
    }),
  },
  {
    name: 'a loss flagged at the step of a gradient is reported as the loss (the cause)',
    run: () => ws.tidyAsync(async () => {
      const health = new TrainingHealth(ws.getDevice(), 2);
      const p = ws.zeros([2, 4]);
      sgdUpdate([p], [fromArray([0, 0, 0, 0, NaN, 0, 0, 0], [2, 4])], sgdState([p]), sgdHyper({ lr: 1, check: health.check(6) }));
      health.addLoss(fromArray([0.5, NaN]), 6);
      const r = await health.read();
      expect(r.diverged).toEqual([{ member: 1, step: 6, what: 'loss', param: 0 }]);
      expect((await health.read()).diverged).toEqual([]);
      health.dispose();
    }),
  },
  {
    name: 'no extra dispatch: the gradient check is folded into the updates, the loss check into the one loss-sum dispatch (anomaly off)',
    timeoutMs: 60_000,
    run: async () => {
      const dev = ws.getDevice();
      const s = spec();
      const c = resolveSweep(s).runs[0].config;
      for (const optimizer of [{ name: 'sgd' as const, momentum: 0.9, weightDecay: 0 }, { name: 'adam' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }]) {
        const count = (checked: boolean) => {
          const task = makeTask(c.task, dev);
          const model = buildRun({ ...c, optimizer }, task, dev);
          const opt = makeOptimizer({ ...c, optimizer }, model);
          const health = new TrainingHealth(dev, 1);
          if (checked) opt.gradientCheck = health.check;
          const counts: number[] = [];
          for (let step = 0; step < 3; step++) {
            const batch = task.train(c.batchSize, step);
            const before = dev.dispatchCount;
            const loss = trainStep(model, opt, task, batch);
            const beforeAdd = dev.dispatchCount;
            health.addLoss(loss, step);
            expect(dev.dispatchCount - beforeAdd, 'the loss sum and check').toBe(1);
            counts.push(dev.dispatchCount - before);
            for (const t of [loss, batch.x, batch.y]) t.dispose();
          }
          for (const r of [health, opt, model, task]) r.dispose();
          return counts;
        };
        expect(count(true), optimizer.name).toEqual(count(false));
      }
      await dev.sync();
    },
  },
];

catalogue('nonfinite', cases, faults);
