/**
 * @file The coordinate check (the `mup` library's coord check): for each width, train a model
 * for a few steps on one fixed batch and record the mean |x| of every layer's output at steps
 * 0 .. t. Under muP every curve is flat in width (log-log slope ~ 0); under SP some blow up.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy, keep } from '../tensor/scope.js';
import { noGrad } from '../autograd/index.js';
import { abs } from '../ops/index.js';
import { mean } from '../ops/reduce.js';
import { withRecorder } from '../nn/layers.js';
import { buildModel, type ModelSpec } from '../nn/models.js';
import { Adam, SGD, type Optimizer } from '../nn/optim.js';
import type { Parameterization, OptimizerKind } from '../nn/parameterization.js';
import { makeTask } from './tasks.js';
import { lossOf, trainStep } from './model-trainer.js';
import type { TaskSpec } from './spec/schema.js';
import { logLogSlope } from './analysis/slope.js';
import { renderSvg, svgToPng } from './report/render.js';

export interface CoordCheckOptions {
  family: 'mlp' | 'cnn' | 'transformer';
  widths: number[];
  baseWidth?: number;
  parameterizations: Parameterization[];
  optimizer: OptimizerKind;
  lr: number;
  steps: number;
  batchSize?: number;
  depth?: number;
  /** Seeds averaged per point (a readout with few outputs is a handful of random numbers). */
  seeds?: number;
  readoutZeroInit?: boolean;
  task?: TaskSpec;
}

export interface CoordRecord {
  parameterization: Parameterization;
  width: number;
  step: number;
  layer: string;
  meanAbs: number;
}

export interface CoordSlope {
  parameterization: Parameterization;
  step: number;
  layer: string;
  slope: number;
}

function defaultTask(family: CoordCheckOptions['family']): TaskSpec {
  return (family === 'transformer' ? { name: 'markov-text', contextLength: 16 } : { name: 'teacher-image' }) as TaskSpec;
}

export async function coordCheck(device: Device, o: CoordCheckOptions, log: (s: string) => void = () => {}): Promise<{ records: CoordRecord[]; slopes: CoordSlope[] }> {
  const records: CoordRecord[] = [];
  const task = makeTask(o.task ?? defaultTask(o.family), device);
  const batch = task.train(o.batchSize ?? 64, 0);
  const base = o.baseWidth ?? Math.min(...o.widths);
  try {
    const seeds = o.seeds ?? 3;
    for (const parameterization of o.parameterizations) {
      for (const width of o.widths) {
        const sums = new Map<string, number>();
        for (let seed = 1; seed <= seeds; seed++) {
        const common = { width, baseWidth: base, depth: o.depth ?? 2 };
        const spec: ModelSpec =
          o.family === 'transformer'
            ? { family: 'transformer', ...common, headDim: 16, vocab: task.outputs, context: task.context ?? 16 }
            : { family: o.family, ...common, inputShape: task.inputShape, classes: task.outputs };
        const model = buildModel(
          { device, seed, param: { parameterization, optimizer: o.optimizer, gamma0: 1, readoutZeroInit: o.readoutZeroInit } },
          spec,
        );
        const opt: Optimizer = o.optimizer === 'adam' ? new Adam(model.parameters(), { lr: o.lr }) : new SGD(model.parameters(), { lr: o.lr });
        for (let step = 0; step <= o.steps; step++) {
          const stats: [string, Tensor][] = [];
          noGrad(() =>
            tidy(() => {
              withRecorder((path, out) => stats.push([path, keep(mean(abs(out)))]), () => lossOf(task, model.forward(batch.x), batch.y));
            }),
          );
          for (const [layer, t] of stats) {
            const k = `${step}|${layer}`;
            sums.set(k, (sums.get(k) ?? 0) + (await t.item()) / seeds);
            t.dispose();
          }
          if (step < o.steps) trainStep(model, opt, task, batch).dispose();
        }
        opt.dispose();
        model.dispose();
        }
        for (const [k, meanAbs] of sums) {
          const [step, layer] = k.split('|');
          records.push({ parameterization, width, step: +step, layer, meanAbs });
        }
        log(`coordcheck ${o.family} ${parameterization} width ${width}: done`);
      }
    }
  } finally {
    batch.x.dispose();
    batch.y.dispose();
    task.dispose();
  }
  return { records, slopes: slopesOf(records) };
}

/** Log-log slope of mean |x| against width, per (parameterization, step, layer). */
export function slopesOf(records: CoordRecord[]): CoordSlope[] {
  const groups = new Map<string, CoordRecord[]>();
  for (const r of records) {
    const k = `${r.parameterization}|${r.step}|${r.layer}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => ({
    parameterization: g[0].parameterization,
    step: g[0].step,
    layer: g[0].layer,
    slope: logLogSlope(g.map((r) => r.width), g.map((r) => Math.max(r.meanAbs, 1e-30))).slope,
  }));
}

/** Writes coordcheck.json and one log-log figure per parameterization (panels = steps, lines = layers). */
export async function writeCoordCheck(dir: string, result: { records: CoordRecord[]; slopes: CoordSlope[] }, png = true): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'coordcheck.json'), JSON.stringify(result, null, 1));
  const files = [join(dir, 'coordcheck.json')];
  for (const p of [...new Set(result.records.map((r) => r.parameterization))]) {
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `coordinate check: ${p}`,
      data: { values: result.records.filter((r) => r.parameterization === p) },
      facet: { column: { field: 'step', type: 'ordinal', title: 'step' } },
      spec: {
        width: 180,
        height: 160,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 } },
          y: { field: 'meanAbs', type: 'quantitative', scale: { type: 'log' }, title: 'mean |x|' },
          color: { field: 'layer', type: 'nominal' },
        },
      },
    };
    const svg = await renderSvg(spec);
    const base = join(dir, `coordcheck-${p}`);
    writeFileSync(`${base}.svg`, svg);
    files.push(`${base}.svg`);
    if (png) {
      writeFileSync(`${base}.png`, svgToPng(svg));
      files.push(`${base}.png`);
    }
  }
  return files;
}
