/**
 * @file The adapter's ceilings for this run: an FMA-bound kernel (GFLOP/s) and a vec4 copy
 * kernel (GB/s), measured before every suite so ratios compare numbers from the same run.
 */
import type { Device } from '../src/tensor/device.js';
import { Tensor } from '../src/tensor/tensor.js';
import { zeros } from '../src/ops/creation.js';
import { timeLaunch, type BenchRow, type Ceilings } from './harness.js';
import { readFileSync } from 'node:fs';

/**
 * The name under which bench/bench_ceiling.wgsl is compiled on `device` (a bench kernel, not
 * one of src/kernels/): loaded once per device, then dispatched like any kernel.
 */
export function ceilingKernel(device: Device): string {
  const name = 'bench_ceiling';
  if (!device.kernels.has(name)) device.kernels.loadSource(name, readFileSync(new URL('./bench_ceiling.wgsl', import.meta.url), 'utf8'));
  return name;
}

const ITERS = 512;
const FMA_INVOCATIONS = 1 << 16;

export async function measureCeilings(device: Device, quick: boolean): Promise<{ ceilings: Ceilings; rows: BenchRow[] }> {
  const kernel = ceilingKernel(device);
  const out = Tensor.empty(device, [FMA_INVOCATIONS * 4], 'f32', 'bench');
  const dummy = zeros([4], { device });
  // The ceiling is the best of a few chain counts and workgroup sizes (see bench/bench_ceiling.wgsl):
  // honest on any adapter. Each loop iteration of the kernel runs 4 FMA steps per chain.
  let fmaMs = Infinity;
  let gflops = 0;
  let best = '';
  for (const WG of [64, 256]) {
    for (const CHAINS of [2, 3, 4]) {
      const iters = Math.round((ITERS * 2) / CHAINS / 4);
      const ms = await timeLaunch(device, () =>
        device.dispatch({
          kernel,
          entry: 'fma_peak',
          label: `fma_peak x${CHAINS} wg${WG}`,
          constants: { ITERS: iters, CHAINS, WG },
          bindings: { out4: out.binding('bench') },
          params: { n: FMA_INVOCATIONS },
          workgroups: [FMA_INVOCATIONS / WG],
        }),
      );
      // CHAINS vec4 chains x 4 iters fma (2 flops per lane)
      const g = (FMA_INVOCATIONS * CHAINS * 4 * 4 * iters * 2) / (ms * 1e6);
      if (g > gflops) [gflops, fmaMs, best] = [g, ms, `${CHAINS} vec4 chains, workgroup ${WG}`];
    }
  }
  const n = quick ? 1 << 22 : 1 << 24;
  const src = zeros([n], { device });
  const dst = Tensor.empty(device, [n], 'f32', 'bench');
  const copyMs = await timeLaunch(device, () =>
    device.dispatch({
      kernel,
      entry: 'copy',
      label: 'copy',
      bindings: { x4: src.binding('bench'), out4: dst.binding('bench') },
      params: { n: n / 4 },
      workgroups: [Math.min(65535, Math.ceil(n / 4 / 256))],
    }),
  );
  const gbps = (n * 8) / (copyMs * 1e6);
  for (const t of [out, dummy, src, dst]) t.dispose();
  return {
    ceilings: { gflops, gbps },
    rows: [
      { suite: 'ceiling', name: `fma_peak (${best})`, shape: `${FMA_INVOCATIONS} invocations`, medianMs: fmaMs, gflops, pctCeiling: 100 },
      { suite: 'ceiling', name: 'copy vec4', shape: `${n}`, medianMs: copyMs, gbps, pctCeiling: 100 },
    ],
  };
}
