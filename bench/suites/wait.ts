/**
 * @file The wait strategy's effect: the same 1024^3-sized workload (a 1024^3 matmul when the
 * matmul op exists, else an FMA kernel doing the same 2.1 GFLOP) awaited after every submit,
 * on a device that sleeps while it waits and on one that spins (Dawn's default poll).
 */
import { Device } from '../../src/tensor/device.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/ops/creation.js';
import type { BenchRow, BenchSuite } from '../harness.js';

type Workload = { name: string; run: () => void; free: () => void };

async function workload(device: Device): Promise<Workload> {
  const n = 1024;
  try {
    const { matmul } = (await import('../../src/ops/matmul.js')) as { matmul: (a: Tensor, b: Tensor) => Tensor };
    const a = randn([n, n], { seed: 1, device });
    const b = randn([n, n], { seed: 2, device });
    return { name: 'matmul 1024^3', run: () => matmul(a, b).dispose(), free: () => (a.dispose(), b.dispose()) };
  } catch {
    const invocations = 1 << 16;
    // fma_peak does 16 flops per invocation and iteration (2 vec4 FMA chains).
    const iters = Math.round((2 * n ** 3) / (invocations * 16));
    const out = Tensor.empty(device, [invocations * 4], 'f32', 'bench');
    return {
      name: 'fma 2.1 GFLOP',
      run: () =>
        device.dispatch({
          kernel: 'bench_ceiling', entry: 'fma_peak', label: 'fma_peak', constants: { ITERS: iters },
          bindings: { out: out.binding('bench') }, params: { n: invocations }, workgroups: [invocations / 256],
        }),
      free: () => out.dispose(),
    };
  }
}

const suite: BenchSuite = {
  name: 'wait',
  async run(ctx) {
    const steps = ctx.quick ? 5 : 20;
    const rows: BenchRow[] = [];
    const ms: Record<string, number> = {};
    for (const wait of ['sleep', 'spin'] as const) {
      const device = await Device.create({ wait });
      const w = await workload(device);
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
    return rows;
  },
};
export default suite;
