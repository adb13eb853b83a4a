import { describe, expect, it } from 'vitest';
import { getDevice } from '../../src/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fromArray } from '../../src/ops/creation.js';
import { randomArray, freshSeed } from '../helpers.js';
import { ceilingKernel } from '../../bench/ceilings.js';

/** One f32 step a * m + c as lavapipe runs it (a rounded multiply, then a rounded add). */
const step = (a: number, m: number, c: number) => Math.fround(Math.fround(a * m) + c);

/** What fma_peak writes for invocation i: the sum of its 4 chains, CHAINS of them stepped 4 ITERS times. */
function fmaPeakRef(i: number, iters: number, chains: number): number[] {
  const seed = Math.fround(i * Math.fround(1e-9));
  const m = Math.fround(0.999999), c = Math.fround(1e-6);
  return [0, 1, 2, 3].map((q) => {
    const a0 = Math.fround(seed + Math.fround(q * 1e-3));
    let sum = 0;
    [0, 0.5, 0.25, 0.125].forEach((off, chain) => {
      let a = Math.fround(a0 + off);
      if (chain < chains) for (let s = 0; s < 4 * iters; s++) a = step(a, m, c);
      sum += a;
    });
    return sum;
  });
}

describe('bench_ceiling: the kernels the bench divides by do the work it counts', () => {
  it('fma_peak runs 4 x ITERS steps of CHAINS chains per invocation (the flop count of bench/ceilings.ts)', async () => {
    const device = getDevice();
    const n = 100; // not a multiple of the workgroup: the guard keeps the tail
    for (const [chains, wg] of [[2, 64], [4, 256]]) {
      const iters = 64;
      const out = Tensor.empty(device, [128 * 4], 'f32', 'test');
      device.dispatch({
        kernel: ceilingKernel(device), entry: 'fma_peak', label: 'fma_peak test',
        constants: { ITERS: iters, CHAINS: chains, WG: wg }, bindings: { out4: out.binding('test') },
        params: { n }, workgroups: [Math.ceil(n / wg)],
      });
      const got = await out.toArray();
      for (const i of [0, 1, 63, 64, n - 1]) {
        const ref = fmaPeakRef(i, iters, chains);
        // 256 steps move a chain by ~2.6e-4 relative; rounding differences (fused or not) stay < 2e-5.
        for (let q = 0; q < 4; q++) expect(Math.abs(got[4 * i + q] - ref[q]) / Math.abs(ref[q]), `invocation ${i}.${q}, ${chains} chains`).toBeLessThan(2e-5);
      }
      out.dispose();
    }
  });
  it('copy moves every vec4 once, on any length', async () => {
    const device = getDevice();
    const vec4s = 1027;
    const data = randomArray(vec4s * 4, freshSeed());
    const x = fromArray(data, [vec4s * 4], { device });
    const out = Tensor.empty(device, [vec4s * 4], 'f32', 'test');
    device.dispatch({
      kernel: ceilingKernel(device), entry: 'copy', label: 'copy test',
      bindings: { x4: x.binding('test'), out4: out.binding('test') }, params: { n: vec4s }, workgroups: [2],
    });
    expect(Array.from(await out.toArray())).toEqual(Array.from(data));
    x.dispose();
    out.dispose();
  });
});
