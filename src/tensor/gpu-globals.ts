/**
 * @file Installs WebGPU's globals (GPUBufferUsage, GPUMapMode, ...) from Dawn's Node binding.
 * Imported for its side effect by every module that uses them at load time.
 */
import { globals } from 'webgpu';

Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
