/**
 * @file A training step's time against the device's dispatches per submit
 * (`maxDispatchesPerSubmit`, default `DISPATCHES_PER_SUBMIT`): one device per setting, each with
 * its own MLP (width 32, depth 3, 28x28x1, batch 128; muP, Adam: step-profile's MLP), their steps
 * timed in turn in one run (the order rotating each round) so a slow spell of a shared machine
 * lands on all of them. Prints each
 * setting's median step time and its median per-round ratio to the default.
 *
 *   npx tsx bench/ab-dispatches-per-submit.ts [--quick] [--width N]
 */
import { parseArgs } from 'node:util';
import { Device, DISPATCHES_PER_SUBMIT } from '../src/tensor/device.js';
import { fromArray, randn } from '../src/ops/creation.js';
import { buildModel } from '../src/nn/models.js';
import { Adam } from '../src/nn/optim.js';
import { trainStep } from '../src/experiments/model-trainer.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { median } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, width: { type: 'string', default: '32' } } });
const width = Number(values.width);
const settings = [DISPATCHES_PER_SUBMIT, 32, 8, 2];
const rounds = values.quick ? 7 : 21;
const stepsPerSample = 5;

const runs = await Promise.all(
  settings.map(async (perSubmit) => {
    const device = await Device.create({ maxDispatchesPerSubmit: perSubmit });
    const model = buildModel(
      { device, seed: 1, param: { parameterization: 'mup', optimizer: 'adam' } },
      { family: 'mlp', width, baseWidth: 32, depth: 3, inputShape: [28, 28, 1], classes: 10 },
    );
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const x = randn([128, 28, 28, 1], { seed: 1, device });
    const y = fromArray(Int32Array.from({ length: 128 }, (_, i) => (i * 7 + (i >> 3)) % 10), [128], { device });
    const task = { kind: 'classification', inputShape: [28, 28, 1], outputs: 10 } as Parameters<typeof trainStep>[2];
    const step = () => (trainStep(model, opt, task, { x, y }) as unknown as Tensor).dispose();
    return { perSubmit, device, step, samples: [] as number[] };
  }),
);
console.log(`adapter: ${runs[0].device.describe()}; MLP width ${width}, ${stepsPerSample} steps per sample, ${rounds} rounds`);

const sample = async (r: (typeof runs)[number]) => {
  const t = performance.now();
  for (let i = 0; i < stepsPerSample; i++) r.step();
  await r.device.sync();
  return (performance.now() - t) / stepsPerSample;
};
for (const r of runs) await sample(r); // warm-up: pipelines, pool, bind groups
// Each round starts at the next setting, so no setting always runs first or after the same one.
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < runs.length; i++) {
    const r = runs[(round + i) % runs.length];
    r.samples.push(await sample(r));
  }
}

for (const r of runs) {
  const ratio = median(r.samples.map((t, i) => t / runs[0].samples[i]));
  console.log(`${String(r.perSubmit).padStart(5)} dispatches per submit: step ${median(r.samples).toFixed(2)} ms, x${ratio.toFixed(2)} of ${DISPATCHES_PER_SUBMIT}`);
}
for (const r of runs) r.device.destroy();
