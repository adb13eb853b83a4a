/**
 * @file The wait strategy's effect: the same 1024^3 matmul awaited after every submit, on a
 * device that sleeps while it waits, on one that spins (Dawn's default poll) and on one that
 * predicts (sleeps, then polls near the previous wait's end; src/tensor/wait.ts).
 */
import { Device } from '../../src/tensor/device.js';
import { matmul } from '../../src/ops/matmul.js';
import { randn } from '../../src/ops/creation.js';
import type { BenchRow, BenchSuite } from '../harness.js';

type Workload = { name: string; run: () => void; free: () => void };

function workload(device: Device): Workload {
  const n = 1024;
  const a = randn([n, n], { seed: 1, device });
  const b = randn([n, n], { seed: 2, device });
  return { name: 'matmul 1024^3', run: () => matmul(a, b).dispose(), free: () => (a.dispose(), b.dispose()) };
}

const suite: BenchSuite = {
  name: 'wait',
  async run(ctx) {
    const steps = ctx.quick ? 5 : 20;
    const rows: BenchRow[] = [];
    const ms: Record<string, number> = {};
    for (const wait of ['sleep', 'spin', 'predict'] as const) {
      const device = await Device.create({ wait });
      const w = workload(device);
      w.run();
      await device.sync();
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        w.run();
        await device.sync();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      ms[wait] = times[times.length >> 1];
      rows.push({ suite: 'wait', name: `${w.name}, awaited each step, wait=${wait}`, shape: '1024^3', medianMs: ms[wait], gflops: (2 * 1024 ** 3) / (ms[wait] * 1e6) });
      w.free();
      device.destroy();
    }
    rows[0].xBaseline = ms.spin / ms.sleep;
    rows[0].baseline = 'spin';
    rows[2].xBaseline = ms.sleep / ms.predict;
    rows[2].baseline = 'sleep';
    return rows;
  },
};
export default suite;
