/**
 * @file How much of a small training step is the wait for its loss: the widths suite's captured
 * steps (bench/widths-models.ts) run three ways, in turn in each round of one process:
 * - sync: each step's loss read back before the next step is appended (the suite's way);
 * - lagged: step i + 1 is appended and submitted before step i's loss is awaited (each loss is
 *   still read, one step late, so the GPU never waits for JS);
 * - burst: 11 steps appended, one readback at the end (the adapter's pace with no waits at all).
 * Prints the medians over the rounds of ms per step and sync / lagged, sync / burst.
 *   npx tsx bench/readback-lag.ts [--rounds 7] [--steps 'mlp 64,cnn 16,mlp 64 --seeds 8,mlp 256']
 */
import { Command } from 'commander';
import * as ws from '../src/index.js';
import { widthsStep, type WidthsFamily } from './widths-models.js';
import { median } from './harness.js';

const opts = new Command()
  .option('--rounds <n>', 'rounds', '7')
  .option('--steps <list>', 'steps: family width [--seeds S], comma-separated', 'mlp 64,cnn 16,mlp 64 --seeds 8,mlp 256')
  .parse()
  .opts<{ rounds: string; steps: string }>();
const dev = await ws.init();
const N = 11;
console.log(`${dev.describe()}; ${N} steps per way per round, ${opts.rounds} rounds`);
console.log(`${'step'.padEnd(22)}${'sync ms'.padStart(10)}${'lagged ms'.padStart(11)}${'burst ms'.padStart(10)}${'sync/lagged'.padStart(13)}${'sync/burst'.padStart(12)}`);
for (const spec of opts.steps.split(',')) {
  const m = /^\s*(mlp|cnn)\s+(\d+)(?:\s+--seeds\s+(\d+))?\s*$/.exec(spec);
  if (!m) throw new Error(`readback-lag: a step is 'mlp|cnn <width> [--seeds S]', got '${spec}'`);
  const s = widthsStep(dev, m[1] as WidthsFamily, Number(m[2]), Number(m[3] ?? 1));
  const check = (v: number) => {
    if (!Number.isFinite(v)) throw new Error(`readback-lag: ${spec}: loss ${v}`);
  };
  // appends a step and starts its readback now (the copy to the staging buffer is submitted)
  const read = () => {
    const loss = s.launch();
    const value = loss.item();
    loss.dispose();
    return value;
  };
  const ways: Record<string, () => Promise<void>> = {
    async sync() {
      for (let i = 0; i < N; i++) check(await s.step());
    },
    async lagged() {
      let pending = read();
      for (let i = 1; i <= N; i++) {
        const next = i < N ? read() : null;
        check(await pending);
        if (next) pending = next;
      }
    },
    async burst() {
      const losses = Array.from({ length: N }, () => s.launch());
      check(await losses[N - 1].item());
      for (const l of losses) l.dispose();
    },
  };
  const ms: Record<string, number[]> = { sync: [], lagged: [], burst: [] };
  for (let i = 0; i < 3; i++) await s.step();
  for (let r = 0; r < Number(opts.rounds); r++) {
    for (const [name, run] of Object.entries(ways)) {
      const t0 = performance.now();
      await run();
      ms[name].push((performance.now() - t0) / N);
    }
  }
  s.dispose();
  const [sync, lagged, burst] = [ms.sync, ms.lagged, ms.burst].map(median);
  const ratio = (other: number[]) => median(ms.sync.map((v, i) => v / other[i]));
  console.log(`${spec.trim().padEnd(22)}${sync.toFixed(2).padStart(10)}${lagged.toFixed(2).padStart(11)}${burst.toFixed(2).padStart(10)}${`${ratio(ms.lagged).toFixed(2)}x`.padStart(13)}${`${ratio(ms.burst).toFixed(2)}x`.padStart(12)}`);
}
ws.shutdown();
