/**
 * @file The JS cost per dispatch of a normal call and of a captured replay (src/tensor/capture.ts):
 * a chain of `--ops` small elementwise ops (default 200, on 256 floats: the kernels cost next to
 * nothing), appended `--calls` times (default 41) normally and as a captured function; each
 * append is timed up to its last dispatch (not the GPU's work, which is awaited apart) and the
 * medians per dispatch are printed with their ratio, beside the floor: Dawn's own setPipeline,
 * setBindGroup and dispatchWorkgroups calls alone, alternating two pipelines as the chain does.
 *   npx tsx bench/capture-cost.ts [--ops N] [--calls N]
 */
import { Command } from 'commander';
import { init, shutdown, fromArray, tidy, noGrad, mul, add, type Tensor } from '../src/index.js';
import { capture } from '../src/tensor/capture.js';
import type { Device } from '../src/tensor/device.js';
import { median } from './harness.js';

/** Median us per dispatch of the encoder calls alone (two fill-kernel pipelines in turn, one workgroup each). */
function dawnFloor(device: Device, ops: number, calls: number): number {
  const k = device.kernels.load('fill');
  const buf = device.gpu.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE });
  const ubuf = device.gpu.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
  const pairs = ['fill', 'arange'].map((name) => {
    const entry = k.entries.get(name)!;
    const entries = entry.bindings.map((b) => ({
      binding: b.binding,
      resource: b.kind === 'uniform' ? { buffer: ubuf, offset: 0, size: entry.params!.size } : { buffer: buf, offset: 0, size: 1024 },
    }));
    return { pipeline: device.kernels.pipeline(k, entry, {}), group: device.gpu.createBindGroup({ layout: entry.layout, entries }) };
  });
  const per: number[] = [];
  const offsets = [0];
  for (let i = 0; i < calls; i++) {
    const encoder = device.gpu.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const t0 = performance.now();
    for (let d = 0; d < ops; d++) {
      const p = pairs[d & 1];
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, p.group, offsets);
      pass.dispatchWorkgroups(1);
    }
    per.push((1000 * (performance.now() - t0)) / ops);
    pass.end();
    encoder.finish();
  }
  buf.destroy();
  ubuf.destroy();
  return median(per);
}

async function main() {
  const o = new Command('capture-cost').option('--ops <n>', 'ops in the chain', '200').option('--calls <n>', 'timed calls', '41').parse().opts();
  const ops = Number(o.ops);
  const calls = Number(o.calls);
  const device = await init();
  const x = fromArray(Float32Array.from({ length: 256 }, (_, i) => i / 256), [256]);
  const chain = (inputs: readonly Tensor[]): Tensor[] => [noGrad(() => tidy(() => {
    let h = inputs[0];
    for (let k = 0; k < ops; k++) h = k % 2 ? mul(h, 1.0001) : add(h, 1e-4);
    return h;
  }))];
  const captured = capture(device, chain, { name: 'capture-cost chain' });
  const time = async (run: () => Tensor[]) => {
    const per: number[] = [];
    for (let i = 0; i < calls + 2; i++) {
      const before = device.dispatchCount;
      const t0 = performance.now();
      const out = run();
      const ms = performance.now() - t0;
      const n = device.dispatchCount - before;
      await device.sync();
      for (const t of out) t.dispose();
      if (i >= 2) per.push((1000 * ms) / n);
    }
    return median(per);
  };
  const normal = await time(() => chain([x]));
  const replay = await time(() => captured.run([x]));
  const floor = dawnFloor(device, ops, calls);
  if (captured.counts.replayed < calls) throw new Error(`capture-cost: only ${captured.counts.replayed} of ${calls} calls replayed (${captured.notes.join('; ')})`);
  console.log(`adapter: ${device.describe()}`);
  console.log(`JS per dispatch, chain of ${ops} elementwise ops, median of ${calls} calls:`);
  console.log(`  normal:   ${normal.toFixed(1)} us`);
  console.log(`  replayed: ${replay.toFixed(1)} us  (${(normal / replay).toFixed(1)}x less)`);
  console.log(`  floor:    ${floor.toFixed(1)} us  (Dawn's three encoder calls alone; replay / floor ${(replay / floor).toFixed(2)})`);
  captured.dispose();
  x.dispose();
  shutdown();
}

await main();
