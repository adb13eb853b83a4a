import { Device } from '../src/tensor/device.js';
import { BindGroupCache } from '../src/tensor/bind-groups.js';
import { readFileSync } from 'node:fs';
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').length;
const d = await Device.create();
const layout = d.gpu.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }] });
const buf = d.gpu.createBuffer({ size: 256 * 12000, usage: GPUBufferUsage.STORAGE });
const cache = new BindGroupCache(d.gpu, 64, Number(process.argv[2]));
const m0 = maps();
for (let i = 0; i < 12000; i++) {
  if (i % 500 === 0) { d.gpu.queue.submit([d.gpu.createCommandEncoder().finish()]); await d.gpu.queue.onSubmittedWorkDone(); }
  cache.get(layout, [{ binding: 0, resource: { buffer: buf, offset: i * 256, size: 256 } }], 'x');
}
await new Promise((r) => setTimeout(r, 10));
console.log('before tick', maps() - m0);
for (let k = 0; k < 3; k++) { d.gpu.queue.submit([d.gpu.createCommandEncoder().finish()]); await d.gpu.queue.onSubmittedWorkDone(); }
console.log('maps added', maps() - m0, 'live', cache.live, 'collections', cache.collections);
d.destroy();
