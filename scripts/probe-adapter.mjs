// Prints the WebGPU adapter Dawn finds (vendor, architecture, description) and exits 0, or
// explains that none was found and exits 1. Used by setup-webgpu.sh.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
let gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('probe-adapter: Dawn found no WebGPU adapter (is a Vulkan driver installed?)');
  gpu = null;
  process.exit(1);
}
const info = adapter.info;
console.log(`adapter: ${info.vendor} ${info.architecture} ${info.description}`);
const device = await adapter.requestDevice();
device.destroy();
gpu = null;
