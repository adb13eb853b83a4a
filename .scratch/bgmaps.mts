import { Device } from '../src/tensor/device.js';
import { readFileSync } from 'node:fs';
const maps = () => readFileSync('/proc/self/maps', 'utf8').split('\n').length;
const d = await Device.create();
const layout = d.gpu.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }] });
const buf = d.gpu.createBuffer({ size: 256 * 1024, usage: GPUBufferUsage.STORAGE });
const m0 = maps();
const keep: unknown[] = [];
for (let i = 0; i < 20000; i++) {
  const g = d.gpu.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: buf, offset: (i % 1024) * 256, size: 256 } }] });
  if (process.argv[2] === 'keep') keep.push(g);
}
console.log('maps added', maps() - m0);
d.destroy();
