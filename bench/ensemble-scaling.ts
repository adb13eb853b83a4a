/**
 * @file How a `widths` suite step scales with the ensemble size: the captured step at S = 1, 2,
 * 4 and 8 seeds (bench/widths-models.ts) and the convolutions of the CNN step alone (2 forward,
 * 1 grad-input, 2 grad-weight, the step's shapes), timed in turn in one process
 * (whole steps: 7 rounds of 3 steps per size, each step with its loss read back; the
 * convolutions: bench/harness.ts timeInterleaved), each row as ms per step and ms per member. When one
 * member already fills the adapter, a kernel's time per member stays flat in S and an ensemble
 * saves only what is not that kernel.
 *   npx tsx bench/ensemble-scaling.ts [--steps 'cnn 16,mlp 64'] [--seeds 1,2,4,8] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from '../src/ops/conv2d.js';
import { randn } from '../src/ops/creation.js';
import { median, timeInterleaved, timeStepsInRounds } from './harness.js';
import { widthsStep, type WidthsFamily } from './widths-models.js';

const { values } = parseArgs({ options: {
  steps: { type: 'string', default: 'cnn 16,mlp 64' }, seeds: { type: 'string', default: '1,2,4,8' }, out: { type: 'string' },
} });
const dev = await ws.init();
const sizes = values.seeds.split(',').map(Number);

/** The CNN step's five convolutions at width w for S members (S = 1: no ensemble axis). */
function convs(w: number, S: number): () => void {
  const lead = S > 1 ? [S] : [];
  const x = randn([...lead, 32, 16, 16, w], { seed: 1, device: dev });
  const k = randn([...lead, 3, 3, w, w], { seed: 2, device: dev });
  const dy = randn([...lead, 32, 16, 16, w], { seed: 3, device: dev });
  const o = { padding: 1 };
  return () => ws.tidy(() => {
    for (let i = 0; i < 2; i++) conv2d(x, k, null, { ...o, activation: 'relu' });
    conv2dGradInput(dy, k, x.shape, o);
    for (let i = 0; i < 2; i++) conv2dGradWeight(x, dy, k.shape, o);
  });
}

const rows: { what: string; seeds: number; ms: number; msPerMember: number }[] = [];
for (const spec of values.steps.split(',')) {
  const [family, width] = spec.trim().split(/\s+/);
  const w = Number(width);
  const steps = sizes.map((S) => widthsStep(dev, family as WidthsFamily, w, S));
  for (const s of steps) for (let i = 0; i < 3; i++) await s.step();
  // each step awaits its loss as the suite's do; the sizes take turns, 3 steps each per round
  const { times } = await timeStepsInRounds(steps.length, async (i) => { await steps[i].step(); }, { rounds: 7, perRound: 3 });
  sizes.forEach((S, i) => rows.push({ what: `${family} w=${w} step`, seeds: S, ms: median(times[i]), msPerMember: median(times[i]) / S }));
  for (const s of steps) s.dispose();
  if (family === 'cnn') {
    const conv = await timeInterleaved(dev, sizes.map((S) => convs(w, S)), { minRounds: 7, maxTimeS: 20 });
    sizes.forEach((S, i) => rows.push({ what: `cnn w=${w} its 5 convolutions`, seeds: S, ms: conv.medians[i], msPerMember: conv.medians[i] / S }));
  }
}
console.log('what                              S    ms       ms per member');
for (const r of rows) console.log(`${r.what.padEnd(32)} ${String(r.seeds).padStart(2)}  ${r.ms.toFixed(2).padStart(8)}  ${r.msPerMember.toFixed(2).padStart(8)}`);
if (values.out) writeFileSync(values.out, JSON.stringify({ adapter: dev.adapterInfo, rows }, null, 1));
ws.shutdown();
