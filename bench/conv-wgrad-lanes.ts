/**
 * @file Times conv2d's grad-weight (and forward, grad-input) at the widths suite's CNN shapes
 * (batch 32, 16x16, 3x3, padding 1, w -> w channels), single and as an ensemble of 8: the median
 * of `--reps` calls, each synced. Run it in two trees to compare them:
 *   npx tsx bench/conv-wgrad-lanes.ts [--reps 15] [--widths 16,32]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from '../src/ops/conv2d.js';
import { randn } from '../src/ops/creation.js';
import { median } from './harness.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '15' }, widths: { type: 'string', default: '16,32' } } });
const dev = await ws.init();
const reps = Number(values.reps);
for (const w of values.widths.split(',').map(Number)) {
  for (const S of [1, 8]) {
    const lead = S > 1 ? [S] : [];
    const x = randn([...lead, 32, 16, 16, w], { seed: 1, device: dev });
    const k = randn([...lead, 3, 3, w, w], { seed: 2, device: dev });
    const dy = randn([...lead, 32, 16, 16, w], { seed: 3, device: dev });
    const o = { padding: 1 };
    const ops: [string, () => ws.Tensor][] = [
      ['fwd', () => conv2d(x, k, null, o)],
      ['dgrad', () => conv2dGradInput(dy, k, x.shape, o)],
      ['wgrad', () => conv2dGradWeight(x, dy, k.shape, o)],
    ];
    const line: string[] = [];
    for (const [name, f] of ops) {
      const times: number[] = [];
      for (let i = 0; i < reps + 2; i++) {
        const t0 = performance.now();
        const r = f();
        await dev.sync();
        if (i >= 2) times.push(performance.now() - t0);
        r.dispose();
      }
      line.push(`${name} ${median(times).toFixed(2)} ms`);
    }
    console.log(`w=${w} S=${S}: ${line.join(', ')}`);
    for (const t of [x, k, dy]) t.dispose();
  }
}
ws.shutdown();
