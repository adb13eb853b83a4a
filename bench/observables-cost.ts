/**
 * @file The cost of each model probe of src/experiments/observables on the standard teacher task
 * (teacher-gaussian, d = 32): an MLP (depth 2, mean field) of a given width, seeds trained as
 * one ensemble of S, probe batch n. Wall times of one call each (after a warm-up call).
 *
 *   npx tsx bench/observables-cost.ts [width] [--n 64] [--seeds 1]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { buildModel } from '../src/nn/models.js';
import { makeTask } from '../src/experiments/tasks.js';
import { captureFeatures, capturePreactivations, empiricalNTK, linearCKA, modelSharpness, ntkSpectrum } from '../src/experiments/observables/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { n: { type: 'string', default: '64' }, seeds: { type: 'string', default: '1' } } });
const width = Number(positionals[0] ?? 128);
const n = Number(values.n);
const S = Number(values.seeds);
const device = await ws.init();
const task = makeTask({ name: 'teacher-gaussian', inputDim: 32, testSize: n }, device);
const model = buildModel(
  { device, seed: 1, seeds: S > 1 ? Array.from({ length: S }, (_, i) => i + 1) : undefined, param: { parameterization: 'mf', optimizer: 'sgd', gamma0: 1 } },
  { family: 'mlp', width, baseWidth: 32, depth: 2, inputShape: task.inputShape, classes: 1 },
);
const { x, y } = task.test();
const loss = (out: ws.Tensor) => ws.mul(ws.mseLoss(out, S > 1 ? ws.expand(y, out.shape) : y), S);

async function time<T>(what: string, fn: () => Promise<T>): Promise<T> {
  await fn();
  const t = performance.now();
  const r = await fn();
  console.log(`${what.padEnd(44)} ${(performance.now() - t).toFixed(0).padStart(7)} ms`);
  return r;
}

console.log(`mlp width ${width}, ensemble of ${S}, probe batch ${n}, ${model.parameters().reduce((a, p) => a + p.value.size, 0)} parameters`);
const feats = await time('captureFeatures (2 layers)', () => captureFeatures(model, x));
await time('capturePreactivations (2 layers)', () => capturePreactivations(model, x));
const [a, b] = [...feats.values()].map((m) => m[0]);
await time('linearCKA of the two layers (host)', async () => linearCKA(a, b));
const sharp = await time('modelSharpness, 20 iterations (cold)', () => modelSharpness(model, x, loss));
await time('modelSharpness, 5 iterations (warm start)', () => modelSharpness(model, x, loss, { init: sharp.vector }));
const [theta] = await time('empiricalNTK', () => empiricalNTK(model, x));
await time('ntkSpectrum (host eigen + C(k))', async () => ntkSpectrum(theta, await y.data()));
model.dispose();
task.dispose();
ws.shutdown();
