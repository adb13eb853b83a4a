/**
 * @file One single-seed training step of an MLP, CNN or transformer: its time (median of
 * repeated steps), its dispatches, and each kernel's dispatches re-run in isolation (a profile,
 * not a bench suite: isolated times ignore overlap), and the bind-group cache's hit rate over the
 * timed steps.
 *
 *   npx tsx bench/step-profile.ts <mlp|cnn|transformer> [width] [--top N] [--labels]
 *   npx tsx bench/step-profile.ts <mlp|cnn> [width] --widths [--seeds S] [--top N] [--labels]
 *
 * Shapes: mlp depth 3 on 28x28x1, batch 128; cnn depth 2 on 32x32x3, batch 64; transformer
 * depth 2, head dim 16, vocab 32, batch 32 x 32 tokens. muP, Adam. With --widths: the `widths`
 * bench suite's SGD step (bench/widths-models.ts), uncaptured, as an ensemble of S seeds.
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { fromArray } from '../src/ops/creation.js';
import { buildModel, type ModelSpec } from '../src/nn/models.js';
import { Adam } from '../src/nn/optim.js';
import { trainStep } from '../src/experiments/model-trainer.js';
import type { DispatchSpec } from '../src/tensor/device.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { timeLaunch } from './harness.js';
import { widthsStep } from './widths-models.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  top: { type: 'string', default: '25' }, labels: { type: 'boolean', default: false },
  widths: { type: 'boolean', default: false }, seeds: { type: 'string', default: '1' },
} });
const family = positionals[0] ?? 'transformer';
const dev = await ws.init();
const labels = (n: number, classes: number) => fromArray(Int32Array.from({ length: n }, (_, i) => (i * 7 + (i >> 3)) % classes), [n], { device: dev });

function problem(): { spec: ModelSpec; task: { kind: string; outputs: number; inputShape?: number[] }; x: Tensor; y: Tensor } {
  const width = Number(positionals[1] ?? (family === 'transformer' ? 64 : family === 'cnn' ? 32 : 128));
  if (family === 'mlp') {
    return {
      spec: { family, width, baseWidth: 32, depth: 3, inputShape: [28, 28, 1], classes: 10 },
      task: { kind: 'classification', inputShape: [28, 28, 1], outputs: 10 },
      x: ws.randn([128, 28, 28, 1], { seed: 1 }), y: labels(128, 10),
    };
  }
  if (family === 'cnn') {
    return {
      spec: { family, width, baseWidth: 16, depth: 2, inputShape: [32, 32, 3], classes: 10 },
      task: { kind: 'classification', inputShape: [32, 32, 3], outputs: 10 },
      x: ws.randn([64, 32, 32, 3], { seed: 1 }), y: labels(64, 10),
    };
  }
  if (family !== 'transformer') throw new Error(`step-profile: family must be mlp, cnn or transformer, got '${family}'`);
  return {
    spec: { family, width, baseWidth: 32, depth: 2, headDim: 16, vocab: 32, context: 32 },
    task: { kind: 'text', outputs: 32 },
    x: labels(32 * 32, 32).reshape([32, 32]), y: labels(32 * 32, 31).reshape([32, 32]),
  };
}

function modelStep(): { width: number; step: () => void } {
  if (values.widths) {
    const width = Number(positionals[1] ?? 64);
    if (family !== 'mlp' && family !== 'cnn') throw new Error(`step-profile: --widths takes mlp or cnn, got '${family}'`);
    const s = widthsStep(dev, family, width, Number(values.seeds), false);
    return { width, step: () => void s.step() };
  }
  const { spec, task, x, y } = problem();
  const model = buildModel({ device: dev, seed: 1, param: { parameterization: 'mup', optimizer: 'adam' } }, spec);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  return { width: spec.width, step: () => (trainStep(model, opt, task as Parameters<typeof trainStep>[2], { x, y }) as unknown as Tensor).dispose() };
}

const { width, step } = modelStep();
step();
await dev.sync();

const dispatch = dev.dispatch.bind(dev);
const specs: DispatchSpec[] = [];
dev.dispatch = (s: DispatchSpec) => { specs.push(s); return dispatch(s); };
step();
await dev.sync();
dev.dispatch = dispatch;
const cache = dev.bindGroups;
const [hits0, misses0] = [cache.hits, cache.misses];
const ms = await timeLaunch(dev, step, { maxTimeS: 2 });
const [hits, misses] = [cache.hits - hits0, cache.misses - misses0];
console.log(`${family} width ${width}${values.widths ? `, widths step, ${values.seeds} seed(s)` : ''}: step ${ms.toFixed(2)} ms, ${specs.length} dispatches`);
console.log(`bind groups over the timed steps: ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}% cache hits (${hits} hits, ${misses} created)`);

const byKernel = new Map<string, { count: number; ms: number }>();
for (const s of specs) {
  for (let i = 0; i < 3; i++) dispatch(s);
  await dev.sync();
  const t = performance.now();
  for (let i = 0; i < 20; i++) dispatch(s);
  await dev.sync();
  const key = `${s.kernel}:${s.entry ?? 'main'}${values.labels ? ` ${String(s.label).slice(0, 90)}` : ''}`;
  const e = byKernel.get(key) ?? { count: 0, ms: 0 };
  byKernel.set(key, { count: e.count + 1, ms: e.ms + (performance.now() - t) / 20 });
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
console.log(`isolated sum ${rows.reduce((a, [, r]) => a + r.ms, 0).toFixed(2)} ms`);
for (const [k, r] of rows.slice(0, Number(values.top))) console.log(`  ${k.padEnd(values.labels ? 110 : 40)} x${String(r.count).padEnd(4)} ${r.ms.toFixed(2)} ms`);
ws.shutdown();
