import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ws from '../../src/index.js';
import { resolveSweep, runSweep, validateSpec } from '../../src/experiments/index.js';
import { createModelTrainer } from '../../src/experiments/model-trainer.js';
import { decodeNpy } from '../../src/experiments/npy.js';
import { verifyRun } from '../../src/experiments/verify.js';
import { entkFile, gramFile, preactivationFile, predictionFile } from '../../src/experiments/layout.js';
import type { SweepSpecInput } from '../../src/experiments/spec/schema.js';
import type { Trainer, TrainHooks } from '../../src/experiments/trainer.js';
import { tinySpec, tmp } from './util.js';

const npy = (dir: string, f: string) => decodeNpy(readFileSync(join(dir, f)));

async function sweep(spec: SweepSpecInput, wrap?: (t: Trainer) => Trainer) {
  const resolved = resolveSweep(validateSpec(spec));
  const dir = tmp();
  const inner = createModelTrainer({ device: ws.getDevice(), logEvery: 100 });
  const summary = await runSweep(resolved, { resultsDir: dir, trainer: wrap ? wrap(inner) : inner, progress: false, log: () => {}, handleSignals: false });
  expect(summary.errors).toEqual([]);
  expect(summary.counts.ok).toBe(resolved.runs.length);
  return { dir, runs: resolved.runs };
}

const mlp: SweepSpecInput = tinySpec({
  name: 'probes-mlp',
  task: { name: 'teacher-gaussian', inputDim: 8, testSize: 24 },
  widths: [16],
  seeds: 1,
  steps: 4,
  eval: [0, 1, 2, 3, 4],
  probes: { every: 2, size: 16, entk: { size: 8 } },
});

describe('probes during training', () => {
  it('`probes: {}` resolves to the defaults, part of every run config', () => {
    const [run] = resolveSweep(validateSpec({ ...mlp, probes: {} })).runs;
    expect(run.config.probes).toEqual({ every: 1, size: 128, kernels: true, preactivations: true, sharpness: { iterations: 20, warmIterations: 5 }, entk: { size: 32 } });
    expect(resolveSweep(validateSpec({ ...mlp, probes: { sharpness: false, entk: { size: 7 } } })).runs[0].config.probes).toMatchObject({ sharpness: false, entk: { size: 7 } });
  });

  it('an MLP run writes every probe file at the probe steps, with the right shapes, and verifies', async () => {
    const { dir, runs } = await sweep(mlp);
    const run = join(dir, runs[0].id);
    expect(npy(run, 'targets.npy').shape).toEqual([24, 1]);
    const lines = readFileSync(join(run, 'probes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 2, 4]);
    expect(lines.map((l) => l.sharpnessIterations)).toEqual([20, 5, 5]);
    for (const l of lines) expect(l.sharpness).toBeGreaterThan(0);
    for (const s of [0, 2, 4]) {
      for (const layer of ['input.act', 'hidden1.act']) {
        const K = npy(run, gramFile(layer, s));
        expect(K.shape).toEqual([16, 16]);
        expect(K.data[1 * 16 + 2]).toBeCloseTo(K.data[2 * 16 + 1], 6);
      }
      for (const layer of ['input', 'hidden1']) expect(npy(run, preactivationFile(layer, s)).shape).toEqual([16 * 16]);
      expect(npy(run, entkFile(s)).shape).toEqual([8, 8]);
    }
    expect(npy(run, 'probe-targets.npy').shape).toEqual([8]);
    // the probe-target is y of the first 8 test points
    expect(Array.from(npy(run, 'probe-targets.npy').data)).toEqual(Array.from(npy(run, 'targets.npy').data.slice(0, 8)));
    for (const s of [1, 3]) expect(readdirSync(run).filter((f) => f.endsWith(`${String(s).padStart(8, '0')}.npy`))).toEqual([predictionFile(s)]);
    expect(verifyRun(run, runs[0].id).state).toBe('finished');
    rmSync(join(run, gramFile('hidden1.act', 2)));
    const check = verifyRun(run, runs[0].id);
    expect(check.state).toBe('bad');
    expect(check.state === 'bad' && check.problems.join('; ')).toContain(`${gramFile('hidden1.act', 2)} is missing`);
  }, 60_000);

  it('without probes: targets.npy only, and no extra dispatches per training step', async () => {
    const counts = (probes: boolean) => {
      const at: number[] = [];
      const device = ws.getDevice();
      const spec = { ...mlp, eval: [0, 4], probes: probes ? mlp.probes : undefined };
      return { at, run: sweep(spec, () => createModelTrainer({ device, logEvery: 100, beforeStep: () => at.push(device.dispatchCount) })) };
    };
    const off = counts(false);
    const { dir, runs } = await off.run;
    const on = counts(true);
    await on.run;
    // a spec without probes resolves to the configs (and run ids) it had before probes existed
    expect(Object.keys(runs[0].config)).not.toContain('probes');
    expect(readdirSync(join(dir, runs[0].id)).sort()).toEqual(['config.json', 'done.json', 'metrics.jsonl', predictionFile(0), predictionFile(4), 'targets.npy']);
    const perStep = (at: number[]) => at.slice(1).map((c, i) => c - at[i]);
    // steps 1 -> 2 -> 3 train only: the same dispatches with probes on and off
    expect(perStep(on.at).slice(1)).toEqual(perStep(off.at).slice(1));
    expect(verifyRun(join(dir, runs[0].id), runs[0].id).state).toBe('finished');
  }, 60_000);

  it('probes hold no memory across probe steps (live bytes flat)', async () => {
    const live: number[] = [];
    await sweep({ ...mlp, steps: 8, eval: 1, probes: { size: 16, entk: { size: 8 } } }, (t) => ({
      trainRun: (job, hooks: TrainHooks) => t.trainRun(job, { ...hooks, onProbe: (s, r, m) => { live.push(ws.getDevice().memoryStats().liveBytes); hooks.onProbe!(s, r, m); } }),
    }));
    expect(live.length).toBe(9);
    // the captured training step is recorded at step 1 (after probe step 1) and holds its buffers from then on
    expect(new Set(live.slice(2)).size, `live bytes at probe steps: ${live.join(', ')}`).toBe(1);
  }, 60_000);

  it('a CNN ensemble member writes the files its single run writes; a transformer run writes its files', async () => {
    const cnn: SweepSpecInput = tinySpec({
      name: 'probes-cnn',
      task: { name: 'teacher-image', size: 4, testSize: 12 },
      model: { family: 'cnn', depth: 1 },
      widths: [4],
      lr: 0.05,
      batchSize: 4,
      steps: 2,
      eval: 2,
      // 2 iterations: far from converged, so the eigenvalue shows whether the starts match
      probes: { size: 8, entk: { size: 4 }, sharpness: { iterations: 2, warmIterations: 1 } },
    });
    const together = await sweep(cnn);
    const alone = await sweep({ ...cnn, ensemble: 1 });
    const run = together.runs[1].id;
    const files = readdirSync(join(together.dir, run)).filter((f) => f.endsWith('.npy')).sort();
    expect(files).toEqual(readdirSync(join(alone.dir, run)).filter((f) => f.endsWith('.npy')).sort());
    expect(files).toContain(gramFile('pool', 2));
    expect(files).toContain(preactivationFile('stage0.conv2', 0));
    expect(npy(join(together.dir, run), 'targets.npy').shape).toEqual([12]);
    for (const f of files) {
      const a = npy(join(together.dir, run), f).data;
      const b = npy(join(alone.dir, run), f).data;
      expect(a.length, f).toBe(b.length);
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / scale, `${f}[${i}]`).toBeLessThan(1e-4);
    }
    const sharp = (d: string) => readFileSync(join(d, run, 'probes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).sharpness as number);
    const [s1, s2] = [sharp(together.dir), sharp(alone.dir)];
    // the same start per member: the same eigenvalue to f32 rounding, not only after convergence
    s1.forEach((v, i) => expect(Math.abs(v - s2[i]) / Math.abs(s2[i]), `sharpness ${v} vs ${s2[i]}`).toBeLessThan(1e-4));
    for (const r of together.runs) expect(verifyRun(join(together.dir, r.id), r.id).state).toBe('finished');

    const text = await sweep({
      name: 'probes-transformer',
      task: { name: 'markov-text', vocab: 16, contextLength: 8, testSize: 6 },
      model: { family: 'transformer', depth: 1, headDim: 8, mlpRatio: 2 },
      widths: [16],
      seeds: 1,
      parameterization: 'mup',
      optimizer: 'adam',
      lr: 0.01,
      batchSize: 4,
      steps: 1,
      eval: 1,
      probes: { entk: { size: 4 } },
    });
    const t = join(text.dir, text.runs[0].id);
    expect(npy(t, 'targets.npy').shape).toEqual([6, 8]);
    expect(npy(t, gramFile('block0.out', 1)).shape).toEqual([6, 6]);
    expect(npy(t, preactivationFile('block0.up', 1)).shape).toEqual([6 * 8 * 32]);
    expect(npy(t, entkFile(1)).shape).toEqual([4, 4]);
    expect(verifyRun(t, text.runs[0].id).state).toBe('finished');
  }, 90_000);
});
