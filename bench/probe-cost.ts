/**
 * @file What probes during training add to a sweep's wall time: one small sweep run without
 * probes and with the spec's `probes` (default: the defaults), in the same process, interleaved
 * after a warm-up sweep; prints both times and their ratio. Settings:
 *   standard  examples/teacher-standard.json reduced (muP, lr 0.1, 2 widths, 4 seeds as one
 *             ensemble, batch 128, 2000 steps, 9 log-spaced evaluations)
 *   quick     examples/quick.json reduced (teacher-image 8x8, 2 seeds, batch 32, 100 steps,
 *             an evaluation every 20 steps: probes every 20 training steps)
 *
 *   npx tsx bench/probe-cost.ts [--setting standard|quick] [--probes '{"every": 20}'] [--model mlp|cnn] [--widths 64,256] [--repeat 1]
 */
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import * as ws from '../src/index.js';
import { resolveSweep, runSweep, validateSpec } from '../src/experiments/index.js';
import { createModelTrainer } from '../src/experiments/model-trainer.js';
import { tmp } from '../test/experiments/util.js';

const { values } = parseArgs({
  options: {
    setting: { type: 'string', default: 'standard' },
    probes: { type: 'string', default: '{}' },
    model: { type: 'string', default: 'mlp' },
    widths: { type: 'string', default: '64,256' },
    repeat: { type: 'string', default: '1' },
  },
});
const device = await ws.init();
const widths = values.widths!.split(',').map(Number);
const model = { family: values.model, depth: values.model === 'cnn' ? 1 : 2 };
const settings: Record<string, Record<string, unknown>> = {
  standard: {
    task: { name: 'teacher-gaussian', inputDim: 32, teacherDepth: 2, teacherWidth: 64, loss: 'half-mse', testSize: 1024 },
    seeds: 4, optimizer: { name: 'sgd' }, lr: 0.1, batchSize: 128, steps: 2000, eval: [0, 10, 20, 50, 100, 200, 500, 1000, 2000],
  },
  quick: {
    task: { name: 'teacher-image', size: 8, channels: 3, classes: 10, testSize: 256 },
    seeds: 2, optimizer: { name: 'sgd', momentum: 0.9 }, lr: 0.05, batchSize: 32, steps: 100, eval: { every: 20 },
  },
};
const setting = settings[values.setting!];
if (!setting) throw new Error(`--setting: '${values.setting}' is not a setting (expected ${Object.keys(settings).join(' | ')})`);
const base = { name: 'probe-cost', model, parameterization: 'mup', baseWidth: 32, widths, ...setting };

async function timeSweep(probes: unknown): Promise<number> {
  const spec = validateSpec(probes === undefined ? base : { ...base, probes });
  const dir = tmp('ws-probe-cost-');
  const t = performance.now();
  const s = await runSweep(resolveSweep(spec), { resultsDir: dir, trainer: createModelTrainer({ device }), progress: false, log: () => {}, handleSignals: false });
  const seconds = (performance.now() - t) / 1000;
  if (s.errors.length) throw new Error(s.errors.join('\n'));
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

const probes = JSON.parse(values.probes!);
await timeSweep(undefined); // warm-up: pipelines compiled once
let off = 0;
let on = 0;
for (let r = 0; r < Number(values.repeat); r++) {
  off += await timeSweep(undefined);
  on += await timeSweep(probes);
}
const runs = widths.length * (setting.seeds as number);
console.log(`${values.setting}: ${values.model} widths ${widths.join(',')} x ${setting.seeds} seeds (ensemble), ${setting.steps} steps, eval ${JSON.stringify(setting.eval)}; probes ${JSON.stringify(probes)}`);
console.log(`without probes ${off.toFixed(2)} s, with probes ${on.toFixed(2)} s (${runs} runs x ${values.repeat}): ratio ${(on / off).toFixed(3)}`);
ws.shutdown();
