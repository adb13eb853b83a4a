/**
 * @file One step of the `widths` suite alone in its process (bench/widths-models.ts): the median
 * of 21 steps, each with its loss read back, after 3 warm-up steps and the background pipeline
 * warm-up (src/tensor/warm.ts). For checking one row of the suite without the others' state in
 * the same process.
 *   npx tsx bench/widths-step.ts <mlp|cnn> <width> [--seeds S] [--uncaptured]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { widthsStep } from './widths-models.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  seeds: { type: 'string', default: '1' }, uncaptured: { type: 'boolean', default: false },
} });
const family = positionals[0];
const width = Number(positionals[1]);
if ((family !== 'mlp' && family !== 'cnn') || !(width > 0)) throw new Error(`widths-step: usage <mlp|cnn> <width>, got '${positionals.join(' ')}'`);
const dev = await ws.init();
const s = widthsStep(dev, family, width, Number(values.seeds), !values.uncaptured);
for (let i = 0; i < 3; i++) await s.step();
// as in the suite, whose steps start after the background pipeline warm-up is through
await dev.warmer?.done;
const times: number[] = [];
for (let i = 0; i < 21; i++) {
  const t0 = performance.now();
  await s.step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`${family} w=${width} seeds=${values.seeds}${values.uncaptured ? ' uncaptured' : ''}: median ${times[10].toFixed(2)} ms`);
s.dispose();
ws.shutdown();
