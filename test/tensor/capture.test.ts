// Captured steps (src/tensor/capture.ts, src/nn/captured-step.ts): a replayed training step
// gives the very bits of the uncaptured step, for an MLP, a CNN and a seed-batched ensemble,
// under SGD with momentum and AdamW with a warmup-cosine schedule; a batch of new shapes and a
// step the recorder refuses run normally with a note; outputs are fresh tensors; a non-finite
// gradient or a bad label in a replayed step is still reported.
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { tidy } from '../../src/tensor/scope.js';
import { backward, crossEntropy, detach, add, randn as randnOp } from '../../src/autograd/index.js';
import { buildModel, type Model, type ModelSpec } from '../../src/nn/models.js';
import { Adam, SGD, type Optimizer } from '../../src/nn/optim.js';
import { TrainingHealth } from '../../src/nn/health.js';
import { CapturedTrainStep } from '../../src/nn/captured-step.js';
import { capture, captureEnabled } from '../../src/tensor/capture.js';
import { memberLosses } from '../../src/experiments/model-trainer.js';
import type { Task } from '../../src/experiments/tasks.js';
import { mulberry32 } from '../../src/data/prng.js';
import { sum } from '../../src/autograd/ops.js';

type Family = 'mlp' | 'cnn';
interface Setup {
  family: Family;
  optimizer: 'sgd' | 'adamw';
  seeds?: number[];
}

const CLASSES = 5;
const spec = (family: Family): ModelSpec => family === 'mlp'
  ? { family: 'mlp', width: 16, baseWidth: 8, depth: 2, inputShape: [12], classes: CLASSES }
  : { family: 'cnn', width: 4, baseWidth: 4, depth: 1, inputShape: [4, 4, 2], classes: CLASSES };

/** Batch `step` of `size` examples (host data, the same in every run). */
function batch(family: Family, step: number, size = 8): { x: Tensor; y: Tensor } {
  const r = mulberry32(1000 + step);
  const per = family === 'mlp' ? 12 : 32;
  const x = ws.fromArray(Float32Array.from({ length: size * per }, () => r() * 2 - 1), family === 'mlp' ? [size, 12] : [size, 4, 4, 2]);
  const y = ws.fromArray(Int32Array.from({ length: size }, () => Math.floor(r() * CLASSES)), [size]);
  return { x, y };
}

interface Run {
  model: Model;
  opt: Optimizer;
  health: TrainingHealth;
  step: CapturedTrainStep;
  dispose(): void;
}

function setup(s: Setup, capturing: boolean, notes: string[] = []): Run {
  const device = ws.getDevice();
  const model = buildModel({ device, seed: 3, seeds: s.seeds, param: { parameterization: 'mup', optimizer: s.optimizer === 'sgd' ? 'sgd' : 'adam' } }, spec(s.family));
  const opt: Optimizer = s.optimizer === 'sgd'
    ? new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 })
    : new Adam(model.parameters(), { lr: 0.01, weightDecay: 0.01, schedule: { kind: 'warmup-cosine', warmup: 10, total: 100 } });
  const S = s.seeds?.length ?? 1;
  const health = new TrainingHealth(device, S);
  opt.gradientCheck = health.check;
  const task = { kind: 'classification', outputs: CLASSES } as Task;
  const step = new CapturedTrainStep(opt, (x, y) => {
    const loss = tidy(() => {
      const out = model.forward(x);
      const l = S > 1 ? memberLosses(task, out, y) : crossEntropy(out, y);
      backward(S > 1 ? sum(l) : l);
      return detach(l);
    });
    opt.step();
    opt.zeroGrad();
    return loss;
  }, { enabled: capturing, note: (m) => notes.push(m) });
  return {
    model, opt, health, step,
    dispose() {
      for (const r of [step, health, opt, model]) r.dispose();
    },
  };
}

/** Runs `body` on a fresh setup, with the notes it writes; disposes the setup after. */
async function withRun<T>(s: Setup, capturing: boolean, body: (run: Run, notes: string[]) => Promise<T>): Promise<T> {
  const notes: string[] = [];
  const run = setup(s, capturing, notes);
  try {
    return await body(run, notes);
  } finally {
    run.dispose();
  }
}

/** Trains `steps` steps; returns every parameter's bits, the per-step losses' bits and the health reading. */
async function train(s: Setup, capturing: boolean, steps: number, sizes: (step: number) => number = () => 8) {
  const losses: number[] = [];
  return withRun(s, capturing, async (run) => {
    for (let k = 0; k < steps; k++) {
      const b = batch(s.family, k, sizes(k));
      const loss = run.step.run(b);
      run.health.addLoss(loss, k);
      if (k % 25 === 24 || k === steps - 1) losses.push(...new Uint32Array((await loss.data()).buffer));
      for (const t of [loss, b.x, b.y]) t.dispose();
    }
    const params = await Promise.all(run.model.parameters().map(async (p) => Array.from(new Uint32Array((await p.value.data()).buffer))));
    const reading = await run.health.read();
    return { params, losses, means: Array.from(reading.means!), stepCount: run.opt.stepCount, counts: { ...run.step.counts } };
  });
}

describe('captured training steps', () => {
  it('is on unless WIDTHSCOPE_CAPTURE=0', () => {
    const prev = process.env.WIDTHSCOPE_CAPTURE;
    try {
      delete process.env.WIDTHSCOPE_CAPTURE;
      expect(captureEnabled()).toBe(true);
      process.env.WIDTHSCOPE_CAPTURE = '0';
      expect(captureEnabled()).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.WIDTHSCOPE_CAPTURE;
      else process.env.WIDTHSCOPE_CAPTURE = prev;
    }
  });

  const cases: [string, Setup][] = [
    ['MLP, SGD with momentum', { family: 'mlp', optimizer: 'sgd' }],
    ['CNN, AdamW with a warmup-cosine lr', { family: 'cnn', optimizer: 'adamw' }],
    ['ensemble of 3 MLPs, AdamW with a warmup-cosine lr', { family: 'mlp', optimizer: 'adamw', seeds: [1, 2, 3] }],
    ['ensemble of 2 CNNs, SGD with momentum', { family: 'cnn', optimizer: 'sgd', seeds: [4, 5] }],
  ];
  for (const [name, s] of cases) {
    it(`${name}: parameters after 100 replayed steps are bit-identical to the uncaptured run's`, async () => {
      const off = await train(s, false, 102);
      const on = await train(s, true, 102);
      expect(on.counts).toEqual({ normal: 1, recorded: 1, replayed: 100 });
      expect(off.counts.replayed).toBe(0);
      expect(on.stepCount).toBe(102);
      expect(on.losses).toEqual(off.losses);
      expect(on.means).toEqual(off.means);
      on.params.forEach((p, i) => expect(p, `parameter ${i}`).toEqual(off.params[i]));
      // the run moved: a test that cannot fail is a defect
      expect(off.losses[0]).not.toEqual(off.losses.at(-1));
    }, 120_000);
  }

  it('a batch of new shapes runs uncaptured with a note, and the results stay exact', async () => {
    const sizes = (k: number) => (k === 5 || k === 9 ? 5 : 8);
    const s: Setup = { family: 'mlp', optimizer: 'adamw' };
    const off = await train(s, false, 12, sizes);
    await withRun(s, true, async (run, notes) => {
      for (let k = 0; k < 12; k++) {
        const b = batch('mlp', k, sizes(k));
        const loss = run.step.run(b);
        run.health.addLoss(loss, k);
        for (const t of [loss, b.x, b.y]) t.dispose();
      }
      const params = await Promise.all(run.model.parameters().map(async (p) => Array.from(new Uint32Array((await p.value.data()).buffer))));
      params.forEach((p, i) => expect(p, `parameter ${i}`).toEqual(off.params[i]));
      expect(notes.some((n) => n.includes('input shapes changed to f32[5, 12] i32[5]'))).toBe(true);
      // batch 8: steps 0 (normal) 1 (recorded), replayed after; batch 5: step 5 normal, step 9 recorded
      expect(run.step.counts).toEqual({ normal: 2, recorded: 2, replayed: 8 });
    });
  }, 120_000);

  it('a step that draws unseeded random numbers is not captured, with the reason in a note', async () => {
    await withRun({ family: 'mlp', optimizer: 'sgd' }, true, async (_run, notes) => {
      const noisy = capture(ws.getDevice(), ([x]) => [tidy(() => add(x, randnOp(x.shape)))], { name: 'noisy', note: (m) => notes.push(m) });
      try {
        const x = ws.zeros([4]);
        const outs = [0, 1, 2, 3].map(() => noisy.run([x])[0]);
        const values = await Promise.all(outs.map((t) => t.toArray()));
        // each call drew new numbers: nothing was replayed
        expect(new Set(values.map((v) => v.join())).size).toBe(4);
        expect(noisy.counts).toEqual({ normal: 4, recorded: 0, replayed: 0 });
        expect(notes.join('\n')).toContain('noisy: not captured: randn without an explicit seed draws a new seed at each call');
        for (const t of [...outs, x]) t.dispose();
      } finally {
        noisy.dispose();
      }
    });
  });

  it('never writes a tensor the caller still holds: every step returns a fresh loss', async () => {
    const s: Setup = { family: 'mlp', optimizer: 'sgd' };
    const off = setup(s, false);
    const on = setup(s, true);
    try {
      const held: { off: Tensor[]; on: Tensor[] } = { off: [], on: [] };
      for (let k = 0; k < 6; k++) {
        for (const [r, list] of [[off, held.off], [on, held.on]] as const) {
          const b = batch('mlp', k);
          list.push(r.step.run(b));
          b.x.dispose();
          b.y.dispose();
        }
      }
      expect(on.step.counts.replayed).toBe(4);
      const a = await Promise.all(held.off.map((t) => t.item()));
      const b = await Promise.all(held.on.map((t) => t.item()));
      expect(b).toEqual(a);
      expect(new Set(b).size).toBe(6);
      for (const t of [...held.off, ...held.on]) t.dispose();
    } finally {
      off.dispose();
      on.dispose();
    }
  }, 60_000);

  it('a non-finite gradient in a replayed step is reported as diverged at its step', async () => {
    const result = async (capturing: boolean) => {
      return withRun({ family: 'mlp', optimizer: 'adamw' }, capturing, async (run) => {
        const dev = ws.getDevice();
        for (let k = 0; k < 8; k++) {
          if (k === 5) {
            // NaN over the readout's bias, between steps (the next step's gradients turn NaN)
            const p = run.model.parameters().at(-1)!.value;
            dev.flush();
            dev.write(p.binding('test'), new Float32Array(p.size).fill(NaN));
          }
          const b = batch('mlp', k);
          const loss = run.step.run(b);
          run.health.addLoss(loss, k);
          for (const t of [loss, b.x, b.y]) t.dispose();
        }
        return { diverged: (await run.health.read()).diverged, counts: { ...run.step.counts } };
      });
    };
    const off = await result(false);
    const on = await result(true);
    expect(on.counts.replayed).toBe(6);
    expect(off.diverged).toHaveLength(1);
    expect(off.diverged[0].step).toBe(5);
    expect(on.diverged).toEqual(off.diverged);
  }, 60_000);

  it('a bad label in a replayed step is still reported by the next readback', async () => {
    await withRun({ family: 'mlp', optimizer: 'sgd' }, true, async (run) => {
      for (let k = 0; k < 4; k++) {
        const b = batch('mlp', k);
        if (k === 3) {
          b.y.dispose();
          b.y = ws.fromArray(Int32Array.from([0, 1, 2, 3, 4, 0, 7, 1]), [8]);
        }
        const loss = run.step.run(b);
        if (k < 3) await loss.data();
        else await expect(loss.data()).rejects.toThrow(/crossEntropy.*label 7 at position \[6\]/);
        for (const t of [loss, b.x, b.y]) t.dispose();
      }
      expect(run.step.counts.replayed).toBe(2);
    });
  }, 60_000);

  it('a parameter replaced between steps makes the step record again', async () => {
    await withRun({ family: 'mlp', optimizer: 'sgd' }, true, async (run, notes) => {
      for (let k = 0; k < 5; k++) {
        if (k === 3) {
          const p = run.model.parameters()[0];
          const old = p.value;
          const copy = ws.keep(ws.noGrad(() => tidy(() => ws.mul(old, 1))));
          copy.requiresGrad = true;
          p.value = copy;
          old.dispose();
        }
        const b = batch('mlp', k);
        const loss = run.step.run(b);
        await loss.data();
        for (const t of [loss, b.x, b.y]) t.dispose();
      }
      expect(run.step.counts).toEqual({ normal: 1, recorded: 2, replayed: 2 });
      expect(notes.join('\n')).toContain('records again');
    });
  }, 60_000);
});
